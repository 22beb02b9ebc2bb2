using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>
/// Writes each split as shards <c>&lt;split&gt;/part-NNNNN.&lt;ext&gt;</c> of one <see cref="IRecordFormat"/>,
/// plus a lineage sidecar per split under <c>_dataprep/lineage/</c>, into an <see cref="IOutputStore"/>.
/// Rows are formatted in parallel chunks and written in order, so the bytes do not depend on threads.
/// </summary>
public sealed class ShardedSink : IRecordSink
{
    private const int ChunkRows = 4096;

    private readonly IRecordFormat _format;
    private readonly IOutputStore _store;
    private readonly ShardOptions _shards;
    private readonly bool _gzip;
    private readonly bool _lineage;
    private readonly int _threads;
    private readonly bool _hasLabel;
    private readonly Func<RunContext, byte[]> _runRecord;
    private readonly Dictionary<SplitTag, List<Pending>> _pending = [];
    private readonly Dictionary<SplitTag, Dictionary<string, long>?> _labels = [];
    private RunContext? _context;
    private long _written;

    private sealed record Pending(FormattedChunk Chunk, RowInfo Rows);

    /// <summary>Creates the sink.</summary>
    /// <param name="format">The record format.</param>
    /// <param name="store">Where files go.</param>
    /// <param name="options">Shard limits, compression, threads.</param>
    /// <param name="hasLabel">Whether column 0 is the label (for label distributions).</param>
    /// <param name="runRecord">Builds run.json once the data files are known; written last.</param>
    public ShardedSink(IRecordFormat format, IOutputStore store, ConvertOptions options, bool hasLabel, Func<RunContext, byte[]> runRecord)
    {
        _format = format;
        _store = store;
        _shards = options.Shards;
        _gzip = options.Gzip;
        _lineage = options.Lineage;
        _threads = options.EffectiveThreads;
        _hasLabel = hasLabel;
        _runRecord = runRecord;
    }

    /// <inheritdoc />
    public async ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken)
    {
        _format.Validate(schema, _hasLabel);
        _context = context;
        context.Report.ContentType = _format.ContentType;
        context.Report.Output = _store.Location;
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        var tags = batch.Rows.Splits;
        int start = 0;
        while (start < batch.RowCount)
        {
            var tag = tags?[start] ?? SplitTag.None;
            int end = start + 1;
            while (end < batch.RowCount && (tags?[end] ?? SplitTag.None) == tag) end++;
            Append(batch, start, end - start, tag, cancellationToken);
            start = end;
        }
        _written += batch.RowCount;
        _context?.OnProgress("write", _written);
        return ValueTask.CompletedTask;
    }

    private void Append(RecordBatch batch, int start, int count, SplitTag tag, CancellationToken cancellationToken)
    {
        int chunks = (count + ChunkRows - 1) / ChunkRows;
        var results = new Pending[chunks];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads, CancellationToken = cancellationToken }, k =>
        {
            int s = start + k * ChunkRows, n = Math.Min(ChunkRows, start + count - s);
            var rows = Enumerable.Range(s, n).ToArray();
            results[k] = new Pending(_format.Format(batch, s, n), batch.Rows.Take(rows));
        });
        if (!_pending.TryGetValue(tag, out var list)) _pending[tag] = list = [];
        list.AddRange(results);
        CountLabels(batch, start, count, tag);
    }

    private void CountLabels(RecordBatch batch, int start, int count, SplitTag tag)
    {
        if (!_hasLabel) return;
        if (!_labels.TryGetValue(tag, out var counts)) _labels[tag] = counts = [];
        if (counts is null) return;
        var label = batch.Columns[0];
        for (int r = start; r < start + count; r++)
        {
            string key;
            if (label is Int64Column l) key = l.Values[r].ToString(CultureInfo.InvariantCulture);
            else if (label is Float64Column d && d.Values[r] == Math.Floor(d.Values[r])) key = d.Values[r].ToString("R", CultureInfo.InvariantCulture);
            else { _labels[tag] = null; return; }
            counts[key] = counts.GetValueOrDefault(key) + 1;
            // A regression target has no useful distribution; stop counting.
            if (counts.Count > 1000) { _labels[tag] = null; return; }
        }
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        long total = _pending.Values.Sum(l => l.Sum(p => (long)p.Chunk.RecordEnds.Length));
        foreach (var tag in (SplitTag[])[.. SplitNames.All, SplitTag.None])
        {
            if (!_pending.TryGetValue(tag, out var chunks) || chunks.Count == 0) continue;
            var report = context.Report.Splits.TryGetValue(ChannelName(tag), out var existing) ? existing : context.Report.Splits[ChannelName(tag)] = new SplitReport();
            report.Rows = chunks.Sum(c => (long)c.Chunk.RecordEnds.Length);
            report.Fraction = total == 0 ? 0 : (double)report.Rows / total;
            if (_labels.GetValueOrDefault(tag) is { } counts)
            {
                report.LabelDistribution = new SortedDictionary<string, long>(counts, Comparer<string>.Create(CompareNumericText));
            }
            await WriteSplitAsync(tag, chunks, report, cancellationToken).ConfigureAwait(false);
        }
        var record = _runRecord(context);
        await _store.CommitAsync("_dataprep/run.json", record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The folder of a split; rows without a split (apply) go to "data".</summary>
    public static string ChannelName(SplitTag tag) => tag == SplitTag.None ? "data" : tag.Name();

    private static int CompareNumericText(string a, string b)
    {
        bool na = double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x);
        bool nb = double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y);
        return na && nb ? x.CompareTo(y) : string.CompareOrdinal(a, b);
    }

    private async Task WriteSplitAsync(SplitTag tag, List<Pending> chunks, SplitReport report, CancellationToken cancellationToken)
    {
        var cuts = ShardPlanner.Plan(chunks.Select(c => c.Chunk).ToList(), _shards);
        string name = ChannelName(tag);
        var lineage = _lineage ? new StringBuilder("row_id,source,source_row,shard,record,content_hash\n") : null;
        Stream? lineageStream = _lineage ? await _store.CreateAsync($"_dataprep/lineage/{name}.csv", cancellationToken).ConfigureAwait(false) : null;
        int shard = -1;
        long shardRows = 0;
        Stream? file = null;
        HashingStream? hashing = null;
        string? path = null;

        async Task CloseShardAsync()
        {
            if (file is null) return;
            await file.DisposeAsync().ConfigureAwait(false);
            report.Shards.Add(new ShardRecord(path!, shardRows, hashing!.Length, hashing.HashHex()));
            await hashing.DisposeAsync().ConfigureAwait(false);
            file = null;
        }

        long globalRecord = 0;
        int nextCut = 0;
        foreach (var p in chunks)
        {
            var c = p.Chunk;
            int from = 0;
            for (int k = 0; k < c.RecordEnds.Length; k++, globalRecord++)
            {
                if (file is null || (nextCut < cuts.Count && globalRecord == cuts[nextCut]))
                {
                    if (file is not null)
                    {
                        await file.WriteAsync(c.Data.AsMemory(from, (k == 0 ? 0 : c.RecordEnds[k - 1]) - from), cancellationToken).ConfigureAwait(false);
                        from = k == 0 ? 0 : c.RecordEnds[k - 1];
                        nextCut++;
                    }
                    await CloseShardAsync().ConfigureAwait(false);
                    shard++;
                    shardRows = 0;
                    path = $"{name}/part-{shard:D5}.{_format.Extension}{(_gzip ? ".gz" : "")}";
                    var raw = await _store.CreateAsync(path, cancellationToken).ConfigureAwait(false);
                    hashing = new HashingStream(raw);
                    file = _gzip ? new GZipStream(hashing, CompressionLevel.Optimal, leaveOpen: true) : new NonClosingStream(hashing);
                }
                if (lineage is not null)
                {
                    lineage.Append(p.Rows.RowIds[k]).Append(',').Append(p.Rows.Sources[k]).Append(',').Append(p.Rows.SourceRows[k])
                        .Append(',').Append(shard).Append(',').Append(shardRows).Append(',').Append(p.Chunk.Hashes[k].ToString("x16", CultureInfo.InvariantCulture)).Append('\n');
                }
                shardRows++;
            }
            await file!.WriteAsync(c.Data.AsMemory(from, c.Length - from), cancellationToken).ConfigureAwait(false);
            if (lineage is not null && lineage.Length > 1 << 20)
            {
                await lineageStream!.WriteAsync(System.Text.Encoding.UTF8.GetBytes(lineage.ToString()), cancellationToken).ConfigureAwait(false);
                lineage.Clear();
            }
        }
        await CloseShardAsync().ConfigureAwait(false);
        if (lineageStream is not null)
        {
            await lineageStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(lineage!.ToString()), cancellationToken).ConfigureAwait(false);
            await lineageStream.DisposeAsync().ConfigureAwait(false);
            report.Lineage = $"_dataprep/lineage/{name}.csv";
        }
    }

    /// <inheritdoc />
    public ValueTask AbortAsync()
    {
        _pending.Clear();
        return _store.AbortAsync();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();

    /// <summary>Counts bytes and computes SHA-256 of what is written through it.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private string? _hex;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Position;
        public override long Position { get; set; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _sha.AppendData(buffer);
            Position += buffer.Length;
            inner.Write(buffer);
        }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _sha.AppendData(buffer.Span);
            Position += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public string HashHex() => _hex ??= Convert.ToHexStringLower(_sha.GetHashAndReset());
        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); _sha.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Lets the shard be closed without closing the hashing stream before its hash is read.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
    }
}

/// <summary>Decides where shards start, as global record numbers within a split.</summary>
public static class ShardPlanner
{
    /// <summary>
    /// The record numbers (after the first) at which a new shard starts. With a shard count, shards are
    /// balanced by bytes; otherwise a shard ends before the record that would take it past a limit.
    /// </summary>
    public static List<long> Plan(IReadOnlyList<FormattedChunk> chunks, ShardOptions options)
    {
        var cuts = new List<long>();
        long totalBytes = chunks.Sum(c => (long)c.Length);
        long totalRecords = chunks.Sum(c => (long)c.RecordEnds.Length);
        if (options.Count > 0)
        {
            int n = (int)Math.Min(options.Count, totalRecords);
            long record = 0, bytes = 0;
            int next = 1;
            foreach (var c in chunks)
            {
                int prev = 0;
                foreach (int end in c.RecordEnds)
                {
                    // Cut before this record once the bytes so far reach the next equal share.
                    if (next < n && record > 0 && bytes >= totalBytes * next / n && totalRecords - record >= n - next)
                    {
                        cuts.Add(record);
                        next++;
                    }
                    bytes += end - prev;
                    prev = end;
                    record++;
                }
            }
            // Guarantee exactly n shards even with one huge record at the end.
            for (long r = totalRecords - (n - 1 - cuts.Count); cuts.Count < n - 1; r++) cuts.Add(r);
            return cuts;
        }
        long inShardBytes = 0, inShardRows = 0, rec = 0;
        foreach (var c in chunks)
        {
            int prev = 0;
            foreach (int end in c.RecordEnds)
            {
                long size = end - prev;
                bool full = inShardRows > 0 && ((options.MaxRows > 0 && inShardRows >= options.MaxRows) || inShardBytes + size > options.MaxBytes);
                if (full)
                {
                    cuts.Add(rec);
                    inShardBytes = 0;
                    inShardRows = 0;
                }
                inShardBytes += size;
                inShardRows++;
                prev = end;
                rec++;
            }
        }
        return cuts;
    }
}
