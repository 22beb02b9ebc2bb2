using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.S3;

namespace DataPrep.Tests.S3;

/// <summary>
/// Full-object CRC-32 checksums (issue 17, finding 10): every object DataPrep writes carries one S3 checks, and
/// --resume keeps or replaces objects by it, under SSE-KMS too (where the ETag is no MD5).
/// </summary>
[Collection("moto")]
public sealed class S3ChecksumTests(MotoServer moto)
{
    private static readonly string[] s_big = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--quiet",
        "--shard-size", "6MB", "--part-size", "5MB", "--no-lineage"];

    [Fact]
    public void Crc32_IsTheStandardOne_InS3sEncoding()
    {
        Assert.Equal(0xCBF43926u, S3Checksum.Of("123456789"u8));
        Assert.Equal("y/Q5Jg==", S3Checksum.Encode(0xCBF43926u));
        Assert.Equal(S3Checksum.Of("123456789"u8), S3Checksum.Combine(S3Checksum.Of("1234"u8), S3Checksum.Of("56789"u8), 5));
    }

    [Property]
    public bool Combine_OfTwoPartsCrcs_IsTheCrcOfTheirConcatenation(byte[] first, byte[] second)
        => S3Checksum.Combine(S3Checksum.Of(first), S3Checksum.Of(second), second.Length) == S3Checksum.Of([.. first, .. second]);

    [Fact]
    public void SseKms_EveryObjectCarriesAFullObjectCrc32_OfTheBytesWritten()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 300_000, seed: 5);
        var bucket = moto.NewBucket("kms");
        var key = CreateKmsKey();
        var r = Convert(csv, $"s3://{bucket}/k/", [.. s_big, "--sse", "aws:kms", "--sse-kms-key-id", key]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(0, CliRunner.Run(["convert", csv, "--out", tmp.Combine("local"), .. s_big]).Code);
        using var client = moto.Client();
        var local = S3Data.Local(tmp.Combine("local"));
        var remote = S3Data.Download(client, bucket, "k/");
        S3Data.AssertSameBytes(S3Data.DataOnly(local), S3Data.DataOnly(remote));
        Assert.True(remote["train/part-00000.csv"].Length > 5 << 20, "a shard must need a multipart upload");
        foreach (var (path, bytes) in remote)
        {
            var head = HeadWithChecksum(client, bucket, "k/" + path);
            Assert.Equal(ServerSideEncryptionMethod.AWSKMS, head.ServerSideEncryptionMethod);
            Assert.Equal(key, head.ServerSideEncryptionKeyManagementServiceKeyId);
            Assert.Equal(S3Checksum.Encode(S3Checksum.Of(bytes)), head.ChecksumCRC32);
            if (bytes.Length > 5 << 20) Assert.Equal(ChecksumType.FULL_OBJECT, head.ChecksumType);
        }
    }

    [Fact]
    public async Task SseKms_Resume_KeepsUnchangedObjects_AndReplacesAChangedOneOfTheSameSize()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 300_000, seed: 6);
        var bucket = moto.NewBucket("kmsresume");
        var key = CreateKmsKey();
        string[] args = [.. s_big, "--sse", "aws:kms", "--sse-kms-key-id", key];
        Assert.Equal(0, Convert(csv, $"s3://{bucket}/r/", args).Code);
        using var client = moto.Client();
        // An unfinished run: no run.json; one multipart shard and one single-PUT shard changed in place, same sizes.
        await client.DeleteObjectAsync(bucket, "r/_dataprep/run.json");
        var objects = S3Data.Download(client, bucket, "r/");
        const string big = "r/train/part-00000.csv", small = "r/validation/part-00000.csv";
        Assert.True(objects["train/part-00000.csv"].Length > 5 << 20 && objects["validation/part-00000.csv"].Length < 5 << 20);
        foreach (var k in new[] { big, small })
        {
            var changed = objects[k[2..]].ToArray();
            changed[changed.Length / 2] ^= 0x01; // one bit, same size
            await client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket, Key = k, InputStream = new MemoryStream(changed), ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
                ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS, ServerSideEncryptionKeyManagementServiceKeyId = key,
            });
        }

        using var counting = new FaultProxy(moto.Port);
        var resumed = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/r/", "--endpoint-url", counting.Endpoint, "--resume", .. args]);
        Assert.True(resumed.Code == 0, resumed.Err);

        Assert.Equal(0, CliRunner.Run(["convert", csv, "--out", tmp.Combine("local"), .. s_big]).Code);
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local"))), S3Data.DataOnly(S3Data.Download(client, bucket, "r/")));
        var puts = counting.RequestLines.Where(l => l.StartsWith("PUT ", StringComparison.Ordinal)).ToList();
        bool Sent(string k) => puts.Any(l => l.Contains($"/{k} ", StringComparison.Ordinal) || l.Contains($"/{k}?", StringComparison.Ordinal));
        Assert.True(Sent(big), "the changed multipart shard was kept");
        Assert.True(Sent(small), "the changed shard was kept");
        var unchanged = objects.Keys.Where(p => !p.StartsWith("_dataprep/", StringComparison.Ordinal)).Select(p => "r/" + p).Except([big, small]).ToList();
        Assert.NotEmpty(unchanged);
        foreach (var k in unchanged) Assert.False(Sent(k), $"{k} was uploaded again");
    }

    private CliRunner.Result Convert(string input, string output, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", output, "--endpoint-url", moto.Endpoint, .. extra]);

    private static GetObjectMetadataResponse HeadWithChecksum(IAmazonS3 client, string bucket, string key)
        => client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key, ChecksumMode = ChecksumMode.ENABLED }).GetAwaiter().GetResult();

    /// <summary>A KMS key on moto's server (its KMS API, JSON over HTTP; moto checks no signature).</summary>
    private string CreateKmsKey()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, moto.Endpoint + "/") { Content = new StringContent("{\"Description\":\"dataprep test\"}", Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.Add("X-Amz-Target", "TrentService.CreateKey");
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0");
        using var response = http.Send(request);
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("KeyMetadata").GetProperty("KeyId").GetString()!;
    }
}
