using System.Runtime.InteropServices;

namespace DataPrep.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (what engines send on stop or time-out) for a run of the real process: the first one
/// cancels the run, which then stops reading, aborts its uploads, removes staging and spill files and keeps any
/// earlier run, and the process exits 130 (SIGINT) or 143 (SIGTERM); a second one ends the process at once.
/// </summary>
/// <remarks>
/// Only <c>Program</c> creates one: in-process callers (tests, notebooks) keep their own signal handling and pass
/// their own token.
/// </remarks>
internal sealed class CliSignals : IDisposable
{
    /// <summary>The exit code of a run ended by SIGINT (128 + 2), as shells report it.</summary>
    public const int InterruptedExit = 130;

    /// <summary>The exit code of a run ended by SIGTERM (128 + 15).</summary>
    public const int TerminatedExit = 143;

    /// <summary>
    /// Set by the local engine (<c>--workers N</c> without <c>--step</c>) on the tasks it starts: a terminal's Ctrl-C reaches
    /// the whole process group, so a task leaves SIGINT to its parent, which sends it one SIGTERM; otherwise the
    /// parent's SIGTERM would be each task's second signal and cut its cleanup short.
    /// </summary>
    public const string FromParentVariable = "DATAPREP_SIGNALS_FROM_PARENT";

    private readonly CancellationTokenSource _cancel = new();
    private readonly bool _fromParent = Environment.GetEnvironmentVariable(FromParentVariable) == "1";
    private readonly PosixSignalRegistration[] _registrations;
    private int _exitCode;

    public CliSignals()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The process's exit code: the signal's when one arrived and the run did not succeed, else the run's.</summary>
    public int ExitCode(int runCode) => runCode != DataPrepCli.Ok && Volatile.Read(ref _exitCode) is var signal and not 0 ? signal : runCode;

    private void Handle(PosixSignalContext context)
    {
        // The runtime's default would end the process before the cleanup: the run ends itself once it has cleaned up.
        context.Cancel = true;
        if (_fromParent && context.Signal == PosixSignal.SIGINT) return;
        int code = context.Signal == PosixSignal.SIGTERM ? TerminatedExit : InterruptedExit;
        if (Interlocked.CompareExchange(ref _exitCode, code, 0) != 0)
        {
            Console.Error.WriteLine($"error: {context.Signal} again: stopping at once; the cleanup did not finish (temp files may be left; an unfinished s3:// upload can be finished with --resume or is removed by the bucket's lifecycle rule).");
            Environment.Exit(code);
        }
        Console.Error.WriteLine($"{context.Signal}: cancelling the run and cleaning up (send it again to stop at once).");
        // Cancellation callbacks may take a while; the signal thread stays free for a second signal.
        ThreadPool.QueueUserWorkItem(_ => _cancel.Cancel());
    }

    /// <summary>Asks a child process to stop as an engine would (SIGTERM); false where there are no POSIX signals.</summary>
    public static bool Terminate(int pid) => !OperatingSystem.IsWindows() && NativeKill(pid, 15) == 0;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int NativeKill(int pid, int signal);

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cancel.Dispose();
    }
}
