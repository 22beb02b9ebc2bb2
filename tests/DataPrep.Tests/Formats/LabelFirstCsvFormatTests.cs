using DataPrep.Data;
using DataPrep.Formats;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Formats;

public class LabelFirstCsvFormatTests
{
    private static RecordBatch Encoded()
    {
        var schema = new Schema([
            new Field("y", ColumnKind.Int64), new Field("a", ColumnKind.Float64), new Field("b", ColumnKind.Float64),
            new Field("c", ColumnKind.Int64), new Field("d", ColumnKind.Sparse, 3)]);
        var ids = new long[] { 1, 2, 3 };
        return new RecordBatch(schema,
        [
            new Int64Column([0, 1, 2]),
            new Float64Column([0.1, 1e-7, 1e21]),
            new Float64Column([3.0, -2.5, 123456789.125]),
            new Int64Column([long.MaxValue, -42, 0]),
            new SparseColumn(3, [0, 1, 1, 3], [1, 0, 2], [1.0, 0.5, 2.0], 3),
        ], 3, new RowInfo(ids, new int[3], ids));
    }

    [Fact]
    public void Bytes_match_the_golden_file()
    {
        var chunk = new LabelFirstCsvFormat(hasLabel: true).Format(Encoded(), 0, 3);
        var golden = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "label-first.csv"));
        Assert.Equal(golden, chunk.Data.AsSpan(0, chunk.Length).ToArray());
        Assert.Equal([34, 57, golden.Length], chunk.RecordEnds);
    }

    [Fact]
    public void Unsupervised_output_has_no_label_and_says_label_size_0()
    {
        var full = Encoded();
        var features = new RecordBatch(new Schema([full.Schema[1], full.Schema[2]]), [full.Columns[1], full.Columns[2]], 3, full.Rows);
        var format = new LabelFirstCsvFormat(hasLabel: false);
        var chunk = format.Format(features, 0, 2);
        Assert.Equal(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "no-label.csv")), chunk.Data.AsSpan(0, chunk.Length).ToArray());
        Assert.Equal("text/csv;label_size=0", format.ContentType);
        Assert.Equal("text/csv", new LabelFirstCsvFormat(true).ContentType);
    }

    [Fact]
    public void Slices_format_like_the_whole()
    {
        var batch = Encoded();
        var format = new LabelFirstCsvFormat(true);
        var whole = format.Format(batch, 0, 3);
        var parts = format.Format(batch, 0, 1).Data.AsSpan(0, 34).ToArray().Concat(format.Format(batch, 1, 2) is var c ? c.Data.AsSpan(0, c.Length).ToArray() : []).ToArray();
        Assert.Equal(whole.Data.AsSpan(0, whole.Length).ToArray(), parts);
    }

    /// <summary>Leakage contract 8 for CSV: every finite double is written as text that parses back to the same bits.</summary>
    [Property(MaxTest = 1000)]
    public Property Floats_round_trip_and_match_shortest_invariant_text(NormalFloat value)
    {
        double v = value.Get;
        var schema = new Schema([new Field("x", ColumnKind.Float64)]);
        var batch = new RecordBatch(schema, [new Float64Column([v])], 1, new RowInfo([1], [0], [1]));
        var chunk = new LabelFirstCsvFormat(false).Format(batch, 0, 1);
        var text = System.Text.Encoding.UTF8.GetString(chunk.Data, 0, chunk.Length);
        return (text.EndsWith('\n')
                && BitConverter.DoubleToInt64Bits(double.Parse(text.TrimEnd('\n'), System.Globalization.CultureInfo.InvariantCulture)) == BitConverter.DoubleToInt64Bits(v)
                && text.TrimEnd('\n') == v.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Label(text);
    }
}
