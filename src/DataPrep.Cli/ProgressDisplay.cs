using DataPrep.Pipeline;
using Spectre.Console;

namespace DataPrep.Cli;

/// <summary>A Spectre progress display on a terminal; plain lines on stderr when redirected; nothing when quiet.</summary>
internal static class ProgressDisplay
{
    public static async Task<RunReport?> RunAsync(bool silent, TextWriter stderr, Func<IProgress<RunProgress>?, Task<RunReport?>> run)
    {
        if (silent) return await run(null).ConfigureAwait(false);
        if (Console.IsErrorRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lines = new PlainProgress(stderr);
            return await run(lines).ConfigureAwait(false);
        }
        RunReport? report = null;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new Progress<RunProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.Stage, out var t))
                    {
                        // A new stage means the earlier ones are done.
                        foreach (var done in tasks.Values) { done.IsIndeterminate = false; done.Value = done.MaxValue; done.StopTask(); }
                        tasks[p.Stage] = t = ctx.AddTask(p.Stage, maxValue: p.TotalRows ?? 1);
                    }
                    t.Description = $"{p.Stage} {p.Rows:N0} rows";
                    if (p.TotalRows is { } total)
                    {
                        t.IsIndeterminate = false;
                        t.MaxValue = Math.Max(total, 1);
                        t.Value = Math.Min(p.Rows, t.MaxValue);
                    }
                    else
                    {
                        t.IsIndeterminate = true; // rows still coming: no percentage to show
                    }
                });
                report = await run(progress).ConfigureAwait(false);
                foreach (var t in tasks.Values) t.StopTask();
            }).ConfigureAwait(false);
        return report;
    }

    /// <summary>At most one line per stage per second, so logs stay readable.</summary>
    private sealed class PlainProgress(TextWriter stderr) : IProgress<RunProgress>
    {
        private readonly Dictionary<string, long> _lastTicks = [];

        public void Report(RunProgress value)
        {
            long now = Environment.TickCount64;
            lock (_lastTicks)
            {
                if (_lastTicks.TryGetValue(value.Stage, out long last) && now - last < 1000) return;
                _lastTicks[value.Stage] = now;
            }
            stderr.WriteLine(value.TotalRows is { } t ? $"{value.Stage}: {value.Rows:N0} / {t:N0} rows" : $"{value.Stage}: {value.Rows:N0} rows");
        }
    }
}
