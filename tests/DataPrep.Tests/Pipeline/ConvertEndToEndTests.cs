using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Pipeline;

/// <summary>The real CLI on real files: layout, run record, lineage, determinism, apply.</summary>
public class ConvertEndToEndTests
{
    private static string[] DataFiles(string root) => Directory.GetFiles(root, "*", SearchOption.AllDirectories)
        .Where(f => !f.Contains(Path.Combine(root, "_dataprep"), StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

    private static JsonDocument RunRecord(string root) => JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "_dataprep", "run.json")));

    private static string Churn(TempDir tmp, string name, params string[] extra)
    {
        var outDir = tmp.Combine(name);
        var r = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=ordinal", "--quiet", .. extra]);
        Assert.True(r.Code == 0, r.Err);
        return outDir;
    }

    [Fact]
    public void Churn_sample_gives_exact_splits_label_first_files_and_a_run_record()
    {
        using var tmp = new TempDir();
        var root = Churn(tmp, "out");
        Assert.Equal(
            ["test/part-00000.csv", "train/part-00000.csv", "validation/part-00000.csv"],
            DataFiles(root).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')));
        var lines = new Dictionary<string, string[]>();
        foreach (var split in new[] { "train", "validation", "test" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(root, split, "part-00000.csv"));
            Assert.False(bytes.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }), "no BOM");
            Assert.DoesNotContain((byte)'\r', bytes);
            Assert.Equal((byte)'\n', bytes[^1]);
            lines[split] = Encoding.UTF8.GetString(bytes).TrimEnd('\n').Split('\n');
        }
        Assert.Equal([1600, 200, 200], new[] { lines["train"].Length, lines["validation"].Length, lines["test"].Length });
        // label (0/1) + plan one-hot (4 plans + unseen) + region ordinal + 4 numeric/bool features = 11 columns.
        Assert.All(lines.Values.SelectMany(l => l), l => Assert.Equal(11, l.Split(',').Length));
        Assert.All(lines.Values.SelectMany(l => l), l => Assert.Contains(l.Split(',')[0], new[] { "0", "1" }));

        using var run = RunRecord(root);
        var r = run.RootElement;
        Assert.Equal("text/csv", r.GetProperty("contentType").GetString());
        Assert.Equal(["no", "yes"], r.GetProperty("encoding").GetProperty("label").GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["basic", "enterprise", "plus", "pro"], r.GetProperty("encoding").GetProperty("features")[0].GetProperty("vocabulary").EnumerateArray().Select(e => e.GetString()));
        var train = r.GetProperty("splits").GetProperty("train");
        Assert.Equal(1600, train.GetProperty("rows").GetInt64());
        var shard = train.GetProperty("shards")[0];
        var file = Path.Combine(root, shard.GetProperty("path").GetString()!);
        Assert.Equal(new FileInfo(file).Length, shard.GetProperty("bytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))), shard.GetProperty("sha256").GetString());
        var labels = train.GetProperty("labelDistribution");
        Assert.Equal(1600, labels.GetProperty("0").GetInt64() + labels.GetProperty("1").GetInt64());
        Assert.Equal(2000, r.GetProperty("summary").GetProperty("rowsRead").GetInt64());
        Assert.Equal(42UL, r.GetProperty("seed").GetUInt64());
        Assert.Matches("^[0-9a-f]{16}$", r.GetProperty("inputs")[0].GetProperty("xxHash3").GetString()!);
        Assert.False(Directory.EnumerateDirectories(root, ".dataprep-staging-*").Any(), "staging folder removed");
    }

    [Fact]
    public void Lineage_maps_every_output_line_to_its_source_row_once()
    {
        using var tmp = new TempDir();
        var root = Churn(tmp, "out");
        var seen = new HashSet<long>();
        foreach (var split in new[] { "train", "validation", "test" })
        {
            var lineage = File.ReadAllLines(Path.Combine(root, "_dataprep", "lineage", split + ".csv"));
            Assert.Equal("row_id,source,source_row,shard,record,content_hash", lineage[0]);
            var data = File.ReadAllText(Path.Combine(root, split, "part-00000.csv")).TrimEnd('\n').Split('\n');
            Assert.Equal(data.Length, lineage.Length - 1);
            for (int i = 1; i < lineage.Length; i++)
            {
                var f = lineage[i].Split(',');
                Assert.True(seen.Add(long.Parse(f[2])), "a source row appears once");
                Assert.Equal(i - 1, int.Parse(f[4]));
                var hash = System.IO.Hashing.XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(data[i - 1]));
                Assert.Equal(hash.ToString("x16"), f[5]);
            }
        }
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), seen.Order());
    }

    [Fact]
    public void Stratified_split_keeps_each_class_within_one_row_of_its_share()
    {
        using var tmp = new TempDir();
        var root = Churn(tmp, "out", "--stratify", "churn", "--split", "70/15/15");
        using var run = RunRecord(root);
        var splits = run.RootElement.GetProperty("splits");
        long total0 = 0, total1 = 0;
        foreach (var s in new[] { "train", "validation", "test" })
        {
            total0 += splits.GetProperty(s).GetProperty("labelDistribution").GetProperty("0").GetInt64();
            total1 += splits.GetProperty(s).GetProperty("labelDistribution").GetProperty("1").GetInt64();
        }
        foreach (var (s, f) in new[] { ("train", 0.7), ("validation", 0.15), ("test", 0.15) })
        {
            var d = splits.GetProperty(s).GetProperty("labelDistribution");
            Assert.True(Math.Abs(d.GetProperty("0").GetInt64() - total0 * f) < 1 + 1e-9);
            Assert.True(Math.Abs(d.GetProperty("1").GetInt64() - total1 * f) < 1 + 1e-9);
        }
    }

    /// <summary>The determinism rule: same seed and inputs give byte-identical data files whatever the threads and batch size.</summary>
    [Property(MaxTest = 6)]
    public Property Output_bytes_do_not_depend_on_threads_or_batch_size(PositiveInt batch, bool oneThread)
    {
        using var tmp = new TempDir();
        var baseline = Churn(tmp, "a", "--threads", "2", "--batch-rows", "65536");
        var other = Churn(tmp, "b", "--threads", oneThread ? "1" : "2", "--batch-rows", (batch.Get % 700 + 1).ToString());
        var a = DataFiles(baseline).Select(File.ReadAllBytes).ToList();
        var b = DataFiles(other).Select(File.ReadAllBytes).ToList();
        var la = Directory.GetFiles(Path.Combine(baseline, "_dataprep", "lineage")).Order().Select(File.ReadAllBytes);
        var lb = Directory.GetFiles(Path.Combine(other, "_dataprep", "lineage")).Order().Select(File.ReadAllBytes);
        return (a.Count == b.Count && a.Zip(b).All(p => p.First.AsSpan().SequenceEqual(p.Second))
                && la.Zip(lb).All(p => p.First.AsSpan().SequenceEqual(p.Second))).ToProperty();
    }

    [Fact]
    public void Another_seed_gives_another_order_and_no_shuffle_keeps_input_order()
    {
        using var tmp = new TempDir();
        var a = File.ReadAllText(Path.Combine(Churn(tmp, "a"), "train", "part-00000.csv"));
        var b = File.ReadAllText(Path.Combine(Churn(tmp, "b", "--seed", "7"), "train", "part-00000.csv"));
        Assert.NotEqual(a, b);
        var c = Churn(tmp, "c", "--no-shuffle");
        var rows = File.ReadAllLines(Path.Combine(c, "_dataprep", "lineage", "train.csv")).Skip(1).Select(l => long.Parse(l.Split(',')[2])).ToList();
        Assert.Equal(rows.Order(), rows);
    }

    [Fact]
    public void Shards_by_count_rows_and_gzip()
    {
        using var tmp = new TempDir();
        var byCount = Churn(tmp, "count", "--shards", "3");
        var sizes = Directory.GetFiles(Path.Combine(byCount, "train")).Select(f => new FileInfo(f).Length).ToArray();
        Assert.Equal(3, sizes.Length);
        Assert.True(sizes.Max() - sizes.Min() < 200, $"balanced by bytes: {string.Join(",", sizes)}");

        var byRows = Churn(tmp, "rows", "--shard-rows", "500");
        Assert.Equal(4, Directory.GetFiles(Path.Combine(byRows, "train")).Length);
        Assert.Equal(500, File.ReadAllLines(Path.Combine(byRows, "train", "part-00000.csv")).Length);

        var gz = Churn(tmp, "gz", "--compress", "gzip");
        var plain = File.ReadAllBytes(Path.Combine(Churn(tmp, "plain"), "train", "part-00000.csv"));
        using var s = new GZipStream(File.OpenRead(Path.Combine(gz, "train", "part-00000.csv.gz")), CompressionMode.Decompress);
        var ms = new MemoryStream();
        s.CopyTo(ms);
        Assert.Equal(plain, ms.ToArray());
    }

    [Fact]
    public void Unsupervised_output_has_features_only()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("o");
        var r = CliRunner.Run("convert", Paths.SampleData("sensors.csv.gz"), "--out", outDir, "--no-label", "--drop", "label", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(10, File.ReadLines(Path.Combine(outDir, "train", "part-00000.csv")).First().Split(',').Length);
        using var run = RunRecord(outDir);
        Assert.Equal("text/csv;label_size=0", run.RootElement.GetProperty("contentType").GetString());
    }

    [Fact]
    public void Several_inputs_by_pattern_are_one_dataset_with_distinct_row_ids()
    {
        using var tmp = new TempDir();
        tmp.File("in/a.csv", "y,x\n1,0.5\n0,1.5\n1,2\n");
        tmp.File("in/b.csv", "y,x\n0,7\n1,8\n");
        var outDir = tmp.Combine("o");
        var r = CliRunner.Run("convert", tmp.Combine("in", "*.csv"), "--out", outDir, "--label", "y", "--split", "60/20/20", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        using var run = RunRecord(outDir);
        Assert.Equal(2, run.RootElement.GetProperty("inputs").GetArrayLength());
        var all = new[] { "train", "validation", "test" }.SelectMany(s => File.ReadAllLines(Path.Combine(outDir, s, "part-00000.csv"))).Order().ToArray();
        Assert.Equal(["0,1.5", "0,7", "1,0.5", "1,2", "1,8"], all);
    }

    [Fact]
    public void Parquet_written_by_duckdb_converts_like_any_input()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("pq");
        var r = CliRunner.Run("convert", Paths.Fixture("parquet", "dict.parquet"), "--out", outDir, "--label", "bucket",
            "--drop", "id", "--categorical", "onehot", "--missing", "fill:unknown", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var expected = File.ReadAllLines(Paths.Fixture("parquet", "expected-dict.jsonl")).Length;
        var lines = new[] { "train", "validation", "test" }.SelectMany(s => File.ReadAllLines(Path.Combine(outDir, s, "part-00000.csv"))).ToList();
        Assert.Equal(expected, lines.Count);
        using var run = RunRecord(outDir);
        var vocabulary = run.RootElement.GetProperty("encoding").GetProperty("features")[0].GetProperty("vocabulary").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("unknown", vocabulary);
        // label + one-hot width (vocabulary + unseen column)
        Assert.All(lines, l => Assert.Equal(1 + vocabulary.Count + 1, l.Split(',').Length));
    }

    [Fact]
    public void Demand_sample_with_dates_as_epoch_seconds_and_products_one_hot()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("demand");
        var r = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", outDir, "--label", "demand",
            "--timestamps", "epoch", "--encode", "product=onehot", "--no-shuffle", "--split", "100/0/0", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var first = File.ReadLines(Path.Combine(outDir, "train", "part-00000.csv")).First().Split(',');
        var source = File.ReadLines(Paths.SampleData("demand.csv")).Skip(1).First().Split(',');
        Assert.Equal(source[^1], first[0]);                                   // label = demand
        Assert.Equal("1704067200", first[1]);                                  // 2024-01-01T00:00:00Z
        Assert.Equal(["1", "0", "0", "0", "0", "0"], first[2..8]);             // P001 of P001..P005 + unseen
        Assert.Equal(source[3] == "true" ? "1" : "0", first[9]);               // promo → 0/1
        Assert.Equal(3655, File.ReadLines(Path.Combine(outDir, "train", "part-00000.csv")).Count());
    }

    [Fact]
    public void RecordIO_protobuf_output_records_dtype_width_and_sparsity_per_split()
    {
        using var tmp = new TempDir();
        var root = Churn(tmp, "rec", "--format", "recordio-protobuf", "--shards", "2");
        Assert.Equal(2, Directory.GetFiles(Path.Combine(root, "train"), "part-*.pbr").Length);
        using var run = RunRecord(root);
        Assert.Equal("application/x-recordio-protobuf", run.RootElement.GetProperty("contentType").GetString());
        var format = run.RootElement.GetProperty("splits").GetProperty("validation").GetProperty("format");
        // plan one-hot (4 plans + unseen) + region ordinal + 4 numeric/boolean columns
        Assert.Equal(10, format.GetProperty("featureWidth").GetInt32());
        Assert.True(format.GetProperty("sparse").GetBoolean());
        Assert.Equal("float32", format.GetProperty("dtype").GetString());
        // Every record starts with the magic word; the file is a whole number of 4-byte words.
        foreach (var f in Directory.GetFiles(root, "*.pbr", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(f);
            Assert.Equal(0xCED7230Au, BitConverter.ToUInt32(bytes, 0));
            Assert.Equal(0, bytes.Length % 4);
        }
    }

    [Fact]
    public void LibSvm_files_of_different_widths_become_one_sparse_dataset()
    {
        using var tmp = new TempDir();
        var a = tmp.File("a.libsvm", "1 qid:3 1:0.5 3:2\n0 qid:3 2:1.5\n");
        var b = tmp.File("b.libsvm", "1 1:1 5:2\n");
        var outDir = tmp.Combine("o");
        var r = CliRunner.Run("convert", a, b, "--out", outDir, "--label", "label", "--split", "100/0/0", "--no-shuffle", "--format", "libsvm", "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1 1:0.5 3:2", "0 2:1.5", "1 1:1 5:2"], File.ReadAllLines(Path.Combine(outDir, "train", "part-00000.libsvm")));
        using var report = JsonDocument.Parse(r.Out);
        Assert.Contains("ignored 2 qid: tokens", report.RootElement.GetProperty("warnings")[0].GetString());
        using var run = RunRecord(outDir);
        Assert.Equal(5, run.RootElement.GetProperty("splits").GetProperty("train").GetProperty("format").GetProperty("featureWidth").GetInt32());
        Assert.Equal("text/libsvm", run.RootElement.GetProperty("contentType").GetString());
    }

    [Fact]
    public void Inputs_are_matched_by_column_name_and_a_column_only_some_have_must_be_dropped()
    {
        using var tmp = new TempDir();
        var a = tmp.File("a.csv", "y,x\n1,0.5\n0,1.5\n");
        var b = tmp.File("b.csv", "x,y,extra\n2.5,1,9\n");
        var refused = CliRunner.Run("convert", a, b, "--out", tmp.Combine("r"), "--label", "y", "--quiet");
        Assert.Equal(2, refused.Code);
        Assert.Contains("a.csv has no column 'extra'", refused.Err);
        Assert.Contains("--drop extra", refused.Err);
        var outDir = tmp.Combine("o");
        var r = CliRunner.Run("convert", a, b, "--out", outDir, "--label", "y", "--drop", "extra", "--split", "100/0/0", "--no-shuffle", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,0.5", "0,1.5", "1,2.5"], File.ReadAllLines(Path.Combine(outDir, "train", "part-00000.csv")));
    }

    [Fact]
    public void Missing_values_can_be_dropped_or_filled_and_are_counted()
    {
        using var tmp = new TempDir();
        var input = tmp.File("m.csv", "y,x,c\n1,,a\n0,2,\n1,4,b\n0,6,a\n1,8,b\n");
        var dropped = tmp.Combine("d");
        Assert.Equal(0, CliRunner.Run("convert", input, "--out", dropped, "--label", "y", "--encode", "c=ordinal", "--missing", "drop", "--split", "100/0/0", "--quiet").Code);
        using (var run = RunRecord(dropped))
        {
            Assert.Equal(3, run.RootElement.GetProperty("splits").GetProperty("train").GetProperty("rows").GetInt64());
            var reasons = run.RootElement.GetProperty("summary").GetProperty("dropped");
            Assert.Equal(1, reasons.GetProperty("missing value in 'x'").GetInt64());
            Assert.Equal(1, reasons.GetProperty("missing value in 'c'").GetInt64());
        }
        var filled = tmp.Combine("f");
        var r = CliRunner.Run("convert", input, "--out", filled, "--label", "y", "--encode", "c=ordinal", "--missing", "fill:0", "--split", "100/0/0", "--no-shuffle", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        // c: vocabulary [0 (the fill), a, b] → a=1, b=2; the fill value "0" is a category learned from train.
        Assert.Equal(["1,0,1", "0,2,0", "1,4,2", "0,6,1", "1,8,2"], File.ReadAllLines(Path.Combine(filled, "train", "part-00000.csv")));
    }

    [Fact]
    public void Apply_encodes_new_data_with_the_maps_of_the_run()
    {
        using var tmp = new TempDir();
        var root = Churn(tmp, "train");
        var fresh = tmp.File("new.csv", "customer_id,plan,region,tenure_months,monthly_spend,support_calls,autopay\nC9,pro,us,12,50.5,1,true\nC10,platinum,mars,1,9.99,0,false\n");
        var outDir = tmp.Combine("applied");
        var r = CliRunner.Run("apply", "--run", Path.Combine(root, "_dataprep", "run.json"), fresh, "--out", outDir, "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var lines = File.ReadAllLines(Path.Combine(outDir, "data", "part-00000.csv"));
        // plan one-hot [basic, enterprise, plus, pro, unseen]; region ordinal [apac, eu, us] with unseen = 3.
        Assert.Equal(["0,0,0,1,0,2,12,50.5,1,1", "0,0,0,0,1,3,1,9.99,0,0"], lines);
        using var run = RunRecord(outDir);
        Assert.Equal("text/csv;label_size=0", run.RootElement.GetProperty("contentType").GetString());
    }

    [Fact]
    public void Apply_reads_a_run_record_written_before_shard_rows_replaced_the_size_limit()
    {
        using var tmp = new TempDir();
        var root = Churn(tmp, "train", "--shard-rows", "500");
        var runJson = Path.Combine(root, "_dataprep", "run.json");
        var shards = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(runJson))!["options"]!["shards"]!.AsObject();
        Assert.Equal(500, shards["maxRows"]!.GetValue<long>());
        Assert.False(shards.ContainsKey("maxBytes"), "--shard-rows alone leaves the size limit unset");
        // Earlier versions wrote the 64 MiB default next to the row limit, which options now refuse as both given.
        var old = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(runJson))!;
        old["options"]!["shards"]!["maxBytes"] = 64L << 20;
        File.WriteAllText(runJson, old.ToJsonString());
        var fresh = tmp.File("new.csv", "customer_id,plan,region,tenure_months,monthly_spend,support_calls,autopay\nC9,pro,us,12,50.5,1,true\n");
        var outDir = tmp.Combine("applied");
        var r = CliRunner.Run("apply", "--run", runJson, fresh, "--out", outDir, "--quiet");
        Assert.True(r.Code == 0, r.Err);
        using var run = RunRecord(outDir);
        var applied = run.RootElement.GetProperty("options").GetProperty("shards");
        Assert.Equal(500, applied.GetProperty("maxRows").GetInt64());
        Assert.False(applied.TryGetProperty("maxBytes", out _));
    }
}
