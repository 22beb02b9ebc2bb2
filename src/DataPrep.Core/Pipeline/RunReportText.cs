using System.Globalization;
using System.Text;

namespace DataPrep.Pipeline;

/// <summary>
/// A plain-text summary of a run (what <see cref="RunReport.ToString"/> returns): one line per split with rows,
/// achieved vs target fraction, bytes, shards, time range, groups and label counts, then drops and warnings.
/// Used outside notebooks (logs, consoles, dotnet-script) and as the notebook's text/plain fallback.
/// </summary>
public static class RunReportText
{
    /// <summary>The splits in display order: train, validation, test, then the rest (folds) by name.</summary>
    public static IEnumerable<KeyValuePair<string, SplitReport>> OrderedSplits(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Splits.OrderBy(kv => SplitOrder(kv.Key)).ThenBy(kv => kv.Key, StringComparer.Ordinal);
    }

    /// <summary>Sort key of a split name: train 0, validation 1, test 2, anything else 3.</summary>
    public static int SplitOrder(string split) => split switch { "train" => 0, "validation" => 1, "test" => 2, _ => 3 };

    /// <summary>The summary, several lines, ending without a newline.</summary>
    public static string Format(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"DataPrep run: {report.RowsRead:N0} rows in {report.Seconds:0.00} s → {report.Output ?? "(no output)"} ({report.ContentType ?? "?"})");
        if (PhaseLine(report) is { } phases) sb.AppendLine().Append("  phases: ").Append(phases);
        foreach (var (name, s) in OrderedSplits(report))
        {
            sb.AppendLine().Append("  ").Append(SplitLine(name, s));
        }
        if (report.Encoding?.Label?.Classes is { Count: > 0 } classes)
        {
            sb.AppendLine().Append(c, $"  label classes (id order): {string.Join(", ", classes.Take(12))}{(classes.Count > 12 ? ", …" : "")}");
        }
        foreach (var (reason, n) in report.Dropped) sb.AppendLine().Append(c, $"  dropped {n:N0} rows: {reason}");
        foreach (var line in BadRowLines(report)) sb.AppendLine().Append("  ").Append(line);
        foreach (var (reason, skipped) in report.Skipped)
        {
            sb.AppendLine().Append(c, $"  skipped {skipped.Count:N0} {reason}: {string.Join(", ", skipped.First)}{(skipped.Count > skipped.First.Count ? ", …" : "")}");
        }
        foreach (var (col, n) in report.Filled) sb.AppendLine().Append(c, $"  filled {n:N0} missing values in '{col}'");
        foreach (var (col, n) in report.Unseen ?? []) sb.AppendLine().Append("  ").Append(UnseenLine(col, n));
        foreach (var w in report.Warnings) sb.AppendLine().Append("  warning: ").Append(w);
        return sb.ToString();
    }

    /// <summary>
    /// Rows skipped under <c>--on-bad-row</c>: the rows read, kept and skipped, then one line per cause and the quarantine
    /// file; nothing when no row was skipped. One wording for the text summary, the CLI and notebooks.
    /// </summary>
    public static IEnumerable<string> BadRowLines(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.BadRows.Count == 0) yield break;
        var c = CultureInfo.InvariantCulture;
        long skipped = report.BadRows.Values.Sum();
        yield return string.Create(c, $"bad rows (--on-bad-row): {report.RowsRead:N0} read = {report.RowsRead - skipped:N0} kept + {skipped:N0} skipped")
            + (report.Quarantine is { } q ? $", written to {q}" : "");
        foreach (var (cause, n) in report.BadRows) yield return string.Create(c, $"skipped {n:N0} row{(n == 1 ? "" : "s")}: {cause}");
    }

    /// <summary>One split on one line.</summary>
    public static string SplitLine(string name, SplitReport s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"{name,-10} {RowsText(s),9} rows  {s.Fraction:0.0000} (target {s.TargetFraction:0.####})  {Bytes(s.Bytes)} in {s.Shards.Count} shard{(s.Shards.Count == 1 ? "" : "s")}");
        if (s.TimeFrom is not null || s.TimeTo is not null) sb.Append(c, $"  time {s.TimeFrom} … {s.TimeTo}");
        if (s.Groups is { } g) sb.Append(c, $"  {g:N0} groups");
        if (LabelText(s) is { Length: > 0 } labels) sb.Append("  labels ").Append(labels);
        return sb.ToString();
    }

    /// <summary>Each phase's own time on one line ("open 0.05 s · read 1.20 s · …"), or null when not measured.</summary>
    public static string? PhaseLine(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Phases is { Count: > 0 } p
            ? string.Join(" · ", p.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Name} {x.Seconds:0.00} s")))
            : null;
    }

    /// <summary>
    /// The rows of a split: a number, or for augmented image splits "originals + copies augmented" (e.g.
    /// "800 + 800 augmented"), so originals and augmented copies are never mixed in one count.
    /// </summary>
    public static string RowsText(SplitReport s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var c = CultureInfo.InvariantCulture;
        long augmented = s.Augmented?.Values.Sum() ?? 0;
        return augmented > 0 ? string.Create(c, $"{s.Rows - augmented:N0} + {augmented:N0} augmented") : s.Rows.ToString("N0", c);
    }

    /// <summary>
    /// The label column of a split: class counts ("0:1423 1:177", the first six and how many more) for classification,
    /// "min … p25 / median / p75 … max" for regression (≈ when the quantiles come from the sketch); empty without a label.
    /// </summary>
    public static string LabelText(SplitReport s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var c = CultureInfo.InvariantCulture;
        if (s.LabelDistribution is { Count: > 0 } d)
        {
            return string.Join(" ", d.Take(6).Select(kv => string.Create(c, $"{kv.Key}:{kv.Value}"))) + (d.Count > 6 ? string.Create(c, $" …(+{d.Count - 6})") : "");
        }
        if (s.LabelSummary is { } m)
        {
            string Q(string name) => m.Quantiles.TryGetValue(name, out double v) ? Number(v) : "?";
            return string.Create(c, $"min {Number(m.Min)}  p25 {Q("p25")}  median {Q("p50")}  p75 {Q("p75")}  max {Number(m.Max)}{(m.Exact ? "" : " (≈1 %)")}");
        }
        return "";
    }

    private static string Number(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary><c>dataprep apply</c>: one column's count of values unseen in the run's train split.</summary>
    public static string UnseenLine(string column, long count)
        => string.Create(CultureInfo.InvariantCulture, $"unseen in train: {count:N0} value{(count == 1 ? "" : "s")} in '{column}'{(count > 0 ? " → the reserved code" : "")}");

    /// <summary>Bytes as B, KiB, MiB or GiB.</summary>
    public static string Bytes(long b) => b switch
    {
        < 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{b} B"),
        < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{b / 1024.0:0.0} KiB"),
        < 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{b / 1048576.0:0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b / 1073741824.0:0.00} GiB"),
    };
}
