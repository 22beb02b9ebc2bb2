using DataPrep.Output;

namespace DataPrep.Scale;

/// <summary>How one conversion runs as the tasks of an engine's workers (<c>--workers N</c>).</summary>
/// <param name="Workers">N: the task count of the parallel steps (scan, encode, write).</param>
public sealed record ScaleOptions(int Workers)
{
    /// <summary>Most workers a run may have (a sanity bound: each parallel step's tasks list N² objects at most).</summary>
    public const int MaxWorkers = 4096;

    /// <summary>The work area: a folder (shared by the workers) or <c>s3://bucket/prefix/</c>; null for <c>OUT/_dataprep/work/</c>.</summary>
    public string? Work { get; init; }

    /// <summary>Keep the work area after the commit (<c>--keep-work</c>), e.g. to look at the tasks' reports.</summary>
    public bool KeepWork { get; init; }

    /// <summary>The work area's location for an output location.</summary>
    public string WorkLocation(string output)
    {
        if (Work is { } work) return work;
        return output.Contains("://", StringComparison.Ordinal)
            ? $"{output.TrimEnd('/')}/{RunLayout.MetaFolder}/{RunLayout.WorkFolder}/"
            : Path.Combine(output, RunLayout.MetaFolder, RunLayout.WorkFolder);
    }
}

/// <summary>One step of a scaled-out run: its name and how many tasks it has.</summary>
public sealed record ScaleStep(string Name, int Tasks)
{
    /// <summary>Reads the input share of each task, runs the stages before the split, and sorts rows into the write buckets.</summary>
    public const string Scan = "scan";

    /// <summary>One task: decides every row's split (exact counts, cut-offs, groups) and fits the encoders on train.</summary>
    public const string Plan = "plan";

    /// <summary>Encodes and formats each bucket's rows in output order.</summary>
    public const string Encode = "encode";

    /// <summary>Cuts the formatted rows into shards (the one shard rule) and writes them, with their lineage.</summary>
    public const string Write = "write";

    /// <summary>One task: publishes the shards and writes ManifestFiles, channels.json and run.json last.</summary>
    public const string Commit = "commit";

    /// <summary>The steps of a run with <paramref name="workers"/> workers, in order.</summary>
    public static IReadOnlyList<ScaleStep> Of(int workers) =>
    [
        new(Scan, workers),
        new(Plan, 1),
        new(Encode, workers),
        new(Write, workers),
        new(Commit, 1),
    ];

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Tasks}";
}
