using BenchmarkDotNet.Attributes;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Splits;

namespace DataPrep.Micro;

/// <summary>The seeded hash decisions over the input's row ids: the shuffle order and the exact random split.</summary>
[MemoryDiagnoser]
public class ShuffleBenchmarks
{
    /// <summary>The seed bench/run.sh uses.</summary>
    public const ulong Seed = 42;

    /// <summary>The fractions bench/run.sh uses.</summary>
    public static readonly double[] Fractions = [0.8, 0.1, 0.1];

    private long[] _rowIds = [];

    /// <summary>The input CSV; null: the one <see cref="MicroInput.EnvironmentVariable"/> names.</summary>
    public string? InputPath { get; set; }

    [GlobalSetup]
    public void Setup() => _rowIds = MicroInput.Load(InputPath ?? MicroInput.PathFromEnvironment()).Batch.Rows.RowIds;

    /// <summary>Rows ordered by hash(seed, "shuffle", row id), as the split stage orders each split (XxHash3 per row, then a sort).</summary>
    [Benchmark]
    public int[] ShuffleOrder() => RandomSplitter.HashOrder(_rowIds, new KeyedHash(Seed, "shuffle"));

    /// <summary>
    /// The reference for <see cref="ShuffleOrder"/>'s sort: the same hashes ordered by a comparison sort (<c>Array.Sort</c> of
    /// the 64-bit hashes with the row positions, as <c>RandomSplitter.HashOrder</c> did before its bucket sort; ties, which
    /// practically never occur, are not reordered here).
    /// </summary>
    [Benchmark]
    public int[] ShuffleOrderComparisonSort()
    {
        var hash = new KeyedHash(Seed, "shuffle");
        var keys = new ulong[_rowIds.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = hash.Hash(_rowIds[i]);
        var order = new int[keys.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(keys, order);
        return order;
    }

    /// <summary>The exact 80/10/10 random split: rows in hash(seed, "split", row id) order, cut at exact counts.</summary>
    [Benchmark]
    public SplitTag[] SplitAssign() => RandomSplitter.Assign(_rowIds, Fractions, Seed);
}
