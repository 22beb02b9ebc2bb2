using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Splits;

/// <summary>Leakage contract §3.3 for <see cref="TimeSplitAssigner"/>, plus every error message.</summary>
public class TimeSplitAssignerTests
{
    private static readonly long s_base = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly double[] s_701515 = [0.7, 0.15, 0.15];

    // ---------- helpers ----------

    private static long Hours(int h) => s_base + h * TimeSpan.TicksPerHour;

    private static TimestampColumn Times(long[] ticks, bool[]? nulls = null) => new(ticks, nulls, ticks.Length);

    /// <summary>Rows with the given time column (plus a payload column), cut into batches of the given sizes.</summary>
    private static SplitInput Input(Column time, IReadOnlyList<int>? batchSizes = null, long[]? rowIds = null, int source = 0)
    {
        int n = time.Length;
        rowIds ??= Enumerable.Range(1, n).Select(i => RowInfo.MakeRowId(source, i)).ToArray();
        var schema = new Schema([new Field("t", time.Kind), new Field("x", ColumnKind.Int64)]);
        var payload = new Int64Column(rowIds.ToArray());
        var batches = new List<RecordBatch>();
        int at = 0;
        foreach (int size in batchSizes ?? [n])
        {
            var rows = Enumerable.Range(at, size).ToArray();
            var info = new RowInfo(
                rows.Select(r => rowIds[r]).ToArray(),
                rows.Select(r => (int)(rowIds[r] >> 40)).ToArray(),
                rows.Select(r => rowIds[r] & ((1L << 40) - 1)).ToArray());
            batches.Add(new RecordBatch(schema, [time.Take(rows), payload.Take(rows)], size, info));
            at += size;
        }
        Assert.Equal(n, at);
        return new SplitInput(batches, schema);
    }

    private static (SplitAssignment Result, RunContext Context) Run(TimeSplitAssigner assigner, SplitInput input)
    {
        var context = new RunContext();
        context.Inputs.Add("in.csv");
        assigner.Bind(input.Schema);
        return (assigner.Assign(input, context), context);
    }

    private static (SplitAssignment Result, RunContext Context) Run(long[] ticks, IReadOnlyList<double> fractions, TimeSpan? gap = null, IReadOnlyList<DateTimeOffset>? cutoffs = null)
        => Run(new TimeSplitAssigner("t", fractions, cutoffs, gap), Input(Times(ticks)));

    /// <summary>Times from arbitrary ints: <paramref name="spread"/> distinct hours at most, so small spreads give many ties.</summary>
    private static long[] TimesFrom(int[] raw, int spread) => raw.Select(r => Hours((int)(((long)r % spread + spread) % spread))).ToArray();

    private static double[] FractionsFrom(PositiveInt a, NonNegativeInt b, NonNegativeInt c)
    {
        double total = a.Get + (double)b.Get + c.Get;
        return [a.Get / total, b.Get / total, c.Get / total];
    }

    /// <summary>Random batch sizes that add up to n.</summary>
    private static int[] Chunks(int n, int seed)
    {
        var random = new Random(seed);
        var sizes = new List<int>();
        for (int left = n; left > 0;)
        {
            int size = Math.Min(left, random.Next(1, Math.Max(2, n / 3 + 2)));
            sizes.Add(size);
            left -= size;
        }
        if (sizes.Count == 0 || random.Next(4) == 0) sizes.Insert(random.Next(sizes.Count + 1), 0); // empty batches are legal too
        return [.. sizes];
    }

    /// <summary>
    /// An independent statement of "ties go to the earlier split": a row goes to the earliest split s whose
    /// cumulative exact count C_s is positive and whose C_s-th smallest time is ≥ the row's time.
    /// </summary>
    private static SplitTag[] Oracle(long[] ticks, IReadOnlyList<double> fractions)
    {
        var sorted = ticks.Order().ToArray();
        var counts = RandomSplitter.ExactCounts(ticks.Length, fractions);
        var cumulative = new long[3];
        for (int s = 0; s < 3; s++) cumulative[s] = counts[s] + (s > 0 ? cumulative[s - 1] : 0);
        return ticks.Select(t => (SplitTag)Enumerable.Range(0, 3).First(s => cumulative[s] > 0 && t <= sorted[cumulative[s] - 1])).ToArray();
    }

    private static long GapDrops(RunContext context)
        => context.Report.Dropped.Where(kv => kv.Key.StartsWith("inside the gap after ", StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>Leakage contract 1 and 3 (partition, strict order, gap, report); returns the problems found.</summary>
    private static List<string> ContractViolations(long[] ticks, SplitAssignment a, RunContext context, TimeSpan gap)
    {
        var problems = new List<string>();
        var tags = a.Tags;
        int n = ticks.Length;
        if (tags.Length != n) { problems.Add($"{tags.Length} tags for {n} rows"); return problems; }
        if (tags.Any(t => t is not (SplitTag.Train or SplitTag.Validation or SplitTag.Test or SplitTag.None))) problems.Add("unknown tag");

        // 1. Partition: each row in one split or dropped, and every drop counted.
        long dropped = tags.Count(t => t == SplitTag.None);
        if (dropped != GapDrops(context)) problems.Add($"{dropped} rows dropped but {GapDrops(context)} counted");
        if (context.Report.Dropped.Values.Sum() != dropped) problems.Add("drops counted under another reason");
        if (gap <= TimeSpan.Zero && dropped > 0) problems.Add("rows dropped without a gap");
        if (a.Order is { } order && !order.Order().SequenceEqual(Enumerable.Range(0, n))) problems.Add("Order is not a permutation of the positions");

        // 3. Strict order between consecutive non-empty splits, at least `gap` apart.
        var splits = SplitNames.All
            .Select(s => (Tag: s, Times: Enumerable.Range(0, n).Where(i => tags[i] == s).Select(i => ticks[i]).ToArray()))
            .Where(x => x.Times.Length > 0).ToArray();
        for (int k = 1; k < splits.Length; k++)
        {
            long prevMax = splits[k - 1].Times.Max(), nextMin = splits[k].Times.Min();
            if (!(prevMax < nextMin)) problems.Add($"max(t|{splits[k - 1].Tag.Name()}) = {prevMax} is not < min(t|{splits[k].Tag.Name()}) = {nextMin}");
            if (nextMin - prevMax < gap.Ticks) problems.Add($"{splits[k - 1].Tag.Name()} and {splits[k].Tag.Name()} are only {TimeSpan.FromTicks(nextMin - prevMax)} apart");
        }

        // Gap: every dropped row lies within `gap` after the latest kept time before it.
        var kept = Enumerable.Range(0, n).Where(i => tags[i] != SplitTag.None).Select(i => ticks[i]).ToArray();
        foreach (int i in Enumerable.Range(0, n).Where(i => tags[i] == SplitTag.None))
        {
            var before = kept.Where(t => t < ticks[i]).ToArray();
            if (kept.Contains(ticks[i])) problems.Add($"a dropped row shares time {ticks[i]} with a kept row");
            if (before.Length == 0 || ticks[i] - before.Max() >= gap.Ticks) problems.Add($"dropped row {i} at {ticks[i]} is not inside a gap");
        }

        // Report: time range of every non-empty split, nothing for empty ones.
        foreach (var s in SplitNames.All)
        {
            var times = splits.FirstOrDefault(x => x.Tag == s).Times;
            bool reported = context.Report.Splits.TryGetValue(s.Name(), out var r);
            if (times is null) { if (reported) problems.Add($"empty {s.Name()} reported"); continue; }
            if (!reported) { problems.Add($"{s.Name()} not reported"); continue; }
            if (r!.TimeFrom != TimeSplitAssigner.Iso(times.Min()) || r.TimeTo != TimeSplitAssigner.Iso(times.Max()))
            {
                problems.Add($"{s.Name()} reported {r.TimeFrom}..{r.TimeTo}");
            }
        }
        return problems;
    }

    /// <summary>T(rain), V(alidation), (t)E(st), - (dropped) per row.</summary>
    private static string Letters(SplitTag[] tags)
        => string.Concat(tags.Select(t => t switch { SplitTag.Train => 'T', SplitTag.Validation => 'V', SplitTag.Test => 'E', _ => '-' }));

    private static string Show(long[] ticks, SplitTag[] tags)
        => string.Join(" ", ticks.Zip(tags).Select(x => $"{(x.First - s_base) / TimeSpan.TicksPerHour}h:{x.Second.Name()[0]}"));

    // ---------- properties ----------

    /// <summary>(1)–(4): partition, strict order, ties to the earlier split, gap — with many ties and any fractions.</summary>
    [Property(MaxTest = 300)]
    public Property Contract_holds_for_any_times_fractions_and_gap(int[] raw, byte spread, PositiveInt a, NonNegativeInt b, NonNegativeInt c, byte gapHours)
    {
        var ticks = TimesFrom(raw, spread % 40 + 1);
        var f = FractionsFrom(a, b, c);
        var gap = TimeSpan.FromHours(gapHours % 6);
        var (result, context) = Run(ticks, f, gap);
        var problems = ContractViolations(ticks, result, context, gap);

        // Ties go to the earlier split: kept rows are exactly where the oracle puts them (the gap only drops).
        var oracle = Oracle(ticks, f);
        for (int i = 0; i < ticks.Length; i++)
        {
            if (result.Tags[i] != SplitTag.None && result.Tags[i] != oracle[i]) { problems.Add($"row {i} in {result.Tags[i].Name()}, expected {oracle[i].Name()}"); break; }
        }
        // Without a gap nothing is dropped, so the tags are exactly the oracle's.
        if (gap == TimeSpan.Zero && !result.Tags.SequenceEqual(oracle)) problems.Add("tags differ from the oracle");
        // Rows of one timestamp never straddle splits (dropped ones included).
        foreach (var group in ticks.Select((t, i) => (t, tag: result.Tags[i])).GroupBy(x => x.t))
        {
            if (group.Select(x => x.tag).Distinct().Count() > 1) problems.Add($"timestamp {group.Key} in several splits");
        }
        // Output order is time order.
        var ordered = result.Order!.Select(i => ticks[i]).ToArray();
        if (!ordered.SequenceEqual(ticks.Order())) problems.Add("Order is not time order");
        return (problems.Count == 0).Label($"f=[{string.Join(",", f)}] gap={gap} {Show(ticks, result.Tags)} :: {string.Join("; ", problems)}");
    }

    /// <summary>(5): with distinct times and no gap, the counts are exactly RandomSplitter.ExactCounts.</summary>
    [Property(MaxTest = 300)]
    public Property Distinct_times_get_exact_counts(int[] raw, PositiveInt a, NonNegativeInt b, NonNegativeInt c, int shuffleSeed)
    {
        var ticks = raw.Select(r => r % 1_000_000).Distinct().Select(r => s_base + (long)r * TimeSpan.TicksPerMinute).ToArray();
        new Random(shuffleSeed).Shuffle(ticks);
        var f = FractionsFrom(a, b, c);
        var (result, context) = Run(ticks, f);
        var counts = SplitNames.All.Select(s => (long)result.Tags.Count(t => t == s)).ToArray();
        var expected = RandomSplitter.ExactCounts(ticks.Length, f);
        var problems = ContractViolations(ticks, result, context, TimeSpan.Zero);
        return (counts.SequenceEqual(expected) && problems.Count == 0 && context.Report.Warnings.Count == (ticks.Length > 0 && counts.Select((k, s) => k == 0 && f[s] > 0).Any(x => x) ? 1 : 0))
            .Label($"n={ticks.Length} f=[{string.Join(",", f)}] counts=[{string.Join(",", counts)}] expected=[{string.Join(",", expected)}] {string.Join("; ", problems)}");
    }

    /// <summary>(7): the same tags, order and report whatever the batch sizes and the input order.</summary>
    [Property(MaxTest = 200)]
    public Property Same_result_for_any_batching_and_input_order(int[] raw, byte spread, PositiveInt a, NonNegativeInt b, NonNegativeInt c, byte gapHours, int seed)
    {
        var ticks = TimesFrom(raw, spread % 30 + 1);
        int n = ticks.Length;
        var f = FractionsFrom(a, b, c);
        var gap = TimeSpan.FromHours(gapHours % 4);
        var ids = Enumerable.Range(1, n).Select(i => RowInfo.MakeRowId(i % 3, i)).ToArray();

        (Dictionary<long, SplitTag> ByRowId, long[] OrderOfIds, string Report) Outcome(int[] permutation, IReadOnlyList<int>? batches)
        {
            var t = permutation.Select(i => ticks[i]).ToArray();
            var rowIds = permutation.Select(i => ids[i]).ToArray();
            var input = Input(Times(t), batches, rowIds);
            var (result, context) = Run(new TimeSplitAssigner("t", f, gap: gap), input);
            var report = string.Join("|", context.Report.Splits.Select(kv => $"{kv.Key}:{kv.Value.TimeFrom}..{kv.Value.TimeTo}"))
                + "|" + string.Join("|", context.Report.Dropped.Select(kv => $"{kv.Key}={kv.Value}"))
                + "|" + string.Join("|", context.Report.Warnings);
            return (rowIds.Zip(result.Tags).ToDictionary(x => x.First, x => x.Second), result.Order!.Select(i => rowIds[i]).ToArray(), report);
        }

        var identity = Enumerable.Range(0, n).ToArray();
        var permuted = identity.ToArray();
        new Random(seed).Shuffle(permuted);
        var one = Outcome(identity, null);
        var chunked = Outcome(identity, Chunks(n, seed));
        var shuffled = Outcome(permuted, Chunks(n, seed ^ 0x5bd1e995));

        bool same = new[] { chunked, shuffled }.All(o =>
            o.ByRowId.Count == one.ByRowId.Count && o.ByRowId.All(kv => one.ByRowId[kv.Key] == kv.Value)
            && o.OrderOfIds.SequenceEqual(one.OrderOfIds) && o.Report == one.Report);
        return same.Label($"n={n} f=[{string.Join(",", f)}] gap={gap}");
    }

    /// <summary>(8): two cutoffs: t &lt; c1 → train, c1 ≤ t &lt; c2 → validation, t ≥ c2 → test, exactly.</summary>
    [Property(MaxTest = 300)]
    public Property Two_cutoffs_are_respected_exactly(int[] raw, byte spread, byte first, byte width)
    {
        var ticks = TimesFrom(raw, spread % 60 + 1);
        var c1 = new DateTimeOffset(Hours(first % 70 - 5), TimeSpan.Zero);
        var c2 = c1.AddHours(width % 30 + 1);
        var (result, context) = Run(ticks, s_701515, cutoffs: [c1, c2]);
        var expected = ticks.Select(t => t < c1.UtcTicks ? SplitTag.Train : t < c2.UtcTicks ? SplitTag.Validation : SplitTag.Test).ToArray();
        var problems = ContractViolations(ticks, result, context, TimeSpan.Zero);
        return (result.Tags.SequenceEqual(expected) && problems.Count == 0)
            .Label($"c1={c1:O} c2={c2:O} {Show(ticks, result.Tags)} {string.Join("; ", problems)}");
    }

    /// <summary>(8): one cutoff splits into the two splits with a non-zero fraction; a gap still applies after it.</summary>
    [Property(MaxTest = 200)]
    public Property One_cutoff_splits_between_the_two_non_zero_splits(int[] raw, byte at, bool validationIsZero, byte gapHours)
    {
        var ticks = TimesFrom(raw, 48);
        var cut = new DateTimeOffset(Hours(at % 50), TimeSpan.Zero);
        var gap = TimeSpan.FromHours(gapHours % 5);
        double[] f = validationIsZero ? [0.8, 0, 0.2] : [0.8, 0.2, 0];
        var later = validationIsZero ? SplitTag.Test : SplitTag.Validation;
        var (result, context) = Run(ticks, f, gap, [cut]);
        long trainMax = ticks.Where(t => t < cut.UtcTicks).DefaultIfEmpty(long.MinValue).Max();
        var expected = ticks.Select(t => t < cut.UtcTicks ? SplitTag.Train
            : trainMax != long.MinValue && t < trainMax + gap.Ticks ? SplitTag.None
            : later).ToArray();
        var problems = ContractViolations(ticks, result, context, gap);
        return (result.Tags.SequenceEqual(expected) && problems.Count == 0)
            .Label($"cut={cut:O} f=[{string.Join(",", f)}] gap={gap} {Show(ticks, result.Tags)} {string.Join("; ", problems)}");
    }

    /// <summary>(9): a timestamp column, Int64 epoch seconds or millis and Float64 seconds or millis give the same split.</summary>
    [Property(MaxTest = 150)]
    public Property Epoch_numbers_split_like_timestamps(int[] raw, byte spread, PositiveInt a, NonNegativeInt b, NonNegativeInt c, byte gapHours)
    {
        int sp = spread % 50 + 1;
        // Epoch seconds from 1973-03 on, so that milliseconds are ≥ 1e11 and read as milliseconds.
        var seconds = raw.Select(r => 100_000_000L + (((long)r % sp + sp) % sp) * 3600 * 24 * 97).ToArray();
        var ticks = seconds.Select(s => DateTime.UnixEpoch.Ticks + s * TimeSpan.TicksPerSecond).ToArray();
        var f = FractionsFrom(a, b, c);
        var gap = TimeSpan.FromDays(gapHours % 200);

        string Outcome(Column time)
        {
            var (result, context) = Run(new TimeSplitAssigner("t", f, gap: gap), Input(time));
            return string.Join("", result.Tags.Select(t => t.Name()[0])) + "|" + string.Join(",", result.Order!)
                + "|" + string.Join("|", context.Report.Splits.Select(kv => $"{kv.Key}:{kv.Value.TimeFrom}..{kv.Value.TimeTo}"))
                + "|" + string.Join("|", context.Report.Dropped.Select(kv => $"{kv.Key}={kv.Value}"));
        }

        var expected = Outcome(Times(ticks));
        var outcomes = new[]
        {
            Outcome(new Int64Column(seconds)),
            Outcome(new Int64Column(seconds.Select(s => s * 1000).ToArray())),
            Outcome(new Float64Column(seconds.Select(s => (double)s).ToArray())),
            Outcome(new Float64Column(seconds.Select(s => s * 1000.0).ToArray())),
        };
        return outcomes.All(o => o == expected).Label($"expected {expected}, got {string.Join(" / ", outcomes)}");
    }

    /// <summary>
    /// The time order is (time, row id, position) on both sort paths: the counting sort (few distinct times) and
    /// the key sort (mostly distinct times, more than 1,024 of them), with row ids in order or not.
    /// </summary>
    [Property(MaxTest = 40)]
    public Property Time_order_is_time_then_row_id_then_position(PositiveInt size, bool manyDistinct, bool permuteIds, bool duplicateIds, int seed)
    {
        // Over 1,024 mostly distinct times take the key sort; a few distinct times the counting sort.
        int n = manyDistinct ? 2000 + size.Get * 17 % 2000 : size.Get % 4000 + 1;
        var random = new Random(seed);
        int spread = manyDistinct ? 4 * n : 1 + random.Next(40);
        var ticks = Enumerable.Range(0, n).Select(_ => s_base + random.Next(spread) * TimeSpan.TicksPerSecond).ToArray();
        var ids = Enumerable.Range(1, n).Select(i => (long)(duplicateIds ? i / 3 : i)).ToArray();
        if (permuteIds) random.Shuffle(ids);
        var (sorted, order) = TimeSplitAssigner.TimeOrder(ticks, ids);
        var expected = Enumerable.Range(0, n).OrderBy(i => ticks[i]).ThenBy(i => ids[i]).ThenBy(i => i).ToArray();
        return (order.SequenceEqual(expected) && sorted.SequenceEqual(expected.Select(i => ticks[i])))
            .Label($"n={n} spread={spread} permute={permuteIds} duplicates={duplicateIds}");
    }

    /// <summary>Shuffle leaves the order to the stage, without changing the tags.</summary>
    [Property(MaxTest = 100)]
    public Property Shuffle_leaves_order_to_the_stage(int[] raw, byte spread)
    {
        var ticks = TimesFrom(raw, spread % 20 + 1);
        var timeOrdered = Run(ticks, s_701515).Result;
        var (shuffled, _) = Run(new TimeSplitAssigner("t", s_701515, shuffle: true), Input(Times(ticks)));
        return (shuffled.Order is null && shuffled.Tags.SequenceEqual(timeOrdered.Tags) && timeOrdered.Order is not null).ToProperty();
    }

    // ---------- nasty shapes (6) ----------

    [Fact]
    public void All_timestamps_equal_go_to_train_with_a_warning()
    {
        var ticks = Enumerable.Repeat(Hours(5), 10).ToArray();
        var (result, context) = Run(ticks, s_701515);
        Assert.All(result.Tags, t => Assert.Equal(SplitTag.Train, t));
        var warning = Assert.Single(context.Report.Warnings);
        Assert.Contains("validation is empty", warning);
        Assert.Contains("test is empty", warning);
        Assert.Contains("train 10, validation 0, test 0 of 10 rows", warning);
        Assert.Contains("1 distinct timestamp", warning);
        Assert.Equal(["train"], context.Report.Splits.Keys);
        Assert.Equal("2024-01-01T05:00:00Z", context.Report.Splits["train"].TimeFrom);
        Assert.Equal("2024-01-01T05:00:00Z", context.Report.Splits["train"].TimeTo);
        Assert.Equal(0.7, context.Report.Splits["train"].TargetFraction);
    }

    [Fact]
    public void A_single_row_goes_to_train()
    {
        var (result, context) = Run([Hours(1)], s_701515);
        Assert.Equal([SplitTag.Train], result.Tags);
        Assert.Equal([0], result.Order!);
        Assert.Contains("too few", Assert.Single(context.Report.Warnings));
    }

    [Fact]
    public void Fewer_rows_than_splits_follow_exact_counts()
    {
        var (result, context) = Run([Hours(2), Hours(1)], [0.5, 0.25, 0.25]);
        Assert.Equal([SplitTag.Validation, SplitTag.Train], result.Tags); // ExactCounts(2) = 1/1/0
        Assert.Equal([1, 0], result.Order!);
        var warning = Assert.Single(context.Report.Warnings);
        Assert.Contains("test is empty (25% asked for): 2 rows are too few", warning);
        Assert.DoesNotContain("validation is empty", warning);
    }

    [Fact]
    public void Empty_input_assigns_nothing_and_warns_nothing()
    {
        var input = Input(Times([]), [0]);
        var (result, context) = Run(new TimeSplitAssigner("t", s_701515, gap: TimeSpan.FromDays(1)), input);
        Assert.Empty(result.Tags);
        Assert.Empty(result.Order!);
        Assert.Empty(context.Report.Warnings);
        Assert.Empty(context.Report.Splits);
        Assert.Empty(context.Report.Dropped);
    }

    [Fact]
    public void Tiny_fraction_without_rows_warns_and_zero_fraction_does_not()
    {
        var ticks = Enumerable.Range(0, 10).Select(Hours).ToArray();
        var (result, context) = Run(ticks, [0.999, 0.001, 0]);
        Assert.All(result.Tags, t => Assert.Equal(SplitTag.Train, t));
        var warning = Assert.Single(context.Report.Warnings);
        Assert.Contains("validation is empty (0.1% asked for): 10 rows are too few", warning);
        Assert.DoesNotContain("test is empty", warning);

        var many = Enumerable.Range(0, 1000).Select(Hours).ToArray();
        var (big, bigContext) = Run(many, [0.999, 0.001, 0]);
        Assert.Equal(999, big.Tags.Count(t => t == SplitTag.Train));
        Assert.Equal(SplitTag.Validation, big.Tags[999]);
        Assert.Empty(bigContext.Report.Warnings);
    }

    [Fact]
    public void Boundary_ties_move_the_cut_later()
    {
        // 10 rows, 70/15/15 → 7/2/1 by count; hours 0..4 once, then hour 5 three times (positions 5..7), then 6, 7.
        long[] ticks = [Hours(0), Hours(1), Hours(2), Hours(3), Hours(4), Hours(5), Hours(5), Hours(5), Hours(6), Hours(7)];
        var (result, context) = Run(ticks, s_701515);
        Assert.Equal("TTTTTTTTVE", Letters(result.Tags));
        Assert.Equal(8, result.Tags.Count(t => t == SplitTag.Train));
        Assert.Empty(context.Report.Warnings);
    }

    [Fact]
    public void Ties_that_swallow_a_split_are_reported()
    {
        // 7/2/1 by count, but hours: 0..5, then hour 6 four times: validation's rows all share train's last time.
        long[] ticks = [Hours(0), Hours(1), Hours(2), Hours(3), Hours(4), Hours(5), Hours(6), Hours(6), Hours(6), Hours(7)];
        var (result, context) = Run(ticks, s_701515);
        Assert.Equal(9, result.Tags.Count(t => t == SplitTag.Train));
        Assert.Equal(SplitTag.Test, result.Tags[9]);
        var warning = Assert.Single(context.Report.Warnings);
        Assert.Contains("validation is empty (15% asked for): its 2 target rows share timestamps with the end of the split before it", warning);
        Assert.Contains("train 9, validation 0, test 1 of 10 rows (8 distinct timestamps)", warning);
    }

    [Fact]
    public void Gap_drops_rows_after_each_split_and_counts_them()
    {
        // One row per day for 20 days, 50/25/25 → train days 0-9, validation 10-14, test 15-19; gap 2 days.
        var ticks = Enumerable.Range(0, 20).Select(d => s_base + d * TimeSpan.TicksPerDay).ToArray();
        var (result, context) = Run(ticks, [0.5, 0.25, 0.25], TimeSpan.FromDays(2));
        Assert.Equal("TTTTTTTTTT-VVVV-EEEE", Letters(result.Tags));
        Assert.Equal(1, context.Report.Dropped["inside the gap after train"]);
        Assert.Equal(1, context.Report.Dropped["inside the gap after validation"]);
        Assert.Equal("2024-01-12T00:00:00Z", context.Report.Splits["validation"].TimeFrom);
        Assert.Equal("2024-01-15T00:00:00Z", context.Report.Splits["validation"].TimeTo);
        Assert.Equal("2024-01-17T00:00:00Z", context.Report.Splits["test"].TimeFrom);
        Assert.Empty(context.Report.Warnings);
    }

    [Fact]
    public void A_gap_that_swallows_a_split_is_reported_and_the_next_gap_counts_from_the_last_kept_split()
    {
        var ticks = Enumerable.Range(0, 10).Select(d => s_base + d * TimeSpan.TicksPerDay).ToArray();
        var (result, context) = Run(ticks, [0.5, 0.2, 0.3], TimeSpan.FromDays(3));
        // train days 0-4; validation days 5-6 lie within 3 days after day 4: dropped; test days 7-9: day 7 is 3 days after day 4, kept.
        Assert.Equal("TTTTT--EEE", Letters(result.Tags));
        Assert.Equal(2, context.Report.Dropped["inside the gap after train"]);
        Assert.False(context.Report.Dropped.ContainsKey("inside the gap after validation"));
        var warning = Assert.Single(context.Report.Warnings);
        Assert.Contains("validation is empty (20% asked for): all 2 of its rows lie inside the 3.00:00:00 gap after train", warning);
        Assert.Contains("2 dropped inside gaps", warning);
    }

    [Fact]
    public void Cutoffs_report_an_empty_interval()
    {
        var ticks = Enumerable.Range(0, 10).Select(Hours).ToArray();
        var c1 = new DateTimeOffset(Hours(20), TimeSpan.Zero);
        var (result, context) = Run(ticks, s_701515, cutoffs: [c1, c1.AddHours(1)]);
        Assert.All(result.Tags, t => Assert.Equal(SplitTag.Train, t));
        var warning = Assert.Single(context.Report.Warnings);
        Assert.Contains("validation is empty (asked for by the cutoffs): no row has a time from 2024-01-01T20:00:00Z up to (not including) 2024-01-01T21:00:00Z", warning);
        Assert.Contains("test is empty (asked for by the cutoffs): no row has a time at or after 2024-01-01T21:00:00Z", warning);
    }

    [Fact]
    public void Cutoffs_with_offsets_compare_as_utc_instants()
    {
        // 02:00+02:00 is 00:00Z: hour 0 is at the cutoff (validation), before it is train.
        long[] ticks = [Hours(-1), Hours(0), Hours(5)];
        var c1 = new DateTimeOffset(2024, 1, 1, 2, 0, 0, TimeSpan.FromHours(2));
        var (result, _) = Run(ticks, [0.8, 0.2, 0], cutoffs: [c1]);
        Assert.Equal([SplitTag.Train, SplitTag.Validation, SplitTag.Validation], result.Tags);
    }

    [Fact]
    public void Only_one_split_needs_no_cutoffs()
    {
        var (result, context) = Run([Hours(3), Hours(1)], [1, 0, 0], cutoffs: []);
        Assert.Equal([SplitTag.Train, SplitTag.Train], result.Tags);
        Assert.Equal([1, 0], result.Order!);
        Assert.Empty(context.Report.Warnings);
    }

    [Fact]
    public void Sub_second_times_are_reported_with_their_fraction()
    {
        long[] ticks = [s_base + 1_234_500, s_base + 20 * TimeSpan.TicksPerSecond];
        var (_, context) = Run(ticks, [0.5, 0.5, 0]);
        Assert.Equal("2024-01-01T00:00:00.12345Z", context.Report.Splits["train"].TimeFrom);
        Assert.Equal("2024-01-01T00:00:20Z", context.Report.Splits["validation"].TimeTo);
    }

    [Fact]
    public void Float_epoch_seconds_keep_their_fraction_and_read_like_timestamps()
    {
        var input = Input(new Float64Column([1_700_000_000.25, 1_700_000_000.5, -0.5]));
        var (result, context) = Run(new TimeSplitAssigner("t", [2 / 3.0, 1 / 3.0, 0]), input);
        Assert.Equal([SplitTag.Train, SplitTag.Validation, SplitTag.Train], result.Tags);
        Assert.Equal("1969-12-31T23:59:59.5Z", context.Report.Splits["train"].TimeFrom);
        Assert.Equal("2023-11-14T22:13:20.25Z", context.Report.Splits["train"].TimeTo);
        Assert.True(TimeSplitAssigner.TryGetUtcTicks(new Int64Column([1_700_000_000_000]), 0, out long ms));
        Assert.True(TimeSplitAssigner.TryGetUtcTicks(new Int64Column([1_700_000_000]), 0, out long s));
        Assert.Equal(ms, s);
        Assert.False(TimeSplitAssigner.TryGetUtcTicks(new Int64Column([5], [true], 1), 0, out _));
    }

    [Fact]
    public void Assign_binds_itself_when_bind_was_not_called()
    {
        var assigner = new TimeSplitAssigner("t", [0.5, 0.5, 0]);
        var result = assigner.Assign(Input(Times([Hours(2), Hours(1)])), new RunContext());
        Assert.Equal([SplitTag.Validation, SplitTag.Train], result.Tags);
    }

    // ---------- Describe ----------

    [Fact]
    public void Describe_states_column_fractions_and_gap()
    {
        Assert.Equal("split time by date 70/15/15, gap 7.00:00:00", new TimeSplitAssigner("date", s_701515, gap: TimeSpan.FromDays(7)).Describe());
        Assert.Equal("split time by date 80/0/20", new TimeSplitAssigner("date", [0.8, 0, 0.2]).Describe());
        Assert.Equal("split time by ts at 2024-01-01T00:00:00Z, 2024-06-01T00:00:00Z into train/validation/test, gap 12:00:00",
            new TimeSplitAssigner("ts", s_701515, [new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero)], TimeSpan.FromHours(12)).Describe());
        Assert.Equal("split time by ts at 2024-01-01T00:00:00Z into train/test",
            new TimeSplitAssigner("ts", [0.9, 0, 0.1], [new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero)]).Describe());
    }

    // ---------- errors ----------

    [Fact]
    public void Missing_column_lists_the_columns()
    {
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("when", s_701515).Bind(Input(Times([Hours(1)])).Schema));
        Assert.Equal("--time names column 'when', which the input does not have (its columns: t, x).", e.Message);
    }

    [Fact]
    public void Text_column_names_the_column_type_fix()
    {
        var input = Input(new StringColumn(["2024-01-01"]));
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("t", s_701515).Bind(input.Schema));
        Assert.Contains("--time column 't' holds text", e.Message);
        Assert.Contains("--column-type t=timestamp", e.Message);
    }

    [Fact]
    public void Other_kinds_are_refused()
    {
        var input = Input(new BooleanColumn([true]));
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("t", s_701515).Bind(input.Schema));
        Assert.Contains("--time column 't' is Boolean; expected a timestamp, or integer/float Unix epoch seconds or milliseconds", e.Message);
    }

    [Theory]
    [InlineData(new[] { 0.8, 0.2 }, "A time split needs 3 fractions (train, validation, test); got 2: 0.8, 0.2.")]
    [InlineData(new[] { 0.8, 0.1, 0.05 }, "The split fractions sum to 0.95 (train 0.8, validation 0.1, test 0.05); expected them to sum to 1.")]
    [InlineData(new[] { 1.2, -0.1, -0.1 }, "The train fraction is 1.2; expected a fraction between 0 and 1.")]
    [InlineData(new[] { double.NaN, 0.5, 0.5 }, "The train fraction is NaN; expected a fraction between 0 and 1.")]
    public void Bad_fractions_are_refused(double[] fractions, string message)
    {
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("t", fractions));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Wrong_number_of_cutoffs_says_how_many_are_needed()
    {
        var c = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("t", s_701515, [c]));
        Assert.Contains("--cutoffs: 2 instants needed for 3 splits with a non-zero fraction (train 0.7, validation 0.15, test 0.15), got 1.", e.Message);
        Assert.Contains("--validation 0", e.Message);
        e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("t", [0.9, 0, 0.1], [c, c.AddDays(1)]));
        Assert.Contains("--cutoffs: 1 instant needed for 2 splits with a non-zero fraction (train 0.9, test 0.1), got 2.", e.Message);
    }

    [Fact]
    public void Cutoffs_must_ascend_strictly()
    {
        var c = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("t", s_701515, [c, c]));
        Assert.Equal("--cutoffs must be strictly ascending; 2024-01-01T00:00:00Z does not come after 2024-01-01T00:00:00Z.", e.Message);
    }

    [Fact]
    public void Negative_gap_is_refused()
    {
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("t", s_701515, gap: TimeSpan.FromDays(-1)));
        Assert.Equal("--gap is -1.00:00:00; expected a duration of zero or more, e.g. 7.00:00:00 for seven days.", e.Message);
    }

    [Fact]
    public void Several_problems_are_listed_together()
    {
        var e = Assert.Throws<PipelineValidationException>(() => new TimeSplitAssigner("", [0.5, 0.1, 0.1], gap: TimeSpan.FromHours(-1)));
        Assert.Equal(3, e.Problems.Count);
    }

    [Fact]
    public void Missing_time_names_file_row_and_column_and_the_fix()
    {
        var ticks = new[] { Hours(1), 0, Hours(3), 0 };
        var input = Input(Times(ticks, [false, true, false, true]), [2, 2], [RowInfo.MakeRowId(0, 10), RowInfo.MakeRowId(0, 11), RowInfo.MakeRowId(0, 12), RowInfo.MakeRowId(0, 13)]);
        var e = Assert.Throws<DataFormatException>(() => Run(new TimeSplitAssigner("t", s_701515), input));
        Assert.Equal("in.csv", e.File);
        Assert.Equal(11, e.Row);
        Assert.Equal("t", e.Column);
        Assert.Contains("2 rows of 't' have no value", e.Message);
        Assert.Contains("--missing drop", e.Message);
        Assert.StartsWith("in.csv, row 11, column 't': the time is missing", e.Message);
    }

    /// <summary>
    /// A scaled-out plan finds one process's error in its passes over the key columns (<see cref="TimeSplitAssigner.TimeProblems"/>):
    /// whatever the batches, the rows <see cref="TimeSplitAssigner.TryGetUtcTicks"/> refuses, noted in input order, give
    /// the error <see cref="TimeSplitAssigner.Assign"/> stops with over all rows (a missing time before an invalid one,
    /// the count of missing times), or none when Assign has none.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property The_plan_passes_find_the_time_error_of_one_process(int[] raw, int batchSeed)
    {
        // Epoch seconds; every 7th value (by content) missing, every 11th impossible.
        var values = raw.Select(r => r % 11 == 0 ? long.MaxValue - Math.Abs(r % 1000) : 1_700_000_000L + r % 100_000).ToArray();
        var nulls = raw.Select(r => r % 7 == 0).ToArray();
        var input = Input(new Int64Column(values, nulls, values.Length), Chunks(values.Length, batchSeed), source: 1);
        var context = new RunContext();
        context.Inputs.Add("a.csv");
        context.Inputs.Add("b.csv");
        var assigner = new TimeSplitAssigner("t", s_701515);
        assigner.Bind(input.Schema);
        string? expected = null;
        try
        {
            assigner.Assign(input, context);
        }
        catch (DataFormatException e)
        {
            expected = e.Message;
        }
        var problems = new TimeSplitAssigner.TimeProblems(assigner);
        foreach (var b in input.Batches)
        {
            for (int r = 0; r < b.RowCount; r++)
            {
                if (!TimeSplitAssigner.TryGetUtcTicks(b.Columns[0], r, out _)) problems.Add(b.Columns[0], r, b.Rows);
            }
        }
        var actual = problems.Error(context)?.Message;
        return (actual == expected).Label($"one process: {expected ?? "(none)"}; plan: {actual ?? "(none)"}");
    }

    [Fact]
    public void Impossible_epoch_numbers_name_the_row()
    {
        var e = Assert.Throws<DataFormatException>(() => Run(new TimeSplitAssigner("t", s_701515), Input(new Int64Column([1, long.MaxValue]))));
        Assert.Equal(2, e.Row);
        Assert.Contains($"found {long.MaxValue}, which is not a Unix epoch time between the years 0001 and 9999", e.Message);

        e = Assert.Throws<DataFormatException>(() => Run(new TimeSplitAssigner("t", s_701515), Input(new Float64Column([double.NaN]))));
        Assert.Equal("in.csv", e.File);
        Assert.Contains("found NaN", e.Message);

        e = Assert.Throws<DataFormatException>(() => Run(new TimeSplitAssigner("t", s_701515), Input(new Float64Column([1e300]))));
        Assert.Contains("found 1E+300", e.Message);
    }

    [Fact]
    public void An_unknown_source_still_gives_the_row_and_column()
    {
        var input = Input(Times([0], [true]));
        var e = Assert.Throws<DataFormatException>(() => new TimeSplitAssigner("t", s_701515).Assign(input, new RunContext()));
        Assert.Null(e.File);
        Assert.Equal(1, e.Row);
        Assert.Equal("t", e.Column);
    }
}
