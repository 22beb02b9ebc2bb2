using System.Buffers.Binary;
using System.IO.Hashing;
using Amazon.S3;
using Amazon.S3.Model;

namespace DataPrep.S3;

/// <summary>
/// The full-object checksum DataPrep asks S3 to keep for every object it writes: CRC-32C (Castagnoli; S3's
/// <c>CRC32C</c>, <c>ChecksumType FULL_OBJECT</c>). Each part's CRC is computed once, on its upload task, and sent
/// with the part; the object's CRC is the parts' CRCs combined (<see cref="Combine"/>), so no byte is read twice.
/// Objects copied on the server (a scaled-out run's shards) get their CRC the same way, from the work objects'.
/// </summary>
/// <remarks>
/// CRC-32C rather than CRC64NVME (S3's default for multipart) or SHA-256: all three are full-object types on S3;
/// SHA-256 cannot be combined from parts, and CRC-32C is the one the local S3 server of our tests (moto, with the
/// Debian module python3-crc32c) computes for real; see docs/decisions.md. System.IO.Hashing computes it (SSE 4.2 /
/// ARM CRC instructions, like CRC-32). The value S3 shows is the big-endian CRC in base64.
/// </remarks>
internal static class S3Checksum
{
    private const uint Polynomial = 0x82F63B78; // CRC-32C (Castagnoli), reflected
    private static readonly uint[] s_powers = Powers();

    /// <summary>The algorithm DataPrep asks for on every request that writes an object.</summary>
    public static ChecksumAlgorithm Algorithm => ChecksumAlgorithm.CRC32C;

    /// <summary>The CRC-32C of some bytes.</summary>
    public static uint Of(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);

    /// <summary>An incremental CRC-32C.</summary>
    public static Crc32 Create() => new(Crc32ParameterSet.Crc32C);

    /// <summary>The CRC-32C of A followed by B, from CRC(A), CRC(B) and B's length (zlib's crc32_combine).</summary>
    public static uint Combine(uint first, uint second, long secondLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(secondLength);
        return Multiply(PowerOfX(secondLength), first) ^ second;
    }

    /// <summary>The CRC as S3 shows it (<c>x-amz-checksum-crc32c</c>).</summary>
    public static string Encode(uint crc)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, crc);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>The CRC from S3's text; false when it is not one (missing, or a composite checksum "…-N").</summary>
    public static bool TryDecode(string? text, out uint crc)
    {
        crc = 0;
        Span<byte> bytes = stackalloc byte[4];
        if (string.IsNullOrEmpty(text) || !Convert.TryFromBase64String(text, bytes, out int n) || n != 4) return false;
        crc = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        return true;
    }

    /// <summary>
    /// Sends a body with its CRC-32C in the <c>x-amz-checksum-crc32c</c> header, as one plain (not aws-chunked) body:
    /// every body DataPrep uploads is in memory or a file before it is sent, so its CRC is known up front and the
    /// chunk framing (a signature per chunk, a trailing checksum) buys nothing. Plain bodies also cost the server less
    /// to take in, and S3-compatible stores that store aws-chunked framing as data (s3rver) get them right.
    /// </summary>
    public static PutObjectRequest WithCrc(this PutObjectRequest request, string checksum)
    {
        request.ChecksumAlgorithm = Algorithm;
        request.ChecksumCRC32C = checksum;
        request.UseChunkEncoding = false;
        return request;
    }

    /// <inheritdoc cref="WithCrc(PutObjectRequest, string)"/>
    public static UploadPartRequest WithCrc(this UploadPartRequest request, string checksum)
    {
        request.ChecksumAlgorithm = Algorithm;
        request.ChecksumCRC32C = checksum;
        request.UseChunkEncoding = false;
        return request;
    }

    /// <summary>A part for CompleteMultipartUpload: its ETag and the CRC-32C the store echoed (none from a store that keeps none).</summary>
    public static PartETag Part(int number, string etag, string? echoedCrc)
        => new(number, etag) { ChecksumCRC32C = string.IsNullOrEmpty(echoedCrc) ? null : echoedCrc };

    /// <summary>
    /// The full-object CRC-32C S3 keeps for an object (a HEAD with <c>ChecksumMode ENABLED</c>); null when it keeps
    /// none or another kind (an object an earlier DataPrep wrote, with CRC-32; a composite checksum).
    /// </summary>
    public static string? FullObject(GetObjectMetadataResponse head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return !string.IsNullOrEmpty(head.ChecksumCRC32C) && head.ChecksumType != ChecksumType.COMPOSITE ? head.ChecksumCRC32C : null;
    }

    /// <summary>Whether S3 keeps any checksum for the object (then a store that keeps checksums wrote it).</summary>
    public static bool Any(GetObjectMetadataResponse head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return !string.IsNullOrEmpty(head.ChecksumCRC32C) || !string.IsNullOrEmpty(head.ChecksumCRC32) || !string.IsNullOrEmpty(head.ChecksumCRC64NVME)
            || !string.IsNullOrEmpty(head.ChecksumSHA1) || !string.IsNullOrEmpty(head.ChecksumSHA256);
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
            if ((bytes & 1) != 0) p = Multiply(s_powers[k], p);
        }
        return p;
    }

    /// <summary>
    /// x^(2^k) modulo the polynomial, k = 0…66 (every bit of a length in bytes). Not zlib's 32 entries reused
    /// modulo 32: that holds for CRC-32's polynomial, not for Castagnoli's, whose x has another order.
    /// </summary>
    private static uint[] Powers()
    {
        var table = new uint[67];
        uint p = 1u << 30; // x
        for (int k = 0; k < table.Length; k++)
        {
            table[k] = p;
            p = Multiply(p, p);
        }
        return table;
    }
}
