using DataPrep.Audit;
using DataPrep.Inspect;
using DataPrep.Pipeline;
using DataPrep.Conversion;

namespace DataPrep.Fluent;

/// <summary>
/// Follow-up steps on a finished run, so a notebook can go on from the report it just got:
/// audit the output for leaks, list and inspect the shards.
/// </summary>
public static class RunReportExtensions
{
    /// <summary>The full local paths of a split's data files.</summary>
    /// <exception cref="PipelineValidationException">The run has no such split, or its output is not a local folder.</exception>
    public static IReadOnlyList<string> ShardPaths(this RunReport report, string split = "train")
    {
        ArgumentNullException.ThrowIfNull(report);
        var root = LocalRoot(report);
        if (!report.Splits.TryGetValue(split, out var s))
        {
            throw new PipelineValidationException($"The run has no split '{split}'; it has {string.Join(", ", report.Splits.Keys)}.");
        }
        return s.Shards.Select(sh => Path.Combine(root, sh.Path.Replace('/', Path.DirectorySeparatorChar))).ToList();
    }

    /// <summary>Re-checks the run's output for leaks (<c>dataprep audit OUT</c>): partition, shard integrity, group and time overlap, identical rows.</summary>
    /// <param name="report">A finished run with a local output folder.</param>
    /// <param name="options">Extra columns to check (<see cref="AuditOptions.GroupColumn"/>, <see cref="AuditOptions.TimeColumn"/>).</param>
    /// <param name="registry">
    /// The output formats and sources the audit may need: the run's format (to read its shards) and, for a column looked up
    /// in the run's inputs, their sources. Pass the builder's registry (<c>b.Registry</c>) when the run wrote or read
    /// Parquet; the built-in formats and sources by default.
    /// </param>
    /// <param name="cancellationToken">Cancels the audit.</param>
    /// <exception cref="PipelineValidationException">The run's output format is not in the registry (Parquet without DataPrep.Parquet).</exception>
    public static Task<AuditReport> AuditAsync(this RunReport report, AuditOptions? options = null, DataPrepRegistry? registry = null, CancellationToken cancellationToken = default)
        => Auditor.AuditAsync([LocalRoot(report)], options, registry, cancellationToken);

    /// <summary>Reads a split's data files back and summarizes them (<c>dataprep inspect --summary</c>), one summary per shard.</summary>
    /// <param name="report">A finished run with a local output folder.</param>
    /// <param name="split">The split (or fold) whose files to read.</param>
    /// <param name="options">How to read.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <param name="registry">The output formats whose readers read the files (the builder's, <c>b.Registry</c>, for Parquet); the built-ins by default.</param>
    public static async Task<IReadOnlyList<ShardSummary>> InspectAsync(this RunReport report, string split = "train", InspectOptions? options = null, CancellationToken cancellationToken = default, DataPrepRegistry? registry = null)
    {
        var formats = (registry ?? new DataPrepRegistry()).Formats;
        var result = new List<ShardSummary>();
        foreach (var path in report.ShardPaths(split)) result.Add(await ShardInspector.SummarizeAsync(path, formats.ReaderOf, options, cancellationToken).ConfigureAwait(false));
        return result;
    }

    /// <summary>Reads the first records of a split back (<c>dataprep inspect --limit N</c>).</summary>
    /// <param name="report">A finished run with a local output folder.</param>
    /// <param name="split">The split (or fold) whose files to read.</param>
    /// <param name="limit">How many records.</param>
    /// <param name="options">How to read.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <param name="registry">The output formats whose readers read the files (the builder's, <c>b.Registry</c>, for Parquet); the built-ins by default.</param>
    public static async Task<IReadOnlyList<Inspect.ShardRecord>> ReadRecordsAsync(this RunReport report, string split = "train", int limit = 5, InspectOptions? options = null, CancellationToken cancellationToken = default, DataPrepRegistry? registry = null)
    {
        var formats = (registry ?? new DataPrepRegistry()).Formats;
        options ??= new InspectOptions();
        var result = new List<Inspect.ShardRecord>();
        foreach (var path in report.ShardPaths(split))
        {
            var format = options.Format ?? ShardInspector.DetectFormat(path, options.Files);
            await foreach (var r in formats.ReaderOf(format).ReadAsync(path, options with { Format = format }, cancellationToken).ConfigureAwait(false))
            {
                if (result.Count >= limit) return result;
                result.Add(r);
            }
        }
        return result;
    }

    private static string LocalRoot(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (string.IsNullOrEmpty(report.Output)) throw new PipelineValidationException("The run has no output location.");
        if (report.Output.Contains("://", StringComparison.Ordinal))
        {
            throw new PipelineValidationException($"The run's output {report.Output} is not a local folder; audit and inspect read local files.");
        }
        return report.Output;
    }
}
