using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Scale;

/// <summary>
/// The encode task's sink: formats a bucket's rows with the run's record format, channel by channel, into a
/// segment (the records' bytes, where each record ends, and each record's lineage line without its shard and record
/// numbers, which only the write step knows). Segments of consecutive buckets, concatenated, are exactly the bytes a
/// one-process run formats for the channel.
/// </summary>
internal sealed class SegmentSink(IRecordFormat format, bool hasLabel, bool lineage, string folder) : IRecordSink
{
    private readonly Dictionary<string, Segment> _segments = new(StringComparer.Ordinal);
    private RunContext? _context;
    private FormatInfo? _info;
    private byte[]? _header;
    private bool _labelIsFloat;

    public IReadOnlyDictionary<string, Segment> Segments => _segments;

    public ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken)
    {
        format.Validate(schema, hasLabel);
        _context = context;
        context.Report.ContentType = format.ContentType;
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        _info ??= format.Describe(batch.Schema, hasLabel);
        _header ??= format.FileHeader(batch.Schema);
        if (hasLabel) _labelIsFloat = batch.Columns[0] is Float64Column;
        _context?.Diagnostics.RecordBatchWritten(batch.RowCount);
        var tags = batch.Rows.Splits;
        var folds = batch.Rows.Folds;
        int start = 0;
        while (start < batch.RowCount)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tag = tags?[start] ?? SplitTag.None;
            short fold = folds?[start] ?? -1;
            int end = start + 1;
            while (end < batch.RowCount && (tags?[end] ?? SplitTag.None) == tag && (folds?[end] ?? -1) == fold) end++;
            var channel = RunLayout.ChannelName(tag, fold);
            if (!_segments.TryGetValue(channel, out var segment)) _segments[channel] = segment = new Segment(Path.Combine(folder, _segments.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)), lineage);
            // Chunks are formatted on every core and appended in order, so the bytes do not depend on the threads.
            int chunks = (end - start + ChunkRows - 1) / ChunkRows;
            var formatted = new Segment.Formatted[chunks];
            // A chunk's value error is kept, not thrown inside Parallel.For (which would wrap it): the first chunk's in
            // order is thrown, as the one-process writer, which awaits its chunks in order, surfaces it.
            var errors = new DataFormatException?[chunks];
            int first = start, last = end;
            Parallel.For(0, chunks, new ParallelOptions { CancellationToken = cancellationToken }, k =>
            {
                int s = first + k * ChunkRows;
                try
                {
                    formatted[k] = segment.Format(format, batch, s, Math.Min(ChunkRows, last - s), hasLabel);
                }
                catch (DataFormatException e)
                {
                    errors[k] = _context?.AtSource(e, batch) ?? e;
                }
            });
            if (errors.FirstOrDefault(e => e is not null) is { } error) throw error;
            foreach (var f in formatted) segment.Append(f);
            start = end;
        }
        return ValueTask.CompletedTask;
    }

    private const int ChunkRows = 4096;

    public ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        foreach (var s in _segments.Values) s.Close();
        return ValueTask.CompletedTask;
    }

    public ValueTask AbortAsync()
    {
        foreach (var s in _segments.Values) s.Close();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => AbortAsync();

    /// <summary>The segment infos of the channels written, for the task's report.</summary>
    public SortedDictionary<string, SegmentInfo> Infos()
    {
        var infos = new SortedDictionary<string, SegmentInfo>(StringComparer.Ordinal);
        foreach (var (channel, s) in _segments)
        {
            infos[channel] = new SegmentInfo
            {
                Records = s.Records,
                Bytes = s.Bytes,
                MaxRecord = s.MaxRecord,
                LastRecord = s.LastRecord,
                HasGroups = s.HasGroups,
                HasTimes = s.HasTimes,
                Labels = hasLabel ? s.Tally?.Counts : null,
                LabelSketch = hasLabel ? s.Tally?.Sketch : null,
                LabelIsFloat = _labelIsFloat,
                Format = _info,
                Header = _header ?? [],
            };
        }
        return infos;
    }

    /// <summary>One channel's files: data, record ends (8 bytes each), lineage (prefix and suffix of each line).</summary>
    internal sealed class Segment
    {
        private readonly FileStream _data;
        private readonly FileStream _ends;
        private readonly FileStream? _lineage;
        private bool _closed;

        public Segment(string basePath, bool lineage)
        {
            DataPath = basePath + ".data";
            EndsPath = basePath + ".ends";
            LineagePath = basePath + ".lineage";
            _data = new FileStream(DataPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _ends = new FileStream(EndsPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            if (lineage)
            {
                _lineage = new FileStream(LineagePath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            }
        }

        public string DataPath { get; }
        public string EndsPath { get; }
        public string LineagePath { get; }
        public long Records { get; private set; }
        public long Bytes { get; private set; }
        public long MaxRecord { get; private set; }
        public long LastRecord { get; private set; }
        public bool HasGroups { get; private set; }
        public bool HasTimes { get; private set; }
        public LabelTally? Tally { get; } = new();
        public bool HasLineage => _lineage is not null;

        /// <summary>A formatted chunk: its records and their lineage lines (each as prefix and suffix lengths, then the bytes).</summary>
        public sealed record Formatted(FormattedChunk Chunk, byte[]? Lineage, bool HasGroups, bool HasTimes);

        /// <summary>Formats rows [start, start + count) of a batch (any thread; the label tally is counted here too).</summary>
        public Formatted Format(IRecordFormat format, RecordBatch batch, int start, int count, bool hasLabel)
        {
            if (hasLabel) Tally!.Count(batch.Columns[0], start, count);
            var chunk = format.Format(batch, start, count);
            if (_lineage is null) return new Formatted(chunk, null, false, false);
            var rows = batch.Rows;
            var line = new LineageBuffer(256);
            var lines = new MemoryStream(count * 64);
            Span<byte> lengths = stackalloc byte[8];
            for (int k = 0; k < count; k++)
            {
                int r = start + k;
                // Each line as two parts around the shard and record numbers: "row_id,source,source_row," and ",hash[,group][,time]\n".
                line.Clear();
                line.Append(rows.RowIds[r]).Append((byte)',').Append(rows.Sources[r]).Append((byte)',').Append(rows.SourceRows[r]).Append((byte)',');
                int prefix = line.Length;
                line.Append((byte)',').AppendHex16(chunk.Hashes[k]);
                if (rows.GroupKeys is { } groups) line.Append((byte)',').AppendField(groups[r]);
                if (rows.Times is { } times)
                {
                    line.Append((byte)',');
                    if (times[r] != long.MinValue) line.AppendTime(times[r]);
                }
                line.Append((byte)'\n');
                BitConverter.TryWriteBytes(lengths, prefix);
                BitConverter.TryWriteBytes(lengths[4..], line.Length - prefix);
                lines.Write(lengths);
                lines.Write(line.Span);
            }
            return new Formatted(chunk, lines.ToArray(), rows.GroupKeys is not null, rows.Times is not null);
        }

        /// <summary>Appends a formatted chunk (in output order, one thread).</summary>
        public void Append(Formatted formatted)
        {
            var chunk = formatted.Chunk;
            _data.Write(chunk.Data, 0, chunk.Length);
            chunk.Release();
            Span<byte> end = stackalloc byte[8];
            int prev = 0;
            foreach (int e in chunk.RecordEnds)
            {
                long size = e - prev;
                prev = e;
                BitConverter.TryWriteBytes(end, Bytes + e);
                _ends.Write(end);
                if (size > MaxRecord) MaxRecord = size;
                LastRecord = size;
            }
            Bytes += chunk.Length;
            Records += chunk.RecordEnds.Length;
            if (_lineage is null || formatted.Lineage is null) return;
            HasGroups = formatted.HasGroups;
            HasTimes = formatted.HasTimes;
            _lineage.Write(formatted.Lineage);
        }

        public void Close()
        {
            if (_closed) return;
            _closed = true;
            _data.Dispose();
            _ends.Dispose();
            _lineage?.Dispose();
        }
    }
}
