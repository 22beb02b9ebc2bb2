using System.Globalization;
using System.Text.Json.Nodes;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Scale;

/// <summary>
/// The bounded plan of a shuffled random split (issue 16): the plan task finds the split's cuts from the scan tasks'
/// histograms of split hashes and writes no routing; each encode task tags and orders its own bucket. Workers as separate
/// processes, tasks in shuffled order, write the files of one process, <c>--missing fill:mean</c> too (its means are
/// exact sums, whatever the order of the rows). The same holds for unshuffled random splits (the same cuts, rows kept in
/// scan-task buckets), stratified ones (cuts per class) and stable assignment (a rule per row).
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class BoundedPlanTests
{
    public static TheoryData<int, string> Cases() => new()
    {
        { 1, "churn" },
        { 2, "big-recordio" },
        { 3, "churn-libsvm" },
        { 7, "big-jsonl" },
        { 2, "churn-kfold" },
        { 3, "big-kfold-recordio" },
        { 2, "churn-kfold-unshuffled" },
        { 3, "big-kfold-unshuffled-recordio" },
    };

    private static string[] CaseArgs(string name, string big) => name switch
    {
        // Label classes and one-hot vocabularies learned from train: sets of values, learned from the plan's second pass.
        "churn" => [Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--seed", "5", "--shard-size", "9KB"],
        "big-recordio" => [big, "--label", "y", "--encode", "c=onehot", "--split", "70/20/10", "--format", "recordio-protobuf", "--seed", "11", "--shard-size", "64KB"],
        // A zero fraction: the cut at the end has no row, and test gets none.
        "churn-libsvm" => [Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id,plan,region", "--split", "60/40/0", "--format", "libsvm", "--seed", "9", "--shard-rows", "97"],
        "big-jsonl" => [big, "--label", "y", "--split", "34/33/33", "--format", "jsonl", "--no-lineage", "--seed", "3", "--shard-rows", "400"],
        // Random folds after a random test split: the folds are cut by their fold hashes (issue 16), with fill:mean.
        "churn-kfold" => [Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id,plan,region", "--folds", "4", "--split", "80/0/20", "--missing", "fill:mean", "--seed", "8", "--shard-rows", "150"],
        // Folds without a test split, more folds than one bin can tell apart with a small memory budget.
        "big-kfold-recordio" => [big, "--label", "y", "--encode", "c=onehot", "--folds", "5", "--split", "100/0/0", "--format", "recordio-protobuf", "--seed", "12", "--shard-size", "32KB"],
        // Unshuffled random folds: the same cuts; each bucket is a scan task's rows in input order, as for unshuffled splits.
        "churn-kfold-unshuffled" => [Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--folds", "3", "--split", "80/0/20", "--no-shuffle", "--seed", "6", "--shard-rows", "120"],
        "big-kfold-unshuffled-recordio" => [big, "--label", "y", "--encode", "c=onehot", "--folds", "4", "--split", "100/0/0", "--no-shuffle", "--format", "recordio-protobuf", "--seed", "2", "--shard-size", "16KB"],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_random_split_planned_by_its_cuts_writes_the_files_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        var args = CaseArgs(name, name.StartsWith("big", StringComparison.Ordinal) ? ScaleOutTests.BigCsv(tmp, 3000) : "");
        // 1 and 7: the local engine (each step's tasks as processes at once).
        var (many, work, common) = ScaleOutTests.RunOneAndMany(tmp, args, workers, localEngine: workers is 1 or 7);
        var objects = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Equal(workers, objects.Count(f => f == "split-bins"));
        Assert.DoesNotContain(objects, f => f!.StartsWith("routing-", StringComparison.Ordinal));

        // A commit retried after it had finished (the engine lost its success) finds its own run and changes nothing,
        // whatever the format (a JSON Lines run records no encoding).
        var files = RunOutputs.FileHashes(many);
        var again = CliProcess.Run([.. common, "--step", "commit"]);
        Assert.True(again.Code == 0, again.Err);
        Assert.Equal(files, RunOutputs.FileHashes(many));
    }

    /// <summary>Each split kind the plan decides without rows, for 1, 2 and 3 workers: CSV, RecordIO-protobuf and Parquet.</summary>
    public static TheoryData<int, string> KindCases()
    {
        var cases = new TheoryData<int, string>();
        foreach (var kind in new[] { "stable", "stable-group-unshuffled", "unshuffled", "stratified", "stratified-unshuffled" })
        {
            for (int workers = 1; workers <= 3; workers++) cases.Add(workers, kind);
        }
        // A class per row (thousands of classes of one row each): every class is train.
        cases.Add(2, "stratified-per-row");
        return cases;
    }

    private static (string[] Args, string Plan) KindArgs(string kind, string big, int workers)
    {
        string[] format = workers switch
        {
            1 => ["--shard-rows", "97"],
            2 => ["--format", "recordio-protobuf", "--shard-size", "16KB"],
            _ => ["--format", "parquet", "--shard-rows", "300"],
        };
        string churn = Paths.SampleData("churn.csv");
        return kind switch
        {
            // Learned vocabularies: the plan's pass over the key columns tags rows with the run's own stable assigner.
            "stable" => ([churn, "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--assignment", "stable", "--seed", "5", .. format], "RowRule"),
            "stable-group-unshuffled" => ([big, "--label", "y", "--split", "group", "--group", "c", "--encode", "c=onehot", "--fractions", "40/30/30", "--assignment", "stable", "--no-shuffle", "--seed", "11", .. format], "RowRule"),
            "unshuffled" => ([churn, "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=ordinal", "--split", "70/20/10", "--no-shuffle", "--seed", "9", .. format], "Cuts"),
            "stratified" => ([big, "--label", "y", "--stratify", "c", "--encode", "c=onehot", "--split", "70/20/10", "--seed", "3", .. format], "StratifiedCuts"),
            "stratified-unshuffled" => ([churn, "--label", "churn", "--drop", "customer_id", "--stratify", "region", "--encode", "plan=onehot,region=onehot", "--split", "60/0/40", "--no-shuffle", "--seed", "7", .. format], "StratifiedCuts"),
            "stratified-per-row" => ([big, "--label", "y", "--stratify", "a", "--drop", "c", "--allow-empty-split", "--seed", "13", .. format], "StratifiedCuts"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(KindCases))]
    public void Stable_unshuffled_and_stratified_splits_planned_without_rows_write_the_files_of_one_process(int workers, string kind)
    {
        using var tmp = new TempDir();
        var (args, plan) = KindArgs(kind, ScaleOutTests.BigCsv(tmp, 2500), workers);
        var (_, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers, localEngine: workers == 1);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal(plan, (string?)report["plan"]);
    }

    /// <summary>
    /// Stratified folds planned by cuts per class (issue 16): a stratified test split (or none) cut per class, then each
    /// class's rows left in train cut into contiguous blocks of its fold-hash order; 1, 2 and 3 workers, CSV and
    /// RecordIO-protobuf, with a one-hot encoder learned from train, shuffled and not.
    /// </summary>
    [Theory]
    [InlineData(1, "test", "csv")]
    [InlineData(2, "test", "recordio-protobuf")]
    [InlineData(3, "test", "csv")]
    [InlineData(1, "none", "recordio-protobuf")]
    [InlineData(2, "none", "csv")]
    [InlineData(3, "none", "recordio-protobuf")]
    [InlineData(2, "test-unshuffled", "csv")]
    [InlineData(3, "none-unshuffled", "recordio-protobuf")]
    public void Stratified_folds_planned_by_cuts_per_class_write_the_files_of_one_process(int workers, string test, string format)
    {
        using var tmp = new TempDir();
        string[] split = test.StartsWith("test", StringComparison.Ordinal) ? ["--split", "80/0/20"] : ["--split", "100/0/0"];
        string[] shuffle = test.EndsWith("unshuffled", StringComparison.Ordinal) ? ["--no-shuffle"] : [];
        string[] shards = format == "csv" ? ["--shard-rows", "250"] : ["--shard-size", "16KB"];
        string[] args = [ScaleOutTests.BigCsv(tmp, 2500), "--label", "y", "--stratify", "c", "--folds", (workers + 2).ToString(CultureInfo.InvariantCulture),
            "--encode", "c=onehot", .. split, .. shuffle, "--format", format, "--seed", "21", .. shards];
        var (_, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers, localEngine: workers == 1);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal("StratifiedCuts", (string?)report["plan"]);
        Assert.NotNull(report["stratumFoldCuts"]);
    }

    /// <summary>
    /// <c>--missing fill:mean</c> with the bounded plan: the plan sums every train value exactly (<see cref="DataPrep.Encoders.ExactMean"/>)
    /// while it passes over the key columns, so the mean is the one process's whatever the order. The values mix
    /// magnitudes so that a sum of doubles would depend on the order of the rows.
    /// </summary>
    [Theory]
    [InlineData(3, "csv")]
    [InlineData(2, "recordio-protobuf")]
    public void A_fill_by_the_exact_train_mean_is_planned_by_cuts_and_writes_the_files_of_one_process(int workers, string format)
    {
        using var tmp = new TempDir();
        var text = new System.Text.StringBuilder("y,x,z\n");
        var random = new Random(workers);
        for (int i = 0; i < 2000; i++)
        {
            string x = random.Next(10) == 0 ? "" : (random.Next(3) switch { 0 => 1e16 * (random.Next(2) * 2 - 1), 1 => random.NextDouble(), _ => 0.1 * random.Next(100) }).ToString("R", CultureInfo.InvariantCulture);
            string z = random.Next(7) == 0 ? "" : random.Next(-50, 50).ToString(CultureInfo.InvariantCulture);
            text.Append(i % 2).Append(',').Append(x).Append(',').Append(z).Append('\n');
        }
        string[] args = [tmp.File("mixed.csv", text.ToString()), "--label", "y", "--missing", "fill:mean", "--format", format, "--seed", "5", "--shard-rows", "300"];
        var (_, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers);
        var one = tmp.Combine("one");
        var objects = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Equal(workers, objects.Count(f => f == "split-bins"));
        Assert.DoesNotContain(objects, f => f!.StartsWith("routing-", StringComparison.Ordinal));
        // Both columns were filled by a mean learned from train (the run record names it).
        using var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(one, "_dataprep", "run.json")));
        var fills = record.RootElement.GetProperty("encoding").GetProperty("features").EnumerateArray().Select(f => f.GetProperty("fill").GetString()).ToList();
        Assert.Equal(2, fills.Count);
        Assert.All(fills, f => Assert.True(double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out _), f));
    }

}
