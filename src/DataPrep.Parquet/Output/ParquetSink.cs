using System.Globalization;
using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// Writes a run as Parquet shards, one <see cref="ParquetChannelWriter"/> per channel, then commits through
/// <see cref="RunLayout"/> (ManifestFiles, channels.json, run.json last). See <see cref="ParquetFormatDefinition"/>.
/// </summary>
/// <remarks>
/// Rows arrive in order; each channel buffers at most one row group (<see cref="ParquetFormatDefinition.RowGroupRows"/>).
/// Lineage content hashes (<see cref="ParquetContentHashes"/>) are computed on the run's threads in chunks of rows; every other step is serial, so the
/// bytes do not depend on <c>--threads</c> or <c>--batch-rows</c>.
/// </remarks>
internal sealed class ParquetSink : IRecordSink
{
    private readonly IOutputStore _store;
    private readonly RunLayout _layout;
    private readonly ConvertOptions _options;
    private readonly bool _hasLabel;
    private readonly bool _spilled;
    private readonly bool _lineage;
    private readonly Dictionary<string, ParquetChannelWriter> _channels = new(StringComparer.Ordinal);
    private ParquetColumns? _columns;
    private int _rowGroupRows;
    private SpillFolder? _spill;
    private RunContext? _context;
    private bool _labelIsFloat;
    private long _written;

    /// <summary>Creates the sink of one run.</summary>
    public ParquetSink(FormatSinkContext context)
    {
        _store = context.Store;
        _layout = context.Layout;
        _options = context.Options;
        _hasLabel = context.HasLabel;
        // A shard count (or a multiple of the instance count) needs the channel's size before its first shard is cut.
        _spilled = ShardRule.NeedsTotals(_options.Shards);
        _lineage = _options.Lineage;
    }

    /// <inheritdoc />
    /// <remarks>Only checks the schema: files are created once the store is prepared and rows arrive.</remarks>
    public ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken)
    {
        ParquetColumns.Validate(schema);
        _context = context;
        context.Report.ContentType = ParquetFormatDefinition.ContentType;
        context.Report.Output = _store.Location;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        if (_columns is null)
        {
            // Encoded batches carry the fitted one-hot widths, which the bound schema cannot know; the run's encoding
            // (set before the first encoded batch) names their positions.
            _columns = ParquetColumns.Create(batch.Schema, context.Report.Encoding);
            _rowGroupRows = ParquetFormatDefinition.RowGroupRows(_options, _columns.Columns.Count);
            _labelIsFloat = _hasLabel && batch.Schema[0].Kind == ColumnKind.Float64;
        }
        else if (!batch.Schema.Equals(_columns.BatchSchema))
        {
            throw new InvalidOperationException($"A batch of schema {batch.Schema} reached the Parquet writer, whose files have the columns of {_columns.BatchSchema}.");
        }
        if (batch.RowCount == 0) return;
        CheckNoMissing(batch, context.Inputs);
        var hashes = _lineage ? ParquetContentHashes.Of(batch, _options.EffectiveThreads) : null;
        var tags = batch.Rows.Splits;
        var folds = batch.Rows.Folds;
        int start = 0;
        while (start < batch.RowCount)
        {
            var tag = tags?[start] ?? SplitTag.None;
            short fold = folds?[start] ?? -1;
            int end = start + 1;
            while (end < batch.RowCount && (tags?[end] ?? SplitTag.None) == tag && (folds?[end] ?? -1) == fold) end++;
            var channel = Channel(RunLayout.ChannelName(tag, fold), batch.Rows);
            channel.Labels?.Count(batch.Columns[0], start, end - start);
            await channel.AppendAsync(batch, start, end - start, hashes, start, cancellationToken).ConfigureAwait(false);
            start = end;
        }
        _written += batch.RowCount;
        context.OnProgress("write", _written, context.ExpectedRows);
    }

    private ParquetChannelWriter Channel(string name, RowInfo first)
    {
        if (_channels.TryGetValue(name, out var channel)) return channel;
        string? spillPath = null;
        if (_spilled)
        {
            _spill ??= new SpillFolder(_options.Memory.EffectiveTempDirectory);
            spillPath = _spill.NewFile(name + ".parquet-rows");
        }
        channel = new ParquetChannelWriter(name, _store, _columns!, ParquetFormatDefinition.ShardsFor(_options, _columns!.Columns.Count), _rowGroupRows, _options.Lineage, spillPath, first)
        {
            Labels = _hasLabel ? new LabelTally() : null,
        };
        _channels[name] = channel;
        return channel;
    }

    /// <summary>
    /// Missing values are dropped, filled or refused before the split; one that still gets here is a bug upstream,
    /// and Parquet output has no NULLs (every column is REQUIRED), so it stops the run naming the row.
    /// </summary>
    internal static void CheckNoMissing(RecordBatch batch, IReadOnlyList<string>? inputs)
    {
        for (int c = 0; c < batch.Columns.Count; c++)
        {
            if (batch.Columns[c].Nulls is not { } nulls) continue;
            int r = Array.IndexOf(nulls, true, 0, batch.RowCount);
            if (r < 0) continue;
            int source = batch.Rows.Sources[r];
            string? file = inputs is not null && source >= 0 && source < inputs.Count ? inputs[source] : null;
            throw Throw.Format(
                "is missing when the row reaches the Parquet writer; expected a value (missing values are refused, dropped or filled before output: --missing error|drop|fill:VALUE), and Parquet output has no NULLs",
                file, row: batch.Rows.SourceRows[r], column: batch.Schema[c].Name);
        }
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        var reports = new List<(string Channel, SplitReport Report, LabelTally? Labels)>();
        foreach (var (name, channel) in _channels.OrderBy(c => c.Key, RunLayout.ChannelOrder))
        {
            reports.Add((name, await channel.CompleteAsync(cancellationToken).ConfigureAwait(false), channel.Labels));
        }
        _spill?.Dispose();
        _spill = null;
        var info = new FormatInfo(ParquetFormatDefinition.ContentType, (_columns?.Columns.Count ?? 0) - (_hasLabel ? 1 : 0), Sparse: false, Dtype: null, LabelDtype: null);
        foreach (var (name, report, labels) in reports)
        {
            report.Format = info;
            report.LabelDistribution = labels?.Distribution(_labelIsFloat);
            report.LabelSummary = labels?.Summary(_labelIsFloat);
        }
        RunLayout.AddChannels(context.Report, reports.Select(r => (r.Channel, r.Report)).ToList());
        await _layout.CommitAsync(context, _options.Shards.Multiple, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask AbortAsync()
    {
        foreach (var channel in _channels.Values) await channel.StopAsync().ConfigureAwait(false);
        _channels.Clear();
        _spill?.Dispose();
        _spill = null;
        await _store.AbortAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();
}
