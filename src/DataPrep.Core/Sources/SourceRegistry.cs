using DataPrep.Pipeline;

namespace DataPrep.Sources;

/// <summary>
/// Chooses the source for an input path. CSV and JSON Lines are built in; optional packages (Parquet,
/// images, S3) add their factories with <see cref="Register"/>, so the core never references them.
/// </summary>
public sealed class SourceRegistry
{
    private readonly List<ISourceFactory> _factories = [];

    /// <summary>A registry with the built-in formats.</summary>
    public SourceRegistry()
    {
        _factories.Add(new DelegateFactory(["csv", "tsv", "txt"], (p, o) => new CsvSource(p, p.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".tsv.gz", StringComparison.OrdinalIgnoreCase) ? o with { Delimiter = o.Delimiter == ',' ? '\t' : o.Delimiter } : o), TextOptions.Delimited | TextOptions.Encoding | TextOptions.NullValues));
        _factories.Add(new DelegateFactory(["jsonl", "ndjson", "json"], (p, o) => new JsonLinesSource(p, o), TextOptions.Encoding | TextOptions.NullValues));
    }

    /// <summary>Adds a factory; later registrations win.</summary>
    public SourceRegistry Register(ISourceFactory factory)
    {
        _factories.Insert(0, factory);
        return this;
    }

    /// <summary>Creates the source for a path.</summary>
    /// <exception cref="PipelineValidationException">No registered format reads the path.</exception>
    public IRecordSource Create(string path, SourceOptions options)
    {
        foreach (var f in _factories)
        {
            if (f.CanRead(path, options.Format)) return f.Create(path, options);
        }
        throw new PipelineValidationException(
            $"Cannot tell the format of '{path}' from its name; expected a .csv, .tsv, .jsonl, .parquet or .libsvm file (optionally .gz), or pass --input-format csv|tsv|jsonl|parquet|libsvm.");
    }

    /// <summary>
    /// The label column every one of <paramref name="paths"/> holds by its format (<see cref="ISourceFactory.Label"/>:
    /// LibSVM), or null when some input's format leaves the label to the user, or its format cannot be told by name.
    /// </summary>
    public string? LabelOf(IEnumerable<string> paths, string? format)
    {
        string? label = null;
        foreach (var path in paths)
        {
            var factory = _factories.FirstOrDefault(f => f.CanRead(path, format));
            if (factory?.Label is not { } own || (label is not null && label != own)) return null;
            label = own;
        }
        return label;
    }

    /// <summary>
    /// Whether some of <paramref name="paths"/> may read <paramref name="options"/> (<see cref="ISourceFactory.Reads"/>): one
    /// of a format that does, or one whose format cannot be told by its name (a folder, a prefix).
    /// </summary>
    public bool MayRead(IEnumerable<string> paths, string? format, TextOptions options)
        => paths.Any(path => _factories.FirstOrDefault(f => f.CanRead(path, format)) is not { } factory || (factory.Reads & options) == options);

    /// <summary>A factory for a list of extensions (and the same names as explicit formats).</summary>
    public sealed class DelegateFactory(string[] extensions, Func<string, SourceOptions, IRecordSource> create, TextOptions reads = TextOptions.None) : ISourceFactory
    {
        /// <inheritdoc />
        public TextOptions Reads => reads;

        /// <inheritdoc />
        public bool CanRead(string path, string? format)
        {
            if (format is not null) return extensions.Contains(format, StringComparer.OrdinalIgnoreCase);
            string ext = Path.GetExtension(InputFiles.WithoutCompression(path)).TrimStart('.');
            return extensions.Contains(ext, StringComparer.OrdinalIgnoreCase);
        }

        /// <inheritdoc />
        public IRecordSource Create(string path, SourceOptions options) => create(path, options);
    }
}
