using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// SageMaker DeepAR's JSON Lines (<c>application/jsonlines</c>): one record per series with <c>start</c>,
/// <c>target</c>, optional <c>cat</c> (static category codes) and <c>dynamic_feat</c> (one array per
/// time-varying feature, as long as the target). Following that algorithm's convention the training
/// channel holds each series truncated before the validation/test window, validation holds it up to the
/// end of validation, and the test channel holds the full series. Needs a time split (rows carry their
/// timestamp) and a series column (rows carry their series key). Records are in ordinal order of the series key.
/// </summary>
/// <remarks>Holds every point of every series in memory until the commit (not bounded by <c>--memory</c>); a
/// scaled-out run divides the series among its encode tasks (see <see cref="DeepArSeries"/>).</remarks>
public sealed class DeepArSink(RunLayout layout, IReadOnlyList<string> catColumns, int instances) : IRecordSink
{
    private readonly IOutputStore _store = layout.Store;
    private DeepArSeries? _series;
    private RunContext? _context;

    /// <summary>The content type of DeepAR files.</summary>
    public const string ContentType = "application/jsonlines";

    /// <inheritdoc />
    public ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken)
    {
        _series = DeepArSeries.Bind(schema, catColumns);
        _context = context;
        context.Report.ContentType = ContentType;
        context.Report.Output = _store.Location;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        var series = _series ?? throw new InvalidOperationException("OpenAsync first.");
        series.Add(batch);
        _context?.OnProgress("write", series.Points, _context.ExpectedRows);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        var series = _series!;
        await DeepArSeries.PublishAsync(layout, context, series.DynamicCount, series.Has,
            (c, file, ct) => series.WriteChannelAsync(c, file, keys: null, ct), series.VaryingIn, instances, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask AbortAsync() => _store.AbortAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();
}
