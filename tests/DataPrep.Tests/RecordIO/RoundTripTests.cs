using System.Globalization;
using DataPrep.Data;
using DataPrep.RecordIO;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using DataPrep.Pipeline;

namespace DataPrep.Tests.RecordIO;

/// <summary>RecordIOProtobufFormat → RecordIOReader + RecordDecoder gives back every value, bit for bit.</summary>
public class RoundTripTests
{
    /// <summary>How the features are stored: dense columns, dense columns written sparse, or one sparse column.</summary>
    public enum Layout { Dense, SparseOption, SparseColumn }

    public sealed record Matrix(TensorType Features, TensorType Label, Layout Layout, bool HasLabel, bool Escape, bool Uid, int Width, double[] Labels, double[][] Rows)
    {
        public override string ToString()
            => $"{Features}/{Label} {Layout} label={HasLabel} escape={Escape} uid={Uid} width={Width}\n"
               + string.Join("\n", Rows.Select((r, i) => $"{Labels[i].ToString("R", CultureInfo.InvariantCulture)} | "
                   + string.Join(" ", r.Take(40).Select((v, c) => v == 0 && !double.IsNegative(v) ? "" : $"{c}={v.ToString("R", CultureInfo.InvariantCulture)}").Where(s => s.Length > 0))));
    }

    private static readonly Gen<double> Normal = ArbMap.Default.GeneratorFor<NormalFloat>().Select(f => f.Get);

    private static readonly double Magic32 = BitConverter.Int32BitsToSingle(unchecked((int)RecordIOFraming.Magic));

    private static Gen<double> Cell(TensorType type) => type switch
    {
        TensorType.Int32 => Gen.Frequency(
            (6, Gen.Choose(-1000, 1000).Select(i => (double)i)),
            (1, Gen.Elements<double>(int.MinValue, int.MaxValue, 0, -1, 1)),
            (2, ArbMap.Default.GeneratorFor<int>().Select(i => (double)i))),
        TensorType.Float32 => Gen.Frequency(
            (6, Normal.Select(v => (double)(float)Math.Clamp(v, -1e38, 1e38))),
            (1, Gen.Elements(double.NaN, -double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, Magic32, (double)float.Epsilon, (double)float.MaxValue)),
            (1, Normal.Select(v => Math.Clamp(v, -1e38, 1e38)))),   // not representable: written as (float)v
        _ => Gen.Frequency(
            (6, Normal),
            (1, Gen.Elements(double.NaN, -double.NaN, BitConverter.Int64BitsToDouble(0x7FF0000000000123), double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, double.Epsilon, double.MaxValue, double.MinValue))),
    };

    private static Gen<double[]> Row(TensorType type, int width) =>
        from zeros in Gen.Choose(0, 10)
        from row in Gen.ArrayOf(Gen.Frequency((zeros, Gen.Constant(0.0)), (10 - zeros + 1, Cell(type))), width)
        select row;

    private static readonly Gen<Matrix> MatrixGen =
        from features in Gen.Elements(TensorType.Float32, TensorType.Float64, TensorType.Int32)
        from label in Gen.Elements(TensorType.Float32, TensorType.Float64, TensorType.Int32)
        from layout in Gen.Elements(Layout.Dense, Layout.SparseOption, Layout.SparseColumn)
        from hasLabel in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from escape in Gen.Elements(false, true)
        from uid in Gen.Elements(false, true)
        from wide in Gen.Frequency((15, Gen.Constant(false)), (1, Gen.Constant(true)))
        from width in wide ? Gen.Constant(20_000) : Gen.Choose(0, 12)
        from n in wide ? Gen.Choose(1, 2) : Gen.Choose(1, 6)
        from rows in Gen.ArrayOf(Row(features, width), n)
        from labels in Gen.ArrayOf(Cell(label).Where(v => !double.IsNaN(v) || label != TensorType.Int32), n)
        select new Matrix(features, label, layout, hasLabel, escape, uid, width, labels, rows);

    private static RecordBatch Batch(Matrix m)
    {
        int n = m.Rows.Length;
        var fields = new List<Field>();
        var cols = new List<Column>();
        if (m.HasLabel)
        {
            fields.Add(new Field("y", ColumnKind.Float64));
            cols.Add(new Float64Column(m.Labels));
        }
        if (m.Layout == Layout.SparseColumn)
        {
            // Stored entries: every non-zero, plus some explicit zeros (they are kept, unlike dense zeros).
            var offsets = new int[n + 1];
            var indices = new List<int>();
            var values = new List<double>();
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < m.Width; c++)
                {
                    double v = m.Rows[r][c];
                    if (v != 0 || double.IsNegative(v) || c % 5 == 1)
                    {
                        indices.Add(c);
                        values.Add(v);
                    }
                }
                offsets[r + 1] = indices.Count;
            }
            fields.Add(new Field("x", ColumnKind.Sparse, m.Width));
            cols.Add(new SparseColumn(m.Width, offsets, indices.ToArray(), values.ToArray(), n));
        }
        else
        {
            for (int c = 0; c < m.Width; c++)
            {
                fields.Add(new Field($"f{c}", ColumnKind.Float64));
                var column = new double[n];
                for (int r = 0; r < n; r++) column[r] = m.Rows[r][c];
                cols.Add(new Float64Column(column));
            }
        }
        var ids = Enumerable.Range(1, n).Select(i => 1000L + i).ToArray();
        return new RecordBatch(new Schema(fields), cols, n, new RowInfo(ids, new int[n], ids));
    }

    /// <summary>The bits the encoder writes for a value: canonical NaN, float32 rounding, int32 as is.</summary>
    private static long ExpectedBits(double v, TensorType type) => type switch
    {
        TensorType.Float32 => double.IsNaN(v) ? 0x7FC00000 : BitConverter.SingleToInt32Bits((float)v),
        TensorType.Float64 => double.IsNaN(v) ? 0x7FF8000000000000 : BitConverter.DoubleToInt64Bits(v),
        _ => (long)v,
    };

    private static long ActualBits(double v, TensorType type) => type switch
    {
        TensorType.Float32 => BitConverter.SingleToInt32Bits((float)v),
        TensorType.Float64 => BitConverter.DoubleToInt64Bits(v),
        _ => checked((long)v),
    };

    private static string DType(TensorType t) => t switch
    {
        TensorType.Float32 => TensorDTypes.Float32,
        TensorType.Float64 => TensorDTypes.Float64,
        _ => TensorDTypes.Int32,
    };

    [Property(MaxTest = 400)]
    public Property Encoded_records_decode_to_the_same_bits()
        => Prop.ForAll(MatrixGen.ToArbitrary(), m =>
        {
            var options = new RecordIOOptions(m.Features, m.Label, Sparse: m.Layout == Layout.SparseOption, Uid: m.Uid, Escape: m.Escape);
            var batch = Batch(m);
            var chunk = new RecordIOProtobufFormat(m.HasLabel, options).Format(batch, 0, batch.RowCount);
            var data = chunk.Data.AsSpan(0, chunk.Length).ToArray();

            using var reader = new RecordIOReader(new MemoryStream(data), "m.rec");
            var records = reader.ReadAll().Select(r => RecordDecoder.Decode(r, "m.rec")).ToList();
            Assert.Equal(m.Rows.Length, records.Count);
            for (int r = 0; r < records.Count; r++)
            {
                var d = records[r];
                Assert.Equal(r, d.Index);
                Assert.Equal(r == 0 ? 0 : chunk.RecordEnds[r - 1], d.Offset);
                var f = d.Features!;
                Assert.Equal(DType(m.Features), f.DType);
                Assert.Equal(["values"], d.FeatureMap.Keys);
                var row = m.Rows[r];
                if (m.Layout == Layout.Dense)
                {
                    Assert.False(f.IsSparse);
                    Assert.Equal(row.Select(v => ExpectedBits(v, m.Features)), f.Values.Select(v => ActualBits(v, m.Features)));
                }
                else
                {
                    Assert.True(f.IsSparse);
                    Assert.Equal([(ulong)m.Width], f.Shape);
                    Assert.Equal((ulong)m.Width, f.Width);
                    var expectedKeys = Enumerable.Range(0, m.Width).Where(c => m.Layout == Layout.SparseOption
                        ? row[c] != 0
                        : row[c] != 0 || double.IsNegative(row[c]) || c % 5 == 1).ToList();
                    Assert.Equal(expectedKeys.Select(c => (ulong)c), f.Keys!);
                    Assert.Equal(expectedKeys.Select(c => ExpectedBits(row[c], m.Features)), f.Values.Select(v => ActualBits(v, m.Features)));
                }
                if (m.HasLabel)
                {
                    var l = d.Label!;
                    Assert.Equal(DType(m.Label), l.DType);
                    Assert.False(l.IsSparse);
                    Assert.Equal([ExpectedBits(m.Labels[r], m.Label)], l.Values.Select(v => ActualBits(v, m.Label)));
                }
                else
                {
                    Assert.Null(d.Label);
                    Assert.Empty(d.LabelMap);
                }
                Assert.Equal(m.Uid ? (1001 + r).ToString(CultureInfo.InvariantCulture) : null, d.Uid);
                Assert.Null(d.Metadata);
            }
            return true.ToProperty();
        });

    /// <summary>Values that escaping must split around survive: the magic word's float is a feature value at an aligned offset.</summary>
    [Fact]
    public void A_feature_equal_to_the_magic_word_round_trips_when_escaped()
    {
        var m = new Matrix(TensorType.Float32, TensorType.Float32, Layout.Dense, true, Escape: true, Uid: false, Width: 3,
            [1, 0], [[Magic32, 1, Magic32], [Magic32, Magic32, Magic32]]);
        var chunk = new RecordIOProtobufFormat(true, new RecordIOOptions(Escape: true)).Format(Batch(m), 0, 2);
        var data = chunk.Data.AsSpan(0, chunk.Length).ToArray();
        Assert.True(CountParts(data) > 2, "the payload holds the magic word at an aligned offset, so it is written in parts");
        using var reader = new RecordIOReader(new TrickleStream(data), "m.rec");
        var records = reader.ReadAll().Select(r => RecordDecoder.Decode(r)).ToList();
        Assert.Equal([(float)Magic32, 1f, (float)Magic32], records[0].Features!.Values.Select(v => (float)v));
        Assert.All(records[1].Features!.Values, v => Assert.Equal(unchecked((int)RecordIOFraming.Magic), BitConverter.SingleToInt32Bits((float)v)));
    }

    /// <summary>
    /// Dense float32 records of column values (no kept text: a spilled split, Parquet input) are converted a chunk at a
    /// time into one float32 block: integers, booleans, NaN, -0, underflow and the largest float32 come out as the
    /// value-by-value conversion writes them, a chunk that starts inside the batch reads its own rows, and a value beyond
    /// float32 still fails at its own row.
    /// </summary>
    [Fact]
    public void Dense_float32_records_of_mixed_columns_convert_a_chunk_at_a_time_as_value_by_value()
    {
        double[] x = [1.5, double.NaN, -0.0, 1e-50, 3.4028235e38, 0.1, -7, double.NegativeInfinity];
        long[] k = [0, -3, 16_777_217, long.MaxValue, 5, 6, 7, 8];
        bool[] b = [true, false, true, true, false, false, true, false];
        double[] y = [0, 1, 2, 0.5, 1, 0, 1, 2];
        var schema = new Schema([new Field("y", ColumnKind.Float64), new Field("x", ColumnKind.Float64), new Field("k", ColumnKind.Int64), new Field("b", ColumnKind.Boolean)]);
        var ids = Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
        var batch = new RecordBatch(schema, [new Float64Column(y), new Float64Column(x), new Int64Column(k), new BooleanColumn(b)], x.Length, new RowInfo(ids, new int[x.Length], ids));
        var format = new RecordIOProtobufFormat(true, new RecordIOOptions());
        var chunk = format.Format(batch, 2, 5);
        using var reader = new RecordIOReader(new MemoryStream(chunk.Data, 0, chunk.Length), "m.rec");
        var records = reader.ReadAll().Select(r => RecordDecoder.Decode(r)).ToList();
        chunk.Release();
        Assert.Equal(5, records.Count);
        for (int i = 0; i < 5; i++)
        {
            int r = 2 + i;
            long[] expected = [ExpectedBits(x[r], TensorType.Float32), ExpectedBits(k[r], TensorType.Float32), ExpectedBits(b[r] ? 1 : 0, TensorType.Float32)];
            Assert.Equal(expected, records[i].Features!.Values.Select(v => ActualBits(v, TensorType.Float32)));
            Assert.Equal(ExpectedBits(y[r], TensorType.Float32), ActualBits(records[i].Label!.Values[0], TensorType.Float32));
        }
        // Batch row 6 holds 1e39: the chunk from row 4 fails there, naming it (rows count from 1 in messages).
        var big = (double[])x.Clone();
        big[6] = 1e39;
        var bad = new RecordBatch(schema, [new Float64Column(y), new Float64Column(big), new Int64Column(k), new BooleanColumn(b)], x.Length, new RowInfo(ids, new int[x.Length], ids));
        var e = Assert.Throws<DataFormatException>(() => format.Format(bad, 4, 4));
        Assert.Contains("row 7, column 'x'", e.Message);
        Assert.Contains("does not fit a float32 tensor", e.Message);
    }

    private static int CountParts(byte[] data)
    {
        int parts = 0;
        for (int at = 0; at < data.Length;)
        {
            uint lrec = BitConverter.ToUInt32(data, at + 4);
            if (lrec >> 29 != 0) parts++;
            at += 8 + RecordIOFraming.Padded((int)(lrec & RecordIOFraming.MaxPayload));
        }
        return parts;
    }
}
