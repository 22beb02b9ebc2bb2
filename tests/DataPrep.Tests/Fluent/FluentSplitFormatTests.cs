using DataPrep.Audit;
using DataPrep.Fluent;
using DataPrep.Pipeline;
using DataPrep.RecordIO;
using DataPrep.Splits;

namespace DataPrep.Tests.Fluent;

/// <summary>
/// The notebook-facing fluent methods map onto ConvertOptions exactly as the CLI flags do: the same options
/// record, and runs that write identical bytes.
/// </summary>
public class FluentSplitFormatTests
{
    private static void AssertSameDataFiles(string cliDir, string fluentDir, params string[] files)
    {
        foreach (var f in files)
        {
            Assert.True(File.Exists(Path.Combine(cliDir, f)), $"CLI wrote no {f}");
            Assert.Equal(File.ReadAllBytes(Path.Combine(cliDir, f)), File.ReadAllBytes(Path.Combine(fluentDir, f)));
        }
    }

    [Fact]
    public async Task Time_split_with_gap_matches_the_cli_byte_for_byte()
    {
        using var tmp = new TempDir();
        var report = await DataPrepPipeline.Read(Paths.SampleData("demand.csv"))
            .Label("demand").Encode("product", FeatureEncoding.OneHot).EncodeTimestampsAsEpoch()
            .SplitByTime("date", 0.7, 0.15, 0.15, gap: TimeSpan.FromDays(7))
            .WriteCsv(tmp.Combine("fluent")).RunAsync();
        var r = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", tmp.Combine("cli"), "--label", "demand", "--split", "time", "--time", "date",
            "--fractions", "70/15/15", "--gap", "7d", "--timestamps", "epoch", "--encode", "product=onehot", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        AssertSameDataFiles(tmp.Combine("cli"), tmp.Combine("fluent"), "train/part-00000.csv", "validation/part-00000.csv", "test/part-00000.csv");
        Assert.NotNull(report.Splits["train"].TimeFrom);
        Assert.True(report.Dropped.Values.Sum() > 0, "the gap drops rows");
    }

    [Fact]
    public async Task Time_split_at_cutoffs_and_deepar_match_the_cli()
    {
        using var tmp = new TempDir();
        var cutoffs = new[] { DateTimeOffset.Parse("2025-06-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse("2025-09-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture) };
        await DataPrepPipeline.Read(Paths.SampleData("demand.csv")).Label("demand")
            .SplitByTime("date", cutoffs).WriteDeepAr(tmp.Combine("fluent"), series: "product").RunAsync();
        var r = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", tmp.Combine("cli"), "--label", "demand", "--split", "time", "--time", "date",
            "--cutoffs", "2025-06-01,2025-09-01", "--format", "deepar", "--series", "product", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        AssertSameDataFiles(tmp.Combine("cli"), tmp.Combine("fluent"), "train/part-00000.json", "validation/part-00000.json", "test/part-00000.json");
    }

    [Fact]
    public async Task Group_split_to_recordio_matches_the_cli_and_audits_clean_of_group_overlap()
    {
        using var tmp = new TempDir();
        var utterances = Path.Combine(Paths.Repo, "sample-data", "speech", "utterances.csv");
        var report = await DataPrepPipeline.Read(utterances).Label("label").Drop("path", "transcript", "speaker_id")
            .SplitByGroup("speaker_id", 0.8, 0.1, 0.1)
            .WriteRecordIO(tmp.Combine("fluent"), new RecordIOOptions(Label: TensorType.Int32))
            .RunAsync();
        var r = CliRunner.Run("convert", utterances, "--out", tmp.Combine("cli"), "--label", "label", "--drop", "path,transcript,speaker_id",
            "--split", "group", "--group", "speaker_id", "--format", "recordio-protobuf", "--label-dtype", "int32", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        AssertSameDataFiles(tmp.Combine("cli"), tmp.Combine("fluent"), "train/part-00000.pbr", "validation/part-00000.pbr", "test/part-00000.pbr");

        var audit = await report.AuditAsync(new AuditOptions { GroupColumn = "speaker_id" });
        Assert.Equal(AuditStatus.Pass, audit.Check(AuditChecks.GroupOverlap)!.Status);
        var summaries = await report.InspectAsync("train");
        Assert.Equal(report.Splits["train"].Rows, Assert.Single(summaries).Records);
        var records = await report.ReadRecordsAsync("test", limit: 3);
        Assert.Equal(3, records.Count);
        Assert.Equal("int32", records[0].LabelDType);
    }

    [Fact]
    public async Task Noisy_clean_kfold_and_list_formats_map_like_the_cli()
    {
        using var tmp = new TempDir();
        var clean = Path.Combine(Paths.Repo, "sample-data", "speech", "clean.csv");
        var noisy = Path.Combine(Paths.Repo, "sample-data", "speech", "noisy.csv");
        await DataPrepPipeline.Read(clean).Drop("noise_db").SplitNoisyClean([noisy], groupBy: "speaker_id").WriteTable(tmp.Combine("fluent")).RunAsync();
        var r = CliRunner.Run("convert", clean, "--noisy", noisy, "--out", tmp.Combine("cli"), "--split", "noisy", "--group", "speaker_id", "--drop", "noise_db", "--format", "csv-header", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        AssertSameDataFiles(tmp.Combine("cli"), tmp.Combine("fluent"), "train/part-00000.csv", "validation/part-00000.csv", "test/part-00000.csv");

        await DataPrepPipeline.Read(Paths.SampleData("churn.csv")).Label("churn").Drop("customer_id").EncodeText(FeatureEncoding.Ordinal)
            .SplitRandom(0.8, 0.1, 0.1, stratifyBy: "churn").KFold(4).WriteLibSvm(tmp.Combine("kfold-fluent")).RunAsync();
        r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("kfold-cli"), "--label", "churn", "--drop", "customer_id", "--categorical", "ordinal",
            "--stratify", "churn", "--folds", "4", "--format", "libsvm", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var files = Directory.EnumerateFiles(tmp.Combine("kfold-cli"), "*.libsvm", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(tmp.Combine("kfold-cli"), f)).ToArray();
        Assert.Contains(Path.Combine("fold-3", "part-00000.libsvm"), files);
        AssertSameDataFiles(tmp.Combine("kfold-cli"), tmp.Combine("kfold-fluent"), files);
    }

    [Fact]
    public void Options_and_stages_of_the_new_methods()
    {
        var o = DataPrepPipeline.Read("a.csv").Label("y")
            .SplitByGroup("speaker", 0.7, 0.2, 0.1, stratifyBy: "y").StableAssignment().Like("old/_dataprep/run.json")
            .WriteTo("s3://bucket/prefix", "recordio-protobuf", overwrite: true, gzip: true, shards: new ShardOptions(Count: 4)).Options;
        Assert.Equal(SplitMethod.Group, o.SplitBy);
        Assert.Equal("speaker", o.GroupColumn);
        Assert.Equal((0.7, 0.2, 0.1), (o.Train, o.Validation, o.Test));
        Assert.Equal("y", o.Stratify);
        Assert.Equal(Assignment.Stable, o.Assignment);
        Assert.Equal("old/_dataprep/run.json", o.Like);
        Assert.Equal("s3://bucket/prefix", o.Output);
        Assert.Equal("recordio-protobuf", o.Format);
        Assert.True(o.Overwrite && o.Gzip);
        Assert.Equal(4, o.Shards.Count);

        var noisy = DataPrepPipeline.Read("clean.csv").NoLabel().SplitNoisyClean("is_noisy", NoisyApproach.MixedValidation, 0.3).Fractions(0.9, 0.1, 0).Options;
        Assert.Equal((SplitMethod.NoisyClean, "is_noisy", NoisyApproach.MixedValidation, 0.3), (noisy.SplitBy, noisy.NoisyColumn, noisy.NoisyApproach, noisy.NoisyValidation));
        Assert.Equal((0.9, 0.1, 0.0), (noisy.Train, noisy.Validation, noisy.Test));

        var one = DataPrepPipeline.Read("d.csv").SplitByTime("date", [DateTimeOffset.UnixEpoch.AddDays(100)]).Options;
        Assert.Equal((0.8, 0.0, 0.2), (one.Train, one.Validation, one.Test));   // one cut-off: train/test, as the CLI does

        var b = DataPrepPipeline.Read("d.csv").Label("demand").SplitByTime("date", 0.7, 0.15, 0.15, TimeSpan.FromDays(7)).WriteDeepAr("out", "product", ["product"]);
        var stages = b.Describe();
        Assert.Contains("split by time 'date' 0.7/0.15/0.15, gap 7.00:00:00", stages);
        Assert.Contains("DeepAR series 'product', cat product", stages);
        Assert.Contains(stages, s => s.StartsWith("split time 0.7/0.15/0.15", StringComparison.Ordinal) && s.EndsWith("input order", StringComparison.Ordinal));
        Assert.Equal("write DeepAR JSON Lines to out", stages[^1]);
        b.Build();   // valid: a time split, a series, a label
    }

    [Fact]
    public void The_last_write_decides_the_format()
    {
        Assert.Equal("csv", DataPrepPipeline.Read("a.csv").WriteRecordIO("o").WriteCsv("o").Options.Format);
        Assert.Equal("recordio-protobuf", DataPrepPipeline.Read("a.csv").WriteCsv("o").WriteRecordIO("o").Options.Format);
        Assert.Equal("jsonl", DataPrepPipeline.Read("a.csv").WriteJsonLines("o").Options.Format);
    }

    [Fact]
    public void Build_names_what_a_deepar_output_is_missing()
    {
        var e = Assert.Throws<PipelineValidationException>(() => DataPrepPipeline.Read("d.csv").Label("demand").WriteDeepAr("out", "product").Build());
        Assert.Contains(e.Problems, p => p.Contains("--format deepar needs a time split", StringComparison.Ordinal));
    }

    [Fact]
    public void Follow_up_steps_refuse_a_missing_split_and_a_remote_output()
    {
        var report = new RunReport { Output = "/tmp/x" };
        report.Splits["train"] = new SplitReport();
        Assert.Contains("no split 'test'", Assert.Throws<PipelineValidationException>(() => report.ShardPaths("test")).Message);
        report.Output = "s3://bucket/p";
        Assert.Contains("not a local folder", Assert.Throws<PipelineValidationException>(() => report.ShardPaths("train")).Message);
    }
}
