using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Splits;

public class KFoldAssignerTests
{
    private static readonly Schema s_schema = new([new Field("cls", ColumnKind.Int64), new Field("grp", ColumnKind.String), new Field("t", ColumnKind.Timestamp)]);

    private static SplitInput Input(byte[] rows)
    {
        int n = rows.Length;
        var ids = Enumerable.Range(1, n).Select(i => (long)i * 31).ToArray();
        var batch = new RecordBatch(s_schema,
        [
            new Int64Column(rows.Select(b => (long)(b % 3)).ToArray()),
            new StringColumn(rows.Select(b => (string?)$"g{b % 11}").ToArray()),
            new TimestampColumn(rows.Select(b => 638_000_000_000_000_000L + b * TimeSpan.TicksPerDay).ToArray(), null, n),
        ], n, new RowInfo(ids, new int[n], ids.ToArray()));
        return new SplitInput([batch], s_schema);
    }

    /// <summary>Leakage contract 1 for k-fold: every row in exactly one fold or in the held-out test split.</summary>
    [Property(MaxTest = 200)]
    public Property Every_row_in_exactly_one_fold_or_test(byte[] rows, byte kSeed, byte methodSeed, bool withTest)
    {
        int k = kSeed % 6 + 2;
        var method = (FoldMethod)(methodSeed % 4);
        var carver = withTest ? new RandomSplitAssigner([0.8, 0, 0.2], 1, null) : null;
        var assigner = new KFoldAssigner(k, method, 5, carver, method switch { FoldMethod.Stratified => "cls", FoldMethod.Group => "grp", FoldMethod.Time => "t", _ => null });
        assigner.Bind(s_schema);
        var a = assigner.Assign(Input(rows), new RunContext());
        bool ok = true;
        for (int i = 0; i < rows.Length; i++)
        {
            ok &= a.Tags[i] == SplitTag.Test ? a.Folds![i] == -1 : a.Tags[i] == SplitTag.Train && a.Folds![i] >= 0 && a.Folds[i] < k;
        }
        return ok.ToProperty();
    }

    /// <summary>
    /// Random folds are contiguous blocks of the pool's fold-hash order (issue 16), so a plan finds them from cuts
    /// without holding every row: the test split's cuts over split hashes, then the folds' cuts over the fold hashes of
    /// the rows left (both from histograms and passes, with memory bounds down to one row) give every row the test tag
    /// and fold that <see cref="KFoldAssigner"/> gives it over all rows.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property Random_folds_found_from_cuts_are_the_folds_of_the_assigner(NonNegativeInt size, byte kSeed, bool withTest, ulong seed, PositiveInt held, int order)
    {
        int n = size.Get % 2000, k = kSeed % 11 + 2;
        var random = new Random(order);
        var ids = Enumerable.Range(0, n).Select(i => RowInfo.MakeRowId(random.Next(4), i * 5L + random.Next(5))).Distinct().ToArray();
        var carver = withTest ? new RandomSplitAssigner([0.75, 0, 0.25], seed, null) : null;
        var assigner = new KFoldAssigner(k, FoldMethod.Random, seed, carver, null);
        var schema = new Schema([new Field("x", ColumnKind.Int64)]);
        assigner.Bind(schema);
        var batch = new RecordBatch(schema, [new Int64Column(new long[ids.Length])], ids.Length, new RowInfo(ids, new int[ids.Length], ids.ToArray()));
        var expected = assigner.Assign(new SplitInput([batch], schema), new RunContext());

        long bound = held.Get % 30 + 1;
        var splitHash = new DataPrep.Hashing.KeyedHash(seed, "split");
        var foldHash = new DataPrep.Hashing.KeyedHash(seed, "fold");
        var cuts = Cuts(ids, splitHash, withTest ? [0.75, 0, 0.25] : [1.0], bound, random);
        var pool = ids.Where(id => RandomSplitCuts.TagOf(cuts, splitHash.Hash(id), id) == SplitTag.Train).ToArray();
        var foldCuts = Cuts(pool, foldHash, KFoldAssigner.FoldFractions(k), bound, random);
        bool same = true;
        for (int i = 0; i < ids.Length; i++)
        {
            var tag = RandomSplitCuts.TagOf(cuts, splitHash.Hash(ids[i]), ids[i]);
            short fold = tag == SplitTag.Train ? (short)RandomSplitCuts.PartOf(foldCuts, foldHash.Hash(ids[i]), ids[i]) : (short)-1;
            same &= tag == expected.Tags[i] && fold == expected.Folds![i];
        }
        return same.Label($"n={ids.Length} k={k} test={withTest} held={bound}");
    }

    /// <summary>The cuts <see cref="RandomSplitCuts.Find"/> finds over <paramref name="ids"/>' hashes, the rows passed in a random order and chunks.</summary>
    private static List<SplitCut> Cuts(long[] ids, DataPrep.Hashing.KeyedHash hash, double[] fractions, long maxHeld, Random random)
    {
        var hashes = ids.Select(hash.Hash).ToArray();
        var histogram = new long[RandomSplitCuts.Bins];
        foreach (var h in hashes) histogram[RandomSplitCuts.BinOf(h)]++;
        var shuffled = Enumerable.Range(0, ids.Length).OrderBy(_ => random.Next()).ToArray();
        int chunk = random.Next(1, 40);
        IEnumerable<HashedRows> Pass()
        {
            for (int at = 0; at < shuffled.Length; at += chunk)
            {
                int count = Math.Min(chunk, shuffled.Length - at);
                yield return new HashedRows(shuffled.Skip(at).Take(count).Select(j => hashes[j]).ToArray(), shuffled.Skip(at).Take(count).Select(j => ids[j]).ToArray(), count);
            }
        }
        return RandomSplitCuts.Find(ids.Length, fractions, histogram, Pass, maxHeld);
    }

    [Property(MaxTest = 100)]
    public Property Random_folds_have_equal_sizes_and_stratified_folds_equal_class_shares(NonEmptyArray<byte> rows)
    {
        var input = Input(rows.Get);
        var plain = new KFoldAssigner(4, FoldMethod.Random, 9, null, null);
        plain.Bind(s_schema);
        var sizes = plain.Assign(input, new RunContext()).Folds!.GroupBy(f => f).Select(g => g.Count()).ToList();
        var strat = new KFoldAssigner(4, FoldMethod.Stratified, 9, null, "cls");
        strat.Bind(s_schema);
        var folds = strat.Assign(input, new RunContext()).Folds!;
        bool classes = rows.Get.Select((b, i) => (cls: b % 3, fold: folds[i])).GroupBy(x => x.cls)
            .All(g => { var c = g.GroupBy(x => x.fold).Select(x => x.Count()).ToList(); return c.Count == Math.Min(4, g.Count()) && c.Max() - c.Min() <= 1; });
        return (sizes.Max() - sizes.Min() <= 1 && classes).ToProperty();
    }

    /// <summary>
    /// Stratified folds are contiguous blocks of each class's fold-hash order (issue 16): every class is within one row of
    /// equal shares in every fold, the fold sizes are the exact counts of K equal fractions, every row is in exactly one
    /// fold or test, and the folds do not depend on the rows' order or batches.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property Stratified_folds_give_every_class_equal_shares_and_exact_fold_sizes_whatever_the_order(byte[] rows, byte kSeed, byte classSeed, bool withTest, int order)
    {
        int k = kSeed % 7 + 2, classes = classSeed % 9 + 1;
        var random = new Random(order);
        var schema = new Schema([new Field("cls", ColumnKind.Int64)]);
        var ids = Enumerable.Range(0, rows.Length).Select(i => RowInfo.MakeRowId(i % 3, i * 7L + 1)).ToArray();
        var cls = rows.Select(b => (long)(b % classes)).ToArray();
        KFoldAssigner Assigner()
        {
            var a = new KFoldAssigner(k, FoldMethod.Stratified, 17, withTest ? new RandomSplitAssigner([0.7, 0, 0.3], 17, "cls") : null, "cls");
            a.Bind(schema);
            return a;
        }
        SplitInput InputOf(int[] rowsInOrder, int chunk)
        {
            var batches = new List<RecordBatch>();
            for (int at = 0; at == 0 || at < rowsInOrder.Length; at += chunk)
            {
                var part = rowsInOrder.Skip(at).Take(chunk).ToArray();
                var partIds = part.Select(r => ids[r]).ToArray();
                batches.Add(new RecordBatch(schema, [new Int64Column(part.Select(r => cls[r]).ToArray())], part.Length, new RowInfo(partIds, new int[part.Length], partIds.ToArray())));
            }
            return new SplitInput(batches, schema);
        }
        var identity = Enumerable.Range(0, rows.Length).ToArray();
        var a = Assigner().Assign(InputOf(identity, Math.Max(1, rows.Length)), new RunContext());
        var shuffled = identity.OrderBy(_ => random.Next()).ToArray();
        var b = Assigner().Assign(InputOf(shuffled, random.Next(1, 50)), new RunContext());
        bool sameWhateverOrder = true;
        for (int j = 0; j < shuffled.Length; j++)
        {
            int r = shuffled[j];
            sameWhateverOrder &= a.Tags[r] == b.Tags[j] && a.Folds![r] == b.Folds![j];
        }
        bool partition = Enumerable.Range(0, rows.Length).All(i => a.Tags[i] == SplitTag.Test ? a.Folds![i] == -1 : a.Tags[i] == SplitTag.Train && a.Folds![i] >= 0 && a.Folds[i] < k);
        var pool = Enumerable.Range(0, rows.Length).Where(i => a.Tags[i] == SplitTag.Train).ToArray();
        bool shares = pool.GroupBy(i => cls[i]).All(g =>
        {
            var perFold = Enumerable.Range(0, k).Select(f => g.Count(i => a.Folds![i] == f)).ToArray();
            return perFold.All(c => c == g.Count() / k || c == (g.Count() + k - 1) / k);
        });
        var sizes = Enumerable.Range(0, k).Select(f => (long)pool.Count(i => a.Folds![i] == f)).ToArray();
        bool exact = sizes.SequenceEqual(RandomSplitter.ExactCounts(pool.Length, KFoldAssigner.FoldFractions(k)));
        return (sameWhateverOrder && partition && shares && exact).Label($"n={rows.Length} k={k} classes={classes} test={withTest} order={sameWhateverOrder} partition={partition} shares={shares} exact={exact}");
    }

    /// <summary>
    /// The plan's stratified folds (issue 16): the stratified test split's cuts per class, then each class's fold cuts over
    /// the fold hashes of its rows left in train (<see cref="RandomSplitCuts.FindBlocks"/>, passes in random order and
    /// chunks, memory bounds down to one row) give every row the tag and fold <see cref="KFoldAssigner"/> gives it.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property Stratified_folds_found_from_cuts_are_the_folds_of_the_assigner(NonNegativeInt size, byte kSeed, byte classSeed, bool withTest, PositiveInt held, int order)
    {
        int n = size.Get % 1500, k = kSeed % 9 + 2, classes = classSeed % 12 + 1;
        var random = new Random(order);
        var ids = Enumerable.Range(0, n).Select(i => RowInfo.MakeRowId(random.Next(4), i * 5L + random.Next(5))).Distinct().ToArray();
        var cls = ids.Select(_ => (long)random.Next(classes)).ToArray();
        ulong seed = (ulong)order * 2654435761UL;
        var carver = withTest ? new RandomSplitAssigner([0.75, 0, 0.25], seed, "cls") : null;
        var assigner = new KFoldAssigner(k, FoldMethod.Stratified, seed, carver, "cls");
        var schema = new Schema([new Field("cls", ColumnKind.Int64)]);
        assigner.Bind(schema);
        var batch = new RecordBatch(schema, [new Int64Column(cls)], ids.Length, new RowInfo(ids, new int[ids.Length], ids.ToArray()));
        var expected = assigner.Assign(new SplitInput([batch], schema), new RunContext());

        long bound = held.Get % 30 + 1;
        var splitHash = new DataPrep.Hashing.KeyedHash(seed, "split");
        var foldHash = new DataPrep.Hashing.KeyedHash(seed, "fold");
        // Classes in the order of their keys' text (ordinal), as the assigner numbers them.
        var names = cls.Distinct().OrderBy(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal).ToList();
        var strata = cls.Select(c => names.IndexOf(c)).ToArray();
        var classRows = names.Select((_, c) => (long)strata.Count(s => s == c)).ToArray();
        var all = Enumerable.Range(0, ids.Length).ToArray();
        var cuts = withTest ? RandomSplitCuts.FindStratified(classRows, [0.75, 0, 0.25], () => Pass(all, splitHash), bound, random.Next(16, 4000))
            : names.Select(_ => new List<SplitCut>()).ToArray();
        var pool = all.Where(i => RandomSplitCuts.TagOf(cuts[strata[i]], splitHash.Hash(ids[i]), ids[i]) == SplitTag.Train).ToArray();
        var poolRows = names.Select((_, c) => (long)pool.Count(i => strata[i] == c)).ToArray();
        var foldCuts = RandomSplitCuts.FindBlocks(KFoldAssigner.StratifiedFoldCounts(poolRows, k), () => Pass(pool, foldHash), bound, random.Next(16, 4000));
        bool same = true;
        for (int i = 0; i < ids.Length; i++)
        {
            var tag = RandomSplitCuts.TagOf(cuts[strata[i]], splitHash.Hash(ids[i]), ids[i]);
            short fold = tag == SplitTag.Train ? (short)RandomSplitCuts.PartOf(foldCuts[strata[i]], foldHash.Hash(ids[i]), ids[i]) : (short)-1;
            same &= tag == expected.Tags[i] && fold == expected.Folds![i];
        }
        return same.Label($"n={ids.Length} k={k} classes={classes} test={withTest} held={bound}");

        IEnumerable<HashedRows> Pass(int[] rows, DataPrep.Hashing.KeyedHash hash)
        {
            var shuffled = rows.OrderBy(_ => random.Next()).ToArray();
            int chunk = random.Next(1, 40);
            for (int at = 0; at < shuffled.Length; at += chunk)
            {
                var part = shuffled.Skip(at).Take(chunk).ToArray();
                yield return new HashedRows(part.Select(i => hash.Hash(ids[i])).ToArray(), part.Select(i => ids[i]).ToArray(), part.Length, part.Select(i => strata[i]).ToArray());
            }
        }
    }

    /// <summary>
    /// Group folds from a group table (issue 16): the rows cut into 1–5 tasks at random, each task's table counted batch by
    /// batch in a random order, the tables merged in a random order; a group test split (or none) decided from the merged
    /// table, then <see cref="KFoldAssigner.GroupFolds"/> over its train groups give every row the tag and fold
    /// <see cref="KFoldAssigner.Assign"/> gives it over all rows, and the fold of the rule as one process applied it before
    /// the rule moved into <see cref="KFoldAssigner.GroupFolds"/> (groups by rows descending, fold hash, key; each to the
    /// smallest fold). Without a test split a row without a key counts in one group of its own, as one process counts it.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Group_folds_decided_from_a_group_table_of_any_partition_are_the_folds_of_the_assigner()
        => Prop.ForAll(
            (from sizes in Gen.ArrayOf(Gen.Choose(1, 25))
             from k in Gen.Choose(2, 6)
             from seed in Gen.Choose(0, int.MaxValue)
             from tasks in Gen.Choose(1, 5)
             from partition in Gen.Choose(0, int.MaxValue)
             from withTest in Gen.Elements(false, true)
             from missing in Gen.Choose(0, 3)
             select (sizes, k, seed: (ulong)seed, tasks, partition, withTest, missing: withTest ? 0 : missing)).ToArbitrary(),
            x =>
            {
                var (sizes, k, seed, tasks, partition, withTest, missing) = x;
                var random = new Random(partition);
                var keys = sizes.SelectMany((n, g) => Enumerable.Repeat((string?)$"g{g}", n)).Concat(Enumerable.Repeat((string?)null, missing)).ToArray();
                random.Shuffle(keys);
                int n = keys.Length;
                var ids = Enumerable.Range(1, n).Select(i => RowInfo.MakeRowId(0, i)).ToArray();
                var schema = new Schema([new Field("grp", ColumnKind.String)]);
                var batch = new RecordBatch(schema, [new StringColumn(keys)], n, new RowInfo(ids, new int[n], ids.Select(id => id & 0xFFFF_FFFFL).ToArray()));
                GroupSplitAssigner? Carver() => withTest ? new GroupSplitAssigner("grp", [0.75, 0, 0.25], seed, null) : null;
                var assigner = new KFoldAssigner(k, FoldMethod.Group, seed, Carver(), "grp");
                assigner.Bind(schema);
                var context = new RunContext();
                var expected = assigner.Assign(new SplitInput([batch], schema), context);

                // The tables of the tasks, each from its rows in a random order and batches of random sizes.
                var byTask = Enumerable.Range(0, tasks).Select(_ => new List<int>()).ToArray();
                for (int i = 0; i < n; i++) byTask[random.Next(tasks)].Add(i);
                var tables = new List<GroupTable>();
                foreach (var members in byTask)
                {
                    var rows = members.ToArray();
                    random.Shuffle(rows);
                    var table = new GroupTable(stratified: false);
                    for (int at = 0; at < rows.Length;)
                    {
                        int count = Math.Min(random.Next(1, 30), rows.Length - at);
                        var column = new StringColumn(rows.Skip(at).Take(count).Select(i => keys[i]).ToArray());
                        if (table.Add(column, null, count, missingIsGroup: !withTest) != -1) return false.Label("a key was missing");
                        at += count;
                    }
                    tables.Add(table);
                }
                var merged = new GroupTable(stratified: false);
                foreach (var t in tables.OrderBy(_ => random.Next())) merged.Merge(t);
                var splits = Carver() is { } carver ? carver.Decide(merged).Splits : Enumerable.Repeat(SplitTag.Train, merged.Count).ToArray();
                var pool = Enumerable.Range(0, merged.Count).Where(g => splits[g] == SplitTag.Train).ToArray();
                var poolFolds = KFoldAssigner.GroupFolds(merged, pool, k, seed);
                var tagOf = new Dictionary<string, SplitTag>(StringComparer.Ordinal);
                var foldOf = new Dictionary<string, short>(StringComparer.Ordinal);
                for (int g = 0; g < merged.Count; g++) { tagOf[merged.Keys[g]] = splits[g]; foldOf[merged.Keys[g]] = -1; }
                for (int j = 0; j < pool.Length; j++) foldOf[merged.Keys[pool[j]]] = poolFolds[j];

                // The rule as KFoldAssigner applied it inline before GroupFolds: over the pool rows, grouped by key.
                var reference = new short[n];
                Array.Fill(reference, (short)-1);
                var hash = new DataPrep.Hashing.KeyedHash(seed, "fold");
                var poolRows = Enumerable.Range(0, n).Where(i => expected.Tags[i] == SplitTag.Train).ToArray();
                var ordered = poolRows.GroupBy(i => keys[i] ?? "\0missing")
                    .Select(g => (Key: g.Key, Rows: g.ToList(), Hash: hash.Hash(g.Key)))
                    .OrderByDescending(g => g.Rows.Count).ThenBy(g => g.Hash).ThenBy(g => g.Key, StringComparer.Ordinal);
                var foldSizes = new long[k];
                foreach (var g in ordered)
                {
                    int f = Array.IndexOf(foldSizes, foldSizes.Min());
                    foldSizes[f] += g.Rows.Count;
                    foreach (int i in g.Rows) reference[i] = (short)f;
                }

                bool sameTags = true, sameFolds = true, sameReference = true;
                for (int i = 0; i < n; i++)
                {
                    string key = keys[i] ?? "\0missing";
                    sameTags &= tagOf[key] == expected.Tags[i];
                    sameFolds &= foldOf[key] == expected.Folds![i];
                    sameReference &= reference[i] == expected.Folds![i];
                }
                bool allCounted = merged.TotalRows == n;
                return (sameTags && sameFolds && sameReference && allCounted && !context.ForwardChainingFolds)
                    .Label($"groups={sizes.Length} rows={n} k={k} seed={seed} tasks={tasks} test={withTest} missing={missing} tags={sameTags} folds={sameFolds} reference={sameReference} counted={allCounted} forward={context.ForwardChainingFolds}");
            });

    [Property(MaxTest = 100)]
    public Property Group_folds_keep_groups_whole_and_time_folds_are_ordered(NonEmptyArray<byte> rows)
    {
        var input = Input(rows.Get);
        var group = new KFoldAssigner(3, FoldMethod.Group, 9, null, "grp");
        group.Bind(s_schema);
        var gf = group.Assign(input, new RunContext()).Folds!;
        bool whole = rows.Get.Select((b, i) => (g: b % 11, f: gf[i])).GroupBy(x => x.g).All(g => g.Select(x => x.f).Distinct().Count() == 1);
        var time = new KFoldAssigner(3, FoldMethod.Time, 9, null, "t");
        time.Bind(s_schema);
        var context = new RunContext();
        var tf = time.Assign(input, context).Folds!;
        // Fold k's latest time is before fold k+1's earliest (ties stay in the earlier fold).
        var byFold = rows.Get.Select((b, i) => (t: (int)b, f: tf[i])).GroupBy(x => x.f).OrderBy(g => g.Key).ToList();
        bool ordered = byFold.Zip(byFold.Skip(1)).All(p => p.First.Max(x => x.t) < p.Second.Min(x => x.t));
        return (whole && ordered && context.ForwardChainingFolds).ToProperty();
    }

    [Fact]
    public void Cli_writes_each_fold_once_with_manifests_for_training_sets()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("kf");
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label", "churn", "--drop", "customer_id",
            "--categorical", "onehot", "--folds", "5", "--stratify", "churn", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(200, File.ReadAllLines(Path.Combine(outDir, "test", "part-00000.csv")).Length);
        for (int k = 0; k < 5; k++)
        {
            Assert.Equal(360, File.ReadAllLines(Path.Combine(outDir, $"fold-{k}", "part-00000.csv")).Length);
            using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", $"fold-{k}.train.manifest")));
            var entries = manifest.RootElement.EnumerateArray().ToList();
            Assert.StartsWith("file:///", entries[0].GetProperty("prefix").GetString());
            var keys = entries.Skip(1).Select(e => e.GetString()).ToList();
            Assert.Equal(Enumerable.Range(0, 5).Where(j => j != k).Select(j => $"fold-{j}/part-00000.csv"), keys);
        }
        Assert.False(Directory.Exists(Path.Combine(outDir, "train")));
    }
}
