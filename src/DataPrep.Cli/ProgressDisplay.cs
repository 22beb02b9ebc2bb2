using System.Diagnostics;
using System.Globalization;
using DataPrep.Pipeline;
using DataPrep.Scale;
using Spectre.Console;

namespace DataPrep.Cli;

/// <summary>How <c>--progress</c> shows a run's progress on stderr.</summary>
internal enum ProgressMode
{
    /// <summary>A bar on a terminal; plain lines for engine runs and (after a while) other pipes; nothing with --quiet/--json.</summary>
    Auto,

    /// <summary>Spectre.Console bars, one per phase (plain lines when stderr is not a terminal).</summary>
    Bar,

    /// <summary>One plain line every few seconds and one per finished phase: no control codes, for logs.</summary>
    Plain,

    /// <summary>Nothing.</summary>
    None,
}

/// <summary>
/// Progress on stderr, per phase (read, split, write, then commit or upload): by input bytes where every input's
/// size is known, by rows otherwise, with the rate and the time left. Spectre bars on a terminal; plain lines in
/// logs; nothing when quiet.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>The names <c>--progress</c> accepts.</summary>
    public static readonly string[] Names = ["auto", "bar", "plain", "none"];

    /// <summary>Time between two plain lines.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>--progress auto</c> on a pipe that is no engine's log: nothing before this much time has passed, so short
    /// runs in scripts and tests leave stderr to errors, while a long run still shows it is alive.
    /// </summary>
    public static readonly TimeSpan PipeDelay = TimeSpan.FromSeconds(10);

    /// <summary>Parses <c>--progress</c>.</summary>
    /// <exception cref="PipelineValidationException">Not one of <see cref="Names"/>.</exception>
    public static ProgressMode Parse(string? text) => text?.ToLowerInvariant() switch
    {
        null or "auto" => ProgressMode.Auto,
        "bar" => ProgressMode.Bar,
        "plain" => ProgressMode.Plain,
        "none" => ProgressMode.None,
        _ => throw new PipelineValidationException($"--progress {text}: expected {string.Join(", ", Names[..^1])} or {Names[^1]}."),
    };

    /// <summary>
    /// What a run shows: the mode asked for, made concrete. <c>auto</c>: nothing when <paramref name="silent"/>
    /// (--quiet, --json) or when stderr is a host's own writer, bars on a terminal, plain lines at once for an engine's task, plain lines after
    /// <see cref="PipeDelay"/> on any other pipe. An explicit <c>bar</c> or <c>plain</c> wins over --quiet and --json
    /// (the report still goes to stdout); <c>bar</c> off a terminal becomes plain.
    /// </summary>
    /// <param name="asked">--progress.</param>
    /// <param name="silent">--quiet or --json.</param>
    /// <param name="console">Whether stderr is the process's own (not a writer a host passed in to capture it).</param>
    /// <param name="terminal">Whether that stderr is an interactive terminal.</param>
    /// <param name="engine">Whether the process runs as an engine's task (<see cref="IsEngineRun"/>).</param>
    public static (ProgressMode Mode, TimeSpan Delay) Resolve(ProgressMode asked, bool silent, bool console, bool terminal, bool engine) => asked switch
    {
        ProgressMode.None => (ProgressMode.None, TimeSpan.Zero),
        ProgressMode.Plain => (ProgressMode.Plain, TimeSpan.Zero),
        ProgressMode.Bar => (terminal ? ProgressMode.Bar : ProgressMode.Plain, TimeSpan.Zero),
        // A host that passes its own writer (a test, an app embedding the CLI) captures stderr for what it asked for.
        _ when silent || !console => (ProgressMode.None, TimeSpan.Zero),
        _ when terminal => (ProgressMode.Bar, TimeSpan.Zero),
        _ when engine => (ProgressMode.Plain, TimeSpan.Zero),
        _ => (ProgressMode.Plain, PipeDelay),
    };

    /// <summary>
    /// Whether this process runs as an engine's task (AWS Batch array job, Kubernetes Indexed Job, SageMaker), whose
    /// stderr goes to CloudWatch or <c>kubectl logs</c>.
    /// </summary>
    public static bool IsEngineRun(Func<string, string?> variable, string sageMakerRoot = "/opt/ml")
        => !string.IsNullOrEmpty(variable(EngineIndex.BatchVariable)) || !string.IsNullOrEmpty(variable(EngineIndex.KubernetesVariable)) || Directory.Exists(sageMakerRoot);

    public static async Task<RunReport?> RunAsync(ProgressMode asked, bool silent, TextWriter stderr, Func<IProgress<RunProgress>?, Task<RunReport?>> run)
    {
        bool own = ReferenceEquals(stderr, Console.Error), terminal = own && !Console.IsErrorRedirected;
        IAnsiConsole? console = null;
        if (terminal)
        {
            console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            terminal = console.Profile.Capabilities.Interactive;
        }
        var (mode, delay) = Resolve(asked, silent, own, terminal, IsEngineRun(Environment.GetEnvironmentVariable));
        if (mode == ProgressMode.None) return await run(null).ConfigureAwait(false);
        if (mode == ProgressMode.Plain)
        {
            using var lines = new PlainProgress(stderr, PlainInterval, delay);
            var report = await run(lines).ConfigureAwait(false);
            lines.Finish();
            return report;
        }
        return await RunBarsAsync(console!, run).ConfigureAwait(false);
    }

    private static async Task<RunReport?> RunBarsAsync(IAnsiConsole console, Func<IProgress<RunProgress>?, Task<RunReport?>> run)
    {
        RunReport? report = null;
        await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bars = new Bars(ctx);
                report = await run(bars).ConfigureAwait(false);
                bars.Finish();
            }).ConfigureAwait(false);
        return report;
    }

    /// <summary>One bar per phase; a new phase completes the bars before it.</summary>
    private sealed class Bars(ProgressContext ctx) : IProgress<RunProgress>
    {
        private readonly Dictionary<string, (ProgressTask Task, PhaseMeter Meter)> _tasks = [];

        public void Report(RunProgress value)
        {
            lock (_tasks)
            {
                if (!_tasks.TryGetValue(value.Stage, out var t))
                {
                    foreach (var (done, _) in _tasks.Values) Complete(done);
                    _tasks[value.Stage] = t = (ctx.AddTask(Markup.Escape(value.Stage), maxValue: 1), new PhaseMeter(value.Stage));
                    t.Task.IsIndeterminate = true;
                }
                t.Meter.Update(value);
                t.Task.Description = Markup.Escape(t.Meter.Describe(percent: false));
                if (t.Meter.Fraction is { } f)
                {
                    t.Task.IsIndeterminate = false;
                    t.Task.MaxValue = 1000;
                    t.Task.Value = Math.Round(f * 1000);
                }
            }
        }

        public void Finish()
        {
            lock (_tasks)
            {
                foreach (var (t, _) in _tasks.Values) Complete(t);
            }
        }

        private static void Complete(ProgressTask t)
        {
            t.IsIndeterminate = false;
            t.Value = t.MaxValue;
            t.StopTask();
        }
    }

    /// <summary>
    /// Plain lines for logs: after <c>delay</c>, the current phase every <c>interval</c>, and a line for each phase as
    /// it finishes. No control codes, one line per write.
    /// </summary>
    internal sealed class PlainProgress : IProgress<RunProgress>, IDisposable
    {
        private readonly TextWriter _stderr;
        private readonly TimeSpan _interval;
        private readonly TimeSpan _delay;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Dictionary<string, PhaseMeter> _meters = [];
        private readonly Timer _timer;
        private PhaseMeter? _current;
        private TimeSpan? _lastLine;

        public PlainProgress(TextWriter stderr, TimeSpan interval, TimeSpan delay)
        {
            (_stderr, _interval, _delay) = (stderr, interval, delay);
            // A phase that reports nothing for a while (a sort, an upload's last parts) still gets its line.
            _timer = new Timer(_ => Tick(), null, interval, interval);
        }

        public void Report(RunProgress value)
        {
            lock (_meters)
            {
                if (!_meters.TryGetValue(value.Stage, out var meter))
                {
                    // A new phase means the one before it is done (in a streamed run an earlier phase may still report: it only updates).
                    if (_current is not null) Write($"{_current.Name} done: {_current.Describe(percent: false, done: true)}");
                    _meters[value.Stage] = _current = meter = new PhaseMeter(value.Stage);
                }
                meter.Update(value);
            }
            Tick();
        }

        /// <summary>The line for the last phase, once the run has succeeded.</summary>
        public void Finish()
        {
            lock (_meters)
            {
                if (_current is not null) Write($"{_current.Name} done: {_current.Describe(percent: false, done: true)}");
                _current = null;
            }
        }

        public void Dispose()
        {
            _timer.Dispose();
            lock (_meters) _current = null;
        }

        private void Tick()
        {
            lock (_meters)
            {
                if (_current is not null && (_lastLine is not { } last || _clock.Elapsed - last >= _interval)) Write(_current.Describe(percent: true));
            }
        }

        private void Write(string line)
        {
            var now = _clock.Elapsed;
            if (now < _delay) return;
            _lastLine = now;
            _stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Clock(now)}] {line}"));
        }
    }

    /// <summary>One phase's progress: done of total (bytes for read when sizes are known, rows otherwise), rate, time left.</summary>
    internal sealed class PhaseMeter(string name)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private RunProgress _last;

        public string Name { get; } = name;

        public void Update(RunProgress value) => _last = value;

        /// <summary>Done ÷ total, when the total is known.</summary>
        public double? Fraction => _last switch
        {
            { TotalBytes: > 0 } p => Math.Clamp(p.Bytes / (double)p.TotalBytes!.Value, 0, 1),
            { TotalRows: > 0 } p => Math.Clamp(p.Rows / (double)p.TotalRows!.Value, 0, 1),
            _ => null,
        };

        /// <summary>"read 45.0% 12.3 MiB of 27.1 MiB · 120,000 rows · 5.2 MiB/s · 0:03 left" and the like.</summary>
        public string Describe(bool percent, bool done = false)
        {
            var c = CultureInfo.InvariantCulture;
            double seconds = _clock.Elapsed.TotalSeconds;
            var p = _last;
            var parts = new List<string>();
            bool rate = seconds >= 0.5 || done;
            if (p.TotalBytes is > 0 and var totalBytes)
            {
                parts.Add(done ? RunReportText.Bytes(p.Bytes) : string.Create(c, $"{RunReportText.Bytes(p.Bytes)} of {RunReportText.Bytes(totalBytes)}"));
                if (p.Rows > 0) parts.Add(string.Create(c, $"{p.Rows:N0} rows"));
                if (rate && seconds > 0) parts.Add(RunReportText.Bytes((long)(p.Bytes / seconds)) + "/s");
                if (!done && rate && p.Bytes > 0) parts.Add(Left(seconds * (totalBytes - p.Bytes) / p.Bytes) + " left");
            }
            else if (p.TotalRows is > 0 and var totalRows)
            {
                parts.Add(done ? string.Create(c, $"{p.Rows:N0} rows") : string.Create(c, $"{p.Rows:N0} of {totalRows:N0} rows"));
                if (rate && seconds > 0) parts.Add(string.Create(c, $"{p.Rows / seconds:N0} rows/s"));
                if (!done && rate && p.Rows > 0) parts.Add(Left(seconds * (totalRows - p.Rows) / p.Rows) + " left");
            }
            else if (p.Rows > 0 || p.Bytes > 0)
            {
                parts.Add(string.Create(c, $"{p.Rows:N0} rows"));
                if (p.Bytes > 0) parts.Add(RunReportText.Bytes(p.Bytes));
                if (rate && seconds > 0) parts.Add(string.Create(c, $"{p.Rows / seconds:N0} rows/s"));
            }
            if (done) parts.Add(string.Create(c, $"in {seconds:0.00} s"));
            string head = percent && Fraction is { } f && !done ? string.Create(c, $"{Name} {f * 100,5:0.0}%") : Name;
            if (done) return string.Join(", ", parts);
            return parts.Count == 0 ? head + " …" : head + " " + string.Join(" · ", parts);
        }

        private static string Left(double seconds) => Clock(TimeSpan.FromSeconds(Math.Max(0, Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2))));
    }

    /// <summary>m:ss, or h:mm:ss from an hour on.</summary>
    internal static string Clock(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes}:{t.Seconds:00}");
}
