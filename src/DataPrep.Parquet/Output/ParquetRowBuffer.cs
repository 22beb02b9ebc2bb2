using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DataPrep.Data;
using Parquet;

namespace DataPrep.Formats;

/// <summary>
/// Rows of one channel waiting for their row group, column by column (one INT64 or DOUBLE array per output column),
/// with each row's lineage facts (row id, source, source row, content hash, group key, time). Holds at most the
/// row group's rows; the arrays grow on demand, so a small split never allocates a large row group.
/// </summary>
internal sealed class ParquetRowBuffer
{
    private readonly ParquetColumns _columns;
    private readonly int _limit;
    private readonly long[][] _longs;
    private readonly double[][] _doubles;
    private long[] _rowIds = [];
    private int[] _sources = [];
    private long[] _sourceRows = [];
    private ulong[] _hashes = [];
    private string?[] _groups = [];
    private long[] _times = [];

    /// <summary>Creates an empty buffer for at most <paramref name="limit"/> rows of <paramref name="columns"/>.</summary>
    public ParquetRowBuffer(ParquetColumns columns, int limit)
    {
        _columns = columns;
        _limit = limit;
        int n = columns.Columns.Count;
        _longs = new long[n][];
        _doubles = new double[n][];
        for (int c = 0; c < n; c++)
        {
            if (columns.Columns[c].IsDouble) _doubles[c] = [];
            else _longs[c] = [];
        }
    }

    /// <summary>Rows held.</summary>
    public int Count { get; private set; }

    /// <summary>Forgets the rows (keeps the arrays for the next row group).</summary>
    public void Clear() => Count = 0;

    /// <summary>The values of INT64 column <paramref name="column"/>.</summary>
    public ReadOnlyMemory<long> Longs(int column) => _longs[column].AsMemory(0, Count);

    /// <summary>The values of DOUBLE column <paramref name="column"/>.</summary>
    public ReadOnlyMemory<double> Doubles(int column) => _doubles[column].AsMemory(0, Count);

    /// <summary>Row <paramref name="row"/>'s stable id.</summary>
    public long RowId(int row) => _rowIds[row];

    /// <summary>Row <paramref name="row"/>'s input index.</summary>
    public int Source(int row) => _sources[row];

    /// <summary>Row <paramref name="row"/>'s 1-based data row in its input.</summary>
    public long SourceRow(int row) => _sourceRows[row];

    /// <summary>Row <paramref name="row"/>'s content hash (0 without lineage).</summary>
    public ulong Hash(int row) => _hashes[row];

    /// <summary>Row <paramref name="row"/>'s group key, if the run has group keys.</summary>
    public string? Group(int row) => _groups[row];

    /// <summary>Row <paramref name="row"/>'s time as UTC ticks, <see cref="long.MinValue"/> when the run has none.</summary>
    public long Time(int row) => _times[row];

    /// <summary>
    /// Appends rows [<paramref name="start"/>, +<paramref name="count"/>) of an encoded batch; sparse positions are
    /// written dense (zero where the row has no value), booleans as 0/1.
    /// </summary>
    /// <param name="batch">The batch (its schema is the columns' batch schema).</param>
    /// <param name="start">The first row.</param>
    /// <param name="count">Rows to append.</param>
    /// <param name="hashes">The content hash of every row of the batch range, indexed from <paramref name="hashOffset"/>; null without lineage.</param>
    /// <param name="hashOffset">The index in <paramref name="hashes"/> of row <paramref name="start"/>.</param>
    public void Append(RecordBatch batch, int start, int count, ulong[]? hashes, int hashOffset)
    {
        Reserve(count);
        int at = Count;
        var output = _columns.Columns;
        for (int c = 0; c < output.Count; c++)
        {
            var col = output[c];
            switch (batch.Columns[col.Source])
            {
                case Int64Column l:
                    l.Values.AsSpan(start, count).CopyTo(_longs[c].AsSpan(at));
                    break;
                case Float64Column d:
                    d.Values.AsSpan(start, count).CopyTo(_doubles[c].AsSpan(at));
                    break;
                case BooleanColumn b:
                    var bools = b.Values;
                    var longs = _longs[c];
                    for (int k = 0; k < count; k++) longs[at + k] = bools[start + k] ? 1 : 0;
                    break;
                case SparseColumn s:
                    // Each position of the sparse column is its own output column: fill them all from one pass per row.
                    if (col.Offset == 0) Densify(s, start, count, c, at);
                    break;
                case var other:
                    throw new NotSupportedException($"Parquet output cannot hold {other.Kind} columns.");
            }
        }
        var info = batch.Rows;
        info.RowIds.AsSpan(start, count).CopyTo(_rowIds.AsSpan(at));
        info.Sources.AsSpan(start, count).CopyTo(_sources.AsSpan(at));
        info.SourceRows.AsSpan(start, count).CopyTo(_sourceRows.AsSpan(at));
        if (hashes is not null) hashes.AsSpan(hashOffset, count).CopyTo(_hashes.AsSpan(at));
        if (info.GroupKeys is { } groups) groups.AsSpan(start, count).CopyTo(_groups.AsSpan(at));
        else _groups.AsSpan(at, count).Clear();
        if (info.Times is { } times) times.AsSpan(start, count).CopyTo(_times.AsSpan(at));
        else _times.AsSpan(at, count).Fill(long.MinValue);
        Count += count;
    }

    /// <summary>Writes rows of a sparse column into its <see cref="SparseColumn.Width"/> output columns from <paramref name="first"/> on.</summary>
    private void Densify(SparseColumn s, int start, int count, int first, int at)
    {
        for (int j = 0; j < s.Width; j++) _doubles[first + j].AsSpan(at, count).Clear();
        for (int k = 0; k < count; k++)
        {
            int row = start + k;
            for (int i = s.RowOffsets[row]; i < s.RowOffsets[row + 1]; i++) _doubles[first + s.Indices[i]][at + k] = s.Values[i];
        }
    }

    /// <summary>Appends rows [<paramref name="start"/>, +<paramref name="count"/>) of another buffer of the same columns.</summary>
    public void Append(ParquetRowBuffer other, int start, int count)
    {
        Reserve(count);
        int at = Count;
        for (int c = 0; c < _longs.Length; c++)
        {
            if (_longs[c] is { } l) other._longs[c].AsSpan(start, count).CopyTo(l.AsSpan(at));
            else other._doubles[c].AsSpan(start, count).CopyTo(_doubles[c].AsSpan(at));
        }
        other._rowIds.AsSpan(start, count).CopyTo(_rowIds.AsSpan(at));
        other._sources.AsSpan(start, count).CopyTo(_sources.AsSpan(at));
        other._sourceRows.AsSpan(start, count).CopyTo(_sourceRows.AsSpan(at));
        other._hashes.AsSpan(start, count).CopyTo(_hashes.AsSpan(at));
        other._groups.AsSpan(start, count).CopyTo(_groups.AsSpan(at));
        other._times.AsSpan(start, count).CopyTo(_times.AsSpan(at));
        Count += count;
    }

    /// <summary>Appends one row given as its output values, 8 little-endian bytes a column (an INT64, or a DOUBLE's bits), without lineage facts.</summary>
    public void AppendRow(ReadOnlySpan<byte> row)
    {
        Reserve(1);
        int at = Count;
        for (int c = 0; c < _longs.Length; c++)
        {
            long bits = BinaryPrimitives.ReadInt64LittleEndian(row.Slice(8 * c, 8));
            if (_longs[c] is { } l) l[at] = bits;
            else _doubles[c][at] = BitConverter.Int64BitsToDouble(bits);
        }
        Count++;
    }

    /// <summary>Copies the rows into <paramref name="target"/> row by row as <see cref="AppendRow"/> reads them.</summary>
    public void CopyRowsTo(Span<byte> target)
    {
        int width = 8 * _longs.Length;
        for (int r = 0; r < Count; r++)
        {
            var row = target.Slice(r * width, width);
            for (int c = 0; c < _longs.Length; c++)
            {
                long bits = _longs[c] is { } l ? l[r] : BitConverter.DoubleToInt64Bits(_doubles[c][r]);
                BinaryPrimitives.WriteInt64LittleEndian(row.Slice(8 * c, 8), bits);
            }
        }
    }

    /// <summary>Writes the rows as one row group of <paramref name="file"/>, column by column.</summary>
    public async ValueTask WriteRowGroupAsync(ParquetWriter file, CancellationToken cancellationToken)
    {
        using var group = file.CreateRowGroup();
        var fields = _columns.Fields;
        for (int c = 0; c < fields.Length; c++)
        {
            if (_columns.Columns[c].IsDouble) await group.WriteAsync(fields[c], Doubles(c), null, null, cancellationToken).ConfigureAwait(false);
            else await group.WriteAsync(fields[c], Longs(c), null, null, cancellationToken).ConfigureAwait(false);
        }
        group.CompleteValidate();
    }

    /// <summary>Writes the rows to a spill file (raw little-endian arrays, strings with a presence flag).</summary>
    public void WriteTo(BinaryWriter w)
    {
        int n = Count;
        w.Write(n);
        for (int c = 0; c < _longs.Length; c++)
        {
            if (_longs[c] is { } l) w.Write(MemoryMarshal.AsBytes(l.AsSpan(0, n)));
            else w.Write(MemoryMarshal.AsBytes(_doubles[c].AsSpan(0, n)));
        }
        w.Write(MemoryMarshal.AsBytes(_rowIds.AsSpan(0, n)));
        w.Write(MemoryMarshal.AsBytes(_sources.AsSpan(0, n)));
        w.Write(MemoryMarshal.AsBytes(_sourceRows.AsSpan(0, n)));
        w.Write(MemoryMarshal.AsBytes(_hashes.AsSpan(0, n)));
        w.Write(MemoryMarshal.AsBytes(_times.AsSpan(0, n)));
        for (int r = 0; r < n; r++)
        {
            w.Write(_groups[r] is not null);
            if (_groups[r] is { } g) w.Write(g);
        }
    }

    /// <summary>Replaces the rows with the next block of a spill file written by <see cref="WriteTo"/>.</summary>
    public void ReadFrom(BinaryReader r)
    {
        int n = r.ReadInt32();
        Count = 0;
        Reserve(n);
        for (int c = 0; c < _longs.Length; c++)
        {
            if (_longs[c] is { } l) r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(l.AsSpan(0, n)));
            else r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_doubles[c].AsSpan(0, n)));
        }
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_rowIds.AsSpan(0, n)));
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_sources.AsSpan(0, n)));
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_sourceRows.AsSpan(0, n)));
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_hashes.AsSpan(0, n)));
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(_times.AsSpan(0, n)));
        for (int k = 0; k < n; k++) _groups[k] = r.ReadBoolean() ? r.ReadString() : null;
        Count = n;
    }

    /// <summary>Room for <paramref name="more"/> rows after <see cref="Count"/>: arrays double, so appends stay linear.</summary>
    private void Reserve(int more)
    {
        int needed = Count + more;
        if (needed <= _rowIds.Length) return;
        if (needed > _limit) throw new InvalidOperationException($"{needed} rows do not fit a row group buffer of {_limit}.");
        int size = (int)Math.Min(_limit, Math.Max(needed, Math.Max(1024L, _rowIds.Length * 2L)));
        for (int c = 0; c < _longs.Length; c++)
        {
            if (_longs[c] is not null) Array.Resize(ref _longs[c], size);
            else Array.Resize(ref _doubles[c], size);
        }
        Array.Resize(ref _rowIds, size);
        Array.Resize(ref _sources, size);
        Array.Resize(ref _sourceRows, size);
        Array.Resize(ref _hashes, size);
        Array.Resize(ref _groups, size);
        Array.Resize(ref _times, size);
    }
}
