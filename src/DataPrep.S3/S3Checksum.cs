using System.Buffers.Binary;
using System.IO.Hashing;

namespace DataPrep.S3;

/// <summary>
/// The full-object checksum DataPrep asks S3 to keep for every object it writes: CRC-32 (S3's <c>CRC32</c>,
/// <c>ChecksumType FULL_OBJECT</c>). Each part's CRC is computed once, on its upload task, and sent with the part;
/// the object's CRC is the parts' CRCs combined (<see cref="Combine"/>), so no byte is read twice.
/// </summary>
/// <remarks>
/// CRC-32 rather than CRC64NVME (S3's default for multipart): both are full-object types on S3, and CRC-32 is
/// the one the local S3 server of our tests (moto without its optional awscrt) computes for real; see
/// docs/decisions.md. The value S3 shows is the big-endian CRC in base64.
/// </remarks>
internal static class S3Checksum
{
    private const uint Polynomial = 0xEDB88320; // CRC-32 (IEEE), reflected
    private static readonly uint[] s_powers = Powers();

    /// <summary>The CRC-32 of some bytes.</summary>
    public static uint Of(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);

    /// <summary>The CRC-32 of A followed by B, from CRC(A), CRC(B) and B's length (zlib's crc32_combine).</summary>
    public static uint Combine(uint first, uint second, long secondLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(secondLength);
        return Multiply(PowerOfX(secondLength), first) ^ second;
    }

    /// <summary>The CRC as S3 shows it (<c>x-amz-checksum-crc32</c>).</summary>
    public static string Encode(uint crc)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, crc);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>a·b modulo the polynomial (bit-reflected; a must not be 0).</summary>
    private static uint Multiply(uint a, uint b)
    {
        uint m = 1u << 31, p = 0;
        while (true)
        {
            if ((a & m) != 0)
            {
                p ^= b;
                if ((a & (m - 1)) == 0) return p;
            }
            m >>= 1;
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1;
        }
    }

    /// <summary>x^(8·bytes) modulo the polynomial.</summary>
    private static uint PowerOfX(long bytes)
    {
        uint p = 1u << 31; // 1
        for (int k = 3; bytes != 0; bytes >>= 1, k++)
        {
            if ((bytes & 1) != 0) p = Multiply(s_powers[k & 31], p);
        }
        return p;
    }

    /// <summary>x^(2^k) modulo the polynomial, k = 0…31.</summary>
    private static uint[] Powers()
    {
        var table = new uint[32];
        uint p = 1u << 30; // x
        for (int k = 0; k < table.Length; k++)
        {
            table[k] = p;
            p = Multiply(p, p);
        }
        return table;
    }
}
