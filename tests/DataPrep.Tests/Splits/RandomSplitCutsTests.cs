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
        var shuffled = Enumerable.Range(0, ids.Length).OrderBy(_ => random.Next()).ToArray();
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
        Assert.True(passes <= 4, $"{passes} passes");
        return ids.Select((id, k) => RandomSplitCuts.TagOf(cuts, hashes[k], id)).ToArray();
    }
}
