using System.Text;

namespace DataPrep.Tests.Cli;

/// <summary>
/// Every kind of bad input: a one-paragraph error naming file, line, column, what was found and what was
/// expected; a non-zero exit code; and no partial output left behind.
/// </summary>
public class BadInputTests
{
    private static (CliRunner.Result R, string Out) Convert(TempDir tmp, string input, params string[] extra)
    {
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run(["convert", input, "--out", outDir, "--quiet", .. extra]);
        return (r, outDir);
    }

    private static void AssertFailed(CliRunner.Result r, string outDir, int code, params string[] fragments)
    {
        Assert.Equal(code, r.Code);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        foreach (var f in fragments) Assert.Contains(f, r.Err);
        Assert.False(Directory.Exists(outDir), "no output folder is left behind");
    }

    [Fact]
    public void Ragged_row()
    {
        using var tmp = new TempDir();
        var input = tmp.File("ragged.csv", "y,a,b\n1,2,3\n0,5\n1,7,8\n");
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "ragged.csv", "line 3", "found 2 fields", "expected the header's 3", "'0,5'");
    }

    [Fact]
    public void Unterminated_quote()
    {
        using var tmp = new TempDir();
        var input = tmp.File("quote.csv", "y,a\n1,2\n0,\"3\n1,4\n");
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "quote.csv", "line 3", "quot", "expected every quoted field to be closed");
    }

    [Fact]
    public void Non_number_in_a_numeric_column()
    {
        using var tmp = new TempDir();
        var input = tmp.File("nan.csv", "y,price\n1,2.5\n0,abc\n");
        var (r, o) = Convert(tmp, input, "--label", "y", "--column-type", "price=float");
        AssertFailed(r, o, 3, "nan.csv", "line 3", "row 2", "column 'price'", "found 'abc'", "expected a number");
    }

    [Fact]
    public void Non_number_after_the_inference_sample()
    {
        using var tmp = new TempDir();
        var sb = new StringBuilder("y,x\n");
        for (int i = 0; i < 10_050; i++) sb.Append(i % 2).Append(',').Append(i).Append('\n');
        sb.Append("1,12 kg\n");
        var input = tmp.File("late.csv", sb.ToString());
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "late.csv", "line 10052", "column 'x'", "found '12 kg'", "expected an integer", "--column-type x=string");
    }

    [Fact]
    public void Empty_file()
    {
        using var tmp = new TempDir();
        var input = tmp.File("empty.csv", "");
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "empty.csv", "is empty", "expected a header row");
    }

    [Fact]
    public void Header_only_file()
    {
        using var tmp = new TempDir();
        var input = tmp.File("header.csv", "y,a,b\n");
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "header.csv", "line 2", "no data rows", "expected at least one data row");
    }

    [Fact]
    public void Duplicate_column_names()
    {
        using var tmp = new TempDir();
        var input = tmp.File("dup.csv", "y,a,a\n1,2,3\n");
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "dup.csv", "line 1", "'a' twice", "columns 1 and 2", "expected unique column names");
    }

    [Fact]
    public void Unknown_label()
    {
        using var tmp = new TempDir();
        var input = tmp.File("ok.csv", "Target,a\n1,2\n");
        var (r, o) = Convert(tmp, input, "--label", "target");
        AssertFailed(r, o, 2, "--label names column 'target'", "did you mean 'Target'?", "expected one of: Target, a");
    }

    [Fact]
    public void Fractions_that_do_not_sum_to_one()
    {
        using var tmp = new TempDir();
        var input = tmp.File("ok.csv", "y,a\n1,2\n");
        var (r, o) = Convert(tmp, input, "--label", "y", "--split", "80/10/5");
        AssertFailed(r, o, 2, "sum to 0.95", "train 0.8, validation 0.1, test 0.05", "expected them to sum to 1");
    }

    [Fact]
    public void Shard_rows_and_shard_size_together()
    {
        using var tmp = new TempDir();
        var input = tmp.File("ok.csv", "y,a\n1,2\n");
        var (r, o) = Convert(tmp, input, "--label", "y", "--shard-rows", "10", "--shard-size", "64MB");
        AssertFailed(r, o, 2, "--shard-rows and --shard-size were both given; choose one");
    }

    [Fact]
    public void A_record_larger_than_the_shard_size()
    {
        using var tmp = new TempDir();
        // Row 5 of the input is the only long one; all rows go to train in input order, so it is train's record 4.
        var input = tmp.File("wide.csv", "y,a\n1,2\n0,3\n1,4\n0,5\n1,123456789.25\n0,6\n");
        var (r, o) = Convert(tmp, input, "--label", "y", "--split", "100/0/0", "--no-shuffle", "--shard-size", "8");
        AssertFailed(r, o, 2, "Split 'train'", "record 4 ", "is 15 bytes, more than --shard-size (8 bytes)", "pass --shard-size 15 or more");
    }

    [Fact]
    public void Corrupt_gzip()
    {
        using var tmp = new TempDir();
        var input = tmp.Combine("bad.csv.gz");
        File.WriteAllBytes(input, [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3]);
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "bad.csv.gz", "not a valid gzip file", "expected gzip-compressed data");
    }

    [Fact]
    public void Corrupt_parquet()
    {
        using var tmp = new TempDir();
        var (r, o) = Convert(tmp, Paths.Fixture("parquet", "corrupt.parquet"), "--label", "first");
        AssertFailed(r, o, 3, "corrupt.parquet", "PAR1", "expected a complete Parquet file");
    }

    [Fact]
    public void Like_with_an_incompatible_schema()
    {
        using var tmp = new TempDir();
        var v1 = tmp.File("v1.csv", "y,a,b\n1,2,3\n0,3,4\n1,4,5\n0,5,6\n1,6,7\n");
        var earlier = tmp.Combine("v1");
        Assert.Equal(0, CliRunner.Run("convert", v1, "--out", earlier, "--label", "y", "--allow-empty-split", "--quiet").Code);
        var v2 = tmp.File("v2.csv", "y,a,c\n1,2,3\n");
        var (r, o) = Convert(tmp, v2, "--like", Path.Combine(earlier, "_dataprep", "run.json"));
        AssertFailed(r, o, 2, "The input has no column 'b'", "run.json", "expected the columns a, b");
    }

    [Fact]
    public void A_time_split_on_a_text_column_names_the_fix()
    {
        using var tmp = new TempDir();
        var input = tmp.File("t.csv", "y,x,when\n1,5,yesterday\n0,6,today\n");
        var (r, o) = Convert(tmp, input, "--label", "y", "--split", "time", "--time", "when", "--drop", "when");
        AssertFailed(r, o, 2, "when", "--column-type when=timestamp");
    }

    [Fact]
    public void A_missing_timestamp_names_file_row_and_column()
    {
        using var tmp = new TempDir();
        var input = tmp.File("m.csv", "y,x,t\n1,5,2024-01-01\n0,6,\n1,7,2024-01-03\n");
        var (r, o) = Convert(tmp, input, "--label", "y", "--split", "time", "--time", "t", "--drop", "t");
        AssertFailed(r, o, 3, "m.csv", "row 2", "column 't'", "--missing drop");
    }

    [Fact]
    public void A_text_feature_without_an_encoding_names_the_fix()
    {
        using var tmp = new TempDir();
        var input = tmp.File("text.csv", "y,color\n1,red\n");
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 2, "Feature 'color' holds text", "--encode color=onehot", "--drop color");
    }

    [Fact]
    public void Missing_value_by_default_is_an_error_naming_row_and_column()
    {
        using var tmp = new TempDir();
        var input = tmp.File("missing.csv", "y,a\n1,2\n0,\n");
        var (r, o) = Convert(tmp, input, "--label", "y");
        AssertFailed(r, o, 3, "missing.csv", "row 2", "column 'a'", "found a missing value", "--missing drop");
    }

    [Fact]
    public void An_output_folder_holding_a_run_is_refused_and_kept_intact()
    {
        using var tmp = new TempDir();
        var input = tmp.File("ok.csv", "y,a\n1,2\n0,3\n1,4\n0,5\n1,6\n");
        var outDir = tmp.Combine("out");
        Assert.Equal(0, CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--allow-empty-split", "--quiet").Code);
        var before = File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json"));
        var r = CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--seed", "9", "--quiet");
        Assert.Equal(4, r.Code);
        Assert.Contains("already holds a DataPrep run", r.Err);
        Assert.Contains("--overwrite", r.Err);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
        Assert.False(Directory.EnumerateDirectories(outDir, ".dataprep-staging-*").Any());

        Assert.Equal(0, CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--seed", "9", "--overwrite", "--allow-empty-split", "--quiet").Code);
        Assert.NotEqual(before, File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
    }

    [Fact]
    public void A_failure_after_output_started_leaves_an_earlier_run_untouched()
    {
        using var tmp = new TempDir();
        var good = tmp.File("good.csv", "y,a\n1,2\n0,3\n1,4\n");
        var outDir = tmp.Combine("out");
        Assert.Equal(0, CliRunner.Run("convert", good, "--out", outDir, "--label", "y", "--allow-empty-split", "--quiet").Code);
        var snapshot = Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.ReadAllBytes(f))).ToList();
        var bad = tmp.File("bad.csv", "y,a\n1,2\n0,x\n");
        var r = CliRunner.Run("convert", bad, "--out", outDir, "--label", "y", "--column-type", "a=int", "--overwrite", "--quiet");
        Assert.Equal(3, r.Code);
        var after = Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.ReadAllBytes(f))).ToList();
        Assert.Equal(snapshot.Select(s => s.f), after.Select(s => s.f));
        Assert.True(snapshot.Zip(after).All(p => p.First.Item2.AsSpan().SequenceEqual(p.Second.Item2)));
    }
}
