using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Output;

/// <summary>
/// Where runs read from and write to, by URI scheme: local paths are built in; plug-ins (DataPrep.S3) add
/// <c>s3://</c> through extensions such as <c>registry.AddS3()</c>, so the core never references a cloud SDK.
/// An instance per composition (<c>DataPrepRegistry</c>), never a static.
/// </summary>
public sealed class StoreRegistry
{
    private readonly Dictionary<string, Func<ConvertOptions, IOutputStore>> _outputs = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Func<S3Options, IInputFileSystem>> _inputs = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Func<string, S3Options, IWorkArea>> _workAreas = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds (or replaces) the output store for locations starting with <c>scheme://</c>.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public StoreRegistry AddOutput(string scheme, Func<ConvertOptions, IOutputStore> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ArgumentNullException.ThrowIfNull(factory);
        _outputs[scheme] = factory;
        return this;
    }

    /// <summary>Adds (or replaces) the remote file system for inputs starting with <c>scheme://</c>; created per run with its settings.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public StoreRegistry AddInput(string scheme, Func<S3Options, IInputFileSystem> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ArgumentNullException.ThrowIfNull(factory);
        _inputs[scheme] = factory;
        return this;
    }

    /// <summary>The URI schemes outputs can use besides local folders.</summary>
    public IReadOnlyCollection<string> OutputSchemes => _outputs.Keys;

    /// <summary>Registers how to open a scaled-out run's work area under a URI scheme (e.g. "s3").</summary>
    public StoreRegistry AddWorkArea(string scheme, Func<string, S3Options, IWorkArea> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ArgumentNullException.ThrowIfNull(factory);
        _workAreas[scheme] = factory;
        return this;
    }

    /// <summary>
    /// Opens a scaled-out run's work area: a local or shared folder, or a registered scheme's URI. It connects with the
    /// run's S3 settings, the parts it holds in memory (a composed object's byte parts) within the budget as an output
    /// store's are (<see cref="ConvertOptions.EffectiveS3"/>).
    /// </summary>
    /// <exception cref="PipelineValidationException">No work area is registered for the location's scheme.</exception>
    public IWorkArea CreateWorkArea(string location, ConvertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int sep = location.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 1) return new LocalWorkArea(location);
        var scheme = location[..sep];
        if (!_workAreas.TryGetValue(scheme, out var factory))
        {
            throw new PipelineValidationException($"--work {location}: no work area for '{scheme}://' is loaded; expected a shared folder{(scheme.Equals("s3", StringComparison.OrdinalIgnoreCase) ? " or s3://bucket/prefix/ with DataPrep.S3 added to the registry (registry.AddS3())" : "")}.");
        }
        return factory(location, options.EffectiveS3);
    }

    /// <summary>The inputs of a run with these connection settings.</summary>
    public InputFiles Inputs(S3Options settings) => new(_inputs, settings);

    /// <summary>The store for <see cref="ConvertOptions.Output"/>: a local folder, or the registered scheme's store.</summary>
    /// <exception cref="PipelineValidationException">A URI scheme nothing has registered.</exception>
    public IOutputStore CreateOutput(ConvertOptions options)
    {
        var location = options.Output;
        int sep = location.IndexOf("://", StringComparison.Ordinal);
        if (sep > 1)
        {
            var scheme = location[..sep];
            if (!_outputs.TryGetValue(scheme, out var factory))
            {
                throw new PipelineValidationException($"--out {location}: no output store for '{scheme}://' is loaded; expected a local folder{(scheme.Equals("s3", StringComparison.OrdinalIgnoreCase) ? " or s3://bucket/prefix/ with DataPrep.S3 added to the registry (registry.AddS3())" : "")}.");
            }
            return factory(options);
        }
        return new LocalOutputStore(location);
    }
}
