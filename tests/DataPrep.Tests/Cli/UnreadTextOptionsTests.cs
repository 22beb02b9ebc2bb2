namespace DataPrep.Tests.Cli;

/// <summary>
/// <c>--delimiter</c>, <c>--quote</c>, <c>--no-header</c> and <c>--decimal-comma</c> are read by CSV and TSV inputs only,
/// <c>--encoding</c> and <c>--null-values</c> by those and JSON Lines (<c>ISourceFactory.Reads</c>). A run that set them over inputs that do not
/// read them used to run without them, silently; it is refused with exit 2, naming the options and the inputs, and
/// nothing is written.
/// </summary>
public class UnreadTextOptionsTests
{
    private static string Jsonl(TempDir tmp) => tmp.File("a.jsonl", string.Concat(Enumerable.Range(0, 40).Select(i => $"{{\"y\":{i % 2},\"x\":{i}.5}}\n")));

    private static string LibSvm(TempDir tmp) => tmp.File("a.libsvm", string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 2} 1:{i}.5\n")));

    private static async Task<string> Parquet(TempDir tmp)
    {
        var path = tmp.Combine("a.parquet");
        await TestParquet.WriteDoublesAsync(path, ("y", Enumerable.Range(0, 40).Select(i => (double)(i % 2)).ToArray()), ("x", Enumerable.Range(0, 40).Select(i => i + 0.5).ToArray()));
        return path;
    }

    public static TheoryData<string, string[], string> Refused() => new()
    {
        { "jsonl", ["--label", "y", "--decimal-comma"], "--decimal-comma applies to CSV and TSV inputs, and none of the inputs is one (a.jsonl); leave it out." },
        { "libsvm", ["--delimiter", ";", "--no-header"], "--delimiter ';' and --no-header apply to CSV and TSV inputs, and none of the inputs is one (a.libsvm); leave them out." },
        { "parquet", ["--label", "y", "--quote", "'"], "--quote ''' applies to CSV and TSV inputs, and none of the inputs is one (a.parquet); leave it out." },
        { "parquet", ["--label", "y", "--delimiter", "\\t"], "--delimiter '\\t' applies to CSV and TSV inputs" },
        { "libsvm", ["--encoding", "utf-16"], "--encoding utf-16 applies to CSV, TSV and JSON Lines inputs, and none of the inputs is one (a.libsvm); leave it out" },
        { "parquet", ["--label", "y", "--encoding", "latin1"], "--encoding latin1 applies to CSV, TSV and JSON Lines inputs, and none of the inputs is one (a.parquet)" },
        { "parquet", ["--label", "y", "--null-values", "NA,?"], "--null-values NA,? applies to CSV, TSV and JSON Lines inputs, and none of the inputs is one (a.parquet)" },
        { "libsvm", ["--null-values", "NA"], "--null-values NA applies to CSV, TSV and JSON Lines inputs" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Options_of_delimited_text_over_other_formats_alone_are_refused(string format, string[] options, string message)
    {
        using var tmp = new TempDir();
        var input = format switch { "jsonl" => Jsonl(tmp), "libsvm" => LibSvm(tmp), _ => await Parquet(tmp) };
        var r = CliRunner.Run(["convert", input, "--out", tmp.Combine("out"), .. options]);
        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Err);
        Assert.False(Directory.Exists(tmp.Combine("out")), "nothing is written");
        // The same run without the options converts.
        var plain = CliRunner.Run(["convert", input, "--out", tmp.Combine("plain"), .. options.Where((o, i) => o == "--label" || (i > 0 && options[i - 1] == "--label"))]);
        Assert.True(plain.Code == 0, plain.Err);
    }

    [Fact]
    public void They_are_read_when_some_input_is_csv_or_tsv_or_cannot_be_told_by_name()
    {
        using var tmp = new TempDir();
        var tsv = tmp.File("a.tsv", string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 2}\t{i},5\n")));
        var r = CliRunner.Run(["convert", tsv, "--out", tmp.Combine("tsv"), "--label", "c0", "--no-header", "--decimal-comma", "--quiet"]);
        Assert.True(r.Code == 0, r.Err);
        var lines = new[] { "train", "validation", "test" }.SelectMany(split => Directory.GetFiles(Path.Combine(tmp.Combine("tsv"), split), "*.csv")).SelectMany(File.ReadAllLines).ToHashSet();
        Assert.Equal(40, lines.Count);
        Assert.Contains("0,0.5", lines);
        Assert.Contains("1,1.5", lines);

        // JSON Lines reads --encoding and --null-values; every format reads UTF-8.
        var latin1 = tmp.Combine("l.jsonl");
        File.WriteAllBytes(latin1, System.Text.Encoding.Latin1.GetBytes(string.Concat(Enumerable.Range(0, 40).Select(i => $"{{\"y\":{i % 2},\"x\":{i}.5,\"c\":\"caf\u00e9\"}}\n"))));
        var jsonl = CliRunner.Run(["convert", latin1, "--out", tmp.Combine("latin1"), "--label", "y", "--encoding", "latin1", "--null-values", "NA", "--drop", "c", "--quiet"]);
        Assert.True(jsonl.Code == 0, jsonl.Err);
        var utf8 = CliRunner.Run(["convert", LibSvm(tmp), "--out", tmp.Combine("utf8"), "--encoding", "utf-8", "--quiet"]);
        Assert.True(utf8.Code == 0, utf8.Err);

        // A folder's format is told only once it is listed: the check leaves it to the reader.
        var folder = Directory.CreateDirectory(tmp.Combine("in")).FullName;
        File.WriteAllText(Path.Combine(folder, "a.csv"), "y;x\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 2};{i}\n")));
        var listed = CliRunner.Run(["convert", folder, "--out", tmp.Combine("folder"), "--label", "y", "--delimiter", ";", "--quiet"]);
        Assert.DoesNotContain("applies to CSV and TSV inputs", listed.Err);
        Assert.True(listed.Code == 0, listed.Err);
    }
}
