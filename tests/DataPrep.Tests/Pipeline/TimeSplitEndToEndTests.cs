using System.Text.Json;

namespace DataPrep.Tests.Pipeline;

public class TimeSplitEndToEndTests
{
    [Fact]
    public void Demand_by_date_with_a_gap_is_time_ordered_and_reports_ranges_and_drops()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("t");
        var r = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", outDir, "--label", "demand", "--split", "time", "--time", "date",
            "--fractions", "70/15/15", "--gap", "7d", "--timestamps", "epoch", "--encode", "product=onehot", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")));
        var splits = run.RootElement.GetProperty("splits");
        string From(string s) => splits.GetProperty(s).GetProperty("timeFrom").GetString()!;
        string To(string s) => splits.GetProperty(s).GetProperty("timeTo").GetString()!;
        Assert.Equal("2024-01-01T00:00:00Z", From("train"));
        Assert.True(string.CompareOrdinal(To("train"), From("validation")) < 0);
        Assert.True(string.CompareOrdinal(To("validation"), From("test")) < 0);
        Assert.True((DateTime.Parse(From("validation")).ToUniversalTime() - DateTime.Parse(To("train")).ToUniversalTime()).TotalDays >= 7);
        var dropped = run.RootElement.GetProperty("summary").GetProperty("dropped");
        // The next split starts 7 days after the previous one ends: the 6 days between are dropped, × 5 products, twice.
        Assert.Equal(6 * 5 * 2, dropped.EnumerateObject().Sum(p => p.Value.GetInt64()));
        // Output rows are in time order (the epoch column is the first feature), and lineage has the time.
        var epochs = File.ReadLines(Path.Combine(outDir, "train", "part-00000.csv")).Select(l => double.Parse(l.Split(',')[1])).ToList();
        Assert.Equal(epochs.Order(), epochs);
        Assert.EndsWith(",time", File.ReadLines(Path.Combine(outDir, "_dataprep", "lineage", "test.csv")).First());
    }

    [Fact]
    public void A_single_cutoff_means_train_and_test()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("c");
        var r = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", outDir, "--label", "demand", "--split", "time", "--time", "date",
            "--cutoffs", "2025-07-01", "--drop", "product", "--timestamps", "epoch", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.False(Directory.Exists(Path.Combine(outDir, "validation")));
        Assert.Equal(184 * 5, File.ReadAllLines(Path.Combine(outDir, "test", "part-00000.csv")).Length);   // 2025-07-01 … 2025-12-31
    }
}
