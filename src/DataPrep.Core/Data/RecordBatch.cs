namespace DataPrep.Data;

/// <summary>The split a row is tagged with.</summary>
public enum SplitTag : byte
{
    /// <summary>Training data.</summary>
    Train = 0,
    /// <summary>Validation data.</summary>
    Validation = 1,
    /// <summary>Test data.</summary>
    Test = 2,
    /// <summary>Not assigned (dropped, or no split stage ran).</summary>
    None = 255,
}

/// <summary>Names and parsing of <see cref="SplitTag"/>.</summary>
public static class SplitNames
{
    /// <summary>The three splits in output order.</summary>
    public static readonly SplitTag[] All = [SplitTag.Train, SplitTag.Validation, SplitTag.Test];

    /// <summary>The folder / channel name of a split.</summary>
    public static string Name(this SplitTag tag) => tag switch
    {
        SplitTag.Train => "train",
        SplitTag.Validation => "validation",
        SplitTag.Test => "test",
        _ => "none",
    };
}

/// <summary>
/// Per-row facts that travel with the data but are not columns: the stable row id, where the row came
/// from, and the tags that stages add (split, later fold). Lineage sidecars are written from these.
/// </summary>
/// <param name="RowIds">Stable row ids: (source ordinal &lt;&lt; 40) | row ordinal, or for CSV and JSON Lines the record's 1-based byte position (<see cref="AtPositions"/>).</param>
/// <param name="Sources">Index of the source file in the run's input list.</param>
/// <param name="SourceRows">1-based data row within the source (header not counted).</param>
/// <param name="Splits">The split tag of each row, once a split stage ran.</param>
public sealed record RowInfo(long[] RowIds, int[] Sources, long[] SourceRows, SplitTag[]? Splits = null)
{
    /// <summary>The group key of each row (group splits), for lineage and audits.</summary>
    public string?[]? GroupKeys { get; init; }

    /// <summary>The timestamp of each row as UTC ticks (time splits), for lineage and audits.</summary>
    public long[]? Times { get; init; }

    /// <summary>The k-fold fold of each row (−1: not in a fold, e.g. the held-out test split).</summary>
    public short[]? Folds { get; init; }

    /// <summary>
    /// The row id of the input row each row was made from (its own id for input rows), once an augmentation stage
    /// ran; null before. Augmented rows keep their source's split, fold and group; lineage records both ids.
    /// </summary>
    public long[]? AugmentedFrom { get; init; }

    /// <summary>
    /// The input line of each row (text sources under <c>--on-bad-row quarantine</c>, so a row a later stage skips is
    /// written with its line); null otherwise.
    /// </summary>
    public long[]? Lines { get; init; }

    /// <summary>
    /// The input line's text of each row that holds a missing value (text sources under <c>--on-bad-row quarantine</c>,
    /// so a row <c>--missing error</c> skips is written with its text); null for the other rows, or when not kept.
    /// </summary>
    public string?[]? Texts { get; init; }

    /// <summary>The operation that made each row (<c>original</c> for input rows, e.g. <c>rotate90</c>), once an augmentation stage ran.</summary>
    public string[]? Operations { get; init; }

    /// <summary>Makes the stable row id of a row.</summary>
    public static long MakeRowId(int source, long row) => ((long)source << 40) | row;

    /// <summary>Row info of <paramref name="count"/> consecutive rows of one source, the first being data row <paramref name="firstRowOrdinal"/> + 1.</summary>
    public static RowInfo Sequential(int sourceIndex, long firstRowOrdinal, int count)
    {
        var src = new int[count];
        var srow = GC.AllocateUninitializedArray<long>(count);
        for (int i = 0; i < count; i++) srow[i] = firstRowOrdinal + i + 1;
        long prefix = MakeRowId(sourceIndex, 0);
        // Source 0's row ids are its source rows: one array serves both (row info is never written in place), which
        // spares a fresh array per batch (W2: 24 MB of page faults in each of its two passes).
        long[] ids = srow;
        if (prefix != 0)
        {
            ids = GC.AllocateUninitializedArray<long>(count);
            for (int i = 0; i < count; i++) ids[i] = prefix | srow[i];
        }
        if (sourceIndex != 0) src.AsSpan().Fill(sourceIndex);
        return new RowInfo(ids, src, srow);
    }

    /// <summary>
    /// Row info of consecutive records of one text source (CSV, TSV, JSON Lines), the first being data row
    /// <paramref name="firstRowOrdinal"/> + 1, whose ids are made from the records' 1-based byte positions
    /// (<paramref name="positions"/>, of the record's first byte in the input's UTF-8 form, 1 for the first byte) instead
    /// of their row ordinals: a byte position is known to a reader that starts in the middle of the file (a scaled-out
    /// run's byte range), where the row ordinal is not. Positions must be below 2^40.
    /// </summary>
    public static RowInfo AtPositions(int sourceIndex, long firstRowOrdinal, ReadOnlySpan<long> positions)
    {
        int count = positions.Length;
        var src = new int[count];
        var srow = GC.AllocateUninitializedArray<long>(count);
        var ids = GC.AllocateUninitializedArray<long>(count);
        long prefix = MakeRowId(sourceIndex, 0);
        for (int i = 0; i < count; i++)
        {
            srow[i] = firstRowOrdinal + i + 1;
            ids[i] = prefix | positions[i];
        }
        if (sourceIndex != 0) src.AsSpan().Fill(sourceIndex);
        return new RowInfo(ids, src, srow);
    }

    /// <summary>The largest byte position a text source's row id holds (<see cref="AtPositions"/>): 2^40 − 1, a file of 1 TiB.</summary>
    public const long MaxPosition = (1L << 40) - 1;

    /// <summary>Rows info for the given rows, in order.</summary>
    public RowInfo Take(ReadOnlySpan<int> rows)
    {
        var ids = new long[rows.Length];
        var src = new int[rows.Length];
        var srow = new long[rows.Length];
        var split = Splits is null ? null : new SplitTag[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i];
            ids[i] = RowIds[r];
            src[i] = Sources[r];
            srow[i] = SourceRows[r];
            if (split is not null) split[i] = Splits![r];
        }
        return new RowInfo(ids, src, srow, split)
        {
            GroupKeys = Pick(GroupKeys, rows), Times = Pick(Times, rows), Folds = Pick(Folds, rows),
            AugmentedFrom = Pick(AugmentedFrom, rows), Operations = Pick(Operations, rows), Lines = Pick(Lines, rows),
            Texts = Pick(Texts, rows),
        };
    }

    private static T[]? Pick<T>(T[]? values, ReadOnlySpan<int> rows)
    {
        if (values is null) return null;
        var result = new T[rows.Length];
        for (int i = 0; i < rows.Length; i++) result[i] = values[rows[i]];
        return result;
    }

    internal static RowInfo Concat(IReadOnlyList<RecordBatch> batches)
    {
        int n = batches.Sum(b => b.RowCount);
        var ids = new long[n];
        var src = new int[n];
        var srow = new long[n];
        bool tagged = batches.All(b => b.Rows.Splits is not null);
        var split = tagged ? new SplitTag[n] : null;
        var groups = batches.All(b => b.Rows.GroupKeys is not null) ? new string?[n] : null;
        var times = batches.All(b => b.Rows.Times is not null) ? new long[n] : null;
        var folds = batches.All(b => b.Rows.Folds is not null) ? new short[n] : null;
        var from = batches.All(b => b.Rows.AugmentedFrom is not null) ? new long[n] : null;
        var operations = batches.All(b => b.Rows.Operations is not null) ? new string[n] : null;
        int at = 0;
        foreach (var b in batches)
        {
            b.Rows.RowIds.AsSpan(0, b.RowCount).CopyTo(ids.AsSpan(at));
            b.Rows.Sources.AsSpan(0, b.RowCount).CopyTo(src.AsSpan(at));
            b.Rows.SourceRows.AsSpan(0, b.RowCount).CopyTo(srow.AsSpan(at));
            if (split is not null) b.Rows.Splits.AsSpan(0, b.RowCount).CopyTo(split.AsSpan(at));
            if (groups is not null) b.Rows.GroupKeys.AsSpan(0, b.RowCount).CopyTo(groups.AsSpan(at));
            if (times is not null) b.Rows.Times.AsSpan(0, b.RowCount).CopyTo(times.AsSpan(at));
            if (folds is not null) b.Rows.Folds.AsSpan(0, b.RowCount).CopyTo(folds.AsSpan(at));
            if (from is not null) b.Rows.AugmentedFrom.AsSpan(0, b.RowCount).CopyTo(from.AsSpan(at));
            if (operations is not null) b.Rows.Operations.AsSpan(0, b.RowCount).CopyTo(operations.AsSpan(at));
            at += b.RowCount;
        }
        return new RowInfo(ids, src, srow, split) { GroupKeys = groups, Times = times, Folds = folds, AugmentedFrom = from, Operations = operations };
    }
}

/// <summary>
/// A slice of a table: a schema, one <see cref="Column"/> per field and the <see cref="RowInfo"/> of its rows.
/// Batches are the unit of work between stages; nothing in a hot path allocates per row.
/// </summary>
public sealed class RecordBatch
{
    /// <summary>Creates a batch; every column must have <paramref name="rowCount"/> rows.</summary>
    public RecordBatch(Schema schema, IReadOnlyList<Column> columns, int rowCount, RowInfo rows)
    {
        if (columns.Count != schema.Count) throw new ArgumentException($"{columns.Count} columns for a schema of {schema.Count} fields.");
        for (int i = 0; i < columns.Count; i++)
        {
            if (columns[i].Length != rowCount) throw new ArgumentException($"Column '{schema[i].Name}' has {columns[i].Length} rows, expected {rowCount}.");
        }
        Schema = schema;
        Columns = columns;
        RowCount = rowCount;
        Rows = rows;
    }

    /// <summary>Below this many cells a gather runs on one thread.</summary>
    private const long ParallelCells = 1 << 16;

    /// <summary>The schema.</summary>
    public Schema Schema { get; }

    /// <summary>The columns, in schema order.</summary>
    public IReadOnlyList<Column> Columns { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount { get; }

    /// <summary>Row ids, provenance and tags.</summary>
    public RowInfo Rows { get; }

    /// <summary>
    /// The rows' input text where label-first CSV output can copy it (see <see cref="RawRecords"/>); null for
    /// batches built from new columns.
    /// </summary>
    public RawRecords? Raw { get; init; }

    /// <summary>The column of the named field.</summary>
    public Column this[string name] => Columns[Schema.IndexOf(name) is var i and >= 0 ? i : throw new KeyNotFoundException(name)];

    /// <summary>A new batch of the given rows, in order.</summary>
    public RecordBatch Take(ReadOnlySpan<int> rows)
    {
        var cols = new Column[Columns.Count];
        if ((long)rows.Length * cols.Length < ParallelCells)
        {
            for (int c = 0; c < cols.Length; c++) cols[c] = Columns[c].Take(rows);
        }
        else
        {
            // Gathers are memory-bound and independent per column: spread the columns over the cores.
            var picked = rows.ToArray();
            Parallel.For(0, cols.Length, c => cols[c] = Columns[c].Take(picked));
        }
        return new RecordBatch(Schema, cols, rows.Length, Rows.Take(rows)) { Raw = Raw?.Take(rows) };
    }

    /// <summary>
    /// A batch of rows picked from several batches of one schema (row i = row <paramref name="row"/>[i] of
    /// batch <paramref name="part"/>[i]), with the given split tag, without concatenating them first.
    /// </summary>
    public static RecordBatch Gather(IReadOnlyList<RecordBatch> batches, int[] part, int[] row, SplitTag? tag = null)
        => Gather(batches, part, row, tag, defer: false);

    /// <summary>
    /// <see cref="Gather(IReadOnlyList{RecordBatch}, int[], int[], SplitTag?)"/>; with <paramref name="defer"/>,
    /// numeric columns are gathered on first read (<see cref="Column.GatherDeferred"/>) and keep the input batches
    /// alive until then.
    /// </summary>
    internal static RecordBatch Gather(IReadOnlyList<RecordBatch> batches, int[] part, int[] row, SplitTag? tag, bool defer)
    {
        var schema = batches[0].Schema;
        var cols = new Column[schema.Count];
        // Deferring pays only when the rows' text may be copied instead (label-first CSV); otherwise every column
        // is read anyway, and gathering them here, spread over the cores, is faster than on first read.
        var raw = RawRecords.Gather(batches, part, row);
        if (defer && raw is not null)
        {
            for (int c = 0; c < cols.Length; c++)
            {
                var parts = new Column[batches.Count];
                for (int b = 0; b < parts.Length; b++) parts[b] = batches[b].Columns[c];
                cols[c] = Column.GatherDeferred(parts, part, row);
            }
        }
        else
        {
            Parallel.For(0, cols.Length, c => cols[c] = Column.Gather(batches.Select(b => b.Columns[c]).ToArray(), part, row));
        }
        int n = row.Length;
        var ids = new long[n];
        var src = new int[n];
        var srow = new long[n];
        // The arrays are looked up once per batch, not through the list and the batch's row info for every row: the rows
        // come shuffled, each a cache miss, and a call per row kept the misses of one row from overlapping the next's.
        var idArrays = new long[batches.Count][];
        var srcArrays = new int[batches.Count][];
        var srowArrays = new long[batches.Count][];
        for (int b = 0; b < batches.Count; b++)
        {
            var info = batches[b].Rows;
            (idArrays[b], srcArrays[b], srowArrays[b]) = (info.RowIds, info.Sources, info.SourceRows);
        }
        for (int i = 0; i < n; i++)
        {
            int p = part[i], r = row[i];
            ids[i] = idArrays[p][r];
            src[i] = srcArrays[p][r];
            srow[i] = srowArrays[p][r];
        }
        SplitTag[]? tags = tag is { } t ? Enumerable.Repeat(t, n).ToArray() : null;
        return new RecordBatch(schema, cols, n, new RowInfo(ids, src, srow, tags)) { Raw = raw };
    }

    /// <summary>The same rows with other row info (for example split tags).</summary>
    public RecordBatch WithRows(RowInfo rows) => new(Schema, Columns, RowCount, rows) { Raw = Raw };

    /// <summary>Concatenates batches of one schema into one.</summary>
    public static RecordBatch Concat(IReadOnlyList<RecordBatch> batches, Schema schema)
    {
        if (batches.Count == 0)
        {
            return new RecordBatch(schema, schema.Fields.Select(EmptyColumn).ToArray(), 0, new RowInfo([], [], []));
        }
        if (batches.Count == 1) return batches[0];
        var cols = new Column[schema.Count];
        Parallel.For(0, cols.Length, c => cols[c] = Column.Concat(batches.Select(b => b.Columns[c]).ToArray()));
        return new RecordBatch(schema, cols, batches.Sum(b => b.RowCount), RowInfo.Concat(batches));
    }

    private static Column EmptyColumn(Field f) => f.Kind switch
    {
        ColumnKind.Float64 => new Float64Column([]),
        ColumnKind.Int64 => new Int64Column([]),
        ColumnKind.Boolean => new BooleanColumn([]),
        ColumnKind.String => new StringColumn([]),
        ColumnKind.Timestamp => new TimestampColumn([], null, 0),
        ColumnKind.Sparse => new SparseColumn(f.Width, [0], [], [], 0),
        _ => new BinaryColumn([], null, 0),
    };
}
