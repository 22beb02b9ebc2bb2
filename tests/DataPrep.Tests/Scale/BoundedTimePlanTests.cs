using DataPrep.Tests.S3;

namespace DataPrep.Tests.Scale;

/// <summary>
/// The bounded plan of a time split (issue 16): the plan task finds the cut-offs (times at the exact count positions, or
/// the given cutoffs) and the gaps from passes over the scan tasks' key columns and writes no routing; each encode task
/// tags its bucket by the cut-offs and orders it by time. Inputs in time order keep the scan tasks' buckets; inputs out of
/// time order are exchanged by time range. Workers as separate processes, tasks in shuffled order, write the files and
/// run.json of one process: ties at a boundary (five products a day) stay in the earlier split, the gap drops the same rows.
/// With a small <c>--memory</c> each encode task spills its bucket and orders it in bounded memory (the one process too).
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class BoundedTimePlanTests
{
    public static TheoryData<int, string> Cases() => new()
    {
        { 1, "sorted-gap" },
        { 2, "sorted-gap" },
        { 3, "sorted-gap" },
        { 2, "cutoffs-recordio" },
        { 3, "cutoffs-recordio" },
        { 1, "unsorted" },
        { 2, "unsorted" },
        { 3, "unsorted" },
        { 3, "unsorted-cutoffs-recordio" },
        { 2, "shuffled" },
        { 2, "gap-empties-test" },
        { 3, "ties-empty-validation" },
        // Every task (and the one process) spills its split: the times wait beside the row ids, the rows are put in buckets
        // of time order, or (shuffled) ranked a hash file at a time.
        { 2, "unsorted-spilled" },
        { 3, "shuffled-spilled" },
    };

    private static string[] CaseArgs(string name, TempDir tmp)
    {
        string[] time = ["--label", "demand", "--split", "time", "--time", "date", "--timestamps", "epoch", "--encode", "product=onehot"];
        return name switch
        {
            "sorted-gap" => [Paths.SampleData("demand.csv"), .. time, "--train", "0.6", "--validation", "0.25", "--test", "0.15", "--gap", "3d", "--shard-rows", "300"],
            "cutoffs-recordio" => [Paths.SampleData("demand.csv"), .. time, "--cutoffs", "2024-09-01,2025-03-01", "--gap", "2d", "--format", "recordio-protobuf", "--shard-size", "16KB"],
            "unsorted" => [.. Unsorted(tmp), .. time, "--gap", "3d", "--shard-rows", "300"],
            "unsorted-cutoffs-recordio" => [.. Unsorted(tmp), .. time, "--cutoffs", "2024-09-01,2025-03-01", "--format", "recordio-protobuf", "--shard-size", "16KB"],
            "shuffled" => [Paths.SampleData("demand.csv"), .. time, "--shuffle", "--seed", "4", "--gap", "1d", "--shard-rows", "500"],
            "unsorted-spilled" => [.. Unsorted(tmp), .. time, "--gap", "3d", "--shard-rows", "300", "--memory", "16KB"],
            "shuffled-spilled" => [.. Unsorted(tmp), .. time, "--shuffle", "--seed", "4", "--gap", "1d", "--shard-rows", "500", "--memory", "16KB"],
            // Empty splits (one process's warning, with the count of distinct times): a gap longer than what is left, and
            // a validation split whose target rows all share the time that ends train.
            "gap-empties-test" => [Paths.SampleData("demand.csv"), .. time, "--fractions", "80/10/10", "--gap", "100d", "--allow-empty-split", "--shard-rows", "300"],
            "ties-empty-validation" => [Ties(tmp), .. time, "--fractions", "40/20/40", "--allow-empty-split", "--shard-rows", "5"],
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    /// <summary>demand.csv's rows in no time order, in two files.</summary>
    private static string[] Unsorted(TempDir tmp)
    {
        var lines = File.ReadAllLines(Paths.SampleData("demand.csv"));
        var random = new Random(5);
        var shuffled = lines.Skip(1).OrderBy(_ => random.Next()).ToList();
        return
        [
            tmp.File("a.csv", string.Join('\n', [lines[0], .. shuffled.Take(shuffled.Count / 2)]) + "\n"),
            tmp.File("b.csv", string.Join('\n', [lines[0], .. shuffled.Skip(shuffled.Count / 2)]) + "\n"),
        ];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_time_split_planned_by_its_cut_offs_writes_the_files_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        var args = CaseArgs(name, tmp);
        var (many, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers);
        // An empty split's warning (equal to one process's, checked above) comes from the bounded plan too.
        Assert.Equal(name.Contains("empt", StringComparison.Ordinal), File.ReadAllText(Path.Combine(many, "_dataprep", "run.json")).Contains("is empty (", StringComparison.Ordinal));

        // The bounded path: cut-offs in the plan's report, no routing; rows out of time order exchanged by time range.
        var objects = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(objects, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        var plan = File.ReadAllText(objects.Single(f => f.Contains($"{Path.DirectorySeparatorChar}plan{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && f.EndsWith("00000.json", StringComparison.Ordinal)));
        Assert.Contains("\"timeCuts\"", plan, StringComparison.Ordinal);
        Assert.Equal(name.StartsWith("unsorted", StringComparison.Ordinal) && workers > 1, plan.Contains("\"timeBuckets\"", StringComparison.Ordinal));
    }

    public static TheoryData<int, string> FoldCases() => new()
    {
        { 1, "folds" },
        { 2, "folds-test-gap-recordio" },
        { 3, "folds-test" },
        { 2, "folds-shuffled" },
        { 2, "folds-unsorted-test" },
        { 3, "folds-ties" },
        { 1, "folds-ties-recordio" },
        { 2, "folds-gap-empties-test" },
        // Every encode task (and the one process) spills: an encode task tags each batch as it spills it.
        { 2, "folds-test-spilled" },
    };

    /// <summary>
    /// Time folds planned by their starts (issue 16): a time test split's cut-offs (or none), then each fold's start at the
    /// time of its exact count position in the pool's time order, just after it when that time continues from the row before
    /// (ties across a boundary stay in the earlier fold, up to leaving a fold empty). The files, the forward-chaining
    /// manifests and run.json are the one process's.
    /// </summary>
    [Theory]
    [MemberData(nameof(FoldCases))]
    public void Time_folds_planned_by_their_starts_write_the_files_and_manifests_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        string[] time = ["--label", "demand", "--split", "time", "--time", "date", "--timestamps", "epoch", "--encode", "product=onehot"];
        string demand = Paths.SampleData("demand.csv");
        string[] args = name switch
        {
            "folds" => [demand, .. time, "--folds", "4", "--shard-rows", "300"],
            "folds-test-gap-recordio" => [demand, .. time, "--folds", "3", "--fractions", "80/0/20", "--gap", "2d", "--format", "recordio-protobuf", "--shard-size", "16KB"],
            "folds-test" => [demand, .. time, "--folds", "5", "--fractions", "85/0/15", "--shard-rows", "250"],
            "folds-test-spilled" => [.. Unsorted(tmp), .. time, "--folds", "3", "--fractions", "80/0/20", "--gap", "2d", "--shard-rows", "300", "--memory", "16KB"],
            "folds-shuffled" => [demand, .. time, "--folds", "4", "--shuffle", "--seed", "4", "--shard-rows", "500"],
            "folds-unsorted-test" => [.. Unsorted(tmp), .. time, "--folds", "3", "--fractions", "80/0/20", "--shard-rows", "300"],
            // The test split inside the gap: one process's warning of an empty test split, and no test channel.
            "folds-gap-empties-test" => [demand, .. time, "--folds", "3", "--fractions", "90/0/10", "--gap", "100d", "--allow-empty-split", "--shard-rows", "300"],
            // 20 rows of one day, then one row a day: folds 1 and 2 start inside the tie, so fold 1 is left empty.
            "folds-ties" or "folds-ties-recordio" => [Ties(tmp), "--label", "demand", "--split", "time", "--time", "date", "--timestamps", "epoch", "--encode", "product=onehot", "--folds", "4", "--allow-empty-split",
                .. name.EndsWith("recordio", StringComparison.Ordinal) ? new[] { "--format", "recordio-protobuf" } : ["--shard-rows", "7"]],
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var (many, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers);
        var objects = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(objects, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        var plan = File.ReadAllText(objects.Single(f => f.Contains($"{Path.DirectorySeparatorChar}plan{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && f.EndsWith("00000.json", StringComparison.Ordinal)));
        Assert.Contains("\"timeFoldCuts\"", plan, StringComparison.Ordinal);
        bool emptyTest = name.Contains("empties-test", StringComparison.Ordinal);
        Assert.Equal(emptyTest, File.ReadAllText(Path.Combine(many, "_dataprep", "run.json")).Contains("test is empty (", StringComparison.Ordinal));
        if (emptyTest) Assert.False(Directory.Exists(Path.Combine(many, "test")), "an empty test split has no channel");
        // Forward chaining: fold k trains on the earlier folds only (the manifests equal one process's, checked above).
        var folds = Directory.EnumerateDirectories(many, "fold-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(folds);
        if (name.StartsWith("folds-ties", StringComparison.Ordinal)) Assert.Equal(["fold-0", "fold-2", "fold-3"], folds);
        var first = File.ReadAllText(Path.Combine(many, "_dataprep", $"{folds[0]}.train.manifest"));
        Assert.DoesNotContain("fold-", first, StringComparison.Ordinal);
    }

    /// <summary>A CSV with 20 rows of one day, then one row a day, and a few more rows of the first day at the end.</summary>
    private static string Ties(TempDir tmp)
    {
        var text = new System.Text.StringBuilder("date,product,demand\n");
        for (int i = 0; i < 18; i++) text.Append("2024-01-01,P").Append(i % 3).Append(',').Append(i).Append('\n');
        for (int d = 2; d <= 11; d++) text.Append("2024-01-").Append(d.ToString("00", System.Globalization.CultureInfo.InvariantCulture)).Append(",P1,").Append(d * 10).Append('\n');
        text.Append("2024-01-01,P2,7\n2024-01-01,P0,8\n");
        return tmp.File("ties.csv", text.ToString());
    }

    /// <summary>
    /// An impossible time stops a scaled-out run as it stops one process (exit 3, the same message naming file, row and
    /// column: the first such row in input order, here in the second scan task's share when both inputs have one): the
    /// bounded plan finds it in its first pass over the key columns, holding no rows (it handed such runs to the routing
    /// plan before). (A missing time stops earlier, in the missing-values stage, unless a policy fills or drops it.)
    /// </summary>
    [Theory]
    [InlineData(2, "one-file")]
    [InlineData(3, "two-files")]
    [InlineData(2, "folds-two-files")]
    [InlineData(3, "folds-one-file")]
    public void An_impossible_time_stops_the_bounded_plan_with_the_error_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        string Csv(string file, int from, params int[] bad)
        {
            var text = new System.Text.StringBuilder("t,x,y\n");
            for (int i = 0; i < 40; i++)
            {
                long t = bad.Contains(i) ? long.MaxValue - i : 1_700_000_000L + (from + i) * 3600;
                text.Append(t.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',').Append(i % 5).Append(',').Append(i % 2).Append('\n');
            }
            return tmp.File(file, text.ToString());
        }
        bool twoFiles = name.EndsWith("two-files", StringComparison.Ordinal);
        string a = Csv("a.csv", 0, twoFiles ? [33] : []), b = Csv("b.csv", 40, 3, 9);
        string[] args = [a, b, "--label", "y", "--split", "time", "--time", "t", .. name.StartsWith("folds", StringComparison.Ordinal) ? new[] { "--folds", "3", "--fractions", "80/0/20" } : []];
        var single = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("one"), "--quiet"]);
        Assert.Equal(3, single.Code);
        const string cause = "which is not a Unix epoch time";
        Assert.Contains(cause, single.Err, StringComparison.Ordinal);
        Assert.Contains(twoFiles ? "a.csv" : "b.csv", single.Err, StringComparison.Ordinal);
        var many = CliProcess.Run(["convert", .. args, "--out", tmp.Combine("many"), "--quiet", "--workers", workers.ToString(System.Globalization.CultureInfo.InvariantCulture), "--work", tmp.Combine("work")]);
        Assert.Equal(3, many.Code);
        Assert.Equal(LastLine(single.Err), LastLine(many.Err));
        Assert.False(Directory.Exists(tmp.Combine("many", "train")), "nothing published");

        static string LastLine(string text) => text.Trim().Split('\n').Last(l => l.Contains(cause, StringComparison.Ordinal)).Trim();
    }
}
