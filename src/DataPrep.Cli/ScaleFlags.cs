using System.CommandLine;
using System.Diagnostics;
using DataPrep.Conversion;
using DataPrep.Pipeline;
using DataPrep.Scale;

namespace DataPrep.Cli;

/// <summary>
/// <c>convert</c>'s scale-out flags: <c>--workers N</c> with <c>--steps</c> (print the steps), <c>--step S [--worker I]</c>
/// (run one task, as an engine does), or neither (run every step here as N local processes).
/// </summary>
internal sealed class ScaleFlags
{
    public readonly Option<int?> Workers = new("--workers") { Description = "Run as N workers (AWS Batch array jobs, Kubernetes Indexed Jobs, SageMaker Processing, or N local processes): the same bytes as one process, for every format: the image formats decode, rotate and encode in the encode step's N tasks and are written by the commit; deepar builds each series in the encode task that holds it (rows bucketed by series) and the commit merges the records by series key. With --steps: list the steps; with --step: run one task." };
    public readonly Option<bool> Steps = new("--steps") { Description = "With --workers N: print the steps of this run, one per line as 'STEP TASKS' (scan N, plan 1, encode N, write N, commit 1), and exit." };
    public readonly Option<string> Step = new("--step") { Description = "With --workers N: run one task of this step (scan, plan, encode, write or commit); the engine runs the steps in order." };
    public readonly Option<int?> Worker = new("--worker") { Description = "With --step: the task index, 0…TASKS−1 (default: AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX, or SageMaker's resourceconfig.json; 0 for a step of one task)." };
    public readonly Option<string> Work = new("--work") { Description = "With --workers: the work area the workers share, a folder or s3://bucket/prefix/ (default OUT/_dataprep/work/); removed after the commit." };
    public readonly Option<bool> KeepWork = new("--keep-work") { Description = "With --workers: keep the work area after the commit (the tasks' reports and intermediate objects)." };
    public readonly Option<string> InputSplitSize = new("--input-split-size") { Description = "With --workers: a plain UTF-8 CSV, TSV, JSON Lines or LibSVM input larger than this is divided among the scan tasks by byte ranges of this size (default 32MB; 0: each file whole), cut at line breaks. Not gzip, UTF-16/32 or other encodings. A CSV quoted field that holds a line break where a range starts stops the run (exit 3): then pass 0. Output bytes do not depend on it." };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Workers, Steps, Step, Worker, Work, KeepWork, InputSplitSize }) command.Options.Add(o);
    }

    /// <summary>The bytes of a text input's parts (<see cref="SourceOptions.RangeBytes"/>): <c>--input-split-size</c>, or the default.</summary>
    public long RangeBytes(ParseResult r) => r.GetValue(InputSplitSize) is { } text
        ? (text.Trim() == "0" ? 0 : OptionParsing.ParseSize(text, "--input-split-size"))
        : SourceOptions.DefaultRangeBytes;

    /// <summary>Whether this invocation runs as workers; checks that the scale-out flags come with --workers.</summary>
    public ScaleOptions? Parse(ParseResult r)
    {
        if (r.GetValue(Workers) is not { } n)
        {
            foreach (var (given, name) in new[] { (r.GetValue(Steps), "--steps"), (r.GetValue(Step) is not null, "--step"), (r.GetValue(Worker) is not null, "--worker"), (r.GetValue(Work) is not null, "--work"), (r.GetValue(KeepWork), "--keep-work"), (r.GetValue(InputSplitSize) is not null, "--input-split-size") })
            {
                if (given) throw new PipelineValidationException($"{name} needs --workers N (the number of workers of the run).");
            }
            return null;
        }
        if (r.GetValue(Steps) && r.GetValue(Step) is not null) throw new PipelineValidationException("--steps lists the steps and --step runs one; choose one.");
        if (r.GetValue(Worker) is not null && r.GetValue(Step) is null) throw new PipelineValidationException("--worker needs --step STEP (the step the task belongs to).");
        return new ScaleOptions(n) { Work = r.GetValue(Work), KeepWork = r.GetValue(KeepWork) };
    }

    /// <summary>Runs the scale-out form of convert; null when everything was printed already.</summary>
    public async Task<RunReport?> RunAsync(ParseResult r, ConvertOptions options, ScaleOptions scale, DataPrepRegistry registry, TextWriter stdout, TextWriter stderr,
        IProgress<RunProgress>? progress, bool quiet, CancellationToken cancellationToken)
    {
        if (r.GetValue(Steps))
        {
            foreach (var step in ScaleRunner.Steps(options, scale, registry)) await stdout.WriteLineAsync(step.ToString()).ConfigureAwait(false);
            return null;
        }
        if (r.GetValue(Step) is { } name)
        {
            var step = ScaleRunner.Steps(options, scale, registry).FirstOrDefault(s => s.Name == name);
            int index;
            if (r.GetValue(Worker) is { } given) index = given;
            else if (EngineIndex.Find(Environment.GetEnvironmentVariable) is { } found) index = found.Index;
            else if (step is null || step.Tasks == 1) index = 0;
            else
            {
                throw new PipelineValidationException(
                    $"--step {name} has {step.Tasks} tasks: pass --worker 0…{step.Tasks - 1}, or run it as an engine's array (AWS Batch sets {EngineIndex.BatchVariable}, a Kubernetes Indexed Job {EngineIndex.KubernetesVariable}, SageMaker Processing {EngineIndex.SageMakerResourceConfig}).");
            }
            var report = await ScaleRunner.RunTaskAsync(options, scale, name, index, registry, progress, cancellationToken).ConfigureAwait(false);
            if (name == ScaleStep.Commit) return report;
            if (!quiet) await stderr.WriteLineAsync($"step {name} task {index} of {step!.Tasks} done in {report.Seconds:0.0} s.").ConfigureAwait(false);
            return null;
        }
        return await RunLocalAsync(r, options, scale, registry, stdout, stderr, quiet, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The local engine: each step's tasks as separate processes of this same program, all at once, the next step when
    /// every task of this one succeeded. The commit's output is this run's output.
    /// </summary>
    private static async Task<RunReport?> RunLocalAsync(ParseResult r, ConvertOptions options, ScaleOptions scale, DataPrepRegistry registry, TextWriter stdout, TextWriter stderr, bool quiet, CancellationToken cancellationToken)
    {
        var args = r.Tokens.Select(t => t.Value).ToList();
        var steps = ScaleRunner.Steps(options, scale, registry);
        var clock = Stopwatch.StartNew();
        foreach (var step in steps)
        {
            if (!quiet) await stderr.WriteLineAsync($"step {step.Name}: {step.Tasks} task{(step.Tasks == 1 ? "" : "s")}…").ConfigureAwait(false);
            var tasks = Enumerable.Range(0, step.Tasks).Select(i => RunChildAsync([.. args, "--step", step.Name, "--worker", i.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet"], step.Name == ScaleStep.Commit, cancellationToken)).ToList();
            var results = await Task.WhenAll(tasks).ConfigureAwait(false);
            for (int i = 0; i < results.Length; i++)
            {
                if (results[i].Code == 0) continue;
                await stderr.WriteAsync(results[i].Stderr).ConfigureAwait(false);
                // Refused options or data (2, 3): fixed, they make another run, so the task alone is not what to run again.
                string again = results[i].Code is 2 or 3
                    ? "Fix the cause above and run the command again."
                    : $"Run the command again once the cause is fixed (tasks that finished are not redone), or this task alone with --step {step.Name} --worker {i}.";
                throw new ChildFailedException(results[i].Code, $"step {step.Name} task {i} failed (exit {results[i].Code}); the steps after it did not run. {again}");
            }
            if (step.Name == ScaleStep.Commit) await stdout.WriteAsync(results[0].Stdout).ConfigureAwait(false);
        }
        if (!quiet) await stderr.WriteLineAsync($"{steps.Count} steps done in {clock.Elapsed.TotalSeconds:0.0} s.").ConfigureAwait(false);
        return null;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunChildAsync(IReadOnlyList<string> args, bool printReport, CancellationToken cancellationToken)
    {
        var psi = SelfStart();
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (printReport)
        {
            // The commit prints the run's report: without --quiet (and with the caller's --json if given).
            psi.ArgumentList.Remove("--quiet");
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Cannot start {psi.FileName}.");
        var output = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = p.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await p.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stop the task as an engine does (SIGTERM), so it cleans up its spill files and partial work objects; a kill
            // only if it does not end in time.
            if (!p.HasExited && !(CliSignals.Terminate(p.Id) && p.WaitForExit(TimeSpan.FromSeconds(60)))) p.Kill(entireProcessTree: true);
            throw;
        }
        return (p.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>How to start this program again: the apphost or native binary itself, or <c>dotnet</c> with this assembly.</summary>
    private static ProcessStartInfo SelfStart()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment[CliSignals.FromParentVariable] = "1";
        if (Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.FileName = process;
            // Under `dotnet dataprep.dll` the assembly is a file beside the runtime's base directory (never single-file or AOT here).
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(ScaleFlags).Assembly.GetName().Name + ".dll"));
        }
        else
        {
            psi.FileName = process;
        }
        return psi;
    }
}

/// <summary>A task of the local engine failed: its exit code is the run's.</summary>
internal sealed class ChildFailedException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}
