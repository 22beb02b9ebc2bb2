using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Splits;

public class RandomSplitterTests
{
    private static readonly double[] s_801010 = [0.8, 0.1, 0.1];

    [Theory]
    [InlineData(1000, 800, 100, 100)]
    [InlineData(10, 8, 1, 1)]
    [InlineData(7, 5, 1, 1)]
    [InlineData(3, 3, 0, 0)]
    [InlineData(0, 0, 0, 0)]
    public void Exact_counts_of_80_10_10(long n, long train, long validation, long test)
        => Assert.Equal([train, validation, test], RandomSplitter.ExactCounts(n, s_801010));

    [Fact]
    public void Exact_counts_with_fractions_that_are_inexact_in_binary()
    {
        Assert.Equal([700, 150, 150], RandomSplitter.ExactCounts(1000, [0.7, 0.15, 0.15]));
        Assert.Equal([900, 100, 0], RandomSplitter.ExactCounts(1000, [0.9, 0.1, 0]));
    }

    /// <summary>Counts sum to n; each is within one row of n·f; a zero fraction gets nothing.</summary>
    [Property(MaxTest = 500)]
    public Property Counts_partition_n_and_are_within_one_row_of_target(NonNegativeInt size, PositiveInt a, NonNegativeInt b, NonNegativeInt c)
    {
        long n = size.Get;
        double total = a.Get + b.Get + (double)c.Get;
        double[] f = [a.Get / total, b.Get / total, c.Get / total];
        var counts = RandomSplitter.ExactCounts(n, f);
        return (counts.Sum() == n
                && counts.Select((k, i) => Math.Abs(k - n * f[i]) < 1 + 1e-9).All(x => x)
                && counts.Select((k, i) => f[i] > 0 || k == 0).All(x => x))
            .Label($"n={n} f=[{string.Join(",", f)}] counts=[{string.Join(",", counts)}]");
    }

    /// <summary>Leakage contract 1: every row in exactly one split, none lost, none duplicated, exact counts.</summary>
    [Property(MaxTest = 200)]
    public Property Assign_is_a_partition_with_exact_counts(NonNegativeInt size, ulong seed)
    {
        int n = size.Get % 3000;
        var ids = Enumerable.Range(1, n).Select(i => RowInfo.MakeRowId(i % 3, i)).ToArray();
        var tags = RandomSplitter.Assign(ids, s_801010, seed);
        var expected = RandomSplitter.ExactCounts(n, s_801010);
        return (tags.Length == n
                && tags.All(t => t is SplitTag.Train or SplitTag.Validation or SplitTag.Test)
                && SplitNames.All.Select(s => (long)tags.Count(t => t == s)).SequenceEqual(expected))
            .Label($"n={n}");
    }

    /// <summary>Determinism rule: a row's split depends on its id and the seed, not on input order.</summary>
    [Property(MaxTest = 100)]
    public Property Assignment_does_not_depend_on_input_order(PositiveInt size, ulong seed, int shuffleSeed)
    {
        int n = size.Get % 2000 + 1;
        var ids = Enumerable.Range(1, n).Select(i => (long)i * 7919).ToArray();
        var permuted = ids.ToArray();
        new Random(shuffleSeed).Shuffle(permuted);
        var a = RandomSplitter.Assign(ids, s_801010, seed);
        var b = RandomSplitter.Assign(permuted, s_801010, seed);
        var byId = permuted.Zip(b).ToDictionary(x => x.First, x => x.Second);
        return ids.Zip(a).All(x => byId[x.First] == x.Second).ToProperty();
    }

    /// <summary>Stratified: each class's count per split is within one row of its share, and it is still a partition.</summary>
    [Property(MaxTest = 200)]
    public Property Stratified_counts_are_within_one_row_per_class(NonEmptyArray<byte> labels, ulong seed)
    {
        var strata = labels.Get.Select(b => b % 5).ToArray();
        var ids = Enumerable.Range(0, strata.Length).Select(i => (long)i).ToArray();
        var tags = RandomSplitter.AssignStratified(ids, strata, s_801010, seed);
        bool ok = true;
        foreach (var cls in strata.Distinct())
        {
            var rows = Enumerable.Range(0, strata.Length).Where(i => strata[i] == cls).ToArray();
            for (int s = 0; s < 3; s++)
            {
                int got = rows.Count(i => tags[i] == (SplitTag)s);
                ok &= Math.Abs(got - rows.Length * s_801010[s]) < 1 + 1e-9;
            }
        }
        return (ok && tags.Length == strata.Length).ToProperty();
    }

    /// <summary>Leakage contract 7: the shuffle is a permutation, and the same seed gives the same order.</summary>
    [Property(MaxTest = 200)]
    public Property Hash_order_is_a_permutation_and_repeatable(long[] ids, ulong seed)
    {
        var unique = ids.Distinct().ToArray();
        var a = RandomSplitter.HashOrder(unique, new KeyedHash(seed, "shuffle"));
        var b = RandomSplitter.HashOrder(unique, new KeyedHash(seed, "shuffle"));
        return (a.Order().SequenceEqual(Enumerable.Range(0, unique.Length)) && a.SequenceEqual(b)).ToProperty();
    }

    [Fact]
    public void Different_seeds_and_purposes_give_different_orders()
    {
        var ids = Enumerable.Range(0, 1000).Select(i => (long)i).ToArray();
        var a = RandomSplitter.HashOrder(ids, new KeyedHash(1, "shuffle"));
        var b = RandomSplitter.HashOrder(ids, new KeyedHash(2, "shuffle"));
        var c = RandomSplitter.HashOrder(ids, new KeyedHash(1, "split"));
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
    }

    /// <summary>
    /// The bucket sort of the hash order gives exactly a comparison sort by (hash, row id): on real hashes (about two rows a
    /// bucket), on hashes crowded into a few buckets (the large-bucket path), and with equal hashes (ties by row id).
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Hash_order_is_a_sort_by_hash_then_row_id(long[] ids, ulong seed, byte crowd)
    {
        var unique = ids.Distinct().ToArray();
        var hash = new KeyedHash(seed, "shuffle");
        // crowd 0: the hashes as they are; otherwise their top bits (or all but a few low bits) cleared, so buckets fill and hashes repeat.
        var keys = unique.Select(id => hash.Hash(id)).Select(k => (crowd % 4) switch { 0 => k, 1 => k >> 40, 2 => k & 7, _ => k % 3 << 62 }).ToArray();
        var expected = Enumerable.Range(0, unique.Length).OrderBy(i => keys[i]).ThenBy(i => unique[i]).ToArray();
        var sortedKeys = expected.Select(i => keys[i]).ToArray();
        var order = RandomSplitter.HashOrder(unique, keys);
        return (order.SequenceEqual(expected) && keys.SequenceEqual(sortedKeys)).Label($"{unique.Length} rows, crowd {crowd % 4}");
    }

    [Fact]
    public void Hash_order_of_many_rows_is_a_sort_by_hash_then_row_id()
    {
        // Enough rows for 2^17 buckets, ids out of order and with gaps.
        var ids = Enumerable.Range(0, 200_000).Select(i => (long)i * 7919 % 1_000_003).ToArray();
        var hash = new KeyedHash(42, "shuffle");
        var keys = ids.Select(id => hash.Hash(id)).ToArray();
        var expected = Enumerable.Range(0, ids.Length).OrderBy(i => keys[i]).ThenBy(i => ids[i]).ToArray();
        Assert.Equal(expected, RandomSplitter.HashOrder(ids, new KeyedHash(42, "shuffle")));
    }

    /// <summary>
    /// The spilling split's shuffle order, a hash range (pass 1's file) at a time (<see cref="RandomSplitter.HashOrderByRange"/>),
    /// is the hash order of all rows, for 1–7 range bits and ids in any order; a row said to be in a range its hash is not
    /// in is refused, not ordered wrongly.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Hash_order_a_range_at_a_time_is_the_hash_order_of_all_rows(long[] ids, ulong seed, byte bitsSeed)
    {
        var unique = ids.Distinct().ToArray();
        int bits = 1 + bitsSeed % 7;
        var hash = new KeyedHash(seed, "shuffle");
        var rangeOf = unique.Select(id => (ushort)(hash.Hash(id) >> (64 - bits))).ToArray();
        var byRange = RandomSplitter.HashOrderByRange(unique, rangeOf, bits, hash);
        bool same = byRange.SequenceEqual(RandomSplitter.HashOrder(unique, hash));
        bool refused = true;
        if (unique.Length > 0)
        {
            var wrong = rangeOf.ToArray();
            wrong[0] = (ushort)((wrong[0] + 1) % (1 << bits));
            refused = Record.Exception(() => RandomSplitter.HashOrderByRange(unique, wrong, bits, hash)) is ArgumentException;
        }
        return (same && refused).Label($"{unique.Length} rows, {bits} bits: same {same}, refused {refused}");
    }

    [Fact]
    public void Hash_order_a_range_at_a_time_of_many_rows_is_the_hash_order()
    {
        var ids = Enumerable.Range(0, 300_000).Select(i => (long)i * 7919 % 1_000_003).ToArray();
        var hash = new KeyedHash(7, "shuffle");
        var rangeOf = ids.Select(id => (ushort)(hash.Hash(id) >> 57)).ToArray();
        Assert.Equal(RandomSplitter.HashOrder(ids, hash), RandomSplitter.HashOrderByRange(ids, rangeOf, 7, hash));
    }

    /// <summary>
    /// A large random split takes its tags from cuts (<see cref="RandomSplitter.AssignByCuts"/>: a histogram of the split
    /// hashes and the rows of each cut's bin) instead of sorting every row: the same tags as the sort, for any ids and
    /// fractions (zeros included).
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Tags_from_cuts_are_the_tags_of_the_sort(long[] ids, ulong seed, byte a, byte b, byte c)
    {
        var unique = ids.Distinct().ToArray();
        double sum = Math.Max(1, a + b + c);
        double[] fractions = a + b + c == 0 ? [1, 0, 0] : [a / sum, b / sum, c / sum];
        var sorted = RandomSplitter.Assign(unique, fractions, seed);
        var byCuts = RandomSplitter.AssignByCuts(unique, fractions, seed);
        return sorted.SequenceEqual(byCuts).Label($"{unique.Length} rows, fractions {string.Join("/", fractions)}");
    }

    /// <summary>The random split assigner takes the cut path from <see cref="RandomSplitter.CutsFromRows"/> rows, with the sort's tags.</summary>
    [Fact]
    public void A_random_split_of_a_million_rows_or_more_gives_the_sort_tags()
    {
        int n = RandomSplitter.CutsFromRows + 12_345;
        var ids = Enumerable.Range(0, n).Select(i => RowInfo.MakeRowId(i % 3, i * 7L + 1)).ToArray();
        var schema = new Schema([new Field("x", ColumnKind.Float64)]);
        var input = new SplitInput(schema, ids, _ => throw new InvalidOperationException("no column is read"), _ => (0, 0));
        var tags = new RandomSplitAssigner(s_801010, 17, null).Assign(input, new DataPrep.Pipeline.RunContext()).Tags;
        Assert.Equal(RandomSplitter.Assign(ids, s_801010, 17), tags);
        Assert.Equal(RandomSplitter.ExactCounts(n, s_801010), Enumerable.Range(0, 3).Select(s => (long)tags.Count(t => t == (SplitTag)s)));
    }
}
