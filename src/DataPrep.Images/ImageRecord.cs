using System.Buffers;
using System.Buffers.Binary;
using DataPrep.RecordIO;

namespace DataPrep.Images;

/// <summary>
/// One MXNet image RecordIO record (im2rec / <c>mx.recordio.pack</c>): a 24-byte little-endian header
/// <c>u32 flag, f32 label, u64 id, u64 id2</c>, then for multi-label records <c>flag</c> float32 labels
/// (and label = 0), then the encoded image.
/// </summary>
/// <param name="Flag">0 for one label in <see cref="Label"/>; otherwise the number of float32 labels after the header.</param>
/// <param name="Label">The label of single-label records (0 for multi-label ones).</param>
/// <param name="Id">The image index (as in the .lst file).</param>
/// <param name="Id2">A second id (0).</param>
/// <param name="Labels">All labels: one for single-label records.</param>
/// <param name="Image">The encoded image bytes.</param>
public sealed record ImageRecord(uint Flag, float Label, ulong Id, ulong Id2, float[] Labels, ReadOnlyMemory<byte> Image)
{
    /// <summary>The header size.</summary>
    public const int HeaderSize = 24;

    /// <summary>Packs a record payload as <c>mx.recordio.pack</c> does.</summary>
    /// <param name="labels">One label, or several for a multi-label record.</param>
    /// <param name="multiLabel">Write the multi-label layout even for one label (a multi-label dataset).</param>
    /// <param name="id">The image index.</param>
    /// <param name="image">The encoded image.</param>
    public static byte[] Pack(ReadOnlySpan<float> labels, bool multiLabel, ulong id, ReadOnlySpan<byte> image)
    {
        bool multi = multiLabel || labels.Length != 1;
        int extra = multi ? labels.Length * 4 : 0;
        var payload = new byte[HeaderSize + extra + image.Length];
        var span = payload.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, multi ? (uint)labels.Length : 0u);
        BinaryPrimitives.WriteSingleLittleEndian(span[4..], multi ? 0f : labels[0]);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], id);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], 0);
        for (int i = 0; multi && i < labels.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(HeaderSize + 4 * i)..], labels[i]);
        image.CopyTo(span[(HeaderSize + extra)..]);
        return payload;
    }

    /// <summary>Unpacks a record payload.</summary>
    /// <exception cref="DataFormatException">The payload is shorter than its header says.</exception>
    public static ImageRecord Unpack(ReadOnlyMemory<byte> payload, string? file = null, long record = 0)
    {
        var span = payload.Span;
        if (span.Length < HeaderSize) throw new DataFormatException($"the record holds {span.Length} bytes; expected at least the {HeaderSize}-byte image header (flag, label, id, id2)", file, row: record);
        uint flag = BinaryPrimitives.ReadUInt32LittleEndian(span);
        float label = BinaryPrimitives.ReadSingleLittleEndian(span[4..]);
        ulong id = BinaryPrimitives.ReadUInt64LittleEndian(span[8..]);
        ulong id2 = BinaryPrimitives.ReadUInt64LittleEndian(span[16..]);
        if (flag > (span.Length - HeaderSize) / 4) throw new DataFormatException($"the image header's flag says {flag} labels follow, but only {span.Length - HeaderSize} bytes do", file, row: record);
        var labels = new float[flag == 0 ? 1 : flag];
        if (flag == 0) labels[0] = label;
        for (int i = 0; i < flag; i++) labels[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(HeaderSize + 4 * i)..]);
        return new ImageRecord(flag, label, id, id2, labels, payload[(HeaderSize + 4 * (int)flag)..]);
    }

    /// <summary>Frames a payload like MXNet's writer: the magic word at an aligned offset is escaped with cflag 1/2/3.</summary>
    public static void Frame(ReadOnlySpan<byte> payload, IBufferWriter<byte> output) => RecordIOFraming.Write(payload, escape: true, output);
}
