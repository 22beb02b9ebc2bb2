using DataPrep.Cli;
using DataPrep.Audit;
using DataPrep.Data;
using static DataPrep.Tests.Audit.AuditRunner;

namespace DataPrep.Tests.Audit;

/// <summary><c>dataprep audit</c> on anyone's split files: group, time and duplicate checks through the sources.</summary>
public class AuditFilesTests
{
    private const string CleanTrain = "id,user,day,x\n1,u1,2024-03-01,1.5\n2,u2,2024-03-02,2\n3,u1,2024-03-03,3\n";
    private const string CleanTest = "{\"id\":4,\"user\":\"u3\",\"day\":\"2024-03-10\",\"x\":4}\n{\"id\":5,\"user\":\"u4\",\"day\":\"2024-03-11T06:00:00Z\",\"x\":5}\n";

    [Fact]
    public void Clean_files_pass_with_exit_0()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", CleanTrain);
        var test = tmp.File("test.jsonl", CleanTest);
        var r = AuditCli(train, test, "--group", "user", "--time", "day");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Err);
        Assert.Contains("PASS  group overlap  4 groups of user, each in exactly one split.", r.Out);
        Assert.Contains("PASS  time overlap   day: every split ends before the next begins (train < test).", r.Out);
        Assert.Contains("train → test: 2024-03-03T00:00:00Z < 2024-03-10T00:00:00Z (gap 7d)", r.Out);
        Assert.Contains("PASS  duplicates     no row occurs in two splits (5 distinct rows).", r.Out);
        Assert.Matches(@"train\s+3\s+1\s+2\s+2024-03-01T00:00:00Z → 2024-03-03T00:00:00Z", r.Out);
        Assert.Contains("CLEAN: 3 of 3 checks passed", r.Out);
    }

    [Fact]
    public void Planted_group_overlap_is_a_leak_with_examples()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", CleanTrain);
        var test = tmp.File("test.csv", "id,user,day,x\n7,u9,2024-04-01,9\n8,u1,2024-04-02,8\n");
        var r = AuditCli(train, test, "--group", "user");
        Assert.Equal(AuditCommand.LeakFound, r.Code);
        Assert.Contains("LEAK  group overlap  1 group of user occurs in more than one split (1 row lies outside the split that holds most of its group).", r.Out);
        Assert.Contains("train ∩ test: 1 group", r.Out);
        Assert.Contains($"e.g. group 'u1': train 2 rows, test 1 row (first rows: train {train} row 1; test {test} row 2)", r.Out);
        Assert.Contains("LEAK: group overlap (leak). Exit code 5.", r.Out);
    }

    [Fact]
    public void Planted_time_overlap_prints_the_overlapping_range()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", "t,x\n2024-03-01,1\n2024-03-05,2\n2024-03-09,3\n");
        var validation = tmp.File("val.csv", "t,x\n2024-03-07,4\n2024-03-12,5\n");
        var test = tmp.File("test.csv", "t,x\n2024-03-13,6\n");
        var r = AuditCli(train, test, validation, "--time", "t");
        Assert.Equal(5, r.Code);
        Assert.Contains("LEAK  time overlap   t: train and validation overlap from 2024-03-07T00:00:00Z to 2024-03-09T00:00:00Z.", r.Out);
        Assert.Contains("train → validation: overlap from 2024-03-07T00:00:00Z to 2024-03-09T00:00:00Z (1 train row at or after 2024-03-07T00:00:00Z, 1 validation row at or before 2024-03-09T00:00:00Z)", r.Out);
        Assert.Contains("validation → test: 2024-03-12T00:00:00Z < 2024-03-13T00:00:00Z (gap 1d)", r.Out);
        Assert.Contains($"e.g. train {train} row 3 at 2024-03-09T00:00:00Z is not before validation {validation} row 1 at 2024-03-07T00:00:00Z", r.Out);
        // Splits are compared in train → validation → test order, whatever the argument order.
        Assert.Matches(@"train\s+3[\s\S]*validation\s+2[\s\S]*test\s+1", r.Out);
    }

    [Fact]
    public void A_boundary_timestamp_in_both_splits_is_an_overlap()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", "t\n1700000000\n1700000100\n");
        var test = tmp.File("test.csv", "t\n1700000100\n1700000200\n");
        var (code, report) = AuditJson(train, test, "--time", "t");
        Assert.Equal(5, code);
        var b = Check(report, "time-overlap").GetProperty("boundaries")[0];
        Assert.Equal("2023-11-14T22:15:00Z", b.GetProperty("overlapFrom").GetString());
        Assert.Equal("2023-11-14T22:15:00Z", b.GetProperty("overlapTo").GetString());
        Assert.Equal(0, b.GetProperty("gapSeconds").GetDouble());
    }

    [Fact]
    public void The_same_row_matches_across_formats_and_inferred_types()
    {
        using var tmp = new TempDir();
        // CSV text "1.50" and "2024-03-01"; JSON 1.5 and an ISO date-time at midnight: the same values.
        var train = tmp.File("train.csv", "a,b,when,flag\n1.50,x,2024-03-01,true\n2,y,2024-03-02,false\n");
        var test = tmp.File("test.jsonl", "{\"a\":1.5,\"b\":\"x\",\"when\":\"2024-03-01T00:00:00Z\",\"flag\":true}\n{\"a\":3,\"b\":\"z\",\"when\":\"2024-03-09\",\"flag\":false}\n");
        var r = AuditCli(train, test);
        Assert.Equal(0, r.Code);   // identical rows warn; they are not leakage by themselves
        Assert.Contains("WARN  duplicates     1 distinct row occurs in more than one split (2 rows in all); expected by chance ≈ ", r.Out);
        Assert.Contains($"e.g. train {train} row 1 = test {test} row 1", r.Out);
        Assert.Contains("SKIP  group overlap", r.Out);
    }

    [Fact]
    public void Parquet_rows_match_the_same_rows_in_json_lines()
    {
        // The Parquet reader's fixture and its expected JSON Lines hold the same 120 rows.
        var parquet = Paths.Fixture("parquet", "required.parquet");
        var jsonl = Paths.Fixture("parquet", "expected-required.jsonl");
        var (code, report) = AuditJson(parquet, jsonl, "--group", "name");
        Assert.Equal(5, code);
        Assert.Equal(["required.parquet", "expected-required.jsonl"], report.GetProperty("splits").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var dup = Check(report, "duplicates");
        Assert.Equal(120, dup.GetProperty("violations").GetInt64());
        Assert.Equal(240, dup.GetProperty("rows").GetInt64());
        int names = File.ReadLines(jsonl).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("name").GetString()).Distinct().Count();
        Assert.Equal(names, Check(report, "group-overlap").GetProperty("violations").GetInt64());
    }

    [Fact]
    public void Ignore_leaves_a_row_id_out_of_the_duplicate_check()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", "id,x,y\n1,5,a\n2,6,b\n");
        var test = tmp.File("test.csv", "id,x,y\n3,5,a\n");
        Assert.Equal(0, AuditCli(train, test).Code);
        var r = AuditCli(train, test, "--ignore", "id");
        Assert.Equal(0, r.Code);
        Assert.Contains("WARN  duplicates     1 distinct row occurs in more than one split", r.Out);
        Assert.Contains("note: Left out of the duplicate check by --ignore: id.", r.Out);
        var bad = AuditCli(train, test, "--ignore", "nope");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--ignore names column 'nope', which no file has", bad.Err);
    }

    [Fact]
    public void Rows_repeated_within_one_split_are_not_a_leak()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", "x\n1\n1\n2\n");
        var test = tmp.File("test.csv", "x\n3\n");
        var r = AuditCli(train, test);
        Assert.Equal(0, r.Code);
        Assert.Contains("1 row repeats within its own split (not a leak)", r.Out);
    }

    [Fact]
    public void A_folder_with_split_subfolders_of_part_files()
    {
        using var tmp = new TempDir();
        tmp.File("data/train/part-0.csv", "g,x\na,1\nb,2\n");
        tmp.File("data/train/part-1.csv", "g,x\nc,3\n");
        tmp.File("data/train/_SUCCESS", "");
        tmp.File("data/valid/part-0.csv", "g,x\nd,4\n");
        tmp.File("data/test/part-0.csv", "g,x\nc,5\n");
        tmp.File("data/README.md", "not data");
        var (code, report) = AuditJson(tmp.Combine("data"), "--group", "g");
        Assert.Equal(5, code);
        var splits = report.GetProperty("splits").EnumerateArray().ToList();
        Assert.Equal(["train", "validation", "test"], splits.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal([3L, 1L, 1L], splits.Select(s => s.GetProperty("rows").GetInt64()));
        Assert.Equal(2, splits[0].GetProperty("files").GetArrayLength());
        var group = Check(report, "group-overlap");
        Assert.Equal("c", group.GetProperty("examples")[0].GetProperty("key").GetString());
        var rows = group.GetProperty("examples")[0].GetProperty("rows");
        Assert.EndsWith("part-1.csv", rows[0].GetProperty("file").GetString());
        Assert.Equal(1, rows[0].GetProperty("row").GetInt64());
    }

    [Fact]
    public void A_folder_with_split_files_side_by_side_and_split_names_in_file_names()
    {
        using var tmp = new TempDir();
        tmp.File("d/churn_train.csv", "x\n1\n");
        tmp.File("d/churn_test.csv", "x\n2\n");
        tmp.File("d/notes.txt.bak", "");
        var (code, report) = AuditJson(tmp.Combine("d"));
        Assert.Equal(0, code);
        Assert.Equal(["train", "test"], report.GetProperty("splits").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
    }

    [Fact]
    public void Files_that_name_no_split_are_split_by_file_name_in_the_given_order()
    {
        using var tmp = new TempDir();
        var a = tmp.File("2023.csv", "t\n2023-06-01\n");
        var b = tmp.File("2024.csv", "t\n2023-05-01\n");
        var (code, report) = AuditJson(a, b, "--time", "t");
        Assert.Equal(5, code);
        var boundary = Check(report, "time-overlap").GetProperty("boundaries")[0];
        Assert.Equal("2023.csv", boundary.GetProperty("earlier").GetString());
        Assert.Equal("2024.csv", boundary.GetProperty("later").GetString());
    }

    [Fact]
    public void Json_report_of_files_parses()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", CleanTrain);
        var test = tmp.File("test.jsonl", CleanTest);
        var (code, report) = AuditJson(train, test, "--group", "user", "--time", "day", "--max-examples", "0");
        Assert.Equal(0, code);
        Assert.Equal("files", report.GetProperty("kind").GetString());
        Assert.Equal("pass", report.GetProperty("status").GetString());
        Assert.Equal([train, test], report.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["group-overlap", "time-overlap", "duplicates"], report.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("2024-03-11T06:00:00Z", report.GetProperty("splits")[1].GetProperty("timeTo").GetString());
        Assert.Equal(2, report.GetProperty("splits")[1].GetProperty("groups").GetInt64());
    }

    [Fact]
    public void Max_examples_limits_the_examples()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", "g\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"k{i}")) + "\n");
        var test = tmp.File("test.csv", "g\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"k{i}")) + "\n");
        var (_, report) = AuditJson(train, test, "--group", "g", "--max-examples", "3");
        Assert.Equal(3, Check(report, "group-overlap").GetProperty("examples").GetArrayLength());
        Assert.Equal(3, Check(report, "duplicates").GetProperty("examples").GetArrayLength());
        Assert.Equal(20, Check(report, "group-overlap").GetProperty("violations").GetInt64());
        var (_, five) = AuditJson(train, test, "--group", "g");
        Assert.Equal(5, Check(five, "group-overlap").GetProperty("examples").GetArrayLength());
    }

    [Fact]
    public void Missing_group_keys_and_times_are_counted_not_checked()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", "g,t\na,2024-01-01\n,\n");
        var test = tmp.File("test.csv", "g,t\nb,2024-02-01\n");
        var r = AuditCli(train, test, "--group", "g", "--time", "t");
        Assert.Equal(0, r.Code);
        Assert.Contains("2 groups of g, each in exactly one split; 1 row has no group key and was not checked.", r.Out);
        Assert.Contains("1 row has no time and was not checked", r.Out);
    }

    [Fact]
    public void Errors_are_clear_with_exit_codes_2_and_3()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", CleanTrain);
        var test = tmp.File("test.csv", "id,name\n1,a\n");

        var missing = AuditCli(train, tmp.Combine("nope.csv"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("nope.csv' does not exist", missing.Err);

        var empty = tmp.Combine("empty");
        Directory.CreateDirectory(empty);
        tmp.File("empty/notes.md", "x");
        var noSplits = AuditCli(empty);
        Assert.Equal(2, noSplits.Code);
        Assert.Contains("has no _dataprep/run.json and no recognisable split files", noSplits.Err);

        var noColumn = AuditCli(train, test, "--group", "user");
        Assert.Equal(2, noColumn.Code);
        Assert.Contains($"--group names column 'user', which {test} does not have (its columns: id, name).", noColumn.Err);

        var one = AuditCli(train);
        Assert.Equal(2, one.Code);
        Assert.Contains("Found only one split (train: ", one.Err);

        var twoTrains = AuditCli(train, tmp.File("x/train.jsonl", "{\"a\":1}\n"));
        Assert.Equal(2, twoTrains.Code);
        Assert.Contains("only one split", twoTrains.Err);

        var lateTest = tmp.File("late/test.csv", "id,user,day,x\n9,u9,2024-05-01,1\n10,u8,soon,2\n");
        var badTime = AuditCli(train, lateTest, "--time", "day");
        Assert.Equal(3, badTime.Code);
        Assert.Contains($"{lateTest}, row 2, column 'day': 'soon' is not a time", badTime.Err);

        var negative = AuditCli(train, test, "--max-examples", "-1");
        Assert.Equal(2, negative.Code);
        Assert.Contains("--max-examples -1", negative.Err);

        var unknown = AuditCli(train, tmp.File("test.xyz", "1"));
        Assert.Equal(2, unknown.Code);
        Assert.Contains("Cannot tell the format of", unknown.Err);

        var s3 = AuditCli("s3://bucket/train/", "s3://bucket/test/");
        Assert.Equal(2, s3.Code);
        Assert.Contains("audit reads local files and folders", s3.Err);

        using var tmp2 = new TempDir();
        var run = ChurnRun(tmp2);
        var mixed = AuditCli(run, train);
        Assert.Equal(2, mixed.Code);
        Assert.Contains("is a DataPrep output folder", mixed.Err);

        var inside = AuditCli(Path.Combine(run, "train"), Path.Combine(run, "test", "part-00000.csv"));
        Assert.Equal(2, inside.Code);
        Assert.Contains("is inside the DataPrep output folder", inside.Err);
        Assert.Contains("audit the folder itself", inside.Err);
    }

    [Fact]
    public void Corrupt_input_is_exit_3()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.jsonl", "{\"a\":1}\n{not json\n");
        var test = tmp.File("test.jsonl", "{\"a\":2}\n");
        var r = AuditCli(train, test);
        Assert.Equal(3, r.Code);
        Assert.Contains("train.jsonl", r.Err);
    }

    [Fact]
    public void Help_documents_exit_code_5()
    {
        var r = AuditCli("--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("5 leakage found", r.Out);
        Assert.Contains("--max-examples", r.Out);
    }

    [Theory]
    [InlineData("train.csv", "train")]
    [InlineData("TRAIN.csv.gz", "train")]
    [InlineData("validation.jsonl", "validation")]
    [InlineData("valid.parquet", "validation")]
    [InlineData("val.csv", "validation")]
    [InlineData("dev.tsv", "validation")]
    [InlineData("test.parquet", "test")]
    [InlineData("churn_train.csv", "train")]
    [InlineData("train-00000-of-00004.parquet", "train")]
    [InlineData("pretrain.csv", null)]
    [InlineData("train_test.csv", null)]
    [InlineData("part-00000.csv", null)]
    public void Split_names_come_from_file_names(string file, string? split)
        => Assert.Equal(split, AuditTargets.SplitOfName(file));

    [Fact]
    public void Canonical_text_is_the_same_whatever_the_type()
    {
        Assert.Equal("1", CanonicalValues.Text(new Int64Column([1]), 0));
        Assert.Equal("1", CanonicalValues.Text(new Float64Column([1.0]), 0));
        Assert.Equal("1", CanonicalValues.Text(new StringColumn(["1"]), 0));
        Assert.Equal("1", CanonicalValues.Text(new StringColumn(["1.0"]), 0));
        Assert.Equal("1.5", CanonicalValues.Text(new StringColumn(["1.50"]), 0));
        Assert.Equal("0", CanonicalValues.Text(new Float64Column([-0.0]), 0));
        Assert.Equal("true", CanonicalValues.Text(new StringColumn(["True"]), 0));
        Assert.Equal("true", CanonicalValues.Text(new BooleanColumn([true]), 0));
        var ticks = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
        Assert.Equal("2024-03-01T00:00:00Z", CanonicalValues.Text(new TimestampColumn([ticks], null, 1), 0));
        Assert.Equal("2024-03-01T00:00:00Z", CanonicalValues.Text(new StringColumn(["2024-03-01"]), 0));
        Assert.Equal("2024-03-01T00:00:00Z", CanonicalValues.Text(new StringColumn(["2024-03-01T01:00:00+01:00"]), 0));
        Assert.Equal("abc", CanonicalValues.Text(new StringColumn(["abc"]), 0));
        Assert.Null(CanonicalValues.Text(new StringColumn([null]), 0));
        var hasher = new CanonicalValues.RowHasher();
        Assert.Equal(hasher.Hash([new Int64Column([7]), new StringColumn(["a"])], 0), hasher.Hash([new Float64Column([7.0]), new StringColumn(["a"])], 0));
        Assert.NotEqual(hasher.Hash([new StringColumn(["a,b"]), new StringColumn(["c"])], 0), hasher.Hash([new StringColumn(["a"]), new StringColumn(["b,c"])], 0));
        Assert.NotEqual(hasher.Hash([new StringColumn([null])], 0), hasher.Hash([new StringColumn([""])], 0));
    }

    [Fact]
    public void Times_read_like_the_time_split()
    {
        Assert.Equal(CanonicalValues.TimeRead.Ok, CanonicalValues.Time(new Int64Column([1_700_000_000]), 0, out long s));
        Assert.Equal(CanonicalValues.TimeRead.Ok, CanonicalValues.Time(new Int64Column([1_700_000_000_000]), 0, out long ms));
        Assert.Equal(s, ms);
        Assert.Equal("2023-11-14T22:13:20Z", CanonicalValues.Iso(s));
        Assert.Equal(CanonicalValues.TimeRead.Ok, CanonicalValues.Time(new Float64Column([1_700_000_000.5]), 0, out long f));
        Assert.Equal(s + TimeSpan.TicksPerSecond / 2, f);
        Assert.Equal(CanonicalValues.TimeRead.Invalid, CanonicalValues.Time(new StringColumn(["soon"]), 0, out _));
        Assert.Equal(CanonicalValues.TimeRead.Missing, CanonicalValues.Time(new StringColumn([null]), 0, out _));
        Assert.Equal(CanonicalValues.TimeRead.Invalid, CanonicalValues.Time(new BooleanColumn([true]), 0, out _));
    }
}
