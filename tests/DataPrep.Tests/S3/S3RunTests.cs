using System.Text.RegularExpressions;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Output;

namespace DataPrep.Tests.S3;

/// <summary>
/// An earlier run on S3 serves <c>apply --run</c>, <c>convert --like</c> and <c>inspect</c> exactly as the same run in
/// a local folder does (issue 16): the same bytes out, the same inspect output but for the path text, the same error
/// for a run that is not there. Against moto.
/// </summary>
[Collection("moto")]
[Trait(NativePass.Name, NativePass.Value)]
public sealed class S3RunTests(MotoServer moto)
{
    private static readonly string[] s_churn = ["--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--quiet"];

    private CliRunner.Result Remote(params string[] args) => CliRunner.Run([.. args, "--endpoint-url", moto.Endpoint]);

    /// <summary>A local run of <paramref name="args"/>, uploaded as it is to <c>s3://BUCKET/PREFIX</c>; returns the local folder.</summary>
    private static string LocalRunUploaded(TempDir tmp, IAmazonS3 client, string bucket, string prefix, string name, params string[] args)
    {
        var dir = tmp.Combine(name);
        var r = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", dir, .. args]);
        Assert.True(r.Code == 0, r.Err);
        Upload(client, bucket, prefix, dir);
        return dir;
    }

    /// <summary>Uploads every file of a local folder under <paramref name="prefix"/>, relative paths kept.</summary>
    private static void Upload(IAmazonS3 client, string bucket, string prefix, string dir)
    {
        foreach (var (rel, bytes) in S3Data.Local(dir))
        {
            using var m = new MemoryStream(bytes);
            client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = prefix + rel, InputStream = m }).GetAwaiter().GetResult();
        }
    }

    /// <summary>The table printer's rules (── path (format) ───…) pad to the console width, so their length follows the path's.</summary>
    private static string SameRules(string text) => Regex.Replace(text, "─{2,}$", "─", RegexOptions.Multiline);

    [Fact]
    public void Apply_with_a_run_on_S3_by_prefix_or_run_json_writes_the_bytes_of_apply_with_the_local_run()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("apply");
        using var client = moto.Client();
        var run = LocalRunUploaded(tmp, client, bucket, "runs/churn/", "run", s_churn);
        S3Data.Put(client, bucket, "new/churn.csv", Paths.SampleData("churn.csv"));

        var local = CliRunner.Run("apply", "--run", Path.Combine(run, "_dataprep", "run.json"), Paths.SampleData("churn.csv"), "--out", tmp.Combine("local"), "--quiet");
        Assert.True(local.Code == 0, local.Err);
        var expected = S3Data.DataOnly(S3Data.Local(tmp.Combine("local")));
        Assert.Contains("data/part-00000.csv", expected.Keys);

        // The run's prefix (with and without '/'), its _dataprep/ folder and its run.json all name the same record.
        string[] forms = [$"s3://{bucket}/runs/churn/", $"s3://{bucket}/runs/churn", $"s3://{bucket}/runs/churn/_dataprep/", $"s3://{bucket}/runs/churn/_dataprep/run.json"];
        for (int i = 0; i < forms.Length; i++)
        {
            var r = Remote("apply", "--run", forms[i], Paths.SampleData("churn.csv"), "--out", tmp.Combine($"remote-{i}"), "--quiet");
            Assert.True(r.Code == 0, $"{forms[i]}: {r.Err}");
            S3Data.AssertSameBytes(expected, S3Data.DataOnly(S3Data.Local(tmp.Combine($"remote-{i}"))));
        }

        // Everything on S3: the run, the input and the output.
        var all = Remote("apply", "--run", forms[0], $"s3://{bucket}/new/churn.csv", "--out", $"s3://{bucket}/applied/", "--quiet");
        Assert.True(all.Code == 0, all.Err);
        S3Data.AssertSameBytes(expected, S3Data.DataOnly(S3Data.Download(client, bucket, "applied/")));
    }

    [Fact]
    public void Apply_accepts_the_local_run_folder_too()
    {
        using var tmp = new TempDir();
        var run = tmp.Combine("run");
        Assert.Equal(0, CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", run, .. s_churn]).Code);
        Assert.Equal(0, CliRunner.Run("apply", "--run", Path.Combine(run, "_dataprep", "run.json"), Paths.SampleData("churn.csv"), "--out", tmp.Combine("by-record"), "--quiet").Code);
        var expected = S3Data.DataOnly(S3Data.Local(tmp.Combine("by-record")));
        string[] forms = [run, run + "/", Path.Combine(run, "_dataprep")];
        for (int i = 0; i < forms.Length; i++)
        {
            var r = CliRunner.Run("apply", "--run", forms[i], Paths.SampleData("churn.csv"), "--out", tmp.Combine($"by-folder-{i}"), "--quiet");
            Assert.True(r.Code == 0, $"{forms[i]}: {r.Err}");
            S3Data.AssertSameBytes(expected, S3Data.DataOnly(S3Data.Local(tmp.Combine($"by-folder-{i}"))));
        }
    }

    [Fact]
    public void Like_with_a_run_written_to_S3_writes_the_bytes_of_like_with_the_local_run()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("like");
        var first = tmp.File("first.csv", string.Join('\n', File.ReadLines(Paths.SampleData("churn.csv")).Take(1201)) + "\n");
        string[] v1 = [.. s_churn, "--seed", "5", "--split", "70/15/15"];
        Assert.Equal(0, CliRunner.Run(["convert", first, "--out", tmp.Combine("v1"), .. v1]).Code);
        var written = Remote(["convert", first, "--out", $"s3://{bucket}/v1/", .. v1]);
        Assert.True(written.Code == 0, written.Err);

        // The second run takes its seed, fractions, classes and category maps from the first (no --seed, --split, --encode here):
        // without them it writes other bytes.
        string[] v2 = ["--quiet"];
        var local = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("v2-local"), "--like", Path.Combine(tmp.Combine("v1"), "_dataprep", "run.json"), .. v2]);
        Assert.True(local.Code == 0, local.Err);
        var expected = S3Data.DataOnly(S3Data.Local(tmp.Combine("v2-local")));
        var plain = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("v2-plain"), .. s_churn]);
        Assert.True(plain.Code == 0, plain.Err);
        Assert.NotEqual(expected["train/part-00000.csv"], S3Data.Local(tmp.Combine("v2-plain"))["train/part-00000.csv"]);

        string[] forms = [$"s3://{bucket}/v1/", $"s3://{bucket}/v1/_dataprep/run.json"];
        for (int i = 0; i < forms.Length; i++)
        {
            var r = Remote(["convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine($"v2-remote-{i}"), "--like", forms[i], .. v2]);
            Assert.True(r.Code == 0, $"{forms[i]}: {r.Err}");
            S3Data.AssertSameBytes(expected, S3Data.DataOnly(S3Data.Local(tmp.Combine($"v2-remote-{i}"))));
        }
    }

    [Fact]
    public void Inspect_of_a_run_on_S3_prints_what_inspect_of_the_local_run_prints()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("inspect");
        using var client = moto.Client();
        // The table printer truncates titles (which hold the run's path) at 120 columns, so the S3 prefix is padded to
        // the local path's length: the comparison then holds whatever TMPDIR's length.
        var pad = tmp.Combine("rec").Length - $"s3://{bucket}/".Length - "/rec".Length;
        Assert.True(pad >= 1, $"the temp path {tmp.Combine("rec")} is shorter than the S3 prefix");
        var key = new string('p', pad) + "/rec";
        var run = LocalRunUploaded(tmp, client, bucket, key + "/", "rec", [.. s_churn, "--format", "recordio-protobuf", "--compress", "gzip", "--shard-rows", "700"]);
        var prefix = $"s3://{bucket}/{key}";
        Assert.Equal(run.Length, prefix.Length);

        foreach (var style in new[] { "jsonl", "table" })
        {
            var local = CliRunner.Run("inspect", run, "--output", style, "--limit", "3");
            Assert.True(local.Code == 0, local.Err);
            // Every shard run.json lists, in channel order.
            Assert.Equal(
                ["train/part-00000.pbr.gz", "train/part-00001.pbr.gz", "train/part-00002.pbr.gz", "validation/part-00000.pbr.gz", "test/part-00000.pbr.gz"],
                Regex.Matches(local.Out, @"(train|validation|test)/part-\d+\.pbr\.gz").Select(m => m.Value).Distinct().ToList());
            foreach (var form in new[] { prefix + "/", prefix, prefix + "/_dataprep/run.json" })
            {
                var remote = Remote("inspect", form, "--output", style, "--limit", "3");
                Assert.True(remote.Code == 0, $"{form}: {remote.Err}");
                Assert.Equal(SameRules(local.Out), SameRules(remote.Out.Replace(prefix, run, StringComparison.Ordinal)));
                Assert.Equal("", remote.Err);
            }
        }

        // One object, as one file.
        var shard = Path.Combine(run, "validation", "part-00000.pbr.gz");
        var one = CliRunner.Run("inspect", shard, "--output", "jsonl", "--limit", "0");
        var oneRemote = Remote("inspect", $"{prefix}/validation/part-00000.pbr.gz", "--output", "jsonl", "--limit", "0");
        Assert.True(oneRemote.Code == 0, oneRemote.Err);
        Assert.Equal(one.Out, oneRemote.Out.Replace(prefix, run, StringComparison.Ordinal));
        Assert.Contains("\"records\":200", one.Out);
    }

    [Fact]
    public void Inspect_of_an_image_recordio_run_on_S3_reads_the_rec_and_checks_its_idx_as_locally()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("inspimg");
        using var client = moto.Client();
        var run = tmp.Combine("img");
        var r = CliRunner.Run("convert", Paths.SampleData("images"), "--out", run, "--format", "recordio-image", "--seed", "3", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Upload(client, bucket, "img/", run);
        var prefix = $"s3://{bucket}/img";
        foreach (var style in new[] { "jsonl", "table" })
        {
            var local = CliRunner.Run("inspect", run, "--output", style);
            Assert.True(local.Code == 0, local.Err);
            Assert.Contains(Path.Combine(run, "_dataprep", "train.idx"), local.Out);
            var remote = Remote("inspect", prefix + "/", "--output", style);
            Assert.True(remote.Code == 0, remote.Err);
            Assert.Contains($"{prefix}/_dataprep/train.idx", remote.Out);
            Assert.Equal(local.Out, remote.Out.Replace(prefix, run, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_missing_run_on_S3_is_the_error_of_a_missing_local_run_naming_the_s3_path()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("norun");
        using var client = moto.Client();
        // A prefix with data but no run.json (an unfinished run) is no run either.
        S3Data.PutText(client, bucket, "half/train/part-00000.csv", "1,2\n");
        foreach (var name in new[] { "none", "half" })
        {
            var local = CliRunner.Run("apply", "--run", tmp.Combine(name), Paths.SampleData("churn.csv"), "--out", tmp.Combine("a"));
            var remote = Remote("apply", "--run", $"s3://{bucket}/{name}/", Paths.SampleData("churn.csv"), "--out", tmp.Combine("b"));
            Assert.Equal(3, local.Code);
            Assert.Equal(3, remote.Code);
            Assert.Equal($"error: s3://{bucket}/{name}/_dataprep/run.json: no DataPrep run record here; expected a finished run (its folder or s3:// prefix, or its _dataprep/run.json, which a run writes last)", remote.Err.TrimEnd('\n'));
            Assert.Equal(local.Err.Replace(tmp.Combine(name), $"s3://{bucket}/{name}", StringComparison.Ordinal), remote.Err);
            Assert.False(Directory.Exists(tmp.Combine("b")));
        }

        var like = Remote(["convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("c"), "--like", $"s3://{bucket}/none/_dataprep/run.json", "--quiet"]);
        Assert.Equal(3, like.Code);
        Assert.Contains($"s3://{bucket}/none/_dataprep/run.json: no DataPrep run record here", like.Err);
    }

    [Fact]
    public void Local_apply_like_and_inspect_of_runs_load_no_AWS_assembly()
    {
        using var tmp = new TempDir();
        var run = tmp.Combine("run");
        Assert.Equal(0, CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", run, .. s_churn]).Code);
        var trace = new Dictionary<string, string> { ["DATAPREP_TRACE_ASSEMBLIES"] = "1" };
        var apply = CliProcess.RunFrameworkDependent(["apply", "--run", run, Paths.SampleData("churn.csv"), "--out", tmp.Combine("a"), "--quiet"], trace);
        Assert.True(apply.Code == 0, apply.Err);
        var like = CliProcess.RunFrameworkDependent(["convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("l"), "--like", run, "--quiet"], trace);
        Assert.True(like.Code == 0, like.Err);
        var inspect = CliProcess.RunFrameworkDependent(["inspect", run, "--summary"], trace);
        Assert.True(inspect.Code == 0, inspect.Err);
        foreach (var r in new[] { apply, like, inspect })
        {
            Assert.Contains("assembly: DataPrep.S3", r.Err);
            Assert.DoesNotContain("AWSSDK", r.Err);
        }
    }
}

/// <summary><see cref="RunLayout.RecordPathOf"/>: one rule for naming a run's record, local and remote.</summary>
public sealed class S3RunLocationTests
{
    [Theory]
    [InlineData("out", "out/_dataprep/run.json")]
    [InlineData("out/", "out/_dataprep/run.json")]
    [InlineData("out/_dataprep", "out/_dataprep/run.json")]
    [InlineData("out/_dataprep/", "out/_dataprep/run.json")]
    [InlineData("out/_dataprep/run.json", "out/_dataprep/run.json")]
    [InlineData("copies/churn-v1.json", "copies/churn-v1.json")]
    [InlineData("s3://b/runs/v1", "s3://b/runs/v1/_dataprep/run.json")]
    [InlineData("s3://b/runs/v1/", "s3://b/runs/v1/_dataprep/run.json")]
    [InlineData("s3://b/runs/v1/_dataprep/", "s3://b/runs/v1/_dataprep/run.json")]
    [InlineData("s3://b/runs/v1/_dataprep/run.json", "s3://b/runs/v1/_dataprep/run.json")]
    [InlineData("s3://b/", "s3://b/_dataprep/run.json")]
    public void A_run_is_named_by_its_folder_or_prefix_its_dataprep_folder_or_its_record(string run, string record)
        => Assert.Equal(record, RunLayout.RecordPathOf(run));

    [Theory]
    [InlineData("out/_dataprep/run.json", "out")]
    [InlineData("s3://b/runs/v1/_dataprep/run.json", "s3://b/runs/v1")]
    [InlineData("s3://b/_dataprep/run.json", "s3://b")]
    [InlineData("copies/churn-v1.json", null)]
    public void The_root_of_a_record_is_above_its_dataprep_folder(string record, string? root)
        => Assert.Equal(root, RunLayout.RootOf(record));
}
