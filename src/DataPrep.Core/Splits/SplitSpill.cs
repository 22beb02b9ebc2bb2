using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// The out-of-core path of <see cref="SplitStage"/> (DESIGN.md §2). Pass 1 appends every batch to spill files and
/// keeps in memory only row ids, each row's file and the assigner's key columns (time column, group keys, labels).
/// The assigner then decides tags and order from those alone. Pass 3 loads one piece at a time — the rows of one
/// channel in one file — places each row at its rank and emits batches with the in-memory path's boundaries (a
/// batch may span pieces), so the bytes out are identical.
/// </summary>
/// <remarks>
/// A piece can be loaded on its own when its rows hold consecutive ranks of its channel. Pass 1 writes the files so
/// that they usually do: with a shuffle, file <c>h</c> takes the rows whose shuffle hash falls in the h-th of
/// <see cref="HashFiles"/> equal ranges (output order is hash order, so each file holds one run of ranks of each
/// channel); without one, files follow each other in input order, each closed at half a bucket. Otherwise (an
/// assigner's own order, such as time order of unsorted input) pass 2 reads the files once and partitions the rows into
/// buckets by output position (channel, rank ÷ rows per bucket), each a piece. Writing is what spilling costs most
/// (the page cache fills and the kernel reclaims on every write), so the common case writes the data once, and reads
/// each file once per channel instead.
/// <para>Most splits keep nothing per row at all (<see cref="EmitBounded"/>): row-local and row-id assigners, whose tags
/// wait beside each file, and time splits (<see cref="IRowTimeAssigner"/>), whose times wait there and whose rows are
/// put in buckets of (time, row id) order when pass 1's files do not already follow one another in time
/// (<see cref="ByTime"/>), time folds, whose ticks and fold times wait there, and group splits and noisy/clean splits by
/// group (<see cref="IRowGroupAssigner"/>), whose unit numbers wait there while a <see cref="GroupTable"/> counts the
/// groups. The whole-run arrays above remain for the others (noisy/clean splits without groups in one process, group
/// folds, folds after a group test split).</para>
/// </remarks>
internal sealed class SplitSpill : IDisposable
{
    /// <summary>Pass 1's files with a shuffle: ranges of the shuffle hash (the top bits pick the file).</summary>
    internal const int HashFiles = 1 << HashBits;

    private const int HashBits = 7;

    private readonly SplitStage _stage;
    private readonly SpillFolder _folder;
    private readonly Schema _schema;
    private readonly int[] _keys;
    private readonly int _batchRows;
    private readonly long _budget;
    private readonly KeyedHash? _shuffle;
    // By column, the Float64 columns spilled as float32 (null: none); see SpillNarrowing for which.
    private readonly bool[]? _float32;
    // By column, the columns not spilled at all, because nothing after the split reads them (null: none; SpillNarrowing).
    private readonly bool[]? _unread;
    // A text spill (SpillNarrowing.TextColumns): by column, the columns the rows' text carries (null: no text spill), the
    // writer's records of rows without text, and the text's field names (one array: RawRecords.Gather compares them).
    private readonly bool[]? _text;
    private readonly RowRecords? _records;
    private readonly string[]? _textNames;
    // By column, the columns a spill file does not hold values of: unread or carried by the text (null: none).
    private readonly bool[]? _skipped;
    // Pass 1's files: by hash range with a shuffle (null: no row fell in the range), else in input order.
    private readonly List<BatchSpillWriter?> _files = [];
    private readonly List<ushort[]> _fileOf = [];
    private readonly List<long[]> _rowIds = [];
    private int _count;
    private readonly Dictionary<int, List<Column>> _keyColumns = [];
    // Rows whose id does not encode (source, row) — ids from a key column — keep their origin explicitly.
    private readonly List<(int Start, int[] Sources, long[] Rows)> _origins = [];

    /// <summary>Bounds the heap while this spill runs.</summary>
    public MemoryGovernor Governor { get; }

    // A row-local assigner tags each batch as it is spilled: its tags (and folds) are kept instead of key columns.
    private readonly (IRowLocalAssigner Assigner, RunContext Context)? _local;

    // With tags from each row (row-local) or from row ids (a random split's cuts), nothing is kept per row: each file's
    // row ids (and tags) go to a file beside it, and pass 3 ranks one file at a time (EmitBounded).
    private readonly bool _bounded;
    private readonly IRowIdAssigner? _byId;
    private readonly List<SpillRowIdsWriter?> _rowIdFiles = [];
    // Whether the row-local assigner gave folds (null: no batch yet); the same for every batch.
    private bool? _localFolds;
    // A split from row ids and classes (stratified, or noisy/clean sides): whether rows have classes, each class's number
    // (first seen, first numbered) and rows; the first row whose class was refused is refused once every row is read.
    private readonly bool _withClasses;
    private readonly Dictionary<string, int> _classOf = new(StringComparer.Ordinal);
    private readonly List<long> _classRows = [];
    // A time split or time folds: each row's times wait beside its id (ticks, fold times or both: _timeParts); the cutter
    // notes refused times, then cuts over the files.
    private readonly (IRowTimeAssigner Assigner, ITimeCutter Cutter)? _time;
    private readonly int _timeColumn = -1;
    private readonly RowIdParts _timeParts;
    private readonly bool _inTimeOrder;
    private readonly long[] _timeHistogram = [];
    private TimeTagger? _timeTagger;
    private long[] _batchTimes = [];
    private long[] _batchFoldTimes = [];
    // A group split (or noisy/clean by group): each row's unit number waits beside its id (as a class number) while the
    // table counts the groups; the first row refused (a missing key) is refused once every row is read.
    private readonly IRowGroupAssigner? _group;
    private GroupTable? _groupTable;
    // The first row refused by the class keys or the group count (a missing key), raised once every row has been read.
    private (int Source, long Row)? _refused;
    // A batch's class or group keys (KeysOf), reused from batch to batch.
    private string[] _batchKeys = [];
    private int[] _batchGroups = [];
    // Past the assigner's RangeGroups groups (a group split or group folds cut by hash ranges): the table's groups and every
    // later row's key go as runs to a file, each later row's key hashes wait beside its id, and the groups counted before
    // keep their hashes by unit number (at most RangeGroups + a batch of them).
    private readonly int _rangeGroups = int.MaxValue;
    private readonly KeyedHash? _rangeSplit, _rangeFold;
    private GroupRunsFile? _runs;
    private ulong[] _unitKeyHashes = [], _unitFoldKeyHashes = [];
    private byte[] _keyBytes = new byte[256];
    // Unshuffled time split: whether pass 1's files follow one another in (time, row id) order, so each is one range of
    // the output order (time-ordered input), from the latest row of the closed files and of the open one.
    private bool _timeFollows = true;
    // The earliest and latest valid time, which scale the bucket search's keys to the run's range of times.
    private long _timeMin = long.MaxValue, _timeMax = long.MinValue;
    private (long Ticks, long Id) _closedMax = (long.MinValue, long.MinValue), _openMax = (long.MinValue, long.MinValue);

    public SplitSpill(SplitStage stage, SpillFolder folder, Schema schema, IReadOnlyCollection<int> keys, int batchRows, long budget, ulong seed, bool shuffle, bool[]? float32Columns = null,
        (IRowLocalAssigner, RunContext)? local = null, IRowIdAssigner? byId = null, (IRowTimeAssigner, ITimeCutter)? time = null, IRowGroupAssigner? group = null,
        bool[]? unreadColumns = null, (bool[] Columns, RowRecords Records)? text = null)
    {
        // Key and lineage columns are read from each batch before it is written (kept in memory, or their classes, times
        // and units beside the row ids), so a column nothing after the split reads need not be written even when they are.
        _unread = unreadColumns is not null && unreadColumns.Length == schema.Count && unreadColumns.Any(x => x) ? unreadColumns : null;
        _local = local;
        _byId = local is null && byId is { TagsFromRowIds: true } ? byId : null;
        _time = local is null && _byId is null && time is { Item1.TagsFromTimes: true } ? time : null;
        if (_time is { } timed)
        {
            _timeColumn = timed.Assigner.TimeIndex;
            _timeParts = timed.Assigner.TimeParts & (RowIdParts.Times | RowIdParts.FoldTimes);
            if (_timeParts == RowIdParts.None) throw new InvalidOperationException($"{timed.Assigner.Describe()}: a time assigner's tags follow from ticks, fold times or both.");
            _inTimeOrder = timed.Assigner.InTimeOrder;
            if (_inTimeOrder && !_timeParts.HasFlag(RowIdParts.Times)) throw new InvalidOperationException($"{timed.Assigner.Describe()}: time order needs each row's ticks.");
            _timeHistogram = new long[RandomSplitCuts.Bins];
        }
        _group = local is null && _byId is null && _time is null && group is { TagsFromGroups: true } ? group : null;
        if (_group is not null)
        {
            _groupTable = _group.NewTable();
            _rangeGroups = _group.RangeGroups;
            (_rangeSplit, _rangeFold) = _group.RangeHashes;
        }
        _bounded = local is not null || _byId is not null || _time is not null || _group is not null;
        if (_bounded && shuffle) _rowIdFiles.AddRange(new SpillRowIdsWriter?[HashFiles]);
        _withClasses = _byId is { HasClasses: true };
        _float32 = float32Columns is not null && float32Columns.Length == schema.Count && float32Columns.Any(x => x) ? float32Columns : null;
        if (text is var (textColumns, records) && textColumns.Length == schema.Count && textColumns.Any(x => x) && _float32 is null)
        {
            _text = textColumns;
            _records = records;
            _textNames = schema.Fields.Select(f => f.Name).ToArray();
        }
        _skipped = _text is null ? _unread : _text.Select((t, c) => t || (_unread is not null && _unread[c])).ToArray();
        _stage = stage;
        _folder = folder;
        _schema = schema;
        _keys = keys.Distinct().ToArray();
        _batchRows = batchRows;
        _budget = budget;
        _shuffle = shuffle ? new KeyedHash(seed, "shuffle") : null;
        Governor = new MemoryGovernor(budget);
        foreach (int k in _keys) _keyColumns[k] = [];
        if (shuffle) _files.AddRange(new BatchSpillWriter?[HashFiles]);
    }

    /// <summary>A spill file of this split, written with its narrowed and left-out columns (<c>SpillNarrowing</c>).</summary>
    private BatchSpillWriter NewWriter(string path) => new(path, _float32, _unread, _text);

    /// <summary>A reader of a spill file <see cref="NewWriter"/> wrote.</summary>
    private BatchSpillReader NewReader(string path) => new(path, _schema, _float32, _unread, _text, _textNames);

    /// <summary>Whether this spill writes the rows' text in place of the columns it carries (<c>SpillNarrowing.TextColumns</c>).</summary>
    public bool SpillsText => _text is not null;

    /// <summary>
    /// The batch with every row's text, for a text spill (or a scaled-out scan task's rows objects): a row the source kept
    /// no text for (or every row of a source that keeps none) gets the writer's record for it from <paramref name="records"/>,
    /// which is what the writer would write at the end (the columns reach it unchanged: <c>SpillNarrowing.TextColumns</c>),
    /// so the text columns need not be written at all. The text's field names are <paramref name="names"/>.
    /// </summary>
    internal static RecordBatch WithEveryRowText(RecordBatch batch, RowRecords records, string[] names)
    {
        int n = batch.RowCount;
        var kept = batch.Raw is { } raw && raw.Matches(batch.Schema) && raw.Records.Length >= n ? raw.Records : null;
        List<int>? missing = null;
        for (int i = 0; i < n; i++) if (kept is null || kept[i].IsEmpty) (missing ??= []).Add(i);
        if (missing is null) return batch;
        var texts = new ReadOnlyMemory<byte>[n];
        if (kept is not null) Array.Copy(kept, texts, n);
        var rows = missing.ToArray();
        var formatted = records(batch.Take(rows));
        for (int k = 0; k < rows.Length; k++)
        {
            // Every spilled row has text: an empty record would read as "format me" from placeholder columns.
            if (formatted[k].IsEmpty) throw new InvalidOperationException("A text spill's writer gave an empty record.");
            texts[rows[k]] = formatted[k];
        }
        return new RecordBatch(batch.Schema, batch.Columns, n, batch.Rows) { Raw = new RawRecords(names, texts) };
    }

    /// <summary>The bytes of rows pass 3 loads at once: about an eighth of the budget.</summary>
    private long BucketBytes => Math.Max(64L << 10, _budget / 8);

    /// <summary>The rows of a file that ranking by (time, row id) holds at once (<see cref="TimeRankBytesPerRow"/> each).</summary>
    private long MaxTimeRankRows => Math.Max(1, BucketBytes / TimeRankBytesPerRow);

    public void Add(RecordBatch batch)
    {
        if (_text is not null) batch = WithEveryRowText(batch, _records!, _textNames!);
        int n = batch.RowCount;
        var rows = batch.Rows;
        var beside = default(RowIdColumns);
        if (!_bounded)
        {
            bool encoded = true;
            for (int i = 0; i < n && encoded; i++) encoded = rows.RowIds[i] == RowInfo.MakeRowId(rows.Sources[i], rows.SourceRows[i]);
            if (!encoded) _origins.Add((_count, rows.Sources.AsSpan(0, n).ToArray(), rows.SourceRows.AsSpan(0, n).ToArray()));
            _rowIds.Add(rows.RowIds.AsSpan(0, n).ToArray());
        }
        if (_local is var (assigner, context))
        {
            beside = LocalTags(assigner, context, batch, n, rows);
        }
        else if (_bounded)
        {
            // Only the class numbers (a stratified split's, noisy/clean sides): the key column is not kept.
            if (_withClasses) beside = beside with { Classes = ClassesOf(batch, n, rows) };
            // A group split's unit numbers; past RangeGroups groups, the key hashes.
            if (_group is not null) beside = _runs is null ? beside with { Classes = UnitsOf(batch, n, rows) } : KeyHashesOf(batch, n, rows);
            // A time split's times, time folds' fold times.
            if (_time is not null)
            {
                var (times, foldTimes) = TimesOf(batch.Columns[_timeColumn], n, rows);
                beside = beside with { Times = times, FoldTimes = foldTimes };
            }
        }
        else
        {
            foreach (int k in _keys) _keyColumns[k].Add(batch.Columns[k]);
        }
        if (_stage.HasLineage)
        {
            var (g, t) = _stage.LineageValues(i => batch.Columns[i], n);
            batch = batch.WithRows(batch.Rows with { GroupKeys = g, Times = t });
        }
        var fileOf = new ushort[n];
        if (_shuffle is { } hash)
        {
            // A counting sort of the rows by file, keeping input order inside a file.
            var counts = new int[HashFiles + 1];
            for (int i = 0; i < n; i++) counts[(fileOf[i] = (ushort)(hash.Hash(rows.RowIds[i]) >> (64 - HashBits))) + 1]++;
            for (int f = 0; f < HashFiles; f++) counts[f + 1] += counts[f];
            var grouped = new int[n];
            var next = counts.AsSpan(0, HashFiles).ToArray();
            for (int i = 0; i < n; i++) grouped[next[fileOf[i]]++] = i;
            var parts = new List<(BatchSpillWriter, int[], int[])>();
            for (int f = 0; f < HashFiles; f++)
            {
                if (counts[f] == counts[f + 1]) continue;
                var picked = grouped.AsSpan(counts[f], counts[f + 1] - counts[f]).ToArray();
                var positions = new int[picked.Length];
                for (int i = 0; i < picked.Length; i++) positions[i] = _count + picked[i];
                parts.Add((_files[f] ??= NewWriter(_folder.NewFile($"input-{f:D3}.spill")), positions, picked));
                if (_bounded) WriteRowIds(_rowIdFiles[f] ??= new SpillRowIdsWriter(_folder.NewFile($"input-{f:D3}.ids")), rows.RowIds, beside, picked);
            }
            BatchSpillWriter.WriteSpread(batch, parts);
        }
        else
        {
            // (Without per-row file numbers, the bounded path has no limit on the files.)
            // A time-ordered split's file is one piece when the files follow one another in time: closed at a piece's bytes,
            // or half the rows a rank of time order holds.
            if (_files.Count == 0 || (_files[^1]!.Length >= BucketBytes / 2 && (_bounded || _files.Count < ushort.MaxValue))
                || (_inTimeOrder && (_files[^1]!.Length >= PieceBytes || _rowIdFiles[^1]!.Rows >= MaxTimeRankRows / 2)))
            {
                _files.Add(NewWriter(_folder.NewFile($"input-{_files.Count:D5}.spill")));
                if (_bounded) _rowIdFiles.Add(new SpillRowIdsWriter(_folder.NewFile($"input-{_files.Count - 1:D5}.ids")));
                if (_openMax.CompareTo(_closedMax) > 0) _closedMax = _openMax;
            }
            if (_inTimeOrder)
            {
                var ids = rows.RowIds;
                for (int i = 0; i < n && _timeFollows; i++)
                {
                    var row = (beside.Times![i], ids[i]);
                    _timeFollows = row.CompareTo(_closedMax) > 0;
                    if (row.CompareTo(_openMax) > 0) _openMax = row;
                }
            }
            if (!_bounded) fileOf.AsSpan().Fill((ushort)(_files.Count - 1));
            var positions = new int[n];
            for (int i = 0; i < n; i++) positions[i] = _count + i;
            _files[^1]!.WriteInts(positions);
            _files[^1]!.Write(batch);
            if (_bounded)
            {
                var all = new int[n];
                for (int i = 0; i < n; i++) all[i] = i;
                WriteRowIds(_rowIdFiles[^1]!, rows.RowIds, beside, all);
            }
        }
        if (!_bounded) _fileOf.Add(fileOf);
        _count += n;
    }

    /// <summary>
    /// Each row's class number (its <see cref="IRowIdAssigner.ClassKeys"/> key, numbered as first seen), counting each
    /// class's rows; after the first row refused, whose origin is kept for the error, nothing is counted (the run stops
    /// once every row is read).
    /// </summary>
    private int[] ClassesOf(RecordBatch batch, int n, RowInfo rows)
    {
        var classes = new int[n];
        if (KeysOf(_byId!.ClassKeys, batch, n, rows) is not { } keys) return classes;
        for (int i = 0; i < n; i++)
        {
            var key = keys[i];
            if (!_classOf.TryGetValue(key, out int c))
            {
                _classOf[key] = c = _classRows.Count;
                _classRows.Add(0);
            }
            classes[i] = c;
            _classRows[c]++;
        }
        return classes;
    }

    /// <summary>
    /// A batch's tags (and folds) from the row-local assigner; after the first row it refuses, whose origin is kept for the
    /// error (the run stops once every row is read), no batch is tagged.
    /// </summary>
    private RowIdColumns LocalTags(IRowLocalAssigner assigner, RunContext context, RecordBatch batch, int n, RowInfo rows)
    {
        if (_refused is null && assigner.FirstRefused(batch) is var refused and >= 0) _refused = (rows.Sources[refused], rows.SourceRows[refused]);
        if (_refused is not null) return new RowIdColumns { Tags = new SplitTag[n], Folds = _localFolds == true ? new short[n] : null };
        var tagged = assigner.Assign(new SplitInput([batch], _schema), context);
        if (tagged.Order is not null || tagged.Tags.Length != n) throw new InvalidOperationException($"{assigner.Describe()}: a row-local assigner must tag each row and leave the order to the split stage.");
        if (_localFolds is { } withFolds && withFolds != tagged.Folds is not null) throw new InvalidOperationException("A row-local assigner gave folds for some batches only.");
        _localFolds = tagged.Folds is not null;
        return new RowIdColumns { Tags = tagged.Tags, Folds = tagged.Folds };
    }

    /// <summary>Gives each row's key of a batch (a class key, a group key); returns the first row refused, or −1.</summary>
    private delegate int BatchKeys(RecordBatch batch, Span<string> keys);

    /// <summary>
    /// The keys of a batch's rows by <paramref name="read"/>, into a buffer reused from batch to batch; null at the first
    /// row refused (its origin is kept for the error: the run stops once every row is read) and after it.
    /// </summary>
    private string[]? KeysOf(BatchKeys read, RecordBatch batch, int n, RowInfo rows)
    {
        if (_refused is not null) return null;
        if (_batchKeys.Length < n) _batchKeys = new string[n];
        int refused = read(batch, _batchKeys.AsSpan(0, n));
        if (refused < 0) return _batchKeys;
        _refused = (rows.Sources[refused], rows.SourceRows[refused]);
        return null;
    }

    /// <summary>
    /// Each row's unit number, counted in the group table (<see cref="IRowGroupAssigner.Count"/>); after the first row
    /// refused, whose origin is kept for the error, nothing is counted (the run stops once every row is read).
    /// </summary>
    private int[] UnitsOf(RecordBatch batch, int n, RowInfo rows)
    {
        if (_batchGroups.Length < n) _batchGroups = new int[n];
        var numbers = _batchGroups;
        if (_refused is not null) return numbers;
        int missing = _group!.Count(batch, _groupTable!, numbers.AsSpan(0, n));
        if (missing >= 0) _refused = (rows.Sources[missing], rows.SourceRows[missing]);
        else if (_groupTable!.Count > _rangeGroups) StartRanges();
        return numbers;
    }

    /// <summary>
    /// The table has more groups than the assigner decides from a table: its groups go as runs to the key-run file, with
    /// their key hashes kept by unit number (the rows spilled so far carry units), and the table is let go.
    /// </summary>
    private void StartRanges()
    {
        int groups = RunsOfTable();
        _groupTable = null;
        // The table's memory back to the system: the rest of pass 1 and the walk hold none of it.
        Governor.Release();
        TraceMemory($"{groups:N0} groups: cut by hash ranges");
    }

    /// <summary>The table's groups to the key-run file, their key hashes kept by unit number; returns the groups.</summary>
    private int RunsOfTable()
    {
        var table = _groupTable!;
        var keys = table.KeySet;
        var rows = table.RowsArray;
        _runs = new GroupRunsFile(_folder.NewFile("group-runs"));
        if (_rangeSplit is not null) _unitKeyHashes = new ulong[table.Count];
        if (_rangeFold is not null) _unitFoldKeyHashes = new ulong[table.Count];
        for (int g = 0; g < table.Count; g++)
        {
            _runs.Add(keys.KeyBytes(g), rows[g]);
            if (_rangeSplit is { } s) _unitKeyHashes[g] = keys.HashOf(g, s);
            if (_rangeFold is { } f) _unitFoldKeyHashes[g] = keys.HashOf(g, f);
        }
        return table.Count;
    }

    /// <summary>
    /// Under hash ranges: each row's key (<see cref="IRowGroupAssigner.Keys"/>) to the key-run file, and its key hashes
    /// beside its id; after the first row refused, whose origin is kept for the error, nothing is written.
    /// </summary>
    private RowIdColumns KeyHashesOf(RecordBatch batch, int n, RowInfo rows)
    {
        var splitHashes = _rangeSplit is null ? null : new ulong[n];
        var foldHashes = _rangeFold is null ? null : new ulong[n];
        var parts = new RowIdColumns(KeyHashes: splitHashes, FoldKeyHashes: foldHashes);
        if (KeysOf(_group!.Keys, batch, n, rows) is not { } keys) return parts;
        string? last = null;
        ulong lastSplit = 0, lastFold = 0;
        for (int i = 0; i < n; i++)
        {
            var key = keys[i];
            if (!string.Equals(key, last, StringComparison.Ordinal))
            {
                var bytes = _keyBytes.AsSpan(0, GroupKeySet.Encode(key, ref _keyBytes));
                _runs!.Add(bytes);
                if (_rangeSplit is { } s) lastSplit = GroupKeySet.HashOf(bytes, s);
                if (_rangeFold is { } f) lastFold = GroupKeySet.HashOf(bytes, f);
                last = key;
            }
            else _runs!.Repeat();
            if (splitHashes is not null) splitHashes[i] = lastSplit;
            if (foldHashes is not null) foldHashes[i] = lastFold;
        }
        return parts;
    }

    /// <summary>
    /// Each row's time (<see cref="TimeSplitAssigner.TryGetUtcTicks"/>) into a buffer reused from batch to batch, counted in
    /// the time histogram (a refused time is noted with the cutter, which may stop at once, and counted nowhere), and with
    /// time folds each row's fold time (<see cref="KFoldAssigner.FoldTimeOf"/>) into another: those of <see cref="_timeParts"/>.
    /// </summary>
    private (long[]? Ticks, long[]? FoldTimes) TimesOf(Column column, int n, RowInfo rows)
    {
        long[]? times = null, foldTimes = null;
        if (_timeParts.HasFlag(RowIdParts.Times))
        {
            if (_batchTimes.Length < n) _batchTimes = new long[n];
            times = _batchTimes;
            var cutter = _time!.Value.Cutter;
            for (int i = 0; i < n; i++)
            {
                if (TimeSplitAssigner.TryGetUtcTicks(column, i, out times[i]))
                {
                    _timeHistogram[TimeSplitCuts.BinOf(times[i])]++;
                    _timeMin = Math.Min(_timeMin, times[i]);
                    _timeMax = Math.Max(_timeMax, times[i]);
                }
                else cutter.Refused(column, i, rows);
            }
        }
        if (_timeParts.HasFlag(RowIdParts.FoldTimes))
        {
            if (_batchFoldTimes.Length < n) _batchFoldTimes = new long[n];
            foldTimes = _batchFoldTimes;
            for (int i = 0; i < n; i++) foldTimes[i] = KFoldAssigner.FoldTimeOf(column, i);
        }
        return (times, foldTimes);
    }

    // Reused by WriteRowIds: one part's ids, tags, folds, classes, times, fold times and key hashes.
    private long[] _idScratch = [];
    private SplitTag[] _tagScratch = [];
    private short[] _foldScratch = [];
    private int[] _classScratch = [];
    private long[] _timeScratch = [];
    private long[] _foldTimeScratch = [];
    private ulong[] _keyHashScratch = [];
    private ulong[] _foldKeyHashScratch = [];

    /// <summary>
    /// The picked rows' ids and what waits beside them (<paramref name="parts"/>: tags and folds, from a row-local assigner;
    /// class or unit numbers; times and fold times; key hashes) to a hash file's row-id file, in the data file's order.
    /// </summary>
    private void WriteRowIds(SpillRowIdsWriter writer, long[] ids, in RowIdColumns parts, int[] picked)
    {
        int m = picked.Length;
        if (_idScratch.Length < m)
        {
            _idScratch = new long[m];
            _tagScratch = new SplitTag[m];
            _foldScratch = new short[m];
            _classScratch = new int[m];
            _timeScratch = new long[m];
            _foldTimeScratch = new long[m];
            _keyHashScratch = new ulong[m];
            _foldKeyHashScratch = new ulong[m];
        }
        for (int i = 0; i < m; i++) _idScratch[i] = ids[picked[i]];
        Pick(parts.Tags, _tagScratch);
        Pick(parts.Folds, _foldScratch);
        Pick(parts.Classes, _classScratch);
        Pick(parts.Times, _timeScratch);
        Pick(parts.FoldTimes, _foldTimeScratch);
        Pick(parts.KeyHashes, _keyHashScratch);
        Pick(parts.FoldKeyHashes, _foldKeyHashScratch);
        writer.Write(parts.Flags, _idScratch.AsSpan(0, m), _tagScratch, _foldScratch, _classScratch, _timeScratch, _foldTimeScratch, _keyHashScratch, _foldKeyHashScratch);

        void Pick<T>(T[]? values, T[] into)
        {
            if (values is null) return;
            for (int i = 0; i < m; i++) into[i] = values[picked[i]];
        }
    }

    /// <summary>A hash file of the bounded path: its data and row-id files, the shuffle-hash range it holds (the
    /// <see cref="Range"/>-th of 2^<see cref="Bits"/>), its rows and bytes, and whether it holds fixed-width values only.</summary>
    private sealed record HashFile(string Path, string RowIds, int Range, int Bits, long Rows, long Bytes, bool FixedWidth, bool Float32Finite);

    /// <summary>Bytes a row that ranking one file's rows of a channel holds (ids, hashes, their order, the file's ranks).</summary>
    private const int RankBytesPerRow = 48;

    /// <summary>Bytes a row that ranking one file's rows by (time, row id) holds (ids, times, their copies and order, the file's ranks).</summary>
    private const int TimeRankBytesPerRow = 64;

    /// <summary>
    /// Pass 3 with tags from each row or its id, holding nothing per row of the run: each file's row-id file gives its
    /// rows per channel (tags from the spill or from the assigner's tagger), so each channel's first rank in each file
    /// follows from the counts; a piece's ranks are then its file's rows of the channel in shuffle-hash order — the order
    /// <see cref="RandomSplitter.HashOrderByRange"/> gives every row, restricted to the file and channel — or, without a
    /// shuffle, in file order (the files follow each other in input order). A hash file too large to load or rank within
    /// the budget is split first by the next bits of the shuffle hash. Same batches, same bytes as the general path;
    /// memory: a file's ranks and the emission's window, whatever the rows.
    /// </summary>
    private IEnumerable<RecordBatch> EmitBounded(RunContext context, CancellationToken cancellationToken)
    {
        // With a shuffle, the hash files in hash order; without, the files in input order (no hash range: 0 bits).
        var files = new List<HashFile>();
        for (int f = 0; f < _files.Count; f++)
        {
            if (_files[f] is not { } data) continue;
            var ids = _rowIdFiles[f]!;
            files.Add(new HashFile(data.Path, ids.Path, f, _shuffle is null ? 0 : HashBits, ids.Rows, data.Length, data.FixedWidthOnly, data.Float32Finite));
            data.Dispose();
            ids.Dispose();
        }
        _files.Clear();
        Governor.Release();
        TraceMemory("pass 1 done");
        long count = _count;
        context.OnProgress("split", 0, count);
        if (_refused is var (source, row))
        {
            string? file = source >= 0 && source < context.Inputs.Count ? context.Inputs[source] : null;
            throw _local?.Assigner.Refused(file, row) ?? _group?.Refused(file, row) ?? _byId!.RefusedClass(file, row);
        }
        var classKeys = _classOf.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        var tagger = _byId?.ForRowIds(() => AllRowIds(files), count, _withClasses ? _classRows : null, _withClasses ? classKeys : null, BucketBytes, context);
        bool byTime = false;
        if (_time is var (timed, cutter))
        {
            // A pass holds the rows of the bins it narrows (16 bytes each): at most a quarter of the budget.
            long maxHeld = Math.Max(1 << 16, _budget / 64);
            _timeTagger = cutter.Cut(count, _timeHistogram, () => TimedPass(files, _timeParts), maxHeld);
            TraceMemory("time cut");
            byTime = _inTimeOrder;
            if (byTime) files = ByTime(files, count, maxHeld, context, cancellationToken);
        }
        UnitTags? groupSplits = null;
        GroupRangeCuts? ranges = null;
        if (_runs is not null)
        {
            // Past RangeGroups groups: the cuts from the key runs, walked in hash order a bounded table at a time.
            _runs.Close();
            var runsPath = _runs.Path;
            ranges = _group!.CutRanges(() => GroupRunsFile.Runs(runsPath), count, _folder, GroupRangeWalk.PartitionGroups(_budget), context, cancellationToken);
            File.Delete(runsPath);
            context.Diagnostics.CountSpillGroupRanges();
            TraceMemory("group ranges cut");
        }
        else if (_group is not null)
        {
            groupSplits = _group.TagUnits(_groupTable!, context);
            // Each unit's split is all pass 3 needs: the table's keys and counts go before the emission.
            _groupTable = null;
            TraceMemory("groups decided");
        }
        bool withFolds = tagger?.HasFolds ?? _timeTagger?.HasFolds ?? (groupSplits is null ? (bool?)null : groupSplits.Folds is not null)
            ?? (ranges is null ? (bool?)null : ranges.Folds is not null) ?? _localFolds ?? false;
        var tagBlock = BlockTaggerOf(tagger, _timeTagger, groupSplits) ?? RangeTaggerOf(ranges);
        context.Diagnostics.CountSpillRanked();
        // Unshuffled files are closed at half a bucket and ranked by counting (or by time, as ByTime left them): none is split again.
        if (_shuffle is not null) files = Resplit(files, context, cancellationToken);

        // Each file's rows per (split, fold), from the tags alone.
        var counts = new Dictionary<(SplitTag, short), long[]>();
        long expected = 0;
        var tags = new SplitTag[256];
        var folds = new short[256];
        // A tagger's tags (and folds) are kept beside each file as the count finds them (1 or 3 bytes a row), so ranking
        // a piece reads them instead of tagging every row of the file again for each channel.
        var tagFiles = new string?[files.Count];
        using (var reader = new SpillRowIdsReader())
        {
            for (int i = 0; i < files.Count; i++)
            {
                reader.Open(files[i].RowIds);
                using var cache = tagger is null ? null : TempFile.Create(tagFiles[i] = files[i].RowIds + ".tags", 1 << 16);
                (SplitTag, short) lastKey = (SplitTag.None, -1);
                long[] lastCounts = [];
                while (reader.Next())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = TagsOf(reader, tagBlock, withFolds, ref tags, ref folds);
                    if (cache is not null)
                    {
                        cache.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tags.AsSpan(0, n)));
                        if (withFolds) cache.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(folds.AsSpan(0, n)));
                    }
                    for (int j = 0; j < n; j++)
                    {
                        if (tags[j] == SplitTag.None) continue;
                        var key = (tags[j], withFolds ? folds[j] : (short)-1);
                        if (key != lastKey)
                        {
                            if (!counts.TryGetValue(key, out var perFile)) counts[key] = perFile = new long[files.Count];
                            (lastKey, lastCounts) = (key, perFile);
                        }
                        lastCounts[i]++;
                        expected++;
                    }
                }
            }
        }
        context.ExpectedRows = expected;
        Governor.Release();
        // The channels of SplitStage.Channels: every split without folds; with folds, each split's folds in order.
        var channels = new List<(SplitTag Split, short Fold)>();
        foreach (var split in SplitNames.All)
        {
            if (!withFolds) channels.Add((split, -1));
            else channels.AddRange(counts.Keys.Where(k => k.Item1 == split).OrderBy(k => k.Item2));
        }
        var sizes = new int[channels.Count];
        var pieces = new List<(int File, int Lo, int Count)>[channels.Count];
        for (int c = 0; c < channels.Count; c++)
        {
            pieces[c] = [];
            if (!counts.TryGetValue(channels[c], out var perFile)) continue;
            long lo = 0;
            for (int i = 0; i < files.Count; i++)
            {
                if (perFile[i] == 0) continue;
                pieces[c].Add((i, (int)lo, (int)perFile[i]));
                lo += perFile[i];
                if (lo > _stage.MaxChannelRows) throw new PipelineValidationException($"The {channels[c].Split.Name()} split would hold {lo:N0} rows or more in one run; at most {_stage.MaxChannelRows:N0} are supported. Use --workers to spread the run.");
            }
            sizes[c] = (int)lo;
        }
        bool placed = PlacedRows.Supports(_schema, _skipped) && files.All(f => f.FixedWidth);
        var images = placed && files.All(f => f.Float32Finite) ? ImageColumns() : null;
        if (RunTrace.On)
        {
            Console.Error.WriteLine($"trace: split spilled {count:N0} rows, {files.Sum(f => f.Bytes) >> 20} MiB in {files.Count} files ({_float32?.Count(x => x) ?? 0} columns as float32, {_text?.Count(x => x) ?? 0} as the rows' text), ranked a file at a time (no per-row arrays)");
        }
        TraceMemory("counted");
        var scratch = new[] { new RankScratch(), new RankScratch() };
        var paths = files.Select(f => (string?)f.Path).ToList();
        var sidePaths = files.Select((f, i) => tagFiles[i] is { } t ? new[] { f.RowIds, t } : [f.RowIds]).ToList();
        // Each (file, channel)'s piece, found in constant time (a run may have many thousands of files).
        var pieceOf = new Dictionary<(int File, int Channel), (int File, int Lo, int Count)>();
        for (int c = 0; c < channels.Count; c++) foreach (var p in pieces[c]) pieceOf[(p.File, c)] = p;
        foreach (var batch in EmitPieces(channels, pieces, paths, sidePaths, sizes, withFolds, placed, images,
            (file, c, slot) => new PieceRanks(null, null, c, Rank(files[file], tagFiles[file], channels[c], pieceOf[(file, c)], tagBlock, withFolds, byTime, scratch[slot])), context, cancellationToken))
        {
            yield return batch;
        }
        context.OnProgress("split", count, count);
    }

    /// <summary>Tags a block of a row-id file (and its folds, when <paramref name="folds"/> is not empty) from what the block carries.</summary>
    private delegate void BlockTagger(SpillRowIdsReader block, Span<SplitTag> tags, Span<short> folds);

    /// <summary>
    /// The tagging of pass 3's blocks: by a row-id tagger from ids (and class numbers), by the time cut from ticks and fold
    /// times, or by the units' splits from unit numbers; null: the tags (and folds) a row-local assigner gave are in the blocks.
    /// </summary>
    private static BlockTagger? BlockTaggerOf(IRowIdTagger? tagger, TimeTagger? timeTagger, UnitTags? groupSplits)
    {
        if (tagger is not null) return (block, tags, folds) => tagger.Tag(block.Ids, block.Classes, tags, folds);
        if (timeTagger is not null)
        {
            return (block, tags, folds) =>
            {
                if ((timeTagger.Cuts is not null && !block.HasTimes) || (timeTagger.HasFolds && !block.HasFoldTimes)) throw new InvalidDataException("A time split's row-id file lacks the times.");
                timeTagger.Tag(block.Times, block.FoldTimes, tags, folds);
            };
        }
        if (groupSplits is not null)
        {
            var (splits, unitFolds) = groupSplits;
            return (block, tags, folds) =>
            {
                if (!block.HasClasses) throw new InvalidDataException("A group split's row-id file lacks the unit numbers.");
                var units = block.Classes;
                for (int j = 0; j < tags.Length; j++) tags[j] = splits[units[j]];
                if (unitFolds is not null && !folds.IsEmpty) for (int j = 0; j < tags.Length; j++) folds[j] = unitFolds[units[j]];
            };
        }
        return null;
    }

    /// <summary>
    /// Under hash ranges, the tagging of pass 3's blocks: each row's split and fold from its key's hashes and the cuts
    /// (<see cref="GroupCut.PartOfHash"/>), the hashes beside the row's id or, for a row spilled before the ranges began,
    /// by its unit number; no split cuts: every row in train.
    /// </summary>
    private BlockTagger? RangeTaggerOf(GroupRangeCuts? ranges)
    {
        if (ranges is null) return null;
        var (split, foldCuts, _) = ranges;
        var unitSplit = _unitKeyHashes;
        var unitFold = _unitFoldKeyHashes;
        return (block, tags, folds) =>
        {
            var units = block.Classes;
            var splitHashes = block.KeyHashes;
            var foldHashes = block.FoldKeyHashes;
            if (units.IsEmpty && ((split is not null && splitHashes.IsEmpty) || (foldCuts is not null && foldHashes.IsEmpty)))
            {
                throw new InvalidDataException("A group split's row-id file lacks the unit numbers or key hashes.");
            }
            for (int j = 0; j < tags.Length; j++)
            {
                tags[j] = split is null ? SplitTag.Train : (SplitTag)GroupCut.PartOfHash(split, units.IsEmpty ? splitHashes[j] : unitSplit[units[j]]);
                if (foldCuts is not null && !folds.IsEmpty)
                {
                    folds[j] = tags[j] != SplitTag.Train ? (short)-1 : (short)GroupCut.PartOfHash(foldCuts, units.IsEmpty ? foldHashes[j] : unitFold[units[j]]);
                }
            }
        };
    }

    /// <summary>The tags (and folds) of the reader's block, cached, from <paramref name="tagBlock"/> or from the block itself; returns the block's rows.</summary>
    private static int TagsOf(SpillRowIdsReader reader, BlockTagger? tagBlock, bool withFolds, ref SplitTag[] tags, ref short[] folds, Stream? cached = null)
    {
        int n = reader.Count;
        if (tags.Length < n)
        {
            tags = new SplitTag[Math.Max(n, 2 * tags.Length)];
            folds = new short[tags.Length];
        }
        if (cached is not null)
        {
            cached.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tags.AsSpan(0, n)));
            if (withFolds) cached.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(folds.AsSpan(0, n)));
            return n;
        }
        if (tagBlock is not null)
        {
            tagBlock(reader, tags.AsSpan(0, n), withFolds ? folds.AsSpan(0, n) : default);
            return n;
        }
        if (!reader.HasTags || reader.HasFolds != withFolds) throw new InvalidDataException("A spill's row-id file lacks the tags or folds its row-local assigner gave.");
        reader.Tags.CopyTo(tags);
        if (withFolds) reader.Folds.CopyTo(folds);
        return n;
    }

    /// <summary>
    /// Every row id of the files (with its class number, for a stratified split), in chunks of up to 64K through one pair
    /// of buffers (each chunk valid until the next is asked for).
    /// </summary>
    private IEnumerable<RowIdChunk> AllRowIds(List<HashFile> files)
    {
        bool withClasses = _withClasses;
        var chunk = new long[1 << 16];
        var classes = withClasses ? new int[chunk.Length] : [];
        int n = 0;
        using var reader = new SpillRowIdsReader();
        foreach (var file in files)
        {
            reader.Open(file.RowIds);
            while (reader.Next())
            {
                if (reader.HasClasses != withClasses) throw new InvalidDataException($"The spill's row-id file {file.RowIds} lacks the class numbers its stratified split wrote.");
                for (int from = 0; from < reader.Count;)
                {
                    int m = Math.Min(reader.Count - from, chunk.Length - n);
                    reader.Ids.Slice(from, m).CopyTo(chunk.AsSpan(n));
                    if (withClasses) reader.Classes.Slice(from, m).CopyTo(classes.AsSpan(n));
                    n += m;
                    from += m;
                    if (n < chunk.Length) continue;
                    yield return new RowIdChunk(chunk, classes);
                    n = 0;
                }
            }
        }
        if (n > 0) yield return new RowIdChunk(chunk.AsMemory(0, n), withClasses ? classes.AsMemory(0, n) : default);
    }

    /// <summary>
    /// Every row's id and times (ticks, fold times: those of <paramref name="parts"/>), a row-id block at a time through one
    /// set of buffers (valid until the next is asked for).
    /// </summary>
    private static IEnumerable<TimedRows> TimedPass(List<HashFile> files, RowIdParts parts = RowIdParts.Times)
    {
        bool withTicks = parts.HasFlag(RowIdParts.Times), withFoldTimes = parts.HasFlag(RowIdParts.FoldTimes);
        var ticks = withTicks ? new long[256] : [];
        var foldTimes = withFoldTimes ? new long[256] : null;
        var ids = new long[256];
        using var reader = new SpillRowIdsReader();
        foreach (var file in files)
        {
            reader.Open(file.RowIds);
            while (reader.Next())
            {
                if ((withTicks && !reader.HasTimes) || (withFoldTimes && !reader.HasFoldTimes)) throw new InvalidDataException($"The spill's row-id file {file.RowIds} lacks the times its time split wrote.");
                int n = reader.Count;
                if (ids.Length < n)
                {
                    ids = new long[Math.Max(n, 2 * ids.Length)];
                    if (withTicks) ticks = new long[ids.Length];
                    if (withFoldTimes) foldTimes = new long[ids.Length];
                }
                reader.Ids.CopyTo(ids);
                if (withTicks) reader.Times.CopyTo(ticks);
                if (withFoldTimes) reader.FoldTimes.CopyTo(foldTimes);
                yield return new TimedRows(ticks, ids, n, foldTimes);
            }
        }
    }

    /// <summary>Buffers of one piece's ranking, reused from piece to piece.</summary>
    private sealed class RankScratch
    {
        public int[] Local = [];
        public int[] Seq = [];
        public long[] Ids = [];
        public ulong[] Keys = [];
        public int[] Order = [];
        public ulong[] Sorted = [];
        public long[] Times = [];
        public SplitTag[] Tags = new SplitTag[256];
        public short[] Folds = new short[256];
        // Its file is closed after each piece (Dispose closes only the file); its buffers serve the next.
        public SpillRowIdsReader Reader = new();
    }

    /// <summary>
    /// The ranks of one file's rows of a channel by the file's row order (−1: another channel): the piece's first rank
    /// plus the row's place among them in (shuffle hash, row id) order, in (time, row id, file order) order when
    /// <paramref name="byTime"/> (the file is one range of that order), or in file order without a shuffle.
    /// </summary>
    private int[] Rank(HashFile file, string? tagFile, (SplitTag Split, short Fold) channel, (int File, int Lo, int Count) piece, BlockTagger? tagBlock, bool withFolds, bool byTime, RankScratch s)
    {
        int rows = checked((int)file.Rows), m = piece.Count;
        if (s.Local.Length < rows) s.Local = new int[rows];
        using var cached = tagFile is null ? null : new FileStream(tagFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var shuffle = byTime ? null : _shuffle;
        if ((shuffle is not null || byTime) && s.Ids.Length < m)
        {
            s.Seq = new int[m];
            s.Ids = new long[m];
            s.Keys = new ulong[m];
            s.Order = new int[m];
            s.Sorted = new ulong[m];
        }
        if (byTime && s.Times.Length < m) s.Times = new long[s.Ids.Length];
        int seq = 0, k = 0;
        var reader = s.Reader;
        reader.Open(file.RowIds);
        using var close = reader;
        while (reader.Next())
        {
            int n = TagsOf(reader, tagBlock, withFolds, ref s.Tags, ref s.Folds, cached);
            var ids = reader.Ids;
            for (int j = 0; j < n; j++, seq++)
            {
                s.Local[seq] = -1;
                if (s.Tags[j] != channel.Split || (withFolds && s.Folds[j] != channel.Fold)) continue;
                if (k == m) throw new InvalidOperationException($"Spill file {file.Path} holds more than its {m:N0} rows of the {channel.Split.Name()} split.");
                if (byTime)
                {
                    s.Seq[k] = seq;
                    s.Ids[k] = ids[j];
                    s.Times[k++] = reader.Times[j];
                    continue;
                }
                // Without a shuffle output order is input order: the file's rows of the channel are counted in file order.
                if (shuffle is not { } hash) { s.Local[seq] = piece.Lo + k++; continue; }
                ulong key = hash.Hash(ids[j]);
                if ((int)(key >> (64 - file.Bits)) != file.Range) throw new InvalidOperationException($"Spill file {file.Path} holds a row outside its shuffle-hash range.");
                s.Seq[k] = seq;
                s.Ids[k] = ids[j];
                // The range's top bits are equal in every key: shifted out, the rest orders the file and spreads its buckets.
                s.Keys[k++] = key << file.Bits;
            }
        }
        if (seq != rows || k != m) throw new InvalidOperationException($"Spill file {file.Path} holds {seq:N0} rows, {k:N0} of the channel; expected {rows:N0} and {m:N0}.");
        if (byTime)
        {
            TimeOrder(s, m);
            for (int r = 0; r < m; r++) s.Local[s.Seq[s.Order[r]]] = piece.Lo + r;
            return s.Local;
        }
        if (shuffle is null) return s.Local;
        RandomSplitter.HashOrder(s.Ids.AsSpan(0, m), s.Keys.AsSpan(0, m), s.Order.AsSpan(0, m), s.Sorted.AsSpan(0, m));
        for (int r = 0; r < m; r++) s.Local[s.Seq[s.Order[r]]] = piece.Lo + r;
        return s.Local;
    }

    /// <summary>
    /// The piece's rows (<see cref="RankScratch.Times"/>, <see cref="RankScratch.Ids"/>, first <paramref name="m"/>, in file
    /// order) in (time, row id, file order) order into <see cref="RankScratch.Order"/>: the order
    /// <see cref="TimeSplitAssigner.TimeOrder"/> gives every row of the run, restricted to the piece (its rows are in input
    /// order). In the scratch's buffers, reused from piece to piece: calling <see cref="TimeSplitAssigner.TimeOrder"/>
    /// on copies of each piece (its dictionary count, then a sort of fresh arrays) measured slower and larger at 8 M rows
    /// (9.7 / 12.3 s and 238–255 MiB against 8.4 / 9.5 s and 220–230 MiB, interleaved).
    /// </summary>
    private static void TimeOrder(RankScratch s, int m)
    {
        var times = s.Times.AsSpan(0, m);
        var ids = s.Ids.AsSpan(0, m);
        var order = s.Order.AsSpan(0, m);
        for (int i = 0; i < m; i++) order[i] = i;
        bool idsAscend = true, inOrder = true;
        for (int i = 1; i < m; i++)
        {
            idsAscend &= ids[i] > ids[i - 1];
            inOrder &= times[i] > times[i - 1] || (times[i] == times[i - 1] && ids[i] > ids[i - 1]);
        }
        // Rows already in time order (time-ordered input) keep their order.
        if (inOrder) return;
        if (s.Keys.Length < m) s.Keys = new ulong[m];
        var keys = s.Keys.AsSpan(0, m);
        for (int i = 0; i < m; i++) keys[i] = TimeSplitAssigner.KeyOf(times[i]);
        keys.Sort(order);
        // The sort is not stable: each run of one time is put in (row id, file order) order.
        for (int i = 1; i < m; i++)
        {
            if (keys[i] != keys[i - 1]) continue;
            int start = i - 1;
            while (i < m && keys[i] == keys[start]) i++;
            var run = order[start..i];
            if (idsAscend) run.Sort();
            else
            {
                var idArray = s.Ids;
                run.Sort((a, b) => idArray[a] != idArray[b] ? idArray[a].CompareTo(idArray[b]) : a.CompareTo(b));
            }
        }
    }

    /// <summary>
    /// Splits each file too large to load (over twice <see cref="BucketBytes"/>) or to rank within an eighth of the
    /// budget by the next bits of the shuffle hash, so that each part holds about a bucket; parts stay in hash order.
    /// </summary>
    private List<HashFile> Resplit(List<HashFile> files, RunContext context, CancellationToken cancellationToken)
    {
        long maxRows = Math.Max(1, BucketBytes / RankBytesPerRow);
        var result = new List<HashFile>(files.Count);
        foreach (var file in files)
        {
            int extra = 0;
            if (file.Bytes > 2 * BucketBytes || file.Rows > maxRows)
            {
                while (extra < 16 && (file.Bytes >> extra > BucketBytes || file.Rows >> extra > maxRows)) extra++;
            }
            if (extra == 0) { result.Add(file); continue; }
            context.Diagnostics.CountSpillResplit();
            var hash = _shuffle!.Value;
            int parts = 1 << extra;
            var writers = new BatchSpillWriter?[parts];
            var idWriters = new SpillRowIdsWriter?[parts];
            try
            {
                Scatter(file, writers, idWriters, q => $"input-{file.Range:D3}-{q:D5}", (rows, partOf) =>
                {
                    var ids = rows.Ids;
                    for (int i = 0; i < ids.Length; i++)
                    {
                        ulong key = hash.Hash(ids[i]);
                        if ((int)(key >> (64 - file.Bits)) != file.Range) throw new InvalidOperationException($"Spill file {file.Path} holds a row outside its shuffle-hash range.");
                        partOf[i] = (int)((key << file.Bits) >> (64 - extra));
                    }
                }, cancellationToken);
                File.Delete(file.Path);
                File.Delete(file.RowIds);
                for (int q = 0; q < parts; q++)
                {
                    if (writers[q] is not { } w) continue;
                    result.Add(new HashFile(w.Path, idWriters[q]!.Path, (file.Range << extra) | q, file.Bits + extra, idWriters[q]!.Rows, w.Length, w.FixedWidthOnly, w.Float32Finite));
                }
            }
            finally
            {
                foreach (var w in writers) w?.Dispose();
                foreach (var w in idWriters) w?.Dispose();
            }
        }
        if (RunTrace.On && result.Count != files.Count) Console.Error.WriteLine($"trace: split re-split {files.Count - result.Count(f => f.Bits == HashBits)} large spill files into {result.Count(f => f.Bits > HashBits)} by the next shuffle-hash bits");
        return result;
    }

    /// <summary>
    /// An unshuffled time split's files as ranges of the (time, row id) order, the output order: pass 1's own files when
    /// they follow one another (time-ordered input), else buckets of that order. The bucket starts are the rows at every
    /// N-th position (<see cref="TimeSplitCuts.Locate"/>, N rows about <see cref="PieceBytes"/>), and reads of pass 1's
    /// files write each row to its bucket, in input order within a bucket: one read when there are at most
    /// <see cref="FanOut"/> buckets, else one per level of a tree of that fan-out (<see cref="Distribute"/>).
    /// </summary>
    private List<HashFile> ByTime(List<HashFile> files, long count, long maxHeld, RunContext context, CancellationToken cancellationToken)
    {
        // (A file may hold more rows than a piece should when one input batch did: such a file is cut into buckets too.)
        if (files.Count == 0 || (_timeFollows && files.All(f => f.Rows <= MaxTimeRankRows && f.Bytes <= 2 * PieceBytes))) return files;
        long rowBytes = Math.Max(1, files.Sum(f => f.Bytes) / Math.Max(1, count));
        long perBucket = Math.Max(1, Math.Min(PieceBytes / rowBytes, MaxTimeRankRows));
        int buckets = checked((int)((count + perBucket - 1) / perBucket));
        var positions = Enumerable.Range(1, buckets - 1).Select(j => (long)((Int128)j * count / buckets)).ToList();
        // The rows at those positions, found over keys that spread the run's range of times over the histogram's bins
        // (the time split's own keys put a year of times in a handful of bins, each then narrowed in more passes).
        var scale = new ScaledTimes(_timeMin, _timeMax);
        IEnumerable<HashedRows> Keyed()
        {
            var keys = Array.Empty<ulong>();
            foreach (var b in TimedPass(files))
            {
                if (keys.Length < b.Count) keys = new ulong[b.Ticks.Length];
                for (int r = 0; r < b.Count; r++) keys[r] = scale.KeyOf(b.Ticks[r]);
                yield return new HashedRows(keys, b.Ids, b.Count);
            }
        }
        var (histogram, _) = RandomSplitCuts.Histogram(Keyed());
        var starts = RandomSplitCuts.Locate(count, positions, histogram, Keyed, maxHeld, context.Diagnostics.RecordSpillHeld).Select(f => (scale.TimeOf(f.Hash), f.Id)).ToArray();
        TraceMemory("time buckets located");
        context.Diagnostics.CountSpillRepartition();
        var result = new List<HashFile>(buckets);
        int levels = Distribute(files, starts, 0, buckets, result, 0, cancellationToken);
        if (RunTrace.On) Console.Error.WriteLine($"trace: split put {count:N0} rows of {files.Count} files in {result.Count} buckets of (time, row id) order, up to {perBucket:N0} rows each, in {levels} read{(levels == 1 ? "" : "s")} of the rows");
        Governor.Release();
        TraceMemory("bucketed by time");
        return result;
    }

    /// <summary>
    /// The spill bytes of a time split's bucket: a 64th of the budget. Pass 3 places two pieces at once and holds their
    /// output batches until both are read, so the peak follows this size: 8 M rows at <c>--memory 256MB</c> peaked at
    /// 241–275 MiB with buckets of an eighth of the budget, 221–224 MiB at a 64th (docs/decisions.md).
    /// </summary>
    private long PieceBytes => Math.Max(32L << 10, _budget / 64);

    /// <summary>The files one read writes at once (each holds about 160 KiB of buffers): at most an eighth of the budget, 16 to 256.</summary>
    private int FanOut => (int)Math.Clamp(BucketBytes / (160L << 10), 16, 256);

    /// <summary>
    /// Writes the rows of <paramref name="files"/> (deleted once read), all of buckets [<paramref name="lo"/>,
    /// <paramref name="hi"/>), to those buckets in <paramref name="result"/>, in bucket order: directly when they are at
    /// most <see cref="FanOut"/>, else to that many groups of consecutive buckets first, each then distributed on its own.
    /// Returns the reads of the rows it took (the tree's depth).
    /// </summary>
    private int Distribute(List<HashFile> files, (long Ticks, long Id)[] starts, int lo, int hi, List<HashFile> result, int level, CancellationToken cancellationToken)
    {
        int per = hi - lo <= FanOut ? 1 : (hi - lo + FanOut - 1) / FanOut;
        int parts = (hi - lo + per - 1) / per;
        var writers = new BatchSpillWriter?[parts];
        var idWriters = new SpillRowIdsWriter?[parts];
        var made = new List<(HashFile File, int Lo, int Hi)>();
        try
        {
            foreach (var file in files)
            {
                Scatter(file, writers, idWriters, q => $"time-{level}-{lo + q * per:D6}", (rows, partOf) =>
                {
                    var ids = rows.Ids;
                    var times = rows.Times;
                    for (int i = 0; i < ids.Length; i++)
                    {
                        // The row's bucket: the number of starts at or before its (time, row id).
                        var row = (times[i], ids[i]);
                        int a = 0, b = starts.Length;
                        while (a < b)
                        {
                            int mid = (a + b) >>> 1;
                            if (starts[mid].CompareTo(row) <= 0) a = mid + 1;
                            else b = mid;
                        }
                        if (a < lo || a >= hi) throw new InvalidOperationException($"Spill file {file.Path} holds a row outside its buckets of time order.");
                        partOf[i] = (a - lo) / per;
                    }
                }, cancellationToken);
                File.Delete(file.Path);
                File.Delete(file.RowIds);
            }
            for (int q = 0; q < parts; q++)
            {
                if (writers[q] is not { } w) continue;
                made.Add((new HashFile(w.Path, idWriters[q]!.Path, lo + q * per, 0, idWriters[q]!.Rows, w.Length, w.FixedWidthOnly, w.Float32Finite), lo + q * per, Math.Min(hi, lo + (q + 1) * per)));
            }
        }
        finally
        {
            foreach (var w in writers) w?.Dispose();
            foreach (var w in idWriters) w?.Dispose();
        }
        int depth = 1;
        foreach (var (file, from, to) in made)
        {
            if (per == 1) result.Add(file);
            else depth = Math.Max(depth, 1 + Distribute([file], starts, from, to, result, level + 1, cancellationToken));
        }
        return depth;
    }

    /// <summary>Each row's part (0 to the parts − 1) from the row-id block that holds it.</summary>
    private delegate void PartsOf(SpillRowIdsReader rows, Span<int> partOf);

    /// <summary>
    /// One read of a spill file (data and row ids) that writes each row to its part's files (<paramref name="writers"/>,
    /// <paramref name="idWriters"/>, opened as first needed under <paramref name="nameOf"/>), in file order within a part.
    /// </summary>
    private void Scatter(HashFile file, BatchSpillWriter?[] writers, SpillRowIdsWriter?[] idWriters, Func<int, string> nameOf, PartsOf partsOf, CancellationToken cancellationToken)
    {
        int parts = writers.Length;
        using var reader = NewReader(file.Path);
        using var ids = new SpillRowIdsReader(file.RowIds);
        var partOf = Array.Empty<int>();
        var counts = new int[parts + 1];
        while (!reader.AtEnd)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Governor.Check();
            var positions = reader.ReadInts();
            var batch = reader.Read();
            int n = batch.RowCount;
            var rowIds = batch.Rows.RowIds;
            if (!ids.Next() || ids.Count != n || !ids.Ids.SequenceEqual(rowIds.AsSpan(0, n))) throw new InvalidOperationException($"Spill file {file.Path} and its row ids disagree.");
            if (partOf.Length < n) partOf = new int[n];
            partsOf(ids, partOf.AsSpan(0, n));
            // A counting sort of the rows by part, keeping file order inside a part.
            Array.Clear(counts);
            for (int i = 0; i < n; i++) counts[partOf[i] + 1]++;
            for (int q = 0; q < parts; q++) counts[q + 1] += counts[q];
            var grouped = new int[n];
            var next = counts.AsSpan(0, parts).ToArray();
            for (int i = 0; i < n; i++) grouped[next[partOf[i]]++] = i;
            var blockParts = RowIdColumns.Of(ids);
            var spread = new List<(BatchSpillWriter, int[], int[])>();
            for (int q = 0; q < parts; q++)
            {
                if (counts[q] == counts[q + 1]) continue;
                var picked = grouped.AsSpan(counts[q], counts[q + 1] - counts[q]).ToArray();
                var at = new int[picked.Length];
                for (int i = 0; i < picked.Length; i++) at[i] = positions[picked[i]];
                spread.Add((writers[q] ??= NewWriter(_folder.NewFile(nameOf(q) + ".spill")), at, picked));
                WriteRowIds(idWriters[q] ??= new SpillRowIdsWriter(_folder.NewFile(nameOf(q) + ".ids")), rowIds, blockParts, picked);
            }
            BatchSpillWriter.WriteSpread(batch, spread);
        }
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

    public IEnumerable<RecordBatch> Emit(ISplitAssigner assigner, RunContext context, CancellationToken cancellationToken)
    {
        if (_bounded)
        {
            foreach (var batch in EmitBounded(context, cancellationToken)) yield return batch;
            yield break;
        }
        var lengths = new long[_files.Count];
        for (int f = 0; f < lengths.Length; f++)
        {
            lengths[f] = _files[f]?.Length ?? 0;
            _files[f]?.Dispose();
        }
        long spillBytes = lengths.Sum();
        Governor.Release();
        TraceMemory("pass 1 done");
        // Row ids in one array (8 bytes a row), and each row's file (2 bytes): the per-row data besides key columns held through pass 1.
        var ids = _ids = new long[_count];
        for (int b = 0, at = 0; b < _rowIds.Count; at += _rowIds[b].Length, b++) _rowIds[b].CopyTo(ids, at);
        _rowIds.Clear();
        var fileOf = new ushort[_count];
        for (int b = 0, at = 0; b < _fileOf.Count; at += _fileOf[b].Length, b++) _fileOf[b].CopyTo(fileOf, at);
        _fileOf.Clear();
        int count = ids.Length;
        context.OnProgress("split", 0, count);
        // The general path: the assigner sees the spilled rows' key columns (a row-local assigner's spill is bounded).
        SplitAssignment? assignment = assigner.Assign(new SplitInput(_schema, ids, k => _keyColumns.TryGetValue(k, out var parts)
            ? Column.Concat(parts)
            : throw new InvalidOperationException($"The assigner read column {k}, which it did not declare in KeyColumns."), Origin), context);
        _keyColumns.Clear();
        var tags = assignment.Tags;
        var folds = assignment.Folds;
        var order = assignment.Order;
        assignment = null;
        context.ExpectedRows = tags.LongCount(t => t != SplitTag.None);
        Governor.Release();
        TraceMemory("assigned");
        // With a shuffle pass 1's files are ranges of the shuffle hash: ordered a file at a time (the same order).
        order ??= _shuffle is { } shuffleHash ? RandomSplitter.HashOrderByRange(ids, fileOf, HashBits, shuffleHash) : null;
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
        // Iterator locals live as long as the iterator: drop what the passes below do not need.
        order = null;
        ids = null;
        _ids = null;

        var paths = _files.Select(w => w?.Path).ToList();
        var pieces = Pieces(lengths, fileOf, channel, rank, sizes);
        // Files of fixed-width values only, read in place: each value goes straight into its output batch.
        bool placed = pieces is not null && PlacedRows.Supports(_schema, _skipped) && _files.All(w => w is null || w.FixedWidthOnly);
        bool finite = _files.All(w => w is null || w.Float32Finite);
        fileOf = null!;
        Governor.Release();
        if (pieces is null)
        {
            // Buckets of a whole number of output batches, each about an eighth of the budget.
            long rowBytes = Math.Max(1, spillBytes / Math.Max(1, count));
            long perBucket = Math.Max(1, BucketBytes / (rowBytes * _batchRows)) * _batchRows;
            int rowsPerBucket = (int)Math.Min(int.MaxValue / 2, perBucket);
            var first = new int[channels.Count + 1];
            for (int c = 0; c < channels.Count; c++) first[c + 1] = first[c] + (int)((sizes[c] + (long)rowsPerBucket - 1) / rowsPerBucket);
            var buckets = new BatchSpillWriter?[first[^1]];
            if (RunTrace.On)
            {
                Console.Error.WriteLine($"trace: split spilled {count:N0} rows, {spillBytes >> 20} MiB in {paths.Count(p => p is not null)} files ({_float32?.Count(x => x) ?? 0} columns as float32, {_text?.Count(x => x) ?? 0} as the rows' text); repartitioned into {first[^1]} buckets of up to {rowsPerBucket:N0} rows");
            }
            var bucketPaths = new string?[buckets.Length];
            try
            {
                Partition(paths, channel, rank, first, rowsPerBucket, buckets, bucketPaths, cancellationToken);
            }
            finally
            {
                foreach (var w in buckets) w?.Dispose();
                foreach (var p in paths) if (p is not null) File.Delete(p);
            }
            context.Diagnostics.CountSpillRepartition();
            paths = [.. bucketPaths];
            pieces = new List<(int, int, int)>[channels.Count];
            for (int c = 0; c < channels.Count; c++)
            {
                pieces[c] = [];
                for (int k = first[c]; k < first[c + 1]; k++)
                {
                    int lo = (k - first[c]) * rowsPerBucket;
                    pieces[c].Add((k, lo, Math.Min(rowsPerBucket, sizes[c] - lo)));
                }
            }
            Governor.Release();
            TraceMemory("partitioned");
        }
        else if (RunTrace.On)
        {
            Console.Error.WriteLine($"trace: split spilled {count:N0} rows, {spillBytes >> 20} MiB in {paths.Count(p => p is not null)} files ({_float32?.Count(x => x) ?? 0} columns as float32, {_text?.Count(x => x) ?? 0} as the rows' text), each a run of ranks per channel (no repartition)");
        }

        // Repartitioned buckets were written from these files' values: finite in them, finite in the buckets.
        var images = placed && finite ? ImageColumns() : null;
        foreach (var batch in EmitPieces(channels, pieces, paths, null, sizes, folds is not null, placed, images, (_, c, _) => new PieceRanks(channel, rank, c, null), context, cancellationToken)) yield return batch;
        context.OnProgress("split", count, count);
    }

    /// <summary>
    /// Pass 3: each channel's pieces in rank order, a file's rows of the channel at a time, cut into the in-memory path's
    /// batches. <paramref name="ranksOf"/> gives a piece's ranks; a file (and its side files: row ids, cached tags) is deleted after the last
    /// channel that reads it. <paramref name="ranksOf"/> (file, channel, slot) may use one of two scratch slots, 0 and 1,
    /// for two pieces placed at once.
    /// </summary>
    private IEnumerable<RecordBatch> EmitPieces(List<(SplitTag Split, short Fold)> channels, List<(int File, int Lo, int Count)>[] pieces, List<string?> paths, List<string[]>? sidePaths,
        int[] sizes, bool withFolds, bool placed, bool[]? images, Func<int, int, int, PieceRanks> ranksOf, RunContext context, CancellationToken cancellationToken)
    {
        var uses = new int[paths.Count];
        foreach (var list in pieces) foreach (var (file, _, _) in list) uses[file]++;
        void Used(int file)
        {
            if (--uses[file] > 0) return;
            File.Delete(paths[file]!);
            if (sidePaths is not null) foreach (var side in sidePaths[file]) File.Delete(side);
        }
        if (placed)
        {
            context.Diagnostics.CountSpillPlaced();
            if (images is not null)
            {
                context.Diagnostics.CountSpillPlacedAsFloat32();
                if (RunTrace.On) Console.Error.WriteLine("trace: split places its float32 columns as the rows' float32 values");
            }
            foreach (var batch in EmitPlaced(channels, pieces, paths, Used, ranksOf, sizes, withFolds, images, cancellationToken)) yield return batch;
            TraceMemory("emitted");
            yield break;
        }
        for (int c = 0; c < channels.Count; c++)
        {
            var (split, fold) = channels[c];
            // Rows [start, start + pending) of the channel are placed: row k at (parts[part[k - start]], row[k - start]).
            var parts = new List<RecordBatch>();
            int[] part = [], row = [];
            int start = 0, pending = 0;
            foreach (var (file, lo, n) in pieces[c])
            {
                if (lo != start + pending) throw new InvalidOperationException($"Spill piece of channel {c} starts at rank {lo}, expected {start + pending}.");
                if (part.Length < pending + n)
                {
                    Array.Resize(ref part, pending + n);
                    Array.Resize(ref row, pending + n);
                }
                var ranks = ranksOf(file, c, 0);
                using (var reader = NewReader(paths[file]!))
                {
                    var mine = new List<int>();
                    var ranked = new List<int>();
                    int seq = 0;
                    while (!reader.AtEnd)
                    {
                        // Only the channel's rows are built: a small channel does not hold whole chunks of the others.
                        var positions = reader.ReadInts();
                        mine.Clear();
                        ranked.Clear();
                        for (int i = 0; i < positions.Length; i++)
                        {
                            int r = ranks.Of(positions[i], seq + i);
                            if (r < 0) continue;
                            mine.Add(i);
                            ranked.Add(r);
                        }
                        seq += positions.Length;
                        var b = reader.Read(mine.Count == positions.Length ? null : mine.ToArray());
                        if (mine.Count == 0) continue;
                        for (int i = 0; i < mine.Count; i++)
                        {
                            int k = ranked[i] - start;
                            part[k] = parts.Count;
                            row[k] = i;
                        }
                        parts.Add(b);
                    }
                }
                Used(file);
                pending += n;
                int full = pending - pending % _batchRows;
                for (int at = 0; at < full; at += _batchRows)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Governor.Check();
                    yield return Output(parts, part.AsSpan(at, _batchRows).ToArray(), row.AsSpan(at, _batchRows).ToArray(), split, fold, withFolds);
                }
                // The rows left for the next batch keep only the parts they come from.
                pending -= full;
                start += full;
                var kept = new List<RecordBatch>();
                var renumber = new Dictionary<int, int>();
                for (int k = 0; k < pending; k++)
                {
                    int q = part[full + k];
                    if (!renumber.TryGetValue(q, out int r)) { renumber[q] = r = kept.Count; kept.Add(parts[q]); }
                    part[k] = r;
                    row[k] = row[full + k];
                }
                parts = kept;
            }
            if (pending > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Governor.Check();
                yield return Output(parts, part.AsSpan(0, pending).ToArray(), row.AsSpan(0, pending).ToArray(), split, fold, withFolds);
            }
        }
        TraceMemory("emitted");
    }


    /// <summary>
    /// Pass 3 for files of fixed-width values (<see cref="BatchSpillWriter.FixedWidthOnly"/>): each piece's rows are
    /// read straight into the output batches that hold their ranks (<see cref="BatchSpillReader.ReadPlaced(ReadOnlySpan{int}, ReadOnlySpan{int}, PlaceTargets, bool)"/>), instead
    /// of into column arrays of their own that a gather then copies again. Same batches, same values, same row
    /// information as the general path (whose <see cref="Output"/> gathers rows without null masks or group keys here).
    /// </summary>
    private IEnumerable<RecordBatch> EmitPlaced(List<(SplitTag, short)> channels, List<(int File, int Lo, int Count)>[] pieces, List<string?> paths, Action<int> used, Func<int, int, int, PieceRanks> ranksOf, int[] sizes, bool withFolds, bool[]? images, CancellationToken cancellationToken)
    {
        var names = _textNames ?? (images is null ? null : _schema.Fields.Select(f => f.Name).ToArray());
        bool times = _stage.HasLineage;
        int batchRows = _batchRows;
        // Two pieces at a time, one on another core: their rows hold disjoint ranks, so they fill disjoint rows of the window.
        var buffers = new[] { new PlaceBuffers(), new PlaceBuffers() };
        for (int c = 0; c < channels.Count; c++)
        {
            var (split, fold) = channels[c];
            var list = pieces[c];
            // window[k] holds the channel's ranks [(first + k) × batchRows, …): the batches not yet emitted.
            var window = new List<PlacedRows>();
            int first = 0;
            long done = 0;
            for (int i = 0; i < list.Count; i += 2)
            {
                int m = Math.Min(2, list.Count - i);
                long end = done;
                for (int j = 0; j < m; j++)
                {
                    if (list[i + j].Lo != end) throw new InvalidOperationException($"Spill piece of channel {c} starts at rank {list[i + j].Lo}, expected {end}.");
                    end += list[i + j].Count;
                }
                while ((first + window.Count) * (long)batchRows < end)
                {
                    long at = (first + window.Count) * (long)batchRows;
                    window.Add(new PlacedRows(_schema, (int)Math.Min(batchRows, sizes[c] - at), _skipped, images, _text is not null));
                }
                int channelIndex = c, firstBatch = first;
                var other = m == 2 ? Task.Run(() => PlacePiece(paths[list[i + 1].File]!, ranksOf(list[i + 1].File, channelIndex, 1), firstBatch, window, times, buffers[1]), cancellationToken) : null;
                try
                {
                    PlacePiece(paths[list[i].File]!, ranksOf(list[i].File, c, 0), first, window, times, buffers[0]);
                }
                finally
                {
                    // The other reader always finishes before the window is used again.
                    other?.ConfigureAwait(false).GetAwaiter().GetResult();
                }
                for (int j = 0; j < m; j++) used(list[i + j].File);
                done = end;
                while (window.Count > 0 && (first + 1) * (long)batchRows <= done)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Governor.Check();
                    yield return Placed(window[0], split, fold, withFolds, names);
                    window.RemoveAt(0);
                    first++;
                }
            }
            if (window.Count > 0)
            {
                if (window.Count > 1 || done != sizes[c]) throw new InvalidOperationException($"Spill pieces of channel {c} end at rank {done}, expected {sizes[c]}.");
                cancellationToken.ThrowIfCancellationRequested();
                Governor.Check();
                yield return Placed(window[0], split, fold, withFolds, names);
            }
        }
    }

    /// <summary>
    /// The float32 columns to place as the rows' float32 values (<see cref="PlacedRows.Image"/>) instead of as doubles, when
    /// every column is one of them or an integer (whose value the image then also holds) and every column is spilled;
    /// null otherwise. Only a float32 writer reads such columns (SpillNarrowing), and it copies a row's float32 values as
    /// the source kept them: no double array per column, no conversion back to float32 per value.
    /// </summary>
    private bool[]? ImageColumns()
    {
        if (_float32 is null || _unread is not null || _text is not null) return null;
        for (int c = 0; c < _schema.Count; c++)
        {
            if (!(_schema[c].Kind == ColumnKind.Float64 && _float32[c]) && _schema[c].Kind != ColumnKind.Int64) return null;
        }
        return _float32;
    }

    /// <summary>Reads one file's rows that <paramref name="ranks"/> ranks (one channel's) into the window whose first batch is number <paramref name="first"/>.</summary>
    private void PlacePiece(string path, PieceRanks ranks, int first, List<PlacedRows> window, bool times, PlaceBuffers buffers)
    {
        int batchRows = _batchRows;
        ref int[] slot = ref buffers.Slot;
        ref int[] offset = ref buffers.Offset;
        using var reader = NewReader(path);
        var targets = new PlaceTargets(window);
        int seq = 0;
        while (!reader.AtEnd)
        {
            var positions = reader.ReadInts();
            if (slot.Length < positions.Length)
            {
                slot = new int[positions.Length];
                offset = new int[positions.Length];
            }
            for (int i = 0; i < positions.Length; i++)
            {
                int r = ranks.Of(positions[i], seq + i);
                if (r < 0) { slot[i] = -1; continue; }
                slot[i] = r / batchRows - first;
                offset[i] = r % batchRows;
            }
            seq += positions.Length;
            reader.ReadPlaced(slot.AsSpan(0, positions.Length), offset.AsSpan(0, positions.Length), targets, times);
        }
    }

    /// <summary>
    /// A piece's ranks: of a row at input position <c>position</c>, the <c>seq</c>-th of its file, its rank in the channel
    /// being emitted, or −1 when it belongs to another channel. From the whole run's arrays (<paramref name="channel"/>,
    /// <paramref name="rank"/>, channel <paramref name="c"/>), or from the file's own ranks by row (<paramref name="local"/>).
    /// </summary>
    internal readonly struct PieceRanks(short[]? channel, int[]? rank, int c, int[]? local)
    {
        public int Of(int position, int seq) => local is not null ? local[seq] : channel![position] == c ? rank![position] : -1;
    }

    /// <summary>Each row's batch in the window and row in that batch, reused from chunk to chunk by one reader.</summary>
    private sealed class PlaceBuffers
    {
        public int[] Slot = [];
        public int[] Offset = [];
    }

    /// <summary>A placed batch as <see cref="Output"/> gives the same rows: tagged, its fold, its lineage times.</summary>
    private RecordBatch Placed(PlacedRows rows, SplitTag split, short fold, bool withFolds, string[]? names)
    {
        var batch = rows.ToBatch(_schema, split, names);
        if (withFolds) batch = batch.WithRows(batch.Rows with { Folds = Enumerable.Repeat(fold, rows.Count).ToArray() });
        if (_stage.HasLineage) batch = batch.WithRows(batch.Rows with { GroupKeys = null, Times = rows.Times });
        return batch;
    }

    /// <summary>
    /// Each channel's pieces in rank order (file, first rank, rows) when every file's rows of a channel hold consecutive
    /// ranks and no file is larger than pass 3 may load at once; null otherwise (pass 2 repartitions).
    /// </summary>
    private List<(int File, int Lo, int Count)>[]? Pieces(long[] lengths, ushort[] fileOf, short[] channel, int[] rank, int[] sizes)
    {
        int files = lengths.Length, channels = sizes.Length;
        if (lengths.Any(l => l > 2 * BucketBytes)) return null;
        var lo = new int[files * channels];
        var hi = new int[files * channels];
        var rows = new int[files * channels];
        lo.AsSpan().Fill(int.MaxValue);
        for (int p = 0; p < fileOf.Length; p++)
        {
            int c = channel[p];
            if (c < 0) continue;
            int k = fileOf[p] * channels + c;
            lo[k] = Math.Min(lo[k], rank[p]);
            hi[k] = Math.Max(hi[k], rank[p]);
            rows[k]++;
        }
        var pieces = new List<(int File, int Lo, int Count)>[channels];
        for (int c = 0; c < channels; c++)
        {
            pieces[c] = [];
            for (int f = 0; f < files; f++)
            {
                int k = f * channels + c;
                if (rows[k] == 0) continue;
                if (hi[k] - lo[k] + 1 != rows[k]) return null;
                pieces[c].Add((f, lo[k], rows[k]));
            }
            pieces[c].Sort((a, b) => a.Lo.CompareTo(b.Lo));
            int expected = 0;
            foreach (var (_, l, n) in pieces[c])
            {
                if (l != expected) return null;
                expected += n;
            }
            if (expected != sizes[c]) return null;
        }
        return pieces;
    }

    /// <summary>One output batch: the rows at (parts[part[i]], row[i]), tagged, with their lineage values.</summary>
    private RecordBatch Output(List<RecordBatch> parts, int[] part, int[] row, SplitTag split, short fold, bool withFolds)
    {
        int m = part.Length;
        var gathered = RecordBatch.Gather(parts, part, row, split);
        if (withFolds) gathered = gathered.WithRows(gathered.Rows with { Folds = Enumerable.Repeat(fold, m).ToArray() });
        if (_stage.HasLineage)
        {
            bool hasGroups = parts[0].Rows.GroupKeys is not null, hasTimes = parts[0].Rows.Times is not null;
            string?[]? g = hasGroups ? new string?[m] : null;
            long[]? t = hasTimes ? new long[m] : null;
            for (int i = 0; i < m; i++)
            {
                if (g is not null) g[i] = parts[part[i]].Rows.GroupKeys![row[i]];
                if (t is not null) t[i] = parts[part[i]].Rows.Times![row[i]];
            }
            gathered = gathered.WithRows(gathered.Rows with { GroupKeys = g, Times = t });
        }
        return gathered;
    }

    /// <summary>Pass 2: one read of pass 1's files, each row appended to its bucket with its position.</summary>
    private void Partition(List<string?> files, short[] channel, int[] rank, int[] first, int rowsPerBucket, BatchSpillWriter?[] buckets, string?[] paths, CancellationToken cancellationToken)
    {
        foreach (var path in files)
        {
            if (path is null) continue;
            using var reader = NewReader(path);
            while (!reader.AtEnd)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Governor.Check();
                var positions = reader.ReadInts();
                var batch = reader.Read();
                int n = batch.RowCount;
                // Counting sort of the batch's rows by bucket, keeping file order inside a bucket.
                var bucketOf = new int[n];
                var counts = new Dictionary<int, int>();
                for (int i = 0; i < n; i++)
                {
                    int c = channel[positions[i]];
                    int b = c < 0 ? -1 : first[c] + rank[positions[i]] / rowsPerBucket;
                    bucketOf[i] = b;
                    if (b >= 0) counts[b] = counts.GetValueOrDefault(b) + 1;
                }
                var rows = counts.ToDictionary(kv => kv.Key, kv => new List<int>(kv.Value));
                for (int i = 0; i < n; i++) if (bucketOf[i] >= 0) rows[bucketOf[i]].Add(i);
                foreach (var (b, list) in rows.OrderBy(kv => kv.Key))
                {
                    var picked = list.ToArray();
                    var at = new int[picked.Length];
                    for (int i = 0; i < at.Length; i++) at[i] = positions[picked[i]];
                    var writer = buckets[b] ??= NewWriter(paths[b] = _folder.NewFile($"bucket-{b:D5}.spill"));
                    writer.WriteInts(at);
                    writer.Write(batch, picked);
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var w in _files) w?.Dispose();
        foreach (var w in _rowIdFiles) w?.Dispose();
        _runs?.Dispose();
    }

    /// <summary>DATAPREP_TRACE=1: managed heap and the process's peak RSS (VmHWM) at a phase boundary.</summary>
    private static void TraceMemory(string phase)
    {
        if (!RunTrace.On) return;
        string hwm = "?", rss = "?";
        try
        {
            foreach (var l in File.ReadLines("/proc/self/status"))
            {
                if (l.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = l[6..].Trim();
                if (l.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = l[6..].Trim();
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        var gc = GC.GetGCMemoryInfo();
        Console.Error.WriteLine($"trace: split {phase} at {RunTrace.Seconds:0.000} s: managed heap {GC.GetTotalMemory(false) >> 20} MiB, GC committed {gc.TotalCommittedBytes >> 20} MiB, allocated {GC.GetTotalAllocatedBytes() >> 20} MiB, RSS {rss}, peak RSS {hwm}");
    }
}

/// <summary>
/// What waits beside a chunk's row ids in a spill's row-id file (<see cref="SpillRowIdsWriter"/>), each null or one value a
/// row: tags and folds (a row-local assigner's), class or unit numbers, times and fold times, key hashes.
/// </summary>
internal readonly record struct RowIdColumns(SplitTag[]? Tags = null, short[]? Folds = null, int[]? Classes = null, long[]? Times = null, long[]? FoldTimes = null,
    ulong[]? KeyHashes = null, ulong[]? FoldKeyHashes = null)
{
    /// <summary>The flags of the parts present.</summary>
    public RowIdParts Flags => (Tags is null ? 0 : RowIdParts.Tags) | (Folds is null ? 0 : RowIdParts.Folds) | (Classes is null ? 0 : RowIdParts.Classes)
        | (Times is null ? 0 : RowIdParts.Times) | (FoldTimes is null ? 0 : RowIdParts.FoldTimes)
        | (KeyHashes is null ? 0 : RowIdParts.KeyHashes) | (FoldKeyHashes is null ? 0 : RowIdParts.FoldKeyHashes);

    /// <summary>A copy of the parts of <paramref name="block"/>'s last block.</summary>
    public static RowIdColumns Of(SpillRowIdsReader block) => new(
        block.HasTags ? block.Tags.ToArray() : null, block.HasFolds ? block.Folds.ToArray() : null, block.HasClasses ? block.Classes.ToArray() : null,
        block.HasTimes ? block.Times.ToArray() : null, block.HasFoldTimes ? block.FoldTimes.ToArray() : null,
        block.HasKeyHashes ? block.KeyHashes.ToArray() : null, block.HasFoldKeyHashes ? block.FoldKeyHashes.ToArray() : null);
}
