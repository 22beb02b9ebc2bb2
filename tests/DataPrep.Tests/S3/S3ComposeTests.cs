using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Pipeline;
using DataPrep.S3;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.S3;

/// <summary>
/// A scaled-out run's lineage file is composed on the server from the write tasks' parts (UploadPartCopy): the plan
/// of parts covers the header and every part exactly once, in order, within S3's part-size rules, and reads few bytes
/// here; on a real S3 server the object is those bytes, under the run's encryption.
/// </summary>
[Collection("moto")]
public sealed class S3ComposeTests(MotoServer moto)
{
    [Property]
    public Property Plan_covers_every_byte_once_in_order_within_the_part_rules()
    {
        var sizes = Gen.Elements(0L, 1L, 3L, 9L, 10L, 11L, 24L, 25L, 26L, 49L, 51L, 77L, 130L).ListOf();
        var inputs = from h in Gen.Choose(0, 12) from l in sizes select ((long)h, l);
        return Prop.ForAll(inputs.ToArbitrary(), input =>
        {
            var (header, list) = input;
            const long min = 10, maxCopy = 25;
            var pieces = S3Compose.Plan(header, list, min, maxCopy);

            // Exactly the header, then every source whole, in order, no empty range.
            var expected = new List<(int Source, long Offset)>();
            for (long b = 0; b < header; b++) expected.Add((-1, b));
            for (int i = 0; i < list.Count; i++) for (long b = 0; b < list[i]; b++) expected.Add((i, b));
            var actual = pieces.SelectMany(p => p.Ranges).SelectMany(r => Enumerable.Range(0, (int)r.Length).Select(k => (r.Source, r.Offset + k))).ToList();
            Assert.Equal(expected, actual);
            Assert.All(pieces.SelectMany(p => p.Ranges), r => Assert.True(r.Length > 0));

            // Every part but the last at least the minimum; a copy is one range of one source, at most maxCopy.
            for (int n = 0; n < pieces.Count - 1; n++) Assert.True(pieces[n].Length >= min, $"part {n + 1} of {pieces.Count}: {pieces[n].Length} bytes");
            Assert.All(pieces.Where(p => p.Copy), p =>
            {
                Assert.Single(p.Ranges);
                Assert.True(p.Ranges[0].Source >= 0 && p.Length <= maxCopy && p.Length >= min);
            });

            // Bytes read here: less than two minimum parts from each source (a top-up, then a rest too small to copy).
            var readHere = pieces.Where(p => !p.Copy).SelectMany(p => p.Ranges).Where(r => r.Source >= 0).GroupBy(r => r.Source);
            Assert.All(readHere, g => Assert.True(g.Sum(r => r.Length) < 2 * min));
        });
    }

    /// <summary>Work objects of random bytes of these sizes, as write tasks leave a channel's lineage parts.</summary>
    private static async Task<(List<byte[]> Parts, List<string> Keys)> PutPartsAsync(DataPrep.Output.IWorkArea area, long[] sizes, int seed)
    {
        var random = new Random(seed);
        var parts = new List<byte[]>();
        var keys = new List<string>();
        for (int i = 0; i < sizes.Length; i++)
        {
            var bytes = new byte[sizes[i]];
            random.NextBytes(bytes);
            parts.Add(bytes);
            keys.Add($"write/{i:D5}/train.lineage");
            await area.PutAsync(keys[^1], bytes, default);
        }
        return (parts, keys);
    }

    [Fact]
    public async Task Lineage_parts_are_composed_on_the_server_into_the_bytes_of_a_concatenation_under_the_runs_encryption()
    {
        var client = moto.Client();
        var bucket = moto.NewBucket("compose");
        var settings = new S3Options { EndpointUrl = moto.Endpoint, Sse = "AES256" };
        var area = (DataPrep.Output.IWorkArea)new S3WorkArea($"s3://{bucket}/work/", client, settings);
        // 12 MiB (copied in place), 1 KiB (read here with the start of the next), 6 MiB, empty, 5 MiB + 1.
        var (parts, keys) = await PutPartsAsync(area, [12L << 20, 1024, 6L << 20, 0, (5L << 20) + 1], seed: 7);
        var header = "row_id,source,source_row,shard,record,content_hash\n"u8.ToArray();

        await using var store = new S3OutputStore($"s3://{bucket}/out/", client, settings);
        await store.PrepareAsync(false, default);
        await area.ComposeAsync(header, keys, store, "_dataprep/lineage/train.csv", default);
        await store.CommitAsync("_dataprep/run.json", "{}"u8.ToArray(), default);

        var written = S3Data.Download(client, bucket, "out/_dataprep/lineage/")["train.csv"];
        Assert.Equal(header.Concat(parts.SelectMany(p => p)).ToArray(), written);
        var head = S3Data.Head(client, bucket, "out/_dataprep/lineage/train.csv");
        Assert.Equal(ServerSideEncryptionMethod.AES256, head.ServerSideEncryptionMethod);
        Assert.Contains("-", head.ETag, StringComparison.Ordinal);   // a multipart object: composed, not uploaded whole
        // Issue 16: the composed object carries the full-object CRC-32C of its bytes, like an uploaded one (moto computes it).
        var crc = S3Data.HeadWithChecksum(client, bucket, "out/_dataprep/lineage/train.csv");
        Assert.Equal(S3Checksum.Encode(S3Checksum.Of(written)), crc.ChecksumCRC32C);
        Assert.Equal(ChecksumType.FULL_OBJECT, crc.ChecksumType);
        Assert.Equal(5, S3Data.AssertFullObjectCrc32c(client, bucket, "work/"));
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }

    /// <summary>
    /// A composed object's byte parts (the header and objects too small to copy, read here and uploaded) are held in memory
    /// while they upload: the work area the registry opens for a run under <c>--memory 128MB</c> sends at most the three
    /// parts an output store may hold then (<see cref="ConvertOptions.EffectiveS3"/>), not <c>--upload-concurrency</c>'s
    /// 8, while its copied parts keep <c>--copy-concurrency</c>. A proxy holds each byte part for a second and counts how
    /// many it held at once.
    /// </summary>
    [Fact]
    public async Task A_composed_objects_byte_parts_upload_within_the_memory_budget()
    {
        var client = moto.Client();
        var bucket = moto.NewBucket("composemem");
        // Nine objects of 4 MiB (each read here with the start of the next), then one of 12 MiB (copied in place).
        long[] sizes = [.. Enumerable.Repeat(4L << 20, 9), 12L << 20];
        var header = "row_id,source,source_row,shard,record,content_hash\n"u8.ToArray();
        var pieces = S3Compose.Plan(header.Length, sizes);
        var byteParts = Enumerable.Range(1, pieces.Count).Where(n => !pieces[n - 1].Copy).ToHashSet();
        Assert.True(byteParts.Count >= 6 && byteParts.Count < pieces.Count, $"{byteParts.Count} byte parts of {pieces.Count}: the test needs more than 3, and a copy");
        var partNumber = new System.Text.RegularExpressions.Regex(@"[?&]partNumber=(\d+)");
        using var proxy = new FaultProxy(moto.Port, (_, line) =>
        {
            var m = partNumber.Match(line);
            return line.StartsWith($"PUT /{bucket}/out/", StringComparison.Ordinal) && m.Success && byteParts.Contains(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)) ? Fault.Delay : Fault.None;
        })
        {
            DelayFor = TimeSpan.FromSeconds(1),
        };
        var options = new ConvertOptions
        {
            Inputs = [$"s3://{bucket}/in/"], Output = $"s3://{bucket}/out/", Label = "y",
            Memory = new MemoryOptions(128L << 20), S3 = new S3Options { EndpointUrl = proxy.Endpoint },
        };
        Assert.Equal(8, options.S3.Concurrency);
        Assert.Equal(3, options.EffectiveS3.Concurrency);
        var registry = new DataPrep.Conversion.DataPrepRegistry().AddS3();
        var area = registry.Stores.CreateWorkArea($"s3://{bucket}/work/", options);
        var (parts, keys) = await PutPartsAsync(area, sizes, seed: 18);

        await using var store = registry.Stores.CreateOutput(options);
        await store.PrepareAsync(false, default);
        await area.ComposeAsync(header, keys, store, "_dataprep/lineage/train.csv", default);
        await store.CommitAsync("_dataprep/run.json", "{}"u8.ToArray(), default);

        Assert.Equal(byteParts.Count, proxy.Injected.Count);
        Assert.InRange(proxy.MostDelayedAtOnce, 2, 3);
        Assert.Equal(header.Concat(parts.SelectMany(p => p)).ToArray(), S3Data.Download(client, bucket, "out/_dataprep/lineage/")["train.csv"]);
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }

    /// <summary>
    /// The copy in the channel is checked against the CRC-32C the worker's upload gave the work object: a work object
    /// whose bytes no longer have that CRC (here its CRC was recorded wrong; moto takes a sent checksum on trust) is
    /// refused by a single copy and by a composition, and nothing is adopted or left half-done.
    /// </summary>
    [Fact]
    public async Task A_copy_whose_bytes_differ_from_the_work_objects_CRC32C_is_refused()
    {
        var client = moto.Client();
        var bucket = moto.NewBucket("composebad");
        var settings = new S3Options { EndpointUrl = moto.Endpoint };
        var area = (DataPrep.Output.IWorkArea)new S3WorkArea($"s3://{bucket}/work/", client, settings);
        var good = new byte[12 << 20]; // more than two minimum parts: composed with a copied part, not streamed here
        new Random(16).NextBytes(good);
        var bad = good.ToArray();
        await area.PutAsync("write/00000/good", good, default);
        // The worker recorded the CRC of other bytes (one bit flipped) than S3 holds.
        bad[100] ^= 0x10;
        await client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket, Key = "work/write/00001/bad", InputStream = new MemoryStream(good),
            ChecksumAlgorithm = ChecksumAlgorithm.CRC32C, ChecksumCRC32C = S3Checksum.Encode(S3Checksum.Of(bad)),
        });

        await using var store = new S3OutputStore($"s3://{bucket}/out/", client, settings);
        await store.PrepareAsync(false, default);
        await area.AdoptAsync("write/00000/good", store, "train/part-00000.csv", default);
        Assert.Equal(S3Checksum.Encode(S3Checksum.Of(good)), S3Data.HeadWithChecksum(client, bucket, "out/train/part-00000.csv").ChecksumCRC32C);

        var copy = await Assert.ThrowsAsync<ChecksumMismatchException>(() => area.AdoptAsync("write/00001/bad", store, "train/part-00001.csv", default));
        Assert.Contains("CRC-32C", copy.Message, StringComparison.Ordinal);
        var composed = await Assert.ThrowsAsync<ChecksumMismatchException>(() => area.ComposeAsync("h\n"u8.ToArray(), ["write/00000/good", "write/00001/bad"], store, "_dataprep/lineage/train.csv", default));
        Assert.Contains("CRC-32C", composed.Message, StringComparison.Ordinal);
        Assert.Equal(["out/train/part-00000.csv"], S3Data.Keys(client, bucket, "out/"));
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
    }
}
