using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace DataPrep.Audit;

/// <summary>A row seen by an audit: its split (index into the audit's split list) and a key the audit resolves to a location.</summary>
/// <param name="Split">The split index.</param>
/// <param name="Key">Runs: the row's index in the split's lineage (or shard and record); files: file index and row.</param>
internal readonly record struct RowRef(int Split, long Key);

/// <summary>Turns a <see cref="RowRef"/> into a printable location (only for the few rows shown as examples).</summary>
internal delegate AuditLocation RowResolver(RowRef row);

/// <summary>Names of the checks, as in the JSON report.</summary>
public static class AuditChecks
{
    /// <summary>Each row in exactly one split, none duplicated, none lost.</summary>
    public const string Partition = "partition";

    /// <summary>Shard files match run.json (size, SHA-256) and the lineage (records, content hashes).</summary>
    public const string Integrity = "integrity";

    /// <summary>No group key in two splits.</summary>
    public const string GroupOverlap = "group-overlap";

    /// <summary>max(t | earlier split) &lt; min(t | later split) for consecutive splits.</summary>
    public const string TimeOverlap = "time-overlap";

    /// <summary>No identical row (content) in two splits.</summary>
    public const string Duplicates = "duplicates";
}

/// <summary>Shared text helpers of the checks.</summary>
internal static class AuditText
{
    public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Plural(long n, string one, string many) => $"{N(n)} {(n == 1 ? one : many)}";

    /// <summary>A duration as "7d", "2d 3h", "45m", "1.5s", "0s".</summary>
    public static string Duration(TimeSpan t)
    {
        string sign = t < TimeSpan.Zero ? "-" : "";
        t = t.Duration();
        var parts = new List<string>();
        if (t.Days > 0) parts.Add($"{t.Days}d");
        if (t.Hours > 0) parts.Add($"{t.Hours}h");
        if (t.Minutes > 0) parts.Add($"{t.Minutes}m");
        double s = t.Seconds + t.Milliseconds / 1000.0 + (t.Ticks % TimeSpan.TicksPerMillisecond) / (double)TimeSpan.TicksPerSecond;
        if (s > 0 || parts.Count == 0) parts.Add($"{s.ToString("0.#######", CultureInfo.InvariantCulture)}s");
        return sign + string.Join(" ", parts);
    }

    public static AuditCheck Skipped(string name, string why) => new() { Name = name, Status = AuditStatus.Skipped, Message = why };
}

/// <summary>Group overlap: a group key present in more than one split.</summary>
internal sealed class GroupOverlap(IReadOnlyList<string> splits)
{
    private sealed class Entry(int splits)
    {
        public ulong Mask;
        public readonly long[] Counts = new long[splits];
        public readonly RowRef[] First = new RowRef[splits];
    }

    private readonly Dictionary<string, Entry> _groups = new(StringComparer.Ordinal);
    private readonly long[] _missing = new long[splits.Count];
    private readonly long[] _distinct = new long[splits.Count];

    /// <summary>Rows without a group key, per split.</summary>
    public IReadOnlyList<long> Missing => _missing;

    /// <summary>Distinct group keys per split.</summary>
    public IReadOnlyList<long> Distinct => _distinct;

    public void Add(RowRef row, string? key)
    {
        if (key is null) { _missing[row.Split]++; return; }
        ref var e = ref CollectionsMarshal.GetValueRefOrAddDefault(_groups, key, out _);
        e ??= new Entry(splits.Count);
        ulong bit = 1UL << row.Split;
        if ((e.Mask & bit) == 0)
        {
            e.Mask |= bit;
            e.First[row.Split] = row;
            _distinct[row.Split]++;
        }
        e.Counts[row.Split]++;
    }

    public AuditCheck Result(string column, int maxExamples, RowResolver resolve)
    {
        var leaked = _groups.Where(kv => BitOperations.PopCount(kv.Value.Mask) > 1).ToList();
        long missing = _missing.Sum();
        var check = new AuditCheck { Name = AuditChecks.GroupOverlap };
        string missingText = missing > 0 ? $"; {AuditText.Plural(missing, "row has", "rows have")} no group key and {(missing == 1 ? "was" : "were")} not checked" : "";
        if (leaked.Count == 0)
        {
            check.Status = AuditStatus.Pass;
            check.Message = $"{AuditText.Plural(_groups.Count, "group", "groups")} of {column}, each in exactly one split{missingText}.";
            return check;
        }
        check.Status = AuditStatus.Leak;
        check.Violations = leaked.Count;
        // Rows outside each leaked group's largest split: what would have to move to make the split clean.
        long rows = 0;
        foreach (var (_, e) in leaked) rows += e.Counts.Sum() - e.Counts.Max();
        check.Rows = rows;
        check.Message = $"{AuditText.Plural(leaked.Count, "group", "groups")} of {column} {(leaked.Count == 1 ? "occurs" : "occur")} in more than one split "
            + $"({AuditText.Plural(rows, "row lies", "rows lie")} outside the split that holds most of {(rows == 1 ? "its" : "their")} group){missingText}.";
        for (int a = 0; a < splits.Count; a++)
        {
            for (int b = a + 1; b < splits.Count; b++)
            {
                ulong both = (1UL << a) | (1UL << b);
                long n = leaked.Count(kv => (kv.Value.Mask & both) == both);
                if (n > 0) check.Details.Add($"{splits[a]} ∩ {splits[b]}: {AuditText.Plural(n, "group", "groups")}");
            }
        }
        foreach (var (key, e) in leaked.OrderByDescending(kv => kv.Value.Counts.Sum() - kv.Value.Counts.Max()).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(maxExamples))
        {
            var ex = new AuditExample { Key = key };
            var parts = new List<string>();
            for (int s = 0; s < splits.Count; s++)
            {
                if ((e.Mask & (1UL << s)) == 0) continue;
                parts.Add($"{splits[s]} {AuditText.Plural(e.Counts[s], "row", "rows")}");
                var where = resolve(e.First[s]);
                where.Value = key;
                ex.Rows.Add(where);
            }
            ex.Text = $"group {Quote(key)}: {string.Join(", ", parts)} (first rows: {string.Join("; ", ex.Rows)})";
            check.Examples.Add(ex);
        }
        return check;
    }

    public static string Quote(string s) => "'" + (s.Length > 60 ? s[..60] + "…" : s).Replace("\n", "\\n").Replace("\r", "\\r") + "'";
}

/// <summary>Time overlap: for consecutive splits, max(t | earlier) must be below min(t | later).</summary>
internal sealed class TimeOverlap
{
    private readonly IReadOnlyList<string> _splits;
    private readonly int _examples;
    private readonly List<long>[] _times;
    private readonly long[] _missing;
    private readonly long[] _min, _max;
    private readonly PriorityQueue<(long T, RowRef Row), (long, long)>[] _earliest; // max-heap of the smallest
    private readonly PriorityQueue<(long T, RowRef Row), (long, long)>[] _latest;   // min-heap of the largest
    private long _order;

    public TimeOverlap(IReadOnlyList<string> splits, int maxExamples)
    {
        _splits = splits;
        _examples = Math.Max(0, maxExamples);
        int n = splits.Count;
        _times = Enumerable.Range(0, n).Select(_ => new List<long>()).ToArray();
        _missing = new long[n];
        _min = Enumerable.Repeat(long.MaxValue, n).ToArray();
        _max = Enumerable.Repeat(long.MinValue, n).ToArray();
        _earliest = Enumerable.Range(0, n).Select(_ => new PriorityQueue<(long, RowRef), (long, long)>()).ToArray();
        _latest = Enumerable.Range(0, n).Select(_ => new PriorityQueue<(long, RowRef), (long, long)>()).ToArray();
    }

    /// <summary>Rows without a time, per split.</summary>
    public IReadOnlyList<long> Missing => _missing;

    /// <summary>The earliest time of a split, or null when it has none.</summary>
    public long? Min(int split) => _times[split].Count == 0 ? null : _min[split];

    /// <summary>The latest time of a split, or null when it has none.</summary>
    public long? Max(int split) => _times[split].Count == 0 ? null : _max[split];

    public void AddMissing(int split) => _missing[split]++;

    public void Add(RowRef row, long ticks)
    {
        int s = row.Split;
        _times[s].Add(ticks);
        if (ticks < _min[s]) _min[s] = ticks;
        if (ticks > _max[s]) _max[s] = ticks;
        if (_examples == 0) return;
        long order = _order++;
        // Ties keep the first rows seen: the earliest-seen row wins among equal times.
        Keep(_earliest[s], (ticks, row), (-ticks, -order));
        Keep(_latest[s], (ticks, row), (ticks, -order));
    }

    private void Keep(PriorityQueue<(long, RowRef), (long, long)> q, (long, RowRef) item, (long, long) priority)
    {
        if (q.Count < _examples) { q.Enqueue(item, priority); return; }
        q.TryPeek(out _, out var worst);
        if (priority.CompareTo(worst) > 0) q.EnqueueDequeue(item, priority);
    }

    public AuditCheck Result(string column, RowResolver resolve, TimeSpan? requiredGap)
    {
        var check = new AuditCheck { Name = AuditChecks.TimeOverlap, Boundaries = [] };
        var present = Enumerable.Range(0, _splits.Count).Where(s => _times[s].Count > 0).ToList();
        long missing = _missing.Sum();
        string missingText = missing > 0 ? $"; {AuditText.Plural(missing, "row has", "rows have")} no time and {(missing == 1 ? "was" : "were")} not checked" : "";
        for (int i = 0; i + 1 < present.Count; i++)
        {
            int e = present[i], l = present[i + 1];
            long emax = _max[e], lmin = _min[l];
            var b = new TimeBoundary
            {
                Earlier = _splits[e],
                Later = _splits[l],
                EarlierMax = CanonicalValues.Iso(emax),
                LaterMin = CanonicalValues.Iso(lmin),
                GapSeconds = (lmin - emax) / (double)TimeSpan.TicksPerSecond,
                RequiredGapSeconds = requiredGap is { } g && g > TimeSpan.Zero ? g.TotalSeconds : null,
            };
            if (emax >= lmin)
            {
                b.Overlaps = b.Leaks = true;
                b.OverlapFrom = b.LaterMin;
                b.OverlapTo = b.EarlierMax;
                b.EarlierRowsInOverlap = _times[e].LongCount(t => t >= lmin);
                b.LaterRowsInOverlap = _times[l].LongCount(t => t <= emax);
                check.Details.Add($"{b.Earlier} → {b.Later}: overlap from {b.OverlapFrom} to {b.OverlapTo} "
                    + $"({AuditText.Plural(b.EarlierRowsInOverlap, b.Earlier + " row", b.Earlier + " rows")} at or after {b.LaterMin}, "
                    + $"{AuditText.Plural(b.LaterRowsInOverlap, b.Later + " row", b.Later + " rows")} at or before {b.EarlierMax})");
                AddExamples(check, e, l, lmin, emax, resolve);
            }
            else if (requiredGap is { } gap && gap > TimeSpan.Zero && lmin - emax < gap.Ticks)
            {
                b.Leaks = true;
                b.LaterRowsInOverlap = _times[l].LongCount(t => t < emax + gap.Ticks);
                check.Details.Add($"{b.Earlier} → {b.Later}: the gap is {AuditText.Duration(TimeSpan.FromTicks(lmin - emax))} "
                    + $"({b.EarlierMax} → {b.LaterMin}), less than the run's --gap {AuditText.Duration(gap)}: "
                    + $"{AuditText.Plural(b.LaterRowsInOverlap, b.Later + " row lies", b.Later + " rows lie")} inside it");
            }
            else
            {
                check.Details.Add($"{b.Earlier} → {b.Later}: {b.EarlierMax} < {b.LaterMin} (gap {AuditText.Duration(TimeSpan.FromTicks(lmin - emax))})");
            }
            check.Boundaries.Add(b);
        }
        var leaks = check.Boundaries.Where(b => b.Leaks).ToList();
        if (present.Count < 2)
        {
            check.Status = AuditStatus.Skipped;
            check.Message = $"fewer than two splits have times in {column}; nothing to compare{missingText}.";
            return check;
        }
        if (leaks.Count == 0)
        {
            check.Status = AuditStatus.Pass;
            check.Message = $"{column}: every split ends before the next begins ({string.Join(" < ", present.Select(s => _splits[s]))}){missingText}.";
            return check;
        }
        check.Status = AuditStatus.Leak;
        check.Violations = leaks.Count;
        check.Rows = leaks.Sum(b => b.EarlierRowsInOverlap + b.LaterRowsInOverlap);
        var first = leaks[0];
        check.Message = first.Overlaps
            ? $"{column}: {first.Earlier} and {first.Later} overlap from {first.OverlapFrom} to {first.OverlapTo}"
            : $"{column}: {first.Earlier} and {first.Later} are closer than the run's --gap";
        if (leaks.Count > 1) check.Message += $" (and {AuditText.Plural(leaks.Count - 1, "more boundary", "more boundaries")})";
        check.Message += missingText + ".";
        return check;
    }

    private void AddExamples(AuditCheck check, int e, int l, long lmin, long emax, RowResolver resolve)
    {
        var late = Drain(_latest[e]).Where(x => x.T >= lmin).OrderByDescending(x => x.T).ToList();
        var early = Drain(_earliest[l]).Where(x => x.T <= emax).OrderBy(x => x.T).ToList();
        for (int k = 0; k < Math.Min(late.Count, early.Count) && check.Examples.Count < _examples; k++)
        {
            var a = resolve(late[k].Row);
            a.Value = CanonicalValues.Iso(late[k].T);
            var b = resolve(early[k].Row);
            b.Value = CanonicalValues.Iso(early[k].T);
            check.Examples.Add(new AuditExample
            {
                Text = $"{a} at {a.Value} is not before {b} at {b.Value}",
                Rows = [a, b],
            });
        }
    }

    private static List<(long T, RowRef Row)> Drain(PriorityQueue<(long T, RowRef Row), (long, long)> q)
        => q.UnorderedItems.Select(x => x.Element).ToList();
}

/// <summary>Exact duplicates: the same content hash in more than one split.</summary>
internal sealed class DuplicateRows(IReadOnlyList<string> splits, int maxExamples)
{
    private static string Approx(double x) => x switch
    {
        < 0.01 => "0",
        < 100 => x.ToString("0.##", CultureInfo.InvariantCulture),
        < 1e15 => x.ToString("N0", CultureInfo.InvariantCulture),
        _ => x.ToString("0.#e+0", CultureInfo.InvariantCulture),
    };

    private struct Entry
    {
        public RowRef First;
        public ulong Mask;
        public long Count;
    }

    private readonly Dictionary<ulong, Entry> _rows = [];
    private readonly List<(ulong Hash, RowRef A, RowRef B)> _examples = [];
    private readonly long[] _repeatsWithin = new long[splits.Count];

    /// <summary>Rows whose content already occurred in their own split (not a leak), per split.</summary>
    public IReadOnlyList<long> RepeatsWithin => _repeatsWithin;

    /// <summary>Whether any content occurs in more than one split.</summary>
    public bool Any => _rows.Values.Any(e => BitOperations.PopCount(e.Mask) >= 2);

    public void Add(RowRef row, ulong hash)
    {
        ref var e = ref CollectionsMarshal.GetValueRefOrAddDefault(_rows, hash, out bool exists);
        ulong bit = 1UL << row.Split;
        if (!exists)
        {
            e.First = row;
            e.Mask = bit;
            e.Count = 1;
            return;
        }
        e.Count++;
        if ((e.Mask & bit) != 0) { _repeatsWithin[row.Split]++; return; }
        e.Mask |= bit;
        if (_examples.Count < maxExamples) _examples.Add((hash, e.First, row));
    }

    /// <summary>
    /// The check: pass, or a warning (identical rows are not leakage by themselves: rows with few distinct values per
    /// column coincide by chance) with the count and, when <paramref name="chance"/> is given, the number expected by chance.
    /// </summary>
    public AuditCheck Result(string what, RowResolver resolve, ColumnCardinalities? chance = null, IReadOnlyList<long>? splitRows = null, string? noChance = null)
    {
        var check = new AuditCheck { Name = AuditChecks.Duplicates };
        long distinct = 0, rows = 0;
        var pairs = new long[splits.Count, splits.Count];
        foreach (var e in _rows.Values)
        {
            if (BitOperations.PopCount(e.Mask) < 2) continue;
            distinct++;
            rows += e.Count;
            for (int a = 0; a < splits.Count; a++)
            {
                if ((e.Mask & (1UL << a)) == 0) continue;
                for (int b = a + 1; b < splits.Count; b++) if ((e.Mask & (1UL << b)) != 0) pairs[a, b]++;
            }
        }
        long within = _repeatsWithin.Sum();
        string withinText = within > 0 ? $"; {AuditText.Plural(within, "row repeats", "rows repeat")} within {(within == 1 ? "its" : "their")} own split (not a leak)" : "";
        if (distinct == 0)
        {
            check.Status = AuditStatus.Pass;
            check.Message = $"no {what} occurs in two splits ({AuditText.Plural(_rows.Count, "distinct row", "distinct rows")}){withinText}.";
            return check;
        }
        check.Status = AuditStatus.Warning;
        check.Violations = distinct;
        check.Rows = rows;
        string chanceText;
        if (chance is not null && splitRows is not null)
        {
            var estimate = chance.Estimate(splitRows);
            check.ExpectedByChance = estimate;
            chanceText = $"; expected by chance ≈ {Approx(estimate.Expected)} (the columns allow {Approx(estimate.PossibleRows)} distinct rows: {string.Join(" × ", estimate.Cardinalities.Select(AuditText.N))})"
                + (distinct > 2 * estimate.Expected + 3 ? " — far more than chance: look for copied rows" : " — no more than chance gives");
        }
        else
        {
            chanceText = noChance is null ? "" : $"; expected by chance: not computed ({noChance})";
        }
        check.Message = $"{AuditText.Plural(distinct, "distinct " + what + " occurs", "distinct " + what + "s occur")} in more than one split ({AuditText.Plural(rows, "row", "rows")} in all){chanceText}{withinText}.";
        for (int a = 0; a < splits.Count; a++)
        {
            for (int b = a + 1; b < splits.Count; b++)
            {
                if (pairs[a, b] > 0) check.Details.Add($"{splits[a]} ∩ {splits[b]}: {AuditText.Plural(pairs[a, b], "distinct row", "distinct rows")}");
            }
        }
        foreach (var (hash, a, b) in _examples)
        {
            var x = resolve(a);
            var y = resolve(b);
            check.Examples.Add(new AuditExample
            {
                Key = hash.ToString("x16", CultureInfo.InvariantCulture),
                Text = $"{x} = {y}",
                Rows = [x, y],
            });
        }
        return check;
    }
}

/// <summary>
/// Distinct values per column (each counted up to <see cref="Cap"/>), for <see cref="ChanceEstimate"/>: how many identical
/// rows splits share by chance when each column's values are drawn independently and uniformly from its distinct values.
/// </summary>
internal sealed class ColumnCardinalities
{
    /// <summary>Distinct values counted per column at most; more make the estimate an upper bound.</summary>
    public const int Cap = 1 << 16;

    private readonly List<HashSet<string>> _values = [];
    private readonly List<long> _explicit = [];
    private long _records;

    /// <summary>Counts a record (call once per row, before or after its values).</summary>
    public void AddRecord() => _records++;

    /// <summary>Adds a column's value in the current row (null for missing).</summary>
    public void Add(int column, string? value)
    {
        while (_values.Count <= column)
        {
            _values.Add(new HashSet<string>(StringComparer.Ordinal));
            _explicit.Add(0);
        }
        _explicit[column]++;
        var set = _values[column];
        if (set.Count < Cap) set.Add(value ?? "\0");
    }

    /// <summary>E for splits of <paramref name="rows"/> rows; columns some rows leave out (sparse records) also hold 0.</summary>
    public ChanceEstimate Estimate(IReadOnlyList<long> rows)
    {
        double pairs = 0;
        for (int a = 0; a < rows.Count; a++)
        {
            for (int b = a + 1; b < rows.Count; b++) pairs += (double)rows[a] * rows[b];
        }
        var k = new List<long>();
        for (int c = 0; c < _values.Count; c++)
        {
            long n = _values[c].Count + (_explicit[c] < _records && !_values[c].Contains("0") ? 1 : 0);
            k.Add(Math.Max(1, n));
        }
        double log = k.Sum(x => Math.Log(x));
        return new ChanceEstimate { Expected = pairs * Math.Exp(-log), Cardinalities = k, PossibleRows = Math.Exp(log) };
    }
}
