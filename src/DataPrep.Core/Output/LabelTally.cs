using System.Globalization;
using System.Runtime.InteropServices;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>
/// Counts a split's label values, chunk by chunk on the formatting threads: integers by value, integral doubles
/// by bit pattern (−0 as 0). The distribution is dropped (<see cref="Counts"/> null) when a label is not an
/// integer or integral double, or when there are more than <see cref="MaxDistinct"/> distinct values (a
/// regression target). Alongside, every finite label goes into a <see cref="LabelSketch"/> (exact min and max,
/// log-spaced buckets) for the regression summary (<see cref="Summary"/>). Chunks may be counted in any order and at
/// the same time: the counts are a sum, so the result does not depend on threads or batch sizes.
/// </summary>
internal sealed class LabelTally
{
    /// <summary>More distinct values than this and the distribution is dropped.</summary>
    public const int MaxDistinct = 1000;

    /// <summary>Integer chunks whose values span at most this many get counted in an array (no hashing per row).</summary>
    private const int ArraySpan = 4096;

    private readonly Lock _lock = new();
    private Dictionary<long, long>? _counts = [];
    private bool _floatKeys;

    /// <summary>Whether <see cref="_sketch"/> holds the buckets of every value (a merged tally, whose parts' sketches were whole).</summary>
    private bool _bucketsWhole;

    /// <summary>
    /// Count, min and max of every finite label; buckets only of the values not held in <see cref="_counts"/>: while
    /// the distribution is kept, the sketch's buckets follow from it (<see cref="Sketch"/>), so a classification
    /// label costs no logarithm and no bucket lookup per row. When the distribution is dropped, its values go into
    /// the buckets once, and the rows of later chunks one by one.
    /// </summary>
    private readonly LabelSketch _sketch = new();

    /// <summary>The sketch of every finite label value. Read once all chunks are counted.</summary>
    public LabelSketch Sketch
    {
        get
        {
            lock (_lock)
            {
                if (_counts is null || _bucketsWhole) return _sketch;
                var full = _sketch.Copy();
                full.AddBuckets(_counts, _floatKeys);
                return full;
            }
        }
    }

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
        if (count <= 0) return;
        bool floats = label is Float64Column;
        var local = Volatile.Read(ref _counts) is null ? null : label switch
        {
            Int64Column l => CountIntegers(l.Values.AsSpan(start, count)),
            Float64Column d => CountDoubles(d.Values.AsSpan(start, count)),
            _ => null,
        };
        // With the chunk's counts the buckets can wait (they follow from the counts); without, every value goes in.
        var sketch = new LabelSketch();
        bool buckets = local is null;
        switch (label)
        {
            case Int64Column l:
                foreach (long v in l.Values.AsSpan(start, count)) sketch.Add(v, buckets);
                break;
            case Float64Column d:
                foreach (double v in d.Values.AsSpan(start, count)) sketch.Add(v, buckets);
                break;
        }
        lock (_lock)
        {
            _sketch.Merge(sketch);
            if (local is not null && _counts is not null)
            {
                _floatKeys = floats;
                foreach (var (key, n) in local)
                {
                    CollectionsMarshal.GetValueRefOrAddDefault(_counts, key, out _) += n;
                }
                if (_counts.Count > MaxDistinct) Drop();
            }
            else
            {
                // Dropped before or now: this chunk's values that were counted but not bucketed go in now.
                if (local is not null) _sketch.AddBuckets(local, floats);
                if (_counts is not null) Drop();
            }
        }
    }

    /// <summary>Drops the distribution; its values go into the sketch's buckets (under the lock).</summary>
    private void Drop()
    {
        _sketch.AddBuckets(_counts!, _floatKeys);
        _counts = null;
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
    public static LabelTally Merge(IEnumerable<(Dictionary<long, long>? Counts, LabelSketch? Sketch)> parts)
    {
        var merged = new LabelTally();
        foreach (var (part, sketch) in parts)
        {
            // The parts' sketches are whole (Sketch); the merged one keeps buckets only once the counts are dropped.
            if (sketch is not null) merged._sketch.Merge(sketch);
            if (merged._counts is null) continue;
            if (part is null) { merged._counts = null; continue; }
            foreach (var (key, n) in part) CollectionsMarshal.GetValueRefOrAddDefault(merged._counts, key, out _) += n;
            if (merged._counts.Count > MaxDistinct) merged._counts = null;
        }
        merged._bucketsWhole = true;
        return merged;
    }

    /// <summary>
    /// The regression summary: count, min, max and quantiles; exact from the counts while there are at most
    /// <see cref="MaxDistinct"/> distinct integral values, else from the sketch (within 1 % of the value, min and max exact).
    /// Null when no finite label was counted. <paramref name="floats"/>: the counts' keys are a double column's bit patterns.
    /// </summary>
    public LabelSummary? Summary(bool floats)
    {
        var counts = Counts;
        if (counts is null) return Sketch is { Count: > 0 } sketch ? sketch.Summary() : null;
        if (_sketch.Count == 0) return null;
        var values = counts.Select(kv => (Value: floats ? BitConverter.Int64BitsToDouble(kv.Key) : kv.Key, kv.Value)).OrderBy(x => x.Value).ToList();
        long n = values.Sum(v => v.Item2);
        var summary = new LabelSummary { Count = n, Min = values[0].Value, Max = values[^1].Value, Exact = true };
        foreach (var (name, q) in LabelSummary.Levels)
        {
            long rank = LabelSummary.Rank(q, n), seen = 0;
            foreach (var (v, c) in values)
            {
                seen += c;
                if (seen >= rank) { summary.Quantiles[name] = v; break; }
            }
        }
        return summary;
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

/// <summary>
/// A mergeable, order-independent summary of label values for regression targets: exact count, min and max, and counts
/// in logarithmic buckets (relative accuracy 1 %, as DDSketch): bucket k of positive values holds (γ^(k−1), γ^k] with
/// γ = 1.01/0.99, negative values mirror it, and zero (|x| &lt; 1e-300) has its own bucket. A quantile is the bucket's
/// midpoint value clamped to [min, max], so it is within 1 % of a true value of that rank. Buckets are a sum of counts, so
/// any split of the rows into chunks gives the same sketch.
/// </summary>
internal sealed class LabelSketch
{
    private const double Alpha = 0.01;
    private static readonly double s_gamma = (1 + Alpha) / (1 - Alpha);
    private static readonly double s_logGamma = Math.Log(s_gamma);
    private const long Offset = 1L << 40;

    /// <summary>Bucket counts by key: 0 for zero, Offset + k for positive values, −(Offset + k) for negative ones (so keys sort as values do).</summary>
    public Dictionary<long, long> Buckets { get; set; } = [];

    /// <summary>Finite values counted.</summary>
    public long Count { get; set; }

    /// <summary>The smallest finite value (0 while <see cref="Count"/> is 0).</summary>
    public double Min { get; set; }

    /// <summary>The largest finite value (0 while <see cref="Count"/> is 0).</summary>
    public double Max { get; set; }

    /// <summary>Adds a value; NaN and infinities are left out.</summary>
    public void Add(double v) => Add(v, buckets: true);

    /// <summary>Adds a value to count, min and max, and to the buckets when <paramref name="buckets"/> (else <see cref="AddBuckets"/> adds it later).</summary>
    public void Add(double v, bool buckets)
    {
        if (!double.IsFinite(v)) return;
        if (Count == 0 || v < Min) Min = v;
        if (Count == 0 || v > Max) Max = v;
        Count++;
        if (buckets) CollectionsMarshal.GetValueRefOrAddDefault(Buckets, Key(v), out _)++;
    }

    /// <summary>
    /// Adds the buckets of counted values whose count, min and max are in already: <paramref name="counts"/> by value
    /// (or by a double's bits when <paramref name="floats"/>); non-finite values are left out, as <see cref="Add(double)"/> does.
    /// </summary>
    public void AddBuckets(Dictionary<long, long> counts, bool floats)
    {
        foreach (var (key, n) in counts)
        {
            double v = floats ? BitConverter.Int64BitsToDouble(key) : key;
            if (!double.IsFinite(v)) continue;
            CollectionsMarshal.GetValueRefOrAddDefault(Buckets, Key(v), out _) += n;
        }
    }

    /// <summary>A copy (its own buckets).</summary>
    public LabelSketch Copy() => new() { Buckets = new Dictionary<long, long>(Buckets), Count = Count, Min = Min, Max = Max };

    /// <summary>Adds another sketch's counts.</summary>
    public void Merge(LabelSketch other)
    {
        if (other.Count == 0) return;
        if (Count == 0 || other.Min < Min) Min = other.Min;
        if (Count == 0 || other.Max > Max) Max = other.Max;
        Count += other.Count;
        foreach (var (k, n) in other.Buckets) CollectionsMarshal.GetValueRefOrAddDefault(Buckets, k, out _) += n;
    }

    private static long Key(double v)
    {
        double a = Math.Abs(v);
        if (a < 1e-300) return 0;
        long k = (long)Math.Ceiling(Math.Log(a) / s_logGamma);
        return v > 0 ? Offset + k : -(Offset + k);
    }

    private static double Value(long key)
    {
        if (key == 0) return 0;
        long k = Math.Abs(key) - Offset;
        double mid = 2 * Math.Pow(s_gamma, k) / (s_gamma + 1);
        return key > 0 ? mid : -mid;
    }

    /// <summary>The summary from the buckets (<see cref="LabelSummary.Exact"/> false).</summary>
    public LabelSummary Summary()
    {
        var keys = Buckets.Keys.Order().ToList();
        var summary = new LabelSummary { Count = Count, Min = Min, Max = Max, Exact = false };
        foreach (var (name, q) in LabelSummary.Levels)
        {
            long rank = LabelSummary.Rank(q, Count), seen = 0;
            foreach (long key in keys)
            {
                seen += Buckets[key];
                if (seen >= rank) { summary.Quantiles[name] = Math.Clamp(Value(key), Min, Max); break; }
            }
        }
        return summary;
    }
}
