namespace DataPrep.S3;

/// <summary>
/// How to build one object from a header and other objects' bytes with a multipart upload, so that as few bytes as
/// possible pass through this worker: S3 copies ranges of existing objects into a part on the server
/// (UploadPartCopy), but every part except the last must be at least 5 MiB, so a small header or a small object is
/// uploaded together with bytes read from the next object up to that size.
/// </summary>
internal static class S3Compose
{
    /// <summary>S3's smallest part (all but the last).</summary>
    public const long MinPart = 5L << 20;

    /// <summary>S3's most parts in one upload.</summary>
    public const int MaxParts = 10_000;

    /// <summary>Bytes [Offset, Offset + Length) of source <see cref="Source"/> (-1: the header).</summary>
    public readonly record struct Range(int Source, long Offset, long Length);

    /// <summary>One part: uploaded from the ranges read here (<see cref="Copy"/> false), or copied on the server from one range.</summary>
    public sealed record Piece(bool Copy, IReadOnlyList<Range> Ranges)
    {
        public long Length => Ranges.Sum(r => r.Length);
    }

    /// <summary>
    /// The parts, in order: together exactly the header then every source whole; every part but the last at least
    /// <paramref name="minPart"/>; a copied part at most <paramref name="maxCopy"/>; less than twice
    /// <paramref name="minPart"/> bytes read here per source (a top-up of the bytes before it, then a rest too small to copy).
    /// </summary>
    public static List<Piece> Plan(long headerLength, IReadOnlyList<long> sizes, long minPart = MinPart, long maxCopy = 512L << 20)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (minPart < 1 || maxCopy < minPart) throw new ArgumentOutOfRangeException(nameof(maxCopy), "expected 1 <= minPart <= maxCopy");
        var pieces = new List<Piece>();
        var pending = new List<Range>();
        long pendingLength = 0;
        void Add(int source, long offset, long length)
        {
            if (length == 0) return;
            pending.Add(new Range(source, offset, length));
            pendingLength += length;
        }
        void Flush()
        {
            if (pendingLength == 0) return;
            pieces.Add(new Piece(false, pending));
            pending = [];
            pendingLength = 0;
        }

        Add(-1, 0, headerLength);
        if (pendingLength >= minPart) Flush();
        for (int i = 0; i < sizes.Count; i++)
        {
            long size = sizes[i], offset = 0;
            if (pendingLength > 0)
            {
                // Top the pending bytes up to a part from this source's start.
                long take = Math.Min(size, minPart - pendingLength);
                Add(i, 0, take);
                offset = take;
                if (pendingLength >= minPart) Flush();
            }
            long rest = size - offset;
            if (rest == 0) continue;
            if (pendingLength == 0 && rest >= minPart)
            {
                // Equal copies of at most maxCopy bytes: each is at least minPart.
                long n = (rest + maxCopy - 1) / maxCopy;
                for (long k = 0; k < n; k++)
                {
                    long from = offset + rest * k / n, to = offset + rest * (k + 1) / n;
                    pieces.Add(new Piece(true, [new Range(i, from, to - from)]));
                }
            }
            else
            {
                Add(i, offset, rest);
            }
        }
        Flush();
        return pieces;
    }
}
