using System.Globalization;
using System.Runtime.InteropServices;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Time split (leakage contract, DESIGN §3.3): train is the past, validation the next period, test the most
/// recent one, with <c>max(t | train) &lt; min(t | validation)</c> and <c>max(t | validation) &lt; min(t | test)</c>
/// strictly, and an optional gap between consecutive splits.
/// </summary>
/// <remarks>
/// <para><b>Time column.</b> A <see cref="ColumnKind.Timestamp"/> column (UTC ticks), or numbers read as Unix epoch
/// time by the rule the text sources use for timestamps: an <see cref="ColumnKind.Int64"/> or
/// <see cref="ColumnKind.Float64"/> value <c>v</c> with <c>|v| ≥ 10¹¹</c> is milliseconds, a smaller one is
/// seconds (10¹¹ seconds would be beyond the year 5000). Float seconds may carry a fraction (rounded to the
/// nearest 100 ns tick). Text columns are refused: declare them with <c>--column-type COL=timestamp</c>.
/// A missing time is an error (<see cref="DataFormatException"/> naming file, row and column); use
/// <c>--missing drop</c> to drop such rows before the split.</para>
/// <para><b>Order.</b> Rows are ordered by (time, row id, position). The split of a row depends only on its
/// time and the multiset of all times, never on batch sizes or input order.</para>
/// <para><b>Fraction mode</b> (no cutoffs). The target counts are
/// <see cref="RandomSplitter.ExactCounts"/>(n, fractions). The rows in time order are cut at the cumulative
/// counts, and each cut then moves later past every row that shares the timestamp just before it, so rows of
/// one timestamp all go to the earlier split. Equivalently: a row goes to the earliest split <c>s</c> with
/// <c>C_s &gt; 0</c> and <c>t ≤ t₍C_s₎</c>, where <c>C_s</c> is the cumulative target count of splits
/// 0…s and <c>t₍k₎</c> the k-th smallest time. A split can thereby shrink, or end up empty (e.g. when all
/// times are equal); an empty split with a non-zero fraction gets a warning in the report with the achieved
/// counts — the ordering is never given up to reach a fraction.</para>
/// <para><b>Cutoff mode.</b> Cutoffs replace the fractions; the fractions only say which splits exist (those
/// above zero), and exactly (number of non-zero fractions − 1) strictly ascending instants are expected.
/// The k-th existing split (in train, validation, test order) takes the rows with
/// <c>cutoff[k−1] ≤ t &lt; cutoff[k]</c> (no lower bound for the first, no upper bound for the last). So with
/// two cutoffs: train t &lt; c1, validation c1 ≤ t &lt; c2, test t ≥ c2; with one cutoff and validation 0:
/// train t &lt; c1, test t ≥ c1; with one cutoff and test 0: train t &lt; c1, validation t ≥ c1. No cutoffs
/// and one non-zero fraction put everything in that split.</para>
/// <para><b>Gap</b> (both modes, applied after the cut). Between consecutive non-empty splits, rows of the
/// later split with <c>t &lt; max(t | earlier) + gap</c> are dropped (tagged <see cref="SplitTag.None"/>) and
/// counted in the report as "inside the gap after &lt;earlier split&gt;". Rows are only ever dropped, never
/// moved, so every kept row is in the split it would have had without a gap.</para>
/// <para><b>Report.</b> For every non-empty split: <see cref="SplitReport.TimeFrom"/> /
/// <see cref="SplitReport.TimeTo"/> (ISO 8601 UTC, <c>yyyy-MM-ddTHH:mm:ssZ</c>, with a fraction of a second
/// only when there is one) and <see cref="SplitReport.TargetFraction"/> (the given fraction; in cutoff mode
/// the share of rows between the cutoffs, before the gap). Output order is time order unless <c>shuffle</c> is set (then <see cref="SplitAssignment.Order"/> is
/// null and the split stage shuffles by seed).</para>
/// </remarks>
public sealed class TimeSplitAssigner : IRowTimeAssigner
{
    private readonly string _timeColumn;
    private readonly double[] _fractions;
    private readonly DateTimeOffset[]? _cutoffs;
    private readonly long _gapTicks;
    private readonly bool _shuffle;
    private int _timeIndex = -1;

    /// <summary>Creates a time split.</summary>
    /// <param name="timeColumn">The column that holds each row's time.</param>
    /// <param name="fractions">Train, validation and test fractions (three values ≥ 0 summing to 1; zeros allowed).</param>
    /// <param name="cutoffs">Instants that replace the fractions: (number of non-zero fractions − 1) of them, strictly ascending.</param>
    /// <param name="gap">Time left out between consecutive splits (rows inside it are dropped and counted); null or zero for none.</param>
    /// <param name="shuffle">Leave the output order to the split stage (shuffled by seed) instead of time order.</param>
    /// <exception cref="PipelineValidationException">The options are not valid (every problem is listed).</exception>
    public TimeSplitAssigner(string timeColumn, IReadOnlyList<double> fractions, IReadOnlyList<DateTimeOffset>? cutoffs = null, TimeSpan? gap = null, bool shuffle = false)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(timeColumn)) problems.Add("--time needs the name of the column that holds each row's time.");
        if (fractions.Count != 3)
        {
            problems.Add($"A time split needs 3 fractions (train, validation, test); got {fractions.Count}: {string.Join(", ", fractions.Select(F))}.");
        }
        else
        {
            foreach (var (name, f) in SplitNames.All.Select(s => s.Name()).Zip(fractions))
            {
                if (!(f >= 0 && f <= 1)) problems.Add($"The {name} fraction is {F(f)}; expected a fraction between 0 and 1.");
            }
            double sum = fractions.Sum();
            if (fractions.All(double.IsFinite) && Math.Abs(sum - 1) > 1e-9)
            {
                problems.Add($"The split fractions sum to {F(sum)} (train {F(fractions[0])}, validation {F(fractions[1])}, test {F(fractions[2])}); expected them to sum to 1.");
            }
        }
        if (gap is { } g && g < TimeSpan.Zero) problems.Add($"--gap is {g:c}; expected a duration of zero or more, e.g. 7.00:00:00 for seven days.");
        if (cutoffs is not null && fractions.Count == 3)
        {
            var used = SplitNames.All.Where(s => fractions[(int)s] > 0).ToArray();
            int needed = Math.Max(used.Length - 1, 0);
            if (cutoffs.Count != needed)
            {
                string splits = string.Join(", ", used.Select(s => $"{s.Name()} {F(fractions[(int)s])}"));
                problems.Add($"--cutoffs: {needed} instant{(needed == 1 ? "" : "s")} needed for {used.Length} split{(used.Length == 1 ? "" : "s")} with a non-zero fraction ({splits}), got {cutoffs.Count}."
                    + " Rows before the first cutoff go to train; set the fraction of an unwanted split to 0 (e.g. --validation 0 for train/test with one cutoff).");
            }
            for (int i = 1; i < cutoffs.Count; i++)
            {
                if (cutoffs[i].UtcTicks <= cutoffs[i - 1].UtcTicks)
                {
                    problems.Add($"--cutoffs must be strictly ascending; {Iso(cutoffs[i].UtcTicks)} does not come after {Iso(cutoffs[i - 1].UtcTicks)}.");
                }
            }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);

        _timeColumn = timeColumn;
        _fractions = fractions.ToArray();
        _cutoffs = cutoffs?.ToArray();
        _gapTicks = gap?.Ticks ?? 0;
        _shuffle = shuffle;
    }

    /// <summary>The time column.</summary>
    public string TimeColumn => _timeColumn;

    /// <summary>Train, validation and test fractions.</summary>
    public IReadOnlyList<double> Fractions => _fractions;

    /// <summary>The cutoffs, or null in fraction mode.</summary>
    public IReadOnlyList<DateTimeOffset>? Cutoffs => _cutoffs;

    /// <summary>The gap between consecutive splits (zero for none).</summary>
    public TimeSpan Gap => TimeSpan.FromTicks(_gapTicks);

    /// <inheritdoc />
    public string Describe()
    {
        string how = _cutoffs is null
            ? string.Join("/", _fractions.Select(f => (f * 100).ToString("0.##", CultureInfo.InvariantCulture)))
            : (_cutoffs.Length == 0 ? "" : "at " + string.Join(", ", _cutoffs.Select(c => Iso(c.UtcTicks))) + " ")
              + "into " + string.Join("/", SplitNames.All.Where(s => _fractions[(int)s] > 0).Select(s => s.Name()));
        return $"split time by {_timeColumn} {how}" + (_gapTicks > 0 ? $", gap {Gap.ToString("c", CultureInfo.InvariantCulture)}" : "");
    }

    /// <inheritdoc />
    public IReadOnlyCollection<int>? KeyColumns => [_timeIndex];

    /// <inheritdoc />
    public void Bind(Schema input) => _timeIndex = Resolve(input);

    private int Resolve(Schema input)
    {
        int index = input.IndexOf(_timeColumn);
        if (index < 0)
        {
            throw new PipelineValidationException($"--time names column '{_timeColumn}', which the input does not have (its columns: {string.Join(", ", input.Fields.Select(f => f.Name))}).");
        }
        switch (input[index].Kind)
        {
            case ColumnKind.Timestamp or ColumnKind.Int64 or ColumnKind.Float64:
                return index;
            case ColumnKind.String:
                throw new PipelineValidationException(
                    $"--time column '{_timeColumn}' holds text, so it cannot order rows in time. Declare it as a timestamp with --column-type {_timeColumn}=timestamp "
                    + "(ISO 8601 dates or date-times, or epoch seconds/milliseconds); a value that does not parse is then reported with its file and line.");
            default:
                throw new PipelineValidationException(
                    $"--time column '{_timeColumn}' is {input[index].Kind}; expected a timestamp, or integer/float Unix epoch seconds or milliseconds "
                    + $"(text dates: declare them with --column-type {_timeColumn}=timestamp).");
        }
    }

    /// <summary>The time column's index.</summary>
    int IRowTimeAssigner.TimeIndex => _timeIndex;

    /// <summary>Time order, unless shuffled.</summary>
    bool IRowTimeAssigner.InTimeOrder => !_shuffle;

    /// <summary>The cut of <see cref="Assign"/> over a spilled run's times: the same cut-offs, report and errors.</summary>
    ITimeCutter IRowTimeAssigner.Cutter(RunContext context) => new SpilledCut(this, context);

    /// <summary>
    /// <see cref="Assign"/>'s cut without holding the times: the error for missing or invalid times as
    /// <see cref="TimeProblems"/> finds it in input order, then <see cref="TimeSplitCuts.Find"/>'s passes, and the report.
    /// </summary>
    private sealed class SpilledCut(TimeSplitAssigner assigner, RunContext context) : ITimeCutter
    {
        private readonly TimeProblems _problems = new(assigner);

        public void Refused(Column column, int row, RowInfo rows) => _problems.Add(column, row, rows);

        public TimeTagger Cut(long rows, long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld)
        {
            if (_problems.Error(context) is { } error) throw error;
            var (cuts, parts, after) = TimeSplitCuts.Find(assigner, rows, histogram, pass, maxHeld);
            assigner.Report(context, parts, after, rows);
            assigner.WarnAboutEmptySplits(context, rows, parts, () => TimeSplitCuts.DistinctTimes(histogram, pass, maxHeld));
            return new TimeTagger(cuts, null);
        }
    }

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        int index = _timeIndex >= 0 && _timeIndex < input.Schema.Count && input.Schema[_timeIndex].Name == _timeColumn ? _timeIndex : Resolve(input.Schema);
        if (input.Count == 0) return new SplitAssignment([], _shuffle ? null : []);

        var ticks = ReadTicks(input, index, context);
        var (sorted, order) = TimeOrder(ticks, input.RowIds);
        return new SplitAssignment(Cut(new SortedTimes(sorted), order, context), _shuffle ? null : order);
    }

    /// <summary>
    /// The tags of rows that are already in time order (times ascending with position, row ids too): the same as
    /// <see cref="Assign"/> gives them, without its copies. For a split planned from the time column alone.
    /// </summary>
    /// <param name="sorted">Every row's time as UTC ticks, ascending (one array, or the first pass's batches).</param>
    /// <param name="context">Where the report goes.</param>
    internal SplitTag[] AssignInTimeOrder(SortedTimes sorted, RunContext context) => Cut(sorted, null, context);

    /// <summary>Tags rows from their times in (time, row id, position) order; <paramref name="order"/> maps to positions (null: the same).</summary>
    private SplitTag[] Cut(SortedTimes sorted, int[]? order, RunContext context)
    {
        int n = sorted.Count;
        var tags = new SplitTag[n];

        // bounds[s]..bounds[s+1] is split s in time order, before the gap.
        var bounds = new int[4];
        long[]? targets = null;
        bounds[3] = n;
        if (_cutoffs is null)
        {
            targets = RandomSplitter.ExactCounts(n, _fractions);
            long cumulative = 0;
            for (int s = 0; s < 2; s++)
            {
                cumulative += targets[s];
                int end = (int)Math.Max(cumulative, bounds[s]);
                // Rows sharing the timestamp before the cut all go to the earlier split.
                while (end > 0 && end < n && sorted[end] == sorted[end - 1]) end++;
                bounds[s + 1] = end;
            }
        }
        else
        {
            int k = 0, at = 0;
            for (int s = 0; s < 3; s++)
            {
                if (_fractions[s] > 0)
                {
                    if (k < _cutoffs.Length)
                    {
                        at = sorted.LowerBound(_cutoffs[k++].UtcTicks, at, n);
                    }
                    else
                    {
                        at = n;
                    }
                }
                bounds[s + 1] = at;
            }
            bounds[3] = n;
        }

        // The cuts: each split ends where the next time begins (bounds lie between two different times).
        var cuts = new TimeCuts();
        var parts = new TimeSplitPart[3];
        for (int s = 0; s < 3; s++)
        {
            cuts.Ends[s] = bounds[s + 1] < n ? sorted[bounds[s + 1]] : long.MaxValue;
            parts[s].Count = bounds[s + 1] - bounds[s];
            if (parts[s].Count > 0) parts[s].Max = sorted[bounds[s + 1] - 1];
        }
        var after = SetGaps(cuts, parts);
        var keptFrom = new int[3];
        for (int s = 0; s < 3; s++)
        {
            int lo = bounds[s], hi = bounds[s + 1], from = sorted.LowerBound(cuts.Keep[s], lo, hi);
            keptFrom[s] = from;
            parts[s].Dropped = from - lo;
            if (from < hi) parts[s].MinKept = sorted[from];
        }
        if (order is null) TagRuns(sorted, cuts, tags);
        else
        {
            var times = sorted.Single!;
            for (int i = 0; i < n; i++) tags[order[i]] = TagOf(times[i], cuts);
        }
        Report(context, parts, after, n);

        WarnAboutEmptySplits(context, n, parts, sorted.Distinct);
        return tags;
    }

    /// <summary>
    /// <c>tags[i] = TagOf(sorted[i], cuts)</c> for rows in time order, a run at a time: <see cref="TagOf"/> compares a
    /// time only with the cuts' ends and keep-from times (<c>t &lt; x</c>), so it is the same for every time from
    /// <c>t</c> up to (not including) the next of those above <c>t</c>; the run ends at the first row at or past it.
    /// </summary>
    private static void TagRuns(SortedTimes sorted, TimeCuts cuts, SplitTag[] tags)
    {
        int n = sorted.Count;
        for (int i = 0; i < n;)
        {
            long t = sorted[i];
            long next = long.MaxValue;
            foreach (long x in (ReadOnlySpan<long>)[cuts.Ends[0], cuts.Ends[1], cuts.Keep[0], cuts.Keep[1], cuts.Keep[2]])
            {
                if (x > t && x < next) next = x;
            }
            // No threshold above t, or only long.MaxValue, which every time is below: the run goes to the end.
            int end = next == long.MaxValue ? n : sorted.LowerBound(next, i + 1, n);
            tags.AsSpan(i, end - i).Fill(TagOf(t, cuts));
            i = end;
        }
    }

    /// <summary>
    /// The split of a row at <paramref name="utcTicks"/>: the first split whose end lies above it, or
    /// <see cref="SplitTag.None"/> when it falls inside the gap before that split. The one rule for every time split.
    /// </summary>
    internal static SplitTag TagOf(long utcTicks, TimeCuts cuts)
    {
        int s = SplitOf(utcTicks, cuts);
        return utcTicks < cuts.Keep[s] ? SplitTag.None : (SplitTag)s;
    }

    /// <summary>The split of a row at <paramref name="utcTicks"/> before the gap.</summary>
    internal static int SplitOf(long utcTicks, TimeCuts cuts)
    {
        var ends = cuts.Ends;
        return utcTicks < ends[0] ? 0 : utcTicks < ends[1] ? 1 : 2;
    }

    /// <summary>
    /// Sets <see cref="TimeCuts.Keep"/> from each split's rows and latest time before the gap: a non-empty split keeps
    /// the times from the latest kept time of the non-empty split before it plus the gap. Returns, per split, the name
    /// of that earlier split (null when none).
    /// </summary>
    internal string?[] SetGaps(TimeCuts cuts, TimeSplitPart[] parts)
    {
        var after = new string?[3];
        long? previousMax = null;
        string? previousName = null;
        for (int s = 0; s < 3; s++)
        {
            cuts.Keep[s] = long.MinValue;
            if (parts[s].Count == 0) continue;
            if (_gapTicks > 0 && previousMax is { } max)
            {
                cuts.Keep[s] = max > long.MaxValue - _gapTicks ? long.MaxValue : max + _gapTicks;
                after[s] = previousName;
            }
            // Rows are only ever dropped from the start of a split: it keeps some when its latest time is kept.
            if (parts[s].Max >= cuts.Keep[s])
            {
                previousMax = parts[s].Max;
                previousName = ((SplitTag)s).Name();
            }
        }
        return after;
    }

    /// <summary>Reports each split's time range and target, and the rows dropped inside each gap.</summary>
    internal void Report(RunContext context, TimeSplitPart[] parts, string?[] after, long rows)
    {
        for (int s = 0; s < 3; s++)
        {
            var p = parts[s];
            if (p.Dropped > 0) context.Report.Drop($"inside the gap after {after[s]}", p.Dropped);
            if (p.Count - p.Dropped <= 0) continue;
            context.Report.Splits[((SplitTag)s).Name()] = new SplitReport
            {
                TimeFrom = Iso(p.MinKept),
                TimeTo = Iso(p.Max),
                // Cutoffs instead of fractions: the target is the share of rows the cutoffs put here (before any gap).
                TargetFraction = _cutoffs is null ? _fractions[s] : (double)p.Count / Math.Max(1, rows),
            };
        }
    }

    /// <summary>
    /// The order-preserving 64-bit key of a time (UTC ticks, below 2⁶²): its top 16 bits bin times for
    /// <see cref="RandomSplitCuts.Locate"/>.
    /// </summary>
    internal static ulong KeyOf(long utcTicks) => (ulong)utcTicks << 2;

    /// <summary>The time of a key (<see cref="KeyOf"/>).</summary>
    internal static long TicksOf(ulong key) => (long)(key >> 2);

    /// <summary>
    /// The cut-offs of this split found without holding the rows: in fraction mode from <paramref name="timeAt"/>, the
    /// time at a position of the (time, row id) order of all <paramref name="rows"/> rows; in cutoff mode from the
    /// cutoffs alone. The gap (<see cref="TimeCuts.Keep"/>) is set later, from each split's rows (<see cref="SetGaps"/>).
    /// </summary>
    internal TimeCuts EndsOf(long rows, Func<IReadOnlyList<long>, long[]> timeAt)
    {
        var cuts = new TimeCuts();
        if (_cutoffs is null)
        {
            // A row goes to the earliest split s with C_s > 0 and t ≤ t(C_s), C_s the cumulative target count.
            var targets = RandomSplitter.ExactCounts(rows, _fractions);
            var positions = new List<long>();
            long cumulative = 0;
            for (int s = 0; s < 2; s++)
            {
                cumulative += targets[s];
                if (cumulative > 0) positions.Add(cumulative - 1);
            }
            var times = timeAt(positions);
            cumulative = 0;
            for (int s = 0, k = 0; s < 2; s++)
            {
                cumulative += targets[s];
                cuts.Ends[s] = cumulative > 0 ? times[k++] + 1 : long.MinValue;
            }
        }
        else
        {
            // The k-th existing split ends at the k-th cutoff; a split with fraction 0 takes nothing.
            int k = 0;
            for (int s = 0; s < 3; s++)
            {
                cuts.Ends[s] = _fractions[s] <= 0 ? long.MinValue : k < _cutoffs.Length ? _cutoffs[k++].UtcTicks : long.MaxValue;
            }
        }
        return cuts;
    }

    /// <summary>
    /// Warns about each split with a non-zero fraction left empty after the cut and the gap, from the parts of
    /// <paramref name="n"/> rows alone; <paramref name="distinctTimes"/> counts the rows' distinct times, asked only when
    /// a split is empty (a bounded plan counts them in passes, <see cref="TimeSplitCuts.DistinctTimes"/>).
    /// </summary>
    internal void WarnAboutEmptySplits(RunContext context, long n, TimeSplitPart[] parts, Func<long> distinctTimes)
    {
        var bounds = new long[4];
        var keptFrom = new long[3];
        for (int s = 0; s < 3; s++)
        {
            bounds[s + 1] = bounds[s] + parts[s].Count;
            keptFrom[s] = bounds[s] + parts[s].Dropped;
        }
        long[]? targets = _cutoffs is null ? RandomSplitter.ExactCounts(n, _fractions) : null;
        var reasons = new List<string>();
        string? previous = null;
        int cutoff = 0;
        for (int s = 0; s < 3; s++)
        {
            var name = ((SplitTag)s).Name();
            long lo = bounds[s], hi = bounds[s + 1];
            if (_fractions[s] > 0 && keptFrom[s] == hi)
            {
                string asked = _cutoffs is null ? $"{F(_fractions[s] * 100)}% asked for" : "asked for by the cutoffs";
                string why;
                if (lo < hi)
                {
                    why = $"all {hi - lo} of its rows lie inside the {Gap.ToString("c", CultureInfo.InvariantCulture)} gap after {previous} and were dropped";
                }
                else if (_cutoffs is not null)
                {
                    string from = cutoff > 0 ? Iso(_cutoffs[cutoff - 1].UtcTicks) : null!;
                    string to = cutoff < _cutoffs.Length ? Iso(_cutoffs[cutoff].UtcTicks) : null!;
                    why = cutoff == 0 ? $"no row has a time before {to}"
                        : cutoff == _cutoffs.Length ? $"no row has a time at or after {from}"
                        : $"no row has a time from {from} up to (not including) {to}";
                }
                else if (targets![s] == 0)
                {
                    why = $"{n} row{(n == 1 ? " is" : "s are")} too few for {F(_fractions[s] * 100)}% (exact counts round it to 0 rows)";
                }
                else
                {
                    why = $"its {targets[s]} target row{(targets[s] == 1 ? "" : "s")} share{(targets[s] == 1 ? "s" : "")} timestamps with the end of the split before it, and rows of one timestamp all go to the earlier split";
                }
                reasons.Add($"{name} is empty ({asked}): {why}");
            }
            if (_fractions[s] > 0) cutoff++;
            if (keptFrom[s] < hi) previous = name;
        }
        if (reasons.Count == 0) return;

        long distinct = distinctTimes();
        long dropped = Enumerable.Range(0, 3).Sum(s => keptFrom[s] - bounds[s]);
        string achieved = string.Join(", ", SplitNames.All.Select(t => $"{t.Name()} {bounds[(int)t + 1] - keptFrom[(int)t]}"));
        context.Report.Warnings.Add(
            $"Time split on '{_timeColumn}': {string.Join("; ", reasons)}. Achieved {achieved} of {n} row{(n == 1 ? "" : "s")} "
            + $"({distinct} distinct timestamp{(distinct == 1 ? "" : "s")}{(dropped > 0 ? $", {dropped} dropped inside gaps" : "")}). "
            + "No timestamp may occur in two splits, so rows were not moved to fill it; use more data, other fractions or cutoffs, or a smaller gap.");
    }

    /// <summary>Each row's time as UTC ticks; missing or impossible values are errors naming file, row and column.</summary>
    private long[] ReadTicks(SplitInput input, int index, RunContext context)
    {
        var column = input.Column(index);
        int n = input.Count;
        if (column.Nulls is { } nulls)
        {
            int first = Array.IndexOf(nulls, true, 0, n);
            if (first >= 0)
            {
                int count = 0;
                for (int i = first; i < n; i++) if (nulls[i]) count++;
                throw Error(input, context, first, MissingTimeProblem(count));
            }
        }
        var ticks = new long[n];
        switch (column)
        {
            case TimestampColumn t:
                for (int i = 0; i < n; i++)
                {
                    long v = t.Values[i];
                    if (v < 0 || v > DateTime.MaxValue.Ticks) throw Error(input, context, i, InvalidTimeProblem(column, i));
                    ticks[i] = v;
                }
                break;
            case Int64Column l:
                for (int i = 0; i < n; i++)
                {
                    if (!TryEpochToTicks(l.Values[i], out ticks[i])) throw Error(input, context, i, InvalidTimeProblem(column, i));
                }
                break;
            case Float64Column d:
                for (int i = 0; i < n; i++)
                {
                    if (!TryEpochToTicks(d.Values[i], out ticks[i])) throw Error(input, context, i, InvalidTimeProblem(column, i));
                }
                break;
            default:
                throw new PipelineValidationException($"--time column '{_timeColumn}' is {column.Kind}; expected a timestamp or epoch numbers.");
        }
        return ticks;
    }

    /// <summary>The cause named when <paramref name="count"/> rows have no time (the first of them is the row named).</summary>
    private string MissingTimeProblem(long count)
        => $"the time is missing ({count} row{(count == 1 ? "" : "s")} of '{_timeColumn}' {(count == 1 ? "has" : "have")} no value); a time split needs every row's time. "
            + "Fix the data, or pass --missing drop to drop rows with missing values before the split.";

    /// <summary>The cause named for a present value of row <paramref name="row"/> that is not a time (<see cref="TryGetUtcTicks"/> refused it).</summary>
    private static string InvalidTimeProblem(Column column, int row) => column switch
    {
        TimestampColumn t => $"{t.Values[row]} ticks is not an instant between the years 0001 and 9999.",
        Int64Column l => EpochProblem(l.Values[row].ToString(CultureInfo.InvariantCulture)),
        Float64Column d => EpochProblem(d.Values[row].ToString("R", CultureInfo.InvariantCulture)),
        _ => throw new ArgumentException($"{column.Kind} holds no times.", nameof(column)),
    };

    /// <summary>
    /// The error one process's time split stops with, found over rows seen in input order (a plan's passes over the scan
    /// tasks' key columns): any missing time first, naming the first such row and counting them all, else the first value
    /// that is not a time. <see cref="Add"/> each row whose time <see cref="TryGetUtcTicks"/> refused, then
    /// <see cref="Error"/>.
    /// </summary>
    internal sealed class TimeProblems(TimeSplitAssigner assigner)
    {
        private long _missing;
        private (int Source, long Row) _firstMissing;
        private (int Source, long Row, string Problem)? _firstInvalid;

        /// <summary>Notes row <paramref name="row"/> of <paramref name="column"/>, whose origin <paramref name="rows"/> holds.</summary>
        public void Add(Column column, int row, RowInfo rows)
        {
            if (column.IsNull(row))
            {
                if (_missing++ == 0) _firstMissing = (rows.Sources[row], rows.SourceRows[row]);
            }
            else
            {
                _firstInvalid ??= (rows.Sources[row], rows.SourceRows[row], InvalidTimeProblem(column, row));
            }
        }

        /// <summary>The error for the rows noted, or null when none was.</summary>
        public DataFormatException? Error(RunContext context)
            => _missing > 0 ? assigner.Error(context, _firstMissing.Source, _firstMissing.Row, assigner.MissingTimeProblem(_missing))
                : _firstInvalid is { } bad ? assigner.Error(context, bad.Source, bad.Row, bad.Problem)
                : null;
    }

    /// <summary>
    /// The time of one row as UTC ticks, by the same rule the split uses: a timestamp as is, Int64/Float64 as
    /// Unix epoch seconds, or milliseconds when |v| ≥ 10¹¹. False when missing, not a time, or out of range.
    /// Use this wherever a row's time must agree with the split (lineage, audits).
    /// </summary>
    public static bool TryGetUtcTicks(Column column, int row, out long utcTicks)
    {
        utcTicks = 0;
        if (column.IsNull(row)) return false;
        switch (column)
        {
            case TimestampColumn t:
                utcTicks = t.Values[row];
                return utcTicks >= 0 && utcTicks <= DateTime.MaxValue.Ticks;
            case Int64Column l:
                return TryEpochToTicks(l.Values[row], out utcTicks);
            case Float64Column d:
                return TryEpochToTicks(d.Values[row], out utcTicks);
            default:
                return false;
        }
    }

    private static string EpochProblem(string value)
        => $"found {value}, which is not a Unix epoch time between the years 0001 and 9999 (values of 1e11 or more are read as milliseconds, smaller ones as seconds).";

    private DataFormatException Error(SplitInput input, RunContext context, int position, string problem)
    {
        var (source, row) = input.Origin(position);
        return Error(context, source, row, problem);
    }

    private DataFormatException Error(RunContext context, int source, long row, string problem)
    {
        string? file = source >= 0 && source < context.Inputs.Count ? context.Inputs[source] : null;
        return Throw.Format(problem, file, 0, row, _timeColumn);
    }

    /// <summary>Epoch seconds, or milliseconds when |v| ≥ 10¹¹ (the rule of the text sources), to UTC ticks.</summary>
    internal static bool TryEpochToTicks(long epoch, out long ticks)
    {
        Int128 offset = Int128.Abs(epoch) >= 100_000_000_000 ? (Int128)epoch * TimeSpan.TicksPerMillisecond : (Int128)epoch * TimeSpan.TicksPerSecond;
        Int128 t = DateTime.UnixEpoch.Ticks + offset;
        bool ok = t >= 0 && t <= DateTime.MaxValue.Ticks;
        ticks = ok ? (long)t : 0;
        return ok;
    }

    /// <summary>Float epoch seconds (fraction allowed), or milliseconds when |v| ≥ 10¹¹, to UTC ticks rounded to the nearest tick.</summary>
    internal static bool TryEpochToTicks(double epoch, out long ticks)
    {
        ticks = 0;
        if (!double.IsFinite(epoch)) return false;
        double offset = Math.Round(Math.Abs(epoch) >= 1e11 ? epoch * TimeSpan.TicksPerMillisecond : epoch * TimeSpan.TicksPerSecond);
        if (offset < -DateTime.UnixEpoch.Ticks || offset > DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) return false;
        Int128 t = DateTime.UnixEpoch.Ticks + (Int128)(long)offset;
        if (t < 0 || t > DateTime.MaxValue.Ticks) return false;
        ticks = (long)t;
        return true;
    }

    /// <summary>Positions sorted by (time, row id, position), and the times in that order.</summary>
    /// <remarks>
    /// Times usually repeat a lot (dates), where a comparison sort is slow and unstable: then a counting sort
    /// over the distinct times, fed in (row id, position) order, gives the order directly. Mostly distinct
    /// times take a key sort, with the few ties put in (row id, position) order afterwards.
    /// </remarks>
    internal static (long[] Sorted, int[] Order) TimeOrder(long[] ticks, long[] rowIds)
    {
        int n = ticks.Length;
        // Positions in (row id, position) order; usually row ids already ascend with position.
        bool idsAscend = true;
        for (int i = 1; i < n && idsAscend; i++) idsAscend = rowIds[i] > rowIds[i - 1];
        int[]? byId = null;
        if (!idsAscend)
        {
            var ids = rowIds.ToArray();
            byId = new int[n];
            for (int i = 0; i < n; i++) byId[i] = i;
            Array.Sort(ids, byId);
            for (int i = 1; i < n; i++)
            {
                if (ids[i] != ids[i - 1]) continue;
                int start = i - 1;
                while (i < n && ids[i] == ids[start]) i++;
                Array.Sort(byId, start, i - start);
            }
        }

        // Data that is already in time order (logs, event tables) keeps its order: nothing to sort.
        if (byId is null)
        {
            bool ascending = true;
            for (int i = 1; i < n && ascending; i++) ascending = ticks[i] >= ticks[i - 1];
            if (ascending)
            {
                var identity = new int[n];
                for (int i = 0; i < n; i++) identity[i] = i;
                return (ticks.ToArray(), identity);
            }
        }

        var counts = new Dictionary<long, int>();
        int limit = Math.Max(1024, n / 8);
        foreach (long t in ticks)
        {
            if (counts.Count > limit) break;
            CollectionsMarshal.GetValueRefOrAddDefault(counts, t, out _)++;
        }
        var sorted = new long[n];
        var order = new int[n];
        if (counts.Count <= limit)
        {
            var distinct = counts.Keys.ToArray();
            Array.Sort(distinct);
            var next = new Dictionary<long, int>(distinct.Length);
            for (int d = 0, at = 0; d < distinct.Length; d++)
            {
                int c = counts[distinct[d]];
                next[distinct[d]] = at;
                sorted.AsSpan(at, c).Fill(distinct[d]);
                at += c;
            }
            for (int k = 0; k < n; k++)
            {
                int i = byId is null ? k : byId[k];
                order[next[ticks[i]]++] = i;
            }
            return (sorted, order);
        }

        ticks.CopyTo(sorted, 0);
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(sorted, order);
        // Array.Sort is not stable: put rows of one timestamp in (row id, position) order.
        int[]? rank = null;
        if (byId is not null)
        {
            rank = new int[n];
            for (int k = 0; k < n; k++) rank[byId[k]] = k;
        }
        for (int i = 1; i < n; i++)
        {
            if (sorted[i] != sorted[i - 1]) continue;
            int start = i - 1;
            while (i < n && sorted[i] == sorted[start]) i++;
            if (rank is null)
            {
                Array.Sort(order, start, i - start);
            }
            else
            {
                var keys = new int[i - start];
                for (int k = 0; k < keys.Length; k++) keys[k] = rank[order[start + k]];
                keys.AsSpan().Sort(order.AsSpan(start, keys.Length));
            }
        }
        return (sorted, order);
    }

    /// <summary>UTC ticks as ISO 8601: <c>yyyy-MM-ddTHH:mm:ssZ</c>, with a fraction of a second only when there is one.</summary>
    internal static string Iso(long utcTicks)
    {
        if (utcTicks < 0 || utcTicks > DateTime.MaxValue.Ticks) return utcTicks.ToString(CultureInfo.InvariantCulture) + " ticks";
        var time = new DateTime(utcTicks, DateTimeKind.Utc);
        return time.ToString(utcTicks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
    }

    private static string F(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
