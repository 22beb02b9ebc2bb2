using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Cli;

/// <summary>
/// <c>--on-bad-row fail|skip|quarantine</c> (issue 17): fail stays the default with every message unchanged; skip counts
/// each row by cause in the report, <c>--json</c> and run.json, and the rows read are kept + skipped; quarantine also
/// writes each row with file and line; an empty run after skipping is still exit 3; nothing is left behind on failure.
/// </summary>
public class BadRowTests
{
    /// <summary>Six data rows: a good one, a value of the wrong type, a ragged row, a non-finite number, a missing value, a good one.</summary>
    internal const string Mixed = "y,a,b\n1,2,3\n0,oops,4\n1,5\n0,6,inf\n1,,7\n0,8,9\n1,10,11\n0,12,13\n";

    private static CliRunner.Result Convert(string input, string outDir, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", outDir, "--label", "y", "--column-type", "a=int", "--allow-empty-split", .. extra]);

    private static JsonElement Json(CliRunner.Result r) => JsonDocument.Parse(r.Out).RootElement;

    private static Dictionary<string, long> Counts(JsonElement e) => e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    [Fact]
    public void Fail_is_the_default_and_says_what_it_always_said()
    {
        using var tmp = new TempDir();
        var input = tmp.File("mixed.csv", Mixed);
        var byDefault = Convert(input, tmp.Combine("a"), "--quiet");
        var asked = Convert(input, tmp.Combine("b"), "--quiet", "--on-bad-row", "fail");
        Assert.Equal(3, byDefault.Code);
        Assert.Equal(byDefault.Err, asked.Err.Replace(tmp.Combine("b"), tmp.Combine("a")));
        Assert.Contains("mixed.csv, line ", byDefault.Err);
        Assert.False(Directory.Exists(tmp.Combine("a")));
    }

    [Fact]
    public void Skip_counts_rows_by_cause_in_the_json_report_and_run_json()
    {
        using var tmp = new TempDir();
        var input = tmp.File("mixed.csv", Mixed);
        var outDir = tmp.Combine("out");
        var r = Convert(input, outDir, "--json", "--on-bad-row", "skip");
        Assert.True(r.Code == 0, r.Err);
        var report = Json(r);
        var expected = new Dictionary<string, long> { ["missing value"] = 1, ["non-finite number"] = 1, ["ragged row"] = 1, ["value of the wrong type"] = 1 };
        Assert.Equal(expected, Counts(report.GetProperty("badRows")));
        Assert.Equal(8, report.GetProperty("rowsRead").GetInt64());
        long written = report.GetProperty("splits").EnumerateObject().Sum(s => s.Value.GetProperty("rows").GetInt64());
        Assert.Equal(4, written);
        Assert.False(report.TryGetProperty("quarantine", out _));
        ReportSchemasAssert(report);

        var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json"))).RootElement;
        Assert.Equal(expected, Counts(record.GetProperty("summary").GetProperty("badRows")));
        Assert.Equal(8, record.GetProperty("summary").GetProperty("rowsRead").GetInt64());
        Assert.Equal("Skip", record.GetProperty("options").GetProperty("source").GetProperty("onBadRow").GetString());
        Assert.False(Directory.Exists(Path.Combine(outDir, "_dataprep", "quarantine")), "skip writes no quarantine file");

        // The rows kept are exactly the good ones, whatever split they went to.
        var lines = Directory.GetFiles(outDir, "part-*.csv", SearchOption.AllDirectories).SelectMany(File.ReadAllLines).Order(StringComparer.Ordinal);
        Assert.Equal(["0,12,13", "0,8,9", "1,10,11", "1,2,3"], lines);

        // The text report says read = kept + skipped, and each cause.
        var text = Convert(input, tmp.Combine("text"), "--on-bad-row", "skip");
        Assert.Contains("8 read = 4 kept + 4 skipped", text.Out);
        Assert.Contains("skipped 1 row: ragged row", text.Out);
    }

    private static void ReportSchemasAssert(JsonElement report)
        => Assert.True(report.GetProperty("badRows").ValueKind == JsonValueKind.Object);

    [Fact]
    public void Quarantine_writes_each_row_with_file_line_and_cause()
    {
        using var tmp = new TempDir();
        var input = tmp.File("mixed.csv", Mixed);
        var outDir = tmp.Combine("out");
        var r = Convert(input, outDir, "--json", "--on-bad-row", "quarantine");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("_dataprep/quarantine/part-00000.jsonl", Json(r).GetProperty("quarantine").GetString());
        var rows = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "quarantine", "part-00000.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([3L, 4, 5, 6], rows.Select(x => x.GetProperty("line").GetInt64()));
        Assert.Equal(["value of the wrong type", "ragged row", "non-finite number", "missing value"], rows.Select(x => x.GetProperty("cause").GetString()));
        Assert.All(rows, x => Assert.Equal(input, x.GetProperty("file").GetString()));
        Assert.Equal("0,oops,4", rows[0].GetProperty("text").GetString());
        Assert.Equal("1,5", rows[1].GetProperty("text").GetString());
        Assert.Equal("a", rows[0].GetProperty("column").GetString());
        Assert.Contains("found 'oops'", rows[0].GetProperty("problem").GetString());
        Assert.Equal(5, rows[3].GetProperty("row").GetInt64());
        Assert.Equal("1,,7", rows[3].GetProperty("text").GetString());   // a missing value's row has its line too
        var record = File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json"));
        Assert.Contains("\"quarantine\": \"_dataprep/quarantine/part-00000.jsonl\"", record);
    }

    [Fact]
    public void Quarantine_of_JSON_Lines_names_the_line()
    {
        using var tmp = new TempDir();
        var input = tmp.File("rows.jsonl", "{\"y\":1,\"a\":2}\n{\"y\":0,\"a\":\"x\"}\n{\"y\":1,\n\n{\"y\":0,\"a\":4}\n{\"y\":1,\"a\":null}\n{\"y\":1,\"a\":5}\n");
        var outDir = tmp.Combine("out");
        var r = Convert(input, outDir, "--json", "--on-bad-row", "quarantine");
        Assert.True(r.Code == 0, r.Err);
        var rows = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "quarantine", "part-00000.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([2L, 3, 6], rows.Select(x => x.GetProperty("line").GetInt64()));
        Assert.Equal(["value of the wrong type", "malformed record", "missing value"], rows.Select(x => x.GetProperty("cause").GetString()));
        Assert.Equal("{\"y\":1,", rows[1].GetProperty("text").GetString());
        Assert.Equal("{\"y\":1,\"a\":null}", rows[2].GetProperty("text").GetString());
        Assert.Equal(6, Json(r).GetProperty("rowsRead").GetInt64());
    }

    [Fact]
    public void Skipping_every_row_is_still_an_empty_run_with_the_counts()
    {
        using var tmp = new TempDir();
        var input = tmp.File("bad.csv", "y,a\n1,x\n0,y\n");
        var outDir = tmp.Combine("out");
        var r = Convert(input, outDir, "--quiet", "--on-bad-row", "quarantine");
        Assert.Equal(3, r.Code);
        Assert.Contains("2 rows read", r.Err);
        Assert.Contains("2 bad rows skipped (2: value of the wrong type)", r.Err);
        Assert.False(Directory.Exists(outDir), "nothing is published");
    }

    [Fact]
    public void A_fatal_error_after_quarantined_rows_leaves_nothing_behind()
    {
        using var tmp = new TempDir();
        var spill = tmp.Combine("spill");
        Directory.CreateDirectory(spill);
        // Row boundaries are unknown after an unclosed quote: fatal under every policy.
        var input = tmp.File("broken.csv", "y,a\n1,x\n0,2\n1,\"3\n0,4\n");
        var outDir = tmp.Combine("out");
        var r = Convert(input, outDir, "--quiet", "--on-bad-row", "quarantine", "--temp", spill);
        Assert.Equal(3, r.Code);
        Assert.Contains("quot", r.Err);
        Assert.False(Directory.Exists(outDir));
        Assert.Empty(Directory.GetFileSystemEntries(spill));
    }

    [Fact]
    public void An_earlier_run_is_untouched_when_a_quarantining_run_fails()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        Assert.Equal(0, Convert(tmp.File("good.csv", "y,a\n1,1\n0,2\n1,3\n0,4\n1,5\n0,6\n1,7\n0,8\n1,9\n0,10\n"), outDir, "--quiet").Code);
        var before = Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(File.ReadAllBytes).ToList();
        var r = Convert(tmp.File("bad.csv", "y,a\n1,x\n"), outDir, "--quiet", "--overwrite", "--on-bad-row", "quarantine");
        Assert.Equal(3, r.Code);
        var after = Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(File.ReadAllBytes).ToList();
        Assert.Equal(before, after);
    }

    [Fact]
    public void Unknown_policy_is_an_option_error()
    {
        using var tmp = new TempDir();
        var r = Convert(tmp.File("a.csv", Mixed), tmp.Combine("out"), "--on-bad-row", "ignore");
        Assert.Equal(2, r.Code);
        Assert.Contains("--on-bad-row ignore is not a policy; expected fail, skip or quarantine", r.Err);
    }

    [Fact]
    public void Apply_and_like_follow_the_option()
    {
        using var tmp = new TempDir();
        var run = tmp.Combine("run");
        Assert.Equal(0, Convert(tmp.File("good.csv", "y,a,b\n1,1,2.5\n0,2,3.5\n1,3,4.5\n0,4,5.5\n1,5,6.5\n0,6,7.5\n1,7,8.5\n0,8,9.5\n1,9,1.5\n0,10,2.5\n"), run, "--quiet").Code);
        var input = tmp.File("mixed.csv", Mixed);

        var failed = CliRunner.Run("apply", "--run", run, input, "--out", tmp.Combine("apply-fail"), "--quiet");
        Assert.Equal(3, failed.Code);
        var applied = CliRunner.Run("apply", "--run", run, input, "--out", tmp.Combine("apply"), "--json", "--on-bad-row", "quarantine");
        Assert.True(applied.Code == 0, applied.Err);
        Assert.Equal(4, Counts(Json(applied).GetProperty("badRows")).Values.Sum());
        Assert.Equal(4, File.ReadAllLines(Path.Combine(tmp.Combine("apply"), "_dataprep", "quarantine", "part-00000.jsonl")).Length);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(tmp.Combine("apply"), "data", "part-00000.csv")).Length);

        var like = CliRunner.Run("convert", input, "--out", tmp.Combine("like"), "--like", run, "--column-type", "a=int", "--json", "--allow-empty-split", "--on-bad-row", "skip");
        Assert.True(like.Code == 0, like.Err);
        Assert.Equal(4, Counts(Json(like).GetProperty("badRows")).Values.Sum());
    }

    /// <summary>
    /// The determinism rule for skipped rows: a skipped row is a dropped row. Skipping rows whose value is not a number
    /// writes exactly the bytes (every split, every lineage file) of the same input with those values left empty under
    /// --missing drop; and the rows written are exactly the input's good rows.
    /// </summary>
    [Property(MaxTest = 12)]
    public Property Skip_writes_the_bytes_of_dropping_the_same_rows(NonEmptyArray<int> values, int seedOffset)
    {
        using var tmp = new TempDir();
        var bad = new StringBuilder("y,a,b\n");
        var empty = new StringBuilder("y,a,b\n");
        var good = new List<string>();
        for (int i = 0; i < values.Get.Length; i++)
        {
            int v = values.Get[i];
            bool isBad = (v & 3) == 0 && i > 0;
            string y = (v & 4) == 0 ? "0" : "1";
            string bv = (v >> 3).ToString(System.Globalization.CultureInfo.InvariantCulture);
            bad.Append(y).Append(',').Append(isBad ? "n/a" : i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',').Append(bv).Append('\n');
            // The missing value takes the bad value's three bytes ("NUL", a --null-values token): a CSV row's id is its
            // record's byte position, so the rows after it keep their ids.
            empty.Append(y).Append(',').Append(isBad ? "NUL" : i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',').Append(bv).Append('\n');
            if (!isBad) good.Add($"{y},{i},{bv}");
        }
        string seed = ((uint)seedOffset % 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var skipped = Convert(tmp.File("bad.csv", bad.ToString()), tmp.Combine("skip"), "--quiet", "--on-bad-row", "skip", "--seed", seed, "--batch-rows", "7");
        var dropped = Convert(tmp.File("empty.csv", empty.ToString()), tmp.Combine("drop"), "--quiet", "--missing", "drop", "--null-values", "NUL", "--seed", seed);
        if (skipped.Code != 0 || dropped.Code != 0) return (skipped.Code == dropped.Code).Label($"exit codes {skipped.Code} / {dropped.Code}: {skipped.Err} {dropped.Err}");
        var a = Files(tmp.Combine("skip"));
        var b = Files(tmp.Combine("drop"));
        bool same = a.Keys.SequenceEqual(b.Keys) && a.All(kv => kv.Value.AsSpan().SequenceEqual(b[kv.Key]));
        var written = a.Where(kv => kv.Key.EndsWith(".csv", StringComparison.Ordinal) && !kv.Key.StartsWith("_dataprep", StringComparison.Ordinal))
            .SelectMany(kv => Encoding.UTF8.GetString(kv.Value).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Order(StringComparer.Ordinal);
        return (same && written.SequenceEqual(good.Order(StringComparer.Ordinal))).Label($"same bytes {same}; files {string.Join(",", a.Keys)} vs {string.Join(",", b.Keys)}");
    }

    /// <summary>
    /// LibSVM under skip/quarantine: a malformed line (a value that is not a number, indexes out of order) and a
    /// non-finite value are each skipped, counted by cause and quarantined with file, line and the line's text;
    /// comment lines hold no row; fail still stops at the first.
    /// </summary>
    [Fact]
    public void LibSvm_lines_are_skipped_and_quarantined_with_file_line_and_cause()
    {
        using var tmp = new TempDir();
        var input = tmp.File("rows.libsvm", "1 1:0.5 3:1.5\n0 1:x\n1 3:2.5 1:1\n# a comment\n0 2:inf\n1 1:2 3:4\n0 2:3\n1 1:1\n0 2:2\n1 3:3\n0 1:4\n1 2:5\n");
        var failed = CliRunner.Run("convert", input, "--out", tmp.Combine("fail"), "--label", "label", "--allow-empty-split", "--quiet");
        Assert.Equal(3, failed.Code);
        Assert.Contains("line 2", failed.Err);

        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", input, "--out", outDir, "--label", "label", "--allow-empty-split", "--json", "--on-bad-row", "quarantine");
        Assert.True(r.Code == 0, r.Err);
        var report = Json(r);
        Assert.Equal(new Dictionary<string, long> { ["malformed record"] = 2, ["non-finite number"] = 1 }, Counts(report.GetProperty("badRows")));
        Assert.Equal(11, report.GetProperty("rowsRead").GetInt64());
        Assert.Equal(8, report.GetProperty("splits").EnumerateObject().Sum(s => s.Value.GetProperty("rows").GetInt64()));
        var rows = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "quarantine", "part-00000.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([2L, 3, 5], rows.Select(x => x.GetProperty("line").GetInt64()));
        Assert.Equal(["malformed record", "malformed record", "non-finite number"], rows.Select(x => x.GetProperty("cause").GetString()));
        Assert.Equal(["0 1:x", "1 3:2.5 1:1", "0 2:inf"], rows.Select(x => x.GetProperty("text").GetString()));
        Assert.All(rows, x => Assert.Equal(input, x.GetProperty("file").GetString()));
        // The width is learned from the good lines only, and the rows kept are the good ones.
        var written = Directory.GetFiles(outDir, "part-*.csv", SearchOption.AllDirectories).SelectMany(File.ReadAllLines).Order(StringComparer.Ordinal);
        Assert.Equal(["0,0,2,0", "0,0,3,0", "0,4,0,0", "1,0,0,3", "1,0,5,0", "1,0.5,0,1.5", "1,1,0,0", "1,2,0,4"], written);
    }

    /// <summary>
    /// Skip = drop for LibSVM: a skipped line keeps its row id (its byte position), as a dropped row does. Under
    /// <c>--assignment stable</c> (a row's split and place depend on its own id only), skipping bad lines writes exactly the
    /// lines of the same file with each bad line replaced by a marked good line of as many bytes, less the marked lines.
    /// </summary>
    [Property(MaxTest = 8)]
    public Property LibSvm_skip_keeps_the_row_ids_of_the_rows_after_it(NonEmptyArray<int> values, int seedOffset)
    {
        using var tmp = new TempDir();
        var bad = new StringBuilder("1 1:0.5 3:1\n");
        var marked = new StringBuilder("1 1:0.5 3:1\n");
        for (int i = 0; i < values.Get.Length; i++)
        {
            int v = values.Get[i];
            string good = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{v & 1} 1:{i} 3:{v >> 2}");
            bool isBad = (v & 3) == 2;
            // A row's id is its line's byte position: a bad line and its marked stand-in take the same bytes (11).
            bad.Append(isBad ? ((v & 8) == 0 ? $"{v & 1} 1:x" : $"{v & 1} 3:1 1:2").PadRight(11) : good).Append('\n');
            marked.Append(isBad ? "1 1:12345.5" : good).Append('\n');
        }
        string seed = ((uint)seedOffset % 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] common = ["--label", "label", "--assignment", "stable", "--allow-empty-split", "--quiet", "--seed", seed, "--batch-rows", "5"];
        var skipped = CliRunner.Run(["convert", tmp.File("bad.libsvm", bad.ToString()), "--out", tmp.Combine("skip"), "--on-bad-row", "skip", .. common]);
        var full = CliRunner.Run(["convert", tmp.File("marked.libsvm", marked.ToString()), "--out", tmp.Combine("full"), .. common]);
        if (skipped.Code != 0 || full.Code != 0) return false.Label($"exit codes {skipped.Code} / {full.Code}: {skipped.Err} {full.Err}");
        var a = Files(tmp.Combine("skip")).Where(kv => !kv.Key.StartsWith("_dataprep", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetString(kv.Value));
        var b = Files(tmp.Combine("full")).Where(kv => !kv.Key.StartsWith("_dataprep", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => string.Concat(Encoding.UTF8.GetString(kv.Value).Split('\n').Where(l => !l.Contains("12345.5", StringComparison.Ordinal)).Select(l => l.Length == 0 ? "" : l + "\n")))
            .Where(kv => kv.Value.Length > 0).ToDictionary();   // a split that held only marked lines is not written without them
        bool same = a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var t) && t == kv.Value);
        return same.Label($"files {string.Join(",", a.Keys)} vs {string.Join(",", b.Keys)}");
    }

    /// <summary>
    /// Parquet under quarantine: a non-finite float (<c>--non-finite error</c>) and a missing value (<c>--missing error</c>)
    /// are skipped, counted by cause and written with file, row, row group and row within it, and the row's values as JSON.
    /// </summary>
    [Fact]
    public void Parquet_rows_are_quarantined_with_row_group_row_and_values()
    {
        using var tmp = new TempDir();
        var input = Sources.NonFiniteTests.WriteParquet(tmp, "x.parquet", [1.5, 2.5, double.NaN, 3.5, null, double.PositiveInfinity, 5.5, 6.5]);
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--allow-empty-split", "--json", "--on-bad-row", "quarantine");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(new Dictionary<string, long> { ["missing value"] = 1, ["non-finite number"] = 2 }, Counts(Json(r).GetProperty("badRows")));
        Assert.Equal(8, Json(r).GetProperty("rowsRead").GetInt64());
        var rows = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "quarantine", "part-00000.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // In input order: the missing-value stage's row 5 between the source's rows 3 and 6, though found after both.
        Assert.Equal([3L, 5, 6], rows.Select(x => x.GetProperty("row").GetInt64()));
        Assert.Equal(["row group 2 of 4, its row 1", "row group 3 of 4, its row 1", "row group 3 of 4, its row 2"], rows.Select(x => x.GetProperty("within").GetString()));
        Assert.All(rows, x => Assert.False(x.TryGetProperty("line", out _)));
        Assert.Equal(["non-finite number", "missing value", "non-finite number"], rows.Select(x => x.GetProperty("cause").GetString()));
        Assert.Equal(["{\"y\":0,\"x\":\"NaN\"}", "{\"y\":0,\"x\":null}", "{\"y\":1,\"x\":\"Infinity\"}"], rows.Select(x => x.GetProperty("text").GetString()));
    }

    /// <summary>
    /// Skip = drop for Parquet: skipping rows with a non-finite float (<c>--non-finite error</c>) or a missing value
    /// (<c>--missing error</c>) writes exactly the bytes (every split, every lineage file) of reading those values as
    /// missing and dropping their rows (<c>--non-finite missing --missing drop</c>).
    /// </summary>
    [Property(MaxTest = 8)]
    public Property Parquet_skip_writes_the_bytes_of_dropping_the_same_rows(NonEmptyArray<int> values, int seedOffset)
    {
        using var tmp = new TempDir();
        var x = values.Get.Select((v, i) => (v & 7) switch
        {
            1 when i > 0 => double.NaN,
            2 when i > 0 => double.NegativeInfinity,
            3 when i > 0 => (double?)null,
            _ => v * 0.5,
        }).ToArray();
        var input = Sources.NonFiniteTests.WriteParquet(tmp, "x.parquet", x);
        string seed = ((uint)seedOffset % 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] common = [input, "--label", "y", "--allow-empty-split", "--quiet", "--seed", seed];
        var skipped = CliRunner.Run(["convert", .. common, "--out", tmp.Combine("skip"), "--on-bad-row", "skip"]);
        var dropped = CliRunner.Run(["convert", .. common, "--out", tmp.Combine("drop"), "--non-finite", "missing", "--missing", "drop"]);
        if (skipped.Code != 0 || dropped.Code != 0) return (skipped.Code == dropped.Code).Label($"exit codes {skipped.Code} / {dropped.Code}: {skipped.Err} {dropped.Err}");
        var a = Files(tmp.Combine("skip"));
        var b = Files(tmp.Combine("drop"));
        bool same = a.Keys.SequenceEqual(b.Keys) && a.All(kv => kv.Value.AsSpan().SequenceEqual(b[kv.Key]));
        return same.Label($"same bytes {same}; files {string.Join(",", a.Keys)} vs {string.Join(",", b.Keys)}");
    }

    /// <summary>Data files and lineage of a run, by relative path (run.json and the manifests name the run's own folder).</summary>
    private static SortedDictionary<string, byte[]> Files(string dir)
        => new(Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(dir, f).StartsWith("_dataprep", StringComparison.Ordinal) || f.Contains("lineage", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(dir, f).Replace('\\', '/'), File.ReadAllBytes), StringComparer.Ordinal);
}
