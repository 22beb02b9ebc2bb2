using System.Buffers;
using System.Buffers.Binary;

namespace DataPrep.RecordIO;

/// <summary>
/// MXNet/dmlc RecordIO framing (little-endian): <c>u32 magic 0xCED7230A</c>, <c>u32 lrec</c> with
/// <c>length = lrec &amp; (2^29 − 1)</c> and <c>cflag = lrec &gt;&gt; 29</c>, the payload, zero padding to a multiple
/// of 4. cflag 0 is a whole record; 1/2/3 are the first/middle/last parts of a payload that held the magic
/// word at a 4-byte-aligned offset (the magic is dropped on write and restored on read).
/// </summary>
public static class RecordIOFraming
{
    /// <summary>The magic word.</summary>
    public const uint Magic = 0xCED7230A;

    /// <summary>The largest payload a record can hold: 2^29 − 1 bytes.</summary>
    public const int MaxPayload = (1 << 29) - 1;

    /// <summary>Packs cflag and length into the lrec word.</summary>
    public static uint EncodeLRec(uint cflag, int length) => (cflag << 29) | (uint)length;

    /// <summary>The number of bytes <paramref name="length"/> takes once padded to a multiple of 4.</summary>
    public static int Padded(int length) => (length + 3) & ~3;

    /// <summary>Throws when a payload cannot be framed.</summary>
    /// <exception cref="DataFormatException">The payload is 2^29 bytes or larger.</exception>
    public static void CheckLength(long length, long row = 0)
    {
        if (length > MaxPayload)
        {
            throw Throw.Format($"a record of {length:N0} bytes cannot be written: RecordIO payloads must be smaller than 2^29 bytes (536,870,912); expected a smaller row (fewer or sparser features)", row: row);
        }
    }

    /// <summary>
    /// Frames one payload. Without <paramref name="escape"/> it is one cflag-0 record, exactly like the
    /// SageMaker Python SDK writer; with it, a payload holding the magic word at an aligned offset is cut
    /// into cflag 1/2/3 parts exactly like dmlc's <c>RecordIOWriter::WriteRecord</c>.
    /// </summary>
    public static void Write(ReadOnlySpan<byte> payload, bool escape, IBufferWriter<byte> output)
    {
        CheckLength(payload.Length);
        int start = 0;
        if (escape)
        {
            int aligned = payload.Length & ~3;
            for (int i = 0; i < aligned; i += 4)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(payload[i..]) != Magic) continue;
                WriteHeader(output, start == 0 ? 1u : 2u, i - start);
                output.Write(payload[start..i]);
                start = i + 4;
            }
        }
        WriteHeader(output, start == 0 ? 0u : 3u, payload.Length - start);
        output.Write(payload[start..]);
        int pad = Padded(payload.Length) - payload.Length;
        if (pad > 0) output.GetSpan(pad)[..pad].Clear();
        output.Advance(pad);
    }

    /// <summary>Whether <see cref="Write"/> with escaping cuts <paramref name="payload"/> into parts: it holds the magic word at a 4-byte-aligned offset.</summary>
    public static bool HoldsAlignedMagic(ReadOnlySpan<byte> payload)
    {
        int aligned = payload.Length & ~3;
        for (int i = 0; i < aligned; i += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(payload[i..]) == Magic) return true;
        }
        return false;
    }

    private static void WriteHeader(IBufferWriter<byte> output, uint cflag, int length)
    {
        var span = output.GetSpan(8);
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], EncodeLRec(cflag, length));
        output.Advance(8);
    }
}
