using System.Globalization;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>
/// The check every commit makes before anything is published: a run that writes no row at all is an error, and so is a
/// split the options asked rows for that ended up empty (unless <see cref="ConvertOptions.AllowEmptySplit"/>). An
/// empty training set trains nothing, and an empty test split evaluates nothing; both used to publish with exit 0.
/// </summary>
public static class EmptyRun
{
    /// <summary>Throws when the run wrote nothing, or left a split empty that the options asked rows for.</summary>
    /// <param name="report">The run's report, with the channels the sink wrote.</param>
    /// <param name="options">The run's options (what was asked for).</param>
    /// <param name="command"><c>convert</c> (splits are checked) or <c>apply</c> (one channel, only the total counts).</param>
    /// <exception cref="DataFormatException">Nothing to publish, or an empty split (exit 3); the message gives the counts read and dropped, and why.</exception>
    public static void Check(RunReport report, ConvertOptions options, string command)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(options);
        var c = CultureInfo.InvariantCulture;
        long written = report.Splits.Values.Sum(s => s.Rows);
        string counts = Counts(report);
        if (written == 0)
        {
            string why = report.RowsRead == 0
                ? "the inputs hold no data rows"
                : report.BadRows.Count > 0 ? "every row was dropped or skipped (--on-bad-row)"
                : report.Dropped.Count > 0 ? "every row was dropped" : "no row reached the output";
            throw new DataFormatException(
                $"Nothing to write: {counts}; {why}. No output was published.{(report.Dropped.Keys.Any(k => k.StartsWith("missing value", StringComparison.Ordinal)) ? " Fill missing values instead (--missing fill:mean or fill:VALUE) or drop the column (--drop)." : "")}",
                string.Join(", ", options.Inputs));
        }
        if (command != "convert" || options.AllowEmptySplit) return;
        var empty = AskedSplits(options).Where(name => !report.Splits.TryGetValue(name, out var s) || s.Rows == 0).ToList();
        if (empty.Count == 0) return;
        string achieved = string.Join(", ", report.Splits.Where(kv => !kv.Key.EndsWith("_lst", StringComparison.Ordinal)).OrderBy(kv => kv.Key, RunLayout.ChannelOrder).Select(kv => string.Create(c, $"{kv.Key} {kv.Value.Rows:N0}")));
        throw new DataFormatException(
            $"The {string.Join(" and ", empty)} split{(empty.Count == 1 ? " is" : "s are")} empty although the options asked rows for {(empty.Count == 1 ? "it" : "them")}: {counts}; written {achieved}. "
            + "No output was published. " + (StratifiedByClass(options, empty) ?? "Use more rows or other fractions, or pass --allow-empty-split to publish it empty."),
            string.Join(", ", options.Inputs));
    }

    /// <summary>
    /// Why a stratified random split can leave a split empty with many rows: each class is cut at its own exact counts, so
    /// classes of few rows (an id-like column given to --stratify) give the small splits none. Null for other splits.
    /// </summary>
    private static string? StratifiedByClass(ConvertOptions options, List<string> empty)
    {
        if (options.Folds > 0 || options.SplitBy != SplitMethod.Random || options.Stratify is not { } column) return null;
        double smallest = SplitNames.All.Zip(options.Fractions).Where(p => empty.Contains(p.First.Name())).Select(p => p.Second).DefaultIfEmpty(0).Min();
        if (!(smallest > 0)) return null;
        long rows = (long)Math.Ceiling(1 / smallest - 1e-9);
        return string.Create(CultureInfo.InvariantCulture,
            $"With --stratify {column}, each class is cut at its own exact counts, so a class of fewer than about {rows:N0} rows gives the {string.Join(" and ", empty)} split{(empty.Count == 1 ? "" : "s")} none: stratify by a column of fewer, larger classes, leave --stratify out, or pass --allow-empty-split to publish it empty.");
    }

    /// <summary>"1,000 rows read, 1,000 dropped (1,000 missing value in 'x')".</summary>
    private static string Counts(RunReport report)
    {
        var c = CultureInfo.InvariantCulture;
        long dropped = report.Dropped.Values.Sum();
        string text = string.Create(c, $"{report.RowsRead:N0} row{(report.RowsRead == 1 ? "" : "s")} read, {dropped:N0} dropped");
        if (report.Dropped.Count > 0) text += " (" + string.Join("; ", report.Dropped.Select(kv => string.Create(c, $"{kv.Value:N0}: {kv.Key}"))) + ")";
        if (report.BadRows.Count > 0) text += ", " + BadRows.Describe(report) + " (--on-bad-row)";
        return text;
    }

    /// <summary>The channels the options ask rows for.</summary>
    public static IEnumerable<string> AskedSplits(ConvertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Folds > 0)
        {
            for (int k = 0; k < options.Folds; k++) yield return RunLayout.FoldChannel(k);
            if (options.Test > 0) yield return SplitTag.Test.Name();
            yield break;
        }
        if (options.SplitBy == SplitMethod.NoisyClean)
        {
            // Train is the clean rows; the noisy rows are shared out by --noisy-validation (approach 2 adds clean ones to validation).
            yield return SplitTag.Train.Name();
            if (options.NoisyValidation > 0 || (options.NoisyApproach == NoisyApproach.MixedValidation && options.Validation > 0)) yield return SplitTag.Validation.Name();
            if (options.NoisyValidation < 1) yield return SplitTag.Test.Name();
            yield break;
        }
        foreach (var (tag, f) in SplitNames.All.Zip(options.Fractions))
        {
            if (f > 0) yield return tag.Name();
        }
    }
}
