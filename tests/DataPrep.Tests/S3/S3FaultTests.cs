using System.Diagnostics;
using Amazon.S3.Model;

namespace DataPrep.Tests.S3;

/// <summary>Dropped connections, 500/503 answers, delays and a killed process between DataPrep and moto.</summary>
[Collection("moto")]
[Trait(NativePass.Name, NativePass.Value)]
public sealed class S3FaultTests(MotoServer moto)
{
    private static readonly string[] s_big = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--quiet"];

    [Fact]
    public void Faults_DroppedConnectionsAnd5xxAndDelays_AreRetried_AndObjectsStayByteExact()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 150_000);
        var bucket = moto.NewBucket("faults");
        int puts = 0;
        // Part uploads and single PUTs in turn: cut mid-body, 503, 500, delayed, cut again.
        Fault Plan(int n, string line)
        {
            if (!line.StartsWith("PUT ", StringComparison.Ordinal) || line.Contains("uploads", StringComparison.Ordinal)) return Fault.None;
            int k = Interlocked.Increment(ref puts);
            return k switch { 1 => Fault.DropMidBody, 3 => Fault.Status503, 4 => Fault.Status500, 6 => Fault.Delay, 8 => Fault.DropMidBody, 10 => Fault.Status503, _ => Fault.None };
        }
        using var proxy = new FaultProxy(moto.Port, Plan);
        string[] args = [.. s_big, "--shard-size", "3MB"];
        var r = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/f/", "--endpoint-url", proxy.Endpoint, "--part-size", "5MB", .. args]);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(proxy.Injected.Count >= 5, $"only {proxy.Injected.Count} faults were injected");
        Assert.Contains(Fault.DropMidBody, proxy.Injected);
        Assert.Contains(Fault.Status503, proxy.Injected);
        Assert.Contains(Fault.Status500, proxy.Injected);
        Assert.Equal(0, CliRunner.Run(["convert", csv, "--out", tmp.Combine("local"), .. args]).Code);
        using var client = moto.Client();
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local"))), S3Data.DataOnly(S3Data.Download(client, bucket, "f/")));
    }

    [Fact]
    public void Objects_sent_with_one_PUT_wait_for_an_upload_slot_like_parts()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 4_000, seed: 5);
        var bucket = moto.NewBucket("slots");
        // Every shard is far below the part size, so each is one PUT; the store holds them all unanswered.
        static bool IsShardPut(string line) => line.StartsWith("PUT ", StringComparison.Ordinal) && line.Contains("/s/train/part-", StringComparison.Ordinal);
        using var hold = new FaultProxy(moto.Port, (_, line) => IsShardPut(line) ? Fault.Hold : Fault.None);
        using var p = CliProcess.Start(["convert", csv, "--out", $"s3://{bucket}/s/", "--endpoint-url", hold.Endpoint, "--upload-concurrency", "2",
            "--shard-rows", "100", "--no-lineage", .. s_big]);
        var clock = Stopwatch.StartNew();
        while (hold.Injected.Count < 2 && clock.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited) Thread.Sleep(20);
        // Time for the encoder to write (and, without back-pressure, send) many more of its 36 train shards.
        Thread.Sleep(1500);
        bool exited = p.HasExited;
        var sent = hold.RequestLines.Count(IsShardPut);
        p.Kill(entireProcessTree: true);
        p.WaitForExit();
        Assert.False(exited, "the run ended although its uploads were held: " + p.StandardError.ReadToEnd());
        Assert.Equal(2, sent);
    }

    [Fact]
    public void KilledMidUpload_LeavesNoManifestOrRunRecord_ThenResumeUploadsOnlyWhatIsMissing()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 300_000, seed: 3);
        var bucket = moto.NewBucket("resume");
        string[] args = [.. s_big, "--shard-size", "6MB", "--part-size", "5MB", "--no-lineage"];
        using var client = moto.Client();

        // The second part of the second train shard hangs, so the kill lands mid-upload: one shard complete,
        // one multipart upload open.
        using (var hold = new FaultProxy(moto.Port, (_, line) => line.StartsWith("PUT ", StringComparison.Ordinal) && line.Contains("/r/train/part-00001.csv?", StringComparison.Ordinal) && line.Contains("partNumber=2", StringComparison.Ordinal) ? Fault.Hold : Fault.None))
        {
            using var p = CliProcess.Start(["convert", csv, "--out", $"s3://{bucket}/r/", "--endpoint-url", hold.Endpoint, .. args]);
            var clock = Stopwatch.StartNew();
            while (hold.Injected.IsEmpty && clock.Elapsed < TimeSpan.FromSeconds(30) && !p.HasExited) Thread.Sleep(20);
            // Shards complete in the background: wait for the first one.
            while (!S3Data.Keys(client, bucket, "r/train/").Contains("r/train/part-00000.csv") && clock.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited) Thread.Sleep(50);
            if (p.HasExited) Assert.Fail("the run ended before it could be killed: " + p.StandardError.ReadToEnd());
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        Assert.NotEmpty(S3Data.IncompleteUploads(client, bucket));
        var left = S3Data.Keys(client, bucket, "r/");
        Assert.NotEmpty(left);
        Assert.DoesNotContain(left, k => k.StartsWith("r/_dataprep/", StringComparison.Ordinal));

        // Without --resume the unfinished run is refused.
        var refused = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/r/", "--endpoint-url", moto.Endpoint, .. args]);
        Assert.Equal(4, refused.Code);
        Assert.Contains("--resume", refused.Err);

        // Plant a wrong object the resumed run must replace, and a leftover it must delete.
        const string wrong = "r/validation/part-00000.csv";
        S3Data.PutText(client, bucket, wrong, "not the shard\n");
        S3Data.PutText(client, bucket, "r/train/part-00999.csv", "stale\n");
        var before = left.Where(k => k != wrong).ToList();
        Assert.Contains("r/train/part-00000.csv", before);

        using var counting = new FaultProxy(moto.Port);
        var resumed = CliProcess.Run(["convert", csv, "--out", $"s3://{bucket}/r/", "--endpoint-url", counting.Endpoint, "--resume", .. args]);
        Assert.True(resumed.Code == 0, resumed.Err);

        Assert.Equal(0, CliRunner.Run(["convert", csv, "--out", tmp.Combine("local"), .. args]).Code);
        var remote = S3Data.Download(client, bucket, "r/");
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local"))), S3Data.DataOnly(remote));
        Assert.Contains("_dataprep/run.json", remote.Keys);
        Assert.Contains("_dataprep/train.manifest", remote.Keys);
        // Objects complete before the kill were kept, not sent again; the planted wrong one was.
        var puts = counting.RequestLines.Where(l => l.StartsWith("PUT ", StringComparison.Ordinal)).ToList();
        foreach (var kept in before) Assert.DoesNotContain(puts, l => l.Contains($"/{kept} ", StringComparison.Ordinal) || l.Contains($"/{kept}?", StringComparison.Ordinal));
        Assert.Contains(puts, l => l.Contains($"/{wrong}", StringComparison.Ordinal));
        Assert.DoesNotContain("train/part-00999.csv", remote.Keys);
        // No incomplete multipart upload is left behind.
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }
}

/// <summary>s3rver: a store that corrupts aws-chunked uploads and keeps no checksums (so DataPrep sends none aws-chunked); and signature checks.</summary>
[Collection("s3rver")]
public sealed class S3rverTests(S3rverServer s3rver)
{
    private static readonly string[] s_args = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--quiet", "--profile", "s3rver", "--part-size", "5MB"];

    [Fact]
    public void Uploads_are_byte_exact_without_flags_and_a_store_that_changes_bytes_is_caught_by_the_ETag_check()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 150_000);
        const string bucket = S3rverServer.Bucket;
        // s3rver stores aws-chunked framing as data; DataPrep sends every body whole, so no flag is needed.
        var ok = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/plain/", "--endpoint-url", s3rver.Endpoint, .. s_args]);
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Equal(0, CliRunner.Run(["convert", csv, "--out", tmp.Combine("local"), .. s_args[..^4]]).Code);
        using var client = s3rver.Client();
        var local = S3Data.Local(tmp.Combine("local"));
        Assert.True(local["train/part-00000.csv"].Length > 5 << 20, "the shard must need a multipart upload");
        S3Data.AssertSameBytes(S3Data.DataOnly(local), S3Data.DataOnly(S3Data.Download(client, bucket, "plain/")));

        // A store that keeps no checksum and changes one byte of every data body: the ETag (an MD5 on s3rver) check
        // refuses each attempt, the run fails naming the cause, and nothing that a training job reads is published.
        using var proxy = new FaultProxy(s3rver.Port, (_, line) => line.StartsWith("PUT ", StringComparison.Ordinal) && line.Contains("/train/", StringComparison.Ordinal) ? Fault.FlipByte : Fault.None);
        var bad = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/changed/", "--endpoint-url", proxy.Endpoint, "--no-chunked-encoding", .. s_args]);
        Assert.True(bad.Code == 4, bad.Err);
        Assert.Contains("changes the bytes it receives", bad.Err);
        Assert.Contains(Fault.FlipByte, proxy.Injected);
        Assert.DoesNotContain(S3Data.Keys(client, bucket, "changed/"), k => k.EndsWith(".manifest", StringComparison.Ordinal) || k.EndsWith("channels.json", StringComparison.Ordinal) || k.EndsWith("run.json", StringComparison.Ordinal));
    }

    [Fact]
    public void BadCredentials_GiveAOneLineError()
    {
        var r = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", $"s3://{S3rverServer.Bucket}/creds/", "--endpoint-url", s3rver.Endpoint,
            "--profile", "wrong", "--label", "churn", "--drop", "customer_id", "--categorical", "onehot", "--quiet"]);
        // Credentials refused: exit 6, as --help says, for outputs and inputs alike (issue 17, finding 10).
        Assert.Equal(6, r.Code);
        Assert.Contains("InvalidAccessKeyId", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.DoesNotContain("not-the-secret", r.Err);

        using var tmp = new TempDir();
        var input = CliRunner.Run(["convert", $"s3://{S3rverServer.Bucket}/creds/churn.csv", "--out", tmp.Combine("out"), "--endpoint-url", s3rver.Endpoint,
            "--profile", "wrong", "--label", "churn", "--drop", "customer_id", "--categorical", "onehot", "--quiet"]);
        Assert.True(input.Code == 6, $"exit {input.Code}: {input.Err}");
        Assert.Contains("access refused", input.Err);
        Assert.Single(input.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(tmp.Combine("out")));
    }
}

/// <summary>Under a small memory budget an S3 output uploads in smaller parts (its buffers follow the budget), with the same bytes.</summary>
[Collection("moto")]
[Trait(NativePass.Name, NativePass.Value)]
public sealed class S3BudgetTests(MotoServer moto)
{
    [Fact]
    public void A_small_budget_uploads_5MiB_parts_and_the_same_objects()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 200_000, seed: 9);
        var bucket = moto.NewBucket("budget");
        string[] args = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--quiet", "--no-lineage", "--shard-size", "12MB"];
        int PartsOf(FaultProxy p, string prefix) => p.RequestLines.Count(l => l.StartsWith("PUT ", StringComparison.Ordinal) && l.Contains($"/{prefix}/train/part-00000.csv?", StringComparison.Ordinal) && l.Contains("partNumber=", StringComparison.Ordinal));

        using var counting = new FaultProxy(moto.Port);
        var small = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/small/", "--endpoint-url", counting.Endpoint, "--memory", "128MB", "--temp", tmp.Combine("spill"), .. args]);
        Assert.True(small.Code == 0, small.Err);
        var large = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/large/", "--endpoint-url", counting.Endpoint, "--memory", "2GB", .. args]);
        Assert.True(large.Code == 0, large.Err);
        using var client = moto.Client();
        var objects = S3Data.Download(client, bucket, "small/");
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Download(client, bucket, "large/")), S3Data.DataOnly(objects));
        // The first train shard (over 5 MiB, under 16 MiB): parts of 5 MiB at 128 MB, a single PUT (no parts) at 2 GB.
        long size = objects["train/part-00000.csv"].Length;
        Assert.InRange(size, (5L << 20) + 1, 16L << 20);
        Assert.Equal((int)((size + (5L << 20) - 1) / (5L << 20)), PartsOf(counting, "small"));
        Assert.Equal(0, PartsOf(counting, "large"));
        Assert.True(S3Data.AssertFullObjectCrc32c(client, bucket, "small/") > 0);
    }
}
