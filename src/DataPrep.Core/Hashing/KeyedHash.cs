using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace DataPrep.Hashing;

/// <summary>
/// The determinism rule: every random decision is a pure function of (seed, purpose, stable key).
/// A <see cref="KeyedHash"/> fixes seed and purpose; <see cref="Hash(long)"/> maps a key to 64 uniform bits.
/// </summary>
/// <remarks>XxHash3 with a seed derived from (seed, purpose), so decisions for different purposes are uncorrelated.</remarks>
public readonly struct KeyedHash
{
    private readonly long _derivedSeed;

    /// <summary>Creates the hash for one purpose ("shuffle", "split", "fold", "augment", …).</summary>
    public KeyedHash(ulong seed, string purpose)
    {
        Span<byte> buffer = stackalloc byte[8 + Encoding.UTF8.GetMaxByteCount(purpose.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, seed);
        int n = Encoding.UTF8.GetBytes(purpose, buffer[8..]);
        _derivedSeed = unchecked((long)XxHash3.HashToUInt64(buffer[..(8 + n)], 0x5EED_D47A_9E3BL));
        Purpose = purpose;
        Seed = seed;
    }

    /// <summary>The user's seed.</summary>
    public ulong Seed { get; }

    /// <summary>The purpose this hash decides.</summary>
    public string Purpose { get; }

    /// <summary>Hashes a 64-bit key (a row id).</summary>
    public ulong Hash(long key)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, key);
        return XxHash3.HashToUInt64(b, _derivedSeed);
    }

    /// <summary>Hashes a string key (a group key) by its UTF-8 bytes.</summary>
    public ulong Hash(string key)
    {
        int max = Encoding.UTF8.GetMaxByteCount(key.Length);
        Span<byte> b = max <= 512 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(key, b);
        return HashUtf8(b[..n]);
    }

    /// <summary>Hashes a string key by its UTF-8 bytes, given as bytes (<see cref="Hash(string)"/> of the string they encode).</summary>
    internal ulong HashUtf8(ReadOnlySpan<byte> utf8) => XxHash3.HashToUInt64(utf8, _derivedSeed);

    /// <summary>Maps a hash to [0, 1) with 53 bits of precision.</summary>
    public static double ToUnit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));
}
