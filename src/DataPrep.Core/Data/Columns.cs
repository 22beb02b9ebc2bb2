namespace DataPrep.Data;

/// <summary>
/// One column of a <see cref="RecordBatch"/>: a typed array plus an optional null mask.
/// Arrays may be longer than <see cref="Length"/> (builders hand over their buffers).
/// </summary>
public abstract class Column
{
    private protected Column(int length, bool[]? nulls)
    {
        Length = length;
        Nulls = nulls;
    }

    /// <summary>The physical kind.</summary>
    public abstract ColumnKind Kind { get; }

    /// <summary>The number of rows.</summary>
    public int Length { get; }

    /// <summary>True at the rows that are missing; <see langword="null"/> when none is.</summary>
    public bool[]? Nulls { get; }

    /// <summary>Whether row <paramref name="row"/> is missing.</summary>
    public bool IsNull(int row) => Nulls is not null && Nulls[row];

    /// <summary>The number of missing values.</summary>
    public int NullCount()
    {
        if (Nulls is null) return 0;
        int n = 0;
        for (int i = 0; i < Length; i++) if (Nulls[i]) n++;
        return n;
    }

    /// <summary>A new column with the given rows, in the given order.</summary>
    public abstract Column Take(ReadOnlySpan<int> rows);

    /// <summary>Concatenates columns of the same kind.</summary>
    public static Column Concat(IReadOnlyList<Column> parts)
    {
        if (parts.Count == 1) return parts[0];
        return parts[0] switch
        {
            Float64Column => Float64Column.ConcatDense(parts, (v, n) => new Float64Column(v, n.Length > 0 ? n : null, v.Length)),
            Int64Column => Int64Column.ConcatDense(parts, (v, n) => new Int64Column(v, n.Length > 0 ? n : null, v.Length)),
            BooleanColumn => BooleanColumn.ConcatDense(parts, (v, n) => new BooleanColumn(v, n.Length > 0 ? n : null, v.Length)),
            StringColumn => StringColumn.ConcatDense(parts, (v, n) => new StringColumn(v, v.Length)),
            TimestampColumn => TimestampColumn.ConcatDense(parts, (v, n) => new TimestampColumn(v, n.Length > 0 ? n : null, v.Length)),
            SparseColumn => SparseColumn.Concat(parts.Cast<SparseColumn>().ToArray()),
            BinaryColumn => BinaryColumn.ConcatDense(parts, (v, n) => new BinaryColumn(v, n.Length > 0 ? n : null, v.Length)),
            _ => throw new NotSupportedException(parts[0].GetType().Name),
        };
    }

    /// <summary>
    /// Gathers rows from several columns of one kind without concatenating them first: output row i is
    /// row <paramref name="row"/>[i] of part <paramref name="part"/>[i].
    /// </summary>
    public static Column Gather(IReadOnlyList<Column> parts, ReadOnlySpan<int> part, ReadOnlySpan<int> row)
    {
        if (parts.Count == 1) return parts[0].Take(row);
        return parts[0] switch
        {
            Float64Column => new Float64Column(GatherValues<double>(parts, part, row), GatherNulls(parts, part, row), row.Length),
            Int64Column => new Int64Column(GatherValues<long>(parts, part, row), GatherNulls(parts, part, row), row.Length),
            BooleanColumn => new BooleanColumn(GatherValues<bool>(parts, part, row), GatherNulls(parts, part, row), row.Length),
            StringColumn => new StringColumn(GatherValues<string?>(parts, part, row), row.Length),
            TimestampColumn => new TimestampColumn(GatherValues<long>(parts, part, row), GatherNulls(parts, part, row), row.Length),
            BinaryColumn => new BinaryColumn(GatherValues<ReadOnlyMemory<byte>>(parts, part, row), GatherNulls(parts, part, row), row.Length),
            SpilledColumn placeholder => placeholder.Take(row),
            SparseColumn => SparseColumn.GatherRows(parts, part, row),
            _ => Concat(parts).Take(GlobalRows(parts, part, row)),
        };
    }

    /// <summary>
    /// <see cref="Gather"/>, but numeric columns without missing values are gathered when first read (by a
    /// formatting task, in parallel), and not at all when nothing reads them: label-first CSV copies rows
    /// that kept their text (<see cref="RawRecords"/>). The index arrays must not change afterwards.
    /// </summary>
    internal static Column GatherDeferred(IReadOnlyList<Column> parts, int[] part, int[] row)
    {
        if (parts.Count == 1 || parts.Any(p => p.Nulls is not null)) return Gather(parts, part, row);
        return parts[0] switch
        {
            Float64Column => new Float64Column(() => GatherValues<double>(parts, part, row), i => ((Float64Column)parts[part[i]]).ValueAt(row[i]), row.Length),
            Int64Column => new Int64Column(() => GatherValues<long>(parts, part, row), i => ((Int64Column)parts[part[i]]).ValueAt(row[i]), row.Length),
            _ => Gather(parts, part, row),
        };
    }

    private static T[] GatherValues<T>(IReadOnlyList<Column> parts, ReadOnlySpan<int> part, ReadOnlySpan<int> row)
    {
        var arrays = new T[parts.Count][];
        for (int p = 0; p < arrays.Length; p++) arrays[p] = ((DenseColumn<T>)parts[p]).Values;
        var result = new T[row.Length];
        for (int i = 0; i < result.Length; i++) result[i] = arrays[part[i]][row[i]];
        return result;
    }

    private static bool[]? GatherNulls(IReadOnlyList<Column> parts, ReadOnlySpan<int> part, ReadOnlySpan<int> row)
    {
        bool any = false;
        foreach (var p in parts) any |= p.Nulls is not null;
        if (!any) return null;
        var result = new bool[row.Length];
        for (int i = 0; i < result.Length; i++) result[i] = parts[part[i]].IsNull(row[i]);
        return result;
    }

    private static int[] GlobalRows(IReadOnlyList<Column> parts, ReadOnlySpan<int> part, ReadOnlySpan<int> row)
    {
        var offsets = new int[parts.Count];
        for (int p = 1; p < offsets.Length; p++) offsets[p] = offsets[p - 1] + parts[p - 1].Length;
        var result = new int[row.Length];
        for (int i = 0; i < result.Length; i++) result[i] = offsets[part[i]] + row[i];
        return result;
    }

    private protected static bool[]? TakeNulls(bool[]? nulls, ReadOnlySpan<int> rows)
    {
        if (nulls is null) return null;
        var result = new bool[rows.Length];
        bool any = false;
        for (int i = 0; i < rows.Length; i++) any |= result[i] = nulls[rows[i]];
        return any ? result : null;
    }
}

/// <summary>A column of one value type per row.</summary>
public abstract class DenseColumn<T> : Column
{
    private protected DenseColumn(T[] values, bool[]? nulls, int length) : base(length, nulls) => _values = values;

    /// <summary>
    /// A column without missing values whose values are computed on first use (a deferred gather);
    /// <paramref name="one"/> gives a single row's value without computing them all.
    /// </summary>
    private protected DenseColumn(Func<T[]> values, Func<int, T> one, int length) : this(values, one, null, length, length) { }

    /// <summary>
    /// A column whose values are computed on first use, with a null mask known now; <paramref name="capacity"/> is the
    /// length of the array the values will come in (for memory estimates, which must not compute them).
    /// </summary>
    private protected DenseColumn(Func<T[]> values, Func<int, T> one, bool[]? nulls, int length, int capacity) : base(length, nulls)
    {
        _pending = values;
        _one = one;
        _capacity = capacity;
    }

    private T[]? _values;
    private Func<T[]>? _pending;
    private readonly Func<int, T>? _one;
    private readonly int _capacity;

    /// <summary>The length of the values' array, without computing values that are computed on first use.</summary>
    internal int Capacity => Volatile.Read(ref _values) is { } values ? values.Length : _capacity;

    /// <summary>Row <paramref name="row"/>'s value; for a deferred gather nobody has read, without gathering the column.</summary>
    internal T ValueAt(int row) => Volatile.Read(ref _values) is { } values ? values[row] : _one!(row);

    /// <summary>The values; entries at missing rows hold default values.</summary>
    public T[] Values => Volatile.Read(ref _values) ?? Materialize();

    /// <summary>Whether the values exist yet (false only for a deferred gather nobody has read).</summary>
    internal bool IsMaterialized => Volatile.Read(ref _values) is not null;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private T[] Materialize()
    {
        // Several formatting tasks may ask at once: one computes, the others wait for it.
        lock (this)
        {
            if (_values is null)
            {
                Volatile.Write(ref _values, _pending!());
                _pending = null;
            }
            return _values!;
        }
    }

    /// <summary>The values as a span of <see cref="Column.Length"/>.</summary>
    public ReadOnlySpan<T> Span => Values.AsSpan(0, Length);

    private protected T[] TakeValues(ReadOnlySpan<int> rows)
    {
        var result = new T[rows.Length];
        var values = Values;
        for (int i = 0; i < rows.Length; i++) result[i] = values[rows[i]];
        return result;
    }

    internal static Column ConcatDense(IReadOnlyList<Column> parts, Func<T[], bool[], Column> create)
    {
        int total = 0;
        bool anyNull = false;
        foreach (var p in parts) { total += p.Length; anyNull |= p.Nulls is not null; }
        var values = new T[total];
        var nulls = anyNull ? new bool[total] : [];
        int at = 0;
        foreach (DenseColumn<T> p in parts.Cast<DenseColumn<T>>())
        {
            p.Span.CopyTo(values.AsSpan(at));
            if (anyNull && p.Nulls is not null) p.Nulls.AsSpan(0, p.Length).CopyTo(nulls.AsSpan(at));
            at += p.Length;
        }
        return create(values, nulls);
    }
}

/// <summary>Dense doubles.</summary>
public sealed class Float64Column : DenseColumn<double>
{
    /// <summary>Creates a column of the first <paramref name="length"/> values; <paramref name="nulls"/> marks missing rows.</summary>
    public Float64Column(double[] values, bool[]? nulls, int length) : base(values, nulls, length) { }
    /// <summary>Creates a column of exactly these values.</summary>
    public Float64Column(double[] values) : this(values, null, values.Length) { }
    /// <summary>A column without missing values, computed on first use.</summary>
    internal Float64Column(Func<double[]> values, Func<int, double> one, int length) : base(values, one, length) { }

    /// <summary>
    /// A column computed on first use whose null mask is known now (a CSV column whose text is kept, parsed only if
    /// read); <paramref name="noNaN"/> says that no value is NaN, so a check for NaN need not compute them.
    /// </summary>
    internal Float64Column(Func<double[]> values, Func<int, double> one, bool[]? nulls, int length, int capacity, bool noNaN)
        : base(values, one, nulls, length, capacity) => HoldsNoNaN = noNaN;

    /// <summary>Known to hold no NaN without looking at the values (false: unknown).</summary>
    internal bool HoldsNoNaN { get; }

    /// <inheritdoc />
    public override ColumnKind Kind => ColumnKind.Float64;
    /// <inheritdoc />
    public override Column Take(ReadOnlySpan<int> rows) => new Float64Column(TakeValues(rows), TakeNulls(Nulls, rows), rows.Length);
}

/// <summary>Dense 64-bit integers.</summary>
public sealed class Int64Column : DenseColumn<long>
{
    /// <summary>Creates a column of the first <paramref name="length"/> values; <paramref name="nulls"/> marks missing rows.</summary>
    public Int64Column(long[] values, bool[]? nulls, int length) : base(values, nulls, length) { }
    /// <summary>Creates a column of exactly these values.</summary>
    public Int64Column(long[] values) : this(values, null, values.Length) { }
    /// <summary>A column without missing values, computed on first use.</summary>
    internal Int64Column(Func<long[]> values, Func<int, long> one, int length) : base(values, one, length) { }
    /// <inheritdoc />
    public override ColumnKind Kind => ColumnKind.Int64;
    /// <inheritdoc />
    public override Column Take(ReadOnlySpan<int> rows) => new Int64Column(TakeValues(rows), TakeNulls(Nulls, rows), rows.Length);
}

/// <summary>Booleans.</summary>
public sealed class BooleanColumn(bool[] values, bool[]? nulls, int length) : DenseColumn<bool>(values, nulls, length)
{
    /// <summary>Creates a column of exactly these values.</summary>
    public BooleanColumn(bool[] values) : this(values, null, values.Length) { }
    /// <inheritdoc />
    public override ColumnKind Kind => ColumnKind.Boolean;
    /// <inheritdoc />
    public override Column Take(ReadOnlySpan<int> rows) => new BooleanColumn(TakeValues(rows), TakeNulls(Nulls, rows), rows.Length);
}

/// <summary>Strings; a missing value is <see langword="null"/>.</summary>
public sealed class StringColumn : DenseColumn<string?>
{
    /// <summary>Creates a column; missing rows are <see langword="null"/> entries.</summary>
    public StringColumn(string?[] values, int length) : base(values, NullsOf(values, length), length) { }
    /// <summary>Creates a column of exactly these values.</summary>
    public StringColumn(string?[] values) : this(values, values.Length) { }
    /// <inheritdoc />
    public override ColumnKind Kind => ColumnKind.String;
    /// <inheritdoc />
    public override Column Take(ReadOnlySpan<int> rows) => new StringColumn(TakeValues(rows), rows.Length);

    private static bool[]? NullsOf(string?[] values, int length)
    {
        bool[]? nulls = null;
        for (int i = 0; i < length; i++)
        {
            if (values[i] is null) (nulls ??= new bool[length])[i] = true;
        }
        return nulls;
    }
}

/// <summary>Instants as UTC ticks (100 ns since 0001-01-01).</summary>
public sealed class TimestampColumn(long[] utcTicks, bool[]? nulls, int length) : DenseColumn<long>(utcTicks, nulls, length)
{
    /// <inheritdoc />
    public override ColumnKind Kind => ColumnKind.Timestamp;
    /// <inheritdoc />
    public override Column Take(ReadOnlySpan<int> rows) => new TimestampColumn(TakeValues(rows), TakeNulls(Nulls, rows), rows.Length);

    /// <summary>Seconds since the Unix epoch of row <paramref name="row"/>, fractional below one second.</summary>
    public double EpochSeconds(int row) => (Values[row] - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerSecond;
}

/// <summary>Binary values (image bytes) or paths resolved when needed.</summary>
public sealed class BinaryColumn(ReadOnlyMemory<byte>[] values, bool[]? nulls, int length) : DenseColumn<ReadOnlyMemory<byte>>(values, nulls, length)
{
    /// <inheritdoc />
    public override ColumnKind Kind => ColumnKind.Binary;
    /// <inheritdoc />
    public override Column Take(ReadOnlySpan<int> rows) => new BinaryColumn(TakeValues(rows), TakeNulls(Nulls, rows), rows.Length);
}

/// <summary>
/// Sparse rows in CSR form: row r holds <c>Indices[RowOffsets[r]..RowOffsets[r+1]]</c> (0-based column
/// indices below <see cref="Width"/>, ascending) with the matching <c>Values</c>.
/// </summary>
public sealed class SparseColumn : Column
{
    /// <summary>Creates a sparse column.</summary>
    public SparseColumn(int width, int[] rowOffsets, int[] indices, double[] values, int length) : base(length, null)
    {
        Width = width;
        RowOffsets = rowOffsets;
        Indices = indices;
        Values = values;
    }

    /// <inheritdoc />
    public override ColumnKind Kind => ColumnKind.Sparse;

    /// <summary>The number of logical columns.</summary>
    public int Width { get; }

    /// <summary>Length + 1 offsets into <see cref="Indices"/> and <see cref="Values"/>.</summary>
    public int[] RowOffsets { get; }

    /// <summary>0-based column indices of the non-zeros.</summary>
    public int[] Indices { get; }

    /// <summary>The non-zero values.</summary>
    public double[] Values { get; }

    /// <inheritdoc />
    public override Column Take(ReadOnlySpan<int> rows)
    {
        var offsets = new int[rows.Length + 1];
        int nnz = 0;
        for (int i = 0; i < rows.Length; i++) { nnz += RowOffsets[rows[i] + 1] - RowOffsets[rows[i]]; offsets[i + 1] = nnz; }
        var idx = new int[nnz];
        var val = new double[nnz];
        for (int i = 0; i < rows.Length; i++)
        {
            int s = RowOffsets[rows[i]], e = RowOffsets[rows[i] + 1];
            Indices.AsSpan(s, e - s).CopyTo(idx.AsSpan(offsets[i]));
            Values.AsSpan(s, e - s).CopyTo(val.AsSpan(offsets[i]));
        }
        return new SparseColumn(Width, offsets, idx, val, rows.Length);
    }

    /// <summary>
    /// Output row i is row <paramref name="row"/>[i] of <paramref name="parts"/>[<paramref name="part"/>[i]] (all sparse,
    /// of this width), copied straight from the parts. (It concatenated every part first, and an in-memory split gathers
    /// each output batch from all the input batches: the whole column was copied once per output batch.)
    /// </summary>
    internal static SparseColumn GatherRows(IReadOnlyList<Column> parts, ReadOnlySpan<int> part, ReadOnlySpan<int> row)
    {
        var offsets = new int[row.Length + 1];
        long nnz = 0;
        for (int i = 0; i < row.Length; i++)
        {
            var p = (SparseColumn)parts[part[i]];
            nnz += p.RowOffsets[row[i] + 1] - p.RowOffsets[row[i]];
            if (nnz > Array.MaxLength) throw new InvalidOperationException("More non-zeros in one batch than an array holds; use smaller batches.");
            offsets[i + 1] = (int)nnz;
        }
        var idx = new int[nnz];
        var val = new double[nnz];
        for (int i = 0; i < row.Length; i++)
        {
            var p = (SparseColumn)parts[part[i]];
            int s = p.RowOffsets[row[i]], n = p.RowOffsets[row[i] + 1] - s;
            p.Indices.AsSpan(s, n).CopyTo(idx.AsSpan(offsets[i]));
            p.Values.AsSpan(s, n).CopyTo(val.AsSpan(offsets[i]));
        }
        return new SparseColumn(((SparseColumn)parts[0]).Width, offsets, idx, val, row.Length);
    }

    internal static SparseColumn Concat(SparseColumn[] parts)
    {
        int rows = parts.Sum(p => p.Length), nnz = parts.Sum(p => p.RowOffsets[p.Length]);
        var offsets = new int[rows + 1];
        var idx = new int[nnz];
        var val = new double[nnz];
        int r = 0, at = 0;
        foreach (var p in parts)
        {
            for (int i = 0; i < p.Length; i++) offsets[r + i + 1] = at + p.RowOffsets[i + 1];
            int n = p.RowOffsets[p.Length];
            p.Indices.AsSpan(0, n).CopyTo(idx.AsSpan(at));
            p.Values.AsSpan(0, n).CopyTo(val.AsSpan(at));
            r += p.Length;
            at += n;
        }
        return new SparseColumn(parts[0].Width, offsets, idx, val, rows);
    }
}
