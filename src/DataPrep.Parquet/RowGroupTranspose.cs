using DataPrep.Data;

namespace DataPrep.Sources;

/// <summary>
/// A row group too large to hold decoded, held on disk instead and read back a batch of rows at a time. Parquet.Net
/// decodes a column chunk whole, never a range of its rows, so the group is decoded a column at a time (one a worker);
/// each column is cut into slices of <see cref="SliceRows"/> rows, written to a temp file in the spill's exact column form
/// (<see cref="BatchSpillWriter.WriteColumn(Column, int, int, int)"/>), and dropped. A batch then reads its slice of every
/// column back. Only a decoded column a worker and one batch are in memory at once, instead of the whole group (a pyarrow
/// file's default group of 2^20 rows of 50 doubles decodes to 400 MB).
/// </summary>
internal sealed class RowGroupTranspose : IDisposable
{
    private readonly Schema _schema;
    private readonly string _path;
    private readonly long[] _at;
    // Each slice's bytes: a batch reads its slice of each column, and the reader, told how many, reads no more than that
    // (its 64 KiB buffer, refilled whole at every slice, copied 16 times a 512-row slice of doubles from the page cache).
    private readonly long[] _bytes;
    private BatchSpillWriter? _writer;
    private BatchSpillReader? _reader;
    private readonly bool[] _has;
    private int _added;

    /// <summary>Creates the temp file at <paramref name="path"/> for a group of <paramref name="rows"/> rows of <paramref name="schema"/>.</summary>
    public RowGroupTranspose(string path, Schema schema, int rows, int sliceRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(sliceRows, 1);
        _schema = schema;
        _path = path;
        Rows = rows;
        SliceRows = sliceRows;
        Slices = (int)(((long)rows + sliceRows - 1) / sliceRows);
        _at = new long[(long)schema.Count * Slices];
        _bytes = new long[_at.Length];
        _has = new bool[schema.Count];
        _writer = new BatchSpillWriter(path);
    }

    /// <summary>The group's rows.</summary>
    public int Rows { get; }

    /// <summary>Rows a slice holds (the last one may hold fewer).</summary>
    public int SliceRows { get; }

    /// <summary>How many slices, hence batches, the group is read back as.</summary>
    public int Slices { get; }

    /// <summary>The rows of slice <paramref name="slice"/>.</summary>
    public int RowsOf(int slice) => Math.Min(SliceRows, Rows - slice * SliceRows);

    /// <summary>Writes column <paramref name="index"/> of the schema (all <see cref="Rows"/> of it), slice by slice; columns come in any order.</summary>
    /// <exception cref="InvalidOperationException">The column was added already, or its length is not <see cref="Rows"/>.</exception>
    public void Add(int index, Column column)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _schema.Count);
        if (_writer is null || _has[index]) throw new InvalidOperationException($"Column {index} of the row group was added already, or the group is being read.");
        if (column.Length != Rows) throw new InvalidOperationException($"A column of {column.Length} rows added to a row group of {Rows}.");
        for (int s = 0; s < Slices; s++)
        {
            int start = s * SliceRows, count = RowsOf(s);
            long at = _writer.Length;
            _writer.WriteColumn(column, index, start, count);
            _at[(long)index * Slices + s] = at;
            _bytes[(long)index * Slices + s] = _writer.Length - at;
        }
        _has[index] = true;
        _added++;
    }

    /// <summary>The columns of slice <paramref name="slice"/>, once every column was added.</summary>
    /// <exception cref="InvalidOperationException">A column is still missing.</exception>
    public Column[] Read(int slice)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slice);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slice, Slices);
        if (_reader is null)
        {
            if (_added != _schema.Count) throw new InvalidOperationException($"Only {_added} of the row group's {_schema.Count} columns were added.");
            _writer!.Dispose();
            _writer = null;
            _reader = new BatchSpillReader(_path, _schema);
        }
        int count = RowsOf(slice);
        var columns = new Column[_schema.Count];
        for (int c = 0; c < columns.Length; c++) columns[c] = _reader.ReadColumnAt(_at[(long)c * Slices + slice], c, count, _bytes[(long)c * Slices + slice]);
        return columns;
    }

    /// <summary>Closes and deletes the temp file.</summary>
    public void Dispose()
    {
        _writer?.Dispose();
        _reader?.Dispose();
        _writer = null;
        _reader = null;
        try { File.Delete(_path); }
        catch (IOException) { } // the run's spill folder is removed at its end anyway
        catch (UnauthorizedAccessException) { }
    }
}
