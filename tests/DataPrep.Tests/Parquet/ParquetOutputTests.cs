using System.Security.Cryptography;
using System.Text.Json;
using DataPrep.Fluent;
using DataPrep.Output;
using DataPrep.Pipeline;
using static DataPrep.Tests.Parquet.ParquetOutputFiles;

namespace DataPrep.Tests.Parquet;

/// <summary>
/// <c>--format parquet</c> end to end through the CLI: the same rows, order and numbers as label-first CSV of the same
/// options (read back with Parquet.Net), the run record, lineage and channel files, and bytes that depend only on the
/// options (not on threads or batch sizes).
/// </summary>
public class ParquetOutputTests
{
    private static readonly string s_churn = Paths.SampleData("churn.csv");

    [Fact]
    public void Churn_parquet_holds_the_rows_and_numbers_of_the_csv_run()
    {
        using var tmp = new TempDir();
        string csv = tmp.Combine("csv"), parquet = tmp.Combine("parquet");
        RunConvert(s_churn, csv, [.. Churn, "--shard-rows", "700"]);
        RunConvert(s_churn, parquet, [.. Churn, "--shard-rows", "700", "--format", "parquet"]);

        var csvShards = Shards(csv);
        var parquetShards = Shards(parquet);
        Assert.Equal(["test", "train", "validation"], parquetShards.Keys.Order());
        Assert.Equal(csvShards.Keys.Order(), parquetShards.Keys.Order());
        foreach (var channel in csvShards.Keys)
        {
            // Same cuts (--shard-rows), each file part-NNNNN.parquet, and the same rows in the same order with the same numbers.
            Assert.Equal(csvShards[channel].Select(p => p.Replace(".csv", ".parquet", StringComparison.Ordinal)), parquetShards[channel]);
            Assert.Equal(ChannelLines(csv, channel), ChannelLines(parquet, channel));
            // The lineage sidecar is the CSV run's: same shards and records, and content_hash is XxHash3 of the row as CSV text.
            Assert.Equal(File.ReadAllText(Path.Combine(csv, "_dataprep", "lineage", channel + ".csv")), File.ReadAllText(Path.Combine(parquet, "_dataprep", "lineage", channel + ".csv")));
        }
        Assert.Equal([700, 700, 200], parquetShards["train"].Select(p => Read(Path.Combine(parquet, p)).Lines.Count));

        // Label first, named as the label column; one-hot columns named COLUMN=CATEGORY; integers INT64, the rest DOUBLE.
        var table = Read(Path.Combine(parquet, "train", "part-00000.parquet"));
        Assert.Equal(
            ["churn", "plan=basic", "plan=enterprise", "plan=plus", "plan=pro", "plan=<unseen>", "region=apac", "region=eu", "region=us", "region=<unseen>",
             "tenure_months", "monthly_spend", "support_calls", "autopay"],
            table.Columns.Select(c => c.Name));
        Assert.Equal(
            [typeof(long), .. Enumerable.Repeat(typeof(double), 9), typeof(long), typeof(double), typeof(long), typeof(long)],
            table.Columns.Select(c => c.Type));
        Assert.StartsWith("Parquet.Net version ", table.CreatedBy);

        // The run record: content type, every shard's rows, size and SHA-256 as written, label distributions as CSV's.
        var run = RunRecord(parquet);
        var csvRun = RunRecord(csv);
        Assert.Equal("application/x-parquet", run.GetProperty("contentType").GetString());
        foreach (var split in run.GetProperty("splits").EnumerateObject())
        {
            var format = split.Value.GetProperty("format");
            Assert.Equal("application/x-parquet", format.GetProperty("contentType").GetString());
            Assert.Equal(13, format.GetProperty("featureWidth").GetInt32());
            foreach (var shard in split.Value.GetProperty("shards").EnumerateArray())
            {
                var bytes = File.ReadAllBytes(Path.Combine(parquet, shard.GetProperty("path").GetString()!));
                Assert.Equal(bytes.Length, shard.GetProperty("bytes").GetInt64());
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), shard.GetProperty("sha256").GetString());
                Assert.Equal(Read(Path.Combine(parquet, shard.GetProperty("path").GetString()!)).Lines.Count, shard.GetProperty("rows").GetInt64());
                Assert.True(bytes.AsSpan(0, 4).SequenceEqual("PAR1"u8) && bytes.AsSpan(bytes.Length - 4).SequenceEqual("PAR1"u8));
            }
            Assert.Equal(csvRun.GetProperty("splits").GetProperty(split.Name).GetProperty("labelDistribution").GetRawText(), split.Value.GetProperty("labelDistribution").GetRawText());
            Assert.Equal($"_dataprep/lineage/{split.Name}.csv", split.Value.GetProperty("lineage").GetString());
        }

        // ManifestFiles list the Parquet objects; channels.json gives them SageMaker XGBoost's content type.
        Assert.Contains("\"train/part-00002.parquet\"", File.ReadAllText(Path.Combine(parquet, "_dataprep", "train.manifest")));
        using var channels = JsonDocument.Parse(File.ReadAllText(Path.Combine(parquet, "_dataprep", "channels.json")));
        Assert.All(channels.RootElement.GetProperty("channels").EnumerateObject(), c =>
        {
            Assert.Equal("application/x-parquet", c.Value.GetProperty("contentType").GetString());
            Assert.Equal("None", c.Value.GetProperty("compressionType").GetString());
        });
    }

    [Fact]
    public void Bytes_do_not_depend_on_threads_or_batch_rows_and_a_small_memory_budget_gives_several_row_groups()
    {
        using var tmp = new TempDir();
        string[][] variants =
        [
            ["--threads", "1", "--batch-rows", "97"],
            ["--threads", "2", "--batch-rows", "65536"],
            ["--threads", "2", "--batch-rows", "1000"],
        ];
        Dictionary<string, string>? expected = null;
        for (int v = 0; v < variants.Length; v++)
        {
            var outDir = tmp.Combine($"out-{v}");
            RunConvert(s_churn, outDir, [.. Churn, "--format", "parquet", "--memory", "1MB", "--temp", tmp.Path, .. variants[v]]);
            var hashes = RunOutputs.FileHashes(outDir);
            if (expected is null) expected = hashes;
            else Assert.Equal(expected, hashes);
        }
        // 1 MB for 3 channels of 14 columns gives the smallest row groups, 1,024 rows (ParquetFormatDefinition.RowGroupRows).
        var train = Read(tmp.Combine("out-0", "train", "part-00000.parquet"));
        Assert.Equal([1024, 576], train.RowGroups);

        // The default budget: one row group, the same rows.
        var whole = tmp.Combine("default");
        RunConvert(s_churn, whole, [.. Churn, "--format", "parquet"]);
        var one = Read(Path.Combine(whole, "train", "part-00000.parquet"));
        Assert.Equal([1600], one.RowGroups);
        Assert.Equal(train.Lines, one.Lines);
    }

    [Fact]
    public void No_label_writes_the_features_only()
    {
        using var tmp = new TempDir();
        string[] args = ["--no-label", "--drop", "customer_id,churn", "--encode", "plan=onehot,region=onehot"];
        RunConvert(s_churn, tmp.Combine("csv"), args);
        RunConvert(s_churn, tmp.Combine("parquet"), [.. args, "--format", "parquet"]);
        foreach (var channel in new[] { "train", "validation", "test" })
        {
            Assert.Equal(ChannelLines(tmp.Combine("csv"), channel), ChannelLines(tmp.Combine("parquet"), channel));
        }
        var table = Read(tmp.Combine("parquet", "train", "part-00000.parquet"));
        Assert.Equal("plan=basic", table.Columns[0].Name);
        Assert.DoesNotContain(table.Columns, c => c.Name == "churn");
        var run = RunRecord(tmp.Combine("parquet"));
        Assert.Equal("application/x-parquet", run.GetProperty("contentType").GetString());
        Assert.All(run.GetProperty("splits").EnumerateObject(), s => Assert.False(s.Value.TryGetProperty("labelDistribution", out var d) && d.ValueKind != JsonValueKind.Null));
    }

    [Fact]
    public void Kfold_writes_each_fold_once_with_fold_manifests()
    {
        using var tmp = new TempDir();
        RunConvert(s_churn, tmp.Combine("csv"), [.. Churn, "--folds", "3"]);
        RunConvert(s_churn, tmp.Combine("parquet"), [.. Churn, "--folds", "3", "--format", "parquet"]);
        var shards = Shards(tmp.Combine("parquet"));
        Assert.Equal(["fold-0", "fold-1", "fold-2", "test"], shards.Keys.Order());
        foreach (var channel in shards.Keys)
        {
            Assert.Equal(ChannelLines(tmp.Combine("csv"), channel), ChannelLines(tmp.Combine("parquet"), channel));
        }
        for (int k = 0; k < 3; k++)
        {
            var train = File.ReadAllText(tmp.Combine("parquet", "_dataprep", $"fold-{k}.train.manifest"));
            var validation = File.ReadAllText(tmp.Combine("parquet", "_dataprep", $"fold-{k}.validation.manifest"));
            Assert.Contains($"\"fold-{k}/part-00000.parquet\"", validation);
            Assert.DoesNotContain($"\"fold-{k}/", train);
            Assert.Equal(2, train.Split(".parquet\"").Length - 1);
        }
    }

    [Fact]
    public void A_split_without_rows_has_no_file_and_a_one_row_split_is_a_valid_file()
    {
        using var tmp = new TempDir();
        var input = tmp.File("tiny.csv", "x,flag,y\n" + string.Concat(Enumerable.Range(1, 10).Select(i => $"{i * 1.5},{(i % 2 == 0 ? "true" : "false")},{i % 2}\n")));
        string[] args = ["--label", "y", "--split", "90/10/0"];
        RunConvert(input, tmp.Combine("csv"), args);
        RunConvert(input, tmp.Combine("parquet"), [.. args, "--format", "parquet"]);
        // As CSV: no test channel, files or lineage for the empty split.
        Assert.Equal(Shards(tmp.Combine("csv")).Keys.Order(), Shards(tmp.Combine("parquet")).Keys.Order());
        Assert.Equal(["train", "validation"], Shards(tmp.Combine("parquet")).Keys.Order());
        Assert.False(Directory.Exists(tmp.Combine("parquet", "test")));
        Assert.False(File.Exists(tmp.Combine("parquet", "_dataprep", "lineage", "test.csv")));
        var validation = Read(tmp.Combine("parquet", "validation", "part-00000.parquet"));
        Assert.Equal([1], validation.RowGroups);
        Assert.Equal(ChannelLines(tmp.Combine("csv"), "validation"), validation.Lines);
        Assert.Equal(ChannelLines(tmp.Combine("csv"), "train"), ChannelLines(tmp.Combine("parquet"), "train"));
        // A boolean feature is INT64 0/1 (the encoder's output), so pandas' to_numpy() stays float64.
        Assert.Equal(("flag", typeof(long)), validation.Columns[2]);
    }

    [Theory]
    [InlineData("--shards 3", new[] { 3, 3, 3 })]
    [InlineData("--instances 2", new[] { 2, 2, 2 })]
    [InlineData("--shards 3 --instances 2", new[] { 4, 4, 4 })]
    public void Shard_counts_are_met_with_balanced_rows(string options, int[] counts)
    {
        using var tmp = new TempDir();
        RunConvert(s_churn, tmp.Combine("whole"), [.. Churn, "--format", "parquet"]);
        RunConvert(s_churn, tmp.Combine("sharded"), [.. Churn, "--format", "parquet", "--temp", tmp.Path, .. options.Split(' ')]);
        var shards = Shards(tmp.Combine("sharded"));
        Assert.Equal(counts, new[] { "train", "validation", "test" }.Select(c => shards[c].Count));
        foreach (var (channel, paths) in shards)
        {
            var rows = paths.Select(p => Read(tmp.Combine("sharded", p)).Lines.Count).ToList();
            Assert.True(rows.Max() - rows.Min() <= 1, $"{channel}: shards of {string.Join(", ", rows)} rows");
            // Cut where ShardRule cuts records of equal width (every Parquet row counts its uncompressed width).
            int total = rows.Sum();
            var rule = ShardRule.For(new ShardOptions(Count: rows.Count), channel, total, total, 1);
            Assert.Equal(Enumerable.Range(0, total).CountBy(i => rule.ShardOf(i, i, i + 1)).Select(kv => kv.Value), rows);
            Assert.Equal(ChannelLines(tmp.Combine("whole"), channel), ChannelLines(tmp.Combine("sharded"), channel));
        }
        // The spill folder is gone.
        Assert.Empty(Directory.GetDirectories(tmp.Path, "dataprep-spill-*"));
    }

    [Fact]
    public void Shard_size_cuts_shards_between_row_groups()
    {
        using var tmp = new TempDir();
        RunConvert(s_churn, tmp.Combine("out"), [.. Churn, "--format", "parquet", "--shard-size", "8KB"]);
        var train = Shards(tmp.Combine("out"))["train"];
        Assert.True(train.Count > 3, $"{train.Count} shards");
        Assert.All(train, p => Assert.True(new FileInfo(tmp.Combine("out", p)).Length <= 8192, $"{p} is {new FileInfo(tmp.Combine("out", p)).Length} bytes"));
        RunConvert(s_churn, tmp.Combine("whole"), [.. Churn, "--format", "parquet"]);
        Assert.Equal(ChannelLines(tmp.Combine("whole"), "train"), ChannelLines(tmp.Combine("out"), "train"));
    }

    [Fact]
    public void Gzip_is_refused_before_any_output()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run(["convert", s_churn, "--out", outDir, "--quiet", .. Churn, "--format", "parquet", "--compress", "gzip"]);
        Assert.NotEqual(0, r.Code);
        Assert.Contains("--compress gzip does not apply to --format parquet", r.Err);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Fluent_WriteParquet_writes_the_bytes_of_the_cli()
    {
        using var tmp = new TempDir();
        var builder = DataPrepPipeline.Read(s_churn).Label("churn").Drop("customer_id")
            .Encode("plan", FeatureEncoding.OneHot).Encode("region", FeatureEncoding.OneHot).Shuffle(7)
            .WriteParquet(tmp.Combine("fluent"));
        Assert.Equal("write Parquet to " + tmp.Combine("fluent"), builder.Describe()[^1]);
        await builder.RunAsync();
        RunConvert(s_churn, tmp.Combine("cli"), [.. Churn, "--format", "parquet"]);
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("cli")).Where(f => f.Key.EndsWith(".parquet", StringComparison.Ordinal) || f.Key.Contains("/lineage/", StringComparison.Ordinal)),
            RunOutputs.FileHashes(tmp.Combine("fluent")).Where(f => f.Key.EndsWith(".parquet", StringComparison.Ordinal) || f.Key.Contains("/lineage/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_notebook_reads_a_parquet_run_back_through_the_builders_registry()
    {
        using var tmp = new TempDir();
        var builder = DataPrepPipeline.Read(s_churn).Label("churn").Drop("customer_id")
            .Encode("plan", FeatureEncoding.OneHot).Encode("region", FeatureEncoding.OneHot).Shuffle(7)
            .WriteParquet(tmp.Combine("pq"));
        var report = await builder.RunAsync();
        var csv = await DataPrepPipeline.Read(s_churn).Label("churn").Drop("customer_id")
            .Encode("plan", FeatureEncoding.OneHot).Encode("region", FeatureEncoding.OneHot).Shuffle(7)
            .WriteCsv(tmp.Combine("csv")).RunAsync();

        var records = await report.ReadRecordsAsync("test", limit: 4, registry: builder.Registry);
        var expected = await csv.ReadRecordsAsync("test", limit: 4);
        Assert.Equal(4, records.Count);
        Assert.Equal(expected.Select(r => (r.Label![0], string.Join(',', r.Values))), records.Select(r => (r.Label![0], string.Join(',', r.Values))));
        var summaries = await report.InspectAsync("train", registry: builder.Registry);
        Assert.Equal(report.Splits["train"].Rows, summaries.Sum(s => s.Records));

        // Without the Parquet plug-in the message says what to add.
        var e = await Assert.ThrowsAsync<DataFormatException>(() => report.ReadRecordsAsync("test"));
        Assert.Contains("DataPrep.Parquet", e.Message);
    }

    [Fact]
    public void Help_lists_parquet_from_the_registry()
    {
        var r = CliRunner.Run("convert", "--help");
        Assert.Contains("parquet: Parquet, label first", r.Out);
    }
}
