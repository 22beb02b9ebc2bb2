using System.Text.Json;

namespace DataPrep.Tests.Pipeline;

public class DeepArTests
{
    [Fact]
    public void Demand_series_train_is_cut_before_the_test_window_and_test_is_full()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("deepar");
        var r = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", outDir, "--label", "demand", "--split", "time", "--time", "date",
            "--fractions", "80/10/10", "--format", "deepar", "--series", "product", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        List<JsonElement> Records(string channel) => File.ReadAllLines(Path.Combine(outDir, channel, "part-00000.json")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var train = Records("train");
        var validation = Records("validation");
        var test = Records("test");
        Assert.Equal(5, train.Count);
        Assert.All(test, t => Assert.Equal(731, t.GetProperty("target").GetArrayLength()));        // two years of days
        Assert.All(train.Concat(test), t => Assert.Equal("2024-01-01 00:00:00", t.GetProperty("start").GetString()));
        for (int i = 0; i < 5; i++)
        {
            int trainLength = train[i].GetProperty("target").GetArrayLength();
            int validationLength = validation[i].GetProperty("target").GetArrayLength();
            Assert.True(trainLength < validationLength && validationLength < 731);
            // The training series is the full series cut before the validation window: a prefix.
            var full = test[i].GetProperty("target").EnumerateArray().Select(e => e.GetDouble()).ToList();
            Assert.Equal(full.Take(trainLength), train[i].GetProperty("target").EnumerateArray().Select(e => e.GetDouble()));
            // price, promo, temperature as dynamic features, each as long as the target.
            Assert.All(test[i].GetProperty("dynamic_feat").EnumerateArray(), f => Assert.Equal(731, f.GetArrayLength()));
            Assert.Equal(3, test[i].GetProperty("dynamic_feat").GetArrayLength());
        }
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")));
        Assert.Equal("application/jsonlines", run.RootElement.GetProperty("contentType").GetString());
    }

    [Fact]
    public void Deepar_needs_a_time_split_and_a_series_column()
    {
        var r = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", Path.Combine(Path.GetTempPath(), "never-deepar"), "--label", "demand", "--format", "deepar");
        Assert.Equal(2, r.Code);
        Assert.Contains("--format deepar needs a time split", r.Err);
        Assert.Contains("--series COLUMN", r.Err);
    }
}
