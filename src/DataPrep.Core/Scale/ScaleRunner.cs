using DataPrep.Conversion;
using DataPrep.Pipeline;

namespace DataPrep.Scale;

/// <summary>
/// Runs one conversion as the tasks of N workers (DESIGN.md §6): a short list of steps, each with a fixed number of
/// tasks, that an engine (AWS Batch array jobs, Kubernetes Indexed Jobs, SageMaker Processing) runs in order, the
/// tasks of a step in any order and in parallel, retried at will. The workers share nothing but the work area, and
/// write exactly the bytes of the one-process run with the same options and seed.
/// </summary>
public static class ScaleRunner
{
    /// <summary>The steps of a run with these options and workers, after checking that the options can run as workers.</summary>
    /// <exception cref="PipelineValidationException">The options cannot run as workers (for example an image format).</exception>
    public static IReadOnlyList<ScaleStep> Steps(ConvertOptions options, ScaleOptions scale, DataPrepRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ScaleRun.Check(options, scale, registry ?? new DataPrepRegistry());
        return ScaleStep.Of(scale.Workers);
    }

    /// <summary>
    /// Runs task <paramref name="task"/> of step <paramref name="step"/>. Every task writes its objects, then its
    /// completion marker; run again, it writes the same objects again. Returns the run's report after the commit
    /// step, else a report with the task's counts.
    /// </summary>
    /// <exception cref="PipelineValidationException">An unknown step, a task out of range, or a step before this one not finished.</exception>
    public static async Task<RunReport> RunTaskAsync(ConvertOptions options, ScaleOptions scale, string step, int task, DataPrepRegistry? registry = null,
        IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scale);
        var steps = ScaleStep.Of(scale.Workers);
        var s = steps.FirstOrDefault(x => x.Name == step)
            ?? throw new PipelineValidationException($"--step {step}: expected one of {string.Join(", ", steps.Select(x => x.Name))} (dataprep convert … --workers N --steps lists them in order).");
        if (task < 0 || task >= s.Tasks)
        {
            throw new PipelineValidationException(s.Tasks == 1
                ? $"--worker {task}: step {s.Name} has one task (0)."
                : $"--worker {task}: step {s.Name} has {s.Tasks} tasks, 0…{s.Tasks - 1}.");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await ScaleRun.OpenAsync(options, scale, registry ?? new DataPrepRegistry(), progress, s.Name, task, cancellationToken).ConfigureAwait(false);
        RunReport report;
        switch (s.Name)
        {
            case ScaleStep.Scan:
                if (task == 0) await CheckOutputAsync(run, cancellationToken).ConfigureAwait(false);
                await ScaleTasks.ScanAsync(run, task, cancellationToken).ConfigureAwait(false);
                report = run.Context.Report;
                break;
            case ScaleStep.Plan:
                await ScaleTasks.PlanAsync(run, cancellationToken).ConfigureAwait(false);
                report = run.Context.Report;
                break;
            case ScaleStep.Encode:
                await ScaleTasks.EncodeAsync(run, task, cancellationToken).ConfigureAwait(false);
                report = run.Context.Report;
                break;
            case ScaleStep.Write:
                await ScaleTasks.WriteAsync(run, task, cancellationToken).ConfigureAwait(false);
                report = run.Context.Report;
                break;
            default:
                report = await ScaleTasks.CommitAsync(run, cancellationToken).ConfigureAwait(false);
                break;
        }
        report.Seconds = clock.Elapsed.TotalSeconds;
        return report;
    }

    /// <summary>
    /// Runs every step here, the tasks of each step one after another in this process (the CLI's local engine starts
    /// them as processes instead). The same bytes as <see cref="ConvertRunner.RunAsync"/>.
    /// </summary>
    public static async Task<RunReport> RunAsync(ConvertOptions options, ScaleOptions scale, DataPrepRegistry? registry = null,
        IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        registry ??= new DataPrepRegistry();
        RunReport? last = null;
        foreach (var step in Steps(options, scale, registry))
        {
            for (int t = 0; t < step.Tasks; t++) last = await RunTaskAsync(options, scale, step.Name, t, registry, progress, cancellationToken).ConfigureAwait(false);
        }
        return last!;
    }

    /// <summary>The output must take this run (new, empty, or an earlier run with --overwrite) before any work starts.</summary>
    private static async Task CheckOutputAsync(ScaleRun run, CancellationToken cancellationToken)
    {
        var store = run.Registry.Stores.CreateOutput(run.Options);
        await using (store.ConfigureAwait(false))
        {
            await store.PrepareAsync(run.Options.Overwrite, cancellationToken).ConfigureAwait(false);
            await store.AbortAsync().ConfigureAwait(false);
        }
    }
}
