using System.Buffers;
using System.Buffers.Binary;
using DataPrep.RecordIO;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.RecordIO;

/// <summary>A stream that hides its length and hands out a few bytes per read, like a gzip or network stream.</summary>
internal sealed class TrickleStream(byte[] data, int maxRead = 7) : DataPrep.Data.ReadOnlyForwardStream
{
    private int _position;
    private int _turn;

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, data.Length - _position), 1 + (_turn++ % maxRead));
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }
}

/// <summary>Builds RecordIO bytes by hand, including broken ones.</summary>
internal static class Frames
{
    public static byte[] Header(uint cflag, int length, uint magic = RecordIOFraming.Magic)
    {
        var h = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(h, magic);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), RecordIOFraming.EncodeLRec(cflag, length));
        return h;
    }

    /// <summary>A header, the payload and its padding.</summary>
    public static byte[] Part(uint cflag, byte[] payload)
        => [.. Header(cflag, payload.Length), .. payload, .. new byte[RecordIOFraming.Padded(payload.Length) - payload.Length]];

    public static byte[] Whole(params byte[][] payloads)
    {
        var w = new ArrayBufferWriter<byte>();
        foreach (var p in payloads) RecordIOFraming.Write(p, escape: false, w);
        return w.WrittenSpan.ToArray();
    }

    public static List<RecordIORecord> ReadAll(byte[] data, bool seekable = true, string file = "shard.rec")
    {
        using var reader = new RecordIOReader(seekable ? new MemoryStream(data, writable: false) : new TrickleStream(data), file);
        return reader.ReadAll().ToList();
    }
}

public class RecordIOReaderTests
{
    private static readonly byte[] MagicBytes = [0x0A, 0x23, 0xD7, 0xCE];

    /// <summary>Random payloads with the magic word planted at random aligned offsets (0, runs, the very end).</summary>
    private static readonly Gen<byte[]> PayloadGen =
        from words in Gen.Choose(0, 24)
        from tail in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), words * 4 + tail)
        from plantStart in Gen.Frequency((2, Gen.Constant(true)), (3, Gen.Constant(false)))
        from plantEnd in Gen.Frequency((2, Gen.Constant(true)), (3, Gen.Constant(false)))
        from others in Gen.ListOf(Gen.Choose(0, Math.Max(0, words - 1)))
        select Plant(bytes, words, plantStart, plantEnd, others);

    private static byte[] Plant(byte[] bytes, int words, bool start, bool end, IEnumerable<int> others)
    {
        if (words == 0) return bytes;
        var at = new List<int>(others);
        if (start) at.Add(0);
        if (end) at.Add(words - 1);
        foreach (int w in at) MagicBytes.CopyTo(bytes, w * 4);
        return bytes;
    }

    [Property(MaxTest = 500)]
    public Property Escaped_and_plain_framing_round_trip(bool escape, bool seekable)
        => Prop.ForAll(Gen.NonEmptyListOf(PayloadGen).ToArbitrary(), payloads =>
        {
            var w = new ArrayBufferWriter<byte>();
            var offsets = new List<long>();
            foreach (var p in payloads)
            {
                offsets.Add(w.WrittenCount);
                RecordIOFraming.Write(p, escape, w);
            }
            var data = w.WrittenSpan.ToArray();
            Assert.Equal(0, data.Length % 4);
            var read = Frames.ReadAll(data, seekable);
            Assert.Equal(payloads.Count, read.Count);
            for (int i = 0; i < read.Count; i++)
            {
                Assert.Equal(i, read[i].Index);
                Assert.Equal(offsets[i], read[i].Offset);
                Assert.Equal(payloads[i], read[i].Payload);
            }
            return true.ToProperty();
        });

    [Fact]
    public void Escaping_really_writes_parts_and_the_reader_restores_the_magic()
    {
        // magic at offset 0 (empty first part), twice in a row, and at the very end (empty last part)
        byte[] payload = [.. MagicBytes, .. MagicBytes, 1, 2, 3, 4, .. MagicBytes];
        var w = new ArrayBufferWriter<byte>();
        RecordIOFraming.Write(payload, escape: true, w);
        var data = w.WrittenSpan.ToArray();
        var flags = new List<uint>();
        for (int at = 0; at < data.Length;)
        {
            uint lrec = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 4));
            flags.Add(lrec >> 29);
            at += 8 + RecordIOFraming.Padded((int)(lrec & RecordIOFraming.MaxPayload));
        }
        Assert.Equal([1u, 2u, 2u, 3u], flags);
        var record = Assert.Single(Frames.ReadAll(data));
        Assert.Equal(payload, record.Payload);
    }

    [Fact]
    public void Records_after_a_part_sequence_keep_their_index_and_offset()
    {
        byte[] data = [.. Frames.Whole([9]), .. Frames.Part(1, []), .. Frames.Part(3, [5, 6]), .. Frames.Whole([7, 7, 7, 7, 7])];
        var read = Frames.ReadAll(data);
        Assert.Equal([0L, 1L, 2L], read.Select(r => r.Index));
        Assert.Equal([0L, 12L, 32L], read.Select(r => r.Offset));
        Assert.Equal([.. MagicBytes, 5, 6], read[1].Payload);
    }

    [Fact]
    public void An_empty_file_has_no_records()
    {
        Assert.Empty(Frames.ReadAll([]));
        Assert.Empty(Frames.ReadAll([], seekable: false));
    }

    private static DataFormatException Corrupt(byte[] data, bool seekable = true)
    {
        var e = Assert.Throws<DataFormatException>(() => Frames.ReadAll(data, seekable));
        Assert.Equal("shard.rec", e.File);
        Assert.StartsWith("shard.rec: ", e.Message);
        return e;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Wrong_magic_at_the_start_shows_what_was_found(bool seekable)
    {
        var e = Corrupt("1,2,3\n"u8.ToArray(), seekable);
        Assert.Contains("record 0 at byte offset 0", e.Message);
        Assert.Contains("found bytes 31 2C 32 2C (0x2C322C31)", e.Message);
        Assert.Contains("expected 0xCED7230A", e.Message);
        Assert.Contains("not a RecordIO file", e.Message);
    }

    [Fact]
    public void Wrong_magic_after_a_record_names_that_record()
    {
        byte[] data = [.. Frames.Whole([1, 2, 3, 4, 5]), .. Frames.Header(0, 4, magic: 0xDEADBEEF), 0, 0, 0, 0];
        var e = Corrupt(data);
        Assert.Contains("record 1 at byte offset 16", e.Message);
        Assert.Contains("(0xDEADBEEF)", e.Message);
        Assert.Contains("expected 0xCED7230A", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Truncated_header(bool seekable)
    {
        byte[] data = [.. Frames.Whole([1, 2, 3, 4]), .. Frames.Header(0, 4)[..5]];
        var e = Corrupt(data, seekable);
        Assert.Contains("the file ends 5 bytes into the 8-byte header of record 1 at byte offset 12", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Truncated_payload_of_a_stream_without_length()
    {
        byte[] data = [.. Frames.Header(0, 100), .. new byte[10]];
        var e = Corrupt(data, seekable: false);
        Assert.Contains("record 0 at byte offset 0 is truncated: its header claims 100 payload bytes but the file ends after 10", e.Message);
    }

    [Fact]
    public void Length_beyond_the_end_of_the_file_is_caught_before_allocating()
    {
        byte[] data = [.. Frames.Whole([1, 2, 3, 4]), .. Frames.Header(0, RecordIOFraming.MaxPayload), .. new byte[16]];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Corrupt(data);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("record 1 at byte offset 12: its header (cflag 0) claims 536,870,911 payload bytes but only 16 bytes remain in the file", e.Message);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void A_huge_length_on_a_stream_without_length_allocates_little()
    {
        byte[] data = [.. Frames.Header(1, RecordIOFraming.MaxPayload), .. new byte[1000]];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Corrupt(data, seekable: false);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("record 0 at byte offset 0 is truncated: its header claims 536,870,911 payload bytes but the file ends after 1,000", e.Message);
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Truncated_padding()
    {
        byte[] data = [.. Frames.Header(0, 5), 1, 2, 3, 4, 5, 0];
        var e = Corrupt(data, seekable: false);
        Assert.Contains("record 0 at byte offset 0: the file ends inside the padding after its 5-byte payload", e.Message);
        e = Corrupt(data, seekable: true);
        Assert.Contains("record 0 at byte offset 0: the file ends inside the padding after its 5-byte payload", e.Message);
    }

    [Theory]
    [InlineData(2u, "middle part")]
    [InlineData(3u, "last part")]
    public void A_middle_or_last_part_without_a_first_part(uint cflag, string name)
    {
        byte[] data = [.. Frames.Whole([1]), .. Frames.Part(cflag, [1, 2, 3, 4])];
        var e = Corrupt(data);
        Assert.Contains($"found a {name} (cflag {cflag}) at byte offset 12 where record 1 should begin", e.Message);
        Assert.Contains("expected cflag 0 (whole record) or 1 (first part)", e.Message);
    }

    [Theory]
    [InlineData(0u, "a whole record")]
    [InlineData(1u, "another first part")]
    public void A_whole_record_or_first_part_inside_a_part_sequence(uint cflag, string name)
    {
        byte[] data = [.. Frames.Part(1, [1, 2, 3, 4]), .. Frames.Part(2, [5, 6, 7, 8]), .. Frames.Part(cflag, [9])];
        var e = Corrupt(data);
        Assert.Contains($"found cflag {cflag} ({name}) at byte offset 24 inside record 0, which began at byte offset 0", e.Message);
        Assert.Contains("expected a middle (2) or last (3) part", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_file_ending_inside_a_part_sequence(bool middle)
    {
        byte[] data = [.. Frames.Whole([1, 2]), .. Frames.Part(1, [1, 2, 3, 4]), .. (middle ? Frames.Part(2, []) : [])];
        var e = Corrupt(data);
        Assert.Contains("the file ends inside record 1 (begun at byte offset 12 with a first part, cflag 1)", e.Message);
        Assert.Contains("expected more parts up to a last part (cflag 3)", e.Message);
    }

    [Fact]
    public void Cflags_above_3_are_corrupt()
    {
        var h = Frames.Header(0, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), 5u << 29);
        var e = Corrupt(h);
        Assert.Contains("found cflag 5 in the header of record 0 at byte offset 0", e.Message);
        Assert.Contains("expected 0 (whole record) or 1, 2, 3", e.Message);
    }

    [Fact]
    public void A_reader_stays_finished_after_an_error()
    {
        using var reader = new RecordIOReader(new MemoryStream([.. Frames.Whole([1]), 0, 0]), "x.rec");
        Assert.True(reader.TryRead(out _));
        Assert.Throws<DataFormatException>(() => reader.TryRead(out _));
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Invalid_protobuf_names_record_and_offset()
    {
        byte[] garbage = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        var record = Frames.ReadAll([.. Frames.Whole([0x0A, 0x00]), .. Frames.Whole(garbage)])[1];
        var e = Assert.Throws<DataFormatException>(() => RecordDecoder.Decode(record, "shard.rec"));
        Assert.StartsWith("shard.rec: record 1 at byte offset 12 is not a valid aialgs.data.Record protobuf (", e.Message);
    }

    [Fact]
    public void Sparse_tensors_need_one_key_per_value_within_the_shape()
    {
        var t = new DataPrep.RecordIO.Protobuf.Float32Tensor { Values = { 1f, 2f }, Keys = { 3UL }, Shape = { 10UL } };
        var r = new DataPrep.RecordIO.Protobuf.Record();
        r.Features["values"] = new DataPrep.RecordIO.Protobuf.Value { Float32Tensor = t };
        var e = Assert.Throws<DataFormatException>(() => RecordDecoder.Decode(Google.Protobuf.MessageExtensions.ToByteArray(r), 4, 96, "s.rec"));
        Assert.Equal("s.rec: record 4 at byte offset 96: features[\"values\"] holds 2 values but 1 keys; expected one key per value in a sparse float32 tensor", e.Message);

        t.Keys.Add(10UL);
        e = Assert.Throws<DataFormatException>(() => RecordDecoder.Decode(Google.Protobuf.MessageExtensions.ToByteArray(r), 4, 96, "s.rec"));
        Assert.Contains("has key 10 but shape [10]; expected keys from 0 to 9", e.Message);
    }
}
