using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>
/// Creates the output store for a run's <c>--out</c>: a local folder unless a plug-in (e.g. DataPrep.S3)
/// has registered the location's scheme, so the core never references a cloud SDK.
/// </summary>
public static class OutputStores
{
    private static readonly Dictionary<string, Func<ConvertOptions, IOutputStore>> s_schemes = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers a factory for locations starting with <c>scheme://</c>.</summary>
    public static void Register(string scheme, Func<ConvertOptions, IOutputStore> factory)
    {
        lock (s_schemes) s_schemes[scheme] = factory;
    }

    /// <summary>The store for <see cref="ConvertOptions.Output"/>.</summary>
    /// <exception cref="PipelineValidationException">A URI scheme nothing has registered.</exception>
    public static IOutputStore Create(ConvertOptions options)
    {
        var location = options.Output;
        int sep = location.IndexOf("://", StringComparison.Ordinal);
        if (sep > 1)
        {
            var scheme = location[..sep];
            Func<ConvertOptions, IOutputStore>? factory;
            lock (s_schemes) s_schemes.TryGetValue(scheme, out factory);
            if (factory is null) throw new PipelineValidationException($"--out {location}: no output store for '{scheme}://' is loaded; expected a local folder{(scheme.Equals("s3", StringComparison.OrdinalIgnoreCase) ? " or s3://bucket/prefix/ with DataPrep.S3 referenced (call S3Support.Register())" : "")}.");
            return factory(options);
        }
        return new LocalOutputStore(location);
    }
}
