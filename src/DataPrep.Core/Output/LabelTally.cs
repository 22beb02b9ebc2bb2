using System.Globalization;
using System.Runtime.InteropServices;
using DataPrep.Data;

namespace DataPrep.Output;

/// <summary>
/// Counts a split's label values, chunk by chunk on the formatting threads: integers by value, integral doubles
/// by bit pattern (−0 as 0). The distribution is dropped (<see cref="Counts"/> null) when a label is not an
/// integer or integral double, or when there are more than <see cref="MaxDistinct"/> distinct values (a
/// regression target). Chunks may be counted in any order and at the same time: the counts are a sum.
/// </summary>
internal sealed class LabelTally
{
    /// <summary>More distinct values than this and the distribution is dropped.</summary>
    public const int MaxDistinct = 1000;

    /// <summary>Integer chunks whose values span at most this many get counted in an array (no hashing per row).</summary>
    private const int ArraySpan = 4096;

    private readonly Lock _lock = new();
    private Dictionary<long, long>? _counts = [];

    /// <summary>The counts by key (the value, or a double's bits); null when the distribution was dropped. Read once all chunks are counted.</summary>
    public Dictionary<long, long>? Counts
    {
        get
        {
            lock (_lock) return _counts;
        }
    }

    /// <summary>Adds the labels of rows [<paramref name="start"/>, +<paramref name="count"/>) of <paramref name="label"/>.</summary>
    public void Count(Column label, int start, int count)
    {
        if (Volatile.Read(ref _counts) is null || count <= 0) return;
        var local = label switch
        {
            Int64Column l => CountIntegers(l.Values.AsSpan(start, count)),
            Float64Column d => CountDoubles(d.Values.AsSpan(start, count)),
            _ => null,
        };
        lock (_lock)
        {
            if (_counts is null) return;
            if (local is null)
            {
                _counts = null;
                return;
            }
            foreach (var (key, n) in local)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_counts, key, out _) += n;
            }
            if (_counts.Count > MaxDistinct) _counts = null;
        }
    }

    private static Dictionary<long, long>? CountIntegers(ReadOnlySpan<long> values)
    {
        long min = values[0], max = values[0];
        foreach (long v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        if ((ulong)(max - min) < ArraySpan)
        {
            Span<int> slots = stackalloc int[ArraySpan];
            slots.Clear();
            foreach (long v in values) slots[(int)(v - min)]++;
            var counts = new Dictionary<long, long>();
            for (int i = 0; i < slots.Length; i++)
            {
                if (slots[i] == 0) continue;
                counts[min + i] = slots[i];
                if (counts.Count > MaxDistinct) return null;
            }
            return counts;
        }
        var byValue = new Dictionary<long, long>();
        foreach (long v in values)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(byValue, v, out _)++;
            if (byValue.Count > MaxDistinct) return null;
        }
        return byValue;
    }

    private static Dictionary<long, long>? CountDoubles(ReadOnlySpan<double> values)
    {
        var counts = new Dictionary<long, long>();
        foreach (double v in values)
        {
            if (v != Math.Floor(v)) return null;
            CollectionsMarshal.GetValueRefOrAddDefault(counts, BitConverter.DoubleToInt64Bits(v + 0.0), out _)++; // −0 counts as 0 (their names compare equal)
            if (counts.Count > MaxDistinct) return null;
        }
        return counts;
    }

    /// <summary>
    /// The tally of several parts counted apart (the tasks of a scaled-out run): the sum of their counts, dropped
    /// (null counts) when any part was dropped or the sum has more than <see cref="MaxDistinct"/> values, exactly as
    /// one tally over all the rows.
    /// </summary>
    public static LabelTally Merge(IEnumerable<Dictionary<long, long>?> parts)
    {
        var merged = new LabelTally();
        foreach (var part in parts)
        {
            if (merged._counts is null) break;
            if (part is null) { merged._counts = null; break; }
            foreach (var (key, n) in part) CollectionsMarshal.GetValueRefOrAddDefault(merged._counts, key, out _) += n;
            if (merged._counts.Count > MaxDistinct) merged._counts = null;
        }
        return merged;
    }

    /// <summary>Label values as text in numeric order (text that is not a number after, ordinal), as run.json lists them.</summary>
    public static IComparer<string> NumericOrder { get; } = Comparer<string>.Create(static (a, b) =>
    {
        bool na = double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x);
        bool nb = double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y);
        return na && nb ? x.CompareTo(y) : string.CompareOrdinal(a, b);
    });

    /// <summary>
    /// The distribution with the values as text (integers invariant, doubles round-trip) in <see cref="NumericOrder"/>;
    /// null when it was dropped. <paramref name="floats"/>: the keys are a double column's bit patterns.
    /// </summary>
    public SortedDictionary<string, long>? Distribution(bool floats)
    {
        if (Counts is not { } counts) return null;
        var result = new SortedDictionary<string, long>(NumericOrder);
        foreach (var (key, n) in counts)
        {
            result.Add(floats ? BitConverter.Int64BitsToDouble(key).ToString("R", CultureInfo.InvariantCulture) : key.ToString(CultureInfo.InvariantCulture), n);
        }
        return result;
    }
}
