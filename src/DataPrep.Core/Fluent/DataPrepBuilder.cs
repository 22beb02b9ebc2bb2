using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Conversion;

namespace DataPrep.Fluent;

/// <summary>
/// The notebook-friendly way to describe a run: start with <see cref="DataPrepPipeline.Read(string[])"/>,
/// chain stages (each family adds itself through its own extension class), then <see cref="Build"/> or
/// <see cref="RunAsync"/>. Every option is validated at once, and the builder maps onto the same
/// <see cref="ConvertOptions"/> as the CLI, so notebook and shell runs agree byte for byte.
/// </summary>
public sealed class DataPrepBuilder
{
    private readonly List<string> _stages = [];
    private bool _built;

    internal DataPrepBuilder(IReadOnlyList<string> inputs) => Options = new ConvertOptions { Inputs = inputs };

    /// <summary>The options collected so far.</summary>
    public ConvertOptions Options { get; private set; }

    /// <summary>The sources, formats and stores the run uses; plug-ins add themselves to it (<c>b.Registry.AddParquet()</c>) or pass another with <see cref="WithRegistry"/>.</summary>
    public DataPrepRegistry Registry { get; private set; } = new();

    /// <summary>Changes the options; used by the stage extension classes.</summary>
    public DataPrepBuilder With(Func<ConvertOptions, ConvertOptions> change, string? stage = null)
    {
        if (_built) throw new InvalidOperationException("This builder has been built already; start a new one with DataPrepPipeline.Read(…).");
        Options = change(Options);
        if (stage is not null) _stages.Add(stage);
        return this;
    }

    /// <summary>Uses another registry (e.g. <c>new DataPrepRegistry().AddParquet().AddS3()</c>).</summary>
    public DataPrepBuilder WithRegistry(DataPrepRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Registry = registry;
        return this;
    }

    /// <summary>The stages in order, for display and tests.</summary>
    public IReadOnlyList<string> Describe()
    {
        var o = Options;
        var lines = new List<string> { $"read {string.Join(", ", o.Inputs)}" };
        lines.AddRange(_stages);
        lines.Add($"missing values: {o.Missing.ToString().ToLowerInvariant()}{(o.FillValue is null ? "" : $" ({o.FillValue})")}");
        lines.Add($"split {(o.SplitBy == SplitMethod.Random ? "" : o.SplitBy.ToString().ToLowerInvariant() + " ")}{o.Train:0.###}/{o.Validation:0.###}/{o.Test:0.###}{(o.Stratify is null ? "" : $" stratified by {o.Stratify}")}, seed {o.Seed}{(o.EffectiveShuffle ? ", shuffled" : ", input order")}");
        lines.Add(o.NoLabel ? "encode features (fitted on train), no label" : $"encode label '{o.Label}' first, features (fitted on train)");
        lines.Add($"write {Registry.Formats.Find(o.Format)?.DisplayName ?? o.Format}{(o.Gzip ? " (gzip)" : "")} to {o.Output}");
        return lines;
    }

    /// <summary>Validates everything that can be checked without data and freezes the builder.</summary>
    /// <exception cref="PipelineValidationException">All problems, in one exception.</exception>
    public DataPrepJob Build()
    {
        _ = Registry.Resolve(Options);
        _built = true;
        return new DataPrepJob(Options, Registry, Describe());
    }

    /// <summary>Builds and runs.</summary>
    public Task<RunReport> RunAsync(IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
        => Build().RunAsync(progress, cancellationToken);
}

/// <summary>A validated, runnable job.</summary>
public sealed class DataPrepJob
{
    internal DataPrepJob(ConvertOptions options, DataPrepRegistry registry, IReadOnlyList<string> stages)
    {
        Options = options;
        Registry = registry;
        Stages = stages;
    }

    /// <summary>The options.</summary>
    public ConvertOptions Options { get; }

    /// <summary>The sources, formats and stores.</summary>
    public DataPrepRegistry Registry { get; }

    /// <summary>What will run, in order.</summary>
    public IReadOnlyList<string> Stages { get; }

    /// <summary>Runs the job; cancellable, reporting progress.</summary>
    public Task<RunReport> RunAsync(IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
        => ConvertRunner.RunAsync(Options, Registry, progress, cancellationToken);
}

/// <summary>Entry point of the fluent API.</summary>
public static class DataPrepPipeline
{
    /// <summary>Starts a pipeline reading files, folders or patterns (CSV, JSON Lines, Parquet with it registered).</summary>
    public static DataPrepBuilder Read(params string[] inputs) => new(inputs);

    /// <summary>Starts a pipeline reading CSV with changed parsing options, e.g. <c>o =&gt; o with { HasHeader = false }</c>.</summary>
    public static DataPrepBuilder ReadCsv(string path, Func<SourceOptions, SourceOptions>? configure = null)
    {
        var b = new DataPrepBuilder([path]);
        return b.With(o => o with { Source = (configure?.Invoke(o.Source) ?? o.Source) with { Format = "csv" } });
    }
}
