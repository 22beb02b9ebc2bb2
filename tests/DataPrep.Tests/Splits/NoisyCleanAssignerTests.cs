using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Scale;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Splits;

public class NoisyCleanAssignerTests
{
    private static readonly Schema s_schema = new([new Field("noisy", ColumnKind.Boolean), new Field("speaker", ColumnKind.String)]);

    private static (SplitInput Input, bool[] Noisy, string[] Speakers) Data(byte[] rows)
    {
        var noisy = rows.Select(b => (b & 1) == 1).ToArray();
        var speakers = rows.Select(b => $"s{b >> 3}").ToArray();
        var ids = Enumerable.Range(1, rows.Length).Select(i => (long)i).ToArray();
        var batch = new RecordBatch(s_schema, [new BooleanColumn(noisy), new StringColumn(speakers.Select(s => (string?)s).ToArray())], rows.Length,
            new RowInfo(ids, new int[rows.Length], ids.ToArray()));
        return (new SplitInput([batch], s_schema), noisy, speakers);
    }

    private static SplitTag[] Assign(NoisyApproach approach, SplitInput input, string? group, RunContext context, double[]? fractions = null)
    {
        var a = new NoisyCleanAssigner(approach, fractions ?? (approach == NoisyApproach.TrainOnClean ? [0.8, 0.1, 0.1] : [0.9, 0.1, 0]), 0.5, 42, "noisy", null, group);
        a.Bind(s_schema);
        return a.Assign(input, context).Tags;
    }

    /// <summary>
    /// Issue 16: by group, the decision is a function of the group table (clean and noisy rows per group), so a table built
    /// from any partition of the rows into tasks, counted in any order and merged in any order, gives every row the split
    /// <see cref="NoisyCleanAssigner.Assign"/> gives it (by its group and its side), with the same drops and targets.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property A_group_table_from_any_partition_decides_as_one_process(byte[] rows, bool approach2, int partition, byte tasks)
    {
        var (input, noisy, speakers) = Data(rows);
        var approach = approach2 ? NoisyApproach.MixedValidation : NoisyApproach.TrainOnClean;
        var one = new RunContext();
        var tags = Assign(approach, input, "speaker", one);
        var assigner = new NoisyCleanAssigner(approach, approach == NoisyApproach.TrainOnClean ? [0.8, 0.1, 0.1] : [0.9, 0.1, 0], 0.5, 42, "noisy", null, "speaker");
        var random = new Random(partition);
        int n = 1 + tasks % 4;
        var parts = Enumerable.Range(0, n).Select(_ => new GroupTable(stratified: true)).ToArray();
        foreach (int i in Enumerable.Range(0, rows.Length).OrderBy(_ => random.Next()))
        {
            parts[random.Next(n)].Add(speakers[i], noisy[i] ? NoisyCleanAssigner.NoisyKey : NoisyCleanAssigner.CleanKey);
        }
        var table = new GroupTable(stratified: true);
        foreach (var part in parts.OrderBy(_ => random.Next())) table.Merge(part);
        var decision = assigner.Decide(table);
        var context = new RunContext();
        assigner.Report(context, decision);
        var group = Enumerable.Range(0, table.Count).ToDictionary(g => table.Keys[g], g => g, StringComparer.Ordinal);
        bool same = Enumerable.Range(0, rows.Length).All(i => (noisy[i] ? decision.NoisyTags : decision.CleanTags)[group[speakers[i]]] == tags[i]);
        bool dropped = context.Report.Dropped.SequenceEqual(one.Report.Dropped);
        bool targets = context.Report.Splits.Keys.SequenceEqual(one.Report.Splits.Keys)
            && context.Report.Splits.All(kv => one.Report.Splits[kv.Key].TargetFraction == kv.Value.TargetFraction);
        return (same && dropped && targets).Label($"same={same} dropped={dropped} targets={targets}");
    }

    /// <summary>
    /// Without groups (plan <c>NoisyCuts</c>): rows (real row ids of a few inputs, any share noisy) partitioned into 1–5 scan
    /// tasks at random; each task counts its clean and noisy rows and histograms their split hashes, the sums give each
    /// side's cuts (<see cref="RandomSplitCuts.FindPerClass"/>, over passes that stream the tasks in any order, chunk by chunk,
    /// with a small bound on held rows so bins are narrowed), and each task tags its own rows by side and cuts
    /// (<see cref="NoisyCutAssigner"/>): every row gets the tag <see cref="NoisyCleanAssigner.Assign"/> gives it over all
    /// rows, and the targets are one process's.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property Cuts_per_side_from_any_partition_tag_every_row_as_one_process(NonNegativeInt size, bool approach2, PositiveInt a, NonNegativeInt b,
        NonNegativeInt validation, NonNegativeInt share, ulong seed, byte tasks, PositiveInt held, int partition)
    {
        var random = new Random(partition);
        int count = size.Get % 2500;
        var ids = Enumerable.Range(0, count).Select(i => RowInfo.MakeRowId(random.Next(3), i * 2L + random.Next(2))).Distinct().ToArray();
        int n = ids.Length;
        int noisyShare = share.Get % 101;
        var flags = ids.Select(_ => random.Next(100) < noisyShare).ToArray();
        var speakers = ids.Select(_ => (string?)"s").ToArray();
        var all = new RecordBatch(s_schema, [new BooleanColumn(flags), new StringColumn(speakers)], n, new RowInfo(ids, new int[n], ids.ToArray()));
        var approach = approach2 ? NoisyApproach.MixedValidation : NoisyApproach.TrainOnClean;
        double[] fractions = approach2 ? [a.Get / (double)(a.Get + b.Get), b.Get / (double)(a.Get + b.Get), 0] : [0.8, 0.1, 0.1];
        double noisyValidation = validation.Get % 101 / 100.0;
        var assigner = new NoisyCleanAssigner(approach, fractions, noisyValidation, seed, "noisy", null);
        assigner.Bind(s_schema);
        var one = new RunContext();
        var expected = assigner.Assign(new SplitInput([all], s_schema), one).Tags;

        // Scan: the tasks' shares, each task's rows per side and histograms of their split hashes.
        int k = 1 + tasks % 5;
        var taskOf = ids.Select(_ => random.Next(k)).ToArray();
        var members = Enumerable.Range(0, k).Select(t => Enumerable.Range(0, n).Where(i => taskOf[i] == t).ToArray()).ToArray();
        var batches = members.Select(m => all.Take(m)).ToArray();
        var hash = new KeyedHash(seed, "split");
        var sideRows = new long[2];
        var histograms = new[] { new long[RandomSplitCuts.Bins], new long[RandomSplitCuts.Bins] };
        var sides = new bool[k][];
        for (int t = 0; t < k; t++)
        {
            sides[t] = assigner.NoisyRowsOrMissing(new SplitInput([batches[t]], s_schema), new RunContext(), new bool[batches[t].RowCount]);
            for (int r = 0; r < batches[t].RowCount; r++)
            {
                int side = sides[t][r] ? 1 : 0;
                sideRows[side]++;
                histograms[side][RandomSplitCuts.BinOf(hash.Hash(batches[t].Rows.RowIds[r]))]++;
            }
        }

        // Plan: passes over the tasks' rows in a random task order, in chunks of random sizes.
        var taskOrder = Enumerable.Range(0, k).OrderBy(_ => random.Next()).ToArray();
        int chunk = random.Next(1, 60);
        IEnumerable<HashedRows> Pass()
        {
            foreach (int t in taskOrder)
            {
                for (int at = 0; at < batches[t].RowCount; at += chunk)
                {
                    int m = Math.Min(chunk, batches[t].RowCount - at);
                    var h = new ulong[m + 2];
                    var i = new long[m + 2];
                    var c = new int[m + 2];
                    for (int r = 0; r < m; r++)
                    {
                        i[r] = batches[t].Rows.RowIds[at + r];
                        h[r] = hash.Hash(i[r]);
                        c[r] = sides[t][at + r] ? 1 : 0;
                    }
                    yield return new HashedRows(h, i, m, c);
                }
            }
        }
        int bound = held.Get % 30 + 1;
        var cuts = RandomSplitCuts.FindPerClass(sideRows, [assigner.SideFractions(false), assigner.SideFractions(true)], Pass, bound, 1 << 20, histograms);
        var plan = new RunContext();
        assigner.ReportRows(plan, sideRows[0], sideRows[1]);

        // Encode: each task tags its own rows.
        var byCuts = new Dictionary<string, List<SplitCut>> { [NoisyCleanAssigner.CleanKey] = cuts[0], [NoisyCleanAssigner.NoisyKey] = cuts[1] };
        var got = new SplitTag[n];
        for (int t = 0; t < k; t++)
        {
            var encoder = new NoisyCutAssigner(byCuts, assigner, seed, $"task {t}");
            encoder.Bind(s_schema);
            var tags = encoder.Assign(new SplitInput([batches[t]], s_schema), new RunContext()).Tags;
            for (int r = 0; r < tags.Length; r++) got[members[t][r]] = tags[r];
        }
        bool same = expected.SequenceEqual(got);
        bool targets = plan.Report.Splits.Keys.SequenceEqual(one.Report.Splits.Keys)
            && plan.Report.Splits.All(kv => one.Report.Splits[kv.Key].TargetFraction == kv.Value.TargetFraction);
        return (same && targets).Label($"n={n} tasks={k} approach2={approach2} f=[{string.Join(",", fractions)}] v={noisyValidation} held={bound} same={same} targets={targets}");
    }

    /// <summary>
    /// Without groups each side is cut into contiguous blocks of its (split hash, row id) order at exact counts, as a random
    /// split cuts each class of a stratified one: the noisy rows' tags are <see cref="RandomSplitter.AssignByHash"/>'s over
    /// the noisy rows alone, the clean rows' (approach 2) over the clean rows alone.
    /// </summary>
    [Fact]
    public void Without_groups_each_side_is_cut_in_contiguous_blocks_of_its_hash_order()
    {
        var rows = Enumerable.Range(0, 997).Select(i => (byte)(i % 3 == 0 ? 1 : 0)).ToArray();
        var (input, noisy, _) = Data(rows);
        var tags = Assign(NoisyApproach.MixedValidation, input, null, new RunContext(), [0.7, 0.3, 0]);
        var hash = new KeyedHash(42, "split");
        foreach (bool side in new[] { false, true })
        {
            var rowsOfSide = Enumerable.Range(0, rows.Length).Where(i => noisy[i] == side).ToArray();
            var ids = rowsOfSide.Select(i => input.RowIds[i]).ToArray();
            var expected = RandomSplitter.AssignByHash(ids, ids.Select(hash.Hash).ToArray(), side ? [0, 0.5, 0.5] : [0.7, 0.3, 0]);
            Assert.Equal(expected, rowsOfSide.Select(i => tags[i]).ToArray());
            // Contiguous: along the side's hash order the splits never go back.
            var along = rowsOfSide.OrderBy(i => hash.Hash(input.RowIds[i])).Select(i => (int)tags[i]).ToArray();
            Assert.True(along.Zip(along.Skip(1)).All(p => p.First <= p.Second), string.Join(",", along));
        }
    }

    /// <summary>DESIGN §3.4: train holds only clean rows, test only noisy rows; every row is placed or counted as dropped.</summary>
    [Property(MaxTest = 300)]
    public Property Train_is_clean_and_test_is_noisy(byte[] rows, bool approach2, bool byGroup)
    {
        var (input, noisy, speakers) = Data(rows);
        var context = new RunContext();
        var approach = approach2 ? NoisyApproach.MixedValidation : NoisyApproach.TrainOnClean;
        var tags = Assign(approach, input, byGroup ? "speaker" : null, context);
        bool trainClean = tags.Select((t, i) => t != SplitTag.Train || !noisy[i]).All(x => x);
        bool testNoisy = tags.Select((t, i) => t != SplitTag.Test || noisy[i]).All(x => x);
        long dropped = tags.LongCount(t => t == SplitTag.None);
        bool counted = dropped == context.Report.Dropped.Values.Sum();
        bool groupsWhole = !byGroup || speakers.Select((s, i) => (s, t: tags[i])).Where(x => x.t != SplitTag.None)
            .GroupBy(x => x.s).All(g => g.Select(x => x.t).Distinct().Count() == 1);
        bool approach1Validation = approach2 || tags.Select((t, i) => t != SplitTag.Validation || noisy[i]).All(x => x);
        return (trainClean && testNoisy && counted && groupsWhole && approach1Validation && (byGroup || dropped == 0)).ToProperty();
    }

    [Fact]
    public void Without_groups_counts_are_exact()
    {
        var rows = Enumerable.Range(0, 200).Select(i => (byte)(i % 4 == 0 ? 1 : 0)).ToArray(); // 50 noisy, 150 clean
        var (input, _, _) = Data(rows);
        var tags = Assign(NoisyApproach.MixedValidation, input, null, new RunContext(), [0.8, 0.2, 0]);
        Assert.Equal(120, tags.Count(t => t == SplitTag.Train));
        Assert.Equal(30 + 25, tags.Count(t => t == SplitTag.Validation));
        Assert.Equal(25, tags.Count(t => t == SplitTag.Test));
    }

    [Fact]
    public void Separate_noisy_inputs_through_the_cli()
    {
        using var tmp = new TempDir();
        var clean = tmp.File("clean.csv", "y,speaker,x\n" + string.Join("\n", Enumerable.Range(0, 40).Select(i => $"{i % 2},s{i % 10},{i}")) + "\n");
        var noisy = tmp.File("noisy.csv", "y,speaker,x\n" + string.Join("\n", Enumerable.Range(0, 40).Select(i => $"{i % 2},s{10 + i % 10},{i}")) + "\n");
        var outDir = tmp.Combine("o");
        var r = CliRunner.Run("convert", clean, "--noisy", noisy, "--out", outDir, "--label", "y", "--split", "noisy", "--group", "speaker", "--encode", "speaker=ordinal", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        string[] Sources(string split) => File.ReadAllLines(Path.Combine(outDir, "_dataprep", "lineage", split + ".csv")).Skip(1).Select(l => l.Split(',')[1]).Distinct().ToArray();
        Assert.Equal(["0"], Sources("train"));      // source 0 = clean.csv
        Assert.Equal(["1"], Sources("test"));       // source 1 = noisy.csv
        var lineage = File.ReadAllLines(Path.Combine(outDir, "_dataprep", "lineage", "train.csv"));
        Assert.EndsWith(",group", lineage[0]);
    }

    [Fact]
    public void Missing_noisy_marker_is_a_clear_error()
    {
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", Path.Combine(Path.GetTempPath(), "never"), "--label", "churn", "--split", "noisy");
        Assert.Equal(2, r.Code);
        Assert.Contains("--split noisy needs the noisy rows", r.Err);
    }
}
