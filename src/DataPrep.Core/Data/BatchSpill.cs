using System.Runtime.InteropServices;
using System.Text;

namespace DataPrep.Data;

/// <summary>
/// Writes record batches to a temp file in a compact binary columnar form (raw column arrays, null masks,
/// strings as UTF-8 with lengths, sparse CSR) and reads them back exactly: same values, same null masks,
/// same row info. Used to spill data that does not fit the memory budget; not a file format for users.
/// </summary>
/// <remarks>
/// Float64 columns marked float32 (see <see cref="Float32Columns"/>) are written as float32, in blocks of
/// <see cref="Float32Block"/> values, each after a byte: 1, the block's values as float32; 0, as doubles, because one of
/// them is finite but out of float32's range (<see cref="Float32Rule.OutOfRange"/>), so the value, and the error its
/// writer reports for it, stay exact. Such a column reads back as <c>(double)(float)v</c>: only columns nothing reads
/// except a float32 writer may be marked (the split decides which: <c>SpillNarrowing</c>).
/// </remarks>
internal sealed class BatchSpillWriter : IDisposable
{
    /// <summary>Values of a float32 column written under one marker byte (a block of doubles fills the 64 KiB scratch buffer).</summary>
    internal const int Float32Block = 8192;

    // The file is written through this class's own buffer, not FileStream's: a spill of small batches of wide rows
    // makes millions of writes of a few bytes (a flag, a block of two floats, per column and hash file), and each
    // FileStream call costs tens of nanoseconds more than a copy into an array.
    private readonly FileStream _file;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _used;
    private readonly bool[]? _float32;
    private readonly bool[]? _unread;
    private readonly bool[]? _text;
    // One scratch buffer a thread, shared by the writers it drives (their writes are synchronous): a split's pass 1 writes
    // 128 hash files, whose buffers of their own took 8 MiB of a 128 MB budget.
    [ThreadStatic] private static byte[]? t_scratch;
    private static byte[] Scratch => t_scratch ??= new byte[1 << 16];

    /// <summary>Creates (or truncates) the spill file at <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="float32Columns">By column index, the Float64 columns written as float32 (null: none); the reader must get the same.</param>
    /// <param name="unreadColumns">
    /// By column index, the columns not written at all (null: none), because nothing reads them back; the reader must get
    /// the same, and gives <see cref="SpilledColumn"/> placeholders for them.
    /// </param>
    /// <param name="textColumns">
    /// By column index, the columns carried by the rows' text alone (null: no text is written). When set, every batch
    /// must have every row's text (<see cref="RawRecords.Records"/>, none empty): it is written after the row information,
    /// and these columns are not written; the reader, given the same, gives the text back as the batch's
    /// <see cref="RecordBatch.Raw"/> and <see cref="SpilledColumn"/> placeholders for the columns.
    /// </param>
    public BatchSpillWriter(string path, bool[]? float32Columns = null, bool[]? unreadColumns = null, bool[]? textColumns = null)
    {
        Path = path;
        _float32 = float32Columns;
        _unread = unreadColumns;
        _text = textColumns;
        _file = TempFile.Create(path, 0);
    }

    /// <summary>By column index, the Float64 columns this file holds as float32 (null: none).</summary>
    public bool[]? Float32Columns => _float32;

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Bytes written so far.</summary>
    public long Length => _file.Position + _used;

    /// <summary>
    /// Whether every batch written so far holds only fixed-width values: no null mask, group keys or operations, and no
    /// string, binary or sparse column; such a file can be read with <see cref="BatchSpillReader.ReadPlaced(ReadOnlySpan{int}, ReadOnlySpan{int}, PlaceTargets, bool)"/>.
    /// </summary>
    public bool FixedWidthOnly { get; private set; } = true;

    /// <summary>
    /// Whether every value of a float32 column written so far is a finite float32 (no block of doubles, no NaN, no
    /// infinity): such a file's float32 columns can be read back as rows' float32 values (<see cref="PlacedRows.Image"/>),
    /// which hold only what the CSV source would have kept for a row.
    /// </summary>
    public bool Float32Finite { get; private set; } = true;

    /// <summary>Appends an array of ints (for example output ranks) ahead of a batch.</summary>
    public void WriteInts(ReadOnlySpan<int> values)
    {
        WriteInt(values.Length);
        Put(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Appends one batch.</summary>
    public void Write(RecordBatch batch) => WriteRows(batch, null);

    /// <summary>
    /// Appends the given rows of a batch, in that order: what <c>Write(batch.Take(rows))</c> writes, gathered straight
    /// into the file's buffer instead of into new column arrays first.
    /// </summary>
    public void Write(RecordBatch batch, int[] rows) => WriteRows(batch, rows);

    /// <summary>
    /// Appends to each part's writer its positions and then its rows of the batch: exactly what
    /// <c>part.Writer.WriteInts(part.Positions); part.Writer.Write(batch, part.Rows)</c> appends, part after part, but
    /// written column by column across the parts, so each column is read from memory once for all of them (a shuffled
    /// split spreads every batch over 128 files; the per-file order read each column 128 times, a cache miss a value).
    /// </summary>
    public static void WriteSpread(RecordBatch batch, IReadOnlyList<(BatchSpillWriter Writer, int[] Positions, int[] Rows)> parts)
    {
        // The parts in two arrays: the loop below runs columns × parts times (128,000 a batch of 1,000 columns), and a list
        // of tuples cost a copy of each tuple through its enumerator at every turn.
        int count = parts.Count;
        var writers = new BatchSpillWriter[count];
        var picked = new int[count][];
        for (int p = 0; p < count; p++)
        {
            var (writer, positions, rows) = parts[p];
            writer.WriteInts(positions);
            writer.WriteHeader(batch, rows);
            (writers[p], picked[p]) = (writer, rows);
        }
        using var images = count > 0 ? Float32Images.Take(batch, writers[0]._float32) : null;
        for (int c = 0; c < batch.Columns.Count; c++)
        {
            var column = batch.Columns[c];
            for (int p = 0; p < writers.Length; p++) writers[p].WriteColumn(column, c, picked[p].Length, picked[p], images);
        }
    }

    private void WriteRows(RecordBatch batch, int[]? rows)
    {
        WriteHeader(batch, rows);
        int n = rows?.Length ?? batch.RowCount;
        using var images = Float32Images.Take(batch, _float32);
        for (int c = 0; c < batch.Columns.Count; c++) WriteColumn(batch.Columns[c], c, n, rows, images);
    }

    /// <summary>A batch's row count and row information: what precedes its columns.</summary>
    private void WriteHeader(RecordBatch batch, int[]? rows)
    {
        int n = rows?.Length ?? batch.RowCount;
        WriteInt(n);
        var info = batch.Rows;
        WriteValues(info.RowIds, n, rows);
        WriteValues(info.Sources, n, rows);
        WriteValues(info.SourceRows, n, rows);
        WriteOptional(info.Splits, n, rows);
        WriteOptional(info.Times, n, rows);
        WriteOptional(info.Folds, n, rows);
        if (info.GroupKeys is not null || info.Operations is not null) FixedWidthOnly = false;
        WriteFlag(info.GroupKeys is not null);
        if (info.GroupKeys is not null) WriteStrings(info.GroupKeys, n, rows);
        // What an augmentation stage added (a scaled-out image run keeps its transformed rows until the commit).
        WriteOptional(info.AugmentedFrom, n, rows);
        WriteFlag(info.Operations is not null);
        if (info.Operations is not null) WriteStrings(info.Operations, n, rows);
        if (_text is not null) WriteText(batch, n, rows);
    }

    /// <summary>The rows' text (<see cref="RawRecords.Records"/>): every length, then every row's bytes.</summary>
    private void WriteText(RecordBatch batch, int n, int[]? rows)
    {
        if (batch.Raw is not { } raw || !raw.Matches(batch.Schema)) throw new InvalidOperationException("A text spill needs every row's text; the batch has none.");
        var records = raw.Records;
        var lengths = new int[n];
        for (int i = 0; i < n; i++)
        {
            lengths[i] = records[rows?[i] ?? i].Length;
            if (lengths[i] == 0) throw new InvalidOperationException("A text spill needs every row's text; a row has none.");
        }
        WriteSpan<int>(lengths);
        for (int i = 0; i < n; i++) Put(records[rows?[i] ?? i].Span);
    }

    private void WriteColumn(Column column, int index, int n, int[]? rows, Float32Images? images)
    {
        if ((_unread is not null && _unread[index]) || (_text is not null && _text[index])) return;
        if (images is not null && column.Nulls is null && images.Has(index) && TryWriteFloat32Image(images.Column(index), n, rows)) return;
        if (column is SparseColumn or StringColumn or BinaryColumn) FixedWidthOnly = false;
        if (column is SparseColumn s)
        {
            // Rows of varying length: picked through Take (sparse columns are rare in bulk).
            if (rows is not null) s = (SparseColumn)s.Take(rows);
            WriteInt(s.Width);
            WriteSpan<int>(s.RowOffsets.AsSpan(0, n + 1));
            int nnz = s.RowOffsets[n];
            WriteSpan<int>(s.Indices.AsSpan(0, nnz));
            WriteSpan<double>(s.Values.AsSpan(0, nnz));
            return;
        }
        if (column is StringColumn str) { WriteStrings(str.Values, n, rows); return; }
        // Take keeps a null mask only when a picked row is missing; so does this.
        var nulls = column.Nulls;
        if (nulls is not null && rows is not null && !AnyPicked(nulls, rows)) nulls = null;
        if (nulls is not null) FixedWidthOnly = false;
        WriteOptional(nulls, n, rows);
        switch (column)
        {
            case Float64Column when _float32 is not null && _float32[index] && images is not null && images.Has(index): WriteFloat32(images.Column(index), n, rows); break;
            case Float64Column f when _float32 is not null && _float32[index]: WriteFloat32(f.Values, n, rows); break;
            case Float64Column f: WriteValues(f.Values, n, rows); break;
            case Int64Column l: WriteValues(l.Values, n, rows); break;
            case TimestampColumn t: WriteValues(t.Values, n, rows); break;
            case BooleanColumn b: WriteValues(b.Values, n, rows); break;
            case BinaryColumn bin:
                var lengths = new int[n];
                for (int i = 0; i < n; i++) lengths[i] = bin.Values[rows?[i] ?? i].Length;
                WriteSpan<int>(lengths);
                for (int i = 0; i < n; i++) Put(bin.Values[rows?[i] ?? i].Span);
                break;
            default: throw new NotSupportedException($"Cannot spill a {column.GetType().Name}.");
        }
    }

    /// <summary>
    /// The first <paramref name="n"/> values (or those at <paramref name="rows"/>) as float32, block by block; a block
    /// holding a finite value beyond float32's range is written as doubles (see the remarks on the class).
    /// </summary>
    private void WriteFloat32(double[] values, int n, int[]? rows)
    {
        var floats = MemoryMarshal.Cast<byte, float>(Scratch.AsSpan(0, 4 * Float32Block));
        for (int start = 0; start < n; start += Float32Block)
        {
            int m = Math.Min(Float32Block, n - start);
            bool outOfRange = false;
            if (rows is null)
            {
                var block = values.AsSpan(start, m);
                for (int i = 0; i < block.Length; i++)
                {
                    double v = block[i];
                    float x = (float)v;
                    outOfRange |= Float32Rule.OutOfRange(v, x);
                    floats[i] = x;
                }
            }
            else
            {
                var picked = rows.AsSpan(start, m);
                for (int i = 0; i < picked.Length; i++)
                {
                    double v = values[picked[i]];
                    float x = (float)v;
                    outOfRange |= Float32Rule.OutOfRange(v, x);
                    floats[i] = x;
                }
            }
            if (outOfRange || !AllFinite(floats[..m])) Float32Finite = false;
            WriteFlag(!outOfRange);
            if (!outOfRange) { WriteSpan<float>(floats[..m]); continue; }
            var doubles = new double[m];
            for (int i = 0; i < m; i++) doubles[i] = values[rows?[start + i] ?? start + i];
            WriteSpan<double>(doubles);
        }
    }

    /// <summary>
    /// <see cref="WriteFloat32(double[], int, int[])"/> for values already float32 (<see cref="Float32Images"/>): every
    /// block is one of float32 values.
    /// </summary>
    private void WriteFloat32(ReadOnlySpan<float> values, int n, int[]? rows)
    {
        Span<float> floats = MemoryMarshal.Cast<byte, float>(Scratch.AsSpan(0, 4 * Float32Block));
        for (int start = 0; start < n; start += Float32Block)
        {
            int m = Math.Min(Float32Block, n - start);
            WriteFlag(true);
            ReadOnlySpan<float> block = floats[..m];
            if (rows is null) block = values.Slice(start, m);
            else
            {
                var picked = rows.AsSpan(start, m);
                for (int i = 0; i < picked.Length; i++) floats[i] = values[picked[i]];
            }
            if (!AllFinite(block)) Float32Finite = false;
            WriteSpan<float>(block);
        }
    }

    /// <summary>
    /// What <see cref="WriteColumn(Column, int, int, int[], Float32Images)"/> writes for a float32 column without a null mask
    /// whose values are <paramref name="values"/>: no mask, one block of float32 values. Written straight into the buffer
    /// when it fits in one block and the buffer's free space (false otherwise: nothing written). A shuffled spill of wide
    /// rows writes a few rows of each column to each of 128 files, a call per column and file, and the general path's
    /// calls (two flags, a gather through the scratch buffer, a finite check, a copy) cost several times the values.
    /// </summary>
    private bool TryWriteFloat32Image(ReadOnlySpan<float> values, int n, int[]? rows)
    {
        if (n == 0 || n > Float32Block || _buffer.Length - _used < 2 + 4 * n) return false;
        _buffer[_used] = 0;
        _buffer[_used + 1] = 1;
        var into = MemoryMarshal.Cast<byte, uint>(_buffer.AsSpan(_used + 2, 4 * n));
        var bits = MemoryMarshal.Cast<float, uint>(values);
        uint exponent = 0x7F80_0000u;
        bool allFinite = true;
        if (rows is null)
        {
            bits[..n].CopyTo(into);
            allFinite = AllFinite(values[..n]);
        }
        else
        {
            for (int i = 0; i < into.Length; i++)
            {
                uint v = bits[rows[i]];
                into[i] = v;
                allFinite &= (v & exponent) != exponent;
            }
        }
        if (!allFinite) Float32Finite = false;
        _used += 2 + 4 * n;
        return true;
    }

    /// <summary>Whether no value is NaN or ±infinity (all exponent bits set), a vector at a time.</summary>
    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var exponent = new System.Numerics.Vector<uint>(0x7F80_0000u);
            var any = System.Numerics.Vector<uint>.Zero;
            for (; i + System.Numerics.Vector<uint>.Count <= bits.Length; i += System.Numerics.Vector<uint>.Count)
            {
                any |= System.Numerics.Vector.Equals(new System.Numerics.Vector<uint>(bits[i..]) & exponent, exponent);
            }
            if (any != System.Numerics.Vector<uint>.Zero) return false;
        }
        for (; i < bits.Length; i++) if ((bits[i] & 0x7F80_0000u) == 0x7F80_0000u) return false;
        return true;
    }

    private static bool AnyPicked(bool[] nulls, int[] rows)
    {
        foreach (int r in rows) if (nulls[r]) return true;
        return false;
    }

    private void WriteStrings(ReadOnlySpan<string?> values, int n, int[]? rows)
    {
        // Lengths first (−1 for null), then all UTF-8 bytes, so reading needs no per-value framing.
        var lengths = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++)
        {
            lengths[i] = values[rows?[i] ?? i] is { } v ? Encoding.UTF8.GetByteCount(v) : -1;
            if (lengths[i] > 0) total += lengths[i];
        }
        WriteSpan<int>(lengths);
        var scratch = Scratch;
        if (scratch.Length < total) t_scratch = scratch = new byte[Math.Max(total, scratch.Length * 2)];
        int at = 0;
        for (int i = 0; i < n; i++)
        {
            if (values[rows?[i] ?? i] is { } v) at += Encoding.UTF8.GetBytes(v, scratch.AsSpan(at));
        }
        Put(scratch.AsSpan(0, at));
    }

    private void WriteOptional<T>(T[]? values, int n, int[]? rows) where T : unmanaged
    {
        WriteFlag(values is not null);
        if (values is not null) WriteValues(values, n, rows);
    }

    /// <summary>The first <paramref name="n"/> values, or the values at <paramref name="rows"/> gathered through the scratch buffer.</summary>
    private void WriteValues<T>(T[] values, int n, int[]? rows) where T : unmanaged
    {
        if (rows is null) { WriteSpan<T>(values.AsSpan(0, n)); return; }
        var scratch = MemoryMarshal.Cast<byte, T>(Scratch.AsSpan());
        for (int start = 0; start < n; start += scratch.Length)
        {
            int m = Math.Min(scratch.Length, n - start);
            var picked = rows.AsSpan(start, m);
            for (int i = 0; i < m; i++) scratch[i] = values[picked[i]];
            WriteSpan<T>(scratch[..m]);
        }
    }

    private void WriteSpan<T>(ReadOnlySpan<T> values) where T : unmanaged => Put(MemoryMarshal.AsBytes(values));

    private void WriteFlag(bool value)
    {
        if (_used == _buffer.Length) Drain();
        _buffer[_used++] = value ? (byte)1 : (byte)0;
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= _buffer.Length - _used)
        {
            bytes.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
            return;
        }
        Drain();
        if (bytes.Length >= _buffer.Length)
        {
            _file.Write(bytes);
            return;
        }
        bytes.CopyTo(_buffer);
        _used = bytes.Length;
    }

    private void Drain()
    {
        if (_used == 0) return;
        _file.Write(_buffer, 0, _used);
        _used = 0;
    }

    private void WriteInt(int value)
    {
        Span<byte> b = stackalloc byte[4];
        MemoryMarshal.Write(b, in value);
        Put(b);
    }

    /// <summary>
    /// Appends rows [<paramref name="start"/>, +<paramref name="count"/>) of one column alone, as a batch of those rows
    /// holds them (a null mask only when one of them is missing) but with no row count or row information before them:
    /// read back with <see cref="BatchSpillReader.ReadColumnAt"/> (a Parquet row group transposed on disk, column by
    /// column, without copying each slice first). Not for files with float32 or unread columns, nor sparse columns.
    /// </summary>
    internal void WriteColumn(Column column, int index, int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)start + count, column.Length);
        if (_float32 is not null || _unread is not null || _text is not null) throw new InvalidOperationException("A column range is written only to a file without float32, unread or text columns.");
        if (column is StringColumn str)
        {
            FixedWidthOnly = false;
            WriteStrings(str.Values.AsSpan(start, count), count, null);
            return;
        }
        var nulls = column.Nulls is { } mask && mask.AsSpan(start, count).Contains(true) ? mask.AsSpan(start, count) : default;
        WriteFlag(!nulls.IsEmpty);
        if (!nulls.IsEmpty)
        {
            FixedWidthOnly = false;
            WriteSpan<bool>(nulls);
        }
        switch (column)
        {
            case Float64Column f: WriteSpan<double>(f.Values.AsSpan(start, count)); break;
            case Int64Column l: WriteSpan<long>(l.Values.AsSpan(start, count)); break;
            case TimestampColumn t: WriteSpan<long>(t.Values.AsSpan(start, count)); break;
            case BooleanColumn b: WriteSpan<bool>(b.Values.AsSpan(start, count)); break;
            case BinaryColumn bin:
                FixedWidthOnly = false;
                var lengths = new int[count];
                for (int i = 0; i < count; i++) lengths[i] = bin.Values[start + i].Length;
                WriteSpan<int>(lengths);
                for (int i = 0; i < count; i++) Put(bin.Values[start + i].Span);
                break;
            default: throw new NotSupportedException($"Cannot write a range of a {column.GetType().Name}.");
        }
    }

    /// <summary>Flushes the file.</summary>
    public void Flush()
    {
        Drain();
        _file.Flush();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try { Drain(); }
        finally { _file.Dispose(); }
    }
}

/// <summary>
/// A batch's float32 spill columns (by index, those the writer marks) taken from its rows' float32 values as the source
/// kept them (<see cref="RawRecords.Float32"/>), in one pass over the rows, into one pooled block, column after column.
/// Each value is <c>(float)</c> of the row's double, which is what the writer's double path writes for it (never beyond
/// float32's range: such a row keeps none), so the file's bytes are the same, and a row kept as float32 alone is not
/// widened to a double only to be narrowed back.
/// </summary>
internal sealed class Float32Images : IDisposable
{
    private float[]? _block;
    private readonly int[] _at;
    private readonly int _rows;

    private Float32Images(float[] block, int[] at, int rows)
    {
        _block = block;
        _at = at;
        _rows = rows;
    }

    /// <summary>Whether column <paramref name="column"/> was taken.</summary>
    public bool Has(int column) => _at[column] >= 0;

    /// <summary>Column <paramref name="column"/>'s values, one per row of the batch.</summary>
    public ReadOnlySpan<float> Column(int column) => _block.AsSpan(_at[column], _rows);

    /// <summary>
    /// The batch's columns marked in <paramref name="float32"/> that are Float64, when every row has float32 values for the
    /// batch's own fields; null otherwise (the writer then narrows the doubles).
    /// </summary>
    public static Float32Images? Take(RecordBatch batch, bool[]? float32)
    {
        if (float32 is null || !BitConverter.IsLittleEndian || batch.Raw is not { Float32: { } kept } raw || !raw.Matches(batch.Schema)) return null;
        int n = batch.RowCount;
        if (n == 0 || kept.Length < n) return null;
        // Columns 16 floats (a cache line) further apart than a whole number of lines: at a distance of a multiple of
        // 4 KiB (65,536 rows) the row's 50 stores all fell in one set of the L1 cache, which holds 8 lines.
        int stride = (n + 15) / 16 * 16 + 16;
        var at = new int[batch.Columns.Count];
        var taken = new List<int>();
        for (int c = 0; c < at.Length; c++)
        {
            bool take = c < float32.Length && float32[c] && batch.Columns[c] is Float64Column;
            at[c] = take ? taken.Count * stride : -1;
            if (take) taken.Add(c);
        }
        if (taken.Count == 0) return null;
        var columns = taken.ToArray();
        int width = 4 * batch.Schema.Count;
        var block = System.Buffers.ArrayPool<float>.Shared.Rent(columns.Length * stride);
        for (int r = 0; r < n; r++)
        {
            var image = kept[r].Span;
            if (image.Length != width)
            {
                System.Buffers.ArrayPool<float>.Shared.Return(block);
                return null;
            }
            var values = MemoryMarshal.Cast<byte, float>(image);
            for (int k = 0, to = r; k < columns.Length; k++, to += stride) block[to] = values[columns[k]];
        }
        return new Float32Images(block, at, n);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_block is { } block) System.Buffers.ArrayPool<float>.Shared.Return(block);
        _block = null;
    }
}

/// <summary>Temp files a run writes once and reads back (spill files, their row ids, the tags beside them).</summary>
internal static class TempFile
{
    /// <summary>
    /// A new file at <paramref name="path"/> for writing, replacing one already there, opened without truncating: ext4
    /// (with its default <c>auto_da_alloc</c>) writes back at close every file that was truncated when opened, as
    /// <see cref="FileMode.Create"/> does even to a new file. Each spill file was then written to disk while the run
    /// waited: W3 closes 1.1 GB of them at the end of its first pass.
    /// </summary>
    public static FileStream Create(string path, int bufferSize)
    {
        File.Delete(path);
        return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize);
    }
}

/// <summary>Reads batches written by <see cref="BatchSpillWriter"/> in order.</summary>
internal sealed class BatchSpillReader : IDisposable
{
    // Read through this class's own buffer, not FileStream's: a spill of small batches of wide rows is read a flag and a
    // block of a few floats at a time, and each FileStream call costs tens of nanoseconds more than a copy.
    private readonly FileStream _file;
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly long _length;
    private int _at, _end;
    private readonly Schema _schema;
    // The schema's kinds in one array: placing a batch of a few wide rows asks each of 1,000 columns its kind, and each
    // field is an object of its own, a cache miss a column.
    private readonly ColumnKind[] _kinds;
    private readonly bool[]? _float32;
    private readonly bool[]? _unread;
    private readonly bool[]? _text;
    private readonly string[]? _names;
    // A text spill's rows' text, read back into small arrays (see TextArena).
    private readonly TextArena _arena = new();
    private byte[] _scratch = new byte[1 << 16];
    // Repeated string values come back as one object (a category column of a spilled split: one string a value, not a row).
    private readonly Utf8StringCache _strings = new();

    /// <summary>Opens a spill file of batches of <paramref name="schema"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="schema">The batches' schema.</param>
    /// <param name="float32Columns">The Float64 columns written as float32, as the writer was given them (null: none).</param>
    /// <param name="unreadColumns">The columns not written, as the writer was given them (null: none): read as <see cref="SpilledColumn"/> placeholders.</param>
    /// <param name="textColumns">The columns carried by the rows' text, as the writer was given them (null: no text): read as placeholders, the text as <see cref="RecordBatch.Raw"/>.</param>
    /// <param name="textNames">
    /// The text's field names (<see cref="RawRecords.FieldNames"/>; default: the schema's). Readers whose batches are gathered
    /// together must share one array: <c>RawRecords.Gather</c> keeps the text only of batches with the same one.
    /// </param>
    public BatchSpillReader(string path, Schema schema, bool[]? float32Columns = null, bool[]? unreadColumns = null, bool[]? textColumns = null, string[]? textNames = null)
    {
        _schema = schema;
        _kinds = schema.Fields.Select(f => f.Kind).ToArray();
        _float32 = float32Columns;
        _unread = unreadColumns;
        _text = textColumns;
        _names = textColumns is null ? null : textNames ?? schema.Fields.Select(f => f.Name).ToArray();
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
        // A spill file is complete when it is read: its length is asked once, not at every batch.
        _length = _file.Length;
    }

    /// <summary>Whether everything was read.</summary>
    public bool AtEnd => Position >= _length;

    /// <summary>Where the next byte is read from.</summary>
    private long Position => _file.Position - (_end - _at);

    /// <summary>Reads an int array written by <see cref="BatchSpillWriter.WriteInts"/>.</summary>
    public int[] ReadInts() => ReadArray<int>(ReadInt());

    /// <summary>
    /// Reads the <paramref name="n"/> values of column <paramref name="index"/> that <see cref="BatchSpillWriter.WriteColumn(Column, int, int, int)"/>
    /// wrote at <paramref name="offset"/>, <paramref name="bytes"/> bytes: when they are not in the buffer, it is filled with
    /// those bytes alone, not the 64 KiB after them (a row group read back a slice of each column at a time is read once).
    /// </summary>
    internal Column ReadColumnAt(long offset, int index, int n, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1);
        long bufferStart = _file.Position - _end;
        if (offset >= bufferStart && offset + bytes <= _file.Position) _at = (int)(offset - bufferStart);
        else
        {
            _file.Position = offset;
            _at = 0;
            _end = _file.ReadAtLeast(_buffer.AsSpan(0, (int)Math.Min(bytes, _buffer.Length)), (int)Math.Min(bytes, _buffer.Length), throwOnEndOfStream: true);
        }
        return ReadColumn(_schema[index], index, n, null);
    }

    /// <summary>Reads the next batch.</summary>
    public RecordBatch Read() => Read(null);

    /// <summary>
    /// Reads the given rows (ascending) of the next batch: what <c>Read().Take(rows)</c> gives, without building the
    /// other rows (the values pass through the scratch buffer).
    /// </summary>
    public RecordBatch Read(int[]? rows)
    {
        int n = ReadInt();
        int m = rows?.Length ?? n;
        var ids = ReadArray<long>(n, rows);
        var sources = ReadArray<int>(n, rows);
        var sourceRows = ReadArray<long>(n, rows);
        var splits = ReadOptional<SplitTag>(n, rows);
        var times = ReadOptional<long>(n, rows);
        var folds = ReadOptional<short>(n, rows);
        var groups = ReadFlag() ? Pick(ReadStrings(n), rows) : null;
        var from = ReadOptional<long>(n, rows);
        var operations = ReadFlag() ? Pick(ReadStrings(n), rows) : null;
        var texts = _text is null ? null : ReadTexts(n, rows);
        var info = new RowInfo(ids, sources, sourceRows, splits) { Times = times, Folds = folds, GroupKeys = groups, AugmentedFrom = from, Operations = operations is null ? null : Array.ConvertAll(operations, o => o ?? "") };
        var columns = new Column[_schema.Count];
        for (int c = 0; c < columns.Length; c++) columns[c] = ReadColumn(_schema[c], c, n, rows);
        return new RecordBatch(_schema, columns, m, info) { Raw = texts is null ? null : new RawRecords(_names!, texts) };
    }

    /// <summary>
    /// The rows' text a text spill wrote after the row information (all rows, or those at <paramref name="rows"/>,
    /// ascending), each copied into the reader's <see cref="TextArena"/>.
    /// </summary>
    private ReadOnlyMemory<byte>[] ReadTexts(int n, int[]? rows)
    {
        var lengths = ReadArray<int>(n);
        long total = 0;
        foreach (int l in lengths) total += l;
        var bytes = ReadTextBytes(total);
        var records = new ReadOnlyMemory<byte>[rows?.Length ?? n];
        for (int i = 0, k = 0, from = 0; i < n && k < records.Length; from += lengths[i], i++)
        {
            if (rows is not null && rows[k] != i) continue;
            records[k++] = _arena.Copy(bytes.Slice(from, lengths[i]));
        }
        return records;
    }

    /// <summary>A batch's text bytes, read into the scratch buffer (grown as needed).</summary>
    private Span<byte> ReadTextBytes(long total)
    {
        if (_scratch.Length < total) _scratch = new byte[Math.Max(total, 2L * _scratch.Length)];
        var bytes = _scratch.AsSpan(0, (int)total);
        ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// <see cref="ReadTexts"/> for <see cref="ReadPlaced(ReadOnlySpan{int}, ReadOnlySpan{int}, PlaceTargets, bool)"/>: each
    /// placed row's text (slot −1: skipped) into its place, copied into the reader's <see cref="TextArena"/>.
    /// </summary>
    private void PlaceTexts(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, ReadOnlyMemory<byte>[][] into)
    {
        int n = slot.Length;
        var lengths = ReadArray<int>(n);
        long total = 0;
        foreach (int l in lengths) total += l;
        var bytes = ReadTextBytes(total);
        for (int i = 0, from = 0; i < n; from += lengths[i], i++)
        {
            if (slot[i] >= 0) into[slot[i]][offset[i]] = _arena.Copy(bytes.Slice(from, lengths[i]));
        }
    }

    /// <summary>
    /// Reads the next batch of a <see cref="BatchSpillWriter.FixedWidthOnly"/> file straight into its rows' places:
    /// row <c>i</c> goes to row <paramref name="offset"/>[i] of <paramref name="into"/>[<paramref name="slot"/>[i]]
    /// (slot −1: skipped). Each value placed is the one <see cref="Read(int[])"/> gives for that row (float32 columns
    /// widened to double), with no column arrays in between; <paramref name="times"/>: the row times too, when written.
    /// </summary>
    /// <exception cref="InvalidDataException">The batch holds a null mask, strings or a column of another width.</exception>
    internal void ReadPlaced(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, IReadOnlyList<PlacedRows> into, bool times)
        => ReadPlaced(slot, offset, new PlaceTargets(into), times);

    /// <summary>
    /// <see cref="ReadPlaced(ReadOnlySpan{int}, ReadOnlySpan{int}, IReadOnlyList{PlacedRows}, bool)"/> into targets that a
    /// reader keeps for every batch of a file it places into one window.
    /// </summary>
    internal void ReadPlaced(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, PlaceTargets into, bool times)
    {
        int n = ReadInt();
        if (n != slot.Length) throw new InvalidDataException($"Spill batch of {n} rows, expected {slot.Length}.");
        Place(slot, offset, into.Ids);
        Place(slot, offset, into.Sources);
        Place(slot, offset, into.SourceRows);
        if (ReadFlag()) Place<SplitTag>(slot, offset, null);
        if (ReadFlag()) Place(slot, offset, times ? into.Times : null);
        if (ReadFlag()) Place<short>(slot, offset, null);
        if (ReadFlag()) throw new InvalidDataException("Corrupt spill file (group keys in a fixed-width file).");
        if (ReadFlag()) Place<long>(slot, offset, null);
        if (ReadFlag()) throw new InvalidDataException("Corrupt spill file (operations in a fixed-width file).");
        if (_text is not null) PlaceTexts(slot, offset, into.Texts ?? throw new InvalidOperationException("A text spill is placed into rows that hold text."));
        // Rows placed as float32 values (PlacedRows.Image): float32 columns go only there, integers to both.
        var images = into.Images;
        if (images is not null && (long)n * _schema.Count <= MaxTransposedValues)
        {
            PlaceRowsImage(slot, offset, into, images);
            return;
        }
        for (int c = 0; c < _schema.Count; c++)
        {
            if ((_unread is not null && _unread[c]) || (_text is not null && _text[c])) continue;
            if (ReadFlag()) throw new InvalidDataException("Corrupt spill file (a null mask in a fixed-width file).");
            switch (_kinds[c])
            {
                case ColumnKind.Float64 when images is not null: PlaceFloat32Image(slot, offset, images, c); break;
                case ColumnKind.Int64 when images is not null: PlaceInt64Image(slot, offset, into.Column<long>(c), images, c); break;
                case ColumnKind.Float64 when _float32 is not null && _float32[c]: PlaceFloat32(slot, offset, into.Column<double>(c)); break;
                case ColumnKind.Float64: Place(slot, offset, into.Column<double>(c)); break;
                case ColumnKind.Int64:
                case ColumnKind.Timestamp: Place(slot, offset, into.Column<long>(c)); break;
                case ColumnKind.Boolean: Place(slot, offset, into.Column<bool>(c)); break;
                default: throw new InvalidDataException($"Corrupt spill file (a {_kinds[c]} column in a fixed-width file).");
            }
        }
    }

    /// <summary><c>slot.Length</c> values, each placed at its row's slot and offset (<paramref name="into"/> null: skipped).</summary>
    private void Place<T>(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, T[][]? into) where T : unmanaged
    {
        int n = slot.Length;
        var scratch = MemoryMarshal.Cast<byte, T>(_scratch.AsSpan());
        for (int start = 0; start < n; start += scratch.Length)
        {
            int m = Math.Min(scratch.Length, n - start);
            ReadExactly(MemoryMarshal.AsBytes(scratch[..m]));
            if (into is null) continue;
            for (int i = 0; i < m; i++)
            {
                int s = slot[start + i];
                if (s >= 0) into[s][offset[start + i]] = scratch[i];
            }
        }
    }

    /// <summary><see cref="Place{T}"/> for a column written by <c>BatchSpillWriter.WriteFloat32</c>, widened as <see cref="ReadFloat32"/> widens.</summary>
    private void PlaceFloat32(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, double[][] into)
    {
        int n = slot.Length;
        var scratch = _scratch.AsSpan(0, 8 * BatchSpillWriter.Float32Block);
        for (int start = 0; start < n; start += BatchSpillWriter.Float32Block)
        {
            int m = Math.Min(BatchSpillWriter.Float32Block, n - start);
            var slots = slot.Slice(start, m);
            var offsets = offset.Slice(start, m);
            if (ReadFlag())
            {
                var floats = MemoryMarshal.Cast<byte, float>(scratch)[..m];
                ReadExactly(MemoryMarshal.AsBytes(floats));
                for (int i = 0; i < m; i++) if (slots[i] >= 0) into[slots[i]][offsets[i]] = floats[i];
            }
            else
            {
                var doubles = MemoryMarshal.Cast<byte, double>(scratch)[..m];
                ReadExactly(MemoryMarshal.AsBytes(doubles));
                for (int i = 0; i < m; i++) if (slots[i] >= 0) into[slots[i]][offsets[i]] = doubles[i];
            }
        }
    }

    /// <summary>
    /// The most values of a batch read whole before its rows are placed as float32 values (4 MiB; a shuffled spill's
    /// batches hold a few hundred rows); a larger batch is placed a value at a time. Lowered by tests to take that path.
    /// </summary>
    internal int MaxTransposedValues { get; init; } = 1 << 20;

    private float[] _transposed = [];

    /// <summary>
    /// The columns of a batch of rows placed as float32 values (every column float32 or an integer; see
    /// <see cref="PlacedRows"/>): read whole, column after column, then each row's values copied together into its
    /// place, so each row's 200 bytes are written once instead of a value at a time, 50 cache misses a row.
    /// </summary>
    private void PlaceRowsImage(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, PlaceTargets into, byte[][] images)
    {
        int n = slot.Length, width = _schema.Count;
        // Columns a cache line further apart than a multiple of 4 KiB, so a row's reads do not share one L1 set.
        int stride = (n + 15) / 16 * 16 + 16;
        if (_transposed.Length < width * stride) _transposed = new float[Math.Max(width * stride, 2 * _transposed.Length)];
        var transposed = _transposed;
        var longs = MemoryMarshal.Cast<byte, long>(_scratch.AsSpan());
        for (int c = 0; c < width; c++)
        {
            if (ReadFlag()) throw new InvalidDataException("Corrupt spill file (a null mask in a fixed-width file).");
            var column = transposed.AsSpan(c * stride, n);
            if (_kinds[c] == ColumnKind.Float64)
            {
                // A block that lies whole in the buffer (a few rows of a wide row's column) is taken from it in place.
                if (n > 0 && n <= BatchSpillWriter.Float32Block && _end - _at >= 1 + 4 * n)
                {
                    if (_buffer[_at] > 1) throw new InvalidDataException("Corrupt spill file (bad flag).");
                    if (_buffer[_at] == 0) throw new InvalidDataException("Corrupt spill file (a block of doubles in a file placed as float32 values).");
                    MemoryMarshal.Cast<byte, float>(_buffer.AsSpan(_at + 1, 4 * n)).CopyTo(column);
                    _at += 1 + 4 * n;
                    continue;
                }
                for (int start = 0; start < n; start += BatchSpillWriter.Float32Block)
                {
                    int m = Math.Min(BatchSpillWriter.Float32Block, n - start);
                    if (!ReadFlag()) throw new InvalidDataException("Corrupt spill file (a block of doubles in a file placed as float32 values).");
                    ReadExactly(MemoryMarshal.AsBytes(column.Slice(start, m)));
                }
                continue;
            }
            if (_kinds[c] != ColumnKind.Int64) throw new InvalidDataException($"Corrupt spill file (a {_kinds[c]} column placed as float32 values).");
            var into64 = into.Column<long>(c);
            for (int start = 0; start < n; start += longs.Length)
            {
                int m = Math.Min(longs.Length, n - start);
                ReadExactly(MemoryMarshal.AsBytes(longs[..m]));
                for (int i = 0; i < m; i++)
                {
                    // As the CSV source keeps it: (float) of the double its text reads as.
                    column[start + i] = (float)(double)longs[i];
                    int s = slot[start + i];
                    if (s >= 0) into64[s][offset[start + i]] = longs[i];
                }
            }
        }
        for (int i = 0; i < n; i++)
        {
            int s = slot[i];
            if (s < 0) continue;
            var row = MemoryMarshal.Cast<byte, float>(images[s].AsSpan(4 * width * offset[i], 4 * width));
            for (int c = 0, at = i; c < row.Length; c++, at += stride) row[c] = transposed[at];
        }
    }

    /// <summary>
    /// <see cref="PlaceFloat32"/> into the rows' float32 values (<see cref="PlacedRows.Image"/>): column <paramref name="column"/>
    /// of each placed row. Only files whose float32 values are all finite are placed so (<see cref="BatchSpillWriter.Float32Finite"/>).
    /// </summary>
    private void PlaceFloat32Image(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, byte[][] images, int column)
    {
        int n = slot.Length, width = _schema.Count;
        var floats = MemoryMarshal.Cast<byte, float>(_scratch.AsSpan(0, 4 * BatchSpillWriter.Float32Block));
        for (int start = 0; start < n; start += BatchSpillWriter.Float32Block)
        {
            int m = Math.Min(BatchSpillWriter.Float32Block, n - start);
            if (!ReadFlag()) throw new InvalidDataException("Corrupt spill file (a block of doubles in a file placed as float32 values).");
            var values = floats[..m];
            ReadExactly(MemoryMarshal.AsBytes(values));
            var slots = slot.Slice(start, m);
            var offsets = offset.Slice(start, m);
            for (int i = 0; i < m; i++)
            {
                if (slots[i] < 0) continue;
                ref byte at = ref images[slots[i]][4 * (offsets[i] * width + column)];
                System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref at, values[i]);
            }
        }
    }

    /// <summary><see cref="Place{T}"/> for an integer column of rows placed as float32 values: its values, and each as a float32 writer narrows it.</summary>
    private void PlaceInt64Image(ReadOnlySpan<int> slot, ReadOnlySpan<int> offset, long[][] into, byte[][] images, int column)
    {
        int n = slot.Length, width = _schema.Count;
        var scratch = MemoryMarshal.Cast<byte, long>(_scratch.AsSpan());
        for (int start = 0; start < n; start += scratch.Length)
        {
            int m = Math.Min(scratch.Length, n - start);
            ReadExactly(MemoryMarshal.AsBytes(scratch[..m]));
            for (int i = 0; i < m; i++)
            {
                int s = slot[start + i];
                if (s < 0) continue;
                int o = offset[start + i];
                into[s][o] = scratch[i];
                // As the CSV source keeps it: (float) of the double its text reads as.
                System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref images[s][4 * (o * width + column)], (float)(double)scratch[i]);
            }
        }
    }

    private static T[] Pick<T>(T[] values, int[]? rows)
    {
        if (rows is null) return values;
        var picked = new T[rows.Length];
        for (int i = 0; i < rows.Length; i++) picked[i] = values[rows[i]];
        return picked;
    }

    private Column ReadColumn(Field field, int index, int n, int[]? rows)
    {
        if ((_unread is not null && _unread[index]) || (_text is not null && _text[index])) return new SpilledColumn(field.Kind, rows?.Length ?? n);
        switch (field.Kind)
        {
            case ColumnKind.Sparse:
                int width = ReadInt();
                var offsets = ReadArray<int>(n + 1);
                int nnz = offsets[n];
                var sparse = new SparseColumn(width, offsets, ReadArray<int>(nnz), ReadArray<double>(nnz), n);
                return rows is null ? sparse : sparse.Take(rows);
            case ColumnKind.String:
                return new StringColumn(Pick(ReadStrings(n), rows), rows?.Length ?? n);
        }
        var nulls = ReadOptional<bool>(n, rows);
        // Take keeps a null mask only when a picked row is missing; so does this.
        if (rows is not null && nulls is not null && Array.IndexOf(nulls, true) < 0) nulls = null;
        int m = rows?.Length ?? n;
        switch (field.Kind)
        {
            case ColumnKind.Float64 when _float32 is not null && _float32[index]: return new Float64Column(ReadFloat32(n, rows), nulls, m);
            case ColumnKind.Float64: return new Float64Column(ReadArray<double>(n, rows), nulls, m);
            case ColumnKind.Int64: return new Int64Column(ReadArray<long>(n, rows), nulls, m);
            case ColumnKind.Timestamp: return new TimestampColumn(ReadArray<long>(n, rows), nulls, m);
            case ColumnKind.Boolean: return new BooleanColumn(ReadArray<bool>(n, rows), nulls, m);
            case ColumnKind.Binary:
                var lengths = ReadArray<int>(n);
                var values = new ReadOnlyMemory<byte>[n];
                for (int i = 0; i < n; i++) values[i] = ReadArray<byte>(lengths[i]);
                return new BinaryColumn(Pick(values, rows), nulls, m);
            default: throw new NotSupportedException(field.Kind.ToString());
        }
    }

    /// <summary>A column written by <c>BatchSpillWriter.WriteFloat32</c>: its values (or those at <paramref name="rows"/>, ascending) widened to double.</summary>
    private double[] ReadFloat32(int n, int[]? rows)
    {
        var values = GC.AllocateUninitializedArray<double>(rows?.Length ?? n);
        // A block of doubles fills the 64 KiB the scratch buffer has at least.
        var scratch = _scratch.AsSpan(0, 8 * BatchSpillWriter.Float32Block);
        int k = 0;
        for (int start = 0; start < n; start += BatchSpillWriter.Float32Block)
        {
            int m = Math.Min(BatchSpillWriter.Float32Block, n - start);
            if (ReadFlag())
            {
                var floats = MemoryMarshal.Cast<byte, float>(scratch)[..m];
                ReadExactly(MemoryMarshal.AsBytes(floats));
                if (rows is null) for (int i = 0; i < m; i++) values[start + i] = floats[i];
                else for (; k < rows.Length && rows[k] < start + m; k++) values[k] = floats[rows[k] - start];
            }
            else
            {
                var doubles = MemoryMarshal.Cast<byte, double>(scratch)[..m];
                ReadExactly(MemoryMarshal.AsBytes(doubles));
                if (rows is null) doubles.CopyTo(values.AsSpan(start));
                else for (; k < rows.Length && rows[k] < start + m; k++) values[k] = doubles[rows[k] - start];
            }
        }
        return values;
    }

    private string?[] ReadStrings(int n)
    {
        var lengths = ReadArray<int>(n);
        long total = 0;
        foreach (int l in lengths) if (l > 0) total += l;
        if (_scratch.Length < total) _scratch = new byte[Math.Max(total, _scratch.Length * 2)];
        ReadExactly(_scratch.AsSpan(0, (int)total));
        var values = new string?[n];
        int at = 0;
        for (int i = 0; i < n; i++)
        {
            if (lengths[i] < 0) continue;
            values[i] = _strings.Get(_scratch.AsSpan(at, lengths[i]));
            at += lengths[i];
        }
        return values;
    }

    private T[]? ReadOptional<T>(int n, int[]? rows) where T : unmanaged => ReadFlag() ? ReadArray<T>(n, rows) : null;

    /// <summary><paramref name="n"/> values, or only those at <paramref name="rows"/> (ascending), read through the scratch buffer.</summary>
    private T[] ReadArray<T>(int n, int[]? rows) where T : unmanaged
    {
        if (rows is null) return ReadArray<T>(n);
        var picked = GC.AllocateUninitializedArray<T>(rows.Length);
        var scratch = MemoryMarshal.Cast<byte, T>(_scratch.AsSpan());
        int k = 0;
        for (int start = 0; start < n; start += scratch.Length)
        {
            int m = Math.Min(scratch.Length, n - start);
            ReadExactly(MemoryMarshal.AsBytes(scratch[..m]));
            for (; k < rows.Length && rows[k] < start + m; k++) picked[k] = scratch[rows[k] - start];
        }
        return picked;
    }

    private T[] ReadArray<T>(int n) where T : unmanaged
    {
        // Every element is read over at once: no need to zero the array first.
        var values = GC.AllocateUninitializedArray<T>(n);
        ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    /// <summary>Fills <paramref name="into"/> from the buffer, refilling it from the file as needed.</summary>
    private void ReadExactly(Span<byte> into)
    {
        while (!into.IsEmpty)
        {
            if (_at == _end)
            {
                // A read at least as large as the buffer goes straight to its place.
                if (into.Length >= _buffer.Length)
                {
                    _file.ReadExactly(into);
                    return;
                }
                Refill();
            }
            int n = Math.Min(into.Length, _end - _at);
            _buffer.AsSpan(_at, n).CopyTo(into);
            _at += n;
            into = into[n..];
        }
    }

    private int ReadByte()
    {
        if (_at == _end && !TryRefill()) return -1;
        return _buffer[_at++];
    }

    private void Refill()
    {
        if (!TryRefill()) throw new EndOfStreamException("Unexpected end of spill file.");
    }

    private bool TryRefill()
    {
        _at = 0;
        _end = _file.Read(_buffer, 0, _buffer.Length);
        return _end > 0;
    }

    private bool ReadFlag() => ReadByte() switch
    {
        0 => false,
        1 => true,
        _ => throw new InvalidDataException("Corrupt spill file (bad flag)."),
    };

    private int ReadInt()
    {
        Span<byte> b = stackalloc byte[4];
        ReadExactly(b);
        return MemoryMarshal.Read<int>(b);
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}

/// <summary>
/// Rows' text read back from a text spill, copied into arrays of <see cref="ChunkBytes"/> each, every row in one array (a
/// longer row gets its own). Arrays this small live on the small-object heap, which a compacting collection (the memory
/// governor's) compacts; one array per batch of rows, of every size, went to the large-object heap, which it does not, and
/// fragmented it: W3's CSV run held 470 MiB committed for 265 MiB of heap. One reader's (not thread-safe).
/// </summary>
internal sealed class TextArena
{
    /// <summary>The bytes of one array: under the large-object heap's 85,000.</summary>
    internal const int ChunkBytes = 1 << 16;

    private byte[] _chunk = [];
    private int _used;

    /// <summary>A copy of <paramref name="text"/>.</summary>
    public ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> text)
    {
        if (text.Length > ChunkBytes) return text.ToArray();
        if (_chunk.Length - _used < text.Length)
        {
            _chunk = GC.AllocateUninitializedArray<byte>(ChunkBytes);
            _used = 0;
        }
        text.CopyTo(_chunk.AsSpan(_used));
        var copy = _chunk.AsMemory(_used, text.Length);
        _used += text.Length;
        return copy;
    }
}

/// <summary>
/// The arrays of a window of output batches (<see cref="PlacedRows"/>) that <see cref="BatchSpillReader.ReadPlaced(ReadOnlySpan{int}, ReadOnlySpan{int}, PlaceTargets, bool)"/>
/// fills, by kind and column, each gathered the first time a batch of the file needs it. Gathered afresh for every batch
/// and column, they were most of what a spilled run allocated when a split's file held many small batches: with 1,000
/// columns and 256-row input batches (two rows a file a batch), 3.8 GB for a 270 MB input. One reader uses them.
/// </summary>
internal sealed class PlaceTargets(IReadOnlyList<PlacedRows> into)
{
    private readonly Array?[] _columns = new Array?[into.Count == 0 ? 0 : into[0].Columns.Length];
    private long[][]? _ids, _sourceRows, _times;
    private int[][]? _sources;
    private byte[][]? _images;
    private ReadOnlyMemory<byte>[][]? _texts;

    public long[][] Ids => _ids ??= Arrays(r => r.Ids);

    public int[][] Sources => _sources ??= Arrays(r => r.Sources);

    public long[][] SourceRows => _sourceRows ??= Arrays(r => r.SourceRows);

    /// <summary>The rows' times (each batch's array created by the first reader that needs it).</summary>
    public long[][] Times => _times ??= Arrays(r => r.EnsureTimes());

    /// <summary>The rows' float32 values, when the batches are placed so (<see cref="PlacedRows.Image"/>); else null.</summary>
    public byte[][]? Images => into.Count > 0 && into[0].Image is not null ? _images ??= Arrays(r => r.Image!) : null;

    /// <summary>The rows' text, when the batches hold it (<see cref="PlacedRows.Texts"/>); else null.</summary>
    public ReadOnlyMemory<byte>[][]? Texts => into.Count > 0 && into[0].Texts is not null ? _texts ??= Arrays(r => r.Texts!) : null;

    /// <summary>Column <paramref name="c"/>'s arrays, of element type <typeparamref name="T"/>.</summary>
    public T[][] Column<T>(int c) => (T[][])(_columns[c] ??= Arrays(r => (T[])r.Columns[c]!));

    private T[][] Arrays<T>(Func<PlacedRows, T[]> array)
    {
        var arrays = new T[into.Count][];
        for (int k = 0; k < arrays.Length; k++) arrays[k] = array(into[k]);
        return arrays;
    }
}

/// <summary>
/// The arrays of one output batch that <see cref="BatchSpillReader.ReadPlaced(ReadOnlySpan{int}, ReadOnlySpan{int}, PlaceTargets, bool)"/> fills row by row, in any order, from
/// several spill files: row information and one array per column of a fixed-width schema, exactly <see cref="Count"/> long.
/// </summary>
internal sealed class PlacedRows
{
    /// <param name="schema">The rows' columns.</param>
    /// <param name="count">The rows.</param>
    /// <param name="unread">By column, the columns not spilled (null: none).</param>
    /// <param name="asImage">
    /// By column, the Float64 columns placed only as the rows' float32 values (<see cref="Image"/>), null: none. Every
    /// other column must then be Int64, placed both as values and in the image.
    /// </param>
    /// <param name="texts">Whether the rows' text is placed too (<see cref="Texts"/>: a text spill's files).</param>
    public PlacedRows(Schema schema, int count, bool[]? unread = null, bool[]? asImage = null, bool texts = false)
    {
        Count = count;
        Ids = GC.AllocateUninitializedArray<long>(count);
        Sources = GC.AllocateUninitializedArray<int>(count);
        SourceRows = GC.AllocateUninitializedArray<long>(count);
        Columns = new Array?[schema.Count];
        // Every column's 4 bytes of every row are written by the reader before the batch is used.
        if (asImage is not null) Image = GC.AllocateUninitializedArray<byte>(4 * schema.Count * count);
        if (texts) Texts = new ReadOnlyMemory<byte>[count];
        for (int c = 0; c < Columns.Length; c++)
        {
            if (unread is not null && unread[c]) continue;
            if (asImage is not null && schema[c].Kind == ColumnKind.Float64) continue;
            Columns[c] = schema[c].Kind switch
            {
                ColumnKind.Float64 => GC.AllocateUninitializedArray<double>(count),
                ColumnKind.Int64 or ColumnKind.Timestamp => GC.AllocateUninitializedArray<long>(count),
                ColumnKind.Boolean => GC.AllocateUninitializedArray<bool>(count),
                _ => throw new NotSupportedException($"A {schema[c].Kind} column is not fixed-width."),
            };
        }
    }

    /// <summary>Whether every column of <paramref name="schema"/> can be placed (Float64, Int64, Timestamp, Boolean), or is <paramref name="unread"/> (not spilled).</summary>
    public static bool Supports(Schema schema, bool[]? unread = null)
        => schema.Fields.Select((f, c) => (f, c)).All(x => (unread is not null && unread[x.c]) || x.f.Kind is ColumnKind.Float64 or ColumnKind.Int64 or ColumnKind.Timestamp or ColumnKind.Boolean);

    /// <summary>The rows.</summary>
    public int Count { get; }

    public long[] Ids { get; }

    public int[] Sources { get; }

    public long[] SourceRows { get; }

    /// <summary>The rows' times, when the files hold them and the reader was asked for them (else null).</summary>
    public long[]? Times => Volatile.Read(ref _times);

    private long[]? _times;

    /// <summary>
    /// The times' array, created by the first reader that needs it (readers of several files may fill one batch at once).
    /// Asked for at every chunk a reader places, so an array is only allocated when there is none yet: allocating one each
    /// time (and dropping all but the first) made a time split's placing allocate 23 GB for 8 M rows.
    /// </summary>
    public long[] EnsureTimes()
    {
        if (Volatile.Read(ref _times) is { } times) return times;
        Interlocked.CompareExchange(ref _times, new long[Count], null);
        return _times!;
    }

    /// <summary>By column: <c>double[]</c>, <c>long[]</c> or <c>bool[]</c>; null for a column not spilled or placed only in <see cref="Image"/>.</summary>
    public Array?[] Columns { get; }

    /// <summary>
    /// The rows' values as float32, row after row, 4 bytes a column (<see cref="RawRecords.Float32"/>'s layout), when the
    /// float columns are placed so (see the constructor); null otherwise.
    /// </summary>
    public byte[]? Image { get; }

    /// <summary>The rows' text (<see cref="RawRecords.Records"/>), when placed (see the constructor); null otherwise.</summary>
    public ReadOnlyMemory<byte>[]? Texts { get; }

    /// <summary>
    /// The batch, tagged <paramref name="tag"/>: the columns and row information <c>RecordBatch.Gather</c> builds from the same
    /// rows. Rows placed as float32 values carry them as <see cref="RecordBatch.Raw"/> (no text; field names
    /// <paramref name="names"/>), and their float columns give them widened, computed if read. Rows placed with their text
    /// carry it as <see cref="RecordBatch.Raw"/>, and the columns it carries are placeholders.
    /// </summary>
    public RecordBatch ToBatch(Schema schema, SplitTag tag, string[]? names = null)
    {
        var columns = new Column[Columns.Length];
        var image = Image;
        int width = schema.Count;
        for (int c = 0; c < columns.Length; c++)
        {
            if (image is not null && schema[c].Kind == ColumnKind.Float64)
            {
                int column = c;
                columns[c] = new Float64Column(() => WidenedColumn(image, width, column, Count), row => WidenedValue(image, width, column, row), null, Count, Count, noNaN: true);
                continue;
            }
            columns[c] = Columns[c] is null ? new SpilledColumn(schema[c].Kind, Count) : schema[c].Kind switch
            {
                ColumnKind.Float64 => new Float64Column((double[])Columns[c]!, null, Count),
                ColumnKind.Int64 => new Int64Column((long[])Columns[c]!, null, Count),
                ColumnKind.Timestamp => new TimestampColumn((long[])Columns[c]!, null, Count),
                _ => new BooleanColumn((bool[])Columns[c]!, null, Count),
            };
        }
        var tags = new SplitTag[Count];
        tags.AsSpan().Fill(tag);
        var batch = new RecordBatch(schema, columns, Count, new RowInfo(Ids, Sources, SourceRows, tags));
        if (Texts is { } texts) return new RecordBatch(schema, batch.Columns, Count, batch.Rows) { Raw = new RawRecords(names ?? schema.Fields.Select(f => f.Name).ToArray(), texts) };
        if (image is null) return batch;
        var rows = new ReadOnlyMemory<byte>[Count];
        for (int r = 0; r < rows.Length; r++) rows[r] = image.AsMemory(4 * width * r, 4 * width);
        return new RecordBatch(schema, batch.Columns, Count, batch.Rows) { Raw = new RawRecords(names ?? schema.Fields.Select(f => f.Name).ToArray(), new ReadOnlyMemory<byte>[Count], rows) };
    }

    /// <summary>Column <paramref name="column"/> of <paramref name="count"/> rows' float32 values, widened.</summary>
    private static double[] WidenedColumn(byte[] image, int width, int column, int count)
    {
        var values = new double[count];
        for (int r = 0; r < count; r++) values[r] = WidenedValue(image, width, column, r);
        return values;
    }

    /// <summary>Column <paramref name="column"/> of row <paramref name="row"/>'s float32 values, widened.</summary>
    private static double WidenedValue(byte[] image, int width, int column, int row) => RawRecords.Float32At(image.AsSpan(4 * width * row, 4 * width), column);
}

/// <summary>Rough in-memory size of batches, for the memory budget.</summary>
internal static class BatchSize
{
    /// <summary>Approximate managed bytes held by a batch (arrays, strings, row info).</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="countUnread">
    /// Whether a column computed on first use that nobody has read yet (a CSV column whose row text or float32 values are
    /// kept) counts as computed. It holds nothing until read (its text or float32 values are counted in <c>Raw</c>), but
    /// counted so it keeps a run that expects to spill from buffering twice the rows before it does: without it, W3 (2.3 GB
    /// at <c>--memory 512MB</c>) peaked at 730 MiB instead of 414. A run that expects no spill (its input fits half the
    /// budget, so it keeps row text) counts only what is held; counted as computed, its estimate reached twice the file
    /// and it spilled late.
    /// </param>
    public static long Estimate(RecordBatch batch, bool countUnread = true)
    {
        // Arrays may be longer than the batch (builders hand over their buffers): count what is allocated.
        var rows = batch.Rows;
        // Row ids and source rows may be one array (RowInfo.Sequential of source 0).
        long ids = ReferenceEquals(rows.RowIds, rows.SourceRows) ? 0 : 8L * rows.RowIds.Length;
        long bytes = ids + 4L * rows.Sources.Length + 8L * rows.SourceRows.Length + (batch.Raw?.Bytes ?? 0);
        foreach (var c in batch.Columns)
        {
            bytes += c.Nulls?.Length ?? 0;
            bytes += c switch
            {
                SparseColumn s => 4L * s.RowOffsets.Length + 4L * s.Indices.Length + 8L * s.Values.Length,
                StringColumn s => StringBytes(s.Values, c.Length),
                BooleanColumn b => b.Values.Length,
                BinaryColumn b => BinaryBytes(b.Values, c.Length),
                Float64Column d => countUnread || d.IsMaterialized ? 8L * d.Capacity : 0,
                Int64Column l => countUnread || l.IsMaterialized ? 8L * l.Capacity : 0,
                TimestampColumn t => 8L * t.Values.Length,
                _ => 8L * c.Length,
            };
        }
        return bytes;
    }

    private static long StringBytes(string?[] values, int n)
    {
        // A reference (8) plus a string object (~22 bytes header + 2 per char); distinct objects assumed.
        long bytes = 8L * n;
        for (int i = 0; i < n; i++) if (values[i] is { } v) bytes += 24 + 2L * v.Length;
        return bytes;
    }

    private static long BinaryBytes(ReadOnlyMemory<byte>[] values, int n)
    {
        long bytes = 16L * n;
        for (int i = 0; i < n; i++) bytes += values[i].Length;
        return bytes;
    }
}

/// <summary>
/// A column whose values are elsewhere or nowhere: in a spill file (an in-memory skeleton of a spilled batch), or not
/// spilled at all because nothing after the split reads them (<c>SpillNarrowing.UnreadColumns</c>). It keeps only its
/// length and kind, so the batch is still a valid <see cref="RecordBatch"/>; taking or gathering rows of it gives another
/// placeholder, and reading a value is a bug (it has no typed values: a cast to a column type fails).
/// </summary>
internal sealed class SpilledColumn : Column
{
    private readonly ColumnKind _kind;

    public SpilledColumn(ColumnKind kind, int length) : base(length, null) => _kind = kind;

    public override ColumnKind Kind => _kind;

    public override Column Take(ReadOnlySpan<int> rows) => new SpilledColumn(_kind, rows.Length);
}
