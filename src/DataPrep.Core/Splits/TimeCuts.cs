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
