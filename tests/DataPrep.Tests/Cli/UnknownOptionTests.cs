namespace DataPrep.Tests.Cli;

/// <summary>
/// A mistyped option is an error naming it, with the closest real options, before anything runs: after a list
/// option (--features a b --lable y) or in place of an input, the parser would otherwise take it as a value.
/// </summary>
public class UnknownOptionTests
{
    [Theory]
    [InlineData("--lable churn", "'--lable' is not an option of 'convert'. Did you mean --label?")]
    [InlineData("--label churn --drop customer_id --encod plan=onehot", "'--encod' is not an option of 'convert'. Did you mean --encode or --encoding?")]
    [InlineData("--label churn --features tenure_months --split-by time", "'--split-by' is not an option of 'convert'. Did you mean --split?")]
    [InlineData("--label churn --colour", "'--colour' is not an option of 'convert'. See 'dataprep convert --help'")]
    public void Names_the_unknown_option_and_the_closest_ones(string extra, string expected)
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", outDir, .. extra.Split(' ')]);
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: " + expected, r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(outDir), "nothing is written");
    }

    [Fact]
    public void Values_that_look_like_numbers_or_use_equals_are_not_taken_for_options()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label=churn", "--drop", "customer_id",
            "--encode", "plan=onehot,region=onehot", "--missing", "fill:-1", "--quiet");
        Assert.True(r.Code == 0, r.Err);
    }

    [Fact]
    public void Other_commands_check_their_own_options()
    {
        var r = CliRunner.Run("inspect", Paths.SampleData("churn.csv"), "--lines", "3");
        Assert.Equal(2, r.Code);
        Assert.Contains("is not an option of 'inspect'", r.Err);
    }
}
