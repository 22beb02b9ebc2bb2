using System.Text.Json;

namespace DataPrep.Tests.Performance;

/// <summary>The sink counts labels by value (not a string per row); the report must name them as before.</summary>
public class LabelCountTests
{
    private static JsonElement? Distribution(string labels, string split = "train")
    {
        using var tmp = new TempDir();
        var rows = string.Join("\n", labels.Split(' ').Select((l, i) => $"{l},{i}"));
        var input = tmp.File("in.csv", "y,x\n" + rows + "\n");
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--fractions", "100/0/0", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")));
        return doc.RootElement.GetProperty("splits").GetProperty(split).TryGetProperty("labelDistribution", out var d) && d.ValueKind == JsonValueKind.Object ? d.Clone() : null;
    }

    [Fact]
    public void Integer_labels_are_counted_by_their_text()
    {
        var d = Distribution("3 -1 3 10 3")!.Value;
        Assert.Equal(3, d.GetProperty("3").GetInt64());
        Assert.Equal(1, d.GetProperty("-1").GetInt64());
        Assert.Equal(1, d.GetProperty("10").GetInt64());
    }

    [Fact]
    public void Integral_double_labels_are_named_in_round_trip_form()
    {
        var d = Distribution("1.0 2.0 1.0 1e20 -0.0 0.0")!.Value;
        Assert.Equal(2, d.GetProperty("1").GetInt64());
        Assert.Equal(1, d.GetProperty("2").GetInt64());
        Assert.Equal(1, d.GetProperty("1E+20").GetInt64());
        // −0 and 0 are one class (this used to fail the run: their names compare equal in the sorted report).
        Assert.Equal(2, d.GetProperty("0").GetInt64());
        Assert.False(d.TryGetProperty("-0", out _));
    }

    [Fact]
    public void A_regression_target_has_no_distribution() => Assert.Null(Distribution("1.5 2.0 1.0"));
}
