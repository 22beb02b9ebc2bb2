using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DataPrep.Data;

namespace DataPrep.Splits;

/// <summary>
/// The row ids of one spill file, with each row's tag and fold when the assigner gave them while spilling, in the data
/// file's row order: what the spilling split reads back to rank a file's rows without the rows themselves (see
/// <see cref="SplitSpill"/>), or its class number for a stratified split. One block per chunk of the data file:
/// <c>[rows][flags][ids][tags if flag 1][folds if flag 2][classes if flag 4]</c>.
/// </summary>
internal sealed class SpillRowIdsWriter : IDisposable
{
    private readonly FileStream _stream;

    public SpillRowIdsWriter(string path)
    {
        Path = path;
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 14);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Rows written so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Appends one chunk's rows: <paramref name="ids"/>, and optionally their tags and folds.</summary>
    public void Write(ReadOnlySpan<long> ids, ReadOnlySpan<SplitTag> tags, ReadOnlySpan<short> folds, ReadOnlySpan<int> classes, bool withTags, bool withFolds, bool withClasses)
    {
        Span<byte> head = stackalloc byte[5];
        BinaryPrimitives.WriteInt32LittleEndian(head, ids.Length);
        head[4] = (byte)((withTags ? 1 : 0) | (withFolds ? 2 : 0) | (withClasses ? 4 : 0));
        _stream.Write(head);
        _stream.Write(MemoryMarshal.AsBytes(ids));
        if (withTags) _stream.Write(MemoryMarshal.AsBytes(tags[..ids.Length]));
        if (withFolds) _stream.Write(MemoryMarshal.AsBytes(folds[..ids.Length]));
        if (withClasses) _stream.Write(MemoryMarshal.AsBytes(classes[..ids.Length]));
        Rows += ids.Length;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>Reads a <see cref="SpillRowIdsWriter"/> file block by block into buffers it reuses.</summary>
internal sealed class SpillRowIdsReader : IDisposable
{
    private readonly FileStream _stream;
    private long[] _ids = new long[256];
    private SplitTag[] _tags = new SplitTag[256];
    private short[] _folds = new short[256];
    private int[] _classes = new int[256];

    public SpillRowIdsReader(string path) => _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    /// <summary>The last block's row count.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the last block carried tags, and folds.</summary>
    public bool HasTags { get; private set; }

    /// <summary>Whether the last block carried folds.</summary>
    public bool HasFolds { get; private set; }

    /// <summary>Whether the last block carried class numbers.</summary>
    public bool HasClasses { get; private set; }

    /// <summary>The last block's ids (valid until the next read).</summary>
    public ReadOnlySpan<long> Ids => _ids.AsSpan(0, Count);

    /// <summary>The last block's tags, when <see cref="HasTags"/>.</summary>
    public ReadOnlySpan<SplitTag> Tags => _tags.AsSpan(0, Count);

    /// <summary>The last block's folds, when <see cref="HasFolds"/>.</summary>
    public ReadOnlySpan<short> Folds => _folds.AsSpan(0, Count);

    /// <summary>The last block's class numbers, when <see cref="HasClasses"/>; else empty.</summary>
    public ReadOnlySpan<int> Classes => HasClasses ? _classes.AsSpan(0, Count) : default;

    /// <summary>Reads the next block; false at the end of the file.</summary>
    public bool Next()
    {
        Span<byte> head = stackalloc byte[5];
        int got = _stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got == 0) return false;
        if (got != head.Length) throw new InvalidDataException($"The spill's row-id file {_stream.Name} ends inside a block header.");
        int n = BinaryPrimitives.ReadInt32LittleEndian(head);
        if (n < 0) throw new InvalidDataException($"The spill's row-id file {_stream.Name} holds a block of {n} rows.");
        HasTags = (head[4] & 1) != 0;
        HasFolds = (head[4] & 2) != 0;
        HasClasses = (head[4] & 4) != 0;
        if (_ids.Length < n)
        {
            int size = Math.Max(n, 2 * _ids.Length);
            _ids = new long[size];
            _tags = new SplitTag[size];
            _folds = new short[size];
            _classes = new int[size];
        }
        Count = n;
        _stream.ReadExactly(MemoryMarshal.AsBytes(_ids.AsSpan(0, n)));
        if (HasTags) _stream.ReadExactly(MemoryMarshal.AsBytes(_tags.AsSpan(0, n)));
        if (HasFolds) _stream.ReadExactly(MemoryMarshal.AsBytes(_folds.AsSpan(0, n)));
        if (HasClasses) _stream.ReadExactly(MemoryMarshal.AsBytes(_classes.AsSpan(0, n)));
        return true;
    }

    public void Dispose() => _stream.Dispose();
}
