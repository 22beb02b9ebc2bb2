using System.CommandLine;
using System.IO.Compression;
using System.Text.Json;
using DataPrep.Cli;
using DataPrep.Data;
using DataPrep.Inspect;
using DataPrep.RecordIO;
using DataPrep.Pipeline;
using ShardRecord = DataPrep.Inspect.ShardRecord;

namespace DataPrep.Tests.Cli;

public class InspectCommandTests
{
    /// <summary>Runs <c>dataprep inspect</c> in-process (through its own root until the command is registered in DataPrepCli).</summary>
    private static CliRunner.Result Inspect(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand("test") { InspectCommand.Build(stdout, stderr, DataPrepCli.CreateRegistry()) };
        int code = root.Parse(["inspect", .. args]).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }).GetAwaiter().GetResult();
        return new CliRunner.Result(code, stdout.ToString(), stderr.ToString());
    }

    internal static RecordBatch Batch(double[][] rows, double[] labels)
    {
        int n = rows.Length, width = rows.Length == 0 ? 0 : rows[0].Length;
        var fields = new List<Field> { new("y", ColumnKind.Float64) };
        var cols = new List<Column> { new Float64Column(labels) };
        for (int c = 0; c < width; c++)
        {
            fields.Add(new Field($"f{c}", ColumnKind.Float64));
            cols.Add(new Float64Column(rows.Select(r => r[c]).ToArray()));
        }
        var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
        return new RecordBatch(new Schema(fields), cols, n, new RowInfo(ids, new int[n], ids));
    }

    internal static string WriteRecordIO(TempDir tmp, string name, double[][] rows, double[] labels, RecordIOOptions? options = null)
    {
        var chunk = new RecordIOProtobufFormat(true, options).Format(Batch(rows, labels), 0, rows.Length);
        var path = tmp.Combine(name);
        File.WriteAllBytes(path, chunk.Data.AsSpan(0, chunk.Length).ToArray());
        return path;
    }

    private static List<JsonElement> JsonLines(string text)
        => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static JsonElement Summary(CliRunner.Result r)
        => JsonLines(r.Out).Single(e => e.TryGetProperty("summary", out _)).GetProperty("summary");

    private static Dictionary<string, long> LabelCounts(JsonElement summary)
        => summary.GetProperty("labelCounts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    /// <summary>
    /// A JSON Lines run records no encoding (it keeps the columns as they are): inspect names the format instead of
    /// misreading the objects as CSV, audit reads the run, and <c>--like</c> says there are no maps to reuse (exit 3).
    /// </summary>
    [Fact]
    public void A_JSON_Lines_run_is_named_by_inspect_audited_and_refused_by_like()
    {
        using var tmp = new TempDir();
        var run = tmp.Combine("run");
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--label", "churn", "--format", "jsonl", "--out", run, "--quiet");
        Assert.True(r.Code == 0, r.Err);
        var inspect = Inspect(run);
        Assert.Equal(3, inspect.Code);
        Assert.Contains("is JSON Lines", inspect.Err);
        Assert.DoesNotContain("as the label", inspect.Err);
        var audit = CliRunner.Run("audit", run);
        Assert.True(audit.Code == 0, audit.Out + audit.Err);
        var like = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--like", run, "--out", tmp.Combine("like"), "--quiet");
        Assert.Equal(3, like.Code);
        Assert.Contains("records no encoding", like.Err);
        Assert.False(Directory.Exists(tmp.Combine("like")));
    }

    [Fact]
    public void Summary_of_a_recordio_file()
    {
        using var tmp = new TempDir();
        var path = WriteRecordIO(tmp, "part-00000.rec", [[1.5, 2, 3], [4, 5, 6], [0, 0, 1], [7, 8, 9], [1, 1, 1]], [0, 1, 1, 2, 1]);
        var r = Inspect(path, "--summary", "--output", "jsonl");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Err);
        var lines = JsonLines(r.Out);
        Assert.Single(lines);
        var s = Summary(r);
        Assert.Equal("recordio-protobuf", s.GetProperty("format").GetString());
        Assert.Equal(5, s.GetProperty("records").GetInt64());
        Assert.Equal("float32", s.GetProperty("dtype").GetString());
        Assert.Equal("float32", s.GetProperty("labelDType").GetString());
        Assert.Equal("dense", s.GetProperty("layout").GetString());
        Assert.Equal(3, s.GetProperty("featureWidth").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["0"] = 1, ["1"] = 3, ["2"] = 1 }, LabelCounts(s));
        Assert.Empty(s.GetProperty("warnings").EnumerateArray());

        var table = Inspect(path, "--summary");
        Assert.Equal(0, table.Code);
        Assert.Contains("recordio-protobuf", table.Out);
        Assert.Contains("float32, dense, width 3", table.Out);
        Assert.Contains("1: 3 (60.0%)", table.Out);
        Assert.DoesNotContain("│ record", table.Out);
    }

    [Fact]
    public void Summary_of_a_sparse_gzipped_recordio_file_with_uid_and_metadata()
    {
        using var tmp = new TempDir();
        var plain = WriteRecordIO(tmp, "s.rec", [[0, 2.5, 0, 0], [1, 0, 0, -1], [0, 0, 0, 0]], [1, 0, 1],
            new RecordIOOptions(TensorType.Float64, TensorType.Int32, Sparse: true, Uid: true, Metadata: true));
        var gz = tmp.Combine("s.rec.gz");
        using (var output = File.Create(gz))
        using (var zip = new GZipStream(output, CompressionLevel.Fastest)) zip.Write(File.ReadAllBytes(plain));

        var r = Inspect(gz, "--output", "jsonl");
        Assert.Equal(0, r.Code);
        var lines = JsonLines(r.Out);
        Assert.Equal(4, lines.Count);
        var first = lines[0];
        Assert.Equal(gz, first.GetProperty("file").GetString());
        Assert.Equal(0, first.GetProperty("record").GetInt64());
        Assert.Equal(1, first.GetProperty("label").GetDouble());
        Assert.Equal([1UL], first.GetProperty("keys").EnumerateArray().Select(k => k.GetUInt64()));
        Assert.Equal([2.5], first.GetProperty("values").EnumerateArray().Select(k => k.GetDouble()));
        Assert.Equal([4UL], first.GetProperty("shape").EnumerateArray().Select(k => k.GetUInt64()));
        Assert.Equal("1", first.GetProperty("uid").GetString());
        Assert.Equal("{\"row_id\":1,\"source\":0,\"source_row\":1}", first.GetProperty("metadata").GetString());
        Assert.False(first.TryGetProperty("features", out _));
        Assert.Empty(lines[2].GetProperty("keys").EnumerateArray());

        var s = Summary(r);
        Assert.Equal(3, s.GetProperty("records").GetInt64());
        Assert.Equal("float64", s.GetProperty("dtype").GetString());
        Assert.Equal("int32", s.GetProperty("labelDType").GetString());
        Assert.Equal("sparse", s.GetProperty("layout").GetString());
        Assert.Equal(4, s.GetProperty("featureWidth").GetInt64());
        Assert.Equal(3, s.GetProperty("storedValues").GetInt64());
        Assert.Equal(3, s.GetProperty("uidRecords").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["0"] = 1, ["1"] = 2 }, LabelCounts(s));
    }

    [Fact]
    public void Summary_of_a_label_first_csv_file()
    {
        using var tmp = new TempDir();
        var path = tmp.File("part-00000.csv", "1,0.5,2\n0,1.5,3\n1,2,4\n2,-1,0\n");
        var r = Inspect(path, "--output", "jsonl");
        Assert.Equal(0, r.Code);
        var lines = JsonLines(r.Out);
        Assert.Equal(5, lines.Count);
        Assert.Equal([0.5, 2], lines[0].GetProperty("features").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(1, lines[0].GetProperty("label").GetDouble());
        var s = Summary(r);
        Assert.Equal("csv", s.GetProperty("format").GetString());
        Assert.Equal(4, s.GetProperty("records").GetInt64());
        Assert.Equal("dense", s.GetProperty("layout").GetString());
        Assert.Equal(2, s.GetProperty("featureWidth").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["0"] = 1, ["1"] = 2, ["2"] = 1 }, LabelCounts(s));

        var noLabel = Summary(Inspect(path, "--output", "jsonl", "--no-label", "--summary"));
        Assert.Equal(3, noLabel.GetProperty("featureWidth").GetInt64());
        Assert.Equal(0, noLabel.GetProperty("labeledRecords").GetInt64());
    }

    [Fact]
    public void Summary_of_a_libsvm_file()
    {
        using var tmp = new TempDir();
        var path = tmp.File("train.txt", "1 1:0.5 3:2\n0 2:1.5 # a comment\n\n1 5:1\n1\n");
        var r = Inspect(path, "--output", "jsonl");
        Assert.Equal(0, r.Code);
        var lines = JsonLines(r.Out);
        Assert.Equal([0UL, 2UL], lines[0].GetProperty("keys").EnumerateArray().Select(k => k.GetUInt64()));
        Assert.Equal([5UL], lines[0].GetProperty("shape").EnumerateArray().Select(k => k.GetUInt64()));
        var s = Summary(r);
        Assert.Equal("libsvm", s.GetProperty("format").GetString());
        Assert.Equal(4, s.GetProperty("records").GetInt64());
        Assert.Equal("sparse", s.GetProperty("layout").GetString());
        Assert.Equal(5, s.GetProperty("featureWidth").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["0"] = 1, ["1"] = 3 }, LabelCounts(s));

        var table = Inspect(path);
        Assert.Contains("0:0.5 2:2 (2 of 5)", table.Out);
        Assert.Contains("libsvm", table.Out);
    }

    [Theory]
    [InlineData(new string[0], 10)]
    [InlineData(new[] { "--limit", "3" }, 3)]
    [InlineData(new[] { "-n", "1" }, 1)]
    [InlineData(new[] { "--limit", "0" }, 25)]
    [InlineData(new[] { "--summary" }, 0)]
    public void Limit_caps_the_records_printed_but_not_the_summary(string[] extra, int expected)
    {
        using var tmp = new TempDir();
        var rows = Enumerable.Range(0, 25).Select(i => new double[] { i, i * 0.5 }).ToArray();
        var path = WriteRecordIO(tmp, "x.rec", rows, rows.Select(r => r[0] % 2).ToArray());
        var r = Inspect([path, "--output", "jsonl", .. extra]);
        Assert.Equal(0, r.Code);
        var lines = JsonLines(r.Out);
        Assert.Equal(expected, lines.Count(l => l.TryGetProperty("record", out _)));
        Assert.Equal(Enumerable.Range(0, expected).Select(i => (long)i), lines.Where(l => l.TryGetProperty("record", out _)).Select(l => l.GetProperty("record").GetInt64()));
        Assert.Equal(25, Summary(r).GetProperty("records").GetInt64());

        var table = Inspect([path, .. extra]);
        Assert.Equal(0, table.Code);
        if (expected is > 0 and < 25) Assert.Contains($"25 (first {expected} shown)", table.Out);
        else Assert.DoesNotContain("shown", table.Out);
    }

    [Fact]
    public void Jsonl_writes_float32_values_as_float32_and_non_finite_values_as_strings()
    {
        using var tmp = new TempDir();
        var path = WriteRecordIO(tmp, "x.rec", [[0.1, double.NaN, double.PositiveInfinity, -0.0]], [3]);
        var r = Inspect(path, "--output", "jsonl");
        var record = JsonLines(r.Out)[0];
        var features = record.GetProperty("features").EnumerateArray().ToList();
        Assert.Equal("0.1", features[0].GetRawText());
        Assert.Equal("NaN", features[1].GetString());
        Assert.Equal("Infinity", features[2].GetString());
        Assert.Equal("-0", features[3].GetRawText());
        var s = Summary(r);
        Assert.Equal(1, s.GetProperty("nanValues").GetInt64());
        Assert.Contains(s.GetProperty("warnings").EnumerateArray(), w => w.GetString() == "1 feature values are NaN");
    }

    [Fact]
    public void Tables_fit_120_columns_and_truncate_long_rows()
    {
        using var tmp = new TempDir();
        var wide = Enumerable.Range(0, 20_000).Select(i => (double)i).ToArray();
        var path = WriteRecordIO(tmp, "wide.rec", [wide, wide], [0, 1]);
        var r = Inspect(path);
        Assert.Equal(0, r.Code);
        Assert.Contains("… 19,9", r.Out);
        Assert.Contains("more", r.Out);
        Assert.All(r.Out.Split('\n'), line => Assert.True(line.Length <= 120, $"{line.Length} characters: {line}"));
        Assert.Contains("float32, dense, width 20,000", r.Out);

        var sparsePath = WriteRecordIO(tmp, "sparse.rec", [wide, wide], [0, 1], new RecordIOOptions(Sparse: true, Uid: true, Metadata: true));
        r = Inspect(sparsePath);
        Assert.Equal(0, r.Code);
        Assert.Contains("more (19,999 of 20,000)", r.Out);
        Assert.All(r.Out.Split('\n'), line => Assert.True(line.Length <= 120, $"{line.Length} characters: {line}"));
    }

    [Fact]
    public void Several_files_and_folders_each_get_their_summary()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("train"));
        WriteRecordIO(tmp, Path.Combine("train", "part-00000.rec"), [[1], [2]], [0, 1]);
        WriteRecordIO(tmp, Path.Combine("train", "part-00001.rec"), [[3]], [1]);
        var r = Inspect(tmp.Combine("train"), "--summary", "--output", "jsonl");
        Assert.Equal(0, r.Code);
        var summaries = JsonLines(r.Out).Select(l => l.GetProperty("summary").GetProperty("records").GetInt64()).ToList();
        Assert.Equal([2L, 1L], summaries);
    }

    [Fact]
    public void Corrupt_data_is_exit_code_3_and_other_files_are_still_inspected()
    {
        using var tmp = new TempDir();
        var good = WriteRecordIO(tmp, "good.rec", [[1, 2]], [1]);
        var bytes = File.ReadAllBytes(good);
        var bad = tmp.Combine("bad.rec");
        File.WriteAllBytes(bad, bytes[..^6]);
        var r = Inspect(bad, good, "--output", "jsonl");
        Assert.Equal(3, r.Code);
        Assert.StartsWith($"error: {bad}: record 0 at byte offset 0", r.Err);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        Assert.Contains(JsonLines(r.Out), l => l.TryGetProperty("summary", out _) && l.GetProperty("file").GetString() == good);
    }

    [Fact]
    public void A_csv_with_a_header_is_bad_data_with_a_hint()
    {
        using var tmp = new TempDir();
        var path = tmp.File("h.csv", "label,a,b\n1,2,3\n");
        var r = Inspect(path);
        Assert.Equal(3, r.Code);
        Assert.Contains($"error: {path}, line 1: found 'label' as the label (field 1)", r.Err);
        Assert.Contains("looks like a header row", r.Err);
    }

    [Fact]
    public void Binary_files_that_are_not_recordio_are_bad_data()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("x.bin");
        File.WriteAllBytes(path, [1, 2, 0, 4, 5, 6]);
        var r = Inspect(path);
        Assert.Equal(3, r.Code);
        Assert.Contains("starts with bytes 01 02 00 04, not the RecordIO magic word 0A 23 D7 CE", r.Err);
    }

    [Theory]
    [InlineData("--output", "xml", "--output xml: expected table or jsonl.")]
    [InlineData("--limit", "-1", "--limit -1: expected 0 (all records) or a positive number.")]
    [InlineData("--format", "xml", "--format xml: expected auto or a format inspect reads back: csv, recordio-protobuf, libsvm, parquet.")]
    public void Bad_options_are_exit_code_2(string option, string value, string message)
    {
        using var tmp = new TempDir();
        var path = tmp.File("a.csv", "1,2\n");
        var r = Inspect(path, option, value);
        Assert.Equal(2, r.Code);
        Assert.Equal($"error: {message}", r.Err.TrimEnd('\n'));
    }

    [Fact]
    public void A_missing_file_is_exit_code_2()
    {
        var r = Inspect("/no/such/shard.rec");
        Assert.Equal(2, r.Code);
        Assert.Contains("error: The input '/no/such/shard.rec' does not exist", r.Err);
    }

    [Fact]
    public void An_empty_file_has_no_records()
    {
        using var tmp = new TempDir();
        var path = tmp.File("empty.rec", "");
        var r = Inspect(path, "--output", "jsonl");
        Assert.Equal(0, r.Code);
        var s = Summary(r);
        Assert.Equal("empty", s.GetProperty("format").GetString());
        Assert.Equal(0, s.GetProperty("records").GetInt64());
    }

    [Fact]
    public void Is_registered_in_the_dataprep_cli()
    {
        using var tmp = new TempDir();
        var path = tmp.File("a.csv", "1,2\n0,3\n");
        var r = CliRunner.Run("inspect", path, "--summary", "--output", "jsonl");
        Assert.Equal(0, r.Code);
        Assert.Equal(2, Summary(r).GetProperty("records").GetInt64());
    }

    [Fact]
    public void Help_has_examples()
    {
        var r = Inspect("--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("Examples:", r.Out);
        Assert.Contains("--limit", r.Out);
        Assert.Contains("--summary", r.Out);
        Assert.Contains("jsonl", r.Out);
    }
}

public class ShardInspectorTests
{
    [Theory]
    [InlineData("1,2,3\n", ShardFormat.Csv)]
    [InlineData("1 1:2 3:4\n", ShardFormat.LibSvm)]
    [InlineData("# comment\n1\n0 4:1.5\n", ShardFormat.LibSvm)]
    [InlineData("1\n0\n", ShardFormat.Csv)]
    [InlineData("\uFEFF1,2\n", ShardFormat.Csv)]
    [InlineData("", ShardFormat.Empty)]
    public void Formats_are_detected_from_the_content(string text, ShardFormat expected)
        => Assert.Equal(expected, ShardInspector.DetectFormat(System.Text.Encoding.UTF8.GetBytes(text), complete: true));

    [Fact]
    public void RecordIO_is_detected_by_its_magic_whatever_the_name()
    {
        using var tmp = new TempDir();
        var path = InspectCommandTests.WriteRecordIO(tmp, "data.csv", [[1]], [0]);
        Assert.Equal(ShardFormat.RecordIOProtobuf, ShardInspector.DetectFormat(path));
    }

    [Fact]
    public async Task Records_share_one_shape_across_formats()
    {
        using var tmp = new TempDir();
        var rec = InspectCommandTests.WriteRecordIO(tmp, "a.rec", [[0, 2.5, 0]], [1], new RecordIOOptions(Sparse: true));
        var svm = tmp.File("a.svm", "1 2:2.5\n");
        var csv = tmp.File("a.csv", "1,0,2.5,0\n");
        var fromRec = await ShardInspector.ReadAsync(rec).SingleAsync();
        var fromSvm = await ShardInspector.ReadAsync(svm).SingleAsync();
        var fromCsv = await ShardInspector.ReadAsync(csv).SingleAsync();
        Assert.Equal([1UL], fromRec.Keys!);
        Assert.Equal([1UL], fromSvm.Keys!);
        Assert.Equal([2.5], fromRec.Values);
        Assert.Equal([2.5], fromSvm.Values);
        Assert.Equal([0, 2.5, 0], fromCsv.Values);
        Assert.Equal([1.0], fromRec.Label!);
        Assert.Equal([1.0], fromSvm.Label!);
        Assert.Equal([1.0], fromCsv.Label!);
        Assert.Equal(3UL, fromRec.Width);
        Assert.Equal(2UL, fromSvm.Width);   // LibSVM knows only the largest index
        Assert.Equal(3UL, fromCsv.Width);
        Assert.Equal(0, fromRec.ByteOffset);
        Assert.Equal(1, fromCsv.Line);
    }

    [Fact]
    public void Label_distribution_is_capped_at_50_values()
    {
        var b = new ShardSummaryBuilder("f", ShardFormat.Csv);
        for (int i = 0; i < 70; i++) b.Add(new ShardRecord { Index = i, DType = "text", Values = [1], Label = [i % 60], LabelDType = "text" });
        var s = b.Build();
        Assert.Equal(50, s.LabelCounts.Count);
        Assert.Equal(10, s.OtherLabelRecords);   // the first 50 values seen are 0..49; 50..59 (once each) are "other"
        Assert.True(s.LabelsCapped);
        Assert.Equal("0", s.LabelCounts[0].Key);
        Assert.Equal(2, s.LabelCounts[0].Value);
    }

    [Fact]
    public async Task Csv_records_keep_their_lines_across_a_BOM_CRLF_blank_lines_and_quoted_padded_numbers()
    {
        using var tmp = new TempDir();
        var csv = tmp.File("a.csv", "\uFEFF1,2\r\n\r\n   \r\n0, \" 3.5 \" ,4\r\n2,-1e-3\n");
        var records = await ShardInspector.ReadAsync(csv).ToListAsync();
        Assert.Equal([1L, 4L, 5L], records.Select(r => r.Line));
        Assert.Equal([0L, 1L, 2L], records.Select(r => r.Index));
        Assert.Equal([1.0], records[0].Label!);
        Assert.Equal([2.0], records[0].Values);
        Assert.Equal([3.5, 4.0], records[1].Values);
        Assert.Equal([-1e-3], records[2].Values);
    }

    [Fact]
    public async Task A_quoted_field_with_a_comma_is_one_field_and_the_error_names_it_with_its_line()
    {
        using var tmp = new TempDir();
        var csv = tmp.File("a.csv", "1,2,3\n0,\"2,5\",3\n");
        var e = await Assert.ThrowsAsync<DataFormatException>(async () => await ShardInspector.ReadAsync(csv).ToListAsync());
        Assert.Equal(2, e.Line);
        Assert.Equal(csv, e.File);
        Assert.Equal($"{csv}, line 2: found '\"2,5\"' as field 2 in '0,\"2,5\",3'; expected a number (invariant culture, '.' as decimal point)", e.Message);
    }

    [Theory]
    [InlineData("1,,2\n", "line 1: found an empty field as field 2; expected a number, because label-first CSV shards have no missing values")]
    [InlineData("1,2\n\n,3\n", "line 3: found an empty field as the label (field 1)")]
    [InlineData("1 1:2.5\n", "line 1: found '1 1:2.5' as the label (field 1) in '1 1:2.5'; expected a number (invariant culture, '.' as decimal point); this looks like LibSVM")]
    public async Task Bad_csv_fields_name_file_line_field_and_cause(string text, string expected)
    {
        using var tmp = new TempDir();
        var csv = tmp.File("a.csv", text);
        var e = await Assert.ThrowsAsync<DataFormatException>(async () => await ShardInspector.ReadAsync(csv, new InspectOptions { Format = ShardFormat.Csv }).ToListAsync());
        Assert.StartsWith($"{csv}, {expected}", e.Message);
    }
}
