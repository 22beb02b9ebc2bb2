using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Splits;

/// <summary>
/// The bounded plan of a time split (issue 16): the cut-offs and gaps found from a histogram of times and passes that keep
/// only the rows of the bins holding a position (<see cref="TimeSplitCuts"/>) tag every row, by
/// <see cref="TimeSplitAssigner.TagOf"/>, exactly as <see cref="TimeSplitAssigner.Assign"/> does over all rows, and give its
/// report (time ranges, targets, rows dropped inside each gap).
/// </summary>
public class TimeSplitCutsTests
{
    private static readonly long s_base = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    /// <summary>Random cut-offs on the hour grid of the times (one before each non-empty split after the first); null when there are too few hours.</summary>
    private static DateTimeOffset[]? Cutoffs(Random random, int distinct, double[] fractions)
    {
        int needed = fractions.Count(f => f > 0) - 1;
        var cutoffs = Enumerable.Range(0, distinct + 2).OrderBy(_ => random.Next()).Take(needed).Order()
            .Select(h => new DateTimeOffset(s_base + (h - 1) * TimeSpan.TicksPerHour, TimeSpan.Zero)).ToArray();
        return cutoffs.Length < needed ? null : cutoffs;
    }

    /// <summary>
    /// A planned split (rows in time order) tags from the first pass's batches where they are (<see cref="SortedTimes"/> in
    /// parts, each array possibly longer than its batch) a run of equal tags at a time: the tags and the report are those of
    /// <see cref="TimeSplitAssigner.Assign"/>, which tags row by row, for any fractions (zeros too) or cutoffs, any gap.
    /// </summary>
    [Property(MaxTest = 400)]
    public Property Tags_in_time_order_from_parts_are_the_assigners(int[] raw, PositiveInt spread, PositiveInt a, NonNegativeInt b, NonNegativeInt c,
        NonNegativeInt gapHours, bool byCutoffs, int seed)
    {
        var random = new Random(seed);
        int distinct = spread.Get % 40 + 1;
        var ticks = raw.Concat(raw.Select(r => r / 3)).Select(r => s_base + (((long)r % distinct + distinct) % distinct) * TimeSpan.TicksPerHour).Order().ToArray();
        int n = ticks.Length;
        if (n == 0) return true.ToProperty();
        var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
        double total = a.Get + (double)b.Get + c.Get;
        double[] fractions = [a.Get / total, b.Get / total, c.Get / total];
        var cutoffs = byCutoffs ? Cutoffs(random, distinct, fractions) : null;
        if (byCutoffs && cutoffs is null) return true.ToProperty();
        var assigner = new TimeSplitAssigner("t", fractions, cutoffs, TimeSpan.FromHours(gapHours.Get % 4));
        var schema = new Schema([new Field("t", ColumnKind.Timestamp)]);
        var input = new SplitInput([new RecordBatch(schema, [new TimestampColumn(ticks, null, n)], n, RowInfo.Sequential(0, 0, n))], schema);
        var expected = new RunContext();
        assigner.Bind(schema);
        var tags = assigner.Assign(input, expected).Tags;

        // The first pass's batches: random sizes, some arrays longer than their batch (a row group's first batch).
        var parts = new List<long[]>();
        var lengths = new List<int>();
        for (int at = 0; at < n;)
        {
            int k = Math.Min(n - at, random.Next(1, 40));
            var part = new long[k + (random.Next(3) == 0 ? random.Next(1, 9) : 0)];
            ticks.AsSpan(at, k).CopyTo(part);
            part.AsSpan(k).Fill(long.MinValue + random.Next(3)); // never read
            parts.Add(part);
            lengths.Add(k);
            at += k;
        }
        var context = new RunContext();
        var got = assigner.AssignInTimeOrder(new SortedTimes([.. parts], [.. lengths]), context);
        string label = $"n={n} parts={parts.Count} f=[{string.Join(",", fractions)}] cutoffs={cutoffs?.Length}";
        if (!tags.SequenceEqual(got)) return false.Label("tags " + label);
        bool same = expected.Report.Warnings.SequenceEqual(context.Report.Warnings)
            && expected.Report.Dropped.SequenceEqual(context.Report.Dropped)
            && expected.Report.Splits.Count == context.Report.Splits.Count
            && expected.Report.Splits.All(kv => context.Report.Splits.TryGetValue(kv.Key, out var r)
                && r.TimeFrom == kv.Value.TimeFrom && r.TimeTo == kv.Value.TimeTo && r.TargetFraction == kv.Value.TargetFraction);
        return same.Label("report " + label);
    }

    /// <summary>
    /// Random times with many ties (a few distinct hours, all in one first-level bin, so tiny memory bounds narrow level by
    /// level down to single times, where row ids decide), rows in no order, any fractions (zeros too) or cutoffs, any gap.
    /// </summary>
    [Property(MaxTest = 400)]
    public Property Cut_offs_give_the_tags_and_the_report_of_the_assigner(int[] raw, PositiveInt spread, PositiveInt a, NonNegativeInt b, NonNegativeInt c,
        NonNegativeInt gapHours, bool byCutoffs, PositiveInt held, int seed)
    {
        var random = new Random(seed);
        int distinct = spread.Get % 40 + 1;
        var ticks = raw.Concat(raw.Select(r => r / 3)).Select(r => s_base + (((long)r % distinct + distinct) % distinct) * TimeSpan.TicksPerHour).ToArray();
        int n = ticks.Length;
        if (n == 0) return true.ToProperty();
        var ids = Enumerable.Range(1, n).Select(i => RowInfo.MakeRowId(random.Next(3), i)).OrderBy(_ => random.Next()).ToArray();
        double total = a.Get + (double)b.Get + c.Get;
        double[] fractions = [a.Get / total, b.Get / total, c.Get / total];
        var cutoffs = byCutoffs ? Cutoffs(random, distinct, fractions) : null;
        if (byCutoffs && cutoffs is null) return true.ToProperty();
        var gap = TimeSpan.FromHours(gapHours.Get % 4);
        var assigner = new TimeSplitAssigner("t", fractions, cutoffs, gap);

        // One process: every row at once.
        var schema = new Schema([new Field("t", ColumnKind.Timestamp)]);
        var info = new RowInfo(ids, ids.Select(i => (int)(i >> 40)).ToArray(), ids.Select(i => i & ((1L << 40) - 1)).ToArray());
        var input = new SplitInput([new RecordBatch(schema, [new TimestampColumn(ticks, null, n)], n, info)], schema);
        var expected = new RunContext();
        assigner.Bind(schema);
        var tags = assigner.Assign(input, expected).Tags;

        // Bounded: a histogram, then passes in chunks of random sizes.
        var histogram = new long[RandomSplitCuts.Bins];
        foreach (long t in ticks) histogram[TimeSplitCuts.BinOf(t)]++;
        IEnumerable<TimedRows> Pass()
        {
            for (int at = 0; at < n;)
            {
                int k = Math.Min(n - at, random.Next(1, 50));
                yield return new TimedRows(ticks[at..(at + k)], ids[at..(at + k)], k);
                at += k;
            }
        }
        int bound = held.Get % 8 + 1;
        var (cuts, parts, after) = TimeSplitCuts.Find(assigner, n, histogram, Pass, bound);
        var got = ticks.Select(t => TimeSplitAssigner.TagOf(t, cuts)).ToArray();
        string label = $"n={n} f=[{string.Join(",", fractions)}] cutoffs={cutoffs?.Length} gap={gap} held={bound}";
        if (!tags.SequenceEqual(got)) return false.Label("tags " + label);

        // The report: the one process's, warnings of empty splits too (their distinct times counted in passes that hold at
        // most `bound` times, a range of one time read by none).
        long largest = 0;
        long distinctTimes = TimeSplitCuts.DistinctTimes(histogram, Pass, bound, rows => largest = Math.Max(largest, rows));
        if (distinctTimes != ticks.Distinct().Count()) return false.Label($"distinct {distinctTimes} " + label);
        if (largest > bound) return false.Label($"{largest} times held at once " + label);
        var context = new RunContext();
        assigner.Report(context, parts, after, n);
        assigner.WarnAboutEmptySplits(context, n, parts, () => TimeSplitCuts.DistinctTimes(histogram, Pass, bound));
        bool same = expected.Report.Warnings.SequenceEqual(context.Report.Warnings)
            && expected.Report.Dropped.SequenceEqual(context.Report.Dropped)
            && expected.Report.Splits.Keys.SequenceEqual(context.Report.Splits.Keys)
            && expected.Report.Splits.All(kv => context.Report.Splits[kv.Key] is var s
                && s.TimeFrom == kv.Value.TimeFrom && s.TimeTo == kv.Value.TimeTo && s.TargetFraction == kv.Value.TargetFraction);
        return same.Label("report " + label);
    }

    [Fact]
    public void Ties_at_a_cut_stay_in_the_earlier_split_and_the_gap_after_it_is_dropped_and_counted()
    {
        // Hours 0..9, ten rows each. 45/25/30 of 100 rows cuts after row 45 (inside hour 4) and row 70 (end of hour 6):
        // train hours 0..4, validation 5..6, test 7..9. A gap of 90 minutes drops hour 5 and hour 7.
        var ticks = Enumerable.Range(0, 100).Select(i => s_base + i / 10 * TimeSpan.TicksPerHour).ToArray();
        var assigner = new TimeSplitAssigner("t", [0.45, 0.25, 0.3], gap: TimeSpan.FromMinutes(90));
        var histogram = new long[RandomSplitCuts.Bins];
        foreach (long t in ticks) histogram[TimeSplitCuts.BinOf(t)]++;
        var ids = Enumerable.Range(0, 100).Select(i => (long)i).ToArray();
        var (cuts, parts, after) = TimeSplitCuts.Find(assigner, 100, histogram, () => [new TimedRows(ticks, ids, 100)], 3);
        var tags = ticks.Select(t => TimeSplitAssigner.TagOf(t, cuts)).ToArray();
        Assert.Equal([50, 10, 20, 20], new[] { SplitTag.Train, SplitTag.Validation, SplitTag.Test, SplitTag.None }.Select(s => tags.Count(t => t == s)));
        Assert.Equal("|train|validation", string.Join("|", after));
        Assert.Equal([0L, 10L, 10L], parts.Select(p => p.Dropped));
        var context = new RunContext();
        assigner.WarnAboutEmptySplits(context, 100, parts, () => throw new InvalidOperationException("no split is empty: the distinct times are not asked for"));
        Assert.Empty(context.Report.Warnings);
    }
}
