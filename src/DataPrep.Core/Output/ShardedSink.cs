using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using DataPrep.Data;
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

    /// <summary>
    /// Formatted chunks a split's writer (and its lineage writer) may have queued: four batches' rows, 64 chunks at
    /// 65,536-row batches. Batches follow the memory budget (<see cref="MemoryOptions.BatchRows"/>), so the queues
    /// do too: a fixed 64 chunks of W1's rows are 120 MB of text, which at <c>--memory 64MB</c> made a spilled split's
    /// emission hold 320 MiB.
    /// </summary>
    private readonly int _queuedChunks;

    /// <summary>The chunks a split's writer may have queued with batches of this many rows (4 to 64).</summary>
    internal static int QueuedChunks(int batchRows) => (int)Math.Clamp(4L * batchRows / ChunkRows, 4, 64);

    private readonly IRecordFormat _format;
    private readonly IOutputStore _store;
    private readonly ShardOptions _shards;
    private readonly bool _gzip;
    private readonly bool _lineage;
    private readonly int _threads;
    private readonly TaskScheduler _formatters;
    private readonly Queue<Task<Pending>> _unformatted = new();
    private readonly bool _hasLabel;
    private readonly RunLayout _layout;
    private readonly Dictionary<string, SplitWriter> _writers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LabelTally> _labels = new(StringComparer.Ordinal);
    private bool _lastLabelIsFloat;
    private RunContext? _context;
    private FormatInfo? _info;
    private byte[]? _header;
    private long _written;

    private sealed record Pending(FormattedChunk Chunk, bool HasGroups, bool HasTimes, LineageRows? Lineage);

    /// <summary>
    /// A chunk's rows for lineage: the lines are formatted in one pass by the lineage writer on a formatting
    /// thread, once the serial shard cuts give the shard and record numbers. Keeps the batch's row info (not its
    /// columns) until then; nothing writes to row info after the sink got the batch.
    /// </summary>
    private sealed record LineageRows(RowInfo Rows, int Start, int Count, ulong[] Hashes);

    /// <summary>Creates the sink.</summary>
    /// <param name="format">The record format.</param>
    /// <param name="store">Where files go.</param>
    /// <param name="options">Shard limits, compression, threads.</param>
    /// <param name="hasLabel">Whether column 0 is the label (for label distributions).</param>
    /// <param name="layout">Paths and the commit step (run.json written last).</param>
    public ShardedSink(IRecordFormat format, IOutputStore store, ConvertOptions options, bool hasLabel, RunLayout layout)
    {
        _format = format;
        _store = store;
        _layout = layout;
        _shards = options.Shards;
        _gzip = options.Gzip;
        _lineage = options.Lineage;
        _threads = options.EffectiveThreads;
        _queuedChunks = QueuedChunks(options.EffectiveBatchRows);
        _formatters = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, _threads).ConcurrentScheduler;
        _hasLabel = hasLabel;
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
            await AppendAsync(batch, start, end - start, RunLayout.ChannelName(tag, fold), cancellationToken).ConfigureAwait(false);
            start = end;
        }
        _written += batch.RowCount;
        _context?.Diagnostics.RecordBatchWritten(batch.RowCount);
        _context?.OnProgress("write", _written, _context.ExpectedRows);
    }

    private async ValueTask AppendAsync(RecordBatch batch, int start, int count, string channel, CancellationToken cancellationToken)
    {
        int chunks = (count + ChunkRows - 1) / ChunkRows;
        if (!_writers.TryGetValue(channel, out var writer)) _writers[channel] = writer = new SplitWriter(this, channel, cancellationToken);
        var tally = Tally(batch, channel);
        // Each chunk is formatted on the thread pool while this thread goes on (the next batch is gathered and
        // encoded meanwhile); the writer awaits the chunks in order, so the bytes do not depend on timing.
        // The writer's bounded queue bounds the chunks in flight.
        for (int k = 0; k < chunks; k++)
        {
            int s = start + k * ChunkRows, n = Math.Min(ChunkRows, start + count - s);
            Task<Pending> task;
            if (_threads == 1)
            {
                task = Task.FromResult(Format(batch, s, n, tally));
            }
            else
            {
                // Unformatted chunks keep their batch alive: at most 4 × threads of them at a time (memory bound);
                // the job lets go of the batch as soon as it starts.
                while (_unformatted.Count >= 4 * _threads) await _unformatted.Dequeue().ConfigureAwait(false);
                task = Task.Factory.StartNew(static o => ((FormatJob)o!).Run(), new FormatJob(this, batch, s, n, tally), cancellationToken, TaskCreationOptions.None, _formatters);
                _unformatted.Enqueue(task);
            }
            await writer.AddAsync(task).ConfigureAwait(false);
        }
    }

    /// <summary>One chunk to format; drops its batch reference when it starts (the task keeps the job as its state).</summary>
    private sealed class FormatJob(ShardedSink sink, RecordBatch batch, int start, int count, LabelTally? tally)
    {
        private RecordBatch? _batch = batch;

        public Pending Run()
        {
            var b = _batch!;
            _batch = null;
            return sink.Format(b, start, count, tally);
        }
    }

    private Pending Format(RecordBatch batch, int start, int count, LabelTally? tally)
    {
        // The label distribution is counted here, per chunk on the formatting threads, not on the serial path.
        tally?.Count(batch.Columns[0], start, count);
        FormattedChunk chunk;
        try
        {
            chunk = _format.Format(batch, start, count);
        }
        catch (DataFormatException e) when (_context?.AtSource(e, batch) is { } located)
        {
            // A format names the batch's row; the user needs the input's.
            throw located;
        }
        var info = batch.Rows;
        return new Pending(chunk, info.GroupKeys is not null, info.Times is not null, _lineage ? new LineageRows(info, start, count, chunk.Hashes) : null);
    }

    /// <summary>The label tally of a channel (null without a label); remembers whether the label is a double column.</summary>
    private LabelTally? Tally(RecordBatch batch, string channel)
    {
        if (!_hasLabel) return null;
        if (!_labels.TryGetValue(channel, out var tally)) _labels[channel] = tally = new LabelTally();
        _lastLabelIsFloat = batch.Columns[0] is Float64Column;
        return tally;
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        var reports = new List<(string Tag, SplitReport Report)>();
        foreach (var (channel, writer) in _writers.OrderBy(w => w.Key, RunLayout.ChannelOrder))
        {
            reports.Add((channel, await writer.CompleteAsync().ConfigureAwait(false)));
        }
        RunTrace.Line("writers done");
        foreach (var (tag, report) in reports)
        {
            report.Format = _info;
            report.LabelDistribution = _labels.GetValueOrDefault(tag)?.Distribution(_lastLabelIsFloat);
            report.LabelSummary = _labels.GetValueOrDefault(tag)?.Summary(_lastLabelIsFloat);
        }
        RunLayout.AddChannels(context.Report, reports);
        await _layout.CommitAsync(context, _shards.Multiple, cancellationToken).ConfigureAwait(false);
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
    /// writes, hashing and compression overlap the CPU work. Each record's shard comes from <see cref="ShardRule"/>;
    /// with a shard count (or instances) the rule needs the split's totals, so the split waits until they are known.
    /// </summary>
    private sealed class SplitWriter
    {
        private readonly ShardedSink _sink;
        private readonly string _name;
        private readonly CancellationToken _cancellationToken;
        private readonly Channel<Task<Pending>> _queue;
        private readonly Task<SplitReport> _task;

        public SplitWriter(ShardedSink sink, string name, CancellationToken cancellationToken)
        {
            _sink = sink;
            _queue = Channel.CreateBounded<Task<Pending>>(new BoundedChannelOptions(sink._queuedChunks) { SingleReader = true, SingleWriter = true });
            _name = name;
            _cancellationToken = cancellationToken;
            _task = Task.Run(RunAsync, cancellationToken);
        }

        public async ValueTask AddAsync(Task<Pending> chunk)
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
                IAsyncEnumerable<Pending> chunks = InOrder(_queue.Reader.ReadAllAsync(_cancellationToken));
                ShardRule rule;
                if (ShardRule.NeedsTotals(opts))
                {
                    var all = new List<Pending>();
                    long records = 0, bytes = 0, largest = 0;
                    await foreach (var c in chunks.ConfigureAwait(false))
                    {
                        all.Add(c);
                        int[] ends = c.Chunk.RecordEnds;
                        records += ends.Length;
                        for (int k = 0, prev = 0; k < ends.Length; prev = ends[k], k++) largest = Math.Max(largest, ends[k] - prev);
                        bytes += ends.Length == 0 ? 0 : ends[^1];
                    }
                    rule = ShardRule.For(opts, _name, records, bytes, largest);
                    chunks = all.ToAsyncEnumerable();
                }
                else
                {
                    rule = ShardRule.For(opts, _name);
                }
                return await WriteAsync(chunks, rule).ConfigureAwait(false);
            }
            catch
            {
                _queue.Writer.TryComplete();
                throw;
            }
        }

        private static async IAsyncEnumerable<Pending> InOrder(IAsyncEnumerable<Task<Pending>> tasks)
        {
            await foreach (var t in tasks.ConfigureAwait(false)) yield return await t.ConfigureAwait(false);
        }

        private async Task<SplitReport> WriteAsync(IAsyncEnumerable<Pending> chunks, ShardRule rule)
        {
            var report = new SplitReport();
            var store = _sink._store;
            var ct = _cancellationToken;
            Stream? lineageStream = _sink._lineage ? await store.CreateAsync(RunLayout.LineagePath(_name), ct).ConfigureAwait(false) : null;
            // Lineage lines are completed (shard and record numbers put in) on the formatting threads, chunk by
            // chunk, and written in order by their own task, so this loop only finds the shard cuts.
            var lineage = lineageStream is null ? null : new LineageWriter(lineageStream, _sink._formatters, _sink._queuedChunks, ct);
            bool header = false;
            int shard = -1;
            // record: the split's records so far; offset: their bytes (where the next record starts in the split).
            long shardRows = 0, record = 0, offset = 0;
            Stream? file = null;
            Sha256WriteStream? hashing = null;
            string? path = null;

            async Task CloseShardAsync()
            {
                if (file is null) return;
                await file.DisposeAsync().ConfigureAwait(false);
                report.Shards.Add(new ShardRecord(path!, shardRows, hashing!.Length, hashing.HashHex()));
                await hashing.DisposeAsync().ConfigureAwait(false);
                file = null;
            }

            try
            {
                await foreach (var p in chunks.ConfigureAwait(false))
                {
                    // The header is known with the first chunk: group and time columns come with group/time splits.
                    if (lineage is not null && !header)
                    {
                        await lineage.AddAsync(Task.FromResult(LineageBuffer.Header(p.HasGroups, p.HasTimes))).ConfigureAwait(false);
                        header = true;
                    }
                    var c = p.Chunk;
                    int firstShard = shard;
                    long firstRecord = shardRows;
                    List<int>? cuts = null;
                    int from = 0, prev = 0, n = c.RecordEnds.Length;
                    // Shard numbers never decrease from record to record: when the chunk's last record is in the current
                    // shard, so is every record of the chunk, and none needs its own look-up.
                    if (n > 0 && file is not null && rule.ShardOf(record + n - 1, offset + (n > 1 ? c.RecordEnds[n - 2] : 0), offset + c.RecordEnds[n - 1]) == shard)
                    {
                        record += n;
                        shardRows += n;
                        offset += c.RecordEnds[n - 1];
                        prev = c.RecordEnds[n - 1];
                        n = 0;
                    }
                    for (int k = 0; k < n; k++, record++)
                    {
                        int size = c.RecordEnds[k] - prev;
                        int target = rule.ShardOf(record, offset, offset + size);
                        if (target != shard)
                        {
                            if (target != shard + 1) throw new InvalidOperationException($"Split '{_name}': the shard rule put record {record} in shard {target} after shard {shard}; it must never skip a number.");
                            if (file is not null)
                            {
                                await file.WriteAsync(c.Data.AsMemory(from, prev - from), ct).ConfigureAwait(false);
                                from = prev;
                            }
                            await CloseShardAsync().ConfigureAwait(false);
                            shard++;
                            shardRows = 0;
                            (cuts ??= []).Add(k);
                            path = RunLayout.ShardPath(_name, shard, _sink._format.Extension, _sink._gzip);
                            hashing = new Sha256WriteStream(await store.CreateAsync(path, ct).ConfigureAwait(false));
                            file = _sink._gzip ? new BlockStream(new GZipStream(hashing, CompressionLevel.Optimal, leaveOpen: true)) : new NonClosingStream(hashing);
                            if (_sink._header is { Length: > 0 } fileHeader) await file.WriteAsync(fileHeader, ct).ConfigureAwait(false);
                        }
                        shardRows++;
                        offset += size;
                        prev = c.RecordEnds[k];
                    }
                    await file!.WriteAsync(c.Data.AsMemory(from, c.Length - from), ct).ConfigureAwait(false);
                    c.Release(); // the stream copied or wrote the bytes
                    report.Rows += c.RecordEnds.Length;
                    if (lineage is not null && p.Lineage is { } lr) await lineage.AddAsync(lr, firstShard, firstRecord, cuts).ConfigureAwait(false);
                }
                await CloseShardAsync().ConfigureAwait(false);
                if (lineage is not null)
                {
                    if (!header) await lineage.AddAsync(Task.FromResult(LineageBuffer.Header(false, false))).ConfigureAwait(false);
                    await lineage.CompleteAsync().ConfigureAwait(false);
                    await lineageStream!.DisposeAsync().ConfigureAwait(false);
                    report.Lineage = RunLayout.LineagePath(_name);
                }
                return report;
            }
            finally
            {
                if (lineage is not null) await lineage.StopAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Completes lineage lines of chunks on the formatting threads and writes them in order on its own task.</summary>
    private sealed class LineageWriter
    {
        private readonly Channel<Task<LineageBuffer>> _queue;
        private readonly TaskScheduler _scheduler;
        private readonly CancellationToken _cancellationToken;
        private readonly Task _task;

        public LineageWriter(Stream stream, TaskScheduler scheduler, int capacity, CancellationToken cancellationToken)
        {
            _queue = Channel.CreateBounded<Task<LineageBuffer>>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
            _scheduler = scheduler;
            _cancellationToken = cancellationToken;
            _task = Task.Run(async () =>
            {
                try
                {
                    await foreach (var t in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var buffer = await t.ConfigureAwait(false);
                        await stream.WriteAsync(buffer.Memory, cancellationToken).ConfigureAwait(false);
                        buffer.Release(); // the stream copied or wrote the bytes
                    }
                }
                catch (Exception e)
                {
                    _queue.Writer.TryComplete(e);
                    throw;
                }
            }, cancellationToken);
        }

        /// <summary>Queues a chunk's lines: its first row is record <paramref name="firstRecord"/> of shard <paramref name="firstShard"/>; a new shard starts at each row index in <paramref name="cuts"/>.</summary>
        public ValueTask AddAsync(LineageRows rows, int firstShard, long firstRecord, List<int>? cuts)
            => AddAsync(Task.Factory.StartNew(() => Assemble(rows, firstShard, firstRecord, cuts), _cancellationToken, TaskCreationOptions.None, _scheduler));

        public async ValueTask AddAsync(Task<LineageBuffer> lines)
        {
            try
            {
                await _queue.Writer.WriteAsync(lines, _cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                await _task.ConfigureAwait(false); // surfaces the write failure
                throw;
            }
        }

        public async Task CompleteAsync()
        {
            _queue.Writer.TryComplete();
            await _task.ConfigureAwait(false);
        }

        public async Task StopAsync()
        {
            _queue.Writer.TryComplete();
            try { await _task.ConfigureAwait(false); }
            catch (Exception) { /* reported by CompleteAsync, or the run is failing already */ }
        }

        /// <summary>
        /// The chunk's lines "row_id,source,source_row,shard,record,content_hash[,group][,time]\n", written in
        /// one pass with the hand-written formatters (room reserved once per row).
        /// </summary>
        private static LineageBuffer Assemble(LineageRows rows, int firstShard, long firstRecord, List<int>? cuts)
        {
            // Row with the longest numbers: 5 integers, 16 hex digits, 7 separators, a time, a newline.
            const int MaxRow = 5 * AsciiDigits.MaxInt64Length + 16 + 7 + TimeTextWriter.MaxLength + 1;
            int count = rows.Count, start = rows.Start;
            var info = rows.Rows;
            long[] ids = info.RowIds, sourceRows = info.SourceRows;
            int[] sources = info.Sources;
            var times = info.Times;
            var groups = info.GroupKeys;
            var buffer = LineageBuffer.Rent((int)Math.Min(1 << 28, (long)count * EstimatedRowLength(rows, firstShard + (cuts?.Count ?? 0), firstRecord + count) + MaxRow));
            var timeText = times is null ? null : buffer.Times;
            var hashes = rows.Hashes;
            long shard = firstShard, recordBase = firstRecord;
            int baseRow = 0, nextCut = 0;
            // Row ids (in order, they count up) and record numbers (they count up within a shard) are kept as text and
            // incremented, instead of being formatted anew on each line.
            var id = new DecimalCounter();
            var record = new DecimalCounter();
            for (int k = 0; k < count; k++)
            {
                while (cuts is not null && nextCut < cuts.Count && cuts[nextCut] == k) { shard++; recordBase = 0; baseRow = k; nextCut++; }
                int r = start + k;
                var span = buffer.Reserve(MaxRow);
                long rowId = ids[r];
                int idLength = id.Write(span, 0, rowId);
                int p = idLength;
                span[p++] = (byte)',';
                p = AsciiDigits.WriteInt64(span, p, sources[r]);
                span[p++] = (byte)',';
                if (sourceRows[r] == rowId)
                {
                    // One input file: the source row is the row id, whose text is already written.
                    p = id.Repeat(span, p);
                }
                else
                {
                    p = AsciiDigits.WriteInt64(span, p, sourceRows[r]);
                }
                span[p++] = (byte)',';
                p = AsciiDigits.WriteInt64(span, p, shard);
                span[p++] = (byte)',';
                p = record.Write(span, p, recordBase + (k - baseRow));
                span[p++] = (byte)',';
                p = AsciiDigits.WriteHex16(span, p, hashes[k]);
                if (groups is not null)
                {
                    span[p++] = (byte)',';
                    buffer.Advance(p);
                    buffer.AppendField(groups[r]);
                    span = buffer.Reserve(MaxRow);
                    p = 0;
                }
                if (times is not null)
                {
                    span[p++] = (byte)',';
                    long t = times[r];
                    if (t != long.MinValue) p = timeText!.Write(span, p, t);
                }
                span[p++] = (byte)'\n';
                buffer.Advance(p);
            }
            return buffer;
        }

        /// <summary>A close upper guess of a line's length, from the chunk's last row (ids grow), so the buffer is rarely resized.</summary>
        private static int EstimatedRowLength(LineageRows rows, long lastShard, long lastRecord)
        {
            if (rows.Count == 0) return 0;
            var info = rows.Rows;
            int last = rows.Start + rows.Count - 1;
            int length = Digits(info.RowIds[last]) + Digits(info.Sources[last]) + Digits(info.SourceRows[last]) + Digits(lastShard) + Digits(lastRecord) + 16 + 6;
            if (info.Times is not null) length += 1 + TimeTextWriter.MaxLength;
            if (info.GroupKeys is not null) length += 1 + (info.GroupKeys[last]?.Length ?? 0);
            return length;

            static int Digits(long value) => value < 0 ? AsciiDigits.MaxInt64Length : AsciiDigits.CountDigits((ulong)value);
        }
    }

    /// <summary>
    /// Hands the compressor whole 64 KiB blocks (and the rest at the end), whatever the sizes of the writes:
    /// the deflate output depends on how its input is split into calls, and the chunks follow batch boundaries,
    /// so without this the .gz bytes would depend on the batch size.
    /// </summary>
    internal sealed class BlockStream(Stream inner) : WriteOnlyForwardStream
    {
        private readonly byte[] _block = new byte[1 << 16];
        private int _used;

        public override void Flush() { }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, _block.Length - _used);
                buffer[..n].CopyTo(_block.AsSpan(_used));
                _used += n;
                buffer = buffer[n..];
                if (_used == _block.Length)
                {
                    inner.Write(_block);
                    _used = 0;
                }
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, _block.Length - _used);
                buffer.Span[..n].CopyTo(_block.AsSpan(_used));
                _used += n;
                buffer = buffer[n..];
                if (_used == _block.Length)
                {
                    await inner.WriteAsync(_block, cancellationToken).ConfigureAwait(false);
                    _used = 0;
                }
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (_used > 0) inner.Write(_block.AsSpan(0, _used));
                _used = 0;
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (_used > 0) await inner.WriteAsync(_block.AsMemory(0, _used)).ConfigureAwait(false);
            _used = 0;
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Lets the shard be closed without closing the hashing stream before its hash is read.</summary>
    internal sealed class NonClosingStream(Stream inner) : WriteOnlyForwardStream
    {
        public override void Flush() => inner.Flush();
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    }
}
