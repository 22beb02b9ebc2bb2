using System.Text.Json;
using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Output;

/// <summary>channels.json, ManifestFiles, the snippet and --instances shard counts, without a server.</summary>
public sealed class ChannelsFileTests
{
    private static RunReport Report(bool gzip = false)
    {
        var r = new RunReport { ContentType = "text/csv" };
        string ext = gzip ? ".csv.gz" : ".csv";
        r.Splits["train"] = new SplitReport { Rows = 10, Shards = [new($"train/part-00000{ext}", 6, 60, "a"), new($"train/part-00001{ext}", 4, 40, "b")] };
        r.Splits["test"] = new SplitReport { Rows = 2, Shards = [new($"test/part-00000{ext}", 2, 20, "c")] };
        return r;
    }

    [Fact]
    public void Manifest_IsSageMakersManifestFileFormat()
    {
        var json = RunLayout.Manifest("s3://b/p", Report().Splits["train"].Shards.Select(s => s.Path));
        Assert.Equal("[{\"prefix\": \"s3://b/p/\"},\n \"train/part-00000.csv\",\n \"train/part-00001.csv\"]\n", json);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(3, doc.RootElement.GetArrayLength());
    }

    [Fact]
    public void Channels_CarryUriTypeBytesAndHints_InSplitOrder()
    {
        var report = Report(gzip: true);
        report.Channel.Distribution = "FullyReplicated";
        report.Channel.InputMode = "Pipe";
        report.Channel.RecordWrapperType = "RecordIO";
        report.Channel.S3DataType = "AugmentedManifestFile";
        report.Channel.AttributeNames = ["source-ref", "class"];
        var channels = ChannelsFile.Build(report, "s3://b/p/");
        Assert.Equal(["train", "test"], channels.Select(c => c.Name));
        var train = channels[0];
        // An augmented manifest is the channel's source itself (its JSON Lines object), not a ManifestFile.
        Assert.Equal(("s3://b/p/train/part-00000.csv.gz", "s3://b/p/train/", 100L, 2, "Gzip"), (train.S3Uri, train.Prefix, train.Bytes, train.Shards, train.CompressionType));
        report.Channel.S3DataType = "ManifestFile";
        Assert.Equal("s3://b/p/_dataprep/train.manifest", ChannelsFile.Build(report, "s3://b/p/")[0].S3Uri);
        Assert.Equal(("FullyReplicated", "Pipe", "RecordIO"), (train.Distribution, train.InputMode, train.RecordWrapperType));
        var json = ChannelsFile.Json(channels);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("source-ref", doc.RootElement.GetProperty("channels").GetProperty("train").GetProperty("attributeNames")[0].GetString());
        var snippet = ChannelsFile.Snippet(channels);
        Assert.Contains("record_wrapping=\"RecordIO\"", snippet);
        Assert.Contains("attribute_names=[\"source-ref\",\"class\"]", snippet);
        Assert.Contains("\"AttributeNames\": [", snippet);
    }

    [Fact]
    public void S3Prefix_PointsAtTheSplitFolder()
    {
        var report = Report();
        report.Channel.S3DataType = "S3Prefix";
        Assert.Equal("s3://b/p/test/", ChannelsFile.Build(report, "s3://b/p").Single(c => c.Name == "test").S3Uri);
    }

    [Fact]
    public void InstanceWarnings_NameSplitsWithFewerShardsThanInstances_AndFullyReplicatedFormats()
    {
        var report = Report();
        InstanceWarnings.Add(report, 2);
        Assert.Single(report.Warnings);
        Assert.Contains("split 'test' has only 1 shard(s)", report.Warnings[0]);
        var replicated = Report();
        replicated.Channel.Distribution = "FullyReplicated";
        InstanceWarnings.Add(replicated, 4);
        Assert.Contains("FullyReplicated", Assert.Single(replicated.Warnings));
    }

    [Property(MaxTest = 200)]
    public Property ShardCount_IsAMultipleOfTheInstances_AndAtLeastWhatTheLimitsNeed_AtMostOnePerRecord(PositiveInt records, PositiveInt recordBytes, PositiveInt maxBytes, PositiveInt instances, NonNegativeInt count)
    {
        int n = Math.Min(records.Get, 5000), size = Math.Min(recordBytes.Get, 1000), m = Math.Min(instances.Get, 16), c = Math.Min(count.Get, 50);
        long limit = Math.Min(maxBytes.Get, 100_000);
        // Without a count or instances the size mode streams, and refuses a record larger than the size (ShardRuleTests).
        if (c == 0 && m == 1) limit = Math.Max(limit, size);
        var options = new ShardOptions(MaxBytes: limit, Count: c, Multiple: m);
        var rule = ShardRule.For(options, "train", n, (long)n * size, size);
        int shards = rule.ShardOf(n - 1, (long)(n - 1) * size, (long)n * size) + 1;
        long needed = c > 0 ? c : Math.Max(1, ((long)n * size + options.EffectiveMaxBytes - 1) / options.EffectiveMaxBytes);
        bool capped = shards == n && n < (needed + m - 1) / m * m;
        return (capped || (shards % m == 0 && shards >= needed && shards < needed + m)).ToProperty();
    }
}
