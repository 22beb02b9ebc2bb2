using System.Buffers.Binary;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A scan task's row ids in <see cref="Count"/> sections by the top bits of their split hashes, written one section after
/// another (8 bytes a row id, little-endian) with the sections' byte offsets in the task's report
/// (<see cref="TaskReport.IdSections"/>). The plan of a random split that needs nothing but its cuts
/// (<see cref="ScaleRun.CutsFromIdSections"/>) then reads, of every scan task, only the sections that hold a cut's bin, with
/// ranged reads: about 2 × 8 ÷ 256 bytes a row where it read every row's key columns (20 bytes a row). Memory: a 16 KiB
/// buffer a section (4 MiB in all); each fills and goes, unbuffered, to its own temp file, which <see cref="Finish"/> joins.
/// </summary>
internal sealed class IdSections : IDisposable
{
    /// <summary>The sections: by the top 8 bits of the split hash, so a section holds 256 of the histogram's bins.</summary>
    public const int Count = 256;

    /// <summary>How many of <see cref="RandomSplitCuts.Bins"/> bins one section holds.</summary>
    public const int BinsPerSection = RandomSplitCuts.Bins / Count;

    private const int BufferIds = 2048;

    private readonly SpillFolder _folder;
    private readonly long[][] _buffers = new long[Count][];
    private readonly int[] _used = new int[Count];
    private readonly FileStream?[] _files = new FileStream?[Count];
    private readonly byte[] _raw = new byte[BufferIds * 8];

    /// <summary>Creates the sections, their temp files in <paramref name="folder"/>.</summary>
    public IdSections(SpillFolder folder) => _folder = folder;

    /// <summary>The section of a split hash.</summary>
    public static int SectionOf(ulong hash) => (int)(hash >> 56);

    /// <summary>Adds a row id, by its split hash.</summary>
    public void Add(ulong hash, long id)
    {
        int s = SectionOf(hash);
        var buffer = _buffers[s] ??= new long[BufferIds];
        buffer[_used[s]++] = id;
        if (_used[s] == BufferIds) Flush(s);
    }

    private void Flush(int s)
    {
        if (_used[s] == 0) return;
        var file = _files[s] ??= new FileStream(_folder.NewFile($"ids-{s:D3}"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        var buffer = _buffers[s];
        for (int i = 0; i < _used[s]; i++) BinaryPrimitives.WriteInt64LittleEndian(_raw.AsSpan(8 * i), buffer[i]);
        file.Write(_raw, 0, _used[s] * 8);
        _used[s] = 0;
    }

    /// <summary>Writes the sections one after another to <paramref name="path"/>; returns their <see cref="Count"/> + 1 byte offsets.</summary>
    public long[] Finish(string path)
    {
        var offsets = new long[Count + 1];
        using var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        for (int s = 0; s < Count; s++)
        {
            Flush(s);
            offsets[s] = target.Position;
            if (_files[s] is not { } file) continue;
            file.Position = 0;
            file.CopyTo(target);
            file.Dispose();
            _files[s] = null;
        }
        offsets[Count] = target.Position;
        return offsets;
    }

    /// <summary>
    /// The row ids of one section of a task's object, read from <paramref name="stream"/> (the section's
    /// <paramref name="bytes"/> bytes), with their split hashes, a batch at a time.
    /// </summary>
    public static IEnumerable<HashedRows> Read(Stream stream, long bytes, KeyedHash splitHash)
    {
        if (bytes % 8 != 0) throw new InvalidDataException($"a section of row ids holds {bytes} bytes, not a multiple of 8.");
        var raw = new byte[BufferIds * 8];
        var hashes = new ulong[BufferIds];
        var ids = new long[BufferIds];
        while (bytes > 0)
        {
            int want = (int)Math.Min(raw.Length, bytes);
            stream.ReadExactly(raw, 0, want);
            bytes -= want;
            int n = want / 8;
            for (int i = 0; i < n; i++)
            {
                ids[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(8 * i));
                hashes[i] = splitHash.Hash(ids[i]);
            }
            yield return new HashedRows(hashes, ids, n);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var f in _files) f?.Dispose();
    }
}
