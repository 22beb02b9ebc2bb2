namespace DataPrep.Tests.Cli;

/// <summary>
/// <c>dataprep apply</c> reads new inputs with the earlier run's reading options, except those it is given
/// (<c>--delimiter</c>, <c>--decimal-comma</c>, <c>--encoding</c>, <c>--null-values</c> …), which it used to list in its
/// help and ignore. Options of the run that none of the new inputs reads (the run's CSV delimiter, new inputs in JSON
/// Lines) are let go; options given over inputs that do not read them are refused, as convert refuses them.
/// </summary>
public class ApplyReadingOptionsTests
{
    private static string Train(TempDir tmp, char delimiter)
        => tmp.File($"train-{(delimiter == ',' ? "comma" : "semicolon")}.csv", $"y{delimiter}x{delimiter}z\n" + string.Concat(Enumerable.Range(1, 40).Select(i => $"{i % 2}{delimiter}{i}.5{delimiter}{i * 3}\n")));

    [Fact]
    public void Apply_reads_new_inputs_with_the_options_it_is_given()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, CliRunner.Run(["convert", Train(tmp, ','), "--out", tmp.Combine("run"), "--label", "y", "--quiet"]).Code);
        var fresh = tmp.File("new.csv", "y;x;z\n" + string.Concat(Enumerable.Range(1, 5).Select(i => $"{i % 2};{i},25;{i}\n")));

        // With the run's own options (',' and decimal points) the new file's rows are ragged.
        var plain = CliRunner.Run(["apply", "--run", tmp.Combine("run"), fresh, "--out", tmp.Combine("plain"), "--quiet"]);
        Assert.Equal(3, plain.Code);
        Assert.Contains("new.csv, line 2", plain.Err);

        var r = CliRunner.Run(["apply", "--run", tmp.Combine("run"), fresh, "--out", tmp.Combine("told"), "--delimiter", ";", "--decimal-comma", "--quiet"]);
        Assert.True(r.Code == 0, r.Err);
        var lines = Directory.GetFiles(Path.Combine(tmp.Combine("told"), "data"), "*.csv").SelectMany(File.ReadAllLines).ToArray();
        Assert.Equal(["1.25,1", "2.25,2", "3.25,3", "4.25,4", "5.25,5"], lines);
    }

    [Fact]
    public void The_runs_options_no_new_input_reads_are_let_go_and_given_ones_are_checked()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, CliRunner.Run(["convert", Train(tmp, ';'), "--out", tmp.Combine("run"), "--label", "y", "--delimiter", ";", "--null-values", "NA", "--quiet"]).Code);
        var jsonl = tmp.File("new.jsonl", string.Concat(Enumerable.Range(1, 5).Select(i => $"{{\"y\":{i % 2},\"x\":{i}.25,\"z\":{i}}}\n")));

        // The run's ';' and NA do not stop new JSON Lines inputs (JSON Lines reads NA as a null value, as the run did).
        var r = CliRunner.Run(["apply", "--run", tmp.Combine("run"), jsonl, "--out", tmp.Combine("jsonl"), "--quiet"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1.25,1", "2.25,2", "3.25,3", "4.25,4", "5.25,5"], Directory.GetFiles(Path.Combine(tmp.Combine("jsonl"), "data"), "*.csv").SelectMany(File.ReadAllLines).ToArray());

        var refused = CliRunner.Run(["apply", "--run", tmp.Combine("run"), jsonl, "--out", tmp.Combine("refused"), "--no-header"]);
        Assert.Equal(2, refused.Code);
        Assert.Contains("--no-header applies to CSV and TSV inputs, and none of the inputs is one (new.jsonl)", refused.Err);
        Assert.False(Directory.Exists(tmp.Combine("refused")));
    }

    [Fact]
    public void A_new_input_whose_column_reads_as_text_names_the_value_that_made_it_so()
    {
        // z was an integer in the run; one word in the new file makes it text there. The refusal named no row.
        using var tmp = new TempDir();
        Assert.Equal(0, CliRunner.Run(["convert", Train(tmp, ','), "--out", tmp.Combine("run"), "--label", "y", "--quiet"]).Code);
        var fresh = tmp.File("new.csv", "y,x,z\n1,1.5,3\n0,2.5,n/a\n1,3.5,9\n");
        var r = CliRunner.Run(["apply", "--run", tmp.Combine("run"), fresh, "--out", tmp.Combine("out"), "--quiet"]);
        Assert.Equal(2, r.Code);
        Assert.Contains($"Column 'z' is String here ({fresh}, line 3, row 2 holds 'n/a', though 2 of the 3 values of the first rows are numbers", r.Err);
        Assert.Contains("but was Int64 in the run", r.Err);
    }
}
