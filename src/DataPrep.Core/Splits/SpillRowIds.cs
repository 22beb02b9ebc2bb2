using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using DataPrep.Data;

namespace DataPrep.Splits;

/// <summary>
/// The row ids of one spill file, with each row's tag and fold when the assigner gave them while spilling, in the data
/// file's row order: what the spilling split reads back to rank a file's rows without the rows themselves (see
/// <see cref="SplitSpill"/>), or its class number for a stratified split. One block per chunk of the data file:
/// <c>[rows][flags][id bytes][ids][tags if flag 1][folds if flag 2][classes if flag 4][time bytes][times if flag 8][fold time
/// bytes][fold times if flag 16][key hashes if flag 32][fold key hashes if flag 64]</c> (the flags are <see cref="RowIdParts"/>;
/// key hashes are 8 bytes each, as written: they do not rise).
/// Ids are written as the zigzag varint of their difference from the row before (a file's rows are in input order, so
/// ids mostly rise by a little): about 1–2 bytes a row instead of 8, which matters because writing is what a spill costs
/// most. A time split's times (UTC ticks) and time folds' fold times (<see cref="KFoldAssigner.FoldTimeOf"/>) are written
/// the same way: in time-ordered input they too rise by a little.
/// </summary>
internal sealed class SpillRowIdsWriter : IDisposable
{
    private readonly FileStream _stream;
    private long _last, _lastTime, _lastFoldTime;

    public SpillRowIdsWriter(string path)
    {
        Path = path;
        _stream = TempFile.Create(path, 1 << 14);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Rows written so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Appends one chunk's rows: <paramref name="ids"/>, and the <paramref name="parts"/> of the other spans (each as long as the ids).</summary>
    public void Write(RowIdParts parts, ReadOnlySpan<long> ids, ReadOnlySpan<SplitTag> tags = default, ReadOnlySpan<short> folds = default, ReadOnlySpan<int> classes = default,
        ReadOnlySpan<long> times = default, ReadOnlySpan<long> foldTimes = default, ReadOnlySpan<ulong> keyHashes = default, ReadOnlySpan<ulong> foldKeyHashes = default)
    {
        // A pooled buffer, not one per writer: a run may hold hundreds of writers (one beside each spill file).
        var bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(16, 10 * ids.Length));
        try
        {
            Write(bytes, parts, ids, tags, folds, classes, times, foldTimes);
            if (parts.HasFlag(RowIdParts.KeyHashes)) _stream.Write(MemoryMarshal.AsBytes(keyHashes[..ids.Length]));
            if (parts.HasFlag(RowIdParts.FoldKeyHashes)) _stream.Write(MemoryMarshal.AsBytes(foldKeyHashes[..ids.Length]));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
        }
        Rows += ids.Length;
    }

    private void Write(byte[] bytes, RowIdParts parts, ReadOnlySpan<long> ids, ReadOnlySpan<SplitTag> tags, ReadOnlySpan<short> folds, ReadOnlySpan<int> classes,
        ReadOnlySpan<long> times, ReadOnlySpan<long> foldTimes)
    {
        int used = Deltas(ids, ref _last, bytes);
        Span<byte> head = stackalloc byte[9];
        BinaryPrimitives.WriteInt32LittleEndian(head, ids.Length);
        head[4] = (byte)parts;
        BinaryPrimitives.WriteInt32LittleEndian(head[5..], used);
        _stream.Write(head);
        _stream.Write(bytes.AsSpan(0, used));
        if (parts.HasFlag(RowIdParts.Tags)) _stream.Write(MemoryMarshal.AsBytes(tags[..ids.Length]));
        if (parts.HasFlag(RowIdParts.Folds)) _stream.Write(MemoryMarshal.AsBytes(folds[..ids.Length]));
        if (parts.HasFlag(RowIdParts.Classes)) _stream.Write(MemoryMarshal.AsBytes(classes[..ids.Length]));
        if (parts.HasFlag(RowIdParts.Times)) WriteDeltas(times[..ids.Length], ref _lastTime, bytes, head);
        if (parts.HasFlag(RowIdParts.FoldTimes)) WriteDeltas(foldTimes[..ids.Length], ref _lastFoldTime, bytes, head);
    }

    /// <summary>A stream of differences: its length, then its bytes.</summary>
    private void WriteDeltas(ReadOnlySpan<long> values, ref long last, byte[] bytes, Span<byte> head)
    {
        int used = Deltas(values, ref last, bytes);
        BinaryPrimitives.WriteInt32LittleEndian(head, used);
        _stream.Write(head[..4]);
        _stream.Write(bytes.AsSpan(0, used));
    }

    /// <summary>The zigzag varints of each value's difference from the one before (<paramref name="last"/>, updated) into <paramref name="bytes"/>; returns the bytes used.</summary>
    private static int Deltas(ReadOnlySpan<long> values, ref long last, byte[] bytes)
    {
        int used = 0;
        foreach (long value in values)
        {
            long delta = value - last;
            last = value;
            ulong v = (ulong)((delta << 1) ^ (delta >> 63));
            while (v >= 0x80)
            {
                bytes[used++] = (byte)(v | 0x80);
                v >>= 7;
            }
            bytes[used++] = (byte)v;
        }
        return used;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Reads a <see cref="SpillRowIdsWriter"/> file block by block into buffers it reuses, file after file
/// (<see cref="Open"/>): the spilling split reads every row-id file several times, and fresh buffers per file were
/// garbage enough to raise the peak.
/// </summary>
internal sealed class SpillRowIdsReader : IDisposable
{
    private SafeFileHandle? _file;
    private string _path = "";
    private long _offset;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _at, _end;
    private long[] _ids = new long[256];
    private SplitTag[] _tags = new SplitTag[256];
    private short[] _folds = new short[256];
    private int[] _classes = new int[256];
    private long[] _times = new long[256];
    private long[] _foldTimes = new long[256];
    private ulong[] _keyHashes = new ulong[256];
    private ulong[] _foldKeyHashes = new ulong[256];
    private byte[] _bytes = new byte[1 << 12];
    private long _last, _lastTime, _lastFoldTime;

    /// <summary>A reader with no file open yet.</summary>
    public SpillRowIdsReader() { }

    /// <summary>A reader of <paramref name="path"/>.</summary>
    public SpillRowIdsReader(string path) => Open(path);

    /// <summary>Closes the file being read, if any, and starts reading <paramref name="path"/> from its first block.</summary>
    public void Open(string path)
    {
        _file?.Dispose();
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        _path = path;
        _offset = 0;
        _at = _end = 0;
        _last = _lastTime = _lastFoldTime = 0;
        Count = 0;
    }

    /// <summary>The last block's row count.</summary>
    public int Count { get; private set; }

    /// <summary>What the last block carried besides ids.</summary>
    public RowIdParts Parts { get; private set; }

    /// <summary>Whether the last block carried tags.</summary>
    public bool HasTags => Parts.HasFlag(RowIdParts.Tags);

    /// <summary>Whether the last block carried folds.</summary>
    public bool HasFolds => Parts.HasFlag(RowIdParts.Folds);

    /// <summary>Whether the last block carried class numbers.</summary>
    public bool HasClasses => Parts.HasFlag(RowIdParts.Classes);

    /// <summary>Whether the last block carried times.</summary>
    public bool HasTimes => Parts.HasFlag(RowIdParts.Times);

    /// <summary>Whether the last block carried fold times.</summary>
    public bool HasFoldTimes => Parts.HasFlag(RowIdParts.FoldTimes);

    /// <summary>Whether the last block carried key hashes.</summary>
    public bool HasKeyHashes => Parts.HasFlag(RowIdParts.KeyHashes);

    /// <summary>Whether the last block carried fold key hashes.</summary>
    public bool HasFoldKeyHashes => Parts.HasFlag(RowIdParts.FoldKeyHashes);

    /// <summary>The last block's key hashes, when <see cref="HasKeyHashes"/>; else empty.</summary>
    public ReadOnlySpan<ulong> KeyHashes => HasKeyHashes ? _keyHashes.AsSpan(0, Count) : default;

    /// <summary>The last block's fold key hashes, when <see cref="HasFoldKeyHashes"/>; else empty.</summary>
    public ReadOnlySpan<ulong> FoldKeyHashes => HasFoldKeyHashes ? _foldKeyHashes.AsSpan(0, Count) : default;

    /// <summary>The last block's ids (valid until the next read).</summary>
    public ReadOnlySpan<long> Ids => _ids.AsSpan(0, Count);

    /// <summary>The last block's tags, when <see cref="HasTags"/>.</summary>
    public ReadOnlySpan<SplitTag> Tags => _tags.AsSpan(0, Count);

    /// <summary>The last block's folds, when <see cref="HasFolds"/>.</summary>
    public ReadOnlySpan<short> Folds => _folds.AsSpan(0, Count);

    /// <summary>The last block's class numbers, when <see cref="HasClasses"/>; else empty.</summary>
    public ReadOnlySpan<int> Classes => HasClasses ? _classes.AsSpan(0, Count) : default;

    /// <summary>The last block's times (UTC ticks), when <see cref="HasTimes"/>; else empty.</summary>
    public ReadOnlySpan<long> Times => HasTimes ? _times.AsSpan(0, Count) : default;

    /// <summary>The last block's fold times (<see cref="KFoldAssigner.FoldTimeOf"/>), when <see cref="HasFoldTimes"/>; else empty.</summary>
    public ReadOnlySpan<long> FoldTimes => HasFoldTimes ? _foldTimes.AsSpan(0, Count) : default;

    /// <summary>Reads the next block; false at the end of the file.</summary>
    public bool Next()
    {
        Span<byte> head = stackalloc byte[9];
        int got = Read(head);
        if (got == 0) return false;
        if (got != head.Length) throw new InvalidDataException($"The spill's row-id file {_path} ends inside a block header.");
        int n = BinaryPrimitives.ReadInt32LittleEndian(head);
        int length = BinaryPrimitives.ReadInt32LittleEndian(head[5..]);
        if (n < 0 || length < n || length > 10L * n) throw new InvalidDataException($"The spill's row-id file {_path} holds a block of {n} rows in {length} bytes.");
        if ((head[4] & ~(int)RowIdParts.All) != 0) throw new InvalidDataException($"The spill's row-id file {_path} holds a block with unknown flags {head[4]}.");
        Parts = (RowIdParts)head[4];
        if (_ids.Length < n)
        {
            int size = Math.Max(n, 2 * _ids.Length);
            _ids = new long[size];
            _tags = new SplitTag[size];
            _folds = new short[size];
            _classes = new int[size];
            _times = new long[size];
            _foldTimes = new long[size];
            _keyHashes = new ulong[size];
            _foldKeyHashes = new ulong[size];
        }
        Count = n;
        Undelta(length, n, ref _last, _ids, "id");
        if (HasTags) ReadExactly(MemoryMarshal.AsBytes(_tags.AsSpan(0, n)));
        if (HasFolds) ReadExactly(MemoryMarshal.AsBytes(_folds.AsSpan(0, n)));
        if (HasClasses) ReadExactly(MemoryMarshal.AsBytes(_classes.AsSpan(0, n)));
        if (HasTimes) ReadDeltas(head, n, ref _lastTime, _times, "time");
        if (HasFoldTimes) ReadDeltas(head, n, ref _lastFoldTime, _foldTimes, "fold time");
        if (HasKeyHashes) ReadExactly(MemoryMarshal.AsBytes(_keyHashes.AsSpan(0, n)));
        if (HasFoldKeyHashes) ReadExactly(MemoryMarshal.AsBytes(_foldKeyHashes.AsSpan(0, n)));
        return true;
    }

    /// <summary>A stream of <paramref name="n"/> differences after its length.</summary>
    private void ReadDeltas(Span<byte> head, int n, ref long last, long[] values, string what)
    {
        ReadExactly(head[..4]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(head);
        if (length < n || length > 10L * n) throw new InvalidDataException($"The spill's row-id file {_path} holds a block of {n} {what}s in {length} bytes.");
        Undelta(length, n, ref last, values, what);
    }

    /// <summary>Reads <paramref name="length"/> bytes of <paramref name="n"/> zigzag varint differences into <paramref name="values"/>, from <paramref name="last"/> (updated).</summary>
    private void Undelta(int length, int n, ref long last, long[] values, string what)
    {
        if (_bytes.Length < length) _bytes = new byte[Math.Max(length, 2 * _bytes.Length)];
        ReadExactly(_bytes.AsSpan(0, length));
        int at = 0;
        for (int i = 0; i < n; i++)
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (at == length || shift > 63) throw new InvalidDataException($"The spill's row-id file {_path} holds a malformed {what}.");
                byte b = _bytes[at++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) break;
            }
            last += (long)(v >> 1) ^ -(long)(v & 1);
            values[i] = last;
        }
        if (at != length) throw new InvalidDataException($"The spill's row-id file {_path} holds {length - at} stray bytes after a block's {what}s.");
    }

    private void ReadExactly(Span<byte> into)
    {
        if (Read(into) != into.Length) throw new EndOfStreamException($"The spill's row-id file {_path} ends inside a block.");
    }

    /// <summary>Fills <paramref name="into"/> from the buffer, refilled from the file as needed; returns the bytes read (fewer only at the end).</summary>
    private int Read(Span<byte> into)
    {
        var file = _file ?? throw new InvalidOperationException("No row-id file is open.");
        int done = 0;
        while (done < into.Length)
        {
            if (_at == _end)
            {
                _end = RandomAccess.Read(file, _buffer, _offset);
                _offset += _end;
                _at = 0;
                if (_end == 0) break;
            }
            int m = Math.Min(into.Length - done, _end - _at);
            _buffer.AsSpan(_at, m).CopyTo(into[done..]);
            _at += m;
            done += m;
        }
        return done;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }
}

/// <summary>What a block of a spill's row-id file carries besides ids (its flags byte).</summary>
[Flags]
internal enum RowIdParts : byte
{
    /// <summary>Ids only.</summary>
    None = 0,
    /// <summary>Each row's tag (a row-local assigner's).</summary>
    Tags = 1,
    /// <summary>Each row's fold (a row-local assigner's).</summary>
    Folds = 2,
    /// <summary>Each row's class number (a stratified split's).</summary>
    Classes = 4,
    /// <summary>Each row's time as UTC ticks (a time split's).</summary>
    Times = 8,
    /// <summary>Each row's fold time (time folds').</summary>
    FoldTimes = 16,
    /// <summary>Each row's group key hashed by the split hash (a group split cut by hash ranges).</summary>
    KeyHashes = 32,
    /// <summary>Each row's group key hashed by the fold hash (group folds cut by hash ranges).</summary>
    FoldKeyHashes = 64,
    /// <summary>Every part.</summary>
    All = Tags | Folds | Classes | Times | FoldTimes | KeyHashes | FoldKeyHashes,
}
