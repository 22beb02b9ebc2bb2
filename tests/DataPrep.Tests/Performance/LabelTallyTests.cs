using System.Runtime.InteropServices;
using DataPrep.Data;
using DataPrep.Output;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Performance;

/// <summary>
/// The chunked label tally (array counts for narrow integer chunks, chunks merged in any order) must give the
/// counts of the old row-by-row serial counter, including when the distribution is dropped.
/// </summary>
public class LabelTallyTests
{
    /// <summary>The serial counter the sink used before: per row, by value or integral double bits, dropped past 1000 distinct.</summary>
    private static Dictionary<long, long>? Reference(Column label, IEnumerable<(int Start, int Count)> chunks)
    {
        var counts = new Dictionary<long, long>();
        foreach (var (start, count) in chunks)
        {
            for (int r = start; r < start + count; r++)
            {
                long key;
                if (label is Int64Column l) key = l.Values[r];
                else if (label is Float64Column d && d.Values[r] == Math.Floor(d.Values[r])) key = BitConverter.DoubleToInt64Bits(d.Values[r] + 0.0);
                else return null;
                CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _)++;
                if (counts.Count > 1000) return null;
            }
        }
        return counts;
    }

    private static List<(int Start, int Count)> Chunks(int rows, int size)
    {
        var chunks = new List<(int, int)>();
        for (int s = 0; s < rows; s += size) chunks.Add((s, Math.Min(size, rows - s)));
        return chunks;
    }

    private static bool Same(Dictionary<long, long>? a, Dictionary<long, long>? b)
        => a is null ? b is null : b is not null && a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out long n) && n == kv.Value);

    private static Dictionary<long, long>? Tally(Column label, List<(int Start, int Count)> chunks, bool parallel)
    {
        var tally = new LabelTally();
        if (parallel) Parallel.ForEach(chunks, c => tally.Count(label, c.Start, c.Count));
        else foreach (var (s, n) in Enumerable.Reverse(chunks)) tally.Count(label, s, n);
        return tally.Counts;
    }

    [Property(MaxTest = 300)]
    public Property Integer_labels_match_the_serial_counter(ulong seed, byte spread, byte chunkKind, bool parallel)
    {
        var random = new Random((int)(seed ^ (seed >> 32)));
        int rows = random.Next(1, 20_000);
        // Narrow ranges (array path), wide ones (dictionary), more than 1000 distinct (dropped), the extremes.
        long range = (spread % 6) switch { 0 => 2, 1 => 40, 2 => 1001, 3 => 5000, 4 => 1L << 40, _ => long.MaxValue };
        long offset = (spread % 3) switch { 0 => 0, 1 => long.MinValue, _ => long.MaxValue - range };
        var values = new long[rows];
        for (int i = 0; i < rows; i++) values[i] = unchecked(offset + (long)((ulong)random.NextInt64() % (ulong)range));
        if (spread % 7 == 0) values[random.Next(rows)] = random.Next(2) == 0 ? long.MinValue : long.MaxValue;
        var label = new Int64Column(values, null, rows);
        var chunks = Chunks(rows, (chunkKind % 3) switch { 0 => 4096, 1 => 1, _ => 1 + chunkKind });
        return Same(Reference(label, chunks), Tally(label, chunks, parallel)).Label($"{rows} rows, range {range}, offset {offset}");
    }

    [Property(MaxTest = 200)]
    public Property Double_labels_match_the_serial_counter(ulong seed, byte kind, bool parallel)
    {
        var random = new Random((int)(seed ^ (seed >> 32)));
        int rows = random.Next(1, 10_000);
        double[] specials = [0.0, -0.0, 1.0, -1.0, double.PositiveInfinity, double.NegativeInfinity, 1e300, -1e300, 4503599627370496.0];
        var values = new double[rows];
        for (int i = 0; i < rows; i++) values[i] = random.Next(4) == 0 ? specials[random.Next(specials.Length)] : random.Next(-50, 50);
        if (kind % 4 == 1) values[random.Next(rows)] = 0.5;
        if (kind % 4 == 2) values[random.Next(rows)] = double.NaN;
        if (kind % 4 == 3) for (int i = 0; i < rows; i++) values[i] = i;
        var label = new Float64Column(values, null, rows);
        var chunks = Chunks(rows, 1 + kind * 37);
        return Same(Reference(label, chunks), Tally(label, chunks, parallel)).Label($"{rows} rows, kind {kind % 4}");
    }

    [Fact]
    public void Other_label_columns_drop_the_distribution()
    {
        var tally = new LabelTally();
        tally.Count(new BooleanColumn([true, false], null, 2), 0, 2);
        Assert.Null(tally.Counts);
    }
    [Property(MaxTest = 200)]
    public Property The_sketch_is_the_row_by_row_sketch(ulong seed, byte kind, bool parallel, bool floats)
    {
        // Buckets follow from the counts while the distribution is kept, and are filled row by row once it is
        // dropped: either way the sketch (count, min, max, buckets) is the one of adding every row.
        var random = new Random((int)(seed ^ (seed >> 32)));
        int rows = random.Next(1, 8_000);
        int distinct = (kind % 4) switch { 0 => 5, 1 => 900, 2 => 1200, _ => 100_000 };
        var values = new double[rows];
        for (int i = 0; i < rows; i++) values[i] = random.Next(-distinct / 2, distinct / 2 + 1);
        if (floats && kind % 5 == 0) values[random.Next(rows)] = 0.25; // a non-integral value drops the counts mid-way
        if (floats && kind % 7 == 0) values[random.Next(rows)] = double.PositiveInfinity;
        Column label = floats ? new Float64Column(values, null, rows) : new Int64Column(values.Select(v => (long)v).ToArray(), null, rows);
        var chunks = Chunks(rows, 1 + kind * 13);
        var tally = new LabelTally();
        if (parallel) Parallel.ForEach(chunks, c => tally.Count(label, c.Start, c.Count));
        else foreach (var (s, n) in Enumerable.Reverse(chunks)) tally.Count(label, s, n);
        var expected = new LabelSketch();
        foreach (double v in values) expected.Add(v);
        var actual = tally.Sketch;
        bool same = actual.Count == expected.Count && actual.Min == expected.Min && actual.Max == expected.Max
            && actual.Buckets.Count == expected.Buckets.Count && expected.Buckets.All(kv => actual.Buckets.TryGetValue(kv.Key, out long n) && n == kv.Value);
        return (same && tally.Summary(floats) is not null).Label($"{rows} rows, {distinct} distinct, counts kept: {tally.Counts is not null}");
    }

    [Fact]
    public void A_merged_tally_keeps_the_parts_sketches()
    {
        var a = new LabelTally();
        a.Count(new Int64Column([1, 2, 3]), 0, 3);
        var b = new LabelTally();
        b.Count(new Int64Column([3, 4]), 0, 2);
        var merged = LabelTally.Merge([(a.Counts, a.Sketch), (b.Counts, b.Sketch)]);
        var expected = new LabelSketch();
        foreach (long v in new long[] { 1, 2, 3, 3, 4 }) expected.Add(v);
        Assert.Equal(expected.Buckets.OrderBy(kv => kv.Key), merged.Sketch.Buckets.OrderBy(kv => kv.Key));
        Assert.Equal(5, merged.Sketch.Count);
        Assert.Equal(2, merged.Counts![3]);
    }
}
