using DataPrep.Data;
using DataPrep.Splits;
using DataPrep.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Testing;

/// <summary>
/// DataPrep.Testing in use: DataPrep's own splitters checked with the generated datasets (every nasty shape)
/// and the leakage assertions, the way a user would check theirs.
/// </summary>
public class SplitterPropertiesTests
{
    private static readonly double[] s_801010 = [0.8, 0.1, 0.1];

    /// <summary>Leakage contract 1 for RandomSplitter: a partition with exact counts, on every dataset shape.</summary>
    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 300)]
    public Property Random_split_is_a_partition_with_exact_counts(GeneratedDataset ds, ulong seed)
    {
        var tags = ds.Assign(new RandomSplitAssigner(s_801010, seed, stratify: null)).Tags;
        var bySplit = ds.SplitBy(tags, r => r.Id);
        var expected = RandomSplitter.ExactCounts(ds.Count, s_801010);
        return Leakage.Check.IsPartition(ds.Ids, bySplit).ToProperty()
            .And(bySplit.Select(s => (long)s.Items.Count()).SequenceEqual(expected).Label($"counts {string.Join("/", bySplit.Select(s => s.Items.Count()))}, expected {string.Join("/", expected)}"))
            .Classify(ds.Count < 3, "fewer rows than splits")
            .Collect(ds.Shape);
    }

    /// <summary>Stratified by label: still a partition, and every class within one row of its share.</summary>
    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 200)]
    public Property Stratified_split_is_a_partition_and_balances_every_label(GeneratedDataset ds, ulong seed)
    {
        var tags = ds.Assign(new RandomSplitAssigner(s_801010, seed, stratify: GeneratedDataset.LabelColumn)).Tags;
        bool balanced = ds.Rows.Select((r, i) => (r.Label, Tag: tags[i])).GroupBy(x => x.Label).All(cls =>
            SplitNames.All.All(s => Math.Abs(cls.Count(x => x.Tag == s) - cls.Count() * s_801010[(int)s]) < 1 + 1e-9));
        return Leakage.Check.IsPartition(ds.Ids, ds.SplitBy(tags, r => r.Id)).ToProperty()
            .And(balanced.Label("a class is more than one row off its share"));
    }

    /// <summary>The determinism rule: a row's split does not depend on how the input is batched.</summary>
    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 200)]
    public Property Random_split_does_not_depend_on_batch_size(GeneratedDataset ds, ulong seed, PositiveInt batchRows)
    {
        var assigner = new RandomSplitAssigner(s_801010, seed, stratify: null);
        var whole = ds.Assign(assigner).Tags;
        var batched = ds.Assign(assigner, batchRows: batchRows.Get % 5 + 1).Tags;
        return whole.SequenceEqual(batched).ToProperty();
    }

    /// <summary>Through the whole split stage (assign, shuffle, gather into small batches): every row comes out exactly once, intact.</summary>
    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 200)]
    public Property Split_stage_output_is_a_partition_of_intact_rows(GeneratedDataset ds, ulong seed, PositiveInt inRows, PositiveInt outRows)
    {
        var output = ds.RunSplitStage(new RandomSplitAssigner(s_801010, seed, stratify: null), seed, shuffle: true,
            inputBatchRows: inRows.Get % 7 + 1, outputBatchRows: outRows.Get % 5 + 1);
        var byId = ds.Rows.ToDictionary(r => r.Id);
        var contentOk = SplitView.FromBatches(output, (b, i) =>
                byId.TryGetValue(b.Rows.RowIds[i], out var r)
                && ((StringColumn)b[GeneratedDataset.GroupColumn]).Values[i] == r.Group
                && ((TimestampColumn)b[GeneratedDataset.TimeColumn]).Values[i] == r.Timestamp.Ticks
                && ((StringColumn)b[GeneratedDataset.LabelColumn]).Values[i] == r.Label)
            .All(s => s.Items.All(ok => ok));
        return Leakage.Check.IsPartition(ds.Ids, SplitView.RowIds(output)).ToProperty()
            .And(contentOk.Label("a row came out with other values than went in"));
    }

    /// <summary>Leakage contract 2 for the stable assigner keyed by group: no group in two splits, even with one dominant group.</summary>
    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 300)]
    public Property Stable_split_by_group_keeps_groups_whole(GeneratedDataset ds, ulong seed)
    {
        var tags = ds.Assign(new StableSplitAssigner(s_801010, seed, GeneratedDataset.GroupColumn)).Tags;
        return Leakage.Check.IsPartition(ds.Ids, ds.SplitBy(tags, r => r.Id)).ToProperty()
            .And(Leakage.Check.NoGroupOverlap(ds.SplitBy(tags, r => r.Group)).ToProperty());
    }

    /// <summary>The same check with the dataset arbitrary given explicitly: only the nasty shapes.</summary>
    [Property(MaxTest = 200)]
    public Property Stable_split_by_group_keeps_groups_whole_on_nasty_shapes()
        => Prop.ForAll(DatasetGen.Nasty().ToArbitrary(), ArbMap.Default.ArbFor<ulong>(), (ds, seed) =>
        {
            var tags = ds.Assign(new StableSplitAssigner(s_801010, seed, GeneratedDataset.GroupColumn)).Tags;
            return Leakage.Check.NoGroupOverlap(ds.SplitBy(tags, r => r.Group)).ToProperty();
        });

    /// <summary>A random row split is not a group split: the assertion catches the speaker leak on a dominant-group dataset.</summary>
    [Fact]
    public void Random_split_leaks_the_dominant_group_and_the_assertion_says_so()
    {
        var ds = Gen.Sample(DatasetGen.Of(DatasetShape.DominantGroup), 50, new Rnd(3, 5), 100).First(d => d.Count >= 50);
        var tags = ds.Assign(new RandomSplitAssigner(s_801010, 42, stratify: null)).Tags;
        Leakage.IsPartition(ds.Ids, ds.SplitBy(tags, r => r.Id));
        var ex = Assert.Throws<LeakageException>(() => Leakage.NoGroupOverlap(ds.SplitBy(tags, r => r.Group)));
        Assert.Contains("'g0': train ", ex.Message);
    }

    /// <summary>A random row split is not a time split either.</summary>
    [Fact]
    public void Random_split_is_not_time_ordered_and_the_assertion_says_so()
    {
        var ds = Gen.Sample(DatasetGen.Of(DatasetShape.Ordinary), 50, new Rnd(11, 13), 100).First(d => d.Count >= 50 && d.Times.Distinct().Count() >= 10);
        var tags = ds.Assign(new RandomSplitAssigner(s_801010, 42, stratify: null)).Tags;
        var ex = Assert.Throws<LeakageException>(() => Leakage.TimeOrdered(ds.SplitBy(tags, r => r.Timestamp)));
        Assert.StartsWith("Time leakage: ", ex.Message);
    }
}
