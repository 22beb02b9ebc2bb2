using DataPrep.Data;
using FsCheck.Xunit;

namespace DataPrep.Tests.Performance;

/// <summary>A deferred gather must give exactly the eager gather's values, however and from how many threads it is read.</summary>
public class DeferredGatherTests
{
    private static (Column[] Parts, int[] Part, int[] Row) Picks(int[] sizes, int seed, int count)
    {
        var random = new Random(seed);
        var parts = sizes.Select(n => (Column)new Float64Column(Enumerable.Range(0, n).Select(_ => random.NextDouble() * 1000 - 500).ToArray())).ToArray();
        var part = new int[count];
        var row = new int[count];
        for (int i = 0; i < count; i++)
        {
            part[i] = random.Next(parts.Length);
            row[i] = random.Next(sizes[part[i]]);
        }
        return (parts, part, row);
    }

    [Property(MaxTest = 100)]
    public void Deferred_values_equal_the_eager_gather(byte seed, bool rowFirst)
    {
        var (parts, part, row) = Picks([5, 17, 1, 9], seed, 40);
        var eager = (Float64Column)Column.Gather(parts, part, row);
        var deferred = (Float64Column)Column.GatherDeferred(parts, part, row);
        Assert.Equal(eager.Length, deferred.Length);
        Assert.Null(deferred.Nulls);
        if (rowFirst)
        {
            // Row by row first (the CSV writer's stragglers), nothing gathered yet.
            for (int i = 0; i < row.Length; i++) Assert.Equal(eager.Values[i], deferred.ValueAt(i));
            Assert.False(deferred.IsMaterialized);
        }
        Assert.Equal(eager.Values.AsSpan(0, eager.Length).ToArray(), deferred.Values.AsSpan(0, deferred.Length).ToArray());
        Assert.True(deferred.IsMaterialized);
        for (int i = 0; i < row.Length; i++) Assert.Equal(eager.Values[i], deferred.ValueAt(i));
    }

    /// <summary>
    /// Sparse rows (LibSVM) are gathered straight from the parts: the rows, indices and values of the parts' concatenation
    /// taken at the global positions, with empty rows and parts among them.
    /// </summary>
    [Property(MaxTest = 100)]
    public void Sparse_rows_gathered_from_the_parts_are_those_of_their_concatenation(byte seed)
    {
        var random = new Random(seed);
        int[] sizes = [random.Next(1, 6), random.Next(1, 30), 1, random.Next(1, 12)];
        var parts = sizes.Select(n =>
        {
            var offsets = new int[n + 1];
            var indices = new List<int>();
            var values = new List<double>();
            for (int r = 0; r < n; r++)
            {
                foreach (int k in Enumerable.Range(0, 9).Where(_ => random.Next(3) == 0))
                {
                    indices.Add(k);
                    values.Add(random.NextDouble() * 10 - 5);
                }
                offsets[r + 1] = indices.Count;
            }
            return new SparseColumn(9, offsets, [.. indices], [.. values], n);
        }).ToArray();
        int count = random.Next(0, 60);
        var part = new int[count];
        var row = new int[count];
        for (int i = 0; i < count; i++)
        {
            part[i] = random.Next(parts.Length);
            row[i] = random.Next(sizes[part[i]]);
        }
        var gathered = (SparseColumn)Column.Gather(parts, part, row);
        var starts = sizes.Select((_, p) => sizes.Take(p).Sum()).ToArray();
        var expected = (SparseColumn)SparseColumn.Concat(parts).Take(Enumerable.Range(0, count).Select(i => starts[part[i]] + row[i]).ToArray());
        Assert.Equal(count, gathered.Length);
        Assert.Equal(9, gathered.Width);
        Assert.Equal(expected.RowOffsets, gathered.RowOffsets);
        Assert.Equal(expected.Indices, gathered.Indices);
        Assert.Equal(expected.Values, gathered.Values);
    }

    [Fact]
    public void Concurrent_readers_share_one_gather()
    {
        var (parts, part, row) = Picks([1000, 1000, 1000], 7, 50_000);
        var deferred = (Float64Column)Column.GatherDeferred(parts, part, row);
        var seen = new double[8][];
        Parallel.For(0, seen.Length, i => seen[i] = deferred.Values);
        Assert.All(seen, s => Assert.Same(seen[0], s));
        Assert.Equal(((Float64Column)Column.Gather(parts, part, row)).Values, seen[0]);
    }

    [Fact]
    public void Columns_with_missing_values_are_gathered_at_once()
    {
        var parts = new Column[] { new Float64Column([1, 2], [false, true], 2), new Float64Column([3, 4]) };
        var gathered = (Float64Column)Column.GatherDeferred(parts, [1, 0, 0], [1, 1, 0]);
        Assert.True(gathered.IsMaterialized);
        Assert.Equal([false, true, false], gathered.Nulls!.AsSpan(0, 3).ToArray());
        Assert.Equal(4, gathered.Values[0]);
    }
}
