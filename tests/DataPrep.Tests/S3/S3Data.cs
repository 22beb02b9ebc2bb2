using System.Globalization;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;

namespace DataPrep.Tests.S3;

/// <summary>Downloads prefixes, reads local runs and makes seeded test data.</summary>
public static class S3Data
{
    /// <summary>Every object under the prefix (relative key → bytes), downloaded in full.</summary>
    public static SortedDictionary<string, byte[]> Download(IAmazonS3 client, string bucket, string prefix)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var key in Keys(client, bucket, prefix))
        {
            using var r = client.GetObjectAsync(bucket, key).GetAwaiter().GetResult();
            using var m = new MemoryStream();
            r.ResponseStream.CopyTo(m);
            result[key[prefix.Length..]] = m.ToArray();
        }
        return result;
    }

    public static List<string> Keys(IAmazonS3 client, string bucket, string prefix)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token }).GetAwaiter().GetResult();
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>Every file of a local run (relative path with '/' → bytes).</summary>
    public static SortedDictionary<string, byte[]> Local(string root)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            result[Path.GetRelativePath(root, f).Replace('\\', '/')] = File.ReadAllBytes(f);
        }
        return result;
    }

    /// <summary>
    /// The files whose bytes depend only on the data (shards and lineage), not on where the run went or
    /// when: run.json (timings, output), manifests and channels.json (URIs) are compared separately.
    /// </summary>
    public static SortedDictionary<string, byte[]> DataOnly(SortedDictionary<string, byte[]> files)
        => new(files.Where(kv => !kv.Key.EndsWith(".manifest", StringComparison.Ordinal) && kv.Key != "_dataprep/run.json" && kv.Key != "_dataprep/channels.json")
            .ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);

    public static void AssertSameBytes(SortedDictionary<string, byte[]> expected, SortedDictionary<string, byte[]> actual)
    {
        Assert.Equal(expected.Keys.ToList(), actual.Keys.ToList());
        foreach (var (k, v) in expected)
        {
            Assert.True(v.AsSpan().SequenceEqual(actual[k]), $"{k}: {actual[k].Length} bytes in S3 differ from the {v.Length} bytes of the local run");
        }
    }

    /// <summary>A seeded CSV of about <paramref name="rows"/> × 60 bytes: id, four numbers, a category, a 0/1 label.</summary>
    public static string BigCsv(string dir, int rows, int seed = 1)
    {
        var path = Path.Combine(dir, $"big-{rows}-{seed}.csv");
        if (File.Exists(path)) return path;
        var rng = new Random(seed);
        var sb = new StringBuilder("id,x1,x2,x3,x4,cat,label\n");
        for (int i = 0; i < rows; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{i},{rng.NextDouble():F6},{rng.NextDouble() * 1000:F3},{rng.Next(100000)},{rng.NextDouble():F8},{(char)('a' + rng.Next(6))},{rng.Next(2)}\n");
        }
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    public static void PutText(IAmazonS3 client, string bucket, string key, string text)
        => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = text }).GetAwaiter().GetResult();

    public static GetObjectMetadataResponse Head(IAmazonS3 client, string bucket, string key) => client.GetObjectMetadataAsync(bucket, key).GetAwaiter().GetResult();

    /// <summary>A HEAD that asks for the object's checksum (<c>x-amz-checksum-mode: ENABLED</c>).</summary>
    public static GetObjectMetadataResponse HeadWithChecksum(IAmazonS3 client, string bucket, string key)
        => client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key, ChecksumMode = ChecksumMode.ENABLED }).GetAwaiter().GetResult();

    /// <summary>
    /// Every object under the prefix carries a full-object CRC-32C (what DataPrep asks S3 to keep) equal to the
    /// CRC-32C of its bytes, computed here; returns how many objects were checked.
    /// </summary>
    public static int AssertFullObjectCrc32c(IAmazonS3 client, string bucket, string prefix)
    {
        var objects = Download(client, bucket, prefix);
        foreach (var (path, bytes) in objects)
        {
            var head = HeadWithChecksum(client, bucket, prefix + path);
            var expected = DataPrep.S3.S3Checksum.Encode(DataPrep.S3.S3Checksum.Of(bytes));
            Assert.True(expected == head.ChecksumCRC32C, $"{prefix}{path} ({bytes.Length} bytes): S3 keeps CRC-32C '{head.ChecksumCRC32C}', its bytes have {expected} (CRC-32 '{head.ChecksumCRC32}')");
            Assert.NotEqual(ChecksumType.COMPOSITE, head.ChecksumType);
        }
        return objects.Count;
    }

    public static string ETag(IAmazonS3 client, string bucket, string key) => client.GetObjectMetadataAsync(bucket, key).GetAwaiter().GetResult().ETag;

    public static List<MultipartUpload> IncompleteUploads(IAmazonS3 client, string bucket)
        => client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket }).GetAwaiter().GetResult().MultipartUploads ?? [];

    public static void Put(IAmazonS3 client, string bucket, string key, string file)
        => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file }).GetAwaiter().GetResult();
}
