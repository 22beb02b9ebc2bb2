using System.Buffers;
using DataPrep.Data;
using DataPrep.RecordIO;
using DataPrep.RecordIO.Protobuf;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using DataPrep.Pipeline;
using Record = DataPrep.RecordIO.Protobuf.Record;

namespace DataPrep.Tests.RecordIO;

public class RecordIOProtobufFormatTests
{
    private static RecordBatch Dense(double[][] rows, double[]? labels)
    {
        int n = rows.Length, width = rows.Length == 0 ? 0 : rows[0].Length;
        var fields = new List<Field>();
        var cols = new List<Column>();
        if (labels is not null) { fields.Add(new Field("y", ColumnKind.Float64)); cols.Add(new Float64Column(labels)); }
        for (int c = 0; c < width; c++)
        {
            fields.Add(new Field($"f{c}", ColumnKind.Float64));
            cols.Add(new Float64Column(rows.Select(r => r[c]).ToArray()));
        }
        var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
        return new RecordBatch(new Schema(fields), cols, n, new RowInfo(ids, new int[n], ids));
    }

    private static string Hex(RecordBatch batch, bool hasLabel, RecordIOOptions? options = null)
    {
        var chunk = new RecordIOProtobufFormat(hasLabel, options).Format(batch, 0, batch.RowCount);
        return Convert.ToHexStringLower(chunk.Data.AsSpan(0, chunk.Length));
    }

    // Golden vectors: bytes written by the SageMaker Python SDK (sagemaker.amazon.common).
    [Fact]
    public void Dense_float32_matches_the_sagemaker_sdk()
        => Assert.Equal(
            "0a23d7ce300000000a1a0a0676616c7565731210120e0a0c0000c03f000000400000404012120a0676616c756573120812060a04000000000a23d7ce300000000a1a0a0676616c7565731210120e0a0c000080400000a0400000c04012120a0676616c756573120812060a040000803f",
            Hex(Dense([[1.5, 2, 3], [4, 5, 6]], [0, 1]), hasLabel: true));

    [Fact]
    public void Sparse_float32_matches_the_sagemaker_sdk()
        => Assert.Equal(
            "0a23d7ce2e0000000a180a0676616c756573120e120c0a04000020401201011a010412120a0676616c756573120812060a040000803f00000a23d7ce330000000a1d0a0676616c756573121312110a080000803f000080bf120200031a010412120a0676616c756573120812060a040000000000",
            Hex(Dense([[0, 2.5, 0, 0], [1, 0, 0, -1]], [1, 0]), hasLabel: true, new RecordIOOptions(Sparse: true)));

    [Fact]
    public void Dense_float64_without_label_matches_the_sagemaker_sdk()
        => Assert.Equal(
            "0a23d7ce200000000a1e0a0676616c75657312141a120a10000000000000f83f00000000000000c0",
            Hex(Dense([[1.5, -2]], null), hasLabel: false, new RecordIOOptions(Features: TensorType.Float64)));

    /// <summary>
    /// A chunk of sparse rows takes a buffer near its records' size, not its width's: a one-hot column of 1,000 values is
    /// one stored entry a row. (The first buffer was sized 12 bytes a logical column, 48 MiB for 4,096 such rows, which
    /// the pool rounds to 64 MiB: several chunks in flight took a 4 M-row run to 794 MiB under --memory 256MB.) Rows
    /// [start, start + count) of a larger batch count only their own entries, and the bytes are the records'.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    public void A_chunk_of_one_hot_rows_takes_a_buffer_near_its_records_size(int start)
    {
        const int n = 5096, width = 1001, count = 4096;
        var schema = new Schema([new Field("y", ColumnKind.Int64), new Field("x", ColumnKind.Float64), new Field("c", ColumnKind.Sparse, width)]);
        var offsets = Enumerable.Range(0, n + 1).ToArray();
        var indices = Enumerable.Range(0, n).Select(i => i * 7 % width).ToArray();
        var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
        var batch = new RecordBatch(schema, [new Int64Column(ids.Select(i => i % 2).ToArray()), new Float64Column(ids.Select(i => i / 8.0).ToArray()),
            new SparseColumn(width, offsets, indices, Enumerable.Repeat(1.0, n).ToArray(), n)], n, new RowInfo(ids, new int[n], ids));
        var format = new RecordIOProtobufFormat(hasLabel: true, null);
        var chunk = format.Format(batch, start, count);
        try
        {
            Assert.Equal(count, chunk.RecordEnds.Length);
            Assert.True(chunk.Data.Length <= 4 * chunk.Length + 4096, $"a {chunk.Data.Length:N0}-byte buffer for {chunk.Length:N0} bytes of records");
            var one = format.Format(batch.Take(Enumerable.Range(start, count).ToArray()), 0, count);
            Assert.Equal(one.Data.AsSpan(0, one.Length).ToArray(), chunk.Data.AsSpan(0, chunk.Length).ToArray());
        }
        finally
        {
            chunk.Release();
        }
    }

    [Fact]
    public void One_hot_columns_make_rows_sparse_with_keys_in_the_flattened_index_space()
    {
        var schema = new Schema([new Field("y", ColumnKind.Int64), new Field("x", ColumnKind.Float64), new Field("c", ColumnKind.Sparse, 3)]);
        var batch = new RecordBatch(schema, [new Int64Column([1]), new Float64Column([0.5]), new SparseColumn(3, [0, 1], [2], [1.0], 1)], 1, new RowInfo([7], [0], [7]));
        var record = Decode(batch, hasLabel: true).Single();
        var t = record.Features["values"].Float32Tensor;
        Assert.Equal([0.5f, 1f], t.Values);
        Assert.Equal([0UL, 3UL], t.Keys);
        Assert.Equal([4UL], t.Shape);
        Assert.Equal([1f], record.Label["values"].Float32Tensor.Values);
    }

    [Fact]
    public void Nan_is_written_as_the_canonical_quiet_nan()
    {
        var hex32 = Hex(Dense([[double.NaN]], null), false);
        Assert.EndsWith("0000c07f", hex32);                              // 0x7FC00000 little-endian
        var hex64 = Hex(Dense([[-double.NaN]], null), false, new RecordIOOptions(Features: TensorType.Float64));
        Assert.EndsWith("000000000000f87f", hex64);                       // 0x7FF8000000000000
    }

    [Fact]
    public void Values_that_do_not_fit_the_dtype_are_errors_not_wrapped()
    {
        var e1 = Assert.Throws<DataFormatException>(() => Hex(Dense([[3e40]], null), false));
        Assert.Contains("does not fit a float32 tensor", e1.Message);
        var e2 = Assert.Throws<DataFormatException>(() => Hex(Dense([[3_000_000_000]], null), false, new RecordIOOptions(Features: TensorType.Int32)));
        Assert.Contains("does not fit an int32 tensor", e2.Message);
        var e3 = Assert.Throws<DataFormatException>(() => Hex(Dense([[1.5]], null), false, new RecordIOOptions(Features: TensorType.Int32)));
        Assert.Contains("row 1", e3.Message);
    }

    [Fact]
    public void Uid_and_metadata_are_opt_in()
    {
        var batch = Dense([[1]], [0]);
        var plain = Decode(batch, true).Single();
        Assert.False(plain.HasUid);
        Assert.False(plain.HasMetadata);
        var rich = Decode(batch, true, new RecordIOOptions(Uid: true, Metadata: true)).Single();
        Assert.Equal("1", rich.Uid);
        Assert.Equal("{\"row_id\":1,\"source\":0,\"source_row\":1}", rich.Metadata);
    }

    /// <summary>The hand-written encoder writes exactly what Google.Protobuf writes for the same Record.</summary>
    [Property(MaxTest = 300)]
    public Property Bytes_equal_google_protobuf_for_every_dtype(NonEmptyArray<NormalFloat> cells, PositiveInt widthSeed, bool sparse, byte dtype, bool withLabel)
    {
        var type = (TensorType)(dtype % 3);
        int width = widthSeed.Get % 7 + 1;
        var values = cells.Get.Select(c => type == TensorType.Int32 ? Math.Round(Math.Clamp(c.Get, -1e9, 1e9)) : type == TensorType.Float32 ? (double)(float)Math.Clamp(c.Get, -1e30, 1e30) : c.Get).ToArray();
        int rowsCount = Math.Max(1, values.Length / width);
        var rows = Enumerable.Range(0, rowsCount).Select(r => Enumerable.Range(0, width).Select(c => r * width + c < values.Length ? values[r * width + c] : 0).ToArray()).ToArray();
        var labels = withLabel ? rows.Select((_, i) => (double)(i % 3)).ToArray() : null;
        var options = new RecordIOOptions(Features: type, Label: type, Sparse: sparse);
        var batch = Dense(rows, labels);
        var chunk = new RecordIOProtobufFormat(withLabel, options).Format(batch, 0, rowsCount);

        var expected = new ArrayBufferWriter<byte>();
        for (int r = 0; r < rowsCount; r++)
        {
            var record = new Record();
            record.Features["values"] = Tensor(type, rows[r], sparse);
            if (labels is not null) record.Label["values"] = Tensor(type, [labels[r]], false, forceDense: true);
            RecordIOFraming.Write(record.ToByteArray(), escape: false, expected);
        }
        return chunk.Data.AsSpan(0, chunk.Length).SequenceEqual(expected.WrittenSpan).ToProperty();
    }

    private static Value Tensor(TensorType type, double[] row, bool sparse, bool forceDense = false)
    {
        bool s = sparse && !forceDense;
        var idx = Enumerable.Range(0, row.Length).Where(i => !s || row[i] != 0).ToArray();
        var keys = s ? idx.Select(i => (ulong)i) : [];
        var shape = s ? new[] { (ulong)row.Length } : [];
        return type switch
        {
            TensorType.Float32 => new Value { Float32Tensor = new Float32Tensor { Values = { idx.Select(i => (float)row[i]) }, Keys = { keys }, Shape = { shape } } },
            TensorType.Float64 => new Value { Float64Tensor = new Float64Tensor { Values = { idx.Select(i => row[i]) }, Keys = { keys }, Shape = { shape } } },
            _ => new Value { Int32Tensor = new Int32Tensor { Values = { idx.Select(i => (int)row[i]) }, Keys = { keys }, Shape = { shape } } },
        };
    }

    /// <summary>Parses the framed output with the generated code (cflag 0 records only).</summary>
    private static List<Record> Decode(RecordBatch batch, bool hasLabel, RecordIOOptions? options = null)
    {
        var chunk = new RecordIOProtobufFormat(hasLabel, options).Format(batch, 0, batch.RowCount);
        var result = new List<Record>();
        int at = 0;
        while (at < chunk.Length)
        {
            int len = BitConverter.ToInt32(chunk.Data, at + 4) & RecordIOFraming.MaxPayload;
            result.Add(Record.Parser.ParseFrom(chunk.Data, at + 8, len));
            at += 8 + RecordIOFraming.Padded(len);
        }
        return result;
    }
}
