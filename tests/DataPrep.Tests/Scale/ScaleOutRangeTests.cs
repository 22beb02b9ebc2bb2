using System.Globalization;
using System.Text;
using DataPrep.Scale;

namespace DataPrep.Tests.Scale;

/// <summary>
/// A CSV, JSON Lines or LibSVM file divided among scan tasks by byte ranges (<c>--input-split-size</c>): an error in a later range
/// names the line and row one process names; a quoted field holding the line break where a range starts stops the run
/// with exit 3 and what to do; each task reads its share of one file; and a file that cannot be divided at line-break
/// bytes (UTF-16) is read whole. (The same bytes as one process for every sample run:
/// <c>SampleDataGoldenTests.Workers_write_the_golden_bytes</c>; through S3: <c>ScaleOutS3Tests</c>.)
/// </summary>
public class ScaleOutRangeTests
{
    /// <summary>Runs every step's tasks in order; the first task that fails ends it, and its result is returned.</summary>
    private static CliRunner.Result RunUntilFailure(string[] common)
    {
        foreach (var step in ScaleOutTests.StepsOf(common))
        {
            for (int task = 0; task < step.Tasks; task++)
            {
                var r = CliRunner.Run([.. common, "--step", step.Name, "--worker", task.ToString(CultureInfo.InvariantCulture)]);
                if (r.Code != 0) return r;
            }
        }
        return new CliRunner.Result(0, "", "");
    }

    /// <summary>
    /// Runs <paramref name="args"/> as one process and as workers (<paramref name="workers"/>: the worker options) until a
    /// task fails: both exit 3, the one process names <paramref name="location"/>, and the workers name the same location
    /// and cause.
    /// </summary>
    private static void AssertSameErrorAsOneProcess(TempDir tmp, string[] args, string name, string location, params string[] workers)
    {
        var one = CliRunner.Run([.. args, "--out", tmp.Combine(name + "-one")]);
        Assert.Equal(3, one.Code);
        Assert.Contains(location, one.Err, StringComparison.Ordinal);
        var many = RunUntilFailure([.. args, "--out", tmp.Combine(name + "-many"), .. workers]);
        Assert.Equal(3, many.Code);
        Assert.Contains(one.Err.Trim()[(one.Err.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), many.Err, StringComparison.Ordinal);
    }

    /// <summary>The scan tasks' reports of a run whose work area was kept, in task order.</summary>
    private static List<System.Text.Json.Nodes.JsonNode> ScanReports(string output)
        => Directory.GetFiles(Path.Combine(output, "_dataprep", "work"), "*.json", SearchOption.AllDirectories)
            .Where(f => f.Contains(Path.Combine("done", "scan"), StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(f => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(f))!).ToList();

    private static string Rows(TempDir tmp, string name, int rows, Func<int, string> row)
    {
        var text = new StringBuilder("y,a,b\n");
        for (int i = 1; i <= rows; i++) text.Append(row(i)).Append('\n');
        return tmp.File(name, text.ToString());
    }

    [Fact]
    public void A_bad_value_in_a_later_range_is_named_as_one_process_names_it()
    {
        using var tmp = new TempDir();
        var input = Rows(tmp, "bad.csv", 300, i => i == 250 ? $"{i % 2},x{i},{i}" : $"{i % 2},{i},{i}");
        string[] args = ["convert", input, "--label", "y", "--column-type", "a=int", "--quiet"];
        // The same location and cause, found by the last scan task, which started reading far into the file.
        AssertSameErrorAsOneProcess(tmp, args, "bad", "line 251, row 250, column 'a'", "--workers", "4", "--input-split-size", "500B");
    }

    [Fact]
    public void A_quoted_line_break_where_a_range_starts_stops_the_run_and_a_whole_read_does_not()
    {
        using var tmp = new TempDir();
        // Every 40th row's text holds a line break; the split size puts a range's first byte just before one.
        var input = Rows(tmp, "lines.csv", 200, i => i % 40 == 0 ? $"{i % 2},{i},\"t\n{i}\"" : $"{i % 2},{i},t{i}");
        var bytes = File.ReadAllBytes(input);
        int quoted = Encoding.ASCII.GetString(bytes).IndexOf("\"t\n", StringComparison.Ordinal) + 2;
        string[] args = ["convert", input, "--label", "y", "--encode", "b=onehot", "--quiet"];
        string parts = ((bytes.Length + quoted - 1) / quoted).ToString(CultureInfo.InvariantCulture);
        var many = RunUntilFailure([.. args, "--out", tmp.Combine("many"), "--workers", parts, "--input-split-size", $"{quoted}B"]);
        Assert.Equal(3, many.Code);
        Assert.Contains($"lines.csv: a quoted field holds the line break at byte {quoted}, where a scaled-out run divided the file", many.Err, StringComparison.Ordinal);
        Assert.Contains("pass --input-split-size 0", many.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(tmp.Combine("many"), "train")));

        // Read whole (0), the same run is the one process's.
        var one = CliRunner.Run([.. args, "--out", tmp.Combine("one")]);
        Assert.Equal(0, one.Code);
        string[] common = [.. args, "--out", tmp.Combine("whole"), "--workers", parts, "--input-split-size", "0"];
        ScaleOutTests.RunSteps(common, new Random(5), (a, _) => CliRunner.Run(a));
        ScaleOutTests.AssertSameRun(tmp.Combine("one"), tmp.Combine("whole"), int.Parse(parts, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_bad_split_size_or_one_without_workers_is_an_option_error()
    {
        using var tmp = new TempDir();
        var input = Rows(tmp, "one.csv", 10, i => $"{i % 2},{i},{i}");
        var notASize = CliRunner.Run("convert", input, "--label", "y", "--out", tmp.Combine("a"), "--workers", "2", "--input-split-size", "abc");
        Assert.Equal(2, notASize.Code);
        Assert.Contains("--input-split-size abc is not a size", notASize.Err, StringComparison.Ordinal);
        var alone = CliRunner.Run("convert", input, "--label", "y", "--out", tmp.Combine("b"), "--input-split-size", "1MB");
        Assert.Equal(2, alone.Code);
        Assert.Contains("--input-split-size needs --workers N", alone.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Combine("a")) || Directory.Exists(tmp.Combine("b")));
    }

    [Fact]
    public void Ranges_that_do_not_meet_stop_the_plan_naming_the_file_and_byte()
    {
        var scans = new List<TaskReport>
        {
            new() { Ranges = [new ScanRange { Source = 1, First = 0, End = 2, Start = 0, Stop = 700, Rows = 10, QuotedBreaks = true }] },
            new() { Ranges = [new ScanRange { Source = 1, First = 2, End = 4, Start = 690, Stop = long.MaxValue, Rows = 9, QuotedBreaks = true }] },
        };
        var error = Assert.Throws<DataFormatException>(() => ScanRanges.Check(scans, ["a.csv", "b.csv"], "step plan task 0"));
        Assert.StartsWith("b.csv: a quoted field holds the line break at byte 689", error.Message, StringComparison.Ordinal);
        // JSON Lines: no quoted line break can cause it, so the message says what can.
        foreach (var scan in scans) scan.Ranges![0].QuotedBreaks = false;
        var lines = Assert.Throws<DataFormatException>(() => ScanRanges.Check(scans, ["a.jsonl", "b.jsonl"], "step plan task 0"));
        Assert.StartsWith("b.jsonl: the scan tasks' reads do not meet at byte 690 (the read before stopped at byte 700): did the file change during the run?", lines.Message, StringComparison.Ordinal);

        scans[1].Ranges![0].Start = 700;
        // The record at byte 700 is line 12 of the first read and line 3 of the second (two blank lines before it): the
        // second read's line 1 follows 9 line breaks of the file, its row 1 ten rows.
        scans[0].Ranges![0].StopLine = 12;
        scans[1].Ranges![0].StartLine = 3;
        var ranges = ScanRanges.Check(scans, ["a.csv", "b.csv"], "step plan task 0");
        Assert.True(ranges.Any);
        Assert.Equal((1, 10L, 9L), ranges.Before(1));
        Assert.Null(ranges.Before(0));
        var missing = new List<TaskReport> { scans[1] };
        Assert.Throws<PipelineValidationException>(() => ScanRanges.Check(missing, ["a.csv", "b.csv"], "step plan task 0"));
    }

    [Fact]
    public void Each_scan_task_reads_its_share_of_one_file()
    {
        using var tmp = new TempDir();
        var input = Rows(tmp, "one.csv", 2_000, i => $"{i % 2},{i},{i * 7}");
        string[] common = ["convert", input, "--label", "y", "--quiet", "--out", tmp.Combine("many"), "--workers", "3", "--input-split-size", "2KB", "--keep-work"];
        ScaleOutTests.RunSteps(common, new Random(2), (a, _) => CliRunner.Run(a));
        var reports = ScanReports(tmp.Combine("many"));
        Assert.Equal(3, reports.Count);
        var rows = reports.Select(r => r["rowsRead"]!.GetValue<long>()).ToList();
        Assert.Equal(2_000, rows.Sum());
        // Balanced by bytes: each task reads about a third of the rows, none of them all.
        Assert.All(rows, n => Assert.InRange(n, 500, 850));
    }

    [Fact]
    public void A_json_lines_file_read_as_ranges_is_the_one_process_run_and_its_errors_are_named_alike()
    {
        using var tmp = new TempDir();
        var text = new StringBuilder();
        for (int i = 1; i <= 600; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{{\"y\": {i % 2}, \"a\": {i * 0.25}, \"b\": \"t{i % 7}\"}}\n");
            if (i % 97 == 0) text.Append('\n');
        }
        var input = tmp.File("rows.jsonl", text.ToString());
        string[] args = ["convert", input, "--label", "y", "--encode", "b=onehot", "--quiet"];
        Assert.Equal(0, CliRunner.Run([.. args, "--out", tmp.Combine("one")]).Code);
        string[] common = [.. args, "--out", tmp.Combine("many"), "--workers", "3", "--input-split-size", "2KB", "--keep-work"];
        ScaleOutTests.RunSteps(common, new Random(7), (a, _) => CliRunner.Run(a));
        var reports = ScanReports(tmp.Combine("many"));
        // Each task read a third of the file's bytes, none of them all its rows.
        Assert.All(reports, r => Assert.InRange(r["rowsRead"]!.GetValue<long>(), 150, 250));
        Directory.Delete(Path.Combine(tmp.Combine("many"), "_dataprep", "work"), recursive: true);
        ScaleOutTests.AssertSameRun(tmp.Combine("one"), tmp.Combine("many"), 3);

        // A bad value past a blank line, in the last range: the line and row one process names.
        var bad = tmp.File("bad.jsonl", text.ToString().Replace("\"a\": 137.5,", "\"a\": \"x\",", StringComparison.Ordinal));
        string[] badArgs = ["convert", bad, "--label", "y", "--column-type", "a=float64", "--drop", "b", "--quiet"];
        AssertSameErrorAsOneProcess(tmp, badArgs, "bad", "line 555, row 550, column 'a'", "--workers", "3", "--input-split-size", "2KB");

        // A missing value under --missing error, found by the missing-values stage after the read (the source locates the
        // row's line again): the line and row one process names. Twenty blank lines near the start make a line counted from
        // the file's start differ from one counted in the range.
        var lines = text.ToString().Replace("\"a\": 137.5,", "\"a\": null,", StringComparison.Ordinal).Split('\n').ToList();
        lines.InsertRange(5, Enumerable.Repeat("", 20));
        var gap = tmp.File("gap.jsonl", string.Join('\n', lines));
        string[] gapArgs = ["convert", gap, "--label", "y", "--drop", "b", "--missing", "error", "--quiet"];
        AssertSameErrorAsOneProcess(tmp, gapArgs, "gap", "line 575, row 550, column 'a'", "--workers", "3", "--input-split-size", "2KB");
    }

    /// <summary>
    /// <c>--on-bad-row skip|quarantine</c> with a file divided into byte ranges (CSV, JSON Lines, LibSVM): each scan task
    /// quarantines its range's rows numbered from the range's start, and the commit renumbers them from the scan reports, so
    /// the quarantine file (every cause, the lines after blank and comment lines and a byte-order mark), the split files and
    /// run.json are one process's. Tasks run
    /// in shuffled order.
    /// </summary>
    [Theory]
    [InlineData("csv", "quarantine", 2)]
    [InlineData("csv", "quarantine", 7)]
    [InlineData("csv", "skip", 3)]
    [InlineData("jsonl", "quarantine", 3)]
    [InlineData("libsvm", "quarantine", 3)]
    [InlineData("libsvm", "skip", 2)]
    public void Bad_rows_of_a_divided_file_are_counted_and_quarantined_as_in_one_process(string format, string policy, int workers)
    {
        using var tmp = new TempDir();
        var text = new StringBuilder(format == "csv" ? "y,a,b,c\n" : "");
        for (int i = 1; i <= 400; i++)
        {
            string row = (format, i % 13) switch
            {
                ("csv", 4) => $"{i % 2},oops{i},1.5,c{i % 3}",     // a value of the wrong type
                ("csv", 7) => $"{i % 2},{i},2.5",                   // ragged
                ("csv", 11) => $"{i % 2},{i},inf,c2",               // non-finite
                ("csv", 2) => $"{i % 2},,3.5,c0",                   // missing (the missing-values stage)
                ("csv", _) => $"{i % 2},{i},{i * 0.5},c{i % 3}",
                ("libsvm", 4) => $"{i % 2} 1:oops{i} 2:1.5",           // a value that is no number
                ("libsvm", 7) => $"{i % 2} 3:{i} 2:1",                 // indexes out of order
                ("libsvm", 11) => $"{i % 2} 1:inf",                    // non-finite
                ("libsvm", 2) => $"{i % 2} 2:3.5 # only a comment after", // a row without feature 1
                ("libsvm", _) => $"{i % 2} 1:{i} 2:{i * 0.5}{(i % 9 == 0 ? " qid:3" : "")}",
                (_, 4) => $"{{\"y\": {i % 2}, \"a\": \"oops{i}\", \"b\": 1.5, \"c\": \"c1\"}}",
                (_, 7) => $"{{\"y\": {i % 2}, \"a\": {i},",     // malformed
                (_, 2) => $"{{\"y\": {i % 2}, \"a\": null, \"b\": 3.5, \"c\": \"c0\"}}",
                _ => $"{{\"y\": {i % 2}, \"a\": {i}, \"b\": {i * 0.5}, \"c\": \"c{i % 3}\"}}",
            };
            text.Append(row).Append('\n');
            if (i % 50 == 0) text.Append(format == "libsvm" && i % 100 == 0 ? "# a comment line\n" : "\n");
        }
        var input = tmp.File($"bad.{format}", "");
        File.WriteAllBytes(input, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text.ToString())]);
        string[] args = format == "libsvm"
            ? ["convert", input, "--label", "label", "--seed", "4", "--on-bad-row", policy, "--quiet"]
            : ["convert", input, "--label", "y", "--column-type", "a=int", "--encode", "c=onehot", "--seed", "4", "--on-bad-row", policy, "--quiet"];
        var single = CliRunner.Run([.. args, "--out", tmp.Combine("one")]);
        Assert.True(single.Code == 0, single.Err);
        var many = tmp.Combine("many");
        ScaleOutTests.RunSteps([.. args, "--out", many, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--input-split-size", "300B", "--keep-work"],
            new Random(workers), (a, _) => CliRunner.Run(a));
        // Every task read ranges from the middle of the file (none read it whole).
        var ranges = ScanReports(many).Select(r => r["ranges"]!.AsArray()).ToList();
        Assert.Equal(workers, ranges.Count);
        Assert.Equal(workers - 1, ranges.Count(r => r[0]!["first"]!.GetValue<int>() > 0));
        Directory.Delete(Path.Combine(many, "_dataprep", "work"), recursive: true);
        ScaleOutTests.AssertSameRun(tmp.Combine("one"), many, workers);

        var quarantine = Path.Combine(many, "_dataprep", "quarantine", "part-00000.jsonl");
        Assert.Equal(policy == "quarantine", File.Exists(quarantine));
        if (policy == "skip") return;
        // The last bad row (399 = 13 × 30 + 9 is good; 397 = 13 × 30 + 7 is bad) sits on line 397 + 7 blank lines
        // (+ the header): numbered as one process numbers it, though the last range's scan task found it.
        var last = System.Text.Json.Nodes.JsonNode.Parse(File.ReadLines(quarantine).Last())!;
        Assert.Equal(397, last["row"]!.GetValue<long>());
        Assert.Equal(397 + 7 + (format == "csv" ? 1 : 0), last["line"]!.GetValue<long>());
    }

    /// <summary>
    /// A quarantine object the commit must renumber, gone from the work area (a lost upload, a hand-cleaned area): the commit
    /// stops naming the step, the scan task and what to do, and publishes nothing.
    /// </summary>
    [Fact]
    public void A_missing_quarantine_object_of_a_range_stops_the_commit_naming_the_task()
    {
        using var tmp = new TempDir();
        var input = Rows(tmp, "bad.csv", 300, i => i % 10 == 0 ? $"{i % 2},x{i},{i}" : $"{i % 2},{i},{i}");
        var many = tmp.Combine("many");
        string[] common = ["convert", input, "--label", "y", "--column-type", "a=int", "--on-bad-row", "quarantine", "--quiet", "--out", many, "--workers", "2", "--input-split-size", "500B"];
        foreach (var step in ScaleOutTests.StepsOf(common).Where(s => s.Name != "commit"))
        {
            for (int task = 0; task < step.Tasks; task++)
            {
                var r = CliRunner.Run([.. common, "--step", step.Name, "--worker", task.ToString(CultureInfo.InvariantCulture)]);
                Assert.True(r.Code == 0, r.Err);
            }
        }
        var objects = Directory.GetFiles(Path.Combine(many, "_dataprep", "work"), "quarantine.jsonl", SearchOption.AllDirectories);
        Assert.Equal(2, objects.Length);
        File.Delete(objects.Single(f => f.Contains(Path.Combine("scan", "00001"), StringComparison.Ordinal)));
        var commit = CliRunner.Run([.. common, "--step", "commit"]);
        Assert.Equal(2, commit.Code);
        Assert.Contains("step commit task 0: the quarantined rows of scan task 1 are missing from", commit.Err, StringComparison.Ordinal);
        Assert.Contains("run that task again", commit.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(many, "train")));
    }

    [Fact]
    public void A_utf16_csv_is_read_whole_and_gives_the_one_process_run()
    {
        using var tmp = new TempDir();
        var text = new StringBuilder("y,a,b\n");
        for (int i = 1; i <= 400; i++) text.Append(CultureInfo.InvariantCulture, $"{i % 2},{i * 0.5},{i % 5}\n");
        var input = tmp.File("wide.csv", "");
        File.WriteAllText(input, text.ToString(), Encoding.Unicode);
        string[] args = ["convert", input, "--label", "y", "--quiet"];
        Assert.Equal(0, CliRunner.Run([.. args, "--out", tmp.Combine("one")]).Code);
        // A 0x0A byte of UTF-16 is half a character: the file is one part, whatever the split size.
        string[] common = [.. args, "--out", tmp.Combine("many"), "--workers", "3", "--input-split-size", "1KB"];
        ScaleOutTests.RunSteps(common, new Random(3), (a, _) => CliRunner.Run(a));
        ScaleOutTests.AssertSameRun(tmp.Combine("one"), tmp.Combine("many"), 3);
    }
}
