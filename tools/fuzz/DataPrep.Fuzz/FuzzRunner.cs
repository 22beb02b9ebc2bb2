using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DataPrep.Fuzz;

/// <summary>How one case ended.</summary>
public enum FuzzOutcome
{
    /// <summary>Read to the end without an error.</summary>
    Ok,
    /// <summary>Refused with DataPrep's own error (exit 3 in the CLI).</summary>
    OwnError,
    /// <summary>A finding: any other exception, which would reach the user as a crash.</summary>
    Foreign,
    /// <summary>A finding: the case ran longer than the timeout.</summary>
    Hang,
    /// <summary>A finding: the case allocated more than the memory budget.</summary>
    OverBudget,
}

/// <summary>A case that is a finding, with what is needed to replay it.</summary>
/// <param name="Reader">The reader.</param>
/// <param name="Case">The case number (replay: same reader, seed and case).</param>
/// <param name="Outcome">Foreign, Hang or OverBudget.</param>
/// <param name="Detail">The exception (type, message, top frames), the time or the bytes allocated.</param>
/// <param name="Operations">The mutations applied.</param>
/// <param name="Input">The input bytes.</param>
public sealed record FuzzFinding(string Reader, long Case, FuzzOutcome Outcome, string Detail, string Operations, byte[] Input);

/// <summary>The settings of one run over one reader.</summary>
/// <param name="Cases">How many cases.</param>
/// <param name="Seed">The run's seed; case i is a pure function of (seed, reader, i).</param>
/// <param name="First">The first case number (to replay or continue a run).</param>
/// <param name="Timeout">A case using more CPU time than this (or running six times as long) is a hang.</param>
/// <param name="Budget">A case allocating more bytes (all threads) is over budget.</param>
/// <param name="KeepFindings">How many findings keep their input (all are counted); the run stops at the first hang.</param>
public sealed record FuzzSettings(long Cases, ulong Seed = 1, long First = 0, TimeSpan? Timeout = null, long Budget = 64L << 20, int KeepFindings = 20)
{
    /// <summary>The timeout, 10 s unless set.</summary>
    public TimeSpan EffectiveTimeout => Timeout ?? TimeSpan.FromSeconds(10);
}

/// <summary>The counts of a run over one reader.</summary>
public sealed class FuzzResult(string reader)
{
    /// <summary>The reader.</summary>
    public string Reader { get; } = reader;

    /// <summary>Cases run.</summary>
    public long Cases { get; set; }

    /// <summary>Cases per outcome.</summary>
    public Dictionary<FuzzOutcome, long> Counts { get; } = Enum.GetValues<FuzzOutcome>().ToDictionary(o => o, _ => 0L);

    /// <summary>Own errors whose message does not name the file.</summary>
    public long OwnWithoutFile { get; set; }

    /// <summary>The first findings (foreign exceptions, hangs, allocations over the budget), with their inputs; <see cref="Counts"/> has them all.</summary>
    public List<FuzzFinding> Findings { get; } = [];

    /// <summary>The slowest case (the larger of its wall and CPU time).</summary>
    public TimeSpan Slowest { get; set; }

    /// <summary>The most bytes one case allocated.</summary>
    public long MostAllocated { get; set; }

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>One line for logs and the docs.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Reader}: {Cases:N0} cases in {Elapsed.TotalSeconds:F1} s — ok {Counts[FuzzOutcome.Ok]:N0}, own errors {Counts[FuzzOutcome.OwnError]:N0} ({OwnWithoutFile:N0} without the file), foreign {Counts[FuzzOutcome.Foreign]:N0}, hangs {Counts[FuzzOutcome.Hang]:N0}, over budget {Counts[FuzzOutcome.OverBudget]:N0}; slowest case {Slowest.TotalMilliseconds:F0} ms, most allocated {MostAllocated / 1024.0 / 1024.0:F1} MiB");
}

/// <summary>
/// Runs mutated cases of one reader: each case is written to a file in a private temp folder and read on a worker
/// thread, timed against the timeout and measured by the bytes the process allocated meanwhile. The runner reads one
/// case at a time, so the process's allocation count is the case's (the reader's own worker threads included).
/// </summary>
public static class FuzzRunner
{
    /// <summary>Runs the cases; returns the counts and findings. The temp folder is removed at the end.</summary>
    public static FuzzResult Run(FuzzTarget target, FuzzSettings settings, Action<FuzzResult>? progress = null)
    {
        var result = new FuzzResult(target.Name);
        var mutator = new Mutator(target.Seeds, target.Tokens, target.Gzip);
        var dir = Path.Combine(Path.GetTempPath(), $"dataprep-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var total = Stopwatch.StartNew();
        try
        {
            for (long i = settings.First; i < settings.First + settings.Cases; i++)
            {
                var (bytes, ops) = mutator.Mutate(CaseRandom.For(settings.Seed, target.Name, i));
                var path = Path.Combine(dir, $"case-{i}{target.Extension}");
                File.WriteAllBytes(path, bytes);
                var (outcome, detail, elapsed, allocated) = RunCase(target, path, i, settings);
                result.Cases++;
                result.Counts[outcome]++;
                if (elapsed > result.Slowest) result.Slowest = elapsed;
                if (allocated > result.MostAllocated) result.MostAllocated = allocated;
                if (outcome == FuzzOutcome.OwnError && !detail.Contains(path, StringComparison.Ordinal)) result.OwnWithoutFile++;
                if (outcome is FuzzOutcome.Foreign or FuzzOutcome.Hang or FuzzOutcome.OverBudget)
                {
                    if (result.Findings.Count < settings.KeepFindings) result.Findings.Add(new FuzzFinding(target.Name, i, outcome, detail.Replace(path, "CASE", StringComparison.Ordinal), ops, bytes));
                    // A hung case still holds a thread: stop rather than let it skew the cases after it.
                    if (outcome == FuzzOutcome.Hang) break;
                }
                TryDelete(path);
                if (progress is not null && result.Cases % 10_000 == 0) progress(result);
            }
        }
        finally
        {
            result.Elapsed = total.Elapsed;
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return result;
    }

    /// <summary>Runs one case: its outcome, the error (or why it is a finding), its time and the bytes allocated.</summary>
    public static (FuzzOutcome Outcome, string Detail, TimeSpan Elapsed, long Allocated) RunCase(FuzzTarget target, string path, long caseIndex, FuzzSettings settings)
    {
        using var cts = new CancellationTokenSource();
        long before = GC.GetTotalAllocatedBytes(precise: false);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var task = Task.Run(() => target.Run(path, caseIndex, cts.Token));
        // The timeout is on the CPU time the process spends on the case: on a machine shared with other work, wall time
        // alone turns a 2 s case into a "hang". A case that stops using the CPU (a deadlock) is caught by the wall limit.
        var timeout = settings.EffectiveTimeout;
        bool finished = false;
        TimeSpan cpu = TimeSpan.Zero;
        while (!finished)
        {
            try { finished = task.Wait(TimeSpan.FromMilliseconds(250)); }
            catch (AggregateException) { finished = true; }
            process.Refresh();
            cpu = process.TotalProcessorTime - cpuBefore;
            if (!finished && (cpu > timeout || clock.Elapsed > 6 * timeout)) break;
        }
        var elapsed = clock.Elapsed;
        long allocated = GC.GetTotalAllocatedBytes(precise: false) - before;
        if (!finished)
        {
            cts.Cancel();
            return (FuzzOutcome.Hang, $"still running after {cpu.TotalSeconds:F1} s of CPU time, {elapsed.TotalSeconds:F1} s in all (timeout {timeout.TotalSeconds:F0} s)", cpu, allocated);
        }
        if (cpu > elapsed) elapsed = cpu;
        if (task.Exception?.InnerException is { } e)
        {
            if (FuzzTarget.IsOwnError(e))
            {
                return allocated > settings.Budget
                    ? (FuzzOutcome.OverBudget, $"allocated {allocated:N0} bytes (budget {settings.Budget:N0}) before refusing it: {e.Message}", elapsed, allocated)
                    : (FuzzOutcome.OwnError, e.Message, elapsed, allocated);
            }
            return (FuzzOutcome.Foreign, Describe(e), elapsed, allocated);
        }
        if (allocated > settings.Budget) return (FuzzOutcome.OverBudget, $"allocated {allocated:N0} bytes (budget {settings.Budget:N0})", elapsed, allocated);
        if (cpu > settings.EffectiveTimeout) return (FuzzOutcome.Hang, $"took {cpu.TotalSeconds:F1} s of CPU time", elapsed, allocated);
        return (FuzzOutcome.Ok, "", elapsed, allocated);
    }

    /// <summary>The exception's type, message and top frames (inner exceptions too): enough to find the throw site.</summary>
    public static string Describe(Exception e)
    {
        var sb = new StringBuilder();
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (sb.Length > 0) sb.Append(" ---> ");
            sb.Append(x.GetType().FullName).Append(": ").Append(x.Message);
            var frames = (x.StackTrace ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(6);
            foreach (var f in frames) sb.Append("\n    ").Append(f);
        }
        return sb.ToString();
    }

    /// <summary>Saves a finding as CASE.bin plus CASE.txt (reader, case, outcome, mutations, detail) under a folder.</summary>
    public static string Save(FuzzFinding finding, ulong seed, string folder)
    {
        Directory.CreateDirectory(folder);
        var stem = Path.Combine(folder, $"{finding.Reader}-seed{seed}-case{finding.Case}-{finding.Outcome.ToString().ToLowerInvariant()}");
        File.WriteAllBytes(stem + ".bin", finding.Input);
        File.WriteAllText(stem + ".txt", $"reader: {finding.Reader}\nseed: {seed}\ncase: {finding.Case}\noutcome: {finding.Outcome}\nmutations: {finding.Operations}\n\n{finding.Detail}\n");
        return stem;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
