namespace DataPrep.Splits;

/// <summary>
/// A time split as cut-offs (UTC ticks), the one rule by which a row's time gives its split
/// (<see cref="TimeSplitAssigner.TagOf"/>), in one process and in the scaled-out plan alike.
/// </summary>
/// <remarks>
/// Split <c>s</c> (train, validation, test) takes the times <c>t</c> with <c>Ends[s−1] ≤ t &lt; Ends[s]</c>: a row goes to
/// the first split whose end lies above its time (an empty split has an end at or below the one before it). The gap then
/// drops the rows of split <c>s</c> with <c>t &lt; Keep[s]</c> (<see cref="long.MinValue"/>: none dropped).
/// </remarks>
internal sealed class TimeCuts
{
    /// <summary>The exclusive upper bound of each split's times, in split order; <see cref="long.MaxValue"/> for none.</summary>
    public long[] Ends { get; set; } = [long.MaxValue, long.MaxValue, long.MaxValue];

    /// <summary>The earliest time each split keeps after the gap (<see cref="long.MinValue"/> when no gap applies).</summary>
    public long[] Keep { get; set; } = [long.MinValue, long.MinValue, long.MinValue];
}

/// <summary>
/// Where a fold of time folds starts (<see cref="KFoldAssigner"/>, <see cref="KFoldAssigner.FoldOfTime"/>): at the time of
/// the row at the fold's exact count position in time order, or just after it when that row shares its time with the row
/// before it (ties stay in the earlier fold). A fold that starts at no row (fewer rows than folds) has no cut.
/// </summary>
internal sealed class TimeFoldCut
{
    /// <summary>The fold that starts here.</summary>
    public int Fold { get; set; }

    /// <summary>The time (<see cref="KFoldAssigner.FoldTimeOf"/>) of the row at the fold's count position.</summary>
    public long Time { get; set; }

    /// <summary>Whether the fold starts after <see cref="Time"/> (its rows of that time stay in the earlier fold) rather than at it.</summary>
    public bool After { get; set; }
}

/// <summary>One split of a time split before the gap: its rows, latest time, and what the gap leaves of it.</summary>
internal struct TimeSplitPart
{
    /// <summary>Rows with the split's times (before the gap).</summary>
    public long Count;

    /// <summary>The latest time among them.</summary>
    public long Max;

    /// <summary>Rows dropped inside the gap before the split.</summary>
    public long Dropped;

    /// <summary>The earliest time kept after the gap.</summary>
    public long MinKept;
}

/// <summary>Rows of one pass over a run's rows: times (UTC ticks) and row ids of the first <see cref="Count"/> rows (a pass may reuse the arrays for its next batch).</summary>
internal readonly record struct TimedRows(long[] Ticks, long[] Ids, int Count);

/// <summary>
/// Finds a time split's cut-offs without holding every row (issue 16), as <see cref="TimeSplitAssigner"/> cuts them over
/// all rows: in fraction mode, the times at the exact count positions from a histogram of the times' keys
/// (<see cref="TimeSplitAssigner.KeyOf"/>) and passes that keep only the rows of the bins holding a position
/// (<see cref="RandomSplitCuts.Locate"/>); with cutoffs, the given instants. Then one pass counts each split's rows and
/// latest time (which set the gaps), and with a gap one more counts the rows dropped inside each gap and the earliest
/// kept time. Memory: the histogram and at most <c>maxHeld</c> rows per position.
/// </summary>
internal static class TimeSplitCuts
{
    /// <summary>The histogram bin of a time.</summary>
    public static int BinOf(long utcTicks) => RandomSplitCuts.BinOf(TimeSplitAssigner.KeyOf(utcTicks));

    /// <summary>
    /// The cuts of <paramref name="assigner"/> over <paramref name="rows"/> rows, each split's part and the split each gap
    /// follows. <paramref name="histogram"/> counts every row by <see cref="BinOf"/>; <paramref name="pass"/> streams every
    /// row (in any order, the same rows each time).
    /// </summary>
    public static (TimeCuts Cuts, TimeSplitPart[] Parts, string?[] After) Find(TimeSplitAssigner assigner, long rows, long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld)
    {
        var cuts = assigner.EndsOf(rows, positions => Locate(rows, positions, histogram, pass, maxHeld).Select(f => f.Ticks).ToArray());
        var parts = new TimeSplitPart[3];
        var minOf = new long[3];
        Array.Fill(minOf, long.MaxValue);
        for (int s = 0; s < 3; s++) parts[s].Max = long.MinValue;
        foreach (var b in pass())
        {
            for (int r = 0; r < b.Count; r++)
            {
                long t = b.Ticks[r];
                int s = TimeSplitAssigner.SplitOf(t, cuts);
                parts[s].Count++;
                parts[s].Max = Math.Max(parts[s].Max, t);
                minOf[s] = Math.Min(minOf[s], t);
            }
        }
        var after = assigner.SetGaps(cuts, parts);
        if (cuts.Keep.Any(k => k != long.MinValue))
        {
            Array.Fill(minOf, long.MaxValue);
            foreach (var b in pass())
            {
                for (int r = 0; r < b.Count; r++)
                {
                    long t = b.Ticks[r];
                    int s = TimeSplitAssigner.SplitOf(t, cuts);
                    if (t < cuts.Keep[s]) parts[s].Dropped++;
                    else minOf[s] = Math.Min(minOf[s], t);
                }
            }
        }
        for (int s = 0; s < 3; s++) parts[s].MinKept = minOf[s];
        return (cuts, parts, after);
    }

    /// <summary>
    /// The number of distinct times among the rows <paramref name="pass"/> streams, counted over ranges of
    /// <paramref name="histogram"/>'s bins (<see cref="BinOf"/> keeps time order, so one time lies in one bin): a pass
    /// per range, holding the range's times sorted, at most <paramref name="maxHeld"/> of them (one bin at least).
    /// </summary>
    public static long DistinctTimes(long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld)
    {
        long distinct = 0;
        for (int lo = 0; lo < histogram.Length;)
        {
            if (histogram[lo] == 0) { lo++; continue; }
            int hi = lo;
            long held = 0;
            while (hi < histogram.Length && (hi == lo || held + histogram[hi] <= maxHeld)) held += histogram[hi++];
            var times = new long[checked((int)held)];
            int n = 0;
            foreach (var b in pass())
            {
                for (int r = 0; r < b.Count; r++)
                {
                    int bin = BinOf(b.Ticks[r]);
                    if (bin >= lo && bin < hi)
                    {
                        if (n == times.Length) throw RowsChanged();
                        times[n++] = b.Ticks[r];
                    }
                }
            }
            if (n != times.Length) throw RowsChanged();
            Array.Sort(times);
            for (int i = 0; i < n; i++) if (i == 0 || times[i] != times[i - 1]) distinct++;
            lo = hi;
        }
        return distinct;

        static InvalidOperationException RowsChanged() => new("The rows changed between two passes over the time column.");
    }

    /// <summary>The rows (time, row id) at <paramref name="positions"/> of the (time, row id) order.</summary>
    public static (long Ticks, long Id)[] Locate(long rows, IReadOnlyList<long> positions, long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld)
    {
        IEnumerable<HashedRows> Keyed()
        {
            var keys = Array.Empty<ulong>();
            foreach (var b in pass())
            {
                if (keys.Length < b.Count) keys = new ulong[b.Count];
                for (int r = 0; r < b.Count; r++) keys[r] = TimeSplitAssigner.KeyOf(b.Ticks[r]);
                yield return new HashedRows(keys, b.Ids, b.Count);
            }
        }
        return RandomSplitCuts.Locate(rows, positions, histogram, Keyed, maxHeld).Select(f => (TimeSplitAssigner.TicksOf(f.Hash), f.Id)).ToArray();
    }

    /// <summary>
    /// The bucket of a row of an unshuffled time split exchanged by time: the number of <paramref name="starts"/> (the rows
    /// at every N-th position of the (time, row id) order) at or before its (time, row id).
    /// </summary>
    public static int BucketOf(IReadOnlyList<SplitCut> starts, long utcTicks, long id)
    {
        ulong key = TimeSplitAssigner.KeyOf(utcTicks);
        int bucket = 0;
        foreach (var c in starts)
        {
            if (key < c.Hash || (key == c.Hash && id < c.Id)) break;
            bucket = c.Split;
        }
        return bucket;
    }
}
