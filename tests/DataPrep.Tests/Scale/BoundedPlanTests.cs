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
        { 3, "big-plain-recordio" },
        { 7, "big-plain-csv" },
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
        // Nothing to fit (numeric label and features): the plan reads only the sections of row ids that hold its cuts.
        "big-plain-recordio" => [big, "--label", "y", "--drop", "c", "--format", "recordio-protobuf", "--seed", "13", "--shard-size", "48KB"],
        "big-plain-csv" => [big, "--label", "y", "--drop", "c", "--split", "85/10/5", "--seed", "14", "--shard-rows", "500"],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_random_split_planned_by_its_cuts_writes_the_files_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        var args = CaseArgs(name, name.StartsWith("big", StringComparison.Ordinal) ? ScaleOutTests.BigCsv(tmp, 3000) : "");
        // 1 and 7: the local engine (each step's tasks as processes at once).
        // The plain cases divide the file among the scan tasks, so that every task writes sections of row ids.
        string[]? workerArgs = name.StartsWith("big-plain", StringComparison.Ordinal) ? ["--input-split-size", "20KB"] : null;
        var (many, work, common) = ScaleOutTests.RunOneAndMany(tmp, args, workers, localEngine: workers is 1 or 7, workerArgs);
        var objects = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Equal(workers, objects.Count(f => f == "split-bins"));
        Assert.DoesNotContain(objects, f => f!.StartsWith("routing-", StringComparison.Ordinal));
        // A plan with nothing to fit reads sections of row ids by split hash; one that fits (or folds) reads key columns.
        bool sections = name.StartsWith("big-plain", StringComparison.Ordinal) || name == "big-jsonl";
        Assert.Equal(sections ? workers : 0, objects.Count(f => f == "split-ids"));
        Assert.Equal(sections ? 0 : workers, objects.Count(f => f == "keys"));

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


    /// <summary>
    /// A CSV of grouped rows (<c>y,g,t,x</c>): <paramref name="groups"/> groups of 1–40 rows (a few large ones), rows of a
    /// group scattered over the file, a label mostly set by the group (so stratified groups have a dominant class), a
    /// text column <c>t</c> of 12 values and a number <c>x</c> (with <paramref name="missingX"/>, missing in one row of nine).
    /// </summary>
    internal static string GroupCsv(TempDir tmp, int groups, int seed = 1, bool missingX = true, string? missingGroupAt = null)
    {
        var random = new Random(seed);
        var rows = new List<string>();
        for (int g = 0; g < groups; g++)
        {
            int size = random.Next(10) == 0 ? random.Next(40, 120) : random.Next(1, 30);
            int label = random.Next(3);
            for (int k = 0; k < size; k++)
            {
                int y = random.Next(5) == 0 ? random.Next(3) : label;
                string x = missingX && random.Next(9) == 0 ? "" : (random.NextDouble() * 100).ToString("R", CultureInfo.InvariantCulture);
                rows.Add($"{y},grp-{g},t{random.Next(12)},{x}");
            }
        }
        var array = rows.ToArray();
        random.Shuffle(array);
        if (missingGroupAt is not null) array[int.Parse(missingGroupAt, CultureInfo.InvariantCulture)] = "1,,t1,5";
        return tmp.File($"grouped-{seed}.csv", "y,g,t,x\n" + string.Join("\n", array) + "\n");
    }

    /// <summary>Group splits (plain and stratified, shuffled or not) for 1, 2 and 3 workers: CSV, RecordIO-protobuf and Parquet.</summary>
    public static TheoryData<int, string> GroupCases()
    {
        var cases = new TheoryData<int, string>();
        foreach (var kind in new[] { "group", "group-stratified" })
        {
            for (int workers = 1; workers <= 3; workers++) cases.Add(workers, kind);
        }
        cases.Add(3, "group-stratified-onehot");
        cases.Add(2, "group-unshuffled");
        cases.Add(3, "group-stratified-unshuffled");
        // Fewer groups than splits want: the "cannot be met" warning comes from the plan, as from one process.
        cases.Add(2, "group-few");
        return cases;
    }

    /// <summary>
    /// A group split planned by its group table (issue 16): the plan reads the key columns once (twice with encoders that
    /// learn), writes the group table and no routing, and each encode task tags its rows by their group's split; the files,
    /// run.json and warnings are the one process's. Encoders learned on train only: a one-hot vocabulary of a text column and
    /// a fill by the train mean.
    /// </summary>
    [Theory]
    [MemberData(nameof(GroupCases))]
    public void A_group_split_planned_by_its_group_table_writes_the_files_of_one_process(int workers, string kind)
    {
        using var tmp = new TempDir();
        string[] format = workers switch
        {
            1 => ["--shard-rows", "97"],
            2 => ["--format", "recordio-protobuf", "--shard-size", "16KB"],
            _ => ["--format", "parquet", "--shard-rows", "300"],
        };
        string[] args = kind switch
        {
            // A one-hot vocabulary of a text column, learned from train rows only.
            "group" => [GroupCsv(tmp, 240, missingX: false), "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--encode", "t=onehot", "--fractions", "70/15/15", "--seed", "4", .. format],
            // A fill by the exact train mean (text columns dropped: fill:mean fills every used column).
            "group-stratified" => [GroupCsv(tmp, 300, seed: 2), "--label", "y", "--split", "group", "--group", "g", "--stratify", "y", "--drop", "g,t", "--missing", "fill:mean", "--fractions", "60/20/20", "--seed", "6", .. format],
            "group-stratified-onehot" => [GroupCsv(tmp, 300, seed: 9, missingX: false), "--label", "y", "--split", "group", "--group", "g", "--stratify", "y", "--drop", "g", "--encode", "t=onehot", "--fractions", "70/10/20", "--seed", "2", .. format],
            "group-unshuffled" => [GroupCsv(tmp, 200, seed: 3, missingX: false), "--label", "y", "--split", "group", "--group", "g", "--encode", "g=ordinal,t=onehot", "--fractions", "80/0/20", "--no-shuffle", "--seed", "8", .. format],
            "group-stratified-unshuffled" => [GroupCsv(tmp, 150, seed: 4), "--label", "y", "--split", "group", "--group", "g", "--stratify", "y", "--drop", "g,t", "--missing", "fill:mean", "--fractions", "50/25/25", "--no-shuffle", "--seed", "10", .. format],
            "group-few" => [GroupCsv(tmp, 2, seed: 5), "--label", "y", "--split", "group", "--group", "g", "--drop", "g,t", "--missing", "fill:mean", "--fractions", "50/25/25", "--allow-empty-split", "--seed", "12", .. format],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var (_, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers, localEngine: workers == 1);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        Assert.Single(files, f => Path.GetFileName(f) == "group-splits");
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal("Groups", (string?)report["plan"]);
        Assert.True((long)report["groupSplits"]!["groups"]! > 0);
        // The one process's warnings (run.json) are the run's: the plan reported the group split's.
        using var one = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Combine("one"), "_dataprep", "run.json")));
        if (kind == "group-few")
        {
            Assert.Contains(one.RootElement.GetProperty("summary").GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("cannot be met by rows", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// A CSV (<c>y,g,t,x</c>) of 1,100,000 rows in 1,050,000 groups, more than <see cref="DataPrep.Splits.GroupSplitAssigner.DefaultExactGroups"/>
    /// (2^20), a group's rows far apart; <paramref name="missingAt"/> leaves that row's group key empty.
    /// </summary>
    private static string ManyGroupsCsv(TempDir tmp, int? missingAt = null)
    {
        var path = tmp.Combine(missingAt is null ? "many-groups.csv" : "many-groups-missing.csv");
        using var writer = new StreamWriter(path);
        writer.Write("y,g,t,x\n");
        string[] kinds = ["red", "green", "blue"];
        for (int i = 0; i < 1_100_000; i++)
        {
            long g = i * 7919L % 1_050_000;
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{(g % 3 == 0 ? 1 : 0)},{(i == missingAt ? "" : $"u{g}")},{kinds[i % 3]},{i % 1000}\n"));
        }
        return path;
    }

    /// <summary>
    /// A group split of more than 2^20 groups is cut by hash ranges (issue 16): the plan holds no table of every group
    /// (<c>GroupRanges</c>, two cuts in its report, no <c>group-splits</c> object) and the encode tasks tag rows by the cuts;
    /// 3 workers as processes, tasks in shuffled order, RecordIO-protobuf with a one-hot vocabulary learned from train: the
    /// files and run.json of one process, which cuts by the same rule.
    /// </summary>
    [Fact]
    public void A_group_split_of_more_than_a_million_groups_is_cut_by_hash_ranges_as_one_process_cuts_it()
    {
        using var tmp = new TempDir();
        string[] args = [ManyGroupsCsv(tmp), "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--encode", "t=onehot", "--fractions", "80/10/10",
            "--format", "recordio-protobuf", "--seed", "21"];
        var (many, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, 3);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f) == "group-splits" || Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal("GroupRanges", (string?)report["plan"]);
        Assert.Equal([1, 2], report["groupCuts"]!.AsArray().Select(c => (int)c!["split"]!));
        using var run = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(many, "_dataprep", "run.json")));
        var splits = run.RootElement.GetProperty("splits");
        Assert.Equal(1_050_000, splits.EnumerateObject().Sum(s => s.Value.GetProperty("groups").GetInt64()));
        // Groups of one or two rows: the ranges meet the exact counts within a group.
        Assert.InRange(splits.GetProperty("train").GetProperty("rows").GetInt64(), 880_000 - 1, 880_000 + 1);
    }

    /// <summary>
    /// Group folds over more than 2^20 groups are cut by fold-hash ranges (issue 16), after a group test split cut by hash
    /// ranges or without one: the plan holds no table of every group (<c>GroupFoldRanges</c>, the folds' two cuts and the
    /// test split's one in its report, no <c>group-splits</c> object) and the encode tasks tag a row's split and fold by
    /// its key's hashes; 3 workers as processes, tasks in shuffled order: the files and run.json of one process, which cuts
    /// by the same rule. The test split's validation fraction is 0: its cut meets test's, at one group.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Group_folds_of_more_than_a_million_groups_are_cut_by_fold_ranges_as_one_process_cuts_them(bool test)
    {
        using var tmp = new TempDir();
        string[] args = [ManyGroupsCsv(tmp), "--label", "y", "--split", "group", "--group", "g", "--folds", "3",
            "--fractions", test ? "80/0/20" : "100/0/0", "--drop", "g", "--encode", "t=onehot", "--seed", "23", "--shard-size", "4MB"];
        var (many, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, 3);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f) == "group-splits" || Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal("GroupFoldRanges", (string?)report["plan"]);
        Assert.Equal([1, 2], report["groupFoldCuts"]!.AsArray().Select(c => (int)c!["split"]!));
        if (test)
        {
            var cuts = report["groupCuts"]!.AsArray();
            Assert.Equal([1, 2], cuts.Select(c => (int)c!["split"]!));
            Assert.Equal((string?)cuts[0]!["key"], (string?)cuts[1]!["key"]);
        }
        else
        {
            Assert.Null(report["groupCuts"]);
        }
        string[] channels = test ? ["fold-0", "fold-1", "fold-2", "test"] : ["fold-0", "fold-1", "fold-2"];
        Assert.Equal(channels, Directory.EnumerateDirectories(many).Select(Path.GetFileName).Where(d => d != "_dataprep").Order(StringComparer.Ordinal));
        // Groups of one or two rows: each fold within a group's rows of a third of the pool.
        long pool = test ? 880_000 : 1_100_000;
        foreach (var fold in channels.Take(3))
        {
            long rows = Directory.EnumerateFiles(Path.Combine(many, fold)).Where(f => f.EndsWith(".csv", StringComparison.Ordinal)).Sum(f => File.ReadLines(f).LongCount());
            Assert.InRange(rows, pool / 3 - 2, pool / 3 + 2);
        }
    }

    /// <summary>
    /// Encode tasks whose split spills under a tiny budget (<c>--memory 16KB</c>) tag each batch as they spill it when the
    /// plan's assigner is row-local (the group table lookup, the stratified cuts), keeping a byte a row instead of the key
    /// columns: the files and run.json are one process's. Tasks run in this process (in shuffled order), so the encode
    /// tasks' spills are counted.
    /// </summary>
    [Theory]
    [InlineData("group")]
    [InlineData("stratified")]
    [InlineData("group-noisy")]
    public void Encode_tasks_that_spill_tag_rows_batch_by_batch_and_write_the_files_of_one_process(string kind)
    {
        using var tmp = new TempDir();
        string[] args = kind switch
        {
            "group" => [GroupCsv(tmp, 240, missingX: false), "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--encode", "t=onehot", "--fractions", "70/15/15", "--seed", "4", "--format", "recordio-protobuf"],
            "stratified" => [ScaleOutTests.BigCsv(tmp, 2500), "--label", "y", "--stratify", "c", "--encode", "c=onehot", "--split", "70/20/10", "--seed", "3"],
            "group-noisy" => [GroupCsv(tmp, 200, seed: 3, missingX: false), "--label", "t", "--split", "noisy", "--noisy-column", "y", "--group", "g", "--drop", "g", "--seed", "6"],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        args = [.. args, "--memory", "16KB"];
        var one = tmp.Combine("one");
        var single = CliProcess.Run(["convert", .. args, "--out", one, "--quiet"]);
        Assert.True(single.Code == 0, single.Err);
        string[] common = ["convert", .. args, "--out", tmp.Combine("many"), "--quiet", "--workers", "2", "--work", tmp.Combine("work")];
        int encodeSpills = 0;
        ScaleOutTests.RunSteps(common, new Random(7), (a, _) =>
        {
            var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
            var r = CliRunner.Run(registry, a);
            if (a.Contains("encode")) encodeSpills += registry.Diagnostics.Spills;
            return r;
        });
        Assert.True(encodeSpills >= 2, $"both encode tasks were meant to spill ({encodeSpills})");
        ScaleOutTests.AssertSameRun(one, tmp.Combine("many"), 2);
    }

    /// <summary>
    /// A row without a group key stops a scaled-out run as it stops one process: exit 3, naming the file, the row and the
    /// column, nothing published. The plan finds it in its pass over the key columns (which carry every row's origin),
    /// holding no rows: in the table's pass, or (past the first 2^20 groups) in the hash ranges' pass, also when group folds
    /// follow the test split (the plan kind <c>GroupFoldRanges</c>: the split's pass stops before the folds' pass).
    /// </summary>
    [Theory]
    [InlineData("table")]
    [InlineData("ranges")]
    [InlineData("fold-ranges")]
    public void A_missing_group_key_stops_the_bounded_plan_naming_file_row_and_column(string plan)
    {
        using var tmp = new TempDir();
        var (csv, row) = plan == "table" ? (GroupCsv(tmp, 60, seed: 7, missingGroupAt: "400"), "row 401") : (ManyGroupsCsv(tmp, missingAt: 1_090_000), "row 1090001");
        string[] folds = plan == "fold-ranges" ? ["--folds", "3", "--fractions", "80/0/20"] : [];
        string[] args = [csv, "--label", "y", "--split", "group", "--group", "g", "--drop", "g,t", "--missing", "fill:mean", "--seed", "1", .. folds];
        var single = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("one"), "--quiet"]);
        Assert.Equal(3, single.Code);
        Assert.Contains(row, single.Err, StringComparison.Ordinal);
        var many = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("many"), "--quiet", "--workers", "2", "--work", tmp.Combine("work")]);
        Assert.Equal(3, many.Code);
        Assert.Contains("found no group key", many.Err, StringComparison.Ordinal);
        Assert.Equal(LastLine(single.Err), LastLine(many.Err));
        Assert.False(File.Exists(Path.Combine(tmp.Combine("many"), "_dataprep", "run.json")));

        static string LastLine(string text) => text.Trim().Split('\n').Last(l => l.Contains("found no group key", StringComparison.Ordinal)).Trim();
    }

    /// <summary>Group k-fold for 1, 2 and 3 workers (CSV, RecordIO-protobuf, Parquet), without and with a group test split.</summary>
    public static TheoryData<int, string> GroupFoldCases()
    {
        var cases = new TheoryData<int, string>();
        foreach (var kind in new[] { "folds", "folds-test" })
        {
            for (int workers = 1; workers <= 3; workers++) cases.Add(workers, kind);
        }
        cases.Add(2, "folds-unshuffled");
        cases.Add(3, "folds-test-stratified");
        cases.Add(2, "folds-test-unshuffled");
        // Without a test split one process counts rows without a group key as one group of their own: so does the plan.
        cases.Add(2, "folds-missing-key");
        return cases;
    }

    /// <summary>
    /// Group k-fold planned by its group table (issue 16): the plan reads the key columns once (twice with encoders that
    /// learn), decides the group test split (if any) and every train group's fold, writes them in the group table and no
    /// routing; each encode task tags its rows by their group's split and fold. The files, manifests (every fold trains on
    /// all the others, not forward chaining) and run.json are the one process's; a one-hot vocabulary is learned from train.
    /// </summary>
    [Theory]
    [MemberData(nameof(GroupFoldCases))]
    public void Group_folds_planned_by_their_group_table_write_the_files_of_one_process(int workers, string kind)
    {
        using var tmp = new TempDir();
        string[] format = workers switch
        {
            1 => ["--shard-rows", "97"],
            2 => ["--format", "recordio-protobuf", "--shard-size", "16KB"],
            _ => ["--format", "parquet", "--shard-rows", "300"],
        };
        string[] folds = ["--split", "group", "--group", "g", "--folds", "4"];
        string[] args = kind switch
        {
            "folds" => [GroupCsv(tmp, 240, seed: 21, missingX: false), "--label", "y", .. folds, "--drop", "g", "--encode", "t=onehot", "--fractions", "100/0/0", "--seed", "4", .. format],
            "folds-test" => [GroupCsv(tmp, 260, seed: 22, missingX: false), "--label", "y", .. folds, "--drop", "g", "--encode", "t=onehot", "--fractions", "80/0/20", "--seed", "5", .. format],
            "folds-unshuffled" => [GroupCsv(tmp, 200, seed: 23, missingX: false), "--label", "y", .. folds, "--encode", "g=ordinal,t=onehot", "--fractions", "100/0/0", "--no-shuffle", "--seed", "6", .. format],
            "folds-test-stratified" => [GroupCsv(tmp, 300, seed: 24), "--label", "y", .. folds, "--stratify", "y", "--drop", "g,t", "--missing", "fill:mean", "--fractions", "70/0/30", "--seed", "7", .. format],
            "folds-test-unshuffled" => [GroupCsv(tmp, 180, seed: 25, missingX: false), "--label", "y", .. folds, "--drop", "g", "--encode", "t=onehot", "--fractions", "75/0/25", "--no-shuffle", "--seed", "8", .. format],
            "folds-missing-key" => [GroupCsv(tmp, 120, seed: 26, missingGroupAt: "300"), "--label", "y", .. folds, "--drop", "g,t", "--missing", "fill:mean", "--fractions", "100/0/0", "--seed", "9", .. format],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var (many, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers, localEngine: workers == 1);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        Assert.Single(files, f => Path.GetFileName(f) == "group-splits");
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal("GroupFolds", (string?)report["plan"]);
        Assert.True((bool)report["groupSplits"]!["folds"]!);
        Assert.True((long)report["groupSplits"]!["groups"]! > 0);
        var channels = report["channels"]!.AsArray().Select(c => (string?)c).ToList();
        Assert.Equal(new string?[] { "fold-0", "fold-1", "fold-2", "fold-3" }, channels.Take(4));
        Assert.Equal(kind.Contains("test", StringComparison.Ordinal), channels.Contains("test"));
        // Not forward chaining: fold 0 trains on the other folds (time folds' fold 0 would train on none).
        var train0 = File.ReadAllText(Path.Combine(many, "_dataprep", "fold-0.train.manifest"));
        Assert.Contains("fold-3/", train0, StringComparison.Ordinal);
        Assert.DoesNotContain("fold-0/", train0, StringComparison.Ordinal);
    }

    /// <summary>
    /// A row without a group key under group folds with a group test split stops a scaled-out run as it stops one process:
    /// exit 3 and the same message naming file, row and column, found by the plan's pass over the key columns.
    /// </summary>
    [Fact]
    public void A_missing_group_key_stops_group_folds_with_a_test_split_as_one_process()
    {
        using var tmp = new TempDir();
        var csv = GroupCsv(tmp, 60, seed: 8, missingGroupAt: "250");
        string[] args = [csv, "--label", "y", "--split", "group", "--group", "g", "--folds", "3", "--fractions", "80/0/20", "--drop", "g,t", "--missing", "fill:mean", "--seed", "2"];
        var single = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("one"), "--quiet"]);
        Assert.Equal(3, single.Code);
        Assert.Contains("row 251", single.Err, StringComparison.Ordinal);
        var many = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("many"), "--quiet", "--workers", "2", "--work", tmp.Combine("work"), "--keep-work"]);
        Assert.Equal(3, many.Code);
        Assert.Equal(LastLine(single.Err), LastLine(many.Err));
        // The plan found it (no routing plan ran): the scan tasks finished, the plan wrote no report.
        var work = Directory.EnumerateFiles(tmp.Combine("work"), "*", SearchOption.AllDirectories).Select(f => f.Replace('\\', '/')).ToList();
        Assert.Equal(2, work.Count(f => f.Contains("/done/scan/", StringComparison.Ordinal)));
        Assert.DoesNotContain(work, f => f.Contains("/done/plan/", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));

        static string LastLine(string text) => text.Trim().Split('\n').Last(l => l.Contains("found no group key", StringComparison.Ordinal)).Trim();
    }

    /// <summary>
    /// A noisy/clean split by group planned by its group table (clean and noisy rows per group): approach 1 (mixed speakers
    /// keep their larger side, the other rows dropped and counted) and approach 2, with noisy inputs or a noisy column,
    /// for 2 and 3 workers: the files and run.json of one process, plan <c>NoisyGroups</c>, no routing.
    /// </summary>
    [Theory]
    [InlineData(2, "speech-approach1")]
    [InlineData(3, "speech-approach2")]
    [InlineData(2, "column-approach1")]
    [InlineData(3, "column-approach2-unshuffled")]
    public void A_noisy_clean_split_by_group_planned_by_its_group_table_writes_the_files_of_one_process(int workers, string kind)
    {
        using var tmp = new TempDir();
        string clean = Paths.SampleData("speech/clean.csv"), noisy = Paths.SampleData("speech/noisy.csv");
        string[] speech = [clean, "--noisy", noisy, "--label", "label", "--split", "noisy", "--group", "speaker_id", "--drop", "path,transcript,speaker_id,noise_db"];
        string[] args = kind switch
        {
            "speech-approach1" => [.. speech, "--format", "recordio-protobuf", "--seed", "3", "--shard-rows", "200"],
            "speech-approach2" => [.. speech, "--noisy-approach", "2", "--fractions", "90/10", "--format", "parquet", "--seed", "4", "--shard-rows", "250"],
            // y (0, 1 or 2) marks noisy rows (non-zero); groups mix both sides. A text label learned from train.
            "column-approach1" => [GroupCsv(tmp, 250, seed: 11, missingX: false), "--label", "t", "--split", "noisy", "--noisy-column", "y", "--group", "g", "--drop", "g", "--seed", "5", "--shard-rows", "300"],
            "column-approach2-unshuffled" => [GroupCsv(tmp, 250, seed: 12, missingX: false), "--label", "t", "--split", "noisy", "--noisy-column", "y", "--group", "g", "--encode", "g=onehot", "--noisy-approach", "2", "--fractions", "80/20", "--no-shuffle", "--format", "recordio-protobuf", "--seed", "6", "--shard-size", "16KB"],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var (_, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        Assert.Single(files, f => Path.GetFileName(f) == "group-splits");
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal("NoisyGroups", (string?)report["plan"]);
    }

    /// <summary>
    /// A noisy/clean split without groups planned by each side's cuts (clean rows, noisy rows, each cut at its own fractions
    /// from the scan tasks' histograms of its split hashes): approaches 1 and 2, with noisy inputs (the speech sample) or a
    /// noisy column, shuffled or not, CSV, RecordIO-protobuf and Parquet, a one-hot vocabulary and fill:mean learned from
    /// train, for 1, 2 and 3 workers: the files and run.json of one process, plan <c>NoisyCuts</c>, no routing.
    /// </summary>
    [Theory]
    [InlineData(1, "speech-approach1")]
    [InlineData(2, "speech-approach1")]
    [InlineData(3, "speech-approach2")]
    [InlineData(2, "speech-approach2-unshuffled")]
    [InlineData(2, "column-approach1")]
    [InlineData(3, "column-approach2-unshuffled")]
    [InlineData(1, "column-approach2-onehot")]
    public void A_noisy_clean_split_without_groups_planned_by_its_cuts_writes_the_files_of_one_process(int workers, string kind)
    {
        using var tmp = new TempDir();
        string clean = Paths.SampleData("speech/clean.csv"), noisy = Paths.SampleData("speech/noisy.csv");
        string[] speech = [clean, "--noisy", noisy, "--label", "label", "--split", "noisy", "--drop", "path,transcript,speaker_id,noise_db"];
        string[] args = kind switch
        {
            "speech-approach1" => [.. speech, "--format", "recordio-protobuf", "--seed", "3", "--shard-rows", "200"],
            "speech-approach2" => [.. speech, "--noisy-approach", "2", "--fractions", "90/10", "--noisy-validation", "0.3", "--format", "parquet", "--seed", "4", "--shard-rows", "250"],
            "speech-approach2-unshuffled" => [.. speech, "--noisy-approach", "2", "--fractions", "75/25", "--no-shuffle", "--seed", "8", "--shard-rows", "180"],
            // y (0, 1 or 2) marks noisy rows (non-zero). A text label learned from train, fill:mean over train's x.
            "column-approach1" => [GroupCsv(tmp, 250, seed: 11), "--label", "t", "--split", "noisy", "--noisy-column", "y", "--drop", "g", "--missing", "fill:mean", "--seed", "5", "--shard-rows", "300"],
            "column-approach2-unshuffled" => [GroupCsv(tmp, 250, seed: 12, missingX: false), "--label", "t", "--split", "noisy", "--noisy-column", "y", "--encode", "g=onehot", "--noisy-approach", "2", "--fractions", "80/20", "--no-shuffle", "--format", "recordio-protobuf", "--seed", "6", "--shard-size", "16KB"],
            "column-approach2-onehot" => [GroupCsv(tmp, 120, seed: 13, missingX: false), "--label", "t", "--split", "noisy", "--noisy-column", "y", "--encode", "g=onehot", "--noisy-approach", "2", "--fractions", "70/30", "--noisy-validation", "0.6", "--format", "parquet", "--seed", "7", "--shard-rows", "400"],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var (_, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers);
        var files = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        Assert.Equal(workers, files.Count(f => Path.GetFileName(f) == "split-bins"));
        var report = JsonNode.Parse(File.ReadAllText(Assert.Single(files, f => f.Replace('\\', '/').Contains("/done/plan/", StringComparison.Ordinal))))!;
        Assert.Equal("NoisyCuts", (string?)report["plan"]);
        // Both sides were cut: the noisy rows into validation and test (approach 2 also the clean rows into train and validation).
        Assert.NotEmpty(report["stratumCuts"]!["noisy"]!.AsArray());
        Assert.Equal(kind.Contains("approach2", StringComparison.Ordinal), report["stratumCuts"]!["clean"]!.AsArray().Count > 0);
    }

    /// <summary>
    /// A row without a value in the noisy column (kept out of the features by <c>--drop</c>, so the missing-values stage
    /// lets it through) stops a scaled-out run as it stops one process: exit 3, the same file and row named. Three inputs,
    /// one a scan task; the second and third each hold such a row, and the second's is the one one process names (the
    /// scan tasks only count them; the plan finds the first in input order).
    /// </summary>
    [Fact]
    public void A_row_without_a_noisy_value_stops_workers_with_the_error_of_one_process()
    {
        using var tmp = new TempDir();
        string Part(int part, int missingAt) => tmp.File($"part{part}.csv",
            "y,a,c\n" + string.Join("\n", Enumerable.Range(0, 200).Select(i => i == missingAt ? $",{i},x{i % 7}" : $"{i % 3},{i},x{i % 7}")) + "\n");
        string[] args = [Part(0, -1), Part(1, 150), Part(2, 10), "--label", "a", "--split", "noisy", "--noisy-column", "y", "--drop", "y", "--encode", "c=onehot", "--seed", "2"];
        var single = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("one"), "--quiet"]);
        Assert.Equal(3, single.Code);
        Assert.Contains("part1.csv, row 151", single.Err, StringComparison.Ordinal);
        var many = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("many"), "--quiet", "--workers", "3", "--work", tmp.Combine("work")]);
        Assert.Equal(3, many.Code);
        Assert.Equal(LastLine(single.Err), LastLine(many.Err));
        Assert.Contains("step plan task 0 failed", many.Err, StringComparison.Ordinal);

        static string LastLine(string text) => text.Trim().Split('\n').Last(l => l.Contains("noisy/clean column", StringComparison.Ordinal)).Trim();
    }
}
