using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DataPrep.Audit;

/// <summary>The outcome of one audit check.</summary>
public enum AuditStatus
{
    /// <summary>The check ran and found nothing wrong.</summary>
    [JsonStringEnumMemberName("pass")] Pass,

    /// <summary>The check found leakage between splits (shared groups, overlapping times, shared rows, a row in two splits).</summary>
    [JsonStringEnumMemberName("leak")] Leak,

    /// <summary>The files do not match the run record (corrupt, changed, missing or unlisted files).</summary>
    [JsonStringEnumMemberName("fail")] Fail,

    /// <summary>The check could not run (the information it needs is not there); does not fail the audit.</summary>
    [JsonStringEnumMemberName("skipped")] Skipped,

    /// <summary>
    /// Worth a look but not leakage (identical rows in two splits, which rows with few distinct values per column share by
    /// chance); does not fail the audit.
    /// </summary>
    [JsonStringEnumMemberName("warning")] Warning,
}

/// <summary>
/// What <c>dataprep audit</c> found: the splits it read, each check with its status, counts and examples.
/// Serialised as the <c>--json</c> output (camelCase, statuses as "pass", "leak", "fail", "skipped").
/// </summary>
public sealed class AuditReport
{
    /// <summary>"run" for a DataPrep output folder (checked through its lineage), "files" for anyone's split files.</summary>
    public string Kind { get; set; } = "files";

    /// <summary>The paths as given.</summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>Runs: the output folder.</summary>
    public string? Run { get; set; }

    /// <summary>Runs: how the run split its rows, e.g. "random", "time by date", "group by speaker".</summary>
    public string? SplitMethod { get; set; }

    /// <summary>The splits in check order (train, validation, test, then others).</summary>
    public List<AuditSplit> Splits { get; set; } = [];

    /// <summary>The checks in the order they are printed.</summary>
    public List<AuditCheck> Checks { get; set; } = [];

    /// <summary>Facts worth knowing that are not failures (skipped columns, rows without a time, …).</summary>
    public List<string> Notes { get; set; } = [];

    /// <summary>Leak when any check leaks, else fail when any check fails, else warning when any check warns, else pass.</summary>
    public AuditStatus Status => Checks.Any(c => c.Status == AuditStatus.Leak) ? AuditStatus.Leak
        : Checks.Any(c => c.Status == AuditStatus.Fail) ? AuditStatus.Fail
        : Checks.Any(c => c.Status == AuditStatus.Warning) ? AuditStatus.Warning
        : AuditStatus.Pass;

    /// <summary>Whether no check leaked or failed (skipped checks and warnings do not count).</summary>
    public bool Clean => Status is AuditStatus.Pass or AuditStatus.Warning;

    /// <summary>The check with the given name, if it ran.</summary>
    public AuditCheck? Check(string name) => Checks.FirstOrDefault(c => c.Name == name);

    /// <summary>The report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, (JsonTypeInfo<AuditReport>)s_json.GetTypeInfo(typeof(AuditReport)));

    /// <summary>The source-generated options, writing non-ASCII text (→, ∩, names) as it is rather than as \u escapes.</summary>
    private static readonly JsonSerializerOptions s_json = new(AuditJsonContext.Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

/// <summary>One split as the audit read it.</summary>
public sealed class AuditSplit
{
    /// <summary>The split name (train, validation, test, or the file name when it names no split).</summary>
    public string Name { get; set; } = "";

    /// <summary>Rows read.</summary>
    public long Rows { get; set; }

    /// <summary>The data files of the split (shards of a run, relative to its folder; or the files given).</summary>
    public List<string> Files { get; set; } = [];

    /// <summary>Distinct group keys, when groups were checked.</summary>
    public long? Groups { get; set; }

    /// <summary>The earliest time (ISO 8601 UTC), when times were checked.</summary>
    public string? TimeFrom { get; set; }

    /// <summary>The latest time (ISO 8601 UTC), when times were checked.</summary>
    public string? TimeTo { get; set; }
}

/// <summary>One check: partition, integrity, group-overlap, time-overlap or duplicates.</summary>
public sealed class AuditCheck
{
    /// <summary>The stable name: partition, integrity, group-overlap, time-overlap, duplicates.</summary>
    public string Name { get; set; } = "";

    /// <summary>The outcome.</summary>
    public AuditStatus Status { get; set; }

    /// <summary>One line saying what was checked and what was found.</summary>
    public string Message { get; set; } = "";

    /// <summary>How many things are wrong (groups, boundaries, distinct rows, row ids, files); 0 when clean.</summary>
    public long Violations { get; set; }

    /// <summary>Rows involved in the violations, when that is a meaningful count.</summary>
    public long? Rows { get; set; }

    /// <summary>Further lines of detail (per split pair counts, per file problems).</summary>
    public List<string> Details { get; set; } = [];

    /// <summary>Up to --max-examples examples.</summary>
    public List<AuditExample> Examples { get; set; } = [];

    /// <summary>Time checks: every consecutive pair of splits.</summary>
    public List<TimeBoundary>? Boundaries { get; set; }

    /// <summary>Duplicates: how many identical rows two splits share by chance (see <see cref="ChanceEstimate"/>), when it could be computed.</summary>
    public ChanceEstimate? ExpectedByChance { get; set; }
}

/// <summary>
/// The number of identical rows splits would share by chance if every column's values were drawn independently and
/// uniformly from its distinct values: <c>E = Σ over split pairs a &lt; b of n_a · n_b / Π_c K_c</c>, with n the rows of
/// a split and K_c the distinct values of column c over all splits (label included).
/// </summary>
public sealed class ChanceEstimate
{
    /// <summary>E, the expected number of identical row pairs across splits.</summary>
    public double Expected { get; set; }

    /// <summary>K_c per column, in column order (capped at 65,536: a column with more makes E at most what is shown).</summary>
    public List<long> Cardinalities { get; set; } = [];

    /// <summary>Π_c K_c, the number of distinct rows the columns allow.</summary>
    public double PossibleRows { get; set; }
}

/// <summary>One example of a violation, with the rows that show it.</summary>
public sealed class AuditExample
{
    /// <summary>What the example shows, in words.</summary>
    public string Text { get; set; } = "";

    /// <summary>The group key, content hash or row id at issue.</summary>
    public string? Key { get; set; }

    /// <summary>Where the rows are.</summary>
    public List<AuditLocation> Rows { get; set; } = [];
}

/// <summary>Where a row is: its split and file, and for runs its lineage.</summary>
public sealed class AuditLocation
{
    /// <summary>The split.</summary>
    public string Split { get; set; } = "";

    /// <summary>The data file (a shard relative to the run folder, or a file as given).</summary>
    public string? File { get; set; }

    /// <summary>Runs: the 0-based record within the shard.</summary>
    public long? Record { get; set; }

    /// <summary>Anyone's files: the 1-based data row in the file (header not counted).</summary>
    public long? Row { get; set; }

    /// <summary>Runs: the stable row id.</summary>
    public long? RowId { get; set; }

    /// <summary>Runs: the input file the row came from.</summary>
    public string? Source { get; set; }

    /// <summary>Runs: the 1-based data row in that input.</summary>
    public long? SourceRow { get; set; }

    /// <summary>The value at issue (a time, a group key).</summary>
    public string? Value { get; set; }

    /// <summary>"train part-00000.csv record 17 (row 18 of churn.csv)" or "test data/test.csv row 5" (without <see cref="Value"/>).</summary>
    public override string ToString()
    {
        var text = Split;
        if (File is not null) text += " " + (Record is not null ? System.IO.Path.GetFileName(File) : File);
        if (Record is { } rec) text += $" record {rec}";
        if (Row is { } row) text += $" row {row}";
        if (SourceRow is { } sr) text += $" (row {sr} of {(Source is null ? "the input" : System.IO.Path.GetFileName(Source))})";
        return text;
    }
}

/// <summary>The time boundary between two consecutive splits.</summary>
public sealed class TimeBoundary
{
    /// <summary>The earlier split (e.g. train).</summary>
    public string Earlier { get; set; } = "";

    /// <summary>The later split (e.g. validation).</summary>
    public string Later { get; set; } = "";

    /// <summary>The latest time of the earlier split (ISO 8601 UTC).</summary>
    public string EarlierMax { get; set; } = "";

    /// <summary>The earliest time of the later split (ISO 8601 UTC).</summary>
    public string LaterMin { get; set; } = "";

    /// <summary>Whether max(earlier) ≥ min(later): the splits overlap in time.</summary>
    public bool Overlaps { get; set; }

    /// <summary>Overlaps: the overlapping range starts at min(later)…</summary>
    public string? OverlapFrom { get; set; }

    /// <summary>…and ends at max(earlier).</summary>
    public string? OverlapTo { get; set; }

    /// <summary>Overlaps: rows of the earlier split at or after min(later).</summary>
    public long EarlierRowsInOverlap { get; set; }

    /// <summary>Overlaps: rows of the later split at or before max(earlier).</summary>
    public long LaterRowsInOverlap { get; set; }

    /// <summary>min(later) − max(earlier) in seconds (negative when they overlap).</summary>
    public double GapSeconds { get; set; }

    /// <summary>Runs with --gap: the gap the run asked for, in seconds.</summary>
    public double? RequiredGapSeconds { get; set; }

    /// <summary>Whether this boundary breaks the contract (overlap, or a gap smaller than required).</summary>
    public bool Leaks { get; set; }
}

/// <summary>Source-generated serialisation of audit reports.</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(AuditReport))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
