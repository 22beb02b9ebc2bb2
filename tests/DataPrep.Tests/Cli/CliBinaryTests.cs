using DataPrep.Tests.S3;

namespace DataPrep.Tests.Cli;

/// <summary>
/// The CLI as a separate process (<see cref="CliProcess"/>: <c>dotnet dataprep.dll</c>, or the Native AOT binary that
/// <c>DATAPREP_CLI</c> names, as tools/test.sh runs it) writes the same data bytes as the CLI run in process (JIT).
/// These are the paths whose libraries carry trim/AOT warnings of their own (Parquet.Net's CLR-type reflection,
/// ImageSharp's enum and EXIF reflection) and the JSON the commit step writes.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class CliBinaryTests
{
    [Theory]
    [InlineData("types-zstd.parquet")]
    [InlineData("types-snappy.parquet")]
    [InlineData("types-gzip.parquet")]
    [InlineData("types-v2.parquet")]
    public void Parquet_input_every_type_and_codec_gives_the_in_process_bytes(string fixture)
    {
        string[] args = ["convert", Paths.Fixture("parquet", fixture), "--no-label", "--format", "jsonl", "--drop", "bin", "--seed", "5", "--quiet"];
        AssertSameData(args, expectSplits: ["test", "train", "validation"]);
    }

    [Fact]
    public void Parquet_output_then_Parquet_input_gives_the_in_process_bytes()
    {
        using var tmp = new TempDir();
        string[] write = ["convert", Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--categorical", "onehot", "--format", "parquet", "--quiet"];
        var written = AssertSameData(write, expectSplits: ["test", "train", "validation"]);
        // The Parquet shard just written, read back (label-first Parquet → CSV) by the binary under test and in process.
        var shard = tmp.Combine("train.parquet");
        File.WriteAllBytes(shard, written.Single(f => f.Key.StartsWith("train/", StringComparison.Ordinal)).Value);
        AssertSameData(["convert", shard, "--label", "churn", "--quiet"], expectSplits: ["test", "train", "validation"]);
    }

    [Fact]
    public void Image_RecordIO_with_rotation_gives_the_in_process_bytes()
    {
        var files = AssertSameData(["convert", Paths.SampleData("images"), "--format", "recordio-image", "--augment", "rotate=90", "--seed", "3", "--quiet"],
            expectSplits: ["test", "train", "validation"]);
        Assert.Contains(files, f => f.Key.EndsWith(".rec", StringComparison.Ordinal) && f.Value.Length > 0);
    }

    [Fact]
    public void Json_report_and_run_record_parse_and_match_the_in_process_run()
    {
        using var tmp = new TempDir();
        string[] args = ["convert", Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=ordinal", "--json"];
        var child = CliProcess.Run([.. args, "--out", tmp.Combine("p")]);
        Assert.True(child.Code == 0, child.Err);
        var inProcess = CliRunner.Run([.. args, "--out", tmp.Combine("i")]);
        Assert.Equal(0, inProcess.Code);
        using var a = System.Text.Json.JsonDocument.Parse(child.Out);
        using var b = System.Text.Json.JsonDocument.Parse(inProcess.Out);
        Assert.Equal(2000, a.RootElement.GetProperty("rowsRead").GetInt32());
        Assert.Equal(b.RootElement.GetProperty("splits").GetRawText(), a.RootElement.GetProperty("splits").GetRawText().Replace(tmp.Combine("p"), tmp.Combine("i")));
        using var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(tmp.Combine("p", "_dataprep", "run.json")));
        Assert.Equal("convert", record.RootElement.GetProperty("command").GetString());
        using var channels = System.Text.Json.JsonDocument.Parse(File.ReadAllText(tmp.Combine("p", "_dataprep", "channels.json")));
        Assert.Equal(3, channels.RootElement.GetProperty("channels").EnumerateObject().Count());
    }

    /// <summary>
    /// Runs <paramref name="args"/> (without --out) as a child process and in process; asserts both succeed and write the
    /// same data files (every file under the split folders, byte for byte). Returns them by relative path.
    /// </summary>
    private static Dictionary<string, byte[]> AssertSameData(string[] args, string[] expectSplits)
    {
        using var tmp = new TempDir();
        var child = CliProcess.Run([.. args, "--out", tmp.Combine("process")]);
        Assert.True(child.Code == 0, $"exit {child.Code}: {child.Err}");
        var inProcess = CliRunner.Run([.. args, "--out", tmp.Combine("in-process")]);
        Assert.True(inProcess.Code == 0, $"exit {inProcess.Code}: {inProcess.Err}");
        var expected = DataFiles(tmp.Combine("in-process"));
        var actual = DataFiles(tmp.Combine("process"));
        Assert.Equal(expectSplits, expected.Keys.Select(k => k[..k.IndexOf('/')]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[path]), $"{path} differs");
        return actual;
    }

    private static Dictionary<string, byte[]> DataFiles(string root)
        => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(p => !p.StartsWith("_dataprep/", StringComparison.Ordinal))
            .ToDictionary(p => p, p => File.ReadAllBytes(Path.Combine(root, p)), StringComparer.Ordinal);
}
