using System.Globalization;
using System.IO.Hashing;
using System.Text;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.Tests.Formats;

public class LibSvmFormatTests
{
    private static RowInfo Ids(int n)
    {
        var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
        return new RowInfo(ids, new int[n], ids);
    }

    /// <summary>Label, then a dense float, a dense integer, a boolean, a sparse column of width 3 and another float.</summary>
    private static RecordBatch Encoded()
    {
        var schema = new Schema([
            new Field("y", ColumnKind.Int64), new Field("a", ColumnKind.Float64), new Field("b", ColumnKind.Int64),
            new Field("c", ColumnKind.Boolean), new Field("d", ColumnKind.Sparse, 3), new Field("e", ColumnKind.Float64)]);
        return new RecordBatch(schema,
        [
            new Int64Column([1, 0, -3, 7]),
            new Float64Column([0.5, 0.0, -0.0, 0.0]),
            new Int64Column([0, -42, long.MaxValue, 0]),
            new BooleanColumn([true, false, false, false]),
            // Row 1 stores an explicit zero at key 2; row 2 and row 3 have no entries.
            new SparseColumn(3, [0, 1, 3, 3, 3], [1, 0, 2], [2.5, -1.0, 0.0], 4),
            new Float64Column([1e21, 0.1, 1e-7, 0.0]),
        ], 4, Ids(4));
    }

    // Written by hand from the format's rules: a=1, b=2, c=3, d=4..6, e=7 (1-based); zeros omitted.
    private static readonly string[] OneBasedLines =
    [
        "1 1:0.5 3:1 5:2.5 7:1E+21",
        "0 2:-42 4:-1 7:0.1",
        "-3 2:9223372036854775807 7:1E-07",
        "7",
    ];

    private static readonly string[] ZeroBasedLines =
    [
        "1 0:0.5 2:1 4:2.5 6:1E+21",
        "0 1:-42 3:-1 6:0.1",
        "-3 1:9223372036854775807 6:1E-07",
        "7",
    ];

    private static byte[] Bytes(FormattedChunk chunk) => chunk.Data.AsSpan(0, chunk.Length).ToArray();

    private static void AssertChunk(string[] lines, FormattedChunk chunk)
    {
        var expected = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        Assert.Equal(expected, Bytes(chunk));
        var ends = new int[lines.Length];
        for (int i = 0, at = 0; i < lines.Length; i++) ends[i] = at += lines[i].Length + 1;
        Assert.Equal(ends, chunk.RecordEnds);
        Assert.Equal(lines.Select(l => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(l))), chunk.Hashes);
    }

    [Fact]
    public void Bytes_match_the_hand_written_golden_lines()
    {
        var chunk = new LibSvmFormat(hasLabel: true).Format(Encoded(), 0, 4);
        Assert.Equal(
            "1 1:0.5 3:1 5:2.5 7:1E+21\n0 2:-42 4:-1 7:0.1\n-3 2:9223372036854775807 7:1E-07\n7\n"u8.ToArray(),
            Bytes(chunk));
        AssertChunk(OneBasedLines, chunk);
    }

    [Fact]
    public void Zero_based_numbers_features_from_zero()
    {
        var format = new LibSvmFormat(hasLabel: true, zeroBased: true);
        Assert.True(format.ZeroBased);
        AssertChunk(ZeroBasedLines, format.Format(Encoded(), 0, 4));
    }

    [Fact]
    public void Float_and_boolean_labels_are_written_like_CSV_numbers()
    {
        var schema = new Schema([new Field("y", ColumnKind.Float64), new Field("x", ColumnKind.Float64)]);
        var batch = new RecordBatch(schema, [new Float64Column([0.25, 3.0, -1.5]), new Float64Column([1.0, 0.0, 123456789.125])], 3, Ids(3));
        AssertChunk(["0.25 1:1", "3", "-1.5 1:123456789.125"], new LibSvmFormat(true).Format(batch, 0, 3));

        var boolSchema = new Schema([new Field("y", ColumnKind.Boolean), new Field("x", ColumnKind.Int64)]);
        var bools = new RecordBatch(boolSchema, [new BooleanColumn([true, false]), new Int64Column([5, -1])], 2, Ids(2));
        AssertChunk(["1 1:5", "0 1:-1"], new LibSvmFormat(true).Format(bools, 0, 2));
    }

    [Fact]
    public void Slices_format_like_the_whole()
    {
        var batch = Encoded();
        var format = new LibSvmFormat(true);
        var slice = format.Format(batch, 1, 2);
        AssertChunk(OneBasedLines[1..3], slice);
        byte[] parts = [.. Bytes(format.Format(batch, 0, 1)), .. Bytes(slice), .. Bytes(format.Format(batch, 3, 1))];
        Assert.Equal(Bytes(format.Format(batch, 0, 4)), parts);
    }

    [Fact]
    public void Content_type_and_extension()
    {
        var format = new LibSvmFormat(true);
        Assert.Equal("text/libsvm", format.ContentType);
        Assert.Equal("libsvm", format.Extension);
    }

    [Fact]
    public void Describe_reports_sparse_rows_and_the_flattened_width()
    {
        // a, b, c take one index each, d three, e one.
        Assert.Equal(new FormatInfo("text/libsvm", 7, Sparse: true, Dtype: null, LabelDtype: null), new LibSvmFormat(true).Describe(Encoded().Schema, hasLabel: true));
    }

    [Fact]
    public void Without_a_label_the_format_refuses()
    {
        var e = Assert.Throws<PipelineValidationException>(() => new LibSvmFormat(hasLabel: false));
        Assert.Equal("LibSVM output needs a label: every line starts with one. Name the label column (--label), or write CSV, whose content type text/csv;label_size=0 allows data without a label.", e.Message);
        var v = Assert.Throws<PipelineValidationException>(() => new LibSvmFormat(true).Validate(Encoded().Schema, hasLabel: false));
        Assert.Equal(e.Message, v.Message);
    }

    [Fact]
    public void Validate_accepts_numeric_columns_and_names_the_others()
    {
        var format = new LibSvmFormat(true);
        format.Validate(Encoded().Schema, hasLabel: true);

        var bad = new Schema([new Field("y", ColumnKind.Sparse, 2), new Field("name", ColumnKind.String), new Field("ok", ColumnKind.Float64), new Field("at", ColumnKind.Timestamp)]);
        var e = Assert.Throws<PipelineValidationException>(() => format.Validate(bad, hasLabel: true));
        Assert.Equal(
            [
                "LibSVM output needs a numeric label in the first column, but 'y' is Sparse.",
                "LibSVM output needs numeric feature columns, but 'name' is String.",
                "LibSVM output needs numeric feature columns, but 'at' is Timestamp.",
            ],
            e.Problems);

        var wide = new Schema([new Field("y", ColumnKind.Int64), new Field("s", ColumnKind.Sparse, int.MaxValue), new Field("t", ColumnKind.Float64)]);
        e = Assert.Throws<PipelineValidationException>(() => format.Validate(wide, hasLabel: true));
        Assert.Equal("LibSVM output holds at most 2147483647 features, but the columns add up to 2147483648.", e.Message);

        e = Assert.Throws<PipelineValidationException>(() => format.Validate(new Schema([]), hasLabel: true));
        Assert.Equal("LibSVM output needs a label column; the data has no columns.", e.Message);
    }

    /// <summary>Every finite double is written as double.ToString(InvariantCulture) writes it (the CSV format's text).</summary>
    [Property(MaxTest = 1000)]
    public Property Numbers_are_shortest_invariant_text(NormalFloat label, NormalFloat value)
    {
        double y = label.Get, x = value.Get;
        var schema = new Schema([new Field("y", ColumnKind.Float64), new Field("x", ColumnKind.Float64)]);
        var batch = new RecordBatch(schema, [new Float64Column([y]), new Float64Column([x])], 1, Ids(1));
        var text = Encoding.UTF8.GetString(Bytes(new LibSvmFormat(true).Format(batch, 0, 1)));
        string expected = y.ToString(CultureInfo.InvariantCulture) + (x == 0 ? "" : " 1:" + x.ToString(CultureInfo.InvariantCulture)) + "\n";
        return (text == expected).Label(text);
    }

    /// <summary>A random sparse matrix with labels: rows of (label, ascending distinct keys, values).</summary>
    private sealed record Matrix(int Width, bool ZeroBased, double[] Labels, int[][] Keys, double[][] Values)
    {
        public override string ToString()
            => $"width {Width}, zeroBased {ZeroBased}:\n" + string.Join("\n", Labels.Select((l, r) =>
                l.ToString("R", CultureInfo.InvariantCulture) + string.Concat(Keys[r].Select((k, j) => $" [{k}]={Values[r][j].ToString("R", CultureInfo.InvariantCulture)}"))));
    }

    private static readonly Gen<double> Finite = ArbMap.Default.GeneratorFor<NormalFloat>().Select(f => f.Get);

    private static Gen<(double Label, int[] Keys, double[] Values)> RowGen(int width, bool integerLabels) =>
        from label in integerLabels ? Gen.Choose(-3, 3).Select(i => (double)i) : Finite
        from keys in Gen.SubListOf(Enumerable.Range(0, width))
        from values in Gen.ArrayOf(Gen.Frequency((8, Finite), (1, Gen.Constant(0.0)), (1, Gen.Constant(-0.0))), keys.Count)
        select (label, keys.Order().ToArray(), values);

    private static readonly Gen<Matrix> MatrixGen =
        from width in Gen.Choose(1, 40)
        from zeroBased in Gen.Elements(false, true)
        from integerLabels in Gen.Elements(false, true)
        from rows in Gen.NonEmptyListOf(RowGen(width, integerLabels))
        select new Matrix(width, zeroBased, rows.Select(r => r.Label).ToArray(), rows.Select(r => r.Keys).ToArray(), rows.Select(r => r.Values).ToArray());

    /// <summary>
    /// LibSvmFormat bytes read back by LibSvmSource give the same labels, keys and bit-identical values (zeros,
    /// which the format omits, aside), in batches of random size.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property Round_trips_through_LibSvmSource()
        => Prop.ForAll(MatrixGen.ToArbitrary(), matrix =>
        {
            int n = matrix.Labels.Length;
            var offsets = new int[n + 1];
            for (int r = 0; r < n; r++) offsets[r + 1] = offsets[r] + matrix.Keys[r].Length;
            var schema = new Schema([new Field("y", ColumnKind.Float64), new Field("x", ColumnKind.Sparse, matrix.Width)]);
            var batch = new RecordBatch(schema,
                [new Float64Column(matrix.Labels), new SparseColumn(matrix.Width, offsets, matrix.Keys.SelectMany(k => k).ToArray(), matrix.Values.SelectMany(v => v).ToArray(), n)],
                n, Ids(n));
            var chunk = new LibSvmFormat(true, matrix.ZeroBased).Format(batch, 0, n);

            using var dir = new TempDir();
            string path = dir.Combine("m.libsvm");
            File.WriteAllBytes(path, Bytes(chunk));
            var source = new LibSvmSource(path, new SourceOptions { BatchRows = 1 + n / 3 }, new LibSvmOptions(matrix.ZeroBased, NumFeatures: matrix.Width));
            var read = source.OpenAsync().AsTask().GetAwaiter().GetResult();
            var back = RecordBatch.Concat(source.ReadAsync(0).ToBlockingEnumerable().ToList(), read);

            Assert.Equal(n, back.RowCount);
            Assert.Equal(new Field("features", ColumnKind.Sparse, matrix.Width), read[1]);
            bool integers = matrix.Labels.All(l => l == Math.Floor(l) && Math.Abs(l) < 1e15);
            Assert.Equal(integers ? ColumnKind.Int64 : ColumnKind.Float64, read[0].Kind);
            var features = (SparseColumn)back["features"];
            for (int r = 0; r < n; r++)
            {
                if (back["label"] is Int64Column ints) Assert.Equal(matrix.Labels[r], ints.Values[r]); // "-0" reads as the integer 0
                else Assert.Equal(BitConverter.DoubleToInt64Bits(matrix.Labels[r]), BitConverter.DoubleToInt64Bits(((Float64Column)back["label"]).Values[r]));
                var kept = matrix.Keys[r].Select((k, j) => (Key: k, Value: matrix.Values[r][j])).Where(e => e.Value != 0).ToArray();
                int s = features.RowOffsets[r], e = features.RowOffsets[r + 1];
                Assert.Equal(kept.Select(k => k.Key), features.Indices[s..e]);
                Assert.Equal(kept.Select(k => BitConverter.DoubleToInt64Bits(k.Value)), features.Values[s..e].Select(BitConverter.DoubleToInt64Bits));
            }
            Assert.Equal(n, back.Rows.SourceRows.Length);
            Assert.Equal(Enumerable.Range(1, n).Select(i => (long)i), back.Rows.SourceRows);
        });
}
