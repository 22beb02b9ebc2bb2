using System.Diagnostics;
using System.Text.Json;
using Amazon.S3.Model;
using DataPrep.Fluent;
using DataPrep.S3;

namespace DataPrep.Tests.S3;

/// <summary>--out s3://… against moto's S3 server: byte-exact objects, layout, ManifestFiles, channels.json, refusal rules, errors.</summary>
[Collection("moto")]
[Trait(NativePass.Name, NativePass.Value)]
public sealed class S3OutputTests(MotoServer moto)
{
    private static readonly string[] s_churn = ["--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--quiet"];

    private CliRunner.Result Convert(string input, string output, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", output, "--endpoint-url", moto.Endpoint, .. extra]);

    private static CliRunner.Result Local(string input, string output, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", output, .. extra]);

    [Fact]
    public void Convert_ToS3_EveryObjectIsByteIdenticalToALocalRun_AndManifestsAndChannelsDescribeIt()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("out");
        var r = Convert(Paths.SampleData("churn.csv"), $"s3://{bucket}/runs/churn/", s_churn);
        Assert.True(r.Code == 0, r.Err);
        var local = Local(Paths.SampleData("churn.csv"), tmp.Combine("local"), s_churn);
        Assert.Equal(0, local.Code);
        using var client = moto.Client();
        var remote = S3Data.Download(client, bucket, "runs/churn/");
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local"))), S3Data.DataOnly(remote));
        // Data objects only under <split>/, everything else under _dataprep/.
        Assert.All(remote.Keys, k => Assert.True(k.StartsWith("train/") || k.StartsWith("validation/") || k.StartsWith("test/") || k.StartsWith("_dataprep/"), k));
        Assert.Equal("[{\"prefix\": \"s3://" + bucket + "/runs/churn/\"},\n \"train/part-00000.csv\"]\n", System.Text.Encoding.UTF8.GetString(remote["_dataprep/train.manifest"]));
        using var channels = JsonDocument.Parse(remote["_dataprep/channels.json"]);
        var train = channels.RootElement.GetProperty("channels").GetProperty("train");
        Assert.Equal($"s3://{bucket}/runs/churn/_dataprep/train.manifest", train.GetProperty("s3Uri").GetString());
        Assert.Equal("ManifestFile", train.GetProperty("s3DataType").GetString());
        Assert.Equal("text/csv", train.GetProperty("contentType").GetString());
        Assert.Equal("ShardedByS3Key", train.GetProperty("distribution").GetString());
        Assert.Equal("File", train.GetProperty("inputMode").GetString());
        Assert.Equal("None", train.GetProperty("compressionType").GetString());
        Assert.Equal(remote["train/part-00000.csv"].Length, train.GetProperty("bytes").GetInt64());
        Assert.Equal(1600, train.GetProperty("rows").GetInt64());
        // The local run has the same files, with file:// prefixes.
        var localManifest = File.ReadAllText(Path.Combine(tmp.Combine("local"), "_dataprep", "train.manifest"));
        Assert.StartsWith("[{\"prefix\": \"file://", localManifest);
        using var run = JsonDocument.Parse(remote["_dataprep/run.json"]);
        Assert.Equal($"s3://{bucket}/runs/churn/", run.RootElement.GetProperty("options").GetProperty("output").GetString());
    }

    [Fact]
    public void Cli_PrintsAReadyToPasteTrainingInputSnippet()
    {
        var bucket = moto.NewBucket("snip");
        var r = Convert(Paths.SampleData("churn.csv"), $"s3://{bucket}/c", "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains($"\"train\": TrainingInput(\"s3://{bucket}/c/_dataprep/train.manifest\", s3_data_type=\"ManifestFile\", distribution=\"ShardedByS3Key\", content_type=\"text/csv\"", r.Out);
        Assert.Contains("\"S3DataType\": \"ManifestFile\"", r.Out);
    }

    [Fact]
    public void Multipart_ShardLargerThanThePartSize_IsUploadedInPartsAndByteExact()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 150_000);
        var bucket = moto.NewBucket("multi");
        string[] args = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--shard-size", "100MB", "--quiet"];
        var r = Convert(csv, $"s3://{bucket}/m/", [.. args, "--part-size", "5MB", "--upload-concurrency", "3"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(0, Local(csv, tmp.Combine("local"), args).Code);
        using var client = moto.Client();
        var local = S3Data.Local(tmp.Combine("local"));
        Assert.True(local["train/part-00000.csv"].Length > 5 << 20, $"the train shard is only {local["train/part-00000.csv"].Length} bytes");
        S3Data.AssertSameBytes(S3Data.DataOnly(local), S3Data.DataOnly(S3Data.Download(client, bucket, "m/")));
        Assert.Matches("-[2-9]\"?$", S3Data.ETag(client, bucket, "m/train/part-00000.csv")); // a multipart ETag: MD5 of the part MD5s, "-" part count
    }

    [Fact]
    public void EarlierRun_IsRefusedWithoutOverwrite_AndOverwriteLeavesNoStaleShards()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("over");
        var prefix = $"s3://{bucket}/p/";
        Assert.Equal(0, Convert(Paths.SampleData("churn.csv"), prefix, [.. s_churn, "--shard-rows", "300"]).Code);
        using var client = moto.Client();
        Assert.Contains("p/train/part-00005.csv", S3Data.Keys(client, bucket, "p/"));

        var refused = Convert(Paths.SampleData("churn.csv"), prefix, s_churn);
        Assert.Equal(4, refused.Code);
        Assert.Contains("already holds a DataPrep run", refused.Err);
        Assert.Contains("--overwrite", refused.Err);
        Assert.Single(refused.Err.Trim().Split('\n'));

        Assert.Equal(0, Convert(Paths.SampleData("churn.csv"), prefix, [.. s_churn, "--overwrite", "--seed", "7"]).Code);
        Assert.Equal(0, Local(Paths.SampleData("churn.csv"), tmp.Combine("local"), [.. s_churn, "--seed", "7"]).Code);
        var remote = S3Data.Download(client, bucket, "p/");
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local"))), S3Data.DataOnly(remote));
        Assert.DoesNotContain("train/part-00001.csv", remote.Keys);
    }

    [Fact]
    public void ForeignObjects_AndAnUnfinishedRun_AreRefused()
    {
        var bucket = moto.NewBucket("foreign");
        using var client = moto.Client();
        S3Data.PutText(client, bucket, "f/notes.txt", "mine");
        var r = Convert(Paths.SampleData("churn.csv"), $"s3://{bucket}/f/", [.. s_churn, "--overwrite"]);
        Assert.Equal(4, r.Code);
        Assert.Contains("not DataPrep's (notes.txt)", r.Err);

        S3Data.PutText(client, bucket, "u/train/part-00000.csv", "1,2\n");
        var u = Convert(Paths.SampleData("churn.csv"), $"s3://{bucket}/u/", s_churn);
        Assert.Equal(4, u.Code);
        Assert.Contains("unfinished DataPrep run", u.Err);
        Assert.Contains("--resume", u.Err);
        Assert.Equal(["f/notes.txt"], S3Data.Keys(client, bucket, "f/"));
    }

    [Fact]
    public void Instances_MakeShardCountsAMultiple_AndWarnWhenASplitIsTooSmall()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("inst");
        string[] args = ["--label", "churn", "--drop", "customer_id", "--categorical", "onehot", "--format", "recordio-protobuf", "--compress", "gzip", "--instances", "3", "--json"];
        var r = Convert(Paths.SampleData("churn.csv"), $"s3://{bucket}/i/", args);
        Assert.True(r.Code == 0, r.Err);
        using var report = JsonDocument.Parse(r.Out);
        foreach (var split in report.RootElement.GetProperty("splits").EnumerateObject())
        {
            Assert.Equal(0, split.Value.GetProperty("shards").GetArrayLength() % 3);
        }
        Assert.Equal(0, Local(Paths.SampleData("churn.csv"), tmp.Combine("local"), args).Code);
        using var client = moto.Client();
        var remote = S3Data.Download(client, bucket, "i/");
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local"))), S3Data.DataOnly(remote));
        using var channels = JsonDocument.Parse(remote["_dataprep/channels.json"]);
        Assert.Equal("Gzip", channels.RootElement.GetProperty("channels").GetProperty("train").GetProperty("compressionType").GetString());
        Assert.Equal("application/x-recordio-protobuf", channels.RootElement.GetProperty("channels").GetProperty("train").GetProperty("contentType").GetString());

        var tiny = Local(Paths.SampleData("churn.csv"), tmp.Combine("tiny"), [.. s_churn, "--fractions", "99.8/0.1/0.1", "--instances", "4", "--json"]);
        Assert.True(tiny.Code == 0, tiny.Err);
        Assert.Contains("would get no data", tiny.Out);
    }

    [Fact]
    public void Sse_IsRequestedForEveryObject()
    {
        var bucket = moto.NewBucket("sse");
        var r = Convert(Paths.SampleData("churn.csv"), $"s3://{bucket}/e/", [.. s_churn, "--sse", "AES256"]);
        Assert.True(r.Code == 0, r.Err);
        using var client = moto.Client();
        foreach (var key in S3Data.Keys(client, bucket, "e/"))
        {
            Assert.Equal(Amazon.S3.ServerSideEncryptionMethod.AES256, S3Data.Head(client, bucket, key).ServerSideEncryptionMethod);
        }
        var bad = Convert(Paths.SampleData("churn.csv"), $"s3://{bucket}/e2/", [.. s_churn, "--sse", "rot13"]);
        Assert.Equal(2, bad.Code);
        Assert.Contains("expected AES256 (SSE-S3) or aws:kms", bad.Err);
    }

    [Fact]
    public void Errors_AreOneLine_WithExitCodes()
    {
        var missing = Convert(Paths.SampleData("churn.csv"), "s3://no-such-bucket-dataprep/x/", s_churn);
        Assert.Equal(4, missing.Code);
        Assert.Contains("NoSuchBucket", missing.Err);
        Assert.Single(missing.Err.Trim().Split('\n'));

        var clock = Stopwatch.StartNew();
        var unreachable = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", "s3://b/x/", "--endpoint-url", $"http://127.0.0.1:{S3Env.FreePort()}", .. s_churn]);
        // A network error is exit 6 as --help says, writing or reading (it was 4 for outputs and 2 for inputs).
        Assert.Equal(6, unreachable.Code);
        Assert.Contains("cannot reach the S3 endpoint", unreachable.Err);
        Assert.Single(unreachable.Err.Trim().Split('\n'));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        using (var tmp = new TempDir())
        {
            var reading = CliRunner.Run(["convert", "s3://b/in/churn.csv", "--out", tmp.Combine("out"), "--endpoint-url", $"http://127.0.0.1:{S3Env.FreePort()}", .. s_churn]);
            Assert.True(reading.Code == 6, $"exit {reading.Code}: {reading.Err}");
            Assert.Contains("cannot reach the S3 endpoint", reading.Err);
            Assert.Single(reading.Err.Trim().Split('\n'));
            Assert.False(Directory.Exists(tmp.Combine("out")));
        }

        var part = Convert(Paths.SampleData("churn.csv"), "s3://b/x/", [.. s_churn, "--part-size", "1MB"]);
        Assert.Equal(2, part.Code);
        Assert.Contains("minimum part size of 5 MiB", part.Err);

        var resumeLocal = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", "out/x", "--resume", .. s_churn]);
        Assert.Equal(2, resumeLocal.Code);
    }

    [Fact]
    public void Inputs_FromS3_CsvGzipJsonLinesAndParquet_GiveTheSameShardsAsLocalInputs()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("in");
        using var client = moto.Client();
        S3Data.Put(client, bucket, "data/churn.csv", Paths.SampleData("churn.csv"));
        S3Data.Put(client, bucket, "data/churn.jsonl", Paths.SampleData("churn.jsonl"));
        S3Data.Put(client, bucket, "gz/sensors.csv.gz", Paths.SampleData("sensors.csv.gz"));
        S3Data.Put(client, bucket, "pq/dict.parquet", Paths.Fixture("parquet", "dict.parquet"));
        var cases = new (string Remote, string Local, string[] Args)[]
        {
            ($"s3://{bucket}/data/churn.csv", Paths.SampleData("churn.csv"), s_churn),
            ($"s3://{bucket}/data/*.jsonl", Paths.SampleData("churn.jsonl"), s_churn),
            ($"s3://{bucket}/gz/", Paths.SampleData("sensors.csv.gz"), ["--no-label", "--drop", "label", "--quiet"]),
            ($"s3://{bucket}/pq/dict.parquet", Paths.Fixture("parquet", "dict.parquet"), ["--format", "jsonl", "--quiet"]),
        };
        int i = 0;
        foreach (var (remote, local, args) in cases)
        {
            var a = Convert(remote, tmp.Combine($"from-s3-{i}"), args);
            Assert.True(a.Code == 0, $"{remote}: {a.Err}");
            Assert.Equal(0, Local(local, tmp.Combine($"from-local-{i}"), args).Code);
            S3Data.AssertSameBytes(
                S3Data.DataOnly(new(S3Data.Local(tmp.Combine($"from-local-{i}")).Where(kv => !kv.Key.StartsWith("_dataprep/lineage")).ToDictionary(), StringComparer.Ordinal)),
                S3Data.DataOnly(new(S3Data.Local(tmp.Combine($"from-s3-{i}")).Where(kv => !kv.Key.StartsWith("_dataprep/lineage")).ToDictionary(), StringComparer.Ordinal)));
            i++;
        }
        var record = File.ReadAllText(Path.Combine(tmp.Combine("from-s3-0"), "_dataprep", "run.json"));
        Assert.Contains("\"xxHash3\": \"etag:", record);
        Assert.Contains($"s3://{bucket}/data/churn.csv", record);

        var none = Convert($"s3://{bucket}/nothing/*.csv", tmp.Combine("none"), s_churn);
        Assert.Equal(2, none.Code);
        Assert.Contains("matches no object", none.Err);
    }

    [Fact]
    public async Task FluentApi_WritesToS3()
    {
        var bucket = moto.NewBucket("fluent");
        var report = await DataPrepPipeline.Read(Paths.SampleData("churn.csv")).Label("churn").Drop("customer_id").EncodeText(DataPrep.Pipeline.FeatureEncoding.Ordinal)
            .WriteTo($"s3://{bucket}/nb/").UseS3(s => s with { EndpointUrl = moto.Endpoint, Concurrency = 2 }).RunAsync();
        Assert.Equal($"s3://{bucket}/nb/", report.Output);
        using var client = moto.Client();
        Assert.Contains("nb/_dataprep/run.json", S3Data.Keys(client, bucket, "nb/"));
        Assert.Contains("nb/train/part-00000.csv", S3Data.Keys(client, bucket, "nb/"));
    }

    [Fact]
    public void AwsSdk_IsNotLoaded_ForLocalRuns()
    {
        using var tmp = new TempDir();
        var local = CliProcess.RunFrameworkDependent(["convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("o"), .. s_churn], new() { ["DATAPREP_TRACE_ASSEMBLIES"] = "1" });
        Assert.True(local.Code == 0, local.Err);
        Assert.Contains("assembly: DataPrep.Core", local.Err);
        Assert.Contains("assembly: DataPrep.S3", local.Err);
        Assert.DoesNotContain("AWSSDK", local.Err);

        var bucket = moto.NewBucket("asm");
        var remote = CliProcess.RunFrameworkDependent(["convert", Paths.SampleData("churn.csv"), "--out", $"s3://{bucket}/a/", "--endpoint-url", moto.Endpoint, .. s_churn], new() { ["DATAPREP_TRACE_ASSEMBLIES"] = "1" });
        Assert.True(remote.Code == 0, remote.Err);
        Assert.Contains("assembly: AWSSDK.S3", remote.Err);
    }
}

/// <summary>
/// Runs the built CLI as a separate process: the program that <c>DATAPREP_CLI</c> names (tools/test.sh sets it to the
/// Native AOT binary users install, so every test that starts the CLI as a process runs against that build), or
/// <c>dotnet dataprep.dll</c> beside the tests when it is unset. <see cref="RunFrameworkDependent"/> always runs the dll:
/// for what only the framework-dependent build has (assemblies loaded on demand).
/// </summary>
public static class CliProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "dataprep.dll");

    /// <summary>The program under test when <c>DATAPREP_CLI</c> is set (an executable, run directly); null: <c>dotnet</c> + <see cref="Dll"/>.</summary>
    public static string? Native => Environment.GetEnvironmentVariable("DATAPREP_CLI") is { Length: > 0 } cli
        ? (File.Exists(cli) ? Path.GetFullPath(cli) : throw new FileNotFoundException($"DATAPREP_CLI names {cli}, which does not exist"))
        : null;

    public static Process Start(IEnumerable<string> args, Dictionary<string, string>? env = null) => Start(args, env, Native);

    private static Process Start(IEnumerable<string> args, Dictionary<string, string>? env, string? native)
    {
        S3Env.Ensure();
        var psi = new ProcessStartInfo(native ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (native is null) psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        ChildProcesses.NoDiagnostics(psi);
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    public static CliRunner.Result Run(IEnumerable<string> args, Dictionary<string, string>? env = null) => Wait(Start(args, env));

    /// <summary><c>dotnet dataprep.dll</c> whatever <c>DATAPREP_CLI</c> says: the framework-dependent build (the tool
    /// package's fallback for platforms without a native build).</summary>
    public static CliRunner.Result RunFrameworkDependent(IEnumerable<string> args, Dictionary<string, string>? env = null) => Wait(Start(args, env, null));

    private static CliRunner.Result Wait(Process started)
    {
        using var p = started;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new CliRunner.Result(p.ExitCode, output, err.GetAwaiter().GetResult());
    }
}
