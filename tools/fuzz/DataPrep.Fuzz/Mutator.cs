using System.IO.Compression;
using System.Text;

namespace DataPrep.Fuzz;

/// <summary>
/// A small deterministic generator (SplitMix64): case <c>i</c> of a run with seed <c>s</c> on reader <c>r</c> is the same
/// input on every machine and in every order, so a finding is replayed by its (reader, seed, case) alone.
/// </summary>
public sealed class CaseRandom(ulong state)
{
    private ulong _state = state;

    /// <summary>The generator of one case: a pure function of (seed, reader, case).</summary>
    public static CaseRandom For(ulong seed, string reader, long caseIndex)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in reader) h = (h ^ c) * 0x100000001B3UL;
        return new CaseRandom(Mix(seed ^ Mix(h) ^ Mix((ulong)caseIndex + 0x9E3779B97F4A7C15UL)));
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A number in [0, n); 0 when n is not positive.</summary>
    public int Below(int n) => n <= 0 ? 0 : (int)(Next() % (ulong)n);

    /// <summary>True with probability 1/n.</summary>
    public bool OneIn(int n) => Below(n) == 0;

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// Mutates seed files: truncate, flip bits, insert (random bytes, format tokens, a copy of a piece), splice in a piece
/// of another seed, overwrite with boundary values (lengths, counts, magic words), delete a range. One to four
/// mutations per case, stacked; gzip seeds are sometimes mutated inside the compression and compressed again, so the
/// text reader behind the decompressor is reached too.
/// </summary>
public sealed class Mutator(IReadOnlyList<byte[]> seeds, IReadOnlyList<byte[]> tokens, bool gzip, int maxBytes = 1 << 20)
{
    private static readonly byte[][] s_boundaries =
    [
        [0x00], [0xFF], [0x7F], [0x80], [0x00, 0x00], [0xFF, 0xFF], [0xFF, 0x7F], [0x00, 0x80],
        [0xFF, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0x7F], [0x00, 0x00, 0x00, 0x80], [0xFF, 0xFF, 0xFF, 0x1F], [0x00, 0x00, 0x00, 0x20],
        [0x01, 0x00, 0x00, 0x00], [0x00, 0x00, 0x00, 0x00],
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80],
        [0x0A, 0x23, 0xD7, 0xCE], // the RecordIO magic word
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], // varints
    ];

    /// <summary>The mutated input of one case, and what was done (for the findings log).</summary>
    public (byte[] Bytes, string Operations) Mutate(CaseRandom random)
    {
        var seedIndex = random.Below(seeds.Count);
        var seed = seeds[seedIndex];
        bool inside = gzip && random.OneIn(4);
        byte[] data = inside ? Gunzip(seed) ?? seed : seed;
        var buffer = new List<byte>(data);
        var ops = new StringBuilder($"seed {seedIndex}{(inside ? " (inside gzip)" : "")}:");
        int count = 1 + random.Below(4);
        for (int k = 0; k < count; k++) ops.Append(' ').Append(Apply(buffer, random));
        if (buffer.Count > maxBytes) buffer.RemoveRange(maxBytes, buffer.Count - maxBytes);
        var result = buffer.ToArray();
        return (inside ? Gzip(result) : result, ops.ToString());
    }

    private string Apply(List<byte> b, CaseRandom r)
    {
        switch (r.Below(12))
        {
            case 0:
            case 1:
            {
                // Truncate: anywhere, or near the end (trailers, footers, last records).
                int at = r.OneIn(2) ? r.Below(b.Count + 1) : Math.Max(0, b.Count - 1 - r.Below(Math.Min(64, b.Count + 1)));
                b.RemoveRange(at, b.Count - at);
                return $"truncate@{at}";
            }
            case 2:
            case 3:
            {
                if (b.Count == 0) return "flip(empty)";
                int n = 1 + r.Below(8);
                for (int i = 0; i < n; i++)
                {
                    int at = r.Below(b.Count);
                    b[at] ^= (byte)(1 << r.Below(8));
                }
                return $"flip×{n}";
            }
            case 4:
            {
                int at = r.Below(b.Count + 1);
                var bytes = new byte[1 + r.Below(32)];
                for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)r.Next();
                b.InsertRange(at, bytes);
                return $"insert-random{bytes.Length}@{at}";
            }
            case 5:
            case 6:
            {
                int at = r.Below(b.Count + 1);
                var token = tokens.Count > 0 && r.OneIn(2) ? tokens[r.Below(tokens.Count)] : s_boundaries[r.Below(s_boundaries.Length)];
                int repeat = r.OneIn(8) ? 1 + r.Below(64) : 1;
                for (int i = 0; i < repeat; i++) b.InsertRange(at, token);
                return $"insert-token{token.Length}×{repeat}@{at}";
            }
            case 7:
            {
                // Splice: a piece of another seed (or of this input) replaces a range.
                var donor = r.OneIn(3) ? b.ToArray() : seeds[r.Below(seeds.Count)];
                if (donor.Length == 0) return "splice(empty)";
                int from = r.Below(donor.Length), len = 1 + r.Below(Math.Min(256, donor.Length - from));
                int at = r.Below(b.Count + 1), cut = Math.Min(b.Count - at, r.Below(len + 1));
                b.RemoveRange(at, cut);
                b.InsertRange(at, donor.AsSpan(from, len).ToArray());
                return $"splice{len}@{at}";
            }
            case 8:
            case 9:
            {
                if (b.Count == 0) return "overwrite(empty)";
                var value = s_boundaries[r.Below(s_boundaries.Length)];
                int at = r.Below(b.Count);
                for (int i = 0; i < value.Length && at + i < b.Count; i++) b[at + i] = value[i];
                return $"overwrite{value.Length}@{at}";
            }
            case 10:
            {
                if (b.Count == 0) return "delete(empty)";
                int at = r.Below(b.Count), len = 1 + r.Below(Math.Min(128, b.Count - at));
                b.RemoveRange(at, len);
                return $"delete{len}@{at}";
            }
            default:
            {
                // Duplicate a range in place (repeated records, headers, chunks).
                if (b.Count == 0) return "dup(empty)";
                int at = r.Below(b.Count), len = 1 + r.Below(Math.Min(512, b.Count - at));
                b.InsertRange(at, b.GetRange(at, len));
                return $"dup{len}@{at}";
            }
        }
    }

    private static byte[]? Gunzip(byte[] data)
    {
        try
        {
            using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            return ms.ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>Gzip-compresses bytes (fastest level; deterministic for one runtime).</summary>
    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }
}
