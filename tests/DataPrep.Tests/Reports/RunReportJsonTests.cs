using System.Globalization;
using System.Text.Json.Nodes;
using DataPrep.Audit;
using DataPrep.Data;
using DataPrep.Output;

namespace DataPrep.Tests.Reports;

/// <summary>
/// The report of every split method as <c>--json</c> prints it: valid against schemas/run-report.schema.json, the label
/// report that fits the label (class counts or min / quantiles / max), images as originals plus augmented copies, and
/// each split's targetFraction what the method asked for (also in run.json).
/// </summary>
public class RunReportJsonTests
{
    private static JsonObject Convert(TempDir tmp, string name, params string[] args)
    {
        var r = CliRunner.Run(["convert", .. args, "--out", tmp.Combine(name), "--json"]);
        Assert.True(r.Code == 0, r.Err);
        ReportSchemas.AssertValid(ReportSchemas.Run, r.Out);
        var runJson = File.ReadAllText(tmp.Combine(name, "_dataprep", "run.json"));
        var report = JsonNode.Parse(r.Out)!.AsObject();
        // run.json records the same splits (targets included: they used to be 0 there).
        var recorded = JsonNode.Parse(runJson)!["splits"]!.AsObject();
        foreach (var (split, s) in report["splits"]!.AsObject())
        {
            Assert.Equal(s!["targetFraction"]!.GetValue<double>(), recorded[split]!["targetFraction"]!.GetValue<double>());
            Assert.Equal(s["labelSummary"]?.ToJsonString(), recorded[split]!["labelSummary"]?.ToJsonString());
        }
        return report;
    }

    private static JsonObject Splits(JsonObject report) => report["splits"]!.AsObject();

    private static double D(JsonNode? n) => n!.GetValue<double>();

    [Fact]
    public void Text_label_is_reported_as_class_counts()
    {
        using var tmp = new TempDir();
        var report = Convert(tmp, "churn", Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot");
        foreach (var (_, s) in Splits(report))
        {
            Assert.Null(s!["labelSummary"]);
            var counts = s["labelDistribution"]!.AsObject();
            Assert.Equal(["0", "1"], counts.Select(kv => kv.Key).ToArray());
            Assert.Equal(s["rows"]!.GetValue<long>(), counts.Sum(kv => kv.Value!.GetValue<long>()));
        }
        Assert.Equal(0.8, D(Splits(report)["train"]!["targetFraction"]));
    }

    [Fact]
    public void Integer_regression_label_is_reported_as_min_quantiles_max_exactly()
    {
        using var tmp = new TempDir();
        var report = Convert(tmp, "demand", Paths.SampleData("demand.csv"), "--label", "demand", "--encode", "product=onehot", "--timestamps", "epoch",
            "--split", "time", "--time", "date", "--fractions", "70/15/15");
        foreach (var (split, s) in Splits(report))
        {
            Assert.Null(s!["labelDistribution"]);
            var m = s["labelSummary"]!.AsObject();
            Assert.True(m["exact"]!.GetValue<bool>());
            // Nearest-rank quantiles of the labels actually written (first field of each line of the shard).
            var labels = File.ReadLines(tmp.Combine("demand", split, "part-00000.csv")).Select(l => double.Parse(l[..l.IndexOf(',')], CultureInfo.InvariantCulture)).Order().ToList();
            Assert.Equal(labels.Count, m["count"]!.GetValue<long>());
            Assert.Equal(labels[0], D(m["min"]));
            Assert.Equal(labels[^1], D(m["max"]));
            foreach (var (name, q) in new[] { ("p01", 0.01), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p99", 0.99) })
            {
                int rank = Math.Max(1, (int)Math.Ceiling(q * labels.Count - 1e-9));
                Assert.Equal(labels[rank - 1], D(m["quantiles"]![name]));
            }
        }
        Assert.Equal(0.15, D(Splits(report)["test"]!["targetFraction"]));
    }

    [Fact]
    public void Integer_label_with_few_values_is_classification()
    {
        using var tmp = new TempDir();
        var report = Convert(tmp, "sensors", Paths.SampleData("sensors.csv.gz"), "--label", "label");
        Assert.All(Splits(report), kv => Assert.NotNull(kv.Value!["labelDistribution"]));
        Assert.All(Splits(report), kv => Assert.Null(kv.Value!["labelSummary"]));
    }

    [Fact]
    public void Fractional_label_gets_a_sketch_within_one_percent()
    {
        using var tmp = new TempDir();
        var lines = new List<string> { "x,y" };
        var rng = new Random(7);
        for (int i = 0; i < 3000; i++) lines.Add(string.Create(CultureInfo.InvariantCulture, $"{i},{Math.Exp(rng.NextDouble() * 8) * (rng.Next(4) == 0 ? -1 : 1):R}"));
        var input = tmp.File("y.csv", string.Join("\n", lines) + "\n");
        var report = Convert(tmp, "out", input, "--label", "y");
        var train = Splits(report)["train"]!;
        var m = train["labelSummary"]!.AsObject();
        Assert.False(m["exact"]!.GetValue<bool>());   // 3,000 distinct fractional values: the sketch
        var labels = File.ReadLines(tmp.Combine("out", "train", "part-00000.csv")).Select(l => double.Parse(l[..l.IndexOf(',')], CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(labels[0], D(m["min"]));
        Assert.Equal(labels[^1], D(m["max"]));
        foreach (var (name, q) in new[] { ("p05", 0.05), ("p50", 0.5), ("p95", 0.95) })
        {
            double exact = labels[Math.Max(1, (int)Math.Ceiling(q * labels.Count - 1e-9)) - 1];
            Assert.InRange(D(m["quantiles"]![name]), exact - Math.Abs(exact) * 0.0101, exact + Math.Abs(exact) * 0.0101);
        }
    }

    [Fact]
    public void Sketch_does_not_depend_on_how_rows_are_chunked()
    {
        var values = Enumerable.Range(0, 5000).Select(i => Math.Sin(i) * 1000 + i * 0.37).ToArray();
        var whole = new LabelTally();
        whole.Count(new Float64Column(values), 0, values.Length);
        var parts = new LabelTally();
        foreach (int start in new[] { 3000, 0, 1200 }) parts.Count(new Float64Column(values), start, start switch { 3000 => 2000, 0 => 1200, _ => 1800 });
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(whole.Summary(true)), System.Text.Json.JsonSerializer.Serialize(parts.Summary(true)));
    }

    [Fact]
    public void Noisy_clean_targets_come_from_the_clean_and_noisy_row_counts()
    {
        using var tmp = new TempDir();
        long clean = File.ReadLines(Paths.SampleData("speech/clean.csv")).Count() - 1, noisy = File.ReadLines(Paths.SampleData("speech/noisy.csv")).Count() - 1;
        var report = Convert(tmp, "noisy", Paths.SampleData("speech/clean.csv"), "--noisy", Paths.SampleData("speech/noisy.csv"), "--drop", "noise_db",
            "--split", "noisy", "--label", "label", "--format", "csv-header");
        var s = Splits(report);
        double total = clean + noisy;
        Assert.Equal(clean / total, D(s["train"]!["targetFraction"]), 12);
        Assert.Equal(noisy * 0.5 / total, D(s["validation"]!["targetFraction"]), 12);
        Assert.Equal(noisy * 0.5 / total, D(s["test"]!["targetFraction"]), 12);
        Assert.Equal(clean / total, D(s["train"]!["fraction"]), 12);   // train holds exactly the clean rows
    }

    [Fact]
    public void Kfold_targets_share_the_rest_after_test_equally_and_time_cutoffs_give_their_share()
    {
        using var tmp = new TempDir();
        var kfold = Splits(Convert(tmp, "kfold", Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--folds", "5"));
        Assert.Equal(6, kfold.Count);
        for (int k = 0; k < 5; k++) Assert.Equal(0.18, D(kfold[$"fold-{k}"]!["targetFraction"]), 12);
        Assert.Equal(0.1, D(kfold["test"]!["targetFraction"]));

        var cut = Splits(Convert(tmp, "cut", Paths.SampleData("demand.csv"), "--label", "demand", "--encode", "product=onehot", "--timestamps", "epoch",
            "--split", "time", "--time", "date", "--cutoffs", "2024-03-01,2024-04-01"));
        // No gap: the cutoffs' share is what each split got.
        foreach (var (_, s) in cut) Assert.Equal(D(s!["fraction"]), D(s["targetFraction"]), 12);
        Assert.True(D(cut["train"]!["targetFraction"]) is > 0 and < 0.2);
    }

    [Fact]
    public void Image_splits_count_originals_and_augmented_copies_apart()
    {
        using var tmp = new TempDir();
        var report = Convert(tmp, "img", Paths.SampleData("images"), "--format", "recordio-image", "--augment", "rotate=90,180");
        var s = Splits(report);
        var train = s["train"]!;
        long augmented = train["augmented"]!.AsObject().Sum(kv => kv.Value!.GetValue<long>());
        long originals = train["originals"]!.GetValue<long>();
        Assert.Equal(2 * originals, augmented);
        Assert.Equal(originals + augmented, train["rows"]!.GetValue<long>());
        Assert.Null(s["test"]!["originals"]);
        // Fractions are shares of the original images.
        long all = originals + s["validation"]!["rows"]!.GetValue<long>() + s["test"]!["rows"]!.GetValue<long>();
        Assert.Equal((double)originals / all, D(train["fraction"]), 12);
        Assert.Contains($"{originals:N0} + {augmented:N0} augmented", DataPrep.Pipeline.RunReportText.RowsText(System.Text.Json.JsonSerializer.Deserialize(train.ToJsonString(), DataPrep.Pipeline.RunRecordJsonContext.Default.SplitReport)!));
    }

    [Fact]
    public void Schema_refuses_a_split_with_both_label_reports_and_a_bad_checksum()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--out", tmp.Combine("o"), "--json"]);
        Assert.Equal(0, r.Code);
        var report = JsonNode.Parse(r.Out)!;
        report["splits"]!["train"]!["labelSummary"] = JsonNode.Parse("""{"count":1,"min":0,"max":0,"exact":true,"quantiles":{"p01":0,"p05":0,"p25":0,"p50":0,"p75":0,"p95":0,"p99":0}}""");
        Assert.False(ReportSchemas.Evaluate(ReportSchemas.Run, report.ToJsonString()).Valid);
        report = JsonNode.Parse(r.Out)!;
        report["splits"]!["test"]!["shards"]![0]!["sha256"] = "XYZ";
        Assert.False(ReportSchemas.Evaluate(ReportSchemas.Run, report.ToJsonString()).Valid);
    }
}
