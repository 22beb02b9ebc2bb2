using System.CommandLine;
using System.Text.Json;
using DataPrep.Cli;
using DataPrep.Inspect;
using DataPrep.Pipeline;
using DataPrep.Conversion;

namespace DataPrep.Tests.Parquet;

/// <summary><c>dataprep inspect</c> on Parquet shards: recognised by PAR1 and read by the Parquet output format's reader.</summary>
public class ParquetInspectTests
{
    private static CliRunner.Result Inspect(DataPrepRegistry registry, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand("test") { InspectCommand.Build(stdout, stderr, registry) };
        int code = root.Parse(["inspect", .. args]).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }).GetAwaiter().GetResult();
        return new CliRunner.Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The records of <c>inspect --output jsonl --limit 0</c>: record number, label and features as JSON text (the file left out).</summary>
    private static List<string> Records(string output)
        => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("record", out _))
            .Select(e => $"{e.GetProperty("record")}|{e.GetProperty("label").GetRawText()}|{e.GetProperty("features").GetRawText()}").ToList();

    private static JsonElement Summary(string output)
        => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)
            .Single(e => e.TryGetProperty("summary", out _)).GetProperty("summary");

    [Fact]
    public void A_parquet_shard_reads_as_the_csv_shard_of_the_same_run()
    {
        using var tmp = new TempDir();
        string csv = tmp.Combine("csv"), parquet = tmp.Combine("parquet");
        ParquetOutputFiles.RunConvert(Paths.SampleData("churn.csv"), csv, ParquetOutputFiles.Churn);
        ParquetOutputFiles.RunConvert(Paths.SampleData("churn.csv"), parquet, [.. ParquetOutputFiles.Churn, "--format", "parquet"]);
        var registry = DataPrepCli.CreateRegistry();
        foreach (var split in new[] { "train", "validation", "test" })
        {
            var fromCsv = Inspect(registry, Path.Combine(csv, split, "part-00000.csv"), "--output", "jsonl", "--limit", "0");
            var fromParquet = Inspect(registry, Path.Combine(parquet, split, "part-00000.parquet"), "--output", "jsonl", "--limit", "0");
            Assert.True(fromParquet.Code == 0, fromParquet.Err);
            Assert.Equal(Records(fromCsv.Out), Records(fromParquet.Out));
            Assert.NotEmpty(Records(fromParquet.Out));

            var summary = Summary(fromParquet.Out);
            Assert.Equal("parquet", summary.GetProperty("format").GetString());
            Assert.Equal("int64+float64", summary.GetProperty("dtype").GetString());
            Assert.Equal("int64", summary.GetProperty("labelDType").GetString());
            Assert.Equal("dense", summary.GetProperty("layout").GetString());
            var csvSummary = Summary(fromCsv.Out);
            Assert.Equal(csvSummary.GetProperty("records").GetInt64(), summary.GetProperty("records").GetInt64());
            Assert.Equal(csvSummary.GetProperty("featureWidth").GetInt64(), summary.GetProperty("featureWidth").GetInt64());
            Assert.Equal(csvSummary.GetProperty("labelCounts").GetRawText(), summary.GetProperty("labelCounts").GetRawText());
        }

        var table = Inspect(registry, Path.Combine(parquet, "train"), "--limit", "2");
        Assert.True(table.Code == 0, table.Err);
        Assert.Contains("part-00000.parquet (parquet)", table.Out);
        Assert.Contains("int64+float64, dense, width 13", table.Out);
        Assert.Contains("labels    int64, 2 distinct", table.Out);
    }

    [Fact]
    public void Parquet_is_detected_by_content_and_can_be_named()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        ParquetOutputFiles.RunConvert(Paths.SampleData("churn.csv"), outDir, "--no-label", "--drop", "customer_id,churn", "--encode", "plan=onehot,region=onehot", "--format", "parquet");
        var shard = Path.Combine(outDir, "test", "part-00000.parquet");
        Assert.Equal(ShardFormat.Parquet, ShardInspector.DetectFormat(shard));
        // The name tells nothing: detection reads the content.
        var renamed = tmp.Combine("shard.bin");
        File.Copy(shard, renamed);
        var registry = DataPrepCli.CreateRegistry();
        var r = Inspect(registry, renamed, "--format", "parquet", "--no-label", "--summary", "--output", "jsonl");
        Assert.True(r.Code == 0, r.Err);
        var summary = Summary(r.Out);
        Assert.Equal("parquet", summary.GetProperty("format").GetString());
        Assert.Equal(0, summary.GetProperty("labeledRecords").GetInt64());
        Assert.Equal(13, summary.GetProperty("featureWidth").GetInt64()); // no column taken as the label
        Assert.Equal(Inspect(registry, renamed, "--no-label", "--summary", "--output", "jsonl").Out, r.Out);
    }

    [Fact]
    public async Task Without_the_parquet_plug_in_inspect_names_it()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        ParquetOutputFiles.RunConvert(Paths.SampleData("churn.csv"), outDir, [.. ParquetOutputFiles.Churn, "--format", "parquet"]);
        var shard = Path.Combine(outDir, "test", "part-00000.parquet");
        var r = Inspect(new DataPrepRegistry(), shard);
        Assert.Equal(3, r.Code);
        Assert.Contains("is a Parquet file, which the core does not read", r.Err);
        Assert.Contains("add the plug-in DataPrep.Parquet (registry.AddParquet()) to the registry", r.Err);

        var e = await Assert.ThrowsAsync<DataFormatException>(async () => await ShardInspector.ReadAsync(shard).ToListAsync());
        Assert.Contains("DataPrep.Parquet", e.Message);
    }
}
