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
            for (int s = start; s < end; s += 4096) segment.Add(format, batch, s, Math.Min(4096, end - s), hasLabel);
            start = end;
        }
        return ValueTask.CompletedTask;
    }

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
                Labels = s.Tally?.Counts,
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
        private readonly LineageBuffer? _line;
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
                _line = new LineageBuffer(1 << 16);
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
        public LabelTally? Tally { get; private set; }
        public bool HasLineage => _lineage is not null;

        public void Add(IRecordFormat format, RecordBatch batch, int start, int count, bool hasLabel)
        {
            if (hasLabel) (Tally ??= new LabelTally()).Count(batch.Columns[0], start, count);
            var chunk = format.Format(batch, start, count);
            _data.Write(chunk.Data, 0, chunk.Length);
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
            if (_lineage is null) return;
            var rows = batch.Rows;
            HasGroups = rows.GroupKeys is not null;
            HasTimes = rows.Times is not null;
            var line = _line!;
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
                _lineage.Write(lengths);
                _lineage.Write(line.Span);
            }
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
