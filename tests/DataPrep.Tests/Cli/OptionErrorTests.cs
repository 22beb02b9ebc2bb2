namespace DataPrep.Tests.Cli;

/// <summary>
/// Option errors (issue 17, finding 6): exit 2, one short message naming the option and what it takes, a second line
/// pointing at the right command's help; no .NET type names, no help dump, nothing written.
/// </summary>
public class OptionErrorTests
{
    private static CliRunner.Result Convert(TempDir tmp, params string[] extra)
        => CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("out"), "--label", "churn", "--drop", "customer_id", "--categorical", "onehot", .. extra]);

    private static void AssertOptionError(CliRunner.Result r, string expected, string command = "dataprep convert")
    {
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        var lines = r.Err.TrimEnd().Split('\n');
        Assert.True(lines.Length <= 2, "one message and one hint, no help dump: " + r.Err);
        Assert.StartsWith("error: " + expected, lines[0]);
        Assert.DoesNotContain("System.", r.Err);
        Assert.DoesNotContain("Usage:", r.Err);
        if (lines.Length == 2) Assert.Equal($"See '{command} --help' for the options.", lines[1]);
        Assert.Equal("", r.Out);
    }

    /// <summary>The churn run with <paramref name="extra"/> is an option error starting <paramref name="expected"/>, and writes nothing.</summary>
    private static void AssertRefusedNothingWritten(string extra, string expected)
    {
        using var tmp = new TempDir();
        AssertOptionError(Convert(tmp, extra.Split(' ')), expected);
        Assert.False(Directory.Exists(tmp.Combine("out")));
    }

    [Theory]
    [InlineData("--seed abc", "--seed abc is not a whole number")]
    [InlineData("--seed -1", "--seed -1 is not a whole number")]
    [InlineData("--shards x", "--shards x is not a whole number")]
    [InlineData("--noisy-validation half", "--noisy-validation half is not a number")]
    [InlineData("--shards 0", "--shards 0 is out of range")]
    [InlineData("--shard-rows 0", "--shard-rows 0 is out of range")]
    [InlineData("--threads -1", "--threads -1 is out of range")]
    [InlineData("--threads 0", "--threads 0 is out of range")]
    [InlineData("--batch-rows 0", "--batch-rows must be positive")]
    [InlineData("--instances 0", "--instances 0 is out of range")]
    [InlineData("--upload-concurrency 0", "--upload-concurrency 0: expected at least 1")]
    [InlineData("--copy-concurrency 0", "--copy-concurrency 0: expected at least 1")]
    [InlineData("--noisy-validation 2", "--noisy-validation 2 is out of range")]
    [InlineData("--noisy-approach 3", "--noisy-approach 3: expected 1 or 2")]
    [InlineData("--instances -2", "--instances -2 is out of range")]
    public void Bad_values_name_the_option_and_what_it_takes(string extra, string expected)
    {
        AssertRefusedNothingWritten(extra, expected);
    }

    [Fact]
    public void A_missing_required_option_is_one_line_without_the_help()
    {
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--label", "churn");
        AssertOptionError(r, "Option '--out' is required.");
    }

    [Fact]
    public void The_hint_names_the_command_that_was_parsed()
    {
        var root = CliRunner.Run("--bogus");
        Assert.Equal(2, root.Code);
        Assert.Contains("See 'dataprep --help'", root.Err);
        Assert.DoesNotContain("dataprep dataprep", root.Err);

        AssertOptionError(CliRunner.Run("inspect", Paths.SampleData("churn.csv"), "--limit", "-3"), "--limit -3: expected 0", "dataprep inspect");
    }

    [Theory]
    [InlineData("--split 80/10/10 --fractions 70/15/15", "--split 80/10/10 and --fractions 70/15/15 both set the split fractions")]
    [InlineData("--fractions 70/15/15 --train 0.6", "--fractions 70/15/15 and --train 0.6 both set the split fractions")]
    [InlineData("--split 90/10 --test 0.2", "--split 90/10 and --test 0.2 both set the split fractions")]
    public void Two_sources_of_fractions_are_refused(string extra, string expected)
    {
        AssertRefusedNothingWritten(extra, expected);
    }

    [Theory]
    [InlineData("--drop churn", "--drop names the label column 'churn', which every record holds first")]
    [InlineData("--drop 7", "--drop names the label column 'churn', which every record holds first")]
    [InlineData("--features plan,tenure_months --drop plan", "--features lists 'plan', and --drop leaves it out")]
    [InlineData("--encode churn=onehot", "--encode names the label column 'churn'; only features are encoded")]
    [InlineData("--encode customer_id=ordinal", "--encode names column 'customer_id', and --drop leaves it out")]
    [InlineData("--features tenure_months,monthly_spend --encode region=ordinal", "--encode names column 'region', which is not among --features (tenure_months, monthly_spend)")]
    public void Options_that_contradict_each_other_about_a_column_are_refused(string extra, string expected)
    {
        // Each was run with the contradiction settled without a word: the label kept, the column dropped, the encoding ignored.
        AssertRefusedNothingWritten(extra, expected);
    }

    [Theory]
    [InlineData("--group region", "--group region keeps groups whole in a group or noisy/clean split, and this run's split is random: add --split group")]
    [InlineData("--time tenure_months", "--time tenure_months orders a time split, and this run's split is random: add --split time")]
    [InlineData("--split group --group region --assignment stable --stratify plan", "--stratify plan keeps class shares in an exact random or group split, and this run's is --assignment stable")]
    [InlineData("--augment rotate=90", "--augment rotates images, and --format csv writes none")]
    public void Split_options_the_split_does_not_read_are_refused(string extra, string expected)
    {
        // Each was accepted and ignored: a --group beside a random split kept no group whole.
        AssertRefusedNothingWritten(extra, expected);
    }

    [Fact]
    public void A_run_whose_record_holds_a_split_option_its_split_ignored_still_applies_and_is_liked()
    {
        // A record written before such options were refused: apply and --like let the unread option go.
        using var tmp = new TempDir();
        var made = Convert(tmp, "--quiet");
        Assert.True(made.Code == 0, made.Err);
        var runJson = Path.Combine(tmp.Combine("out"), "_dataprep", "run.json");
        var record = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(runJson))!;
        record["options"]!["groupColumn"] = "region";
        record["options"]!["timeColumn"] = "tenure_months";
        File.WriteAllText(runJson, record.ToJsonString());
        var applied = CliRunner.Run("apply", "--run", tmp.Combine("out"), Paths.SampleData("churn.csv"), "--out", tmp.Combine("applied"), "--quiet");
        Assert.True(applied.Code == 0, applied.Err);
        var liked = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", tmp.Combine("liked"), "--label", "churn", "--drop", "customer_id", "--like", tmp.Combine("out"), "--quiet");
        Assert.True(liked.Code == 0, liked.Err);
    }

    [Fact]
    public void A_dropped_column_beside_features_is_known_to_be_in_the_input()
    {
        // --features reads only the columns it names; --drop's column was then refused as one the input does not have.
        using var tmp = new TempDir();
        var r = Convert(tmp, "--features", "plan,tenure_months", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        // The label, plan one-hot (a column a plan, and one for plans train did not see), tenure_months: customer_id
        // (dropped) and the other columns are not written.
        int plans = File.ReadLines(Paths.SampleData("churn.csv")).Skip(1).Select(l => l.Split(',')[1]).Distinct().Count();
        var first = File.ReadLines(Directory.GetFiles(tmp.Combine("out", "train"))[0]).First();
        Assert.Equal(1 + (plans + 1) + 1, first.Split(',').Length);
    }

    [Fact]
    public void A_file_given_twice_is_refused_not_read_twice()
    {
        // base.csv twice (and as ./base.csv, and through a pattern) was read that many times: its rows in two splits.
        using var tmp = new TempDir();
        var input = tmp.File("base.csv", "a,y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},{i % 2}\n")));
        var other = tmp.File("other.csv", "a,y\n" + string.Concat(Enumerable.Range(40, 40).Select(i => $"{i},{i % 2}\n")));
        string[][] repeats =
        [
            [input, input],
            [input, Path.Combine(tmp.Combine("."), "base.csv")],
            [tmp.Combine("*.csv"), input],
            [tmp.Path, other],
        ];
        foreach (var inputs in repeats)
        {
            var r = CliRunner.Run(["convert", .. inputs, "--out", tmp.Combine("out"), "--label", "y", "--quiet"]);
            Assert.True(r.Code == 2, $"{string.Join(' ', inputs)}: exit {r.Code}: {r.Err}");
            Assert.Contains("is named more than once (a pattern or folder may hold it already); each file is read once", r.Err);
            Assert.False(Directory.Exists(tmp.Combine("out")));
        }
        var noisy = CliRunner.Run("convert", input, "--noisy", input, "--out", tmp.Combine("out"), "--label", "y", "--split", "noisy", "--quiet");
        Assert.True(noisy.Code == 2, noisy.Err);
        Assert.Contains($"The input '{input}' is both a clean input and a --noisy one", noisy.Err);
        var both = CliRunner.Run("convert", input, other, "--out", tmp.Combine("out"), "--label", "y", "--quiet");
        Assert.True(both.Code == 0, both.Err);
    }

    [Fact]
    public void Values_in_range_still_run()
    {
        using var tmp = new TempDir();
        var r = Convert(tmp, "--shards", "2", "--threads", "1", "--fractions", "70/15/15", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(2, Directory.GetFiles(tmp.Combine("out", "train")).Length);
    }
}
