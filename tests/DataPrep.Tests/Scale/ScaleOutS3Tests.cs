using System.Globalization;
using System.Text;
using DataPrep.Tests.Images;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Scale;

/// <summary>
/// Workers through S3 (a real S3-compatible server on 127.0.0.1): inputs, work area and output in buckets; the
/// objects written are byte for byte the files of the one-process run on local disk, shards reach the channels by
/// server-side copy at the commit, and the work area is gone afterwards.
/// </summary>
[Collection("moto")]
[Trait(NativePass.Name, NativePass.Value)]
public sealed class ScaleOutS3Tests(MotoServer moto)
{
    [Fact]
    public void Workers_through_S3_write_the_objects_of_one_local_process()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var (bucket, local) = TwoInputs(tmp, client, "scale", 4_000);
        string[] options = ["--label", "label", "--encode", "cat=onehot", "--shard-size", "64KB", "--seed", "9", "--format", "recordio-protobuf", "--quiet"];
        var one = tmp.Combine("one");
        Assert.Equal(0, CliRunner.Run(["convert", Path.Combine(local, "part-a.csv"), Path.Combine(local, "part-b.csv"), "--out", one, .. options]).Code);

        // The inputs (hundreds of KB each) are read by byte ranges of 64 KB: scan tasks start reading in the middle of objects.
        string[] common = ["convert", $"s3://{bucket}/in/", "--out", $"s3://{bucket}/out/", .. options, "--endpoint-url", moto.Endpoint, "--workers", "3", "--input-split-size", "64KB"];
        var steps = CliRunner.Run([.. common, "--steps"]);
        Assert.True(steps.Code == 0, steps.Err);
        var random = new Random(3);
        foreach (var line in steps.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts[0] == "commit")
            {
                // The first commit dies part-way: the train channel's lineage, composed once every train shard is
                // published, fails for good (500 on every attempt). (It failed the copy of the second shard before, but
                // the commit copies shards in parallel, so whether the first one was published by then was a race.)
                // Run again, the commit completes the same run.
                using var proxy = new FaultProxy(moto.Port, (_, l) => l.StartsWith("PUT ", StringComparison.Ordinal) && l.Contains("/out/_dataprep/lineage/train", StringComparison.Ordinal) ? Fault.Status500 : Fault.None);
                var failed = CliProcess.Run([.. common.Select(a => a == moto.Endpoint ? proxy.Endpoint : a), "--step", "commit"]);
                Assert.NotEqual(0, failed.Code);
                Assert.Contains(proxy.Injected, f => f == Fault.Status500);
                Assert.Contains(S3Data.Keys(client, bucket, "out/"), k => k == "out/train/part-00000.pbr");
                Assert.Contains(S3Data.Keys(client, bucket, "out/"), k => k == "out/train/part-00001.pbr");
                Assert.DoesNotContain(S3Data.Keys(client, bucket, "out/"), k => k == "out/_dataprep/run.json");
            }
            foreach (int t in Enumerable.Range(0, int.Parse(parts[1], CultureInfo.InvariantCulture)).OrderBy(_ => random.Next()).ToList())
            {
                // Separate processes, as on an engine.
                var r = CliProcess.Run([.. common, "--step", parts[0], "--worker", t.ToString(CultureInfo.InvariantCulture)]);
                Assert.True(r.Code == 0, $"{parts[0]} {t}: {r.Err}");
                if (parts[0] != "commit") Assert.DoesNotContain(S3Data.Keys(client, bucket, "out/"), k => k.StartsWith("out/train/", StringComparison.Ordinal));
            }
        }
        var written = S3Data.DataOnly(S3Data.Download(client, bucket, "out/"));
        Assert.Contains("train/part-00001.pbr", written.Keys);   // several shards, cut across the workers' buckets
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(one)), written);
        Assert.Empty(S3Data.Keys(client, bucket, "out/_dataprep/work/"));
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }

    /// <summary>
    /// The commit publishes shards by server-side copies, <c>--copy-concurrency</c> at a time: a copy holds no buffer, so a
    /// small <c>--memory</c> (three parts in flight at 128 MB) does not hold the copies back, and the bound is kept. A proxy
    /// holds each copy into a channel for a second and counts how many it held at once.
    /// </summary>
    [Fact]
    public void The_commit_copies_shards_copy_concurrency_at_a_time_whatever_the_memory_budget()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var (bucket, local) = TwoInputs(tmp, client, "scalecopy", 4_000);
        string[] options = ["--label", "label", "--encode", "cat=onehot", "--shard-size", "16KB", "--seed", "4", "--memory", "128MB", "--quiet"];
        var one = OneProcess(tmp, local, options);
        int trainShards = Directory.GetFiles(Path.Combine(one, "train")).Length;
        Assert.True(trainShards >= 8, $"{trainShards} train shards; the test needs more than the copies allowed at once");

        string[] common = ["convert", $"s3://{bucket}/in/", "--out", $"s3://{bucket}/out/", .. options, "--endpoint-url", moto.Endpoint, "--workers", "2", "--copy-concurrency", "5"];
        var steps = CliRunner.Run([.. common, "--steps"]);
        Assert.True(steps.Code == 0, steps.Err);
        using var proxy = new FaultProxy(moto.Port, (_, l) => l.StartsWith($"PUT /{bucket}/out/train/part-", StringComparison.Ordinal) ? Fault.Delay : Fault.None)
        {
            DelayFor = TimeSpan.FromSeconds(1),
        };
        foreach (var line in steps.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            for (int t = 0; t < int.Parse(parts[1], CultureInfo.InvariantCulture); t++)
            {
                string[] task = [.. common, "--step", parts[0], "--worker", t.ToString(CultureInfo.InvariantCulture)];
                var r = CliProcess.Run(parts[0] == "commit" ? [.. task.Select(a => a == moto.Endpoint ? proxy.Endpoint : a)] : task);
                Assert.True(r.Code == 0, $"{parts[0]} {t}: {r.Err}");
            }
        }
        Assert.Equal(trainShards, proxy.Injected.Count);
        Assert.InRange(proxy.MostDelayedAtOnce, 4, 5);
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(one)), S3Data.DataOnly(S3Data.Download(client, bucket, "out/")));
    }

    /// <summary>
    /// Parquet as workers through S3, by the local engine (each step's tasks as separate processes): the shards,
    /// cut by the pure rule over uncompressed rows, are the objects of one local process, and DuckDB-readable as before.
    /// </summary>
    [Fact]
    public void Parquet_workers_through_S3_write_the_files_of_one_local_process()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var (bucket, local) = TwoInputs(tmp, client, "scalepq", 3_000);
        string[] options = ["--label", "label", "--encode", "cat=onehot", "--shard-size", "48KB", "--seed", "5", "--format", "parquet", "--quiet"];
        var one = OneProcess(tmp, local, options);

        var r = CliProcess.Run(["convert", $"s3://{bucket}/in/", "--out", $"s3://{bucket}/out/", .. options, "--endpoint-url", moto.Endpoint, "--workers", "2"]);
        Assert.True(r.Code == 0, r.Err);
        var written = S3Data.DataOnly(S3Data.Download(client, bucket, "out/"));
        Assert.Contains("train/part-00001.parquet", written.Keys);
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(one)), written);
        Assert.Empty(S3Data.Keys(client, bucket, "out/_dataprep/work/"));
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }

    /// <summary>
    /// A JSON Lines object through S3, read by byte ranges of 16 KB among three scan tasks (each starts with a ranged GET in
    /// the middle of the object), by the local engine: the objects of one local process.
    /// </summary>
    [Fact]
    public void Json_lines_workers_through_S3_read_byte_ranges_and_write_the_files_of_one_local_process()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var bucket = moto.NewBucket("scalejl");
        var rng = new Random(4);
        var text = new StringBuilder();
        for (int i = 0; i < 2_000; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{{\"id\": {i}, \"x\": {rng.NextDouble():F6}, \"note\": \"a \\\"q\\\" {i % 9}\", \"label\": {rng.Next(2)}}}\n");
        }
        var input = tmp.File("rows.jsonl", text.ToString());
        S3Data.Put(client, bucket, "in/rows.jsonl", input);
        string[] options = ["--label", "label", "--drop", "id", "--encode", "note=onehot", "--seed", "6", "--quiet"];
        var one = tmp.Combine("one");
        var single = CliRunner.Run(["convert", input, "--out", one, .. options]);
        Assert.True(single.Code == 0, single.Err);

        var r = CliProcess.Run(["convert", $"s3://{bucket}/in/rows.jsonl", "--out", $"s3://{bucket}/out/", .. options, "--endpoint-url", moto.Endpoint, "--workers", "3", "--input-split-size", "16KB", "--keep-work"]);
        Assert.True(r.Code == 0, r.Err);
        var written = S3Data.Download(client, bucket, "out/");
        // Every scan task read a share of the object's ranges, none of it all.
        var scans = written.Where(kv => kv.Key.Contains("/done/scan/", StringComparison.Ordinal)).Select(kv => System.Text.Json.Nodes.JsonNode.Parse(kv.Value)!).ToList();
        Assert.Equal(3, scans.Count);
        Assert.All(scans, s => Assert.InRange(s["rowsRead"]!.GetValue<long>(), 400, 1_000));
        Assert.Equal(2_000, scans.Sum(s => s["rowsRead"]!.GetValue<long>()));
        Assert.Equal(2, scans.Count(s => s["ranges"]![0]!["start"]!.GetValue<long>() > 0));
        var data = S3Data.DataOnly(new SortedDictionary<string, byte[]>(written.Where(kv => !kv.Key.StartsWith("_dataprep/work/", StringComparison.Ordinal)).ToDictionary(), StringComparer.Ordinal));
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(one)), data);
    }

    /// <summary>
    /// <c>--sse</c> reaches every object a scaled-out run writes: the work objects, the shards copied on the server at the
    /// commit (a copy takes the request's encryption, not its source's), the composed lineage and the run's records.
    /// </summary>
    [Fact]
    public void Workers_through_S3_encrypt_every_object_as_asked()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var (bucket, _) = TwoInputs(tmp, client, "scalesse", 2_000);
        var r = CliProcess.Run(["convert", $"s3://{bucket}/in/", "--out", $"s3://{bucket}/out/", "--label", "label", "--encode", "cat=onehot", "--shard-size", "32KB",
            "--endpoint-url", moto.Endpoint, "--sse", "AES256", "--workers", "2", "--keep-work", "--quiet"]);
        Assert.True(r.Code == 0, r.Err);
        var keys = S3Data.Keys(client, bucket, "out/");
        Assert.Contains(keys, k => k.StartsWith("out/train/part-00001", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.StartsWith("out/_dataprep/work/", StringComparison.Ordinal));
        Assert.Contains("out/_dataprep/lineage/train.csv", keys);
        var plain = keys.Where(k => S3Data.Head(client, bucket, k).ServerSideEncryptionMethod != Amazon.S3.ServerSideEncryptionMethod.AES256).ToList();
        Assert.True(plain.Count == 0, $"{plain.Count} of {keys.Count} objects not encrypted with AES256, e.g. {string.Join(", ", plain.Take(5))}");
    }

    /// <summary>
    /// <c>--on-bad-row quarantine</c> as workers through S3 (issue 17): each scan task's quarantined rows are a work
    /// object, composed at the commit into the same object, byte for byte, as one process reading the same inputs writes;
    /// run.json counts the same rows, and the work area is gone.
    /// </summary>
    [Fact]
    public void Bad_rows_as_workers_through_S3_are_quarantined_as_in_one_process()
    {
        var client = moto.Client();
        var bucket = moto.NewBucket("scalebad");
        S3Data.PutText(client, bucket, "in/a.csv", "y,a,b\n1,1,2\n0,x,3\n1,3,4\n0,4\n1,5,6\n0,6,7\n1,7,8\n0,8,9\n");
        S3Data.PutText(client, bucket, "in/b.csv", "y,a,b\n1,11,2\n0,12,inf\n1,,4\n0,14,5\n1,15,6\n0,16,7\n1,17,8\n0,y,9\n");
        string[] options = [$"s3://{bucket}/in/", "--label", "y", "--column-type", "a=int", "--allow-empty-split", "--on-bad-row", "quarantine", "--quiet", "--endpoint-url", moto.Endpoint];
        var one = CliRunner.Run(["convert", .. options, "--out", $"s3://{bucket}/one/"]);
        Assert.True(one.Code == 0, one.Err);
        string[] common = ["convert", .. options, "--out", $"s3://{bucket}/many/", "--workers", "2"];
        foreach (var (step, tasks) in new[] { ("scan", 2), ("plan", 1), ("encode", 2), ("write", 2), ("commit", 1) })
        {
            foreach (int t in Enumerable.Range(0, tasks).Reverse())
            {
                var r = CliRunner.Run([.. common, "--step", step, "--worker", t.ToString(CultureInfo.InvariantCulture)]);
                Assert.True(r.Code == 0, $"{step} {t}: {r.Err}");
            }
        }
        var a = S3Data.Download(client, bucket, "one/");
        var b = S3Data.Download(client, bucket, "many/");
        const string quarantine = "_dataprep/quarantine/part-00000.jsonl";
        Assert.Equal(5, Encoding.UTF8.GetString(a[quarantine]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains($"\"file\":\"s3://{bucket}/in/b.csv\"", Encoding.UTF8.GetString(b[quarantine]), StringComparison.Ordinal);
        Assert.Equal(a[quarantine], b[quarantine]);
        S3Data.AssertSameBytes(S3Data.DataOnly(a), S3Data.DataOnly(b));
        static string Summary(byte[] record) => System.Text.Json.Nodes.JsonNode.Parse(record)!["summary"]!.ToJsonString();
        Assert.Equal(Summary(a["_dataprep/run.json"]), Summary(b["_dataprep/run.json"]));
        Assert.Empty(S3Data.Keys(client, bucket, "many/_dataprep/work/"));

        // Each file divided into byte ranges of 20 bytes: the commit renumbers the later ranges' quarantined rows (work
        // objects read from S3 and written back) to the same object.
        ScaleOutTests.RunSteps(["convert", .. options, "--out", $"s3://{bucket}/ranges/", "--workers", "3", "--input-split-size", "20B"], new Random(3), (args, _) => CliRunner.Run(args));
        var c = S3Data.Download(client, bucket, "ranges/");
        Assert.Equal(a[quarantine], c[quarantine]);
        S3Data.AssertSameBytes(S3Data.DataOnly(a), S3Data.DataOnly(c));
        Assert.Equal(Summary(a["_dataprep/run.json"]), Summary(c["_dataprep/run.json"]));
        Assert.Empty(S3Data.Keys(client, bucket, "ranges/_dataprep/work/"));
    }

    /// <summary>
    /// Issue 16: the shards the commit adopts by server-side copy, the composed lineage and the run's records carry
    /// the same full-object CRC-32C as a directly uploaded object, equal to the CRC-32C of their bytes; so do the work
    /// objects the workers wrote (the CRCs the commit checks the copies against).
    /// </summary>
    [Fact]
    public void Workers_through_S3_leave_a_full_object_CRC32C_of_its_bytes_on_every_object()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var (bucket, _) = TwoInputs(tmp, client, "scalecrc", 2_000);
        var r = CliProcess.Run(["convert", $"s3://{bucket}/in/", "--out", $"s3://{bucket}/out/", "--label", "label", "--encode", "cat=onehot", "--shard-size", "32KB",
            "--endpoint-url", moto.Endpoint, "--workers", "2", "--keep-work", "--quiet"]);
        Assert.True(r.Code == 0, r.Err);
        var keys = S3Data.Keys(client, bucket, "out/");
        Assert.Contains(keys, k => k.StartsWith("out/train/part-00001", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.StartsWith("out/_dataprep/work/", StringComparison.Ordinal));
        Assert.Equal(keys.Count, S3Data.AssertFullObjectCrc32c(client, bucket, "out/"));
    }

    /// <summary>
    /// Image RecordIO with rotated copies as workers through S3 (images under a prefix, work area and output in the
    /// bucket), by the local engine: the .rec, .idx and lineage objects are the files of one local process.
    /// </summary>
    [Fact]
    public void Image_workers_through_S3_write_the_objects_of_one_local_process()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var bucket = moto.NewBucket("scaleimg");
        var local = ScaleOutImageTests.Folders(tmp);
        foreach (var f in Directory.EnumerateFiles(local, "*", SearchOption.AllDirectories)) S3Data.Put(client, bucket, "in/" + Path.GetRelativePath(local, f).Replace('\\', '/'), f);
        string[] options = ["--format", "recordio-image", "--augment", "rotate=90", "--stratify", "label", "--seed", "2", "--quiet"];
        var one = tmp.Combine("one");
        var single = CliRunner.Run(["convert", local, "--out", one, .. options]);
        Assert.True(single.Code == 0, single.Err);

        var r = CliProcess.Run(["convert", $"s3://{bucket}/in/", "--out", $"s3://{bucket}/out/", .. options, "--endpoint-url", moto.Endpoint, "--workers", "2"]);
        Assert.True(r.Code == 0, r.Err);
        var written = S3Data.DataOnly(S3Data.Download(client, bucket, "out/"));
        Assert.Contains("train/train.rec", written.Keys);
        Assert.Contains("_dataprep/train.idx", written.Keys);
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(one)), written);
        Assert.Empty(S3Data.Keys(client, bucket, "out/_dataprep/work/"));
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }

    /// <summary>
    /// An image replaced under the same key (same name, other bytes) between two steps is another run: the prefix is
    /// fingerprinted by every object's size, ETag and time stamp from its listing, not by its keys alone.
    /// </summary>
    [Fact]
    public void An_image_replaced_under_its_key_between_steps_is_refused_as_another_run()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var bucket = moto.NewBucket("imgswap");
        var local = ScaleOutImageTests.Folders(tmp);
        foreach (var f in Directory.EnumerateFiles(local, "*", SearchOption.AllDirectories)) S3Data.Put(client, bucket, "in/" + Path.GetRelativePath(local, f).Replace('\\', '/'), f);
        string[] common = ["convert", $"s3://{bucket}/in/", "--format", "recordio-image", "--out", $"s3://{bucket}/out/", "--endpoint-url", moto.Endpoint, "--workers", "2", "--quiet"];
        Assert.Equal(0, CliRunner.Run([.. common, "--step", "scan", "--worker", "0"]).Code);
        Assert.Equal(0, CliRunner.Run([.. common, "--step", "scan", "--worker", "1"]).Code);
        var victim = Directory.EnumerateFiles(Path.Combine(local, "cat")).Order(StringComparer.Ordinal).First();
        var changed = tmp.Combine("changed.png");
        var bytes = File.ReadAllBytes(victim);
        File.WriteAllBytes(changed, ImageTestData.PngPattern(7, 7));
        Assert.NotEqual(bytes, File.ReadAllBytes(changed));
        S3Data.Put(client, bucket, "in/cat/" + Path.GetFileName(victim), changed);
        var plan = CliRunner.Run([.. common, "--step", "plan"]);
        Assert.Equal(2, plan.Code);
        Assert.Contains("other options or inputs", plan.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(S3Data.Keys(client, bucket, "out/"), k => !k.StartsWith("out/_dataprep/work/", StringComparison.Ordinal));
    }

    /// <summary>
    /// DeepAR as workers through S3 (two unsorted inputs under a prefix, work area and output in the bucket), by the
    /// local engine: the encode tasks' series records, merged by key at the commit, are the objects of one local process.
    /// </summary>
    [Fact]
    public void DeepAR_workers_through_S3_write_the_objects_of_one_local_process()
    {
        using var tmp = new TempDir();
        var client = moto.Client();
        var bucket = moto.NewBucket("scaledeepar");
        var inputs = ScaleOutDeepArTests.UnsortedInputs(tmp);
        foreach (var f in inputs) S3Data.Put(client, bucket, "in/" + Path.GetFileName(f), f);
        string[] options = ["--label", "demand", "--split", "time", "--time", "date", "--series", "product", "--format", "deepar", "--deepar-cat", "promo", "--fractions", "70/15/15", "--quiet"];
        var one = tmp.Combine("one");
        var single = CliRunner.Run(["convert", .. inputs, "--out", one, .. options]);
        Assert.True(single.Code == 0, single.Err);

        var r = CliProcess.Run(["convert", $"s3://{bucket}/in/", "--out", $"s3://{bucket}/out/", .. options, "--endpoint-url", moto.Endpoint, "--workers", "3"]);
        Assert.True(r.Code == 0, r.Err);
        var written = S3Data.DataOnly(S3Data.Download(client, bucket, "out/"));
        Assert.Contains("validation/part-00000.json", written.Keys);
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(one)), written);
        Assert.Empty(S3Data.Keys(client, bucket, "out/_dataprep/work/"));
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }

    /// <summary>The one-process run of <see cref="TwoInputs"/>' local copies, in <c>one</c>.</summary>
    private static string OneProcess(TempDir tmp, string local, string[] options)
    {
        var one = tmp.Combine("one");
        var r = CliRunner.Run(["convert", Path.Combine(local, "part-a.csv"), Path.Combine(local, "part-b.csv"), "--out", one, .. options]);
        Assert.True(r.Code == 0, r.Err);
        return one;
    }

    /// <summary>Two copies of one CSV of <paramref name="rows"/> rows, as <c>in/part-a.csv</c> and <c>in/part-b.csv</c> in a new bucket and in a local folder.</summary>
    private (string Bucket, string Local) TwoInputs(TempDir tmp, Amazon.S3.IAmazonS3 client, string prefix, int rows)
    {
        var bucket = moto.NewBucket(prefix);
        var input = S3Data.BigCsv(tmp.Path, rows);
        var local = tmp.Combine("local");
        Directory.CreateDirectory(local);
        foreach (var name in new[] { "part-a.csv", "part-b.csv" })
        {
            S3Data.Put(client, bucket, "in/" + name, input);
            File.Copy(input, Path.Combine(local, name));
        }
        return (bucket, local);
    }
}
