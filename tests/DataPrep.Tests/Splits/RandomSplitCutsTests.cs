using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Splits;

/// <summary>
/// The bounded plan of a random split (issue 16): the cuts found from a histogram of split hashes and passes that keep
/// only the rows of the bins holding a cut tag every row exactly as <see cref="RandomSplitter.Assign"/> does over all rows.
/// </summary>
public class RandomSplitCutsTests
{
    /// <summary>Real split hashes of random row ids, any fractions (zeros too), any memory bound.</summary>
    [Property(MaxTest = 300)]
    public Property Cuts_give_the_tags_of_Assign(NonNegativeInt size, ulong seed, PositiveInt a, NonNegativeInt b, NonNegativeInt c, PositiveInt held, int order)
    {
        int n = size.Get % 3000;
        var random = new Random(order);
        var ids = Enumerable.Range(0, n).Select(i => RowInfo.MakeRowId(random.Next(5), i * 3L + random.Next(3))).Distinct().ToArray();
        var fractions = Fractions(a, b, c);
        var expected = RandomSplitter.Assign(ids, fractions, seed);
        var hash = new KeyedHash(seed, "split");
        var hashes = ids.Select(hash.Hash).ToArray();
        var got = TagsByCuts(ids, hashes, fractions, held.Get % 40 + 1, random);
        return expected.SequenceEqual(got).Label($"n={ids.Length} f=[{string.Join(",", fractions)}] held={held.Get % 40 + 1}");
    }

    /// <summary>
    /// Hash ties and crowded bins: hashes from a few values that share their top bits (so bins are narrowed level by level
    /// down to single hash values, where row ids decide), compared with the same cut over every row.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Cuts_break_hash_ties_by_row_id_as_Assign_does(NonNegativeInt size, PositiveInt a, NonNegativeInt b, NonNegativeInt c, PositiveInt held, int seed)
    {
        int n = size.Get % 500;
        var random = new Random(seed);
        var ids = Enumerable.Range(0, n).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).Distinct().ToArray();
        // Top 16 bits from 3 values, then a few values at each lower level: ties within bins at every level, and of whole hashes.
        ulong[] top = [0, 0x8000_0000_0000_0000, 0xFFFF_0000_0000_0000];
        var hashes = ids.Select(_ => top[random.Next(3)] | ((ulong)(uint)random.Next(3) << 40) | ((ulong)(uint)random.Next(2) << 20) | (uint)random.Next(3)).ToArray();
        var fractions = Fractions(a, b, c);
        var expected = RandomSplitter.AssignByHash(ids, (ulong[])hashes.Clone(), fractions);
        int bound = held.Get % 10 + 1;
        var got = TagsByCuts(ids, hashes, fractions, bound, random);
        return expected.SequenceEqual(got).Label($"n={ids.Length} f=[{string.Join(",", fractions)}] held={bound}");
    }

    [Fact]
    public void A_cut_at_the_end_or_a_zero_fraction_leaves_no_row_to_that_split()
    {
        var ids = Enumerable.Range(0, 1000).Select(i => (long)i).ToArray();
        var hash = new KeyedHash(7, "split");
        var hashes = ids.Select(hash.Hash).ToArray();
        var tags = TagsByCuts(ids, hashes, [0.9, 0.1, 0], 5, new Random(1));
        Assert.Equal([900, 100, 0], SplitNames.All.Select(s => tags.Count(t => t == s)));
        Assert.Equal(RandomSplitter.Assign(ids, [0.9, 0.1, 0], 7), tags);
        Assert.All(TagsByCuts(ids, hashes, [1, 0, 0], 5, new Random(1)), t => Assert.Equal(SplitTag.Train, t));
    }

    [Fact]
    public void A_histogram_that_does_not_count_the_rows_stops_naming_the_cause()
    {
        var histogram = new long[RandomSplitCuts.Bins];
        histogram[0] = 9;
        var e = Assert.Throws<PipelineValidationException>(() => RandomSplitCuts.Find(10, [0.8, 0.1, 0.1], histogram, () => [], 100));
        Assert.Contains("mixes runs", e.Message);
    }

    /// <summary>
    /// Stratified: random rows in a random mix of classes (a few large, many small, some of one row), any fractions, and
    /// tiny bounds on held rows and on a pass's bytes, so that classes are narrowed and wait for later passes; each row's
    /// tag from its class's cuts is <see cref="RandomSplitter.AssignStratified"/>'s.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property Stratified_cuts_give_the_tags_of_AssignStratified(NonNegativeInt size, PositiveInt classes, ulong seed, PositiveInt a, NonNegativeInt b, NonNegativeInt c, PositiveInt held, PositiveInt bytes, int order)
    {
        int n = size.Get % 3000;
        var random = new Random(order);
        var ids = Enumerable.Range(0, n).Select(i => RowInfo.MakeRowId(random.Next(5), i * 3L + random.Next(3))).Distinct().ToArray();
        int k = classes.Get % 60 + 1;
        // Skewed: class i drawn with weight 1/(i+1).
        var weights = Enumerable.Range(0, k).Select(i => 1.0 / (i + 1)).ToArray();
        var strata = ids.Select(_ => Draw(weights, random)).ToArray();
        var fractions = Fractions(a, b, c);
        int bound = held.Get % 40 + 1;
        long maxBytes = bytes.Get % 4000 + 1;
        var expected = RandomSplitter.AssignStratified(ids, strata, fractions, seed);
        var got = TagsByStratifiedCuts(ids, strata, k, fractions, seed, bound, maxBytes, random);
        return expected.SequenceEqual(got).Label($"n={ids.Length} classes={k} f=[{string.Join(",", fractions)}] held={bound} bytes={maxBytes}");
    }

    [Fact]
    public void A_thousand_classes_are_cut_under_a_small_bound_as_AssignStratified_cuts_them()
    {
        var random = new Random(3);
        var ids = Enumerable.Range(0, 30_000).Select(i => RowInfo.MakeRowId(i % 4, i)).ToArray();
        var strata = ids.Select(_ => random.Next(1000)).ToArray();
        double[] fractions = [0.8, 0.1, 0.1];
        var expected = RandomSplitter.AssignStratified(ids, strata, fractions, 42);
        // 64 held rows and 4 KiB a pass: a pass holds a few classes' ranges, the others wait.
        Assert.Equal(expected, TagsByStratifiedCuts(ids, strata, 1000, fractions, 42, 64, 4096, random));
    }

    [Fact]
    public void A_row_of_a_class_the_scan_did_not_count_stops_naming_the_cause()
    {
        var e = Assert.Throws<PipelineValidationException>(() => RandomSplitCuts.FindStratified([2], [0.5, 0.5, 0], () => [new HashedRows([1, 2], [1, 2], 2, [0, 1])], 100, 1 << 20));
        Assert.Contains("rows changed", e.Message);
    }

    private static int Draw(double[] weights, Random random)
    {
        double x = random.NextDouble() * weights.Sum();
        for (int i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0) return i;
        }
        return weights.Length - 1;
    }

    /// <summary>Tags by per-class cuts found from the rows in a shuffled order, streamed in chunks of random sizes.</summary>
    private static SplitTag[] TagsByStratifiedCuts(long[] ids, int[] strata, int classes, double[] fractions, ulong seed, long maxHeld, long maxBytes, Random random)
    {
        var hash = new KeyedHash(seed, "split");
        var hashes = ids.Select(hash.Hash).ToArray();
        var rows = new long[classes];
        foreach (int s in strata) rows[s]++;
        var shuffled = Enumerable.Range(0, ids.Length).OrderBy(_ => random.Next()).ToArray();
        int chunk = random.Next(1, 50);
        IEnumerable<HashedRows> Pass()
        {
            for (int at = 0; at < shuffled.Length; at += chunk)
            {
                int count = Math.Min(chunk, shuffled.Length - at);
                var h = new ulong[count + 3];
                var i = new long[count + 3];
                var c = new int[count + 3];
                for (int k = 0; k < count; k++) { h[k] = hashes[shuffled[at + k]]; i[k] = ids[shuffled[at + k]]; c[k] = strata[shuffled[at + k]]; }
                yield return new HashedRows(h, i, count, c);
            }
        }
        var cuts = RandomSplitCuts.FindStratified(rows, fractions, Pass, maxHeld, maxBytes);
        return ids.Select((id, k) => RandomSplitCuts.TagOf(cuts[strata[k]], hashes[k], id)).ToArray();
    }

    private static double[] Fractions(PositiveInt a, NonNegativeInt b, NonNegativeInt c)
    {
        double total = a.Get + (double)b.Get + c.Get;
        return [a.Get / total, b.Get / total, c.Get / total];
    }

    /// <summary>Tags by cuts found from the rows in a shuffled order, streamed in chunks of random sizes.</summary>
    private static SplitTag[] TagsByCuts(long[] ids, ulong[] hashes, double[] fractions, long maxHeld, Random random)
    {
        var histogram = new long[RandomSplitCuts.Bins];
        foreach (var h in hashes) histogram[RandomSplitCuts.BinOf(h)]++;
        // Half the time the passes see only the rows of the bins that CutBins names (a scaled-out plan reads only the
        // sections of row ids that hold them): the cuts must not need any other row.
        var cutBins = RandomSplitCuts.CutBins(ids.Length, fractions, histogram).ToHashSet();
        bool onlyCutBins = random.Next(2) == 0;
        var shuffled = Enumerable.Range(0, ids.Length).Where(k => !onlyCutBins || cutBins.Contains(RandomSplitCuts.BinOf(hashes[k]))).OrderBy(_ => random.Next()).ToArray();
        int chunk = random.Next(1, 50);
        int passes = 0;
        IEnumerable<HashedRows> Pass()
        {
            passes++;
            for (int at = 0; at < shuffled.Length; at += chunk)
            {
                int count = Math.Min(chunk, shuffled.Length - at);
                // Buffers longer than the rows they hold, as a reused buffer is.
                var h = new ulong[count + 3];
                var i = new long[count + 3];
                for (int k = 0; k < count; k++) { h[k] = hashes[shuffled[at + k]]; i[k] = ids[shuffled[at + k]]; }
                yield return new HashedRows(h, i, count);
            }
        }
        var cuts = RandomSplitCuts.Find(ids.Length, fractions, histogram, Pass, maxHeld);
        // Four levels of 16 hash bits; a single hash shared by more than maxHeld rows is narrowed by the ids' bits, four more.
        bool crowdedHash = hashes.CountBy(h => h).Any(g => g.Value > maxHeld);
        Assert.True(passes <= (crowdedHash ? 8 : 4), $"{passes} passes");
        return ids.Select((id, k) => RandomSplitCuts.TagOf(cuts, hashes[k], id)).ToArray();
    }

    /// <summary>
    /// <see cref="RandomSplitCuts.Locate"/> gives the (key, row id) at each asked position of the (key, row id) order, for
    /// many positions at once (over eight, whose ranges a pass finds by binary search: a time split's bucket starts), keys
    /// clustered in a few bins or spread, with ties, and a small <c>maxHeld</c> that makes it narrow ranges pass by pass —
    /// by row id once a range is one key (ids negative as well), so that no range it reads whole holds more than that.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property Locate_finds_the_rows_at_many_positions(NonNegativeInt size, PositiveInt targets, PositiveInt held, byte spread, int seed)
    {
        var random = new Random(seed);
        int n = size.Get * 31 % 3000 + 1;
        // Keys from few distinct values (ties, a quarter of the cases: many rows of one time) to values spread over every
        // bit, some clustered in one top bin.
        int bits = spread % 4 == 0 ? 0 : spread % 64;
        var keys = new ulong[n];
        for (int i = 0; i < n; i++) keys[i] = bits == 0 ? (ulong)random.Next(5) : (((ulong)random.NextInt64() >> (63 - bits)) << 1) | (uint)random.Next(2);
        long offset = random.Next(2) == 0 ? 0 : -4L * n;
        var ids = Enumerable.Range(0, n).Select(i => (long)i * 7 + random.Next(7) + offset).OrderBy(_ => random.Next()).ToArray();
        var positions = Enumerable.Range(0, targets.Get % 52 + 9).Select(_ => (long)random.Next(n)).Distinct().Order().ToList();
        var sorted = keys.Zip(ids).OrderBy(r => r.First).ThenBy(r => r.Second).ToArray();

        IEnumerable<HashedRows> Pass()
        {
            for (int at = 0; at < n; at += 97)
            {
                int m = Math.Min(97, n - at);
                yield return new HashedRows(keys.AsSpan(at, m).ToArray(), ids.AsSpan(at, m).ToArray(), m);
            }
        }
        var histogram = RandomSplitCuts.Histogram(Pass()).Bins;
        long maxHeld = held.Get % 50 + 1, largest = 0;
        var found = RandomSplitCuts.Locate(n, positions, histogram, Pass, maxHeld, rows => largest = Math.Max(largest, rows));
        if (largest > maxHeld) return false.Label($"a range of {largest} rows was held whole, more than {maxHeld}");
        for (int k = 0; k < positions.Count; k++)
        {
            var (key, id) = sorted[positions[k]];
            if (found[k] != (key, id)) return false.Label($"position {positions[k]}: found ({found[k].Hash}, {found[k].Id}), expected ({key}, {id})");
        }
        return true.ToProperty();
    }
}
