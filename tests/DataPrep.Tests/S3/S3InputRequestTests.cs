using System.Globalization;
using System.Text;
using Amazon.S3.Model;
using DataPrep.Cli;
using DataPrep.Pipeline;

namespace DataPrep.Tests.S3;

/// <summary>
/// What reading S3 inputs costs in requests, counted by a proxy in front of moto: blocks that grow while a reader goes
/// on (a schema sample reads little more than it uses), one version of each object per run (its size and ETag asked
/// once: from the listing or one HEAD), and the inputs' fingerprints asked in parallel with errors in input order.
/// </summary>
[Collection("moto")]
public sealed class S3InputRequestTests(MotoServer moto)
{
    private const int MiB = 1 << 20;

    [Fact]
    public async Task A_reader_that_stops_early_fetches_little_more_than_it_read_and_a_whole_read_fetches_each_byte_once()
    {
        var bytes = new byte[40_000_000];
        new Random(7).NextBytes(bytes);
        var bucket = moto.NewBucket("ramp");
        using (var client = moto.Client()) await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "big.bin", InputStream = new MemoryStream(bytes) });
        using var proxy = new FaultProxy(moto.Port);
        var files = DataPrepCli.CreateRegistry().Stores.Inputs(new S3Options { EndpointUrl = proxy.Endpoint });
        var uri = $"s3://{bucket}/big.bin";

        // A schema sample's worth (3 MB): 1 MiB, then 2 MiB; nothing fetched ahead. (Fixed 8 MiB blocks with one ahead
        // fetched 16 MiB for it.)
        var sample = new byte[3_000_000];
        using (var s = files.Open(uri)) s.ReadExactly(sample);
        Assert.Equal(bytes.AsSpan(0, sample.Length).ToArray(), sample);
        var ranges = Gets(proxy);
        Assert.Equal(new List<(long, long)> { (0L, MiB - 1L), (MiB, 3L * MiB - 1) }, ranges);
        Assert.Equal(1, Heads(proxy));   // the open's one HEAD (size and ETag); nothing listed it before

        // The whole object: 1, 2, 4, then 8 MiB blocks fetched ahead; contiguous, every byte once. No second HEAD:
        // the run already knows the object.
        Clear(proxy);
        using (var s = files.Open(uri))
        {
            var all = new MemoryStream();
            s.CopyTo(all, 300_000);
            Assert.Equal(bytes, all.ToArray());
        }
        ranges = Gets(proxy);
        Assert.Equal(0, Heads(proxy));
        Assert.Equal(new long[] { MiB, 2 * MiB, 4 * MiB, 8 * MiB, 8 * MiB, 8 * MiB }, ranges.Take(6).Select(r => r.End - r.Start + 1));
        Assert.Equal(7, ranges.Count);
        Assert.Equal(0, ranges[0].Start);
        for (int i = 1; i < ranges.Count; i++) Assert.Equal(ranges[i - 1].End + 1, ranges[i].Start);
        Assert.Equal(bytes.Length - 1L, ranges[^1].End);

        // A seek starts small again: a footer-sized read at the end is one GET of just those bytes (after the first
        // block, which opening reads to look for gzip's magic bytes).
        Clear(proxy);
        using (var s = files.Open(uri))
        {
            s.Seek(-8, SeekOrigin.End);
            var tail = new byte[8];
            s.ReadExactly(tail);
            Assert.Equal(bytes.AsSpan(bytes.Length - 8).ToArray(), tail);
            s.Seek(-100_000, SeekOrigin.End);
            var footer = new byte[100_000];
            s.ReadExactly(footer);
            Assert.Equal(bytes.AsSpan(bytes.Length - 100_000).ToArray(), footer);
        }
        Assert.Equal(new List<(long, long)> { (0L, MiB - 1L), (bytes.Length - 8L, bytes.Length - 1L), (bytes.Length - 100_000L, bytes.Length - 1L) }, Gets(proxy));
    }

    [Fact]
    public void A_run_asks_each_input_object_for_its_size_and_version_once()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("once");
        var texts = new List<string>();
        using (var client = moto.Client())
        {
            for (int f = 0; f < 3; f++)
            {
                var sb = new StringBuilder("y,a,b\n");
                for (int i = 0; i < 400; i++) sb.Append(CultureInfo.InvariantCulture, $"{(i + f) % 2},{i * 0.5 + f},{i % 9}\n");
                texts.Add(sb.ToString());
                S3Data.PutText(client, bucket, $"in/part-{f}.csv", texts[^1]);
            }
        }
        using var proxy = new FaultProxy(moto.Port);

        // A prefix: one LIST, then one HEAD per object (the run record's time stamp); the schema sample, the whole read
        // and the spill estimate send none of their own.
        var registry = DataPrepCli.CreateRegistry();
        var fromPrefix = tmp.Combine("prefix");
        var r = CliRunner.Run(registry, ["convert", $"s3://{bucket}/in/", "--out", fromPrefix, "--label", "y", "--seed", "5", "--endpoint-url", proxy.Endpoint]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(3, Heads(proxy));
        Assert.Equal(1, proxy.RequestLines.Count(l => l.Contains("list-type=2", StringComparison.Ordinal)));
        Assert.Equal(new[] { "HEAD " + Path(bucket, "in/part-0.csv"), "HEAD " + Path(bucket, "in/part-1.csv"), "HEAD " + Path(bucket, "in/part-2.csv") },
            proxy.RequestLines.Where(l => l.StartsWith("HEAD ", StringComparison.Ordinal)).Select(l => l[..l.LastIndexOf(' ')]).Order(StringComparer.Ordinal));

        // Objects named one by one: the HEAD that finds each is the only one.
        Clear(proxy);
        var named = tmp.Combine("named");
        r = CliRunner.Run(DataPrepCli.CreateRegistry(), ["convert", .. Enumerable.Range(0, 3).Select(f => $"s3://{bucket}/in/part-{f}.csv"), "--out", named, "--label", "y", "--seed", "5", "--endpoint-url", proxy.Endpoint]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(3, Heads(proxy));

        // Same data either way, and the same as the local files.
        var local = tmp.Combine("local");
        for (int f = 0; f < 3; f++) tmp.File($"in/part-{f}.csv", texts[f]);
        Assert.Equal(0, CliRunner.Run(["convert", tmp.Combine("in"), "--out", local, "--label", "y", "--seed", "5"]).Code);
        var want = Shards(local);
        Assert.NotEmpty(want);
        Assert.Equal(want, Shards(fromPrefix));
        Assert.Equal(want, Shards(named));
    }

    [Fact]
    public void An_object_replaced_after_the_run_saw_it_is_refused_not_read_as_its_new_version()
    {
        var bucket = moto.NewBucket("changed");
        using var client = moto.Client();
        S3Data.PutText(client, bucket, "in/data.csv", "y,a\n1,2\n");
        var files = DataPrepCli.CreateRegistry().Stores.Inputs(new S3Options { EndpointUrl = moto.Endpoint });
        var uri = $"s3://{bucket}/in/data.csv";
        Assert.Equal([uri], files.Expand([$"s3://{bucket}/in/"]));   // the run has seen the object (its listing)
        S3Data.PutText(client, bucket, "in/data.csv", "y,a\n1,2\n3,4\n");

        var fs = files.FileSystemOf(uri)!;
        var fingerprint = Assert.Throws<DataFormatException>(() => fs.Fingerprint(uri));
        Assert.Contains(uri, fingerprint.Message, StringComparison.Ordinal);
        Assert.Contains("changed during the run", fingerprint.Message, StringComparison.Ordinal);
        Assert.Equal(8, fs.SizeOf(uri));   // what the run saw, not the new 12 bytes

        var read = Assert.Throws<DataFormatException>(() => { using var s = files.Open(uri); s.ReadExactly(new byte[4]); });
        Assert.Contains("changed while being read", read.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fingerprints_asked_in_parallel_report_the_first_failing_input_in_order()
    {
        var bucket = moto.NewBucket("order");
        using (var client = moto.Client()) S3Data.PutText(client, bucket, "ok.csv", "y\n1\n");
        var files = DataPrepCli.CreateRegistry().Stores.Inputs(new S3Options { EndpointUrl = moto.Endpoint });
        string[] paths = [$"s3://{bucket}/ok.csv", $"s3://{bucket}/missing-b.csv", "local.csv", $"s3://{bucket}/missing-a.csv"];
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var e = Assert.Throws<PipelineValidationException>(() => files.RemoteFingerprints(paths));
            Assert.Contains("missing-b.csv", e.Message, StringComparison.Ordinal);
        }
        var some = files.RemoteFingerprints(paths, i => i == 0 || i == 2);
        Assert.Equal(4, some[0]!.Bytes);
        Assert.Null(some[1]);
        Assert.Null(some[2]);   // a local path is not remote
        Assert.Null(some[3]);
    }

    private static string Path(string bucket, string key) => $"/{bucket}/{key}";

    private static int Heads(FaultProxy proxy) => proxy.RequestLines.Count(l => l.StartsWith("HEAD ", StringComparison.Ordinal));

    private static void Clear(FaultProxy proxy)
    {
        proxy.RequestLines.Clear();
        proxy.Requests.Clear();
    }

    /// <summary>The byte ranges of the GETs, in the order asked.</summary>
    private static List<(long Start, long End)> Gets(FaultProxy proxy)
        => [.. proxy.Requests.Where(r => r.Line.StartsWith("GET ", StringComparison.Ordinal) && r.Range is not null).Select(r =>
        {
            var span = r.Range!["bytes=".Length..].Split('-');
            return (long.Parse(span[0], CultureInfo.InvariantCulture), long.Parse(span[1], CultureInfo.InvariantCulture));
        })];

    private static Dictionary<string, string> Shards(string outDir)
        => RunOutputs.FileHashes(outDir).Where(kv => !kv.Key.StartsWith("_dataprep/", StringComparison.Ordinal)).ToDictionary();
}
