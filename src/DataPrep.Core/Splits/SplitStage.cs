using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Decides each row's split. Assigners see the whole dataset at once (exact counts, group sizes and
/// time cut-offs need it) and return tags; rows tagged <see cref="SplitTag.None"/> are dropped (the
/// assigner counts why in the report).
/// </summary>
public interface ISplitAssigner
{
    /// <summary>A short description for <c>Describe()</c> and logs.</summary>
    string Describe();

    /// <summary>Validates the assigner's columns against the input schema.</summary>
    /// <exception cref="PipelineValidationException">A column is missing or of the wrong kind.</exception>
    void Bind(Schema input);

    /// <summary>
    /// The input columns <see cref="Assign"/> reads (after <see cref="Bind"/>). Only these stay in memory when
    /// the split stage spills; null means every column (such an assigner's input is never spilled).
    /// </summary>
    IReadOnlyCollection<int>? KeyColumns => null;

    /// <summary>Tags every row, and optionally fixes the output order.</summary>
    SplitAssignment Assign(SplitInput input, RunContext context);
}

/// <summary>
/// An assigner whose tags (and folds) for a row follow from that row alone, which reports nothing and leaves the order to
/// the split stage (<see cref="SplitAssignment.Order"/> null): the plans' cut and table assigners of a scaled-out run. A
/// spilling split stage tags each batch as it spills it and keeps a byte a row (two more with folds) instead of the key
/// columns (a group key's string: about 40 bytes a row), so what it holds per row does not depend on the keys' text.
/// Besides the plans' assigners, stable assignment (a rule per row).
/// </summary>
internal interface IRowLocalAssigner : ISplitAssigner
{
    /// <summary>
    /// The first row of <paramref name="batch"/> that <see cref="ISplitAssigner.Assign"/> would refuse (a missing key), or
    /// −1. A spilling split keeps that row's origin, tags no later batch, and raises <see cref="Refused"/> once every row
    /// has been read, as <see cref="ISplitAssigner.Assign"/> raises it in memory after every row has been read (an error
    /// in a later row is reported first in both).
    /// </summary>
    int FirstRefused(RecordBatch batch) => -1;

    /// <summary>The error for the first row, in input order, that <see cref="FirstRefused"/> found.</summary>
    DataFormatException Refused(string? file, long row) => throw new InvalidOperationException($"{Describe()} refuses no row.");
}

/// <summary>
/// An assigner whose tags (and folds) follow from each row's id — and, for a stratified split, its class; for a noisy/clean
/// split without groups, its side — once it has seen every row's: a random split's cuts, each side's cuts. It leaves the
/// order to the split stage. A spilling split then keeps no per-row state in memory: row ids (and class numbers) wait in
/// its files and are streamed back for <see cref="ForRowIds"/> (see <see cref="SplitSpill"/>).
/// </summary>
internal interface IRowIdAssigner : ISplitAssigner
{
    /// <summary>Whether this assigner's tags follow from row ids (and classes, <see cref="HasClasses"/>) alone.</summary>
    bool TagsFromRowIds { get; }

    /// <summary>The column whose class (<see cref="RandomSplitAssigner.KeyOf"/>) decides a row's tag besides its id; −1: none.</summary>
    int ClassColumn => -1;

    /// <summary>Whether a row's class (<see cref="ClassKeys"/>) decides its tag besides its id.</summary>
    bool HasClasses => ClassColumn >= 0;

    /// <summary>
    /// The class key of each row of <paramref name="batch"/> into <paramref name="keys"/> (by default
    /// <see cref="RandomSplitAssigner.KeyOf"/> of <see cref="ClassColumn"/>); returns the first row it refuses (the rows
    /// before it keyed), or −1.
    /// </summary>
    int ClassKeys(RecordBatch batch, Span<string> keys)
    {
        var column = batch.Columns[ClassColumn];
        for (int i = 0; i < batch.RowCount; i++) keys[i] = RandomSplitAssigner.KeyOf(column, i);
        return -1;
    }

    /// <summary>The error for the first row, in input order, that <see cref="ClassKeys"/> refused: raised once every row has been read, as <see cref="ISplitAssigner.Assign"/> raises it.</summary>
    DataFormatException RefusedClass(string? file, long row) => throw new InvalidOperationException($"{Describe()} refuses no row's class.");

    /// <summary>
    /// The tagger, from <paramref name="pass"/>es over every row (each enumeration yields every row once, in chunks that
    /// are valid until the next one is asked for); <paramref name="rows"/> is their number and, with
    /// <see cref="HasClasses"/>, <paramref name="classRows"/> and <paramref name="classKeys"/> the rows and the key of each
    /// class number (numbers as the chunks give them, in any order of the classes). A pass holds at most about
    /// <paramref name="maxBytes"/>. Reports into <paramref name="context"/> as <see cref="ISplitAssigner.Assign"/> does.
    /// </summary>
    IRowIdTagger ForRowIds(Func<IEnumerable<RowIdChunk>> pass, long rows, IReadOnlyList<long>? classRows, IReadOnlyList<string>? classKeys, long maxBytes, RunContext context);
}

/// <summary>Row ids and, for a stratified split, each row's class number (empty otherwise).</summary>
internal readonly record struct RowIdChunk(ReadOnlyMemory<long> Ids, ReadOnlyMemory<int> Classes);

/// <summary>Tags rows by their ids (and class numbers) alone (see <see cref="IRowIdAssigner"/>).</summary>
internal interface IRowIdTagger
{
    /// <summary>Whether rows get folds (−1 for rows outside them), as <see cref="SplitAssignment.Folds"/> non-null.</summary>
    bool HasFolds { get; }

    /// <summary>
    /// Each row's split, and its fold when <see cref="HasFolds"/> (<paramref name="folds"/> is then as long as the ids);
    /// <paramref name="classes"/> holds each row's class number when the assigner has a class column.
    /// </summary>
    void Tag(ReadOnlySpan<long> ids, ReadOnlySpan<int> classes, Span<SplitTag> tags, Span<short> folds);
}

/// <summary>
/// An assigner whose tags follow from each row's time (UTC ticks, <see cref="TimeSplitAssigner.TryGetUtcTicks"/>) once
/// every row's time is known — a time split, cut over all rows or by the plan — and whose output order is time order, ties
/// by row id (<see cref="TimeSplitAssigner.TimeOrder"/>), unless the split stage shuffles; or time folds
/// (<see cref="KFoldAssigner"/>), whose folds follow from each row's fold time (<see cref="KFoldAssigner.FoldTimeOf"/>)
/// after a time test split, if any, and whose order is the split stage's. A spilling split then keeps nothing per row in
/// memory: each row's times wait beside its id, the cuts come from passes over those files, and the rows are put in time
/// order a bucket of (time, row id) order at a time (see <see cref="SplitSpill"/>).
/// </summary>
internal interface IRowTimeAssigner : ISplitAssigner
{
    /// <summary>Whether the tags (and folds) follow from each row's times alone (after <see cref="ISplitAssigner.Bind"/>).</summary>
    bool TagsFromTimes => true;

    /// <summary>The time column (after <see cref="ISplitAssigner.Bind"/>).</summary>
    int TimeIndex { get; }

    /// <summary>Whether the output is in (time, row id) order; false: the order is left to the split stage.</summary>
    bool InTimeOrder { get; }

    /// <summary>
    /// The times a row's tags follow from: its UTC ticks (<see cref="RowIdParts.Times"/>; a refused time is noted with the
    /// cutter), its fold time (<see cref="RowIdParts.FoldTimes"/>), or both.
    /// </summary>
    RowIdParts TimeParts => RowIdParts.Times;

    /// <summary>A run's cut: notes the rows whose time is refused while they spill, then cuts (and reports) over every row.</summary>
    ITimeCutter Cutter(RunContext context);
}

/// <summary>One run's cut of an <see cref="IRowTimeAssigner"/>.</summary>
internal interface ITimeCutter
{
    /// <summary>Notes row <paramref name="row"/> of <paramref name="column"/> (origin in <paramref name="rows"/>), whose time was refused; may throw at once.</summary>
    void Refused(Column column, int row, RowInfo rows);

    /// <summary>
    /// The cut over <paramref name="rows"/> rows, after an error for any row noted as refused: <paramref name="histogram"/>
    /// counts every row by <see cref="TimeSplitCuts.BinOf"/> of its ticks, <paramref name="pass"/> streams every row's
    /// times (those of <see cref="IRowTimeAssigner.TimeParts"/>) and id, a pass holds at most about
    /// <paramref name="maxHeld"/> rows. Reports as the assigner does over all rows.
    /// </summary>
    TimeTagger Cut(long rows, long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld);
}

/// <summary>
/// An assigner whose tags (and folds) follow from each row's unit — its group, or its group and side for noisy/clean by
/// group — once every group's rows (and each group's rows per class, or per side) are counted in a
/// <see cref="GroupTable"/>: a group split, a noisy/clean split by group, group folds (after a group test split by the
/// same column, or none). It leaves the order to the split stage. A spilling split then keeps the table
/// (about 30–40 bytes a group beyond its key's text) and nothing per row: each row's unit number waits beside its id
/// (see <see cref="SplitSpill"/>).
/// </summary>
internal interface IRowGroupAssigner : ISplitAssigner
{
    /// <summary>Whether the tags follow from each row's unit alone (after <see cref="ISplitAssigner.Bind"/>).</summary>
    bool TagsFromGroups => true;

    /// <summary>A table for <see cref="Count"/>, empty.</summary>
    GroupTable NewTable();

    /// <summary>
    /// Counts the rows of <paramref name="batch"/> into <paramref name="table"/>, each row's unit number into
    /// <paramref name="units"/>; returns the first row it refuses (a missing key: the rows before it counted), or −1.
    /// </summary>
    int Count(RecordBatch batch, GroupTable table, Span<int> units);

    /// <summary>The error for the first row, in input order, that <see cref="Count"/> refused: raised once every row has been read, as <see cref="ISplitAssigner.Assign"/> raises it.</summary>
    DataFormatException Refused(string? file, long row);

    /// <summary>Each unit's split (and fold), by unit number, from the table of every row; reports as <see cref="ISplitAssigner.Assign"/> does.</summary>
    UnitTags TagUnits(GroupTable table, RunContext context);

    /// <summary>
    /// Past how many groups of the table (<see cref="GroupTable.Count"/>) the decision is by hash ranges of the group keys
    /// (<see cref="GroupRangeWalk"/>), which need no table of every group; <see cref="int.MaxValue"/>: never. A spilling
    /// split then lets the table go, keeps each row's key hashes (<see cref="RangeHashes"/>) beside its id and a file of
    /// key runs, and cuts with <see cref="CutRanges"/>.
    /// </summary>
    int RangeGroups => int.MaxValue;

    /// <summary>Under ranges: the hashes of a row's key its split (the split hash) and its fold (the fold hash) follow from; null for one it does not cut by.</summary>
    (KeyedHash? Split, KeyedHash? Fold) RangeHashes => (null, null);

    /// <summary>Under ranges: each row's group key (<see cref="RandomSplitAssigner.KeyOf"/>), as <see cref="Count"/> counts it; returns the first row it refuses (the rows before it keyed), or −1.</summary>
    int Keys(RecordBatch batch, Span<string> keys) => throw new InvalidOperationException($"{Describe()} is never cut by hash ranges.");

    /// <summary>
    /// Under ranges: the cuts of the split and of the folds (null for one it does not cut by) from <paramref name="runs"/>
    /// (each enumeration yields every row's key once, as runs of one key's rows, keys in <see cref="GroupKeySet.KeyBytes"/>'
    /// form, each valid until the next is asked for; <paramref name="rows"/> in all), walked in
    /// memory bounded by <paramref name="partitionGroups"/> groups (<see cref="GroupRangeWalk.PlanEncoded"/>, files in
    /// <paramref name="folder"/>); reports as <see cref="ISplitAssigner.Assign"/> does.
    /// </summary>
    GroupRangeCuts CutRanges(Func<IEnumerable<(ReadOnlyMemory<byte> Key, long Rows)>> runs, long rows, SpillFolder folder, int partitionGroups, RunContext context, CancellationToken cancellationToken)
        => throw new InvalidOperationException($"{Describe()} is never cut by hash ranges.");
}

/// <summary>
/// A group split's or group folds' cuts by hash ranges (<see cref="IRowGroupAssigner.CutRanges"/>): null for what is not
/// cut (no split: every row in train; no folds); <paramref name="TrainRows"/>, the rows the split leaves in train.
/// </summary>
internal sealed record GroupRangeCuts(List<GroupCut>? Split, List<GroupCut>? Folds, long TrainRows);

/// <summary>Each unit's split, by unit number, and with folds each unit's fold (−1 for units outside them).</summary>
internal sealed record UnitTags(SplitTag[] Tags, short[]? Folds = null);

/// <summary>What an assigner decided.</summary>
/// <param name="Tags">The split of each row (position in <see cref="SplitInput"/>); None drops the row.</param>
/// <param name="Order">Row positions in output order (e.g. time order); null means shuffled by seed, or input order.</param>
/// <param name="Folds">k-fold: the fold of each row (−1 for rows outside the folds, such as a held-out test split).</param>
public sealed record SplitAssignment(SplitTag[] Tags, int[]? Order = null, short[]? Folds = null);

/// <summary>All rows of a run, addressed by position 0…Count−1 in input order, without copying the data.</summary>
public sealed class SplitInput
{
    private readonly Dictionary<int, Column> _columns = [];
    private readonly Func<int, Column>? _spilledColumn;
    private readonly Func<int, (int, long)>? _spilledOrigin;

    /// <summary>Creates the input of an assigner over batches of one schema (for tests and custom stages).</summary>
    public SplitInput(IReadOnlyList<RecordBatch> batches, Schema schema)
    {
        Batches = batches;
        Schema = schema;
        Count = batches.Sum(b => b.RowCount);
        RowIds = new long[Count];
        for (int b = 0, at = 0; b < batches.Count; at += batches[b].RowCount, b++)
        {
            batches[b].Rows.RowIds.AsSpan(0, batches[b].RowCount).CopyTo(RowIds.AsSpan(at));
        }
    }

    /// <summary>The input of a spilled run: only row ids and the assigner's key columns are in memory.</summary>
    internal SplitInput(Schema schema, long[] rowIds, Func<int, Column> column, Func<int, (int, long)> origin)
    {
        Batches = [];
        Schema = schema;
        Count = rowIds.Length;
        RowIds = rowIds;
        _spilledColumn = column;
        _spilledOrigin = origin;
    }

    /// <summary>The input batches in order (empty when the data was spilled to disk; use <see cref="Column"/>).</summary>
    public IReadOnlyList<RecordBatch> Batches { get; }

    /// <summary>The schema.</summary>
    public Schema Schema { get; }

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>Stable row ids by position.</summary>
    public long[] RowIds { get; }

    /// <summary>One column over all rows (concatenated once, on first use).</summary>
    public Column Column(int index)
    {
        if (!_columns.TryGetValue(index, out var c))
        {
            _columns[index] = c = _spilledColumn is not null ? _spilledColumn(index) : Data.Column.Concat(Batches.Select(b => b.Columns[index]).ToArray());
        }
        return c;
    }

    /// <summary>Where row position <paramref name="position"/> came from, for error messages.</summary>
    public (int Source, long SourceRow) Origin(int position)
    {
        if (_spilledOrigin is not null) return _spilledOrigin(position);
        foreach (var b in Batches)
        {
            if (position < b.RowCount) return (b.Rows.Sources[position], b.Rows.SourceRows[position]);
            position -= b.RowCount;
        }
        throw new ArgumentOutOfRangeException(nameof(position));
    }
}

/// <summary>
/// The records the run's writer writes for the rows of <paramref name="batch"/>, each without its line break: for a text
/// spill, the rows a source kept no text for (<see cref="SplitStage.SpillText"/>).
/// </summary>
internal delegate ReadOnlyMemory<byte>[] RowRecords(RecordBatch batch);

/// <summary>
/// The split stage: collects the rows, lets an <see cref="ISplitAssigner"/> tag them, then emits them split
/// by split in output order (the assigner's, else shuffled by hash(seed, "shuffle", row id), else input
/// order), gathered straight from the input batches. A split is a tag, not a fork.
/// </summary>
/// <remarks>
/// With a memory budget, input beyond half the budget is spilled to a temp file (see <see cref="SplitSpill"/>);
/// only row ids and the assigner's key columns stay in memory. The rows are then bucketed by output position
/// and each bucket is loaded and ordered on its own, so the emitted batches are exactly those of the
/// in-memory path, with the same boundaries.
/// </remarks>
public sealed class SplitStage(ISplitAssigner assigner, ulong seed, bool shuffle, int batchRows = 65_536, string? lineageGroup = null, string? lineageTime = null, MemoryOptions? memory = null) : IPipelineStage
{
    private int _groupIndex = -1;
    private int _timeIndex = -1;

    /// <summary>The assigner.</summary>
    public ISplitAssigner Assigner => assigner;

    /// <summary>The column whose values the lineage sidecar records as each row's group, if any.</summary>
    internal string? LineageGroup => lineageGroup;

    /// <summary>The column whose values the lineage sidecar records as each row's time, if any.</summary>
    internal string? LineageTime => lineageTime;

    /// <summary>
    /// By input column, the Float64 columns a spill may keep as float32 (null: none): those that only a float32 writer
    /// reads after the split, decided in one place, <see cref="Conversion.SpillNarrowing.Float32Columns"/>. The output's bytes do not
    /// change (see <see cref="Data.Float32Rule"/>); the spill writes and reads half the bytes of such columns.
    /// </summary>
    internal bool[]? SpillFloat32 { get; set; }

    /// <summary>
    /// The most rows one channel (a split, or a fold) of a spilled run may hold: positions in a channel are 32-bit
    /// (2^31 − 1 rows); more is refused before anything is written (<see cref="Conversion.DataPrepRegistry.MaxChannelRows"/> sets it
    /// lower for tests).
    /// </summary>
    internal int MaxChannelRows { get; set; } = int.MaxValue;

    /// <summary>
    /// By input column, the columns a spill does not write at all (null: none): those nothing after the split reads,
    /// decided in one place, <see cref="Conversion.SpillNarrowing.UnreadColumns"/> (a group key under <c>--drop</c>, say).
    /// They come back as <see cref="SpilledColumn"/> placeholders; the output's bytes do not change.
    /// </summary>
    internal bool[]? SpillUnread { get; set; }

    /// <summary>
    /// For a writer that copies rows' text (label-first CSV): by input column, the columns the rows' text carries to the
    /// writer, and the writer's records of rows the source kept no text for (null: none), decided in one place,
    /// <see cref="Conversion.SpillNarrowing.TextColumns"/>. A spill then writes each row's text instead of those columns'
    /// values, and hands it back as the batch's <see cref="RecordBatch.Raw"/>: the writer copies the text as it does in
    /// memory, instead of formatting every number parsed back from the spill. Used when the first batch spilled has text
    /// (a text source); the output's bytes do not change.
    /// </summary>
    internal (bool[] Columns, RowRecords Records)? SpillText { get; set; }

    /// <summary>Whether the last run spilled its input to disk (for tests and traces).</summary>
    public bool Spilled { get; private set; }

    /// <inheritdoc />
    public string Describe() => assigner.Describe() + (shuffle ? ", shuffled" : assigner is TimeSplitAssigner ? ", time order" : ", input order");

    /// <inheritdoc />
    public Schema Bind(Schema input)
    {
        assigner.Bind(input);
        _groupIndex = lineageGroup is null ? -1 : input.IndexOf(lineageGroup);
        _timeIndex = lineageTime is null ? -1 : input.IndexOf(lineageTime);
        return input;
    }

    /// <summary>Group keys and timestamps of rows of one column set, for the lineage sidecar.</summary>
    internal (string?[]? Groups, long[]? Times) LineageValues(Func<int, Column> column, int count)
    {
        string?[]? groups = null;
        long[]? times = null;
        if (_groupIndex >= 0)
        {
            var c = column(_groupIndex);
            groups = new string?[count];
            for (int i = 0; i < groups.Length; i++) groups[i] = c.IsNull(i) ? null : RandomSplitAssigner.KeyOf(c, i);
        }
        if (_timeIndex >= 0)
        {
            var c = column(_timeIndex);
            times = new long[count];
            if (c is TimestampColumn { Nulls: null } stamps)
            {
                // The common case without a per-row type switch: the same rule as TryGetUtcTicks.
                var values = stamps.Values;
                for (int i = 0; i < times.Length; i++)
                {
                    long v = values[i];
                    times[i] = (ulong)v <= (ulong)DateTime.MaxValue.Ticks ? v : long.MinValue;
                }
            }
            else
            {
                for (int i = 0; i < times.Length; i++)
                {
                    times[i] = TimeSplitAssigner.TryGetUtcTicks(c, i, out long ticks) ? ticks : long.MinValue;
                }
            }
        }
        return (groups, times);
    }

    internal bool HasLineage => _groupIndex >= 0 || _timeIndex >= 0;

    /// <summary>The input columns whose values the lineage sidecar records (group, time), after <see cref="Bind"/>.</summary>
    internal IEnumerable<int> LineageColumns => new[] { _groupIndex, _timeIndex }.Where(i => i >= 0);

    /// <summary>Channels in output order: each split, and with k-fold each fold of train separately.</summary>
    internal static List<(SplitTag Split, short Fold)> Channels(SplitTag[] tags, short[]? folds)
    {
        var channels = new List<(SplitTag Split, short Fold)>();
        foreach (var split in SplitNames.All)
        {
            if (folds is null) { channels.Add((split, -1)); continue; }
            foreach (short f in Enumerable.Range(0, tags.Length).Where(i => tags[i] == split).Select(i => folds[i]).Distinct().Order()) channels.Add((split, f));
        }
        return channels;
    }

    /// <summary>
    /// A time split planned from a first pass over the time column (see <see cref="TimeSplitPlan"/>): the stage
    /// then streams, tagging each batch as it arrives, instead of collecting every row first.
    /// </summary>
    internal TimeSplitPlan? Plan { get; set; }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Plan is { } plan)
        {
            await foreach (var b in Stream(input, plan, context, cancellationToken).ConfigureAwait(false)) yield return b;
            yield break;
        }
        var batches = new List<RecordBatch>();
        Schema? schema = null;
        long threshold = memory?.SplitThreshold ?? long.MaxValue;
        long bytes = 0, rest = 0;
        using var folder = new SpillFolder(memory?.EffectiveTempDirectory ?? Path.GetTempPath());
        SplitSpill? spilling = null;
        // With an explicit budget the heap is kept near it from the first batch (see MemoryGovernor).
        MemoryGovernor? governor = memory?.Budget is { } budget ? new MemoryGovernor(budget) : null;
        // A run that expects to spill counts its rows' unread columns as computed (see BatchSize.Estimate).
        bool expectsSpill = memory is not null && SpillFolder.ExpectsSplitSpill(memory, context.EstimatedInputBytes);
        bool countUnread = memory is null || expectsSpill;
        try
        {
            await foreach (var b in input.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                schema = b.Schema;
                if (spilling is not null) { spilling.Add(b); governor!.Check(); continue; }
                batches.Add(b);
                bytes += BatchSize.Estimate(b, countUnread);
                // A run expected to spill spills its buffer once it and the rest of the live heap (what the governor's last
                // collection left besides the buffer: a source's state, pooled buffers) pass half the budget, not the
                // buffer alone: beside a Parquet source that held 40–50 MiB at --memory 128MB, the run peaked at 290–320
                // MiB. (The heap is the process's: a run expected to fit does not spill because of what else it holds.)
                if (governor?.Check() == true && expectsSpill) rest = Math.Max(0, governor.LastLive - bytes);
                if (bytes + rest > threshold && assigner.KeyColumns is { } keys)
                {
                    spilling = new SplitSpill(this, folder, b.Schema, keys, batchRows, memory!.EffectiveBudget, seed, shuffle, SpillFloat32,
                        assigner is IRowLocalAssigner local ? (local, context) : null, assigner as IRowIdAssigner, assigner is IRowTimeAssigner { TagsFromTimes: true } timed ? (timed, timed.Cutter(context)) : null,
                        assigner as IRowGroupAssigner, SpillUnread, b.Raw is not null ? SpillText : null);
                    governor = spilling.Governor;
                    // Each buffered batch let go once spilled, so the heap holds the buffer or the spill's state (a group
                    // table, open files' buffers), not both at their largest.
                    for (int i = 0; i < batches.Count; i++)
                    {
                        spilling.Add(batches[i]);
                        batches[i] = null!;
                        governor.Check();
                    }
                    batches.Clear();
                    Spilled = true;
                    context.Diagnostics.CountSpill();
                    if (spilling.SpillsText) context.Diagnostics.CountTextSpill();
                    if (SpillFloat32 is { } narrow) context.Diagnostics.RecordSpillFloat32(b.Schema.Fields.Where((_, c) => c < narrow.Length && narrow[c]).Select(f => f.Name));
                    if (SpillUnread is { } unread) context.Diagnostics.RecordSpillUnread(b.Schema.Fields.Where((_, c) => c < unread.Length && unread[c]).Select(f => f.Name));
                }
            }
            if (schema is null) yield break;
            var output = spilling is not null
                ? spilling.Emit(assigner, context, cancellationToken)
                : InMemory(batches, schema, context, cancellationToken);
            foreach (var batch in output) yield return batch;
        }
        finally
        {
            spilling?.Dispose();
        }
    }

    private IEnumerable<RecordBatch> InMemory(List<RecordBatch> batches, Schema schema, RunContext context, CancellationToken cancellationToken)
    {
        var all = new SplitInput(batches, schema);
        context.OnProgress("split", 0, all.Count);
        // The shuffle order depends on the row ids only, so it is computed on another core while the assigner cuts
        // (the two were a serial step between reading and writing, with one core idle). Assigners only give their
        // own order when there is no shuffle; the task's result is then unused.
        var shuffled = shuffle ? Task.Run(() => RandomSplitter.HashOrder(all.RowIds, new KeyedHash(seed, "shuffle")), cancellationToken) : null;
        var assignment = assigner.Assign(all, context);
        var tags = assignment.Tags;
        // SplitTag is a byte: a vectorized count of the unassigned rows.
        context.ExpectedRows = tags.Length - System.Runtime.InteropServices.MemoryMarshal.Cast<SplitTag, byte>(tags).Count((byte)SplitTag.None);

        var order = assignment.Order ?? shuffled?.GetAwaiter().GetResult() ?? Enumerable.Range(0, all.Count).ToArray();
        // (batch, row) address of every position, to gather from the input batches; only needed when a
        // channel is not one run of input rows.
        int[]? part = null, row = null;
        var (lineageGroups, lineageTimes) = LineageValues(all.Column, all.Count);
        var folds = assignment.Folds;
        // Without folds, every split's positions come from one counting pass and one filling pass over the order.
        var bySplit = folds is null ? PickedBySplit(order, tags) : null;
        foreach (var (split, fold) in Channels(tags, folds))
        {
            var picked = bySplit is not null ? bySplit[(byte)split] ?? [] : Picked(order, tags, split, folds, fold);
            if (bySplit is not null) bySplit[(byte)split] = null;
            if (IsRun(picked))
            {
                // The channel is one run of consecutive input rows (time order of time-sorted input, input
                // order): emit the input batches themselves, only the two at the ends cut. Same rows and order
                // as the gather; bytes do not depend on batch boundaries.
                foreach (var b in Slices(batches, picked[0], picked.Length, split, fold, folds is not null, lineageGroups, lineageTimes, cancellationToken)) yield return b;
                continue;
            }
            if (part is null)
            {
                part = new int[all.Count];
                row = new int[all.Count];
                for (int b = 0, at = 0; b < batches.Count; b++)
                {
                    for (int r = 0; r < batches[b].RowCount; r++, at++) { part[at] = b; row[at] = r; }
                }
            }
            for (int start = 0; start < picked.Length; start += batchRows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(batchRows, picked.Length - start);
                var p = new int[n];
                var r = new int[n];
                for (int k = 0; k < n; k++) { p[k] = part[picked[start + k]]; r[k] = row![picked[start + k]]; }
                var gathered = RecordBatch.Gather(batches, p, r, split, defer: true);
                if (folds is not null) gathered = gathered.WithRows(gathered.Rows with { Folds = Enumerable.Repeat(fold, n).ToArray() });
                if (lineageGroups is not null || lineageTimes is not null)
                {
                    var slice = picked.AsSpan(start, n);
                    string?[]? g = lineageGroups is null ? null : new string?[n];
                    long[]? t = lineageTimes is null ? null : new long[n];
                    for (int k = 0; k < n; k++)
                    {
                        if (g is not null) g[k] = lineageGroups![slice[k]];
                        if (t is not null) t[k] = lineageTimes![slice[k]];
                    }
                    gathered = gathered.WithRows(gathered.Rows with { GroupKeys = g, Times = t });
                }
                yield return gathered;
            }
        }
        context.OnProgress("split", all.Count, all.Count);
    }

    /// <summary>
    /// The planned split, streamed: each input batch is cut into runs of one split (the plan guarantees the splits
    /// come in channel order), exactly the slices <see cref="InMemory"/> emits for a channel that is one run of
    /// input rows.
    /// </summary>
    private async IAsyncEnumerable<RecordBatch> Stream(IAsyncEnumerable<RecordBatch> input, TimeSplitPlan plan, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        context.Diagnostics.CountStreamedTimeSplit();
        var tags = plan.Tags;
        context.ExpectedRows = plan.ExpectedRows;
        context.OnProgress("split", 0, tags.Length);
        var perSource = new long[plan.SourceRows.Length];
        long at = 0;
        await foreach (var batch in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            int n = batch.RowCount;
            if (_timeIndex < 0) throw new InvalidOperationException("A planned time split needs its time column bound.");
            plan.Check(batch, _timeIndex, at, context);
            for (int r = 0; r < n; r++)
            {
                int s = batch.Rows.Sources[r];
                if ((uint)s < (uint)perSource.Length) perSource[s]++;
            }
            int from = 0;
            while (from < n)
            {
                var tag = tags[at + from];
                int to = from + 1;
                while (to < n && tags[at + to] == tag) to++;
                if (tag != SplitTag.None)
                {
                    yield return Slice(batch, from, to - from, tag, -1, false, null, plan.Ticks(at + from, to - from));
                }
                from = to;
            }
            at += n;
        }
        plan.CheckCounts(perSource, context);
        context.OnProgress("split", tags.Length, tags.Length);
    }

    /// <summary>
    /// <see cref="Picked"/> of every split at once, by tag (a byte): two passes over the order in all, where a pass per split
    /// and count read each row's tag six times, each read a cache miss once the rows outgrow the cache (20 M rows).
    /// </summary>
    private static int[]?[] PickedBySplit(int[] order, SplitTag[] tags)
    {
        var counts = new int[256];
        foreach (int i in order) counts[(byte)tags[i]]++;
        var picked = new int[]?[256];
        foreach (var split in SplitNames.All) picked[(byte)split] = new int[counts[(byte)split]];
        var at = new int[256];
        foreach (int i in order)
        {
            byte t = (byte)tags[i];
            if (picked[t] is { } into) into[at[t]++] = i;
        }
        return picked;
    }

    /// <summary>The positions of <paramref name="order"/> in the channel, in that order (two plain passes, no per-row delegate).</summary>
    private static int[] Picked(int[] order, SplitTag[] tags, SplitTag split, short[]? folds, short fold)
    {
        int count = 0;
        if (folds is null)
        {
            foreach (int i in order) if (tags[i] == split) count++;
        }
        else
        {
            foreach (int i in order) if (tags[i] == split && folds[i] == fold) count++;
        }
        var picked = new int[count];
        int at = 0;
        if (folds is null)
        {
            foreach (int i in order) if (tags[i] == split) picked[at++] = i;
        }
        else
        {
            foreach (int i in order) if (tags[i] == split && folds[i] == fold) picked[at++] = i;
        }
        return picked;
    }

    /// <summary>Whether positions are consecutive and ascending (a, a+1, …).</summary>
    private static bool IsRun(int[] picked)
    {
        if (picked.Length == 0) return false;
        for (int k = 1; k < picked.Length; k++) if (picked[k] != picked[0] + k) return false;
        return true;
    }

    /// <summary>Rows [first, first+count) of the input as batches tagged with a split, sharing the input's columns.</summary>
    private static IEnumerable<RecordBatch> Slices(List<RecordBatch> batches, int first, int count, SplitTag split, short fold, bool withFolds,
        string?[]? lineageGroups, long[]? lineageTimes, CancellationToken cancellationToken)
    {
        int end = first + count;
        for (int b = 0, at = 0; b < batches.Count && at < end; at += batches[b].RowCount, b++)
        {
            var batch = batches[b];
            int from = Math.Max(first, at), to = Math.Min(end, at + batch.RowCount);
            if (from >= to) continue;
            cancellationToken.ThrowIfCancellationRequested();
            int n = to - from;
            yield return Slice(batch, from - at, n, split, fold, withFolds,
                lineageGroups is null ? null : lineageGroups.AsSpan(from, n).ToArray(),
                lineageTimes?.AsSpan(from, n).ToArray());
        }
    }

    /// <summary>Rows [start, start+n) of one batch tagged with a split, sharing the batch's columns when it is the whole batch.</summary>
    private static RecordBatch Slice(RecordBatch batch, int start, int n, SplitTag split, short fold, bool withFolds, string?[]? groups, long[]? times)
    {
        RowInfo info;
        if (n == batch.RowCount)
        {
            info = new RowInfo(batch.Rows.RowIds, batch.Rows.Sources, batch.Rows.SourceRows, null);
        }
        else
        {
            var rows = Enumerable.Range(start, n).ToArray();
            batch = batch.Take(rows);
            info = batch.Rows;
        }
        var tags = new SplitTag[n];
        Array.Fill(tags, split);
        return batch.WithRows(new RowInfo(info.RowIds, info.Sources, info.SourceRows, tags)
        {
            Folds = withFolds ? Enumerable.Repeat(fold, n).ToArray() : null,
            GroupKeys = groups,
            Times = times,
        });
    }
}
