using System.Globalization;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit.Abstractions;

namespace DataPrep.Tests.Splits;

/// <summary>
/// Leakage contract §3.2 for <see cref="GroupSplitAssigner"/>: no group in two splits, a partition, row fractions
/// within (largest group ÷ rows) of the target, never worse than scikit-learn's GroupShuffleSplit, determinism,
/// stratification — plus every error message and warning.
/// </summary>
public class GroupSplitAssignerTests(ITestOutputHelper output)
{
    private static readonly double[] s_801010 = [0.8, 0.1, 0.1];
    private static readonly Schema s_schema = new([new Field("g", ColumnKind.String), new Field("y", ColumnKind.String), new Field("x", ColumnKind.Int64)]);

    // ---------- datasets ----------

    /// <summary>
    /// A generated dataset: rows per group, a class per group (labels), fractions, seed, and how the rows are fed
    /// (row order shuffled by <paramref name="Shuffle"/>, cut into batches of <paramref name="BatchRows"/>).
    /// With <paramref name="Mixed"/> a group's rows carry mixed labels (its class is only the most common one).
    /// </summary>
    public sealed record Dataset(long[] Sizes, int[] Classes, double[] Fractions, ulong Seed, int Shuffle, int BatchRows, bool Mixed = false)
    {
        public long Rows => Sizes.Sum();

        public long Largest => Sizes.Length == 0 ? 0 : Sizes.Max();

        public override string ToString()
            => $"sizes=[{string.Join(",", Sizes)}] classes=[{string.Join(",", Classes)}] f=[{string.Join(",", Fractions.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))}] seed={Seed} shuffle={Shuffle} batch={BatchRows} mixed={Mixed}";
    }

    private static long[] Longs(IEnumerable<int> values) => values.Select(v => (long)v).ToArray();

    /// <summary>Small groups plus one giant that holds 90 % of the rows.</summary>
    private static long[] WithGiant(int[] small)
    {
        long rest = small.Sum();
        return [.. Longs(small), Math.Max(1, 9 * rest)];
    }

    private static Gen<long[]> Sizes() => Gen.Frequency(
        (5, from m in Gen.Choose(1, 40) from s in Gen.ArrayOf(Gen.Choose(1, 20), m) select Longs(s)),
        (2, from m in Gen.Choose(1, 150) select Enumerable.Repeat(1L, m).ToArray()),
        (3, from m in Gen.Choose(1, 30) from s in Gen.ArrayOf(Gen.Choose(1, 6), m) select WithGiant(s)),
        (1, from w in Gen.Choose(1, 500) select new long[] { w }),
        (2, from m in Gen.Choose(1, 2) from s in Gen.ArrayOf(Gen.Choose(1, 100), m) select Longs(s)),
        (3, from m in Gen.Choose(1, 40) from s in Gen.ArrayOf(Gen.Choose(0, 399), m) select s.Select(x => Math.Max(1L, 400L / (x + 1))).ToArray()),
        (1, Gen.Constant(Array.Empty<long>())));

    private static Gen<double[]> Fractions() => Gen.Frequency(
        (6, Gen.Elements<double[]>([0.8, 0.1, 0.1], [0.7, 0.15, 0.15], [0.8, 0.2, 0], [0.8, 0, 0.2], [0.999, 0.001, 0], [0.34, 0.33, 0.33], [0.5, 0.5, 0], [1, 0, 0], [0, 0, 1], [0.6, 0.2, 0.2])),
        (4, from a in Gen.Choose(1, 100) from b in Gen.Choose(0, 100) from c in Gen.Choose(0, 100)
            select new[] { a / (double)(a + b + c), b / (double)(a + b + c), c / (double)(a + b + c) }));

    private static Gen<Dataset> Datasets(bool stratified = false, bool mixed = false) =>
        from sizes in Sizes()
        from classCount in Gen.Choose(1, stratified ? 5 : 1)
        from classes in Gen.ArrayOf(Gen.Choose(0, classCount - 1), sizes.Length)
        from f in Fractions()
        from seed in Gen.Choose(0, int.MaxValue)
        from shuffle in Gen.Choose(0, int.MaxValue)
        from batch in Gen.Elements(1, 7, 64, 100_000)
        select new Dataset(sizes, classes, f, (ulong)seed, shuffle, batch, mixed);

    /// <summary>The rows of a dataset: (group key, label), in an order shuffled by the dataset.</summary>
    private static List<(string Group, string Label)> Rows(Dataset d, int? shuffle = null)
    {
        var rows = new List<(string, string)>();
        var labels = new Random(17);
        for (int g = 0; g < d.Sizes.Length; g++)
        {
            for (long k = 0; k < d.Sizes[g]; k++)
            {
                int cls = d.Mixed && labels.Next(3) == 0 ? labels.Next(4) : d.Classes[g];
                rows.Add(($"speaker-{g}", $"class-{cls}"));
            }
        }
        var array = rows.ToArray();
        new Random(shuffle ?? d.Shuffle).Shuffle(array);
        return [.. array];
    }

    /// <summary>Rows cut into batches; row ids are 1-based row numbers of source 0.</summary>
    private static SplitInput Input(IReadOnlyList<(string Group, string Label)> rows, int batchRows, string?[]? groupsOverride = null)
    {
        var batches = new List<RecordBatch>();
        for (int start = 0; start < rows.Count; start += batchRows)
        {
            int n = Math.Min(batchRows, rows.Count - start);
            var g = new string?[n];
            var y = new string?[n];
            var x = new long[n];
            var ids = new long[n];
            var sources = new int[n];
            var sourceRows = new long[n];
            for (int k = 0; k < n; k++)
            {
                g[k] = groupsOverride is null ? rows[start + k].Group : groupsOverride[start + k];
                y[k] = rows[start + k].Label;
                x[k] = start + k;
                ids[k] = RowInfo.MakeRowId(0, start + k + 1);
                sourceRows[k] = start + k + 1;
            }
            batches.Add(new RecordBatch(s_schema, [new StringColumn(g), new StringColumn(y), new Int64Column(x)], n, new RowInfo(ids, sources, sourceRows)));
        }
        return new SplitInput(batches, s_schema);
    }

    private sealed record Outcome(SplitAssignment Result, RunContext Context, List<(string Group, string Label)> Rows)
    {
        public SplitTag[] Tags => Result.Tags;

        public long Count(SplitTag s) => Tags.LongCount(t => t == s);

        /// <summary>The split of every group; throws if a group is in two splits.</summary>
        public Dictionary<string, SplitTag> GroupSplits()
        {
            var map = new Dictionary<string, SplitTag>(StringComparer.Ordinal);
            for (int i = 0; i < Tags.Length; i++)
            {
                if (map.TryGetValue(Rows[i].Group, out var s) && s != Tags[i]) throw new InvalidOperationException($"group {Rows[i].Group} in {s} and {Tags[i]}");
                map[Rows[i].Group] = Tags[i];
            }
            return map;
        }
    }

    private static Outcome Run(Dataset d, int? shuffle = null, int? batchRows = null, bool stratify = false)
    {
        var rows = Rows(d, shuffle);
        var assigner = new GroupSplitAssigner("g", d.Fractions, d.Seed, stratify ? "y" : null);
        var input = Input(rows, batchRows ?? d.BatchRows);
        assigner.Bind(input.Schema);
        var context = new RunContext();
        context.Inputs.Add("speakers.csv");
        return new Outcome(assigner.Assign(input, context), context, rows);
    }

    private static Outcome Run(IReadOnlyList<(string Group, string Label)> rows, double[] fractions, ulong seed = 42, string? stratify = null)
    {
        var assigner = new GroupSplitAssigner("g", fractions, seed, stratify);
        var input = Input(rows, 1000);
        assigner.Bind(input.Schema);
        var context = new RunContext();
        context.Inputs.Add("speakers.csv");
        return new Outcome(assigner.Assign(input, context), context, rows.ToList());
    }

    private static List<(string, string)> Groups(params int[] sizes)
        => sizes.SelectMany((n, g) => Enumerable.Repeat(($"s{g}", "a"), n)).ToList();

    // ---------- the group table: any partition of the rows, in any order, decides alike ----------

    /// <summary>
    /// Issue 16: a scaled-out plan builds the group table from the scan tasks' key batches (any partition of the rows into
    /// tasks and batches, counted in any order, tables merged in any order) and decides from it alone. Every row then gets
    /// the split <see cref="GroupSplitAssigner.Assign"/> gives it over all rows, and the report (groups and target per split,
    /// the "cannot be met" and class-share warnings) is the same, stratified or not.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property A_group_table_built_from_any_partition_of_the_rows_decides_as_one_process()
        => Prop.ForAll(
            (from stratify in Gen.Elements(false, true)
             from d in Datasets(stratified: stratify, mixed: stratify)
             from tasks in Gen.Choose(1, 5)
             from partition in Gen.Choose(0, int.MaxValue)
             select (d, stratify, tasks, partition)).ToArbitrary(),
            x =>
            {
                var (d, stratify, tasks, partition) = x;
                var one = Run(d, stratify: stratify);
                var rows = one.Rows;
                var random = new Random(partition);

                // Each row to a random task; each task's rows in a random order, cut into batches of random sizes.
                var byTask = Enumerable.Range(0, tasks).Select(_ => new List<int>()).ToArray();
                for (int i = 0; i < rows.Count; i++) byTask[random.Next(tasks)].Add(i);
                var assigner = new GroupSplitAssigner("g", d.Fractions, d.Seed, stratify ? "y" : null);
                var tables = new List<GroupTable>();
                foreach (var members in byTask)
                {
                    var shuffled = members.ToArray();
                    random.Shuffle(shuffled);
                    var table = new GroupTable(stratify);
                    for (int at = 0; at < shuffled.Length;)
                    {
                        int n = Math.Min(random.Next(1, 40), shuffled.Length - at);
                        var groups = new StringColumn(shuffled.Skip(at).Take(n).Select(i => (string?)rows[i].Group).ToArray());
                        var labels = new StringColumn(shuffled.Skip(at).Take(n).Select(i => (string?)rows[i].Label).ToArray());
                        if (table.Add(groups, stratify ? labels : null, n) != -1) return false.Label("a key was missing");
                        at += n;
                    }
                    tables.Add(table);
                }
                var merged = new GroupTable(stratify);
                foreach (var t in tables.OrderBy(_ => random.Next())) merged.Merge(t);
                var decision = assigner.Decide(merged);
                var splitOf = new Dictionary<string, SplitTag>(StringComparer.Ordinal);
                for (int g = 0; g < merged.Count; g++) splitOf[merged.Keys[g]] = decision.Splits[g];
                var context = new RunContext();
                assigner.Report(context, decision);

                bool sameTags = Enumerable.Range(0, rows.Count).All(i => splitOf[rows[i].Group] == one.Tags[i]);
                bool sameRows = merged.TotalRows == rows.Count;
                bool sameWarnings = context.Report.Warnings.SequenceEqual(one.Context.Report.Warnings);
                bool sameSplits = context.Report.Splits.Keys.SequenceEqual(one.Context.Report.Splits.Keys)
                    && context.Report.Splits.All(kv => one.Context.Report.Splits[kv.Key] is var o && o.Groups == kv.Value.Groups && o.TargetFraction == kv.Value.TargetFraction);
                return (sameTags && sameRows && sameWarnings && sameSplits)
                    .Label($"{d} stratify={stratify} tasks={tasks} partition={partition} tags={sameTags} rows={sameRows} warnings={sameWarnings} splits={sameSplits}");
            });

    /// <summary>The table counts a batch up to its first missing group key and says where it is.</summary>
    [Fact]
    public void A_group_table_stops_at_the_first_missing_key()
    {
        var table = new GroupTable(stratified: true);
        int at = table.Add(new StringColumn(["a", "b", null, "a"]), new StringColumn(["x", "y", "x", "x"]), 4);
        Assert.Equal(2, at);
        Assert.Equal(2, table.Count);
        Assert.Equal(2, table.TotalRows);
        var other = new GroupTable(stratified: true);
        other.Add("a", "y", 3);
        table.Merge(other);
        Assert.Equal(5, table.TotalRows);
        Assert.Equal(4, table.Rows[0]);
        Assert.Throws<ArgumentException>(() => table.Merge(new GroupTable(stratified: false)));
    }

    /// <summary>
    /// A batch counted with numbers gives each row the group number a row-by-row count gives it (runs of one key, which
    /// skip the index, included), and the same table: what a spilled group split writes beside each row id.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property A_batch_counted_with_numbers_numbers_rows_as_row_by_row(byte[] keys, bool stratified)
    {
        var text = keys.Select(k => k < 32 ? null : ((k & 0x0F) % 9).ToString(CultureInfo.InvariantCulture)).ToArray();
        var classes = keys.Select(k => (k >> 6).ToString(CultureInfo.InvariantCulture)).ToArray();
        var batch = new GroupTable(stratified);
        var numbers = new int[text.Length];
        int missing = batch.Add(new StringColumn(text), new StringColumn(classes), text.Length, numbers: numbers);
        var rowByRow = new GroupTable(stratified);
        int expectedMissing = Array.IndexOf(text, null);
        int counted = expectedMissing < 0 ? text.Length : expectedMissing;
        for (int r = 0; r < counted; r++)
        {
            if (rowByRow.Add(text[r]!, stratified ? classes[r] : null) != numbers[r]) return false.Label($"row {r}");
        }
        return (missing == expectedMissing && batch.Count == rowByRow.Count && batch.Rows.SequenceEqual(rowByRow.Rows) && batch.Keys.SequenceEqual(rowByRow.Keys)
            && batch.PerClass.Order().SequenceEqual(rowByRow.PerClass.Order())).Label("table");
    }

    // ---------- properties: the leakage contract ----------

    /// <summary>(1) No group key occurs in two splits, and no group lands in a split with a zero fraction.</summary>
    [Property(MaxTest = 300)]
    public Property No_group_is_in_two_splits()
        => Prop.ForAll(Datasets().ToArbitrary(), d =>
        {
            var o = Run(d);
            var map = o.GroupSplits();
            return (map.Count == d.Sizes.Length && map.Values.All(s => d.Fractions[(int)s] > 0)).Label(d.ToString());
        });

    /// <summary>(2) Partition: every row is in exactly one of train, validation, test; none dropped, none added.</summary>
    [Property(MaxTest = 300)]
    public Property Every_row_is_in_exactly_one_split()
        => Prop.ForAll(Datasets().ToArbitrary(), d =>
        {
            var o = Run(d);
            return (o.Tags.Length == d.Rows
                    && o.Tags.All(t => t is SplitTag.Train or SplitTag.Validation or SplitTag.Test)
                    && SplitNames.All.Sum(o.Count) == d.Rows)
                .Label(d.ToString());
        });

    /// <summary>
    /// (3) Rows per split within the largest group of the exact target count, i.e. the row fraction within
    /// (largest group ÷ rows) of the target — for any sizes, including one group with 90 % of the rows.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property Rows_per_split_are_within_the_largest_group_of_the_target()
        => Prop.ForAll(Datasets().ToArbitrary(), d =>
        {
            var o = Run(d);
            var target = RandomSplitter.ExactCounts(d.Rows, d.Fractions);
            bool ok = SplitNames.All.All(s => Math.Abs(o.Count(s) - target[(int)s]) <= d.Largest
                                              && (d.Rows == 0 || Math.Abs(o.Count(s) / (double)d.Rows - d.Fractions[(int)s]) <= d.Largest / (double)d.Rows + 1e-12));
            return ok.Label($"{d} got=[{string.Join(",", SplitNames.All.Select(o.Count))}] target=[{string.Join(",", target)}]");
        });

    /// <summary>Same bound with stratification and labels mixed inside groups: the row bound is never traded for class balance.</summary>
    [Property(MaxTest = 300)]
    public Property Stratified_rows_per_split_are_within_the_largest_group_of_the_target()
        => Prop.ForAll(Datasets(stratified: true, mixed: true).ToArbitrary(), d =>
        {
            var o = Run(d, stratify: true);
            o.GroupSplits();
            var target = RandomSplitter.ExactCounts(d.Rows, d.Fractions);
            bool ok = SplitNames.All.All(s => Math.Abs(o.Count(s) - target[(int)s]) <= d.Largest) && o.Tags.Length == d.Rows;
            return ok.Label($"{d} got=[{string.Join(",", SplitNames.All.Select(o.Count))}] target=[{string.Join(",", target)}]");
        });

    /// <summary>The planner alone on bigger inputs (up to 3,000 groups of up to 2,000 rows): the same bound.</summary>
    [Property(MaxTest = 100)]
    public Property Planner_bound_holds_on_large_inputs()
        => Prop.ForAll(
            (from m in Gen.Choose(1, 3000)
             from tail in Gen.Choose(1, 2000)
             from raw in Gen.ArrayOf(Gen.Choose(0, tail - 1), m)
             from f in Fractions()
             select (Sizes: raw.Select(x => Math.Max(1L, tail / (x + 1L))).ToArray(), F: f)).ToArbitrary(),
            x =>
            {
                var plan = GroupSplitPlanner.Plan(x.Sizes, null, 1, x.F);
                var rows = new long[3];
                for (int j = 0; j < plan.Length; j++) rows[plan[j]] += x.Sizes[j];
                var target = RandomSplitter.ExactCounts(x.Sizes.Sum(), x.F);
                long w = x.Sizes.Max();
                return Enumerable.Range(0, 3).All(s => Math.Abs(rows[s] - target[s]) <= w && (x.F[s] > 0 || rows[s] == 0))
                    .Label($"m={x.Sizes.Length} w={w} rows=[{string.Join(",", rows)}] target=[{string.Join(",", target)}]");
            });

    // ---------- (4) never worse than scikit-learn's GroupShuffleSplit ----------

    /// <summary>
    /// Reference of sklearn.model_selection.GroupShuffleSplit(test_size=t, train_size=None): it shuffles the unique
    /// groups and takes the first ceil(t · n_groups) GROUPS as test and the rest as train (it counts groups, not
    /// rows; numpy's ceil of the float product, as _validate_shuffle_split does). It refuses (ValueError) when
    /// train would get no group; null then. Returns its EXPECTED row-fraction error over all its random
    /// permutations, computed exactly: every test set of ceil(t · n) groups is equally likely, and a dynamic
    /// program over (groups taken, rows taken) counts them.
    /// </summary>
    internal static double? GroupShuffleSplitExpectedError(IReadOnlyList<long> sizes, double testSize)
    {
        int m = sizes.Count;
        int nTest = (int)Math.Ceiling(testSize * m);
        int nTrain = m - nTest;
        if (m == 0 || nTrain <= 0 || nTest <= 0) return null;
        long n = sizes.Sum();
        // ways[k][r]: number of k-subsets with r rows (as double: only ratios matter).
        var ways = new double[nTest + 1][];
        for (int k = 0; k <= nTest; k++) ways[k] = new double[n + 1];
        ways[0][0] = 1;
        long seen = 0;
        foreach (long w in sizes)
        {
            seen += w;
            for (int k = nTest; k >= 1; k--)
            {
                for (long r = seen; r >= w; r--) ways[k][r] += ways[k - 1][r - w];
            }
        }
        double total = 0, error = 0;
        for (long r = 0; r <= n; r++)
        {
            if (ways[nTest][r] == 0) continue;
            total += ways[nTest][r];
            error += ways[nTest][r] * Math.Abs(r / (double)n - testSize);
        }
        return error / total;
    }

    /// <summary>The same reference by brute force over every permutation, to check the dynamic program.</summary>
    private static double GroupShuffleSplitByPermutations(long[] sizes, double testSize)
    {
        int nTest = (int)Math.Ceiling(testSize * sizes.Length);
        long n = sizes.Sum();
        double sum = 0;
        int count = 0;
        void Permute(int[] p, int k)
        {
            if (k == p.Length)
            {
                long test = p.Take(nTest).Sum(i => sizes[i]);
                sum += Math.Abs(test / (double)n - testSize);
                count++;
                return;
            }
            for (int i = k; i < p.Length; i++)
            {
                (p[k], p[i]) = (p[i], p[k]);
                Permute(p, k + 1);
                (p[k], p[i]) = (p[i], p[k]);
            }
        }
        Permute(Enumerable.Range(0, sizes.Length).ToArray(), 0);
        return sum / count;
    }

    [Theory]
    [InlineData(new long[] { 1, 1, 1, 1, 4, 1 }, 0.3)]
    [InlineData(new long[] { 2, 2, 2 }, 0.2)]
    [InlineData(new long[] { 50, 1, 7, 3, 3 }, 0.2)]
    [InlineData(new long[] { 10, 20, 30, 40, 50, 60, 70 }, 0.25)]
    public void The_GroupShuffleSplit_reference_matches_brute_force(long[] sizes, double testSize)
        => Assert.Equal(GroupShuffleSplitByPermutations(sizes, testSize), GroupShuffleSplitExpectedError(sizes, testSize)!.Value, 12);

    [Fact]
    public void The_GroupShuffleSplit_reference_counts_groups_not_rows()
    {
        // 5 groups, test_size 0.2 → exactly 1 group as test, whatever its rows: 1 + 1 + 1 + 1 + 96 rows.
        // E|test rows/100 − 0.2| = (4 · |0.01 − 0.2| + |0.96 − 0.2|) / 5 = (0.76 + 0.76) / 5 = 0.304.
        Assert.Equal(0.304, GroupShuffleSplitExpectedError([1, 1, 1, 1, 96], 0.2)!.Value, 12);
        Assert.Null(GroupShuffleSplitExpectedError([7], 0.2)); // sklearn: "the resulting train set will be empty"
    }

    private static double OurError(Outcome o, long rows, double[] f)
        => SplitNames.All.Max(s => Math.Abs(o.Count(s) / (double)rows - f[(int)s]));

    /// <summary>
    /// (4) For two-way splits (train 1 − t, test t, as GroupShuffleSplit makes), our largest row-fraction error is
    /// at most GroupShuffleSplit's expected one on the same groups. Fair comparison: GroupShuffleSplit is random and
    /// we are deterministic for a seed, so we compare with its exact average over all its permutations (what a user
    /// gets on average for a random seed) rather than with one lucky or unlucky draw; both errors are measured the
    /// same way, against the real fraction (not our integer targets).
    /// </summary>
    [Property(MaxTest = 400)]
    public Property Never_worse_than_GroupShuffleSplit_on_average()
        => Prop.ForAll(
            (from d in Datasets()
             from t in Gen.Elements(0.2, 0.1, 0.25, 0.3, 0.5, 0.05, 0.001, 0.33)
             select d with { Fractions = [1 - t, 0, t] }).ToArbitrary(),
            d =>
            {
                double t = d.Fractions[2];
                var gss = GroupShuffleSplitExpectedError(d.Sizes, t);
                if (gss is null) return true.Label("GroupShuffleSplit refuses this input");
                var o = Run(d);
                double ours = OurError(o, d.Rows, d.Fractions);
                return (ours <= gss.Value + 1e-12).Label($"{d} ours={ours} gss={gss}");
            });

    /// <summary>The measured comparison on a fixed corpus, with the numbers in the test output.</summary>
    [Fact]
    public void Comparison_with_GroupShuffleSplit_on_a_fixed_corpus()
    {
        var random = new Random(20240601);
        var shapes = new (string Name, Func<long[]> Make)[]
        {
            ("uniform 1-20 rows, 5-60 groups", () => Enumerable.Range(0, random.Next(5, 61)).Select(_ => (long)random.Next(1, 21)).ToArray()),
            ("heavy tail (Zipf-like), 10-80 groups", () => Enumerable.Range(0, random.Next(10, 81)).Select(_ => Math.Max(1L, 400L / (random.Next(400) + 1))).ToArray()),
            ("one group with 90 % of rows", () => WithGiant(Enumerable.Range(0, random.Next(3, 40)).Select(_ => random.Next(1, 7)).ToArray())),
            ("few groups (3-6), 1-100 rows", () => Enumerable.Range(0, random.Next(3, 7)).Select(_ => (long)random.Next(1, 101)).ToArray()),
        };
        double[] tests = [0.2, 0.1, 0.25, 0.3];
        foreach (var (name, make) in shapes)
        {
            double oursSum = 0, gssSum = 0;
            int cases = 0, strictlyBetter = 0;
            for (int i = 0; i < 150; i++)
            {
                var sizes = make();
                double t = tests[i % tests.Length];
                var gss = GroupShuffleSplitExpectedError(sizes, t);
                if (gss is null) continue;
                var d = new Dataset(sizes, new int[sizes.Length], [1 - t, 0, t], (ulong)i, i, 1000);
                double ours = OurError(Run(d), d.Rows, d.Fractions);
                Assert.True(ours <= gss.Value + 1e-12, $"{d}: ours {ours} > GroupShuffleSplit {gss}");
                oursSum += ours;
                gssSum += gss.Value;
                cases++;
                if (ours < gss.Value - 1e-12) strictlyBetter++;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {cases} datasets, mean max row-fraction error ours {oursSum / cases:0.0000} vs GroupShuffleSplit expected {gssSum / cases:0.0000}; strictly better in {strictlyBetter}, never worse"));
        }
    }

    // ---------- (5) determinism ----------

    /// <summary>(5) A group's split depends on the seed, keys and group sizes only: not on row order or batch size.</summary>
    [Property(MaxTest = 200)]
    public Property Result_does_not_depend_on_row_order_or_batch_size()
        => Prop.ForAll(
            (from d in Datasets(stratified: true, mixed: true)
             from otherShuffle in Gen.Choose(0, int.MaxValue)
             from otherBatch in Gen.Elements(1, 3, 50, 100_000)
             from stratify in Gen.Elements(false, true)
             select (d, otherShuffle, otherBatch, stratify)).ToArbitrary(),
            x =>
            {
                var (d, otherShuffle, otherBatch, stratify) = x;
                var a = Run(d, stratify: stratify).GroupSplits();
                var b = Run(d, otherShuffle, otherBatch, stratify).GroupSplits();
                return (a.Count == b.Count && a.All(kv => b[kv.Key] == kv.Value)).Label(d.ToString());
            });

    [Fact]
    public void Same_seed_same_split_and_other_seeds_differ()
    {
        var rows = Enumerable.Range(0, 2000).Select(i => ($"g{i % 200}", "a")).ToList();
        var a = Run(rows, s_801010, seed: 1).Tags;
        Assert.Equal(a, Run(rows, s_801010, seed: 1).Tags);
        Assert.NotEqual(a, Run(rows, s_801010, seed: 2).Tags);
    }

    // ---------- (6) stratified ----------

    /// <summary>
    /// (6) When every group holds one class, each class's rows per split are within (the largest group of that
    /// class) of its share (class rows × fraction), while the totals keep the row bound.
    /// </summary>
    [Property(MaxTest = 400)]
    public Property Stratified_classes_keep_their_share_within_their_largest_group()
        => Prop.ForAll(Datasets(stratified: true).ToArbitrary(), d =>
        {
            var o = Run(d, stratify: true);
            bool ok = true;
            var failures = new List<string>();
            foreach (int c in d.Classes.Distinct())
            {
                long classRows = d.Sizes.Where((_, g) => d.Classes[g] == c).Sum();
                long largest = d.Sizes.Where((_, g) => d.Classes[g] == c).Max();
                foreach (var s in SplitNames.All)
                {
                    long got = Enumerable.Range(0, o.Tags.Length).LongCount(i => o.Tags[i] == s && o.Rows[i].Label == $"class-{c}");
                    double share = classRows * d.Fractions[(int)s];
                    if (Math.Abs(got - share) > largest + 1e-9) { ok = false; failures.Add($"class {c} {s}: {got} vs share {share} (largest {largest})"); }
                }
            }
            var target = RandomSplitter.ExactCounts(d.Rows, d.Fractions);
            ok &= SplitNames.All.All(s => Math.Abs(o.Count(s) - target[(int)s]) <= d.Largest);
            return ok.Label($"{d}: {string.Join("; ", failures)}");
        });

    [Fact]
    public void Stratified_single_row_groups_are_exact_per_class_and_in_total()
    {
        // 300 single-row groups, classes 200/70/30: each class within one row of its share, totals exact.
        var rows = Enumerable.Range(0, 300).Select(i => ($"g{i}", i < 200 ? "a" : i < 270 ? "b" : "c")).ToList();
        var o = Run(rows, s_801010, stratify: "y");
        Assert.Equal([240, 30, 30], SplitNames.All.Select(o.Count));
        foreach (var (label, n) in new[] { ("a", 200), ("b", 70), ("c", 30) })
        {
            foreach (var s in SplitNames.All)
            {
                long got = Enumerable.Range(0, 300).LongCount(i => o.Tags[i] == s && rows[i].Item2 == label);
                Assert.True(Math.Abs(got - n * s_801010[(int)s]) < 1 + 1e-9, $"{label} {s}: {got}");
            }
        }
        Assert.Empty(o.Context.Report.Warnings);
    }

    [Fact]
    public void Stratified_warning_names_classes_off_by_more_than_one_row_with_numbers()
    {
        // Class a: 500 single-row groups; class b lives in 2 groups of 30 rows, so its 80/10/10 of 60 rows cannot be met whole.
        var rows = new List<(string, string)>();
        for (int g = 0; g < 500; g++) rows.Add(($"a{g}", "a"));
        rows.AddRange(Enumerable.Repeat(("b0", "b"), 30));
        rows.AddRange(Enumerable.Repeat(("b1", "b"), 30));
        var o = Run(rows, s_801010, stratify: "y");
        var warning = Assert.Single(o.Context.Report.Warnings, w => w.Contains("stratified by 'y'", StringComparison.Ordinal));
        Assert.Contains("1 class of 2 ended more than one row away from its share", warning);
        Assert.Contains("'b': train", warning);
        Assert.Contains("(share 48)", warning);
        Assert.Contains("(share 6)", warning);
        Assert.Contains("60 rows, largest group 30 rows", warning);
        Assert.Contains("each class is within its largest group of its share", warning);
    }

    // ---------- facts: targets, report, warnings ----------

    [Fact]
    public void Single_row_groups_give_the_exact_counts_of_a_random_split()
    {
        var rows = Enumerable.Range(0, 1000).Select(i => ($"g{i}", "a")).ToList();
        var o = Run(rows, s_801010);
        Assert.Equal([800, 100, 100], SplitNames.All.Select(o.Count));
        Assert.Empty(o.Context.Report.Warnings);
    }

    [Fact]
    public void Fractions_are_met_by_rows_not_by_group_count()
    {
        // 10 groups of 100 rows and 90 groups of 1 row: 80/10/10 by rows is 872/109/109 of 1,090 rows, give or take a group
        // (by group count it would be 80/10/10 groups, e.g. 8 big groups = 800+ rows in train or none at all).
        var sizes = Enumerable.Repeat(100, 10).Concat(Enumerable.Repeat(1, 90)).ToArray();
        var o = Run(Groups(sizes), s_801010);
        var target = RandomSplitter.ExactCounts(1090, s_801010);
        foreach (var s in SplitNames.All) Assert.InRange(o.Count(s), target[(int)s] - 100, target[(int)s] + 100);
        // In fact much closer: the small groups fill the gaps.
        foreach (var s in SplitNames.All) Assert.InRange(o.Count(s), target[(int)s] - 1, target[(int)s] + 1);
    }

    [Fact]
    public void Report_has_groups_and_target_fraction_per_split()
    {
        var rows = Enumerable.Range(0, 1000).Select(i => ($"g{i % 100}", "a")).ToList();
        var o = Run(rows, s_801010);
        var splits = o.Context.Report.Splits;
        Assert.Equal(["test", "train", "validation"], splits.Keys);
        Assert.Equal(100, splits.Values.Sum(r => r.Groups!.Value));
        Assert.Equal(80, splits["train"].Groups);
        Assert.Equal(10, splits["validation"].Groups);
        Assert.Equal(0.8, splits["train"].TargetFraction);
        Assert.Equal(0.1, splits["test"].TargetFraction);
        Assert.Null(o.Result.Order);
    }

    [Fact]
    public void Impossible_request_warns_with_achieved_fractions_and_never_leaks()
    {
        // 3 groups into 80/10/10, one group holding 90 % of the rows.
        var o = Run(Groups(900, 50, 50), s_801010);
        o.GroupSplits();
        Assert.Equal([900, 50, 50], SplitNames.All.Select(o.Count));
        var warning = Assert.Single(o.Context.Report.Warnings);
        Assert.Equal(
            "Group split by 'g': the fractions 80/10/10 cannot be met by rows while groups are kept whole: the largest group, 's0', holds 900 rows of 1,000 (90 %). "
            + "Achieved train 90 % (900 rows in 1 group; target 80 %), validation 5 % (50 rows in 1 group; target 10 %), test 5 % (50 rows in 1 group; target 10 %). "
            + "No group is in two splits; use more groups, other fractions, or a finer group key to get closer.", warning);
    }

    [Fact]
    public void Fewer_groups_than_splits_warns_and_leaves_a_split_empty()
    {
        var o = Run(Groups(60, 40), s_801010);
        o.GroupSplits();
        var warning = Assert.Single(o.Context.Report.Warnings);
        Assert.Contains("there are only 2 groups for 3 splits", warning);
        // 100/0/0 is closer to 80/10/10 (largest error 20 rows) than 60/40/0 (30 rows).
        Assert.Contains("Empty: validation, test.", warning);
        Assert.Equal(["train"], o.Context.Report.Splits.Keys);
        Assert.Equal(100, SplitNames.All.Sum(o.Count));
    }

    [Fact]
    public void A_single_group_goes_to_train_whole()
    {
        var o = Run(Groups(10), s_801010);
        Assert.All(o.Tags, t => Assert.Equal(SplitTag.Train, t));
        Assert.Contains("there is only 1 group for 3 splits", Assert.Single(o.Context.Report.Warnings));
    }

    [Fact]
    public void Empty_input_gives_no_tags_and_no_report()
    {
        var o = Run([], s_801010);
        Assert.Empty(o.Tags);
        Assert.Empty(o.Context.Report.Splits);
        Assert.Empty(o.Context.Report.Warnings);
    }

    [Fact]
    public void Zero_fraction_splits_get_nothing()
    {
        var rows = Enumerable.Range(0, 500).Select(i => ($"g{i % 50}", "a")).ToList();
        var o = Run(rows, [0.999, 0.001, 0]);
        Assert.Equal(0, o.Count(SplitTag.Test));
        Assert.Equal(500, o.Count(SplitTag.Train) + o.Count(SplitTag.Validation));
        Assert.DoesNotContain("test", o.Context.Report.Splits.Keys);
    }

    [Fact]
    public void Describe_names_column_fractions_seed_and_stratum()
    {
        Assert.Equal("split by group speaker 80/10/10, seed 42", new GroupSplitAssigner("speaker", s_801010, 42).Describe());
        Assert.Equal("split by group speaker 70/15/15 stratified by label, seed 7", new GroupSplitAssigner("speaker", [0.7, 0.15, 0.15], 7, "label").Describe());
    }

    // ---------- facts: errors ----------

    [Fact]
    public void Missing_group_key_is_an_error_naming_file_row_and_column()
    {
        var rows = Enumerable.Range(0, 10).Select(i => ($"g{i}", "a")).ToList();
        var groups = rows.Select(r => (string?)r.Item1).ToArray();
        groups[6] = null;
        var assigner = new GroupSplitAssigner("g", s_801010, 1);
        var input = Input(rows, 4, groups);
        assigner.Bind(input.Schema);
        var context = new RunContext();
        context.Inputs.Add("speakers.csv");
        var e = Assert.Throws<DataFormatException>(() => assigner.Assign(input, context));
        Assert.Equal("speakers.csv", e.File);
        Assert.Equal(7, e.Row);
        Assert.Equal("g", e.Column);
        Assert.Equal(
            "speakers.csv, row 7, column 'g': found no group key; expected a value in every row, since a row without one cannot be kept in its group's split "
            + "(use --missing drop to drop such rows, or --missing fill:TEXT to put them into one group of their own)", e.Message);
    }

    [Fact]
    public void Unknown_group_column_lists_the_columns()
    {
        var e = Assert.Throws<PipelineValidationException>(() => new GroupSplitAssigner("speaker", s_801010, 1).Bind(s_schema));
        Assert.Equal("--group names column 'speaker', which the input does not have (its columns: g, y, x).", e.Message);
    }

    [Fact]
    public void Sparse_or_binary_group_and_stratify_columns_are_refused()
    {
        var schema = new Schema([new Field("img", ColumnKind.Binary), new Field("v", ColumnKind.Sparse, 10), new Field("g", ColumnKind.String)]);
        var e = Assert.Throws<PipelineValidationException>(() => new GroupSplitAssigner("img", s_801010, 1, "v").Bind(schema));
        Assert.Equal(
            [
                "--group column 'img' is Binary; expected a key column (text, integer, boolean or timestamp).",
                "--stratify column 'v' is Sparse; expected a label-like column (text, integer or boolean).",
            ], e.Problems);
    }

    [Fact]
    public void Unknown_stratify_column_lists_the_columns()
    {
        var e = Assert.Throws<PipelineValidationException>(() => new GroupSplitAssigner("g", s_801010, 1, "label").Bind(s_schema));
        Assert.Equal("--stratify names column 'label', which the input does not have (its columns: g, y, x).", e.Message);
    }

    [Fact]
    public void Fractions_must_be_three_values_summing_to_one()
    {
        var two = Assert.Throws<PipelineValidationException>(() => new GroupSplitAssigner("g", [0.8, 0.2], 1).Bind(s_schema));
        Assert.Equal("A group split needs 3 fractions (train, validation, test); got 2: 0.8, 0.2.", two.Message);
        var sum = Assert.Throws<PipelineValidationException>(() => new GroupSplitAssigner("g", [0.8, 0.1, 0.2], 1).Bind(s_schema));
        Assert.Equal("The split fractions sum to 1.1 (train 0.8, validation 0.1, test 0.2); expected them to sum to 1.", sum.Message);
        var negative = Assert.Throws<PipelineValidationException>(() => new GroupSplitAssigner("g", [1.2, -0.2, 0], 1).Bind(s_schema));
        Assert.Equal("The validation fraction is -0.2; expected a fraction between 0 and 1.", Assert.Single(negative.Problems, p => p.Contains("validation", StringComparison.Ordinal)));
    }

    [Fact]
    public void Integer_group_keys_work()
    {
        var schema = new Schema([new Field("g", ColumnKind.Int64)]);
        var values = Enumerable.Range(0, 1000).Select(i => (long)(i % 37)).ToArray();
        var batch = new RecordBatch(schema, [new Int64Column(values)], values.Length,
            new RowInfo(Enumerable.Range(1, 1000).Select(i => (long)i).ToArray(), new int[1000], Enumerable.Range(1, 1000).Select(i => (long)i).ToArray()));
        var assigner = new GroupSplitAssigner("g", s_801010, 3);
        var input = new SplitInput([batch], schema);
        assigner.Bind(schema);
        var tags = assigner.Assign(input, new RunContext()).Tags;
        Assert.All(Enumerable.Range(0, 37), g => Assert.Single(Enumerable.Range(0, 1000).Where(i => values[i] == g).Select(i => tags[i]).Distinct()));
    }

    [Fact]
    public void Large_input_is_fast_and_within_the_bound()
    {
        // 400,000 rows in 20,000 groups of 1–40 rows, stratified by 3 classes.
        var random = new Random(5);
        var rows = new List<(string, string)>();
        for (int g = 0; g < 20_000; g++)
        {
            string label = (g % 3).ToString(CultureInfo.InvariantCulture);
            int size = random.Next(1, 41);
            for (int k = 0; k < size; k++) rows.Add(($"g{g}", label));
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var o = Run(rows, s_801010, stratify: "y");
        output.WriteLine($"{rows.Count} rows, 20,000 groups: {clock.Elapsed.TotalSeconds:0.00} s");
        var target = RandomSplitter.ExactCounts(rows.Count, s_801010);
        foreach (var s in SplitNames.All) Assert.InRange(o.Count(s), target[(int)s] - 40, target[(int)s] + 40);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }
}
