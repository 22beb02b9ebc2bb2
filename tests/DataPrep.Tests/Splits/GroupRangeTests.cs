using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Splits;

/// <summary>
/// A group split of more than <see cref="GroupSplitAssigner.ExactGroups"/> groups (issue 16): the groups in hash order cut
/// into three ranges by rows (<see cref="GroupRangeWalk"/>). Leakage contract §3.2 (no group in two splits, each split
/// within W − 1 rows of its exact target), and the plan's partitioned walk (any runs of keys, any partition size) deciding
/// and reporting exactly as one process. The tests lower <see cref="GroupSplitAssigner.ExactGroups"/> to reach the rule.
/// </summary>
public class GroupRangeTests
{
    private static readonly Schema s_schema = new([new Field("g", ColumnKind.String)]);

    private static long[] Longs(IEnumerable<int> values) => values.Select(v => (long)v).ToArray();

    private static Gen<long[]> Sizes() => Gen.Frequency(
        (5, from m in Gen.Choose(1, 60) from s in Gen.ArrayOf(Gen.Choose(1, 20), m) select Longs(s)),
        (2, from m in Gen.Choose(1, 150) select Enumerable.Repeat(1L, m).ToArray()),
        (3, from m in Gen.Choose(1, 30) from s in Gen.ArrayOf(Gen.Choose(1, 6), m) select (long[])[.. Longs(s), Math.Max(1, 9L * s.Sum())]),
        (1, from w in Gen.Choose(1, 500) select new long[] { w }),
        (3, from m in Gen.Choose(1, 40) from s in Gen.ArrayOf(Gen.Choose(0, 399), m) select s.Select(x => Math.Max(1L, 400L / (x + 1))).ToArray()));

    private static Gen<double[]> Fractions() => Gen.Frequency(
        (6, Gen.Elements<double[]>([0.8, 0.1, 0.1], [0.8, 0.2, 0], [0.8, 0, 0.2], [0.999, 0.001, 0], [0.34, 0.33, 0.33], [1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0.5, 0.5])),
        (4, from a in Gen.Choose(0, 100) from b in Gen.Choose(0, 100) from c in Gen.Choose(1, 100)
            select new[] { a / (double)(a + b + c), b / (double)(a + b + c), c / (double)(a + b + c) }));

    public sealed record Case(long[] Sizes, double[] Fractions, ulong Seed)
    {
        public long Rows => Sizes.Sum();

        public override string ToString()
            => $"sizes=[{string.Join(",", Sizes)}] f=[{string.Join(",", Fractions.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}] seed={Seed}";
    }

    private static Gen<Case> Cases() =>
        from sizes in Sizes()
        from f in Fractions()
        from seed in Gen.Choose(0, int.MaxValue)
        select new Case(sizes, f, (ulong)seed);

    private static string Key(int g) => $"speaker-{g}";

    private static GroupTable TableOf(Case c)
    {
        var table = new GroupTable(stratified: false);
        for (int g = 0; g < c.Sizes.Length; g++) table.Add(Key(g), null, c.Sizes[g]);
        return table;
    }

    /// <summary>One process's rule with every group count above the limit: the ranges.</summary>
    private static GroupSplitAssigner Ranged(Case c) => new("g", c.Fractions, c.Seed) { ExactGroups = 0 };

    /// <summary>
    /// §3.2 for the ranges: every group in one split, each split within W − 1 rows of its exact target (0 when every group
    /// is one row), nothing in a split of fraction 0, the splits three consecutive ranges of the hash order, and the cuts
    /// alone (what an encode task holds) giving every group its split.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property Ranges_keep_the_row_bound_and_cut_the_hash_order_in_three()
        => Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var table = TableOf(c);
            var decision = Ranged(c).Decide(table);
            var cuts = decision.Cuts!;
            var rows = new long[3];
            for (int g = 0; g < c.Sizes.Length; g++) rows[(int)decision.Splits[g]] += c.Sizes[g];
            var target = RandomSplitter.ExactCounts(c.Rows, c.Fractions);
            long w = c.Sizes.Max();
            bool bound = Enumerable.Range(0, 3).All(s => Math.Abs(rows[s] - target[s]) <= Math.Max(w - 1, 0) && (c.Fractions[s] > 0 || rows[s] == 0));
            var hash = new KeyedHash(c.Seed, "split");
            var order = Enumerable.Range(0, c.Sizes.Length).OrderBy(g => hash.Hash(Key(g))).ThenBy(Key, StringComparer.Ordinal).ToArray();
            bool ranges = order.Zip(order.Skip(1)).All(p => decision.Splits[p.First] <= decision.Splits[p.Second]);
            bool byCuts = Enumerable.Range(0, c.Sizes.Length).All(g => GroupCut.TagOf(cuts, hash.Hash(Key(g)), Key(g)) == decision.Splits[g]);
            return (bound && ranges && byCuts && cuts.Count <= 2)
                .Label($"{c} rows=[{string.Join(",", rows)}] target=[{string.Join(",", target)}] bound={bound} ranges={ranges} byCuts={byCuts}");
        });

    /// <summary>Each group's rows as runs of 1–3 rows of its key, all runs in a shuffled order (a key in several runs).</summary>
    private static (string, long)[] ShuffledRuns(long[] sizes, int shuffle)
    {
        var random = new Random(shuffle);
        var runs = new List<(string, long)>();
        for (int g = 0; g < sizes.Length; g++)
        {
            for (long left = sizes[g]; left > 0;)
            {
                long n = Math.Min(left, random.Next(1, 4));
                runs.Add((Key(g), n));
                left -= n;
            }
        }
        var shuffled = runs.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>
    /// The plan's walk (<see cref="GroupRangeWalk.Plan"/>): the rows as runs of one key in any order (a key in several runs),
    /// spilled to files by hash bits and split again whenever a file holds more than 1–6 groups, gives every group the split
    /// one process gives it, the same cuts, and the same report (groups and targets per split, warnings).
    /// </summary>
    [Property(MaxTest = 200)]
    public Property The_partitioned_walk_decides_and_reports_as_one_process()
        => Prop.ForAll(
            (from c in Cases() from partitionGroups in Gen.Choose(1, 6) from shuffle in Gen.Choose(0, int.MaxValue) select (c, partitionGroups, shuffle)).ToArbitrary(),
            x =>
            {
                var (c, partitionGroups, shuffle) = x;
                var assigner = Ranged(c);
                var table = TableOf(c);
                var one = assigner.Decide(table);
                var oneContext = new RunContext();
                assigner.Report(oneContext, one);

                var shuffled = ShuffledRuns(c.Sizes, shuffle);
                using var folder = new SpillFolder(Path.GetTempPath());
                var walk = GroupRangeWalk.Plan(shuffled, c.Rows, c.Fractions, c.Seed, folder, partitionGroups);
                var context = new RunContext();
                assigner.Report(context, walk);
                var cuts = walk.Cuts();

                var hash = new KeyedHash(c.Seed, "split");
                bool sameSplits = Enumerable.Range(0, c.Sizes.Length).All(g => GroupCut.TagOf(cuts, hash.Hash(Key(g)), Key(g)) == one.Splits[g]);
                bool sameCuts = cuts.Select(k => (k.Split, k.Hash, k.Key)).SequenceEqual(one.Cuts!.Select(k => (k.Split, k.Hash, k.Key)));
                bool sameReport = context.Report.Warnings.SequenceEqual(oneContext.Report.Warnings)
                    && context.Report.Splits.Keys.SequenceEqual(oneContext.Report.Splits.Keys)
                    && context.Report.Splits.All(kv => oneContext.Report.Splits[kv.Key] is var o && o.Groups == kv.Value.Groups && o.TargetFraction == kv.Value.TargetFraction);
                bool allWalked = walk.Walked == c.Rows && walk.Count == c.Sizes.Length;
                return (sameSplits && sameCuts && sameReport && allWalked)
                    .Label($"{c} partitionGroups={partitionGroups} splits={sameSplits} cuts={sameCuts} report={sameReport} walked={allWalked}");
            });

    /// <summary>The rule changes exactly above the limit: at the limit the exact planner decides (no cuts), one group more gives ranges.</summary>
    [Fact]
    public void The_exact_planner_decides_up_to_the_limit_and_ranges_beyond()
    {
        var c = new Case([5, 1, 1, 1, 1, 1, 1, 1, 1, 1], [0.8, 0.1, 0.1], 3);
        var table = TableOf(c);
        Assert.Null(new GroupSplitAssigner("g", c.Fractions, c.Seed) { ExactGroups = 10 }.Decide(table).Cuts);
        Assert.NotNull(new GroupSplitAssigner("g", c.Fractions, c.Seed) { ExactGroups = 9 }.Decide(table).Cuts);
        Assert.Equal(1 << 20, GroupSplitAssigner.DefaultExactGroups);
        Assert.Equal(GroupSplitAssigner.DefaultExactGroups, new GroupSplitAssigner("g", c.Fractions, c.Seed).ExactGroups);
        // Stratified splits keep the exact planner at any count (a group's dominant class needs its whole table).
        var stratified = new GroupTable(stratified: true);
        for (int g = 0; g < 10; g++) stratified.Add(Key(g), g % 2 == 0 ? "a" : "b");
        Assert.Null(new GroupSplitAssigner("g", c.Fractions, c.Seed, "y") { ExactGroups = 0 }.Decide(stratified).Cuts);
    }

    /// <summary>A cut orders groups of one hash by key (ordinal); a group before every cut is train.</summary>
    [Fact]
    public void A_cut_orders_by_hash_then_key()
    {
        List<GroupCut> cuts = [new() { Split = 1, Hash = 100, Key = "m" }, new() { Split = 2, Hash = 200, Key = "b" }];
        Assert.Equal(SplitTag.Train, GroupCut.TagOf(cuts, 99, "z"));
        Assert.Equal(SplitTag.Train, GroupCut.TagOf(cuts, 100, "l"));
        Assert.Equal(SplitTag.Validation, GroupCut.TagOf(cuts, 100, "m"));
        Assert.Equal(SplitTag.Validation, GroupCut.TagOf(cuts, 200, "a"));
        Assert.Equal(SplitTag.Test, GroupCut.TagOf(cuts, 200, "b"));
        Assert.Equal(SplitTag.Test, GroupCut.TagOf(cuts, ulong.MaxValue, ""));
        // Validation empty: both cuts at one group.
        List<GroupCut> same = [new() { Split = 1, Hash = 5, Key = "k" }, new() { Split = 2, Hash = 5, Key = "k" }];
        Assert.Equal(SplitTag.Test, GroupCut.TagOf(same, 5, "k"));
        Assert.Equal(SplitTag.Train, GroupCut.TagOf(same, 4, "k"));
    }

    /// <summary>One process tags rows by the ranges through <see cref="GroupSplitAssigner.Assign"/>, whatever the order of its rows.</summary>
    [Fact]
    public void One_process_tags_rows_by_their_groups_range()
    {
        var c = new Case([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], [0.6, 0.2, 0.2], 17);
        var decision = Ranged(c).Decide(TableOf(c));
        var rows = Enumerable.Range(0, c.Sizes.Length).SelectMany(g => Enumerable.Repeat(g, (int)c.Sizes[g])).ToArray();
        new Random(4).Shuffle(rows);
        var ids = rows.Select((_, i) => RowInfo.MakeRowId(0, i + 1)).ToArray();
        var batch = new RecordBatch(s_schema, [new StringColumn(rows.Select(g => (string?)Key(g)).ToArray())], rows.Length,
            new RowInfo(ids, new int[rows.Length], rows.Select((_, i) => (long)i + 1).ToArray()));
        var assigner = Ranged(c);
        assigner.Bind(s_schema);
        var tags = assigner.Assign(new SplitInput([batch], s_schema), new RunContext()).Tags;
        Assert.Equal(rows.Select(g => decision.Splits[g]), tags);
    }

    private static Gen<(long[] Sizes, int K, ulong Seed)> FoldCases() =>
        from sizes in Sizes()
        from k in Gen.Choose(2, 10)
        from seed in Gen.Choose(0, int.MaxValue)
        select (sizes, k, (ulong)seed);

    /// <summary>
    /// Group folds of many groups (<see cref="KFoldAssigner.GroupFoldRanges"/>): every group in one fold, each fold within
    /// W − 1 rows of its exact count (K equal fractions), the folds K consecutive ranges of the fold-hash order, and the cuts
    /// alone giving every group its fold (<see cref="GroupCut.PartOf"/>), as an encode task finds it.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property Fold_ranges_keep_the_row_bound_and_cut_the_fold_hash_order_in_K()
        => Prop.ForAll(FoldCases().ToArbitrary(), x =>
        {
            var (sizes, k, seed) = x;
            var c = new Case(sizes, [1, 0, 0], seed);
            var (folds, walk) = KFoldAssigner.GroupFoldRanges(TableOf(c), k, seed);
            var cuts = walk.Cuts();
            var rows = new long[k];
            for (int g = 0; g < sizes.Length; g++) rows[folds[g]] += sizes[g];
            var target = RandomSplitter.ExactCounts(c.Rows, KFoldAssigner.FoldFractions(k));
            long w = sizes.Max();
            bool bound = Enumerable.Range(0, k).All(f => Math.Abs(rows[f] - target[f]) <= Math.Max(w - 1, 0)) && rows.SequenceEqual(walk.Rows);
            var hash = new KeyedHash(seed, "fold");
            var order = Enumerable.Range(0, sizes.Length).OrderBy(g => hash.Hash(Key(g))).ThenBy(Key, StringComparer.Ordinal).ToArray();
            bool ranges = order.Zip(order.Skip(1)).All(p => folds[p.First] <= folds[p.Second]);
            bool byCuts = Enumerable.Range(0, sizes.Length).All(g => GroupCut.PartOf(cuts, hash.Hash(Key(g)), Key(g)) == folds[g]);
            return (bound && ranges && byCuts && cuts.Count <= k - 1)
                .Label($"{c} k={k} rows=[{string.Join(",", rows)}] target=[{string.Join(",", target)}] bound={bound} ranges={ranges} byCuts={byCuts}");
        });

    /// <summary>
    /// The plan's walk of group folds (<see cref="GroupRangeWalk.Plan"/> by the fold hash, K parts): any runs of keys in any
    /// order, files split again past 1–6 groups, gives every group the fold one process gives it and the same cuts.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property The_partitioned_fold_walk_gives_one_process_folds()
        => Prop.ForAll(
            (from x in FoldCases() from partitionGroups in Gen.Choose(1, 6) from shuffle in Gen.Choose(0, int.MaxValue) select (x, partitionGroups, shuffle)).ToArbitrary(),
            y =>
            {
                var ((sizes, k, seed), partitionGroups, shuffle) = y;
                var c = new Case(sizes, [1, 0, 0], seed);
                var (folds, one) = KFoldAssigner.GroupFoldRanges(TableOf(c), k, seed);
                var shuffled = ShuffledRuns(sizes, shuffle);
                using var folder = new SpillFolder(Path.GetTempPath());
                var walk = GroupRangeWalk.Plan(shuffled, c.Rows, KFoldAssigner.FoldFractions(k), seed, folder, partitionGroups, "fold");
                var cuts = walk.Cuts();
                var hash = new KeyedHash(seed, "fold");
                bool sameFolds = Enumerable.Range(0, sizes.Length).All(g => GroupCut.PartOf(cuts, hash.Hash(Key(g)), Key(g)) == folds[g]);
                bool sameCuts = cuts.Select(q => (q.Split, q.Hash, q.Key)).SequenceEqual(one.Cuts().Select(q => (q.Split, q.Hash, q.Key)));
                return (sameFolds && sameCuts && walk.Rows.SequenceEqual(one.Rows))
                    .Label($"{c} k={k} partitionGroups={partitionGroups} folds={sameFolds} cuts={sameCuts}");
            });

    private static (RecordBatch Batch, int[] Rows) BatchOf(Case c, int shuffle, int missing = 0)
    {
        var rows = Enumerable.Range(0, c.Sizes.Length).SelectMany(g => Enumerable.Repeat(g, (int)c.Sizes[g])).Concat(Enumerable.Repeat(-1, missing)).ToArray();
        new Random(shuffle).Shuffle(rows);
        var ids = rows.Select((_, i) => RowInfo.MakeRowId(0, i + 1)).ToArray();
        var batch = new RecordBatch(s_schema, [new StringColumn(rows.Select(g => g < 0 ? null : (string?)Key(g)).ToArray())], rows.Length,
            new RowInfo(ids, new int[rows.Length], rows.Select((_, i) => (long)i + 1).ToArray()));
        return (batch, rows);
    }

    /// <summary>
    /// One process's group folds switch to fold ranges exactly past the limit (<see cref="KFoldAssigner.UsesFoldRanges"/>):
    /// without a test split when the input's groups (rows without a key count as one) exceed the k-fold's limit; after an
    /// unstratified group test split when they exceed that split's limit, which then cuts by ranges too, the pool's groups
    /// (the train groups, whole) cut into folds by the fold hash; after a stratified group test split, never. Every row's
    /// fold is its group's fold under <see cref="KFoldAssigner.GroupFoldRanges"/> over the pool, and the encode task's
    /// assigner (<see cref="DataPrep.Scale.GroupRangeAssigner"/>), holding only the cuts, tags and folds every row alike.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void One_process_cuts_group_folds_by_fold_ranges_past_the_limit(bool test, bool stratified)
    {
        var c = new Case([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4], [0.8, 0, 0.2], 29);
        int missing = test ? 0 : 3;
        var (batch, rows) = BatchOf(c, 5, missing);
        int inputGroups = c.Sizes.Length + (missing > 0 ? 1 : 0);
        var schema = stratified ? new Schema([new Field("g", ColumnKind.String), new Field("y", ColumnKind.String)]) : s_schema;
        if (stratified) batch = new RecordBatch(schema, [batch.Columns[0], new StringColumn(rows.Select(g => (string?)(g % 2 == 0 ? "a" : "b")).ToArray())], batch.RowCount, batch.Rows);
        var input = new SplitInput([batch], schema);
        KFoldAssigner Make(int limit)
        {
            var carver = test ? new GroupSplitAssigner("g", c.Fractions, c.Seed, stratified ? "y" : null) { ExactGroups = limit } : null;
            var kfold = new KFoldAssigner(4, FoldMethod.Group, c.Seed, carver, "g") { ExactGroups = test ? int.MaxValue : limit };
            kfold.Bind(schema);
            return kfold;
        }
        var exact = Make(inputGroups).Assign(input, new RunContext());
        var ranged = Make(inputGroups - 1).Assign(input, new RunContext());
        Assert.Equal(!stratified, Make(inputGroups - 1).UsesFoldRanges(inputGroups));
        Assert.False(Make(inputGroups).UsesFoldRanges(inputGroups));
        // A spilled run's rule (a table of every group, each row's unit number beside its id; the test split and the folds
        // decided per unit) tags and folds every row as Assign does, on both sides of the limit.
        foreach (var (limit, expected) in new[] { (inputGroups, exact), (inputGroups - 1, ranged) })
        {
            var units = (IRowGroupAssigner)Make(limit);
            Assert.True(units.TagsFromGroups);
            var table = units.NewTable();
            var numbers = new int[batch.RowCount];
            Assert.Equal(-1, units.Count(batch, table, numbers));
            var decided = units.TagUnits(table, new RunContext());
            Assert.Equal(expected.Tags, numbers.Select(u => decided.Tags[u]));
            Assert.Equal(expected.Folds!, numbers.Select(u => decided.Folds![u]));
        }
        if (stratified)
        {
            Assert.Equal(exact.Folds, ranged.Folds);
            return;
        }
        // The pool: the train rows; each pool group's fold under the fold ranges over the pool's (key, rows).
        var pool = new GroupTable(stratified: false);
        var groupOf = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++) groupOf[i] = ranged.Tags[i] == SplitTag.Train ? pool.Add(RandomSplitAssigner.KeyOf(batch.Columns[0], i), null) : -1;
        var (folds, walk) = KFoldAssigner.GroupFoldRanges(pool, 4, c.Seed);
        Assert.Equal(Enumerable.Range(0, rows.Length).Select(i => groupOf[i] < 0 ? (short)-1 : folds[groupOf[i]]), ranged.Folds!);
        Assert.NotEqual(exact.Folds, ranged.Folds);
        // The encode task's assigner: the test split's cuts (when there is one) and the folds' cuts only.
        var splitCuts = test ? new GroupSplitAssigner("g", c.Fractions, c.Seed) { ExactGroups = 0 }.Decide(TableOf(c)).Cuts! : [];
        var encode = new DataPrep.Scale.GroupRangeAssigner("g", splitCuts, c.Seed, "task 0", walk.Cuts(), missingIsGroup: !test);
        encode.Bind(schema);
        var tagged = encode.Assign(input, new RunContext());
        Assert.Equal(ranged.Tags, tagged.Tags);
        Assert.Equal(ranged.Folds, tagged.Folds);
    }

    /// <summary>
    /// A spilled one-process run tags rows by their keys' hashes alone (<see cref="GroupCut.PartOfHash"/>), which is exact
    /// only when no cut's group shares its 64-bit hash with the group before or after it: the walk notes that case and
    /// <see cref="GroupRangeWalk.HashCuts"/> refuses it; shared hashes away from a cut are fine.
    /// </summary>
    [Theory]
    // Four one-row groups cut 50/50: the cut starts at the third group.
    [InlineData(new ulong[] { 1, 2, 2, 3 }, true)]
    [InlineData(new ulong[] { 1, 2, 3, 3 }, true)]
    [InlineData(new ulong[] { 1, 1, 2, 3 }, false)]
    [InlineData(new ulong[] { 1, 2, 3, 4 }, false)]
    public void A_cut_group_sharing_its_hash_with_a_neighbour_is_refused_by_hash_cuts(ulong[] hashes, bool shared)
    {
        var walk = new GroupRangeWalk(4, [0.5, 0.5]);
        for (int g = 0; g < hashes.Length; g++) walk.Add(hashes[g], [(byte)('a' + g)], 1);
        Assert.Equal(shared, walk.SharedCutHash);
        if (shared)
        {
            Assert.Contains("share one 64-bit hash", Assert.Throws<InvalidOperationException>(() => walk.HashCuts()).Message, StringComparison.Ordinal);
            return;
        }
        var cut = Assert.Single(walk.HashCuts());
        Assert.Equal(("c", hashes[2]), (cut.Key, cut.Hash));
        // By hash alone, every group gets the part its key gives it.
        for (int g = 0; g < hashes.Length; g++) Assert.Equal(GroupCut.PartOf([cut], hashes[g], ((char)('a' + g)).ToString()), GroupCut.PartOfHash([cut], hashes[g]));
    }
}
