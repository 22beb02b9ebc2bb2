namespace DataPrep.Splits;

/// <summary>
/// Times (UTC ticks) in ascending order for <see cref="TimeSplitAssigner"/>'s cut: one array, or consecutive parts read
/// one after another (the batches of a time split's first pass), so a planned split needs no copy of every time.
/// </summary>
internal sealed class SortedTimes
{
    private readonly long[][] _parts;
    private readonly int[] _lengths;
    private readonly int[] _starts;

    /// <summary>One array, every element a time.</summary>
    public SortedTimes(long[] times)
        : this([times], [times.Length])
    {
    }

    /// <summary>The first <paramref name="lengths"/>[k] times of each part <paramref name="parts"/>[k], in that order.</summary>
    public SortedTimes(long[][] parts, int[] lengths)
    {
        _parts = parts;
        _lengths = lengths;
        _starts = new int[parts.Length + 1];
        for (int k = 0; k < parts.Length; k++) _starts[k + 1] = checked(_starts[k] + lengths[k]);
        Count = _starts[^1];
        Single = parts.Length == 1 && parts[0].Length == Count ? parts[0] : null;
    }

    /// <summary>The number of times.</summary>
    public int Count { get; }

    /// <summary>The one array holding exactly the times, or null when they are in parts.</summary>
    public long[]? Single { get; }

    /// <summary>The <paramref name="i"/>-th time.</summary>
    public long this[int i]
    {
        get
        {
            if (Single is { } one) return one[i];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(i));
            int k = Array.BinarySearch(_starts, i);
            if (k < 0) k = ~k - 1;
            while (_lengths[k] == 0 || i >= _starts[k + 1]) k++; // empty parts share their start with the next
            return _parts[k][i - _starts[k]];
        }
    }

    /// <summary>The first index in [<paramref name="from"/>, <paramref name="to"/>) whose time is at least <paramref name="value"/> (<paramref name="to"/> when none).</summary>
    public int LowerBound(long value, int from, int to)
    {
        int lo = from, hi = to;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (this[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>The number of distinct times.</summary>
    public long Distinct()
    {
        long distinct = 0, previous = 0;
        bool first = true;
        for (int k = 0; k < _parts.Length; k++)
        {
            foreach (long t in _parts[k].AsSpan(0, _lengths[k]))
            {
                if (first || t != previous) distinct++;
                previous = t;
                first = false;
            }
        }
        return distinct;
    }
}
