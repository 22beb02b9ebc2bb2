using System.Text;
using DataPrep.Tests.Cli;

namespace DataPrep.Tests.S3;

/// <summary><c>--on-bad-row quarantine</c> with an s3:// output: the quarantine file is staged and published with the run, and a failed run leaves nothing. Against moto.</summary>
[Collection("moto")]
public sealed class S3BadRowTests(MotoServer moto)
{
    [Fact]
    public void Quarantine_is_published_with_the_run_and_a_failed_run_leaves_nothing()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("badrow");
        using var client = moto.Client();
        string[] common = ["--label", "y", "--column-type", "a=int", "--allow-empty-split", "--on-bad-row", "quarantine", "--quiet", "--endpoint-url", moto.Endpoint];

        var r = CliRunner.Run(["convert", tmp.File("mixed.csv", BadRowTests.Mixed), "--out", $"s3://{bucket}/run/", .. common]);
        Assert.True(r.Code == 0, r.Err);
        var files = S3Data.Download(client, bucket, "run/");
        var quarantined = Encoding.UTF8.GetString(files["_dataprep/quarantine/part-00000.jsonl"]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, quarantined.Length);
        Assert.Contains("\"line\":3", quarantined[0]);
        Assert.Contains("\"quarantine\": \"_dataprep/quarantine/part-00000.jsonl\"", Encoding.UTF8.GetString(files["_dataprep/run.json"]));

        // Every row skipped: exit 3, and neither data nor quarantine file under the prefix.
        var failed = CliRunner.Run(["convert", tmp.File("bad.csv", "y,a\n1,x\n0,z\n"), "--out", $"s3://{bucket}/failed/", .. common]);
        Assert.Equal(3, failed.Code);
        Assert.Empty(S3Data.Download(client, bucket, "failed/"));
    }
}
