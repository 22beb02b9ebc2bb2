using DataPrep.Data;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Splits;

/// <summary>
/// The spilling split's row-id files (<see cref="SpillRowIdsWriter"/>) give back exactly what was written, block by
/// block: ids stored as zigzag varint differences (any longs, extremes and falls included), and tags, folds, class
/// numbers, times and fold times (varint differences too) and key hashes (8 bytes each) when a block carries them.
/// </summary>
public class SpillRowIdsTests
{
    [Property(MaxTest = 300)]
    public Property Blocks_read_back_as_written(long[] ids, byte[] cutsSeed, byte flags)
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("rows.ids");
        // Cut the ids into blocks (empty ones included) by the seed bytes.
        var blocks = new List<(long[] Ids, SplitTag[] Tags, short[] Folds, int[] Classes, long[] Times, long[] FoldTimes, ulong[] KeyHashes, ulong[] FoldKeyHashes)>();
        int at = 0;
        foreach (byte b in cutsSeed.Append((byte)255))
        {
            int n = Math.Min(b % 17, ids.Length - at);
            var part = ids.AsSpan(at, n).ToArray();
            blocks.Add((part, part.Select(x => (SplitTag)(x & 3)).ToArray(), part.Select(x => (short)(x % 7)).ToArray(), part.Select(x => (int)(x >> 3)).ToArray(), part.Select(x => ~x ^ (x << 17)).ToArray(), part.Select(x => x * 31 - (x >> 5)).ToArray(),
                part.Select(x => (ulong)x * 0x9E3779B97F4A7C15UL).ToArray(), part.Select(x => ~(ulong)x >> 3).ToArray()));
            at += n;
        }
        var parts = (RowIdParts)(flags & (byte)RowIdParts.All);
        bool withTags = (flags & 1) != 0, withFolds = (flags & 2) != 0, withClasses = (flags & 4) != 0, withTimes = (flags & 8) != 0, withFoldTimes = (flags & 16) != 0,
            withKeyHashes = (flags & 32) != 0, withFoldKeyHashes = (flags & 64) != 0;
        using (var writer = new SpillRowIdsWriter(path))
        {
            foreach (var (i, t, f, c, s, ft, kh, fkh) in blocks) writer.Write(parts, i, t, f, c, s, ft, kh, fkh);
            if (writer.Rows != blocks.Sum(x => x.Ids.Length)) return false.Label("row count");
        }
        using var reader = new SpillRowIdsReader(path);
        foreach (var (i, t, f, c, s, ft, kh, fkh) in blocks)
        {
            if (!reader.Next()) return false.Label("ended early");
            if (!reader.Ids.SequenceEqual(i)) return false.Label("ids");
            if (reader.HasTags != withTags || reader.HasFolds != withFolds || reader.HasClasses != withClasses || reader.HasTimes != withTimes || reader.HasFoldTimes != withFoldTimes
                || reader.HasKeyHashes != withKeyHashes || reader.HasFoldKeyHashes != withFoldKeyHashes) return false.Label("flags");
            if (withTags && !reader.Tags.SequenceEqual(t)) return false.Label("tags");
            if (withFolds && !reader.Folds.SequenceEqual(f)) return false.Label("folds");
            if (withClasses && !reader.Classes.SequenceEqual(c)) return false.Label("classes");
            if (withTimes && !reader.Times.SequenceEqual(s)) return false.Label("times");
            if (withFoldTimes && !reader.FoldTimes.SequenceEqual(ft)) return false.Label("fold times");
            if (withKeyHashes && !reader.KeyHashes.SequenceEqual(kh)) return false.Label("key hashes");
            if (withFoldKeyHashes && !reader.FoldKeyHashes.SequenceEqual(fkh)) return false.Label("fold key hashes");
        }
        return (!reader.Next()).Label("ended late");
    }

    [Fact]
    public void Rising_ids_take_about_a_byte_each_and_a_truncated_file_is_refused()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("rows.ids");
        var ids = Enumerable.Range(1, 10_000).Select(i => RowInfo.MakeRowId(0, i)).ToArray();
        using (var writer = new SpillRowIdsWriter(path))
        {
            for (int b = 0; b < 10; b++) writer.Write(RowIdParts.None, ids.AsSpan(b * 1000, 1000));
        }
        long length = new FileInfo(path).Length;
        Assert.InRange(length, 10_000, 10_000 + 10 * 9);
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(length - 1);
        using var reader = new SpillRowIdsReader(path);
        for (int b = 0; b < 9; b++) Assert.True(reader.Next());
        Assert.Throws<EndOfStreamException>(() => reader.Next());
    }
}
