using System.Text;

namespace DataPrep.Tests.Sources;

/// <summary>
/// --decimal-comma: a CSV whose numbers use ',' as decimal point (European exports, ';'-separated) reads as the same
/// numbers written with '.', giving the same bytes in every format; a '.' in a number is refused then, never read as a
/// decimal point (it may be a thousands separator).
/// </summary>
public class DecimalCommaTests
{
    private static CliRunner.Result Convert(TempDir tmp, string input, string outDir, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", tmp.Combine(outDir), "--quiet", "--label", "y", "--seed", "11", .. extra]);

    private static string[] Files(string dir)
        => Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => !f.Contains("_dataprep")).Order(StringComparer.Ordinal)
            .Select(f => System.Convert.ToHexString(File.ReadAllBytes(f))).ToArray();

    [Theory]
    [InlineData("csv")]
    [InlineData("recordio-protobuf")]
    [InlineData("parquet")]
    public void A_decimal_comma_file_gives_the_bytes_of_the_same_numbers_written_with_points(string format)
    {
        using var tmp = new TempDir();
        var comma = new StringBuilder("y;a;b;n\n");
        var point = new StringBuilder("y,a,b,n\n");
        for (int i = 0; i < 12_000; i++)
        {
            // Past the 10,000-row inference sample too; integers, negatives, exponents, quoted fields.
            string a = $"{i / 7}{(i % 3 == 0 ? "" : $",{i % 100:00}")}", b = i % 5 == 0 ? "-0,25" : i % 5 == 1 ? "1,5e3" : "\"7,125\"";
            comma.Append(i % 2).Append(';').Append(a).Append(';').Append(b).Append(';').Append(i).Append('\n');
            // The same bytes a row but for ',' → '.' in numbers and ';' → ',' between fields: a CSV row's id is its byte
            // position, so both files' rows have the same ids, and the same shuffle.
            point.Append(i % 2).Append(',').Append(a.Replace(',', '.')).Append(',').Append(b.Replace(',', '.')).Append(',').Append(i).Append('\n');
        }
        var c = tmp.File("comma.csv", comma.ToString());
        var p = tmp.File("point.csv", point.ToString());
        var rc = Convert(tmp, c, "c", "--delimiter", ";", "--decimal-comma", "--format", format);
        Assert.True(rc.Code == 0, rc.Err);
        var rp = Convert(tmp, p, "p", "--format", format);
        Assert.True(rp.Code == 0, rp.Err);
        Assert.Equal(Files(tmp.Combine("p")), Files(tmp.Combine("c")));
        // Workers read it the same way.
        var rw = Convert(tmp, c, "w", "--delimiter", ";", "--decimal-comma", "--format", format, "--workers", "2", "--input-split-size", "100KB");
        Assert.True(rw.Code == 0, rw.Err);
        Assert.Equal(Files(tmp.Combine("p")), Files(tmp.Combine("w")));
    }

    [Fact]
    public void A_point_in_a_number_is_refused_under_a_decimal_comma_and_commas_are_text_without_it()
    {
        using var tmp = new TempDir();
        var sb = new StringBuilder("y;a;b\n");
        for (int i = 0; i < 10_050; i++) sb.Append(i % 2).Append(';').Append(i).Append(",5;").Append(i).Append('\n');
        sb.Append("1;1.234;5\n");
        var input = tmp.File("late.csv", sb.ToString());
        var r = Convert(tmp, input, "out", "--delimiter", ";", "--decimal-comma");
        Assert.Equal(3, r.Code);
        Assert.Contains("line 10052, row 10051, column 'a': found '1.234', expected a number with ',' as decimal point and no '.' (--decimal-comma)", r.Err);
        Assert.False(Directory.Exists(tmp.Combine("out")));
        // Without the option the column is text, and the refusal names the option.
        r = Convert(tmp, input, "out", "--delimiter", ";");
        Assert.Equal(2, r.Code);
        Assert.Contains($"Feature 'a' holds text ({input}, line 2, row 1 holds '0,5', and 10,000 of the 10,000 values of the first rows are numbers with a decimal comma; --decimal-comma reads them as numbers)", r.Err);
    }
}
