using System.Globalization;
using DataPrep.Pipeline;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace DataPrep.Interactive;

/// <summary>
/// Progress that shows in the notebook cell: one line per stage (rows so far, of how many), updated in
/// place at most every <see cref="Interval"/>; the last state stays visible when the run ends.
/// Outside a notebook (no current kernel invocation) it does nothing.
/// </summary>
/// <example><c>var report = await pipeline.RunAsync(NotebookProgress.Create());</c></example>
public sealed class NotebookProgress : IProgress<RunProgress>
{
    private readonly object _gate = new();
    private readonly SortedDictionary<int, string> _lines = [];
    private readonly Dictionary<string, int> _order = [];
    // The cell's DisplayedValue behind a delegate: no field of a kernel type, so the class loads without the kernel.
    private readonly Action<string>? _update;
    private long _lastTicks;

    private NotebookProgress(Action<string>? update, TimeSpan interval)
    {
        _update = update;
        Interval = interval;
    }

    /// <summary>The least time between two updates of the cell output (250 ms by default).</summary>
    public TimeSpan Interval { get; }

    /// <summary>Creates the progress display in the running cell (nothing is shown until the first report).</summary>
    /// <param name="interval">The least time between two updates of the cell output (default 250 ms).</param>
    public static NotebookProgress Create(TimeSpan? interval = null)
    {
        var every = interval ?? TimeSpan.FromMilliseconds(250);
        try
        {
            return new(DisplayInCell(), every);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException)
        {
            // Not inside .NET Interactive: its assemblies are not there. Progress is still collected (Text).
            return new(null, every);
        }
    }

    // Kept apart so that the kernel's types are only resolved here, where a missing assembly can be caught.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Action<string>? DisplayInCell()
    {
        if (KernelInvocationContext.Current is not { } context) return null;
        DisplayedValue shown = KernelInvocationContextExtensions.Display(context, "starting…", "text/plain");
        return shown.Update;
    }

    /// <summary>The text currently shown.</summary>
    public string Text
    {
        get { lock (_gate) return string.Join('\n', _lines.Values); }
    }

    /// <inheritdoc />
    public void Report(RunProgress value)
    {
        string text;
        lock (_gate)
        {
            if (!_order.TryGetValue(value.Stage, out int index)) _order[value.Stage] = index = _order.Count;
            bool first = !_lines.ContainsKey(index);
            _lines[index] = value.TotalRows is { } total
                ? string.Create(CultureInfo.InvariantCulture, $"{value.Stage}: {value.Rows:N0} / {total:N0} rows ({100.0 * value.Rows / Math.Max(total, 1):0} %)")
                : string.Create(CultureInfo.InvariantCulture, $"{value.Stage}: {value.Rows:N0} rows");
            long now = Environment.TickCount64;
            // A new stage and a finished one always show; other updates are throttled so the notebook is not flooded.
            bool done = value.TotalRows is { } t && value.Rows >= t;
            if (!first && !done && now - _lastTicks < Interval.TotalMilliseconds) return;
            _lastTicks = now;
            text = string.Join('\n', _lines.Values);
        }
        _update?.Invoke(text);
    }
}
