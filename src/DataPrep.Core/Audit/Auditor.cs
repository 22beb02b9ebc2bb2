using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Conversion;

namespace DataPrep.Audit;

/// <summary>
/// <c>dataprep audit</c> as a library call: re-checks the leakage contract (DESIGN §3) on files that already
/// exist. A DataPrep output folder is checked through its run record and lineage sidecars (partition, shard
/// integrity, group and time overlap, identical encoded rows in two splits), its shards read record by record as its
/// output format's definition says (<see cref="Formats.OutputFormatDefinition.RecordHasher"/>); anyone's split files
/// are read through the registry's <see cref="SourceRegistry"/> and checked for group overlap, time overlap and
/// identical rows.
/// </summary>
/// <example>
/// <code>
/// var report = await Auditor.AuditAsync(["out/churn"], new AuditOptions(), new DataPrepRegistry().AddParquet());
/// if (!report.Clean) Console.WriteLine(report.ToJson());
/// </code>
/// </example>
public static class Auditor
{
    /// <summary>Audits a DataPrep output folder, or two or more split files / a folder of them.</summary>
    /// <param name="paths">One output folder (with <c>_dataprep/run.json</c>); or files, patterns and folders of anyone's splits.</param>
    /// <param name="options">Columns to check, examples, parsing.</param>
    /// <param name="registry">
    /// The output formats a run may have been written in (its shards are read as its format's definition says) and the
    /// sources for anyone's files and a run's inputs; the built-in ones by default. Pass one with the plug-ins the files
    /// need, e.g. <c>new DataPrepRegistry().AddParquet()</c> for Parquet inputs or a <c>--format parquet</c> run.
    /// </param>
    /// <param name="cancellationToken">Cancels the audit.</param>
    /// <returns>The report; <see cref="AuditReport.Clean"/> tells whether every check passed (or was skipped).</returns>
    /// <exception cref="PipelineValidationException">Paths or options cannot work (missing path, no recognisable splits, unknown column), or the run's output format is not in the registry.</exception>
    /// <exception cref="DataFormatException">A file cannot be read as expected (run.json, a lineage sidecar, a data file).</exception>
    public static Task<AuditReport> AuditAsync(IReadOnlyList<string> paths, AuditOptions? options = null, DataPrepRegistry? registry = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        options ??= new AuditOptions();
        registry ??= new DataPrepRegistry();
        var problems = new List<string>();
        if (paths.Count == 0) problems.Add("No path given: name a DataPrep output folder, or two or more split files (train.csv test.csv) or a folder of them.");
        if (options.MaxExamples < 0) problems.Add($"--max-examples {options.MaxExamples}: expected 0 or more.");
        if (options.GroupColumn is { Length: 0 }) problems.Add("--group needs a column name.");
        if (options.TimeColumn is { Length: 0 }) problems.Add("--time needs a column name.");
        if (problems.Count > 0) throw new PipelineValidationException(problems);

        var root = AuditTargets.RunRoot(paths);
        if (root is not null)
        {
            if (options.IgnoreColumns.Count > 0)
            {
                throw new PipelineValidationException("--ignore applies to anyone's files; a DataPrep run is compared by the content hashes of its encoded rows.");
            }
            return RunAudit.AuditAsync(root, paths, options, registry, cancellationToken);
        }
        return FileAudit.AuditAsync(paths, options, registry.Sources, cancellationToken);
    }
}
