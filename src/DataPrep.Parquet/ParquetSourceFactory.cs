using DataPrep.Pipeline;

namespace DataPrep.Sources;

/// <summary>Creates <see cref="ParquetSource"/>s for .parquet files (optionally .gz) and for --format parquet.</summary>
public sealed class ParquetSourceFactory : ISourceFactory
{
    private static readonly string[] Extensions = [".parquet", ".parq"];

    /// <inheritdoc />
    public bool CanRead(string path, string? format)
    {
        if (format is not null) return format.Equals("parquet", StringComparison.OrdinalIgnoreCase);
        string ext = Path.GetExtension(InputFiles.WithoutCompression(path));
        return Extensions.Contains(ext, StringComparer.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public IRecordSource Create(string path, SourceOptions options) => new ParquetSource(path, options);
}

/// <summary>Adds the Parquet format to a <see cref="SourceRegistry"/>.</summary>
public static class ParquetSourceRegistration
{
    /// <summary>Registers <see cref="ParquetSourceFactory"/>, so .parquet inputs and --format parquet are read with <see cref="ParquetSource"/>.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public static SourceRegistry AddParquet(this SourceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.Register(new ParquetSourceFactory());
    }
}

/// <summary>Adds Parquet to a <see cref="Conversion.DataPrepRegistry"/>.</summary>
public static class ParquetRegistration
{
    /// <summary>Registers Parquet inputs (<see cref="ParquetSourceRegistration.AddParquet(SourceRegistry)"/>).</summary>
    /// <returns>The same registry, for chaining.</returns>
    public static Conversion.DataPrepRegistry AddParquet(this Conversion.DataPrepRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Sources.AddParquet();
        registry.Formats.Add(new Formats.ParquetFormatDefinition());
        return registry;
    }
}

/// <summary>Parquet in the fluent API.</summary>
public static class ParquetBuilderExtensions
{
    /// <summary>Reads Parquet inputs in this pipeline: adds Parquet to the builder's registry.</summary>
    public static Fluent.DataPrepBuilder UseParquet(this Fluent.DataPrepBuilder b)
    {
        ArgumentNullException.ThrowIfNull(b);
        b.Registry.AddParquet();
        return b;
    }
}
