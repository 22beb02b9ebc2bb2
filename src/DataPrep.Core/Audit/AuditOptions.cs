using DataPrep.Sources;
using DataPrep.Pipeline;

namespace DataPrep.Audit;

/// <summary>Options of <c>dataprep audit</c>; the CLI maps its flags one-to-one onto these.</summary>
public sealed record AuditOptions
{
    /// <summary>
    /// The group key column. Anyone's files: a column of every file. Runs: the lineage <c>group</c> column is
    /// used when the run split by this column (or when no column is named); another column is looked up in
    /// the run's inputs, which must still exist unchanged.
    /// </summary>
    public string? GroupColumn { get; init; }

    /// <summary>The time column (timestamps, ISO 8601 text or epoch seconds/milliseconds); resolved like <see cref="GroupColumn"/>.</summary>
    public string? TimeColumn { get; init; }

    /// <summary>Columns left out of the duplicate-row check of anyone's files (e.g. a unique row id).</summary>
    public IReadOnlyList<string> IgnoreColumns { get; init; } = [];

    /// <summary>Examples per check (default 5); 0 lists none.</summary>
    public int MaxExamples { get; init; } = 5;

    /// <summary>Runs: check every shard's size and SHA-256 against run.json and its records against the lineage (default on).</summary>
    public bool VerifyShards { get; init; } = true;

    /// <summary>How anyone's files are parsed (header, delimiter, format).</summary>
    public SourceOptions Source { get; init; } = new();
}
