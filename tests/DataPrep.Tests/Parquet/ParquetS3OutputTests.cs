using System.Text.Json;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Parquet;

/// <summary>
/// <c>--format parquet --out s3://…</c> against moto: S3 uploads cannot seek, and Parquet.Net must not need to, so
/// every object is byte-identical to a local run's file (which is written through the same non-seeking hash stream).
/// </summary>
[Collection("moto")]
public sealed class ParquetS3OutputTests(MotoServer moto)
{
    [Fact]
    public void Parquet_objects_on_S3_are_byte_identical_to_a_local_run()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("parquet");
        string[] args = [.. ParquetOutputFiles.Churn, "--format", "parquet", "--shard-rows", "700", "--quiet"];
        var r = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", $"s3://{bucket}/runs/churn/", "--endpoint-url", moto.Endpoint, .. args]);
        Assert.True(r.Code == 0, r.Err);
        var local = tmp.Combine("local");
        Assert.Equal(0, CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", local, .. args]).Code);
        using var client = moto.Client();
        var remote = S3Data.Download(client, bucket, "runs/churn/");
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(local)), S3Data.DataOnly(remote));
        Assert.Contains("train/part-00002.parquet", remote.Keys);
        using var channels = JsonDocument.Parse(remote["_dataprep/channels.json"]);
        Assert.Equal("application/x-parquet", channels.RootElement.GetProperty("channels").GetProperty("train").GetProperty("contentType").GetString());
    }
}
