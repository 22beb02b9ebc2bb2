using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.S3;

namespace DataPrep.Tests.S3;

/// <summary>
/// Full-object CRC-32C checksums (issue 17, finding 10): every object DataPrep writes carries one S3 checks, and
/// --resume keeps or replaces objects by it, under SSE-KMS too (where the ETag is no MD5). moto must compute CRC-32C
/// for real (it silently gives CRC-32 without the Python module crc32c): the first fact checks that.
/// </summary>
[Collection("moto")]
public sealed class S3ChecksumTests(MotoServer moto)
{
    private static readonly string[] s_big = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--quiet",
        "--shard-size", "6MB", "--part-size", "5MB", "--no-lineage"];

    /// <summary>RFC 3720 (iSCSI) appendix B.4: 32 bytes each, and their CRC-32C.</summary>
    public static TheoryData<byte[], uint> Rfc3720 => new()
    {
        { new byte[32], 0x8A9136AAu },
        { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43u },
        { Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), 0x46DD794Eu },
        { Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(), 0x113FDB5Cu },
    };

    [Theory]
    [MemberData(nameof(Rfc3720))]
    public void Crc32c_IsCastagnolis_OnRfc3720sVectors(byte[] data, uint crc) => Assert.Equal(crc, S3Checksum.Of(data));

    [Fact]
    public void Crc32c_IsTheStandardOne_InS3sEncoding()
    {
        Assert.Equal(0xE3069283u, S3Checksum.Of("123456789"u8));
        Assert.Equal("4waSgw==", S3Checksum.Encode(0xE3069283u));
        Assert.True(S3Checksum.TryDecode("4waSgw==", out uint back) && back == 0xE3069283u);
        Assert.False(S3Checksum.TryDecode("4waSgw==-3", out _));
        Assert.Equal(S3Checksum.Of("123456789"u8), S3Checksum.Combine(S3Checksum.Of("1234"u8), S3Checksum.Of("56789"u8), 5));
    }

    [Property]
    public bool Combine_OfTwoPartsCrcs_IsTheCrcOfTheirConcatenation(byte[] first, byte[] second)
        => S3Checksum.Combine(S3Checksum.Of(first), S3Checksum.Of(second), second.Length) == S3Checksum.Of([.. first, .. second]);

    /// <summary>
    /// Lengths of 512 MiB and more (bit 29 of the length and up): zlib reuses its 32 powers of x modulo 32, right for
    /// CRC-32's polynomial but not for Castagnoli's; a composed shard of a scaled-out run can be this long.
    /// </summary>
    [Fact]
    public void Combine_HoldsForASecondPartLongerThan512MiB()
    {
        const long length = (1L << 29) + 12345;
        var zeros = new byte[1 << 20];
        var whole = S3Checksum.Create();
        var second = S3Checksum.Create();
        whole.Append("dataprep"u8);
        for (long done = 0; done < length; done += zeros.Length)
        {
            var chunk = zeros.AsSpan(0, (int)Math.Min(zeros.Length, length - done));
            whole.Append(chunk);
            second.Append(chunk);
        }
        Assert.Equal(whole.GetCurrentHashAsUInt32(), S3Checksum.Combine(S3Checksum.Of("dataprep"u8), second.GetCurrentHashAsUInt32(), length));
    }

    /// <summary>
    /// moto computes CRC-32C itself when it copies an object with <c>ChecksumAlgorithm CRC32C</c> and when it completes a
    /// FULL_OBJECT multipart upload: both must be Castagnoli's CRC of the bytes (RFC 3720's vectors), not the CRC-32
    /// moto silently falls back to when its Python cannot import crc32c.
    /// </summary>
    [Fact]
    public async Task Moto_ComputesRealCrc32c_NotItsCrc32Fallback()
    {
        using var client = moto.Client();
        var bucket = moto.NewBucket("crc32c");
        string Hint(string what, string? actual, byte[] bytes) =>
            $"moto's {what} CRC-32C is '{actual}', expected {S3Checksum.Encode(S3Checksum.Of(bytes))}"
            + (actual == System.Convert.ToBase64String(BitConverter.GetBytes(System.IO.Hashing.Crc32.HashToUInt32(bytes)).Reverse().ToArray()) ? " (that is CRC-32: moto's fallback)" : "")
            + $". moto computes CRC-32C only when its Python can import the module crc32c: install Debian's python3-crc32c (apt-get install python3-crc32c; tools/test.sh tries to), which the tests put on moto's PYTHONPATH"
            + (MotoServer.Crc32cPath is null ? $" (not found in {MotoServer.DebianModules})" : $" ({MotoServer.Crc32cPath}; it must match moto's Python version)")
            + ", or pip install crc32c into moto's Python.";
        int n = 0;
        foreach (var row in Rfc3720)
        {
            var bytes = (byte[])row[0];
            await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = $"v{n}", InputStream = new MemoryStream(bytes) });
            var copy = await client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = bucket, SourceKey = $"v{n}", DestinationBucket = bucket, DestinationKey = $"c{n}", ChecksumAlgorithm = ChecksumAlgorithm.CRC32C });
            var expected = S3Checksum.Encode((uint)row[1]);
            Assert.True(expected == copy.ChecksumCRC32C, Hint("copy", copy.ChecksumCRC32C, bytes));
            Assert.Equal(expected, S3Data.HeadWithChecksum(client, bucket, $"c{n}").ChecksumCRC32C);
            n++;
        }

        // A FULL_OBJECT multipart upload: 5 MiB of a seeded stream, then RFC 3720's ascending vector.
        var first = new byte[5 << 20];
        new Random(3720).NextBytes(first);
        var last = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var start = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = "mpu", ChecksumAlgorithm = ChecksumAlgorithm.CRC32C, ChecksumType = ChecksumType.FULL_OBJECT });
        var parts = new List<PartETag>();
        foreach (var (part, number) in new[] { (first, 1), (last, 2) })
        {
            var r = await client.UploadPartAsync(new UploadPartRequest { BucketName = bucket, Key = "mpu", UploadId = start.UploadId, PartNumber = number, InputStream = new MemoryStream(part), ChecksumAlgorithm = ChecksumAlgorithm.CRC32C });
            parts.Add(new PartETag(number, r.ETag));
        }
        await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = "mpu", UploadId = start.UploadId, PartETags = parts });
        var head = S3Data.HeadWithChecksum(client, bucket, "mpu");
        byte[] whole = [.. first, .. last];
        Assert.True(S3Checksum.Encode(S3Checksum.Of(whole)) == head.ChecksumCRC32C, Hint("multipart", head.ChecksumCRC32C, whole));
        Assert.Equal(ChecksumType.FULL_OBJECT, head.ChecksumType);
    }

    [Fact]
    public void SseKms_EveryObjectCarriesAFullObjectCrc32c_OfTheBytesWritten()
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
            var head = S3Data.HeadWithChecksum(client, bucket, "k/" + path);
            Assert.Equal(ServerSideEncryptionMethod.AWSKMS, head.ServerSideEncryptionMethod);
            Assert.Equal(key, head.ServerSideEncryptionKeyManagementServiceKeyId);
            Assert.Equal(S3Checksum.Encode(S3Checksum.Of(bytes)), head.ChecksumCRC32C);
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
                BucketName = bucket, Key = k, InputStream = new MemoryStream(changed), ChecksumAlgorithm = ChecksumAlgorithm.CRC32C,
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

    /// <summary>
    /// Objects an earlier DataPrep wrote carry CRC-32, not CRC-32C: --resume neither trusts them (it cannot compare the
    /// CRC it computes) nor judges them by their MD5 ETag; it writes them again, so every object of the finished run
    /// carries a full-object CRC-32C of its bytes.
    /// </summary>
    [Fact]
    public async Task Resume_WritesAgainObjectsThatCarryAnEarlierVersionsCrc32()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 20_000, seed: 7);
        var bucket = moto.NewBucket("crc32old");
        string[] args = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--quiet", "--no-lineage"];
        Assert.Equal(0, Convert(csv, $"s3://{bucket}/o/", args).Code);
        using var client = moto.Client();
        await client.DeleteObjectAsync(bucket, "o/_dataprep/run.json");
        var data = S3Data.DataOnly(S3Data.Download(client, bucket, "o/"));
        Assert.NotEmpty(data);
        // The same bytes, as DataPrep wrote them before CRC-32C: with a CRC-32.
        foreach (var (path, bytes) in data)
        {
            await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "o/" + path, InputStream = new MemoryStream(bytes), ChecksumAlgorithm = ChecksumAlgorithm.CRC32 });
            var old = S3Data.HeadWithChecksum(client, bucket, "o/" + path);
            Assert.False(string.IsNullOrEmpty(old.ChecksumCRC32));
            Assert.True(string.IsNullOrEmpty(old.ChecksumCRC32C));
        }

        using var counting = new FaultProxy(moto.Port);
        var resumed = CliRunner.Run(["convert", csv, "--out", $"s3://{bucket}/o/", "--endpoint-url", counting.Endpoint, "--resume", .. args]);
        Assert.True(resumed.Code == 0, resumed.Err);
        var puts = counting.RequestLines.Where(l => l.StartsWith("PUT ", StringComparison.Ordinal)).ToList();
        foreach (var path in data.Keys)
        {
            Assert.True(puts.Any(l => l.Contains($"/o/{path}", StringComparison.Ordinal)), $"{path}, carrying CRC-32, was kept");
        }
        S3Data.AssertSameBytes(data, S3Data.DataOnly(S3Data.Download(client, bucket, "o/")));
        Assert.True(S3Data.AssertFullObjectCrc32c(client, bucket, "o/") > data.Count);
    }

    private CliRunner.Result Convert(string input, string output, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", output, "--endpoint-url", moto.Endpoint, .. extra]);

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
