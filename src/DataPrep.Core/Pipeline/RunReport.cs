using System.Text.Json.Serialization;

namespace DataPrep.Pipeline;

/// <summary>What a run did: rows per split, drops, learned maps, shards. Serialised into run.json.</summary>
public sealed class RunReport
{
    /// <summary>Rows read from all inputs.</summary>
    public long RowsRead { get; set; }

    /// <summary>Rows dropped before splitting, by reason (e.g. "missing value in price").</summary>
    public SortedDictionary<string, long> Dropped { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Rows left out under <c>--on-bad-row skip|quarantine</c>, by cause (<see cref="BadRowCause"/>): read (they count in
    /// <see cref="RowsRead"/>) but in no split. Empty under the default, fail.
    /// </summary>
    public SortedDictionary<string, long> BadRows { get; } = new(StringComparer.Ordinal);

    /// <summary>Under <c>--on-bad-row quarantine</c>: the file holding the skipped rows, relative to the output root; null when none was skipped.</summary>
    public string? Quarantine { get; set; }

    /// <summary>Missing values filled, by column.</summary>
    public SortedDictionary<string, long> Filled { get; } = new(StringComparer.Ordinal);

    /// <summary>Input files not read, by reason (e.g. "not an image" in an image folder), each with a count and the first few paths.</summary>
    public SortedDictionary<string, SkippedFiles> Skipped { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// <c>dataprep apply</c>: per encoded column (categories, and text labels with --with-label), the values the earlier
    /// run's train split never had, mapped to the reserved code (or refused with --on-unseen error). Null for convert.
    /// </summary>
    public SortedDictionary<string, long>? Unseen { get; set; }

    /// <summary>Per split: rows, fraction, label distribution, shards.</summary>
    public SortedDictionary<string, SplitReport> Splits { get; } = new(StringComparer.Ordinal);

    /// <summary>The learned encoding (label classes, vocabularies, output columns).</summary>
    public EncodingRecord? Encoding { get; set; }

    /// <summary>Warnings for the user (e.g. validation labels unseen in train).</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>The output content type, e.g. text/csv or text/csv;label_size=0.</summary>
    public string? ContentType { get; set; }

    /// <summary>SageMaker channel settings beyond the content type (written to <c>_dataprep/channels.json</c>).</summary>
    public ChannelHints Channel { get; set; } = new();

    /// <summary>Where the output went.</summary>
    public string? Output { get; set; }

    /// <summary>Wall time of the run in seconds.</summary>
    public double Seconds { get; set; }

    /// <summary>
    /// The phases of the run in order (open, read, split, write, then commit or upload), each with its own wall time:
    /// consecutive, so they add up to at most <see cref="Seconds"/> (see <see cref="RunPhases"/>). Null when not measured.
    /// </summary>
    public List<PhaseTime>? Phases { get; set; }

    /// <summary>Adds to a drop counter.</summary>
    public void Drop(string reason, long count = 1)
    {
        lock (Dropped) Dropped[reason] = Dropped.GetValueOrDefault(reason) + count;
    }

    /// <summary>Counts a skipped input file; the first <see cref="SkippedFiles.Listed"/> paths of a reason are kept.</summary>
    public void Skip(string reason, string path)
    {
        lock (Skipped)
        {
            if (!Skipped.TryGetValue(reason, out var s)) Skipped[reason] = s = new SkippedFiles();
            s.Count++;
            if (s.First.Count < SkippedFiles.Listed) s.First.Add(path);
        }
    }

    /// <summary>A plain-text summary (see <see cref="RunReportText"/>).</summary>
    public override string ToString() => RunReportText.Format(this);
}

/// <summary>Input files of one kind that a run did not read: how many, and the first few.</summary>
public sealed class SkippedFiles
{
    /// <summary>How many paths are listed at most.</summary>
    public const int Listed = 5;

    /// <summary>The number of files (or folders) skipped.</summary>
    public long Count { get; set; }

    /// <summary>The first <see cref="Listed"/> of them, in the order they were found.</summary>
    public List<string> First { get; set; } = [];
}

/// <summary>One split of the output.</summary>
public sealed class SplitReport
{
    /// <summary>The number of rows.</summary>
    public long Rows { get; set; }

    /// <summary>The fraction that was asked for.</summary>
    public double TargetFraction { get; set; }

    /// <summary>Rows of this split ÷ rows of all splits.</summary>
    public double Fraction { get; set; }

    /// <summary>
    /// Classification labels: rows per label value (as written, e.g. class id). Null for regression labels (see
    /// <see cref="LabelSummary"/>) and without a label. Which one a run reports: <see cref="LabelKinds"/>.
    /// </summary>
    public SortedDictionary<string, long>? LabelDistribution { get; set; }

    /// <summary>Regression labels: count, min, quantiles and max. Null for classification labels and without a label.</summary>
    public LabelSummary? LabelSummary { get; set; }

    /// <summary>Time splits: the earliest and latest timestamp in the split (ISO 8601, UTC).</summary>
    public string? TimeFrom { get; set; }

    /// <summary>See <see cref="TimeFrom"/>.</summary>
    public string? TimeTo { get; set; }

    /// <summary>Group splits: the number of distinct groups in the split.</summary>
    public long? Groups { get; set; }

    /// <summary>Content type, feature width, dtype and sparsity of the files.</summary>
    public FormatInfo? Format { get; set; }

    /// <summary>The data files, relative to the output root.</summary>
    public List<ShardRecord> Shards { get; init; } = [];

    /// <summary>The lineage sidecar, relative to the output root.</summary>
    public string? Lineage { get; set; }

    /// <summary>Image formats: rows added by augmentation (included in <see cref="Rows"/>), by operation.</summary>
    public SortedDictionary<string, long>? Augmented { get; set; }

    /// <summary>Image formats with augmentation: the original images of the split (<see cref="Rows"/> less the augmented copies).</summary>
    public long? Originals { get; set; }

    /// <summary>Total bytes of the shards.</summary>
    [JsonIgnore]
    public long Bytes => Shards.Sum(s => s.Bytes);

    /// <summary>A one-line summary (see <see cref="RunReportText.SplitLine"/>).</summary>
    public override string ToString() => RunReportText.SplitLine("split", this);
}

/// <summary>
/// A regression label's distribution in one split: count, min, max and quantiles p01 … p99. A quantile q is the
/// smallest value with at least ⌈q·count⌉ values at or below it (nearest rank). Exact while the label has at most
/// 1,000 distinct integral values; otherwise from a log-bucket sketch, within 1 % of a value of that rank (min and max
/// exact). NaN and infinite labels are not counted.
/// </summary>
public sealed class LabelSummary
{
    /// <summary>The quantile levels reported, by name.</summary>
    internal static readonly (string Name, double Q)[] Levels = [("p01", 0.01), ("p05", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p99", 0.99)];

    /// <summary>The 1-based rank of quantile <paramref name="q"/> among <paramref name="n"/> values: ⌈q·n⌉, at least 1.</summary>
    internal static long Rank(double q, long n) => Math.Max(1, (long)Math.Ceiling(q * n - 1e-9));

    /// <summary>Labels counted.</summary>
    public long Count { get; set; }

    /// <summary>The smallest label.</summary>
    public double Min { get; set; }

    /// <summary>The largest label.</summary>
    public double Max { get; set; }

    /// <summary>p01, p05, p25, p50 (median), p75, p95, p99.</summary>
    public SortedDictionary<string, double> Quantiles { get; set; } = new(StringComparer.Ordinal);

    /// <summary>True when the quantiles are exact, false when they come from the sketch (within 1 %).</summary>
    public bool Exact { get; set; }
}

/// <summary>
/// Classification or regression: which label report a run gives. Classification (counts per class) when the label is
/// text (class ids) or boolean, when the run stratifies by the label, for image classes, or when every label is an
/// integral number and there are at most <see cref="MaxIntegerClasses"/> distinct values in the whole run (0/1, class
/// ids); regression (min, quantiles, max) otherwise: fractional numbers, or more distinct integers than that.
/// </summary>
public static class LabelKinds
{
    /// <summary>More distinct integral labels than this and a numeric label counts as a regression target.</summary>
    public const int MaxIntegerClasses = 32;

    /// <summary>Whether a run's label is a class label (see <see cref="LabelKinds"/>).</summary>
    public static bool IsClassification(RunReport report, ConvertOptions options)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(options);
        var label = report.Encoding?.Label;
        if (label is { Classes: not null } || label?.Kind is Data.ColumnKind.String or Data.ColumnKind.Boolean) return true;
        if (options.FormatTraits.ReadsImages) return true;
        if (label is not null && options.Stratify is { } s && s == label.Name) return true;
        var splits = report.Splits.Values.Where(x => x.Rows > 0 && (x.LabelDistribution is not null || x.LabelSummary is not null)).ToList();
        if (splits.Count == 0 || splits.Any(x => x.LabelDistribution is null)) return false;
        return splits.SelectMany(x => x.LabelDistribution!.Keys).Distinct(StringComparer.Ordinal).Count() <= MaxIntegerClasses;
    }

    /// <summary>Keeps the label report that fits: the class counts or the summary, never both.</summary>
    public static void Apply(RunReport report, ConvertOptions options)
    {
        bool classes = IsClassification(report, options);
        foreach (var s in report.Splits.Values)
        {
            if (classes) s.LabelSummary = null;
            else s.LabelDistribution = null;
        }
    }
}

/// <summary>One data file.</summary>
/// <param name="Path">Relative to the output root, with '/' separators.</param>
/// <param name="Rows">Rows in the file.</param>
/// <param name="Bytes">File size.</param>
/// <param name="Sha256">Lowercase hex SHA-256 of the file bytes.</param>
public sealed record ShardRecord(string Path, long Rows, long Bytes, string Sha256)
{
    /// <summary>
    /// True for a file holding only augmented copies (k-fold image runs): it is part of its fold's training sets,
    /// not of the fold's validation set. Null otherwise.
    /// </summary>
    public bool? Augmented { get; init; }
}

/// <summary>What a SageMaker training channel needs to know about a run's data besides its content type.</summary>
public sealed class ChannelHints
{
    /// <summary><c>ShardedByS3Key</c> (default: each instance gets whole objects) or <c>FullyReplicated</c> (e.g. image RecordIO).</summary>
    public string Distribution { get; set; } = "ShardedByS3Key";

    /// <summary><c>RecordIO</c> for augmented manifests read in Pipe mode; null otherwise.</summary>
    public string? RecordWrapperType { get; set; }

    /// <summary>The input mode the data suits best (<c>File</c>, <c>Pipe</c>, <c>FastFile</c>); null = any.</summary>
    public string? InputMode { get; set; }

    /// <summary>Augmented manifests: the attribute names a channel passes on (e.g. <c>source-ref</c>, <c>class</c>).</summary>
    public List<string>? AttributeNames { get; set; }

    /// <summary>The S3 data type the data is addressed by: <c>ManifestFile</c> (default), <c>S3Prefix</c> or <c>AugmentedManifestFile</c>.</summary>
    public string S3DataType { get; set; } = "ManifestFile";

    /// <summary>
    /// ManifestFiles list each object relative to its split's prefix (<c>ROOT/train/</c>) instead of the output
    /// root: in File mode SageMaker places an object at its manifest suffix below the channel directory, so
    /// image files land where an im2rec <c>.lst</c> (paths relative to the split) expects them.
    /// </summary>
    public bool ManifestRelativeToSplit { get; set; }
}
