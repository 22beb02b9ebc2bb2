using System.Runtime.InteropServices;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// The out-of-core path of <see cref="SplitStage"/> (DESIGN.md §2). Pass 1 appends every batch to one spill
/// file and keeps in memory only row ids and the assigner's key columns (time column, group keys, labels).
/// The assigner then decides tags and order from those alone. Pass 2 reads the spill file once and
/// partitions rows into buckets by output position (channel, rank ÷ rows per bucket) — with a shuffle the
/// rank is the position in hash order, so these are the hash-order buckets of the design; pass 3 loads one
/// bucket at a time, places each row at its rank and emits batches with the in-memory path's boundaries
/// (buckets hold a whole number of output batches), so the bytes out are identical.
/// </summary>
internal sealed class SplitSpill : IDisposable
{
    private readonly SplitStage _stage;
    private readonly SpillFolder _folder;
    private readonly Schema _schema;
    private readonly int[] _keys;
    private readonly int _batchRows;
    private readonly long _budget;
    private readonly BatchSpillWriter _writer;
    private readonly List<long[]> _rowIds = [];
    private int _count;
    private readonly Dictionary<int, List<Column>> _keyColumns = [];
    // Rows whose id does not encode (source, row) — ids from a key column — keep their origin explicitly.
    private readonly List<(int Start, int[] Sources, long[] Rows)> _origins = [];

    /// <summary>Bounds the heap while this spill runs.</summary>
    public MemoryGovernor Governor { get; }

    public SplitSpill(SplitStage stage, SpillFolder folder, Schema schema, IReadOnlyCollection<int> keys, int batchRows, long budget)
    {
        _stage = stage;
        _folder = folder;
        _schema = schema;
        _keys = keys.Distinct().ToArray();
        _batchRows = batchRows;
        _budget = budget;
        Governor = new MemoryGovernor(budget);
        foreach (int k in _keys) _keyColumns[k] = [];
        _writer = new BatchSpillWriter(folder.NewFile("input.spill"));
    }

    public void Add(RecordBatch batch)
    {
        int n = batch.RowCount;
        var rows = batch.Rows;
        bool encoded = true;
        for (int i = 0; i < n && encoded; i++) encoded = rows.RowIds[i] == RowInfo.MakeRowId(rows.Sources[i], rows.SourceRows[i]);
        if (!encoded) _origins.Add((_count, rows.Sources.AsSpan(0, n).ToArray(), rows.SourceRows.AsSpan(0, n).ToArray()));
        _rowIds.Add(rows.RowIds.AsSpan(0, n).ToArray());
        _count += n;
        foreach (int k in _keys) _keyColumns[k].Add(batch.Columns[k]);
        _writer.Write(batch);
    }

    private long[]? _ids;

    private (int, long) Origin(int position)
    {
        foreach (var (start, sources, rows) in _origins)
        {
            if (position >= start && position < start + sources.Length) return (sources[position - start], rows[position - start]);
        }
        long id = _ids![position];
        return ((int)(id >> 40), id & ((1L << 40) - 1));
    }

    public IEnumerable<RecordBatch> Emit(ISplitAssigner assigner, ulong seed, bool shuffle, RunContext context, CancellationToken cancellationToken)
    {
        _writer.Dispose();
        Governor.Release();
        TraceMemory("pass 1 done");
        long spillBytes = new FileInfo(_writer.Path).Length;
        // Row ids in one array (8 bytes a row): the only per-row data besides key columns held through pass 1.
        var ids = _ids = new long[_count];
        for (int b = 0, at = 0; b < _rowIds.Count; at += _rowIds[b].Length, b++) _rowIds[b].CopyTo(ids, at);
        _rowIds.Clear();
        int count = ids.Length;
        context.OnProgress("split", 0, count);
        SplitInput? input = new SplitInput(_schema, ids, k => _keyColumns.TryGetValue(k, out var parts)
            ? Column.Concat(parts)
            : throw new InvalidOperationException($"The assigner read column {k}, which it did not declare in KeyColumns."), Origin);
        SplitAssignment? assignment = assigner.Assign(input, context);
        input = null;
        _keyColumns.Clear();
        var tags = assignment.Tags;
        var folds = assignment.Folds;
        var order = assignment.Order;
        assignment = null;
        context.ExpectedRows = tags.LongCount(t => t != SplitTag.None);
        Governor.Release();
        TraceMemory("assigned");
        order ??= shuffle ? RandomSplitter.HashOrder(ids, new KeyedHash(seed, "shuffle")) : null;
        TraceMemory("ordered");

        // Rank of each row within its channel (−1: dropped), in output order.
        var channels = SplitStage.Channels(tags, folds);
        var channelOf = new Dictionary<(SplitTag, short), int>();
        for (int c = 0; c < channels.Count; c++) channelOf[channels[c]] = c;
        var channel = new short[count];
        var rank = new int[count];
        var sizes = new int[channels.Count];
        for (int k = 0; k < count; k++)
        {
            int p = order is null ? k : order[k];
            if (tags[p] == SplitTag.None || !channelOf.TryGetValue((tags[p], folds?[p] ?? (short)-1), out int c)) { rank[p] = -1; channel[p] = -1; continue; }
            channel[p] = (short)c;
            rank[p] = sizes[c]++;
        }
        // Iterator locals live as long as the iterator: drop what pass 2 does not need.
        order = null;
        ids = null;
        _ids = null;
        Governor.Release();

        // Buckets of a whole number of output batches, each about an eighth of the budget.
        long rowBytes = Math.Max(1, spillBytes / Math.Max(1, count));
        long perBucket = Math.Max(1, Math.Max(64L << 10, _budget / 8) / (rowBytes * _batchRows)) * _batchRows;
        int rowsPerBucket = (int)Math.Min(int.MaxValue / 2, perBucket);
        var first = new int[channels.Count + 1];
        for (int c = 0; c < channels.Count; c++) first[c + 1] = first[c] + (int)((sizes[c] + (long)rowsPerBucket - 1) / rowsPerBucket);
        var buckets = new BatchSpillWriter?[first[^1]];
        if (RunTrace.On)
        {
            Console.Error.WriteLine($"trace: split spilled {count:N0} rows, {spillBytes >> 20} MiB; {first[^1]} buckets of up to {rowsPerBucket:N0} rows");
        }
        var paths = new string?[buckets.Length];
        try
        {
            Partition(channel, rank, first, rowsPerBucket, buckets, paths, cancellationToken);
        }
        finally
        {
            foreach (var w in buckets) w?.Dispose();
            File.Delete(_writer.Path);
        }
        channel = null!;
        rank = null!;
        Governor.Release();
        TraceMemory("partitioned");

        long emitted = 0;
        for (int c = 0; c < channels.Count; c++)
        {
            var (split, fold) = channels[c];
            for (int k = first[c]; k < first[c + 1]; k++)
            {
                int bucketStart = (k - first[c]) * rowsPerBucket;
                int n = Math.Min(rowsPerBucket, sizes[c] - bucketStart);
                var parts = new List<RecordBatch>();
                var part = new int[n];
                var row = new int[n];
                using (var reader = new BatchSpillReader(paths[k]!, _schema))
                {
                    while (!reader.AtEnd)
                    {
                        var ranks = reader.ReadInts();
                        var b = reader.Read();
                        for (int i = 0; i < ranks.Length; i++) { part[ranks[i] - bucketStart] = parts.Count; row[ranks[i] - bucketStart] = i; }
                        parts.Add(b);
                    }
                }
                File.Delete(paths[k]!);
                for (int start = 0; start < n; start += _batchRows)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Governor.Check();
                    int m = Math.Min(_batchRows, n - start);
                    var p = part.AsSpan(start, m).ToArray();
                    var r = row.AsSpan(start, m).ToArray();
                    var gathered = RecordBatch.Gather(parts, p, r, split);
                    if (folds is not null) gathered = gathered.WithRows(gathered.Rows with { Folds = Enumerable.Repeat(fold, m).ToArray() });
                    if (_stage.HasLineage)
                    {
                        bool hasGroups = parts[0].Rows.GroupKeys is not null, hasTimes = parts[0].Rows.Times is not null;
                        string?[]? g = hasGroups ? new string?[m] : null;
                        long[]? t = hasTimes ? new long[m] : null;
                        for (int i = 0; i < m; i++)
                        {
                            if (g is not null) g[i] = parts[p[i]].Rows.GroupKeys![r[i]];
                            if (t is not null) t[i] = parts[p[i]].Rows.Times![r[i]];
                        }
                        gathered = gathered.WithRows(gathered.Rows with { GroupKeys = g, Times = t });
                    }
                    emitted += m;
                    yield return gathered;
                }
            }
        }
        TraceMemory("emitted");
        context.OnProgress("split", count, count);
    }

    /// <summary>Pass 2: one read of the spill file, each row appended to its bucket with its rank.</summary>
    private void Partition(short[] channel, int[] rank, int[] first, int rowsPerBucket, BatchSpillWriter?[] buckets, string?[] paths, CancellationToken cancellationToken)
    {
        using var reader = new BatchSpillReader(_writer.Path, _schema);
        int at = 0;
        while (!reader.AtEnd)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Governor.Check();
            var batch = reader.Read();
            int n = batch.RowCount;
            if (_stage.HasLineage)
            {
                var (g, t) = _stage.LineageValues(i => batch.Columns[i], n);
                batch = batch.WithRows(batch.Rows with { GroupKeys = g, Times = t });
            }
            // Counting sort of the batch's rows by bucket, keeping input order inside a bucket.
            var bucketOf = new int[n];
            var counts = new Dictionary<int, int>();
            for (int i = 0; i < n; i++)
            {
                int c = channel[at + i];
                int b = c < 0 ? -1 : first[c] + rank[at + i] / rowsPerBucket;
                bucketOf[i] = b;
                if (b >= 0) counts[b] = counts.GetValueOrDefault(b) + 1;
            }
            var rows = counts.ToDictionary(kv => kv.Key, kv => new List<int>(kv.Value));
            for (int i = 0; i < n; i++) if (bucketOf[i] >= 0) rows[bucketOf[i]].Add(i);
            foreach (var (b, list) in rows.OrderBy(kv => kv.Key))
            {
                var picked = CollectionsMarshal.AsSpan(list);
                var ranks = new int[picked.Length];
                for (int i = 0; i < ranks.Length; i++) ranks[i] = rank[at + picked[i]];
                var writer = buckets[b] ??= new BatchSpillWriter(paths[b] = _folder.NewFile($"bucket-{b:D5}.spill"));
                writer.WriteInts(ranks);
                writer.Write(batch.Take(picked));
            }
            at += n;
        }
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>DATAPREP_TRACE=1: managed heap and the process's peak RSS (VmHWM) at a phase boundary.</summary>
    private static void TraceMemory(string phase)
    {
        if (!RunTrace.On) return;
        string hwm = "?";
        try { hwm = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?[6..].Trim() ?? "?"; }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        Console.Error.WriteLine($"trace: split {phase}: managed heap {GC.GetTotalMemory(false) >> 20} MiB, peak RSS {hwm}");
    }
}
