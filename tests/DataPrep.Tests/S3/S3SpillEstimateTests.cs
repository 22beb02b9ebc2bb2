using System.Globalization;
using System.Text;
using DataPrep.Cli;
using DataPrep.Pipeline;

namespace DataPrep.Tests.S3;

/// <summary>
/// A run foresees a spill from its inputs' sizes, S3 objects included (one HEAD each): a run whose split will spill
/// keeps no row text (which would only be parsed again for the spill, and held against <c>--memory</c> meanwhile), unless
/// the writer copies it (label-first CSV): then the split spills the text itself.
/// </summary>
[Collection("moto")]
public sealed class S3SpillEstimateTests(MotoServer moto)
{
    [Fact]
    public void An_S3_input_over_the_budget_is_foreseen_to_spill_and_keeps_no_row_text()
    {
        using var tmp = new TempDir();
        var sb = new StringBuilder("y,a,b,c\n");
        for (int i = 0; i < 3000; i++) sb.Append(CultureInfo.InvariantCulture, $"{i % 3},{i * 0.25},{(i % 7) - 3.5},{i % 11 * 1.5e-3}\n");
        var text = sb.ToString();
        var bucket = moto.NewBucket("estimate");
        using (var client = moto.Client()) S3Data.PutText(client, bucket, "in/data.csv", text);
        var input = $"s3://{bucket}/in/data.csv";

        var registry = DataPrepCli.CreateRegistry();
        var files = registry.Stores.Inputs(new S3Options { EndpointUrl = moto.Endpoint });
        Assert.Equal(Encoding.UTF8.GetByteCount(text), SpillFolder.EstimatedBytes([input], files));
        Assert.Equal(0, SpillFolder.EstimatedBytes([input]));   // without the run's files a remote input is not asked

        var local = tmp.File("data.csv", text);
        foreach (var format in new[] { "csv", "recordio-protobuf" })
        {
            string[] common = ["--label", "y", "--format", format, "--seed", "3", "--json"];
            var expected = tmp.Combine($"expected-{format}");
            Assert.Equal(0, CliRunner.Run(["convert", local, "--out", expected, .. common]).Code);

            // Under a 64 KB budget the split spills: the run saw it coming and parsed each field once, into its value; or,
            // for CSV, kept each row's text and spilled it in place of the features.
            var spilled = DataPrepCli.CreateRegistry();
            var small = tmp.Combine($"small-{format}");
            Succeeds(CliRunner.Run(spilled, ["convert", input, "--out", small, "--endpoint-url", moto.Endpoint, "--memory", "64KB", .. common]));
            Assert.True(spilled.Diagnostics.Spills >= 1, "the run was meant to spill");
            Assert.Equal(format == "csv" ? 1 : 0, spilled.Diagnostics.RowTextKept);
            Assert.Equal(format == "csv" ? 1 : 0, spilled.Diagnostics.TextSpills);

            // With room to spare the rows keep their text, which the writer copies.
            var roomy = DataPrepCli.CreateRegistry();
            var big = tmp.Combine($"big-{format}");
            Succeeds(CliRunner.Run(roomy, ["convert", input, "--out", big, "--endpoint-url", moto.Endpoint, .. common]));
            Assert.Equal(0, roomy.Diagnostics.Spills);
            Assert.Equal(1, roomy.Diagnostics.RowTextKept);

            var want = DataFiles(expected);
            Assert.NotEmpty(want);
            Assert.Equal(want, DataFiles(small));
            Assert.Equal(want, DataFiles(big));
        }
    }

    /// <summary>The shards' hashes (lineage names the input, which differs between a local and an S3 input).</summary>
    private static Dictionary<string, string> DataFiles(string outDir)
        => RunOutputs.FileHashes(outDir).Where(kv => !kv.Key.StartsWith("_dataprep/", StringComparison.Ordinal)).ToDictionary();

    private static void Succeeds(CliRunner.Result r) => Assert.True(r.Code == 0, r.Err);
}
