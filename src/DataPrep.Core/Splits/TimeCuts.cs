using DataPrep.Data;

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

/// <summary>
/// Rows of one pass over a run's rows: times (UTC ticks), row ids and, for time folds, fold times
/// (<see cref="KFoldAssigner.FoldTimeOf"/>) of the first <see cref="Count"/> rows (a pass may reuse the arrays for its next
/// batch). Time folds without a test split have no ticks (empty).
/// </summary>
internal readonly record struct TimedRows(long[] Ticks, long[] Ids, int Count, long[]? FoldTimes = null);

/// <summary>
/// How rows are tagged from their times once a run is cut: each row's split from its ticks and the time split's
/// cut-offs (<see cref="TimeSplitAssigner.TagOf"/>; every row in train without them), and with time folds each train
/// row's fold from its fold time and the folds' starts (<see cref="KFoldAssigner.FoldOfTime"/>; −1 outside train).
/// </summary>
internal sealed class TimeTagger(TimeCuts? cuts, IReadOnlyList<TimeFoldCut>? foldCuts)
{
    /// <summary>The time split's cut-offs, or null when every row is in train (time folds without a test split).</summary>
    public TimeCuts? Cuts => cuts;

    /// <summary>Whether rows get folds.</summary>
    public bool HasFolds => foldCuts is not null;

    /// <summary>Tags the rows of <paramref name="tags"/> (and their folds, when <see cref="HasFolds"/>) from their <paramref name="ticks"/> and <paramref name="foldTimes"/>.</summary>
    public void Tag(ReadOnlySpan<long> ticks, ReadOnlySpan<long> foldTimes, Span<SplitTag> tags, Span<short> folds)
    {
        if (cuts is null) tags.Fill(SplitTag.Train);
        else for (int j = 0; j < tags.Length; j++) tags[j] = TimeSplitAssigner.TagOf(ticks[j], cuts);
        if (foldCuts is null) return;
        for (int j = 0; j < tags.Length; j++) folds[j] = tags[j] == SplitTag.Train ? KFoldAssigner.FoldOfTime(foldCuts, foldTimes[j]) : (short)-1;
    }
}

/// <summary>
/// Times as order-preserving keys scaled to a run's range [<paramref name="min"/>, <paramref name="max"/>]: the time after
/// the earliest, shifted to fill 64 bits, so that the 65,536 bins of a histogram of the keys (<see cref="RandomSplitCuts.BinOf"/>)
/// cover the run's range of times, not a handful of bins of all of long's. Exact both ways for times in the range.
/// </summary>
internal readonly struct ScaledTimes(long min, long max)
{
    private readonly int _shift = max <= min ? 0 : System.Numerics.BitOperations.LeadingZeroCount(unchecked((ulong)(max - min)));

    /// <summary>The key of a time in the range.</summary>
    public ulong KeyOf(long time) => unchecked((ulong)(time - min)) << _shift;

    /// <summary>The time of a key.</summary>
    public long TimeOf(ulong key) => unchecked(min + (long)(key >> _shift));
}

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
    /// The number of distinct times among the rows <paramref name="pass"/> streams, counted over ranges of their keys
    /// (<see cref="TimeSplitAssigner.KeyOf"/>, in time order), starting from <paramref name="histogram"/>'s bins: ranges of
    /// at most <paramref name="maxHeld"/> rows together are read in one pass, sorted and counted; a range of more is
    /// counted by its next 16 bits in a pass and its parts taken in turn; a range of one key is one time, read by no pass.
    /// No pass holds more than <paramref name="maxHeld"/> times (<paramref name="onHeld"/> hears how many each held), or
    /// more than as many bytes of counters.
    /// </summary>
    public static long DistinctTimes(long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld, Action<long>? onHeld = null)
    {
        const int Bits = RandomSplitCuts.BinBits;
        long distinct = 0;
        // Ranges [Lo, Lo + 2^Shift) of keys and their rows.
        var pending = new List<(ulong Lo, int Shift, long Rows)>();
        for (int b = 0; b < histogram.Length; b++) if (histogram[b] > 0) pending.Add(((ulong)b << (64 - Bits), 64 - Bits, histogram[b]));
        while (pending.Count > 0)
        {
            distinct += pending.Count(r => r.Shift == 0);
            var small = pending.Where(r => r.Shift > 0 && r.Rows <= maxHeld).ToList();
            var large = pending.Where(r => r.Shift > 0 && r.Rows > maxHeld).ToList();
            pending = [];
            // Small ranges, as many as fit in one read (one at least), their times held, sorted and counted.
            for (int at = 0; at < small.Count;)
            {
                int end = at;
                long held = 0;
                while (end < small.Count && (end == at || held + small[end].Rows <= maxHeld)) held += small[end++].Rows;
                var ranges = small.GetRange(at, end - at);
                var times = new ulong[checked((int)held)];
                int n = 0;
                ForEachIn(ranges, pass, (key, _) =>
                {
                    if (n == times.Length) throw RowsChanged();
                    times[n++] = key;
                });
                if (n != times.Length) throw RowsChanged();
                onHeld?.Invoke(n);
                Array.Sort(times);
                for (int i = 0; i < n; i++) if (i == 0 || times[i] != times[i - 1]) distinct++;
                at = end;
            }
            // Large ranges, as many as their counters fit in maxHeld times' bytes (one at least), counted by their next bits.
            for (int at = 0; at < large.Count;)
            {
                int end = Math.Min(large.Count, at + (int)Math.Clamp(maxHeld / (1L << Bits), 1, int.MaxValue));
                var ranges = large.GetRange(at, end - at);
                var counts = ranges.Select(r => new long[1 << Math.Min(Bits, r.Shift)]).ToArray();
                ForEachIn(ranges, pass, (key, k) => counts[k][(int)((key - ranges[k].Lo) >> (ranges[k].Shift - Math.Min(Bits, ranges[k].Shift)))]++);
                for (int k = 0; k < ranges.Count; k++)
                {
                    var (lo, shift, rows) = ranges[k];
                    int bits = Math.Min(Bits, shift);
                    if (counts[k].Sum() != rows) throw RowsChanged();
                    for (int sub = 0; sub < counts[k].Length; sub++)
                    {
                        if (counts[k][sub] > 0) pending.Add((lo + ((ulong)sub << (shift - bits)), shift - bits, counts[k][sub]));
                    }
                }
                at = end;
            }
        }
        return distinct;

        static InvalidOperationException RowsChanged() => new("The rows changed between two passes over the time column.");
    }

    /// <summary>Calls <paramref name="action"/> with the key of each row <paramref name="pass"/> streams that lies in one of <paramref name="ranges"/> (sorted, apart) and that range's index.</summary>
    private static void ForEachIn(List<(ulong Lo, int Shift, long Rows)> ranges, Func<IEnumerable<TimedRows>> pass, Action<ulong, int> action)
    {
        var lows = ranges.Select(r => r.Lo).ToArray();
        foreach (var b in pass())
        {
            for (int r = 0; r < b.Count; r++)
            {
                ulong key = TimeSplitAssigner.KeyOf(b.Ticks[r]);
                int k = Array.BinarySearch(lows, key);
                if (k < 0) k = ~k - 1;
                if (k >= 0 && (key - lows[k]) >> ranges[k].Shift == 0) action(key, k);
            }
        }
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
    /// Time folds' starts (<see cref="TimeFoldCut"/>), as <see cref="KFoldAssigner"/> cuts them over all rows, without holding
    /// every row: over the pool — the rows <paramref name="pass"/> streams that <paramref name="cuts"/> put in train (every
    /// row without cuts) — one pass finds the range of their fold times, one counts them by the top 16 bits of their keys
    /// scaled to that range (<see cref="ScaledTimes"/>), and <see cref="RandomSplitCuts.Locate"/> finds the rows at each
    /// fold's exact count position and just before it: a fold starts at that row's time, or just after it when the row before
    /// has the same time (ties stay in the earlier fold). The one rule of one process's spilled time folds and of the
    /// scaled-out plan's. Memory: the histogram and at most <paramref name="maxHeld"/> rows per position.
    /// </summary>
    public static List<TimeFoldCut> FindFolds(int k, TimeCuts? cuts, Func<IEnumerable<TimedRows>> pass, long maxHeld)
    {
        bool InPool(in TimedRows b, int r) => cuts is null || TimeSplitAssigner.TagOf(b.Ticks[r], cuts) == SplitTag.Train;
        long pool = 0, min = long.MaxValue, max = long.MinValue;
        foreach (var b in pass())
        {
            var times = b.FoldTimes ?? throw new ArgumentException("Time folds' passes need the fold times.", nameof(pass));
            for (int r = 0; r < b.Count; r++)
            {
                if (!InPool(b, r)) continue;
                pool++;
                min = Math.Min(min, times[r]);
                max = Math.Max(max, times[r]);
            }
        }
        var foldCuts = new List<TimeFoldCut>();
        if (pool == 0) return foldCuts;
        var scale = new ScaledTimes(min, max);
        IEnumerable<HashedRows> Pool()
        {
            var keys = Array.Empty<ulong>();
            var ids = Array.Empty<long>();
            foreach (var b in pass())
            {
                if (keys.Length < b.Count) { keys = new ulong[b.Count]; ids = new long[b.Count]; }
                int n = 0;
                for (int r = 0; r < b.Count; r++)
                {
                    if (!InPool(b, r)) continue;
                    keys[n] = scale.KeyOf(b.FoldTimes![r]);
                    ids[n++] = b.Ids[r];
                }
                yield return new HashedRows(keys, ids, n);
            }
        }
        var (bins, counted) = RandomSplitCuts.Histogram(Pool());
        if (counted != pool) throw new InvalidOperationException("The rows changed between two passes over the time column.");
        var counts = RandomSplitter.ExactCounts(pool, KFoldAssigner.FoldFractions(k));
        var starts = new List<(int Fold, long Position)>();
        long position = 0;
        for (int f = 1; f < k; f++)
        {
            position += counts[f - 1];
            if (position < pool) starts.Add((f, position));
        }
        if (starts.Count == 0) return foldCuts;
        // Each start's row and the row before it (a start is never at position 0: fold 0 holds a row first).
        var found = RandomSplitCuts.Locate(pool, [.. starts.SelectMany(s => new[] { s.Position - 1, s.Position })], bins, Pool, maxHeld);
        for (int i = 0; i < starts.Count; i++)
        {
            long before = scale.TimeOf(found[2 * i].Hash), at = scale.TimeOf(found[2 * i + 1].Hash);
            foldCuts.Add(new TimeFoldCut { Fold = starts[i].Fold, Time = at, After = before == at });
        }
        return foldCuts;
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
