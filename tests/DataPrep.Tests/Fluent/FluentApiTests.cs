using DataPrep.Fluent;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Fluent;

public class FluentApiTests
{
    [Fact]
    public async Task The_readme_snippet_runs_and_matches_the_cli_byte_for_byte()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("fluent");
        var progress = new List<RunProgress>();

        // The README's snippet, verbatim apart from the paths.
        var report = await DataPrepPipeline
            .Read(Paths.SampleData("churn.csv"))
            .Label("churn")
            .Drop("customer_id")
            .Encode("plan", FeatureEncoding.OneHot)
            .Encode("region", FeatureEncoding.OneHot)
            .Shuffle(seed: 42)
            .SplitRandom(0.8, 0.1, 0.1)
            .WriteCsv(outDir, overwrite: true)
            .RunAsync(new SyncProgress(progress.Add));

        Assert.Equal(1600, report.Splits["train"].Rows);
        Assert.Contains(progress, p => p.Stage == "read" && p.Rows == 2000);

        var cliDir = tmp.Combine("cli");
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", cliDir, "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--quiet");
        Assert.Equal(0, r.Code);
        foreach (var split in new[] { "train", "validation", "test" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(cliDir, split, "part-00000.csv")), File.ReadAllBytes(Path.Combine(outDir, split, "part-00000.csv")));
        }
    }

    [Fact]
    public void Describe_lists_the_stages_and_build_freezes_the_builder()
    {
        var b = DataPrepPipeline.Read("a.csv").Label("y").Drop("id").Encode("c", FeatureEncoding.Ordinal).SplitRandom(0.7, 0.2, 0.1, stratifyBy: "y").WriteCsv("out");
        var stages = b.Describe();
        Assert.Equal("read a.csv", stages[0]);
        Assert.Contains("label 'y'", stages);
        Assert.Contains("drop id", stages);
        Assert.Contains("encode c ordinal", stages);
        Assert.Contains(stages, s => s.StartsWith("split 0.7/0.2/0.1 stratified by y, seed 42"));
        var job = b.Build();
        Assert.Equal(stages, job.Stages);
        Assert.Throws<InvalidOperationException>(() => b.Label("z"));
    }

    [Fact]
    public void Build_reports_every_problem_at_once()
    {
        var e = Assert.Throws<PipelineValidationException>(() => DataPrepPipeline.Read("a.csv").SplitRandom(0.5, 0.2, 0.2).Build());
        Assert.Contains(e.Problems, p => p.Contains("No output given"));
        Assert.Contains(e.Problems, p => p.Contains("sum to 0.9"));
        Assert.Contains(e.Problems, p => p.Contains("No label given"));
    }

    [Fact]
    public async Task Cancellation_stops_the_run_and_leaves_no_output()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("o");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DataPrepPipeline.Read(Paths.SampleData("churn.csv")).Label("churn").EncodeText(FeatureEncoding.Ordinal).WriteCsv(outDir).RunAsync(cancellationToken: cts.Token));
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
    }

    private sealed class SyncProgress(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
