using DataPrep.Data;
using DataPrep.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Testing;

/// <summary>The leakage assertions pass clean splits and catch planted leaks, naming the offending keys and rows.</summary>
public class LeakageTests
{
    private static readonly long[] s_ids = Enumerable.Range(1, 10).Select(i => (long)i).ToArray();

    private static (string Name, IEnumerable<T> Items)[] Splits<T>(T[] train, T[] validation, T[] test)
        => [("train", train), ("validation", validation), ("test", test)];

    private static DateTime Day(int d) => new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(d);

    // ---- partition ------------------------------------------------------------------------------

    [Fact]
    public void Partition_passes_a_clean_split()
    {
        Leakage.IsPartition(s_ids, Splits([1L, 2, 3, 4, 5, 6, 7, 8], [9L], [10L]));
        Assert.True(Leakage.Check.IsPartition(s_ids, Splits([10L, 2, 3, 4, 5, 6, 7, 1], [9L], [8L])));
    }

    [Fact]
    public void Partition_counts_dropped_rows_as_placed()
    {
        Leakage.IsPartition(s_ids, Splits([1L, 2, 3, 4, 5, 6, 7], [9L], [10L]), dropped: [8L]);
        Assert.False(Leakage.Check.IsPartition(s_ids, Splits([1L, 2, 3, 4, 5, 6, 7, 8], [9L], [10L]), dropped: [8L]));
    }

    [Fact]
    public void Partition_reports_a_lost_row_exactly()
    {
        var ex = Assert.Throws<LeakageException>(() => Leakage.IsPartition(s_ids, Splits([1L, 2, 3, 4, 5, 6, 7], [9L], [10L])));
        Assert.Equal(Leakage.PartitionCheck, ex.Check);
        Assert.Equal(
            "Not a partition of the 10 input ids: 1 lost, 0 duplicated, 0 unknown.\n"
            + "  lost (in no split): 8 (input[7])\n"
            + "  sizes: train 7, validation 1, test 1 (input 10)",
            ex.Message);
    }

    [Fact]
    public void Partition_reports_duplicates_across_and_within_splits_and_unknown_ids()
    {
        var result = Leakage.Check.IsPartition(s_ids, Splits([1L, 2, 3, 4, 5, 6, 7, 8, 2], [9L, 5, 99], [10L]));
        Assert.False(result.Passed);
        Assert.Equal(
            "Not a partition of the 10 input ids: 0 lost, 2 duplicated, 1 unknown.\n"
            + "  duplicated: 2 at train[1], train[8]; 5 at train[4], validation[1]\n"
            + "  unknown (not an input id): 99 at validation[2]\n"
            + "  sizes: train 9, validation 3, test 1 (input 10)",
            result.Violation);
    }

    [Fact]
    public void Partition_lists_at_most_five_examples()
    {
        var result = Leakage.Check.IsPartition(s_ids, Splits([1L], [2L], [3L]));
        Assert.Contains("lost (in no split): 4 (input[3]), 5 (input[4]), 6 (input[5]), 7 (input[6]), 8 (input[7]) … and 2 more", result.Violation);
    }

    [Fact]
    public void Partition_refuses_input_ids_that_are_not_unique()
    {
        var ex = Assert.Throws<ArgumentException>(() => Leakage.IsPartition([1L, 2, 1], Splits([1L], [2L], Array.Empty<long>())));
        Assert.Contains("The input ids hold 1 twice (input[0] and input[2])", ex.Message);
    }

    [Fact]
    public void Partition_works_for_string_ids_with_a_comparer()
    {
        string[] input = ["a", "b", "c"];
        Assert.False(Leakage.Check.IsPartition(input, Splits(["A"], ["b"], ["c"])));
        Assert.True(Leakage.Check.IsPartition(input, Splits(["A"], ["b"], ["c"]), comparer: StringComparer.OrdinalIgnoreCase));
    }

    // ---- group overlap ----------------------------------------------------------------------------

    [Fact]
    public void Group_overlap_passes_when_groups_repeat_only_within_a_split()
        => Leakage.NoGroupOverlap(Splits(["spk1", "spk1", "spk2"], ["spk3", "spk3"], ["spk4"]));

    [Fact]
    public void Group_overlap_reports_the_key_splits_counts_and_first_rows()
    {
        var ex = Assert.Throws<LeakageException>(() => Leakage.NoGroupOverlap(Splits(["spk1", "spk2", "spk2"], ["spk3"], ["spk2", "spk4", "spk1"])));
        Assert.Equal(Leakage.GroupOverlapCheck, ex.Check);
        Assert.Equal(
            "Group leakage: 2 of 4 group keys occur in more than one split.\n"
            + "  'spk2': train 2 rows (first at train[1]), test 1 row (first at test[0])\n"
            + "  'spk1': train 1 row (first at train[0]), test 1 row (first at test[2])",
            ex.Message);
    }

    [Fact]
    public void Group_overlap_treats_null_as_a_key_and_honours_the_comparer()
    {
        Assert.False(Leakage.Check.NoGroupOverlap(Splits<string?>([null], [], [null])));
        Assert.True(Leakage.Check.NoGroupOverlap(Splits<string?>([null], ["x"], [])));
        Assert.True(Leakage.Check.NoGroupOverlap(Splits(["Spk1"], ["spk1"], [])));
        var caseless = Leakage.Check.NoGroupOverlap(Splits(["Spk1"], ["spk1"], []), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("Group leakage: 1 of 1 group key occurs in more than one split.\n  'Spk1': train 1 row (first at train[0]), validation 1 row (first at validation[0])", caseless.Violation);
    }

    [Fact]
    public void Group_overlap_works_on_ad_hoc_lists()
    {
        string[] trainSpeakers = ["spk1", "spk2"], testSpeakers = ["spk2", "spk3"];
        var ex = Assert.Throws<LeakageException>(() => Leakage.NoGroupOverlap([("train", trainSpeakers), ("test", testSpeakers)]));
        Assert.StartsWith("Group leakage: 1 of 3 group keys occurs in more than one split.\n  'spk2': train 1 row (first at train[1]), test 1 row (first at test[0])", ex.Message);
    }

    // ---- time order -------------------------------------------------------------------------------

    [Fact]
    public void Time_order_passes_strictly_ordered_splits_in_any_row_order()
        => Leakage.TimeOrdered(Splits([Day(3), Day(1), Day(2)], [Day(5), Day(4)], [Day(6)]));

    [Fact]
    public void Time_order_fails_on_a_shared_boundary_timestamp()
    {
        var ex = Assert.Throws<LeakageException>(() => Leakage.TimeOrdered(Splits([Day(1), Day(3)], [Day(3), Day(4)], [Day(5)])));
        Assert.Equal(Leakage.TimeOrderCheck, ex.Check);
        Assert.Equal(
            "Time leakage: 1 split does not start strictly after the splits before it end.\n"
            + "  validation: min = 2024-01-04T00:00:00Z at validation[0] is not after max(train) = 2024-01-04T00:00:00Z at train[1]; "
            + "1 of 2 validation rows is at or before it: validation[0] = 2024-01-04T00:00:00Z",
            ex.Message);
    }

    [Fact]
    public void Time_order_compares_with_every_earlier_split_and_skips_empty_ones()
    {
        // validation is empty: test is still compared with train.
        var skipped = Leakage.Check.TimeOrdered(Splits([Day(1), Day(5)], [], [Day(4), Day(6)]));
        Assert.Contains("test: min = 2024-01-05T00:00:00Z at test[0] is not after max(train) = 2024-01-06T00:00:00Z at train[1]", skipped.Violation);

        // test starts after validation but before the end of train.
        var both = Leakage.Check.TimeOrdered(Splits([Day(1), Day(9)], [Day(10)], [Day(8), Day(11)]));
        Assert.Contains("test: min = 2024-01-09T00:00:00Z at test[0] is not after the max of the earlier splits (train, validation) = 2024-01-11T00:00:00Z at validation[0]", both.Violation);
    }

    [Fact]
    public void Time_order_reports_every_split_that_overlaps()
    {
        var result = Leakage.Check.TimeOrdered(Splits([5L, 6], [4L], [3L]));
        Assert.StartsWith("Time leakage: 2 splits do not start strictly after the splits before them end.", result.Violation);
        Assert.Contains("validation: min = 4 at validation[0] is not after max(train) = 6 at train[1]", result.Violation);
        Assert.Contains("test: min = 3 at test[0] is not after the max of the earlier splits (train, validation) = 6 at train[1]", result.Violation);
    }

    [Fact]
    public void Time_order_handles_offsets_and_refuses_null_times()
    {
        var utc = new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var later = new DateTimeOffset(2024, 1, 1, 13, 30, 0, TimeSpan.FromHours(2)); // 11:30 UTC: earlier
        Assert.Contains("2024-01-01T13:30:00+02:00", Leakage.Check.TimeOrdered(Splits([utc], [later], [])).Violation);
        Assert.Throws<ArgumentException>(() => Leakage.Check.TimeOrdered(Splits<string?>(["a"], [null], [])));
    }

    // ---- duplicate content -------------------------------------------------------------------------

    [Fact]
    public void Duplicate_content_allows_copies_within_a_split()
        => Leakage.NoDuplicateContent(Splits(["x", "x", "y"], ["z"], []));

    [Fact]
    public void Duplicate_content_reports_where_each_copy_is()
    {
        var ex = Assert.Throws<LeakageException>(() => Leakage.NoDuplicateContent(Splits(["x", "x", "y"], ["z"], ["y", "x", "x", "x"])));
        Assert.Equal(Leakage.DuplicateContentCheck, ex.Check);
        Assert.Equal(
            "Duplicate content across splits: 2 distinct rows occur in more than one split.\n"
            + "  train[2], test[0] (1 in train, 1 in test): 'y'\n"
            + "  train[0], test[1] (2 in train, 3 in test): 'x'",
            ex.Message);
    }

    [Fact]
    public void Duplicate_content_compares_feature_vectors_with_a_comparer()
    {
        double[][] train = [[1, 2], [3, 4]];
        double[][] test = [[1.0, 2.0]];
        Assert.True(Leakage.Check.NoDuplicateContent(Splits(train, [], test))); // arrays compare by reference
        var result = Leakage.Check.NoDuplicateContent(Splits(train, [], test), new SequenceComparer());
        Assert.Contains("train[0], test[0]", result.Violation);
    }

    private sealed class SequenceComparer : IEqualityComparer<double[]>
    {
        public bool Equals(double[]? x, double[]? y) => x!.SequenceEqual(y!);
        public int GetHashCode(double[] obj) => obj.Length == 0 ? 0 : obj[0].GetHashCode();
    }

    [Fact]
    public void Long_values_are_truncated_in_messages()
    {
        string row = new('x', 500);
        var result = Leakage.Check.NoDuplicateContent(Splits([row], [row], []));
        Assert.Contains("'" + new string('x', 79) + "…'", result.Violation);
        Assert.True(result.Violation!.Length < 250);
    }

    // ---- results as FsCheck properties ----------------------------------------------------------------

    [Fact]
    public void A_failed_result_fails_an_FsCheck_property_with_the_violation_as_label()
    {
        var failing = Leakage.Check.NoGroupOverlap(Splits(["g1"], ["g1"], []));
        var ex = Assert.ThrowsAny<Exception>(() => Check.QuickThrowOnFailure(failing.ToProperty()));
        Assert.Contains("Group leakage: 1 of 1 group key occurs in more than one split.", ex.Message);
        Check.QuickThrowOnFailure(Leakage.Check.NoGroupOverlap(Splits(["g1"], ["g2"], [])).ToProperty());
    }

    [Fact]
    public void Results_convert_to_bool_and_print_their_outcome()
    {
        var ok = Leakage.Check.IsPartition(s_ids, Splits(s_ids, [], Array.Empty<long>()));
        var bad = Leakage.Check.IsPartition(s_ids, Splits(s_ids[..9], [], Array.Empty<long>()));
        Assert.True(ok && !bad);
        Assert.True(ok.ToBoolean());
        Assert.Equal("partition: no leakage", ok.ToString());
        Assert.Equal(bad.Violation, bad.ToString());
        Assert.Throws<LeakageException>(bad.ThrowIfLeaked);
        ok.ThrowIfLeaked();
    }

    // ---- properties: the checks agree with a brute-force oracle and catch planted leaks -------------------

    /// <summary>A pseudo-random split per row from the seed and the id (independent of row order); with <paramref name="drop"/>, a quarter are dropped.</summary>
    private static SplitTag[] RandomTags(GeneratedDataset ds, int seed, bool drop = false)
        => ds.Rows.Select(r => (Mix((ulong)r.Id ^ (uint)seed) % (drop ? 4UL : 3UL)) switch { 3 => SplitTag.None, var k => (SplitTag)(int)k }).ToArray();

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Every group's rows in one split (chosen by a hash of the key).</summary>
    private static SplitTag[] GroupTags(GeneratedDataset ds, int seed)
        => ds.Rows.Select(r => (SplitTag)(int)((uint)(StringComparer.Ordinal.GetHashCode(r.Group) ^ seed) % 3)).ToArray();

    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 300)]
    public Property Any_tagging_is_a_partition_and_planted_losses_and_duplicates_are_caught(GeneratedDataset ds, int seed, NonNegativeInt pick)
    {
        var tags = RandomTags(ds, seed, drop: true);
        var byId = ds.SplitBy(tags, r => r.Id);
        var dropped = ds.DroppedBy(tags, r => r.Id);
        var clean = Leakage.Check.IsPartition(ds.Ids, byId, dropped);
        if (ds.Count == 0) return clean.ToProperty();

        long victim = ds.Rows[pick.Get % ds.Count].Id;
        var droppedButVictim = dropped.Where(id => id != victim).ToArray();
        var lost = byId.Select(s => (s.Name, s.Items.Where(id => id != victim))).ToArray();
        var duplicated = byId.Select((s, k) => (s.Name, k == 2 ? s.Items.Append(victim) : s.Items)).ToArray();
        var lostResult = Leakage.Check.IsPartition(ds.Ids, lost, droppedButVictim);
        var dupResult = Leakage.Check.IsPartition(ds.Ids, duplicated, dropped);
        return (clean
                && !lostResult && lostResult.Violation!.Contains($"lost (in no split and not dropped): {victim} (input[", StringComparison.Ordinal)
                && !dupResult && dupResult.Violation!.Contains($"duplicated: {victim} at ", StringComparison.Ordinal))
            .Label($"victim {victim}\n{clean}\n{lostResult}\n{dupResult}");
    }

    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 300)]
    public Property Group_check_agrees_with_brute_force(GeneratedDataset ds, int seed)
    {
        var tags = RandomTags(ds, seed);
        bool expected = ds.Rows.Select((r, i) => (r.Group, Tag: tags[i])).GroupBy(x => x.Group).All(g => g.Select(x => x.Tag).Distinct().Count() == 1);
        var result = Leakage.Check.NoGroupOverlap(ds.SplitBy(tags, r => r.Group));
        return (result.Passed == expected).Label(result.ToString());
    }

    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 300)]
    public Property A_row_moved_out_of_its_group_split_is_caught(GeneratedDataset ds, int seed, NonNegativeInt pick)
    {
        var tags = GroupTags(ds, seed);
        var clean = Leakage.Check.NoGroupOverlap(ds.SplitBy(tags, r => r.Group));
        var movable = Enumerable.Range(0, ds.Count).Where(i => ds.Rows.Count(r => r.Group == ds.Rows[i].Group) >= 2).ToArray();
        if (movable.Length == 0) return clean.ToProperty().Classify(true, "no group with two rows");
        int row = movable[pick.Get % movable.Length];
        var planted = tags.ToArray();
        planted[row] = (SplitTag)(((int)tags[row] + 1) % 3);
        var leak = Leakage.Check.NoGroupOverlap(ds.SplitBy(planted, r => r.Group));
        return (clean && !leak && leak.Violation!.Contains($"'{ds.Rows[row].Group}': ", StringComparison.Ordinal))
            .Label($"moved row {row} ({ds.Rows[row].Group})\n{clean}\n{leak}");
    }

    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 300)]
    public Property Time_check_agrees_with_brute_force(GeneratedDataset ds, int seed)
    {
        var tags = RandomTags(ds, seed);
        bool expected = true;
        for (int i = 0; i < ds.Count; i++)
        {
            for (int j = 0; j < ds.Count; j++)
            {
                if (tags[i] < tags[j] && ds.Rows[i].Timestamp >= ds.Rows[j].Timestamp) expected = false;
            }
        }
        var result = Leakage.Check.TimeOrdered(ds.SplitBy(tags, r => r.Timestamp));
        return (result.Passed == expected).Label(result.ToString());
    }

    [Property(Arbitrary = [typeof(DatasetArbitraries)], MaxTest = 300)]
    public Property A_cut_at_distinct_times_is_ordered_and_a_copied_boundary_time_is_caught(GeneratedDataset ds, NonNegativeInt a, NonNegativeInt b)
    {
        var distinct = ds.Times.Distinct().Order().ToArray();
        if (distinct.Length < 2) return Prop.Classify(true, true, "fewer than two distinct times");
        // Cut between distinct values: rows sharing a timestamp land together.
        int c1 = a.Get % distinct.Length, c2 = Math.Max(c1, b.Get % distinct.Length);
        var tags = ds.Times.Select(t => t <= distinct[c1] ? SplitTag.Train : t <= distinct[c2] ? SplitTag.Validation : SplitTag.Test).ToArray();
        var split = ds.SplitBy(tags, r => r.Timestamp);
        var clean = Leakage.Check.TimeOrdered(split);
        // Plant: the latest train timestamp appears again in the next non-empty split.
        var target = split.Skip(1).FirstOrDefault(s => s.Items.Any()).Name ?? "validation";
        var planted = split.Select(s => (s.Name, s.Name == target ? s.Items.Append(distinct[c1]) : s.Items)).ToArray();
        var leak = Leakage.Check.TimeOrdered(planted);
        return (clean && !leak && leak.Violation!.Contains($"{target}: min = ", StringComparison.Ordinal)).Label($"{clean}\n{leak}");
    }

    [Property(MaxTest = 100)]
    public Property Equal_timestamps_cannot_be_time_split_into_two_non_empty_splits()
        => Prop.ForAll(DatasetGen.Of(DatasetShape.EqualTimestamps).ToArbitrary(), ArbMap.Default.ArbFor<int>(), (ds, seed) =>
        {
            var tags = RandomTags(ds, seed);
            int nonEmpty = tags.Distinct().Count();
            var result = Leakage.Check.TimeOrdered(ds.SplitBy(tags, r => r.Timestamp));
            return (result.Passed == (nonEmpty <= 1)).Label(result.ToString());
        });

    [Property(MaxTest = 200)]
    public Property Duplicate_rows_across_splits_are_caught()
        => Prop.ForAll(DatasetGen.Of(DatasetShape.DuplicateRows).ToArbitrary(), ArbMap.Default.ArbFor<int>(), (ds, seed) =>
        {
            var tags = RandomTags(ds, seed);
            bool expected = ds.Rows.Select((r, i) => (r.ContentKey, Tag: tags[i])).GroupBy(x => x.ContentKey).All(g => g.Select(x => x.Tag).Distinct().Count() == 1);
            var result = Leakage.Check.NoDuplicateContent(ds.SplitBy(tags, r => r.ContentKey));
            // Id-based partition is still fine: duplicates have their own ids.
            return (result.Passed == expected && Leakage.Check.IsPartition(ds.Ids, ds.SplitBy(tags, r => r.Id)))
                .Label(result.ToString());
        });
}
