using DataPrep.Conversion;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// Empty results (issue 17, finding 4): a run that writes no row, or leaves a split empty that the options asked rows
/// for, is exit 3 with the counts read and dropped and why; nothing is published and an earlier run stays.
/// </summary>
public class EmptyRunTests
{
    [Fact]
    public void Dropping_every_row_is_an_error_with_the_counts_and_nothing_is_published()
    {
        using var tmp = new TempDir();
        var input = tmp.File("a.csv", "x,y\n1,\n2,\n3,\n");
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", input, "--out", outDir, "--label", "x", "--missing", "drop", "--quiet");
        Assert.True(r.Code == 3, $"exit {r.Code}: {r.Err}");
        Assert.Contains("Nothing to write: 3 rows read, 3 dropped (3: missing value in 'y'); every row was dropped.", r.Err);
        Assert.Contains(input, r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(outDir), "nothing published");
    }

    [Fact]
    public void An_empty_split_that_was_asked_for_is_an_error_and_the_earlier_run_stays()
    {
        using var tmp = new TempDir();
        var input = tmp.File("b.csv", "x,y\n1,0\n2,1\n3,0\n4,1\n5,0\n");
        var outDir = tmp.Combine("out");
        var first = CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--fractions", "60/40/0", "--quiet");
        Assert.True(first.Code == 0, first.Err);
        var before = File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json"));

        // 80/10/10 of 5 rows: exact counts 4/1/0, so the test split the user asked for would be empty.
        var r = CliRunner.Run("convert", input, "--out", outDir, "--label", "y", "--overwrite", "--quiet");
        Assert.True(r.Code == 3, $"exit {r.Code}: {r.Err}");
        Assert.Contains("The test split is empty although the options asked rows for it: 5 rows read, 0 dropped; written train 4, validation 1.", r.Err);
        Assert.Contains("--allow-empty-split", r.Err);
        Assert.Equal(before, File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")));
        Assert.False(Directory.Exists(Path.Combine(outDir, "test")));
    }

    [Fact]
    public void Splits_left_empty_by_a_stratify_column_of_small_classes_say_so()
    {
        // --stratify on an id-like column: 500 classes of 2 rows, each cut 2/0/0 at 80/10/10. The message said "use more
        // rows", which 1,000 rows are.
        using var tmp = new TempDir();
        var input = tmp.File("s.csv", "a,b,y\n" + string.Concat(Enumerable.Range(0, 1000).Select(i => $"{i / 2},{i},{i % 3}\n")));
        var r = CliRunner.Run("convert", input, "--out", tmp.Combine("out"), "--label", "y", "--stratify", "a", "--quiet");
        Assert.True(r.Code == 3, $"exit {r.Code}: {r.Err}");
        Assert.Contains("The validation and test splits are empty although the options asked rows for them: 1,000 rows read, 0 dropped; written train 1,000. No output was published. "
            + "With --stratify a, each class is cut at its own exact counts, so a class of fewer than about 10 rows gives the validation and test splits none", r.Err);
        Assert.DoesNotContain("Use more rows", r.Err);
        // Stratified by the label (three classes of about 333 rows), the same rows split.
        var ok = CliRunner.Run("convert", input, "--out", tmp.Combine("ok"), "--label", "y", "--stratify", "y", "--quiet");
        Assert.True(ok.Code == 0, ok.Err);
    }

    [Fact]
    public void Allow_empty_split_publishes_it_and_a_zero_fraction_is_not_asked_for()
    {
        using var tmp = new TempDir();
        var input = tmp.File("b.csv", "x,y\n1,0\n2,1\n3,0\n4,1\n5,0\n");
        var allowed = CliRunner.Run("convert", input, "--out", tmp.Combine("a"), "--label", "y", "--allow-empty-split", "--quiet");
        Assert.True(allowed.Code == 0, allowed.Err);
        var zero = CliRunner.Run("convert", input, "--out", tmp.Combine("b"), "--label", "y", "--fractions", "80/20", "--quiet");
        Assert.True(zero.Code == 0, zero.Err);
    }

    [Fact]
    public void The_library_refuses_it_too()
    {
        using var tmp = new TempDir();
        var input = tmp.File("a.csv", "x,y\n1,\n2,\n");
        var options = new ConvertOptions { Inputs = [input], Output = tmp.Combine("out"), Label = "x", Missing = MissingPolicy.Drop };
        var e = Assert.Throws<DataFormatException>(() => ConvertRunner.RunAsync(options).GetAwaiter().GetResult());
        Assert.Contains("2 rows read, 2 dropped", e.Message);
        Assert.False(Directory.Exists(tmp.Combine("out")));
    }
}
