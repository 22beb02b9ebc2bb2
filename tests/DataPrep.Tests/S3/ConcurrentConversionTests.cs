using Amazon.S3.Model;
using DataPrep.Cli;

namespace DataPrep.Tests.S3;

/// <summary>
/// Two conversions in one process (a notebook, a test host, a worker) share nothing but the registry: each reads
/// S3 through its own endpoint, with its own memory budget and output format, and writes exactly what it writes alone.
/// </summary>
[Collection("moto")]
public sealed class ConcurrentConversionTests(MotoServer moto)
{
    [Fact]
    public async Task Two_conversions_with_different_settings_at_the_same_time_write_what_each_writes_alone()
    {
        using var tmp = new TempDir();
        using var other = new MotoServer();
        // The same bucket and key on two servers, holding different data: a run that used the other run's endpoint
        // would read the other data (and write other bytes), not fail.
        const string bucket = "shared-input";
        var churn = File.ReadAllLines(Paths.SampleData("churn.csv"));
        Upload(moto, bucket, string.Join('\n', churn) + "\n");
        Upload(other, bucket, string.Join('\n', churn.Take(1201)) + "\n");
        const string input = $"s3://{bucket}/in/data.csv";
        string[] common = ["--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--quiet", "--seed", "11"];
        string[] A(string outDir) => ["convert", input, "--out", outDir, .. common, "--endpoint-url", moto.Endpoint, "--memory", "64KB", "--batch-rows", "128", "--format", "csv"];
        string[] B(string outDir) => ["convert", input, "--out", outDir, .. common, "--endpoint-url", other.Endpoint, "--format", "recordio-protobuf", "--shard-rows", "250"];

        var aloneA = await RunAsync(DataPrepCli.CreateRegistry(), A(tmp.Combine("alone-a")));
        var aloneB = await RunAsync(DataPrepCli.CreateRegistry(), B(tmp.Combine("alone-b")));
        var expectedA = RunOutputs.FileHashes(tmp.Combine("alone-a"));
        var expectedB = RunOutputs.FileHashes(tmp.Combine("alone-b"));
        Assert.NotEqual(expectedA.Keys.Order(), expectedB.Keys.Order());   // different formats: .csv vs .pbr shards
        Assert.Contains("train/part-00000.pbr", expectedB.Keys);

        for (int round = 0; round < 3; round++)
        {
            var shared = DataPrepCli.CreateRegistry();
            var outA = tmp.Combine($"a-{round}");
            var outB = tmp.Combine($"b-{round}");
            var runs = await Task.WhenAll(Task.Run(() => RunAsync(shared, A(outA))), Task.Run(() => RunAsync(shared, B(outB))));
            Assert.True(shared.Diagnostics.Spills >= 1, "conversion A was meant to spill under its 64KB budget");
            Assert.Equal(expectedA, RunOutputs.FileHashes(outA));
            Assert.Equal(expectedB, RunOutputs.FileHashes(outB));
            Assert.Equal(aloneA.Rows, runs[0].Rows);
            Assert.Equal(aloneB.Rows, runs[1].Rows);
        }
        Assert.Equal(2000, aloneA.Rows);
        Assert.Equal(1200, aloneB.Rows);
    }

    private sealed record Outcome(long Rows);

    private static async Task<Outcome> RunAsync(DataPrep.Conversion.DataPrepRegistry registry, string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await DataPrepCli.RunAsync([.. args.Where(a => a != "--quiet"), "--json"], stdout, stderr, registry);
        Assert.True(code == 0, stderr.ToString());
        using var report = System.Text.Json.JsonDocument.Parse(stdout.ToString());
        return new Outcome(report.RootElement.GetProperty("rowsRead").GetInt64());
    }

    private static void Upload(S3ServerFixture server, string bucket, string text)
    {
        using var client = server.Client();
        client.PutBucketAsync(new PutBucketRequest { BucketName = bucket }).GetAwaiter().GetResult();
        S3Data.PutText(client, bucket, "in/data.csv", text);
    }
}
