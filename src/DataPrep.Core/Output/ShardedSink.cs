using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
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
    private readonly Dictionary<string, SplitWriter> _writers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<long, long>?> _labels = new(StringComparer.Ordinal);
    private bool _lastLabelIsFloat;
    private RunContext? _context;
    private FormatInfo? _info;
    private byte[]? _header;
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
    public ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken)
    {
        _format.Validate(schema, _hasLabel);
        _context = context;
        context.Report.ContentType = _format.ContentType;
        context.Report.Output = _store.Location;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        // Encoded batches carry the fitted widths (one-hot columns), which the bound schema cannot know.
        _info ??= _format.Describe(batch.Schema, _hasLabel);
        _header ??= _format.FileHeader(batch.Schema);
        var tags = batch.Rows.Splits;
        var folds = batch.Rows.Folds;
        int start = 0;
        while (start < batch.RowCount)
        {
            var tag = tags?[start] ?? SplitTag.None;
            short fold = folds?[start] ?? -1;
            int end = start + 1;
            while (end < batch.RowCount && (tags?[end] ?? SplitTag.None) == tag && (folds?[end] ?? -1) == fold) end++;
            await AppendAsync(batch, start, end - start, ChannelName(tag, fold), cancellationToken).ConfigureAwait(false);
            start = end;
        }
        _written += batch.RowCount;
        _context?.OnProgress("write", _written, _context.ExpectedRows);
    }

    private async ValueTask AppendAsync(RecordBatch batch, int start, int count, string channel, CancellationToken cancellationToken)
    {
        int chunks = (count + ChunkRows - 1) / ChunkRows;
        var results = new Pending[chunks];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads, CancellationToken = cancellationToken }, k =>
        {
            int s = start + k * ChunkRows, n = Math.Min(ChunkRows, start + count - s);
            var rows = Enumerable.Range(s, n).ToArray();
            results[k] = new Pending(_format.Format(batch, s, n), batch.Rows.Take(rows));
        });
        CountLabels(batch, start, count, channel);
        if (!_writers.TryGetValue(channel, out var writer)) _writers[channel] = writer = new SplitWriter(this, channel, cancellationToken);
        foreach (var r in results) await writer.AddAsync(r).ConfigureAwait(false);
    }

    private void CountLabels(RecordBatch batch, int start, int count, string tag)
    {
        if (!_hasLabel) return;
        if (!_labels.TryGetValue(tag, out var counts)) _labels[tag] = counts = [];
        if (counts is null) return;
        // Counted by value (integers) or bit pattern (integral doubles) and named at commit: no string per row.
        var label = batch.Columns[0];
        _lastLabelIsFloat = label is Float64Column;
        for (int r = start; r < start + count; r++)
        {
            long key;
            if (label is Int64Column l) key = l.Values[r];
            else if (label is Float64Column d && d.Values[r] == Math.Floor(d.Values[r])) key = BitConverter.DoubleToInt64Bits(d.Values[r] + 0.0); // −0 counts as 0 (their names compare equal)
            else { _labels[tag] = null; return; }
            ref long n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _);
            n++;
            // A regression target has no useful distribution; stop counting.
            if (counts.Count > 1000) { _labels[tag] = null; return; }
        }
    }

    /// <summary>The label distribution of a split with the values as text (integers invariant, doubles round-trip).</summary>
    private Dictionary<string, long>? LabelCounts(string tag)
    {
        if (_labels.GetValueOrDefault(tag) is not { } counts) return null;
        bool floats = _lastLabelIsFloat;
        return counts.ToDictionary(
            kv => floats ? BitConverter.Int64BitsToDouble(kv.Key).ToString("R", CultureInfo.InvariantCulture) : kv.Key.ToString(CultureInfo.InvariantCulture),
            kv => kv.Value, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        var reports = new List<(string Tag, SplitReport Report)>();
        foreach (var (channel, writer) in _writers.OrderBy(w => ChannelOrder(w.Key)).ThenBy(w => w.Key, StringComparer.Ordinal))
        {
            reports.Add((channel, await writer.CompleteAsync().ConfigureAwait(false)));
        }
        long total = reports.Sum(r => r.Report.Rows);
        foreach (var (tag, report) in reports)
        {
            report.Fraction = total == 0 ? 0 : (double)report.Rows / total;
            report.Format = _info;
            if (LabelCounts(tag) is { } counts)
            {
                report.LabelDistribution = new SortedDictionary<string, long>(counts, Comparer<string>.Create(CompareNumericText));
            }
            // Keep what the split stage already reported (time ranges, groups) and add the files.
            if (context.Report.Splits.TryGetValue(tag, out var existing))
            {
                existing.Rows = report.Rows;
                existing.Fraction = report.Fraction;
                existing.Format = report.Format;
                existing.LabelDistribution = report.LabelDistribution;
                existing.Lineage = report.Lineage;
                existing.Shards.AddRange(report.Shards);
            }
            else
            {
                context.Report.Splits[tag] = report;
            }
        }
        // A split a stage described but that received no rows (k-fold's train pool) has no files to list.
        foreach (var empty in context.Report.Splits.Where(kv => kv.Value.Rows == 0 && kv.Value.Shards.Count == 0).Select(kv => kv.Key).ToList())
        {
            context.Report.Splits.Remove(empty);
        }
        await WriteFoldManifestsAsync(context, cancellationToken).ConfigureAwait(false);
        InstanceWarnings.Add(context.Report, _shards.Multiple);
        await ChannelsFile.WriteAsync(_store, context.Report, cancellationToken).ConfigureAwait(false);
        var record = _runRecord(context);
        await _store.CommitAsync("_dataprep/run.json", record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Quotes a lineage value when it holds a comma, quote or line break (RFC 4180).</summary>
    private static string CsvField(string? value)
        => value is null ? "" : value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

    /// <summary>The folder of a split; rows without a split (apply) go to "data".</summary>
    public static string ChannelName(SplitTag tag) => tag == SplitTag.None ? "data" : tag.Name();

    /// <summary>The folder of a split or of k-fold fold <paramref name="fold"/> (fold-0, fold-1, …).</summary>
    public static string ChannelName(SplitTag tag, short fold) => fold >= 0 ? $"fold-{fold}" : ChannelName(tag);

    private static int ChannelOrder(string channel) => channel switch
    {
        "train" => 0,
        "validation" => 1,
        "test" => 2,
        "data" => 3,
        _ => 4,
    };

    /// <summary>
    /// k-fold: for each fold, a SageMaker ManifestFile of its training set (the other folds, or with
    /// forward chaining the earlier folds) and one of its validation set (the fold itself): every fold is
    /// written once, the manifests only point at its files.
    /// </summary>
    private async Task WriteFoldManifestsAsync(RunContext context, CancellationToken cancellationToken)
    {
        var folds = context.Report.Splits.Keys.Where(k => k.StartsWith("fold-", StringComparison.Ordinal))
            .Select(k => int.Parse(k.AsSpan(5), CultureInfo.InvariantCulture)).Order().ToList();
        if (folds.Count == 0) return;
        string prefix = _store.UriOf("");
        if (!prefix.EndsWith('/')) prefix += "/";
        foreach (int k in folds)
        {
            var train = folds.Where(j => context.ForwardChainingFolds ? j < k : j != k);
            await WriteManifestAsync($"_dataprep/fold-{k}.train.manifest", prefix, train.SelectMany(j => context.Report.Splits[$"fold-{j}"].Shards), cancellationToken).ConfigureAwait(false);
            await WriteManifestAsync($"_dataprep/fold-{k}.validation.manifest", prefix, context.Report.Splits[$"fold-{k}"].Shards, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WriteManifestAsync(string path, string prefix, IEnumerable<ShardRecord> shards, CancellationToken cancellationToken)
    {
        // SageMaker ManifestFile: [{"prefix": "…/"}, "relative/key", …]
        var json = new StringBuilder("[{\"prefix\": ").Append(System.Text.Json.JsonSerializer.Serialize(prefix)).Append('}');
        foreach (var s in shards) json.Append(",\n ").Append(System.Text.Json.JsonSerializer.Serialize(s.Path));
        json.Append("]\n");
        await using var stream = await _store.CreateAsync(path, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(json.ToString()), cancellationToken).ConfigureAwait(false);
    }

    private static int CompareNumericText(string a, string b)
    {
        bool na = double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x);
        bool nb = double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y);
        return na && nb ? x.CompareTo(y) : string.CompareOrdinal(a, b);
    }

    /// <inheritdoc />
    public async ValueTask AbortAsync()
    {
        foreach (var w in _writers.Values) await w.StopAsync().ConfigureAwait(false);
        _writers.Clear();
        await _store.AbortAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();

    /// <summary>
    /// Writes one split's shards on a background task while the next batches are formatted, so file
    /// writes, hashing and compression overlap the CPU work. With a shard count, shards are balanced by
    /// bytes and so wait until the split's size is known.
    /// </summary>
    private sealed class SplitWriter
    {
        private readonly ShardedSink _sink;
        private readonly string _name;
        private readonly CancellationToken _cancellationToken;
        private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        private readonly Task<SplitReport> _task;

        public SplitWriter(ShardedSink sink, string name, CancellationToken cancellationToken)
        {
            _sink = sink;
            _name = name;
            _cancellationToken = cancellationToken;
            _task = Task.Run(RunAsync, cancellationToken);
        }

        public async ValueTask AddAsync(Pending chunk)
        {
            try
            {
                await _queue.Writer.WriteAsync(chunk, _cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                await _task.ConfigureAwait(false); // surfaces the writer's failure
                throw;
            }
        }

        public async Task<SplitReport> CompleteAsync()
        {
            _queue.Writer.TryComplete();
            return await _task.ConfigureAwait(false);
        }

        public async Task StopAsync()
        {
            _queue.Writer.TryComplete();
            try { await _task.ConfigureAwait(false); }
            catch (Exception) { /* the run is failing already; the store removes what was written */ }
        }

        private async Task<SplitReport> RunAsync()
        {
            try
            {
                var opts = _sink._shards;
                IAsyncEnumerable<Pending> chunks = _queue.Reader.ReadAllAsync(_cancellationToken);
                Func<long, long, long, long, bool> startsShard;
                if (opts.Count > 0 || opts.Multiple > 1)
                {
                    var all = new List<Pending>();
                    await foreach (var c in chunks.ConfigureAwait(false)) all.Add(c);
                    var cuts = ShardPlanner.Balanced(all.Select(c => c.Chunk).ToList(), ShardPlanner.Count(all.Select(c => c.Chunk).ToList(), opts)).ToHashSet();
                    chunks = all.ToAsyncEnumerable();
                    startsShard = (record, _, _, _) => cuts.Contains(record);
                }
                else
                {
                    startsShard = (_, size, shardRows, shardBytes) => shardRows > 0 && ((opts.MaxRows > 0 && shardRows >= opts.MaxRows) || shardBytes + size > opts.MaxBytes);
                }
                return await WriteAsync(chunks, startsShard).ConfigureAwait(false);
            }
            catch
            {
                _queue.Writer.TryComplete();
                throw;
            }
        }

        private async Task<SplitReport> WriteAsync(IAsyncEnumerable<Pending> chunks, Func<long, long, long, long, bool> startsShard)
        {
            var report = new SplitReport();
            var store = _sink._store;
            var ct = _cancellationToken;
            LineageBuffer? lineage = null;
            Stream? lineageStream = _sink._lineage ? await store.CreateAsync($"_dataprep/lineage/{_name}.csv", ct).ConfigureAwait(false) : null;
            int shard = -1;
            long shardRows = 0, shardBytes = 0, record = 0;
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

            await foreach (var p in chunks.ConfigureAwait(false))
            {
                // The header is known with the first chunk: group and time columns come with group/time splits.
                if (_sink._lineage && lineage is null)
                {
                    lineage = new LineageBuffer().Append("row_id,source,source_row,shard,record,content_hash");
                    if (p.Rows.GroupKeys is not null) lineage.Append(",group");
                    if (p.Rows.Times is not null) lineage.Append(",time");
                    lineage.Append((byte)'\n');
                }
                var c = p.Chunk;
                int from = 0, prev = 0;
                for (int k = 0; k < c.RecordEnds.Length; k++, record++)
                {
                    int size = c.RecordEnds[k] - prev;
                    if (file is null || startsShard(record, size, shardRows, shardBytes))
                    {
                        if (file is not null)
                        {
                            await file.WriteAsync(c.Data.AsMemory(from, prev - from), ct).ConfigureAwait(false);
                            from = prev;
                        }
                        await CloseShardAsync().ConfigureAwait(false);
                        shard++;
                        shardRows = 0;
                        shardBytes = 0;
                        path = $"{_name}/part-{shard:D5}.{_sink._format.Extension}{(_sink._gzip ? ".gz" : "")}";
                        hashing = new HashingStream(await store.CreateAsync(path, ct).ConfigureAwait(false));
                        file = _sink._gzip ? new GZipStream(hashing, CompressionLevel.Optimal, leaveOpen: true) : new NonClosingStream(hashing);
                        if (_sink._header is { Length: > 0 } header) await file.WriteAsync(header, ct).ConfigureAwait(false);
                    }
                    if (lineage is not null)
                    {
                        lineage.Append(p.Rows.RowIds[k]).Append((byte)',').Append(p.Rows.Sources[k]).Append((byte)',').Append(p.Rows.SourceRows[k])
                            .Append((byte)',').Append(shard).Append((byte)',').Append(shardRows).Append((byte)',').AppendHex16(c.Hashes[k]);
                        if (p.Rows.GroupKeys is { } groups) lineage.Append((byte)',').Append(CsvField(groups[k]));
                        if (p.Rows.Times is { } times) lineage.Append((byte)',').AppendTime(times[k]);
                        lineage.Append((byte)'\n');
                    }
                    shardRows++;
                    shardBytes += size;
                    prev = c.RecordEnds[k];
                }
                await file!.WriteAsync(c.Data.AsMemory(from, c.Length - from), ct).ConfigureAwait(false);
                report.Rows += c.RecordEnds.Length;
                if (lineage is not null && lineage.Length > 1 << 20)
                {
                    await lineageStream!.WriteAsync(lineage.Memory, ct).ConfigureAwait(false);
                    lineage.Clear();
                }
            }
            await CloseShardAsync().ConfigureAwait(false);
            if (lineageStream is not null)
            {
                lineage ??= new LineageBuffer().Append("row_id,source,source_row,shard,record,content_hash\n");
                await lineageStream.WriteAsync(lineage.Memory, ct).ConfigureAwait(false);
                await lineageStream.DisposeAsync().ConfigureAwait(false);
                report.Lineage = $"_dataprep/lineage/{_name}.csv";
            }
            return report;
        }
    }

    /// <summary>Counts bytes and computes SHA-256 of what is written through it.</summary>
    private sealed class HashingStream(Stream inner) : WriteOnlyForwardStream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private string? _hex;
        public override long Length => Written;
        public long Written { get; private set; }
        public override void Flush() => inner.Flush();
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _sha.AppendData(buffer);
            Written += buffer.Length;
            inner.Write(buffer);
        }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _sha.AppendData(buffer.Span);
            Written += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        public string HashHex() => _hex ??= Convert.ToHexStringLower(_sha.GetHashAndReset());
        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); _sha.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Lets the shard be closed without closing the hashing stream before its hash is read.</summary>
    private sealed class NonClosingStream(Stream inner) : WriteOnlyForwardStream
    {
        public override void Flush() => inner.Flush();
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    }
}

/// <summary>Decides where shards start when a split must be cut into a given number of shards.</summary>
public static class ShardPlanner
{
    /// <summary>
    /// The record numbers (after the first) at which shards 2…n start, balancing bytes: a shard ends
    /// before the record at which the bytes so far reach the next equal share. Every shard gets at least
    /// one record; n is capped at the number of records.
    /// </summary>
    /// <summary>
    /// The shard count of a split: <see cref="ShardOptions.Count"/>, or with only a multiple (training
    /// instances) as many as the size and row limits need; then rounded up to a multiple of
    /// <see cref="ShardOptions.Multiple"/>, so ShardedByS3Key gives every instance the same number of shards.
    /// </summary>
    public static int Count(IReadOnlyList<FormattedChunk> chunks, ShardOptions options)
    {
        long count = options.Count;
        if (count <= 0)
        {
            long bytes = chunks.Sum(c => (long)c.Length), records = chunks.Sum(c => (long)c.RecordEnds.Length);
            count = Math.Max(1, (bytes + options.MaxBytes - 1) / options.MaxBytes);
            if (options.MaxRows > 0) count = Math.Max(count, (records + options.MaxRows - 1) / options.MaxRows);
        }
        int m = Math.Max(1, options.Multiple);
        return (int)Math.Min(int.MaxValue, (count + m - 1) / m * m);
    }

    /// <summary>See <see cref="Count"/>: the cuts for <paramref name="count"/> shards.</summary>
    public static List<long> Balanced(IReadOnlyList<FormattedChunk> chunks, int count)
    {
        var cuts = new List<long>();
        long totalBytes = chunks.Sum(c => (long)c.Length);
        long totalRecords = chunks.Sum(c => (long)c.RecordEnds.Length);
        int n = (int)Math.Min(count, totalRecords);
        long record = 0, bytes = 0;
        int next = 1;
        foreach (var c in chunks)
        {
            int prev = 0;
            foreach (int end in c.RecordEnds)
            {
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
        // Exactly n shards even when one huge record comes last.
        for (long r = totalRecords - (n - 1 - cuts.Count); cuts.Count < n - 1; r++) cuts.Add(r);
        return cuts;
    }
}
