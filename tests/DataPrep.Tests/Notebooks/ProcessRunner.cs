using System.Diagnostics;
using System.Text;

namespace DataPrep.Tests.Notebooks;

/// <summary>Runs a real process with a timeout, capturing its output (killed with its children on timeout).</summary>
public static class ProcessRunner
{
    public sealed record Result(int Code, string Out, string Err, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit {Code} after {Elapsed.TotalSeconds:0.0} s\n--- stdout ---\n{Tail(Out)}\n--- stderr ---\n{Tail(Err)}";

        private static string Tail(string s) => s.Length > 6000 ? "…" + s[^6000..] : s;
    }

    public static Result Run(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        ChildProcesses.NoDiagnostics(psi);
        // The test host's own MSBuild/runner variables must not leak into a nested dotnet.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH", "VSTEST_HOST_DEBUG" }) psi.Environment.Remove(name);
        if (environment is not null)
        {
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        }
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        p.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s.\n{stdout}\n{stderr}");
        }
        p.WaitForExit(); // drains the asynchronous readers
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString(), clock.Elapsed);
    }
}
