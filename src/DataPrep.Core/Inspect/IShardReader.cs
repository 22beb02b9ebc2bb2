namespace DataPrep.Inspect;

/// <summary>
/// Reads one of an output format's data files back as training records (label, dense or sparse features), for
/// <c>dataprep inspect</c> and the format contract tests. An output format offers it as
/// <see cref="Formats.OutputFormatDefinition.Reader"/>.
/// </summary>
public interface IShardReader
{
    /// <summary>Streams the file's records in file order.</summary>
    /// <exception cref="DataFormatException">The file is corrupt or not of this format.</exception>
    IAsyncEnumerable<ShardRecord> ReadAsync(string path, InspectOptions options, CancellationToken cancellationToken = default);
}

/// <summary>A reader of one of the formats <see cref="ShardInspector"/> reads (label-first CSV, LibSVM, RecordIO-protobuf).</summary>
/// <param name="format">The format.</param>
public sealed class ShardFormatReader(ShardFormat format) : IShardReader
{
    /// <summary>The format read.</summary>
    public ShardFormat Format => format;

    /// <inheritdoc />
    public IAsyncEnumerable<ShardRecord> ReadAsync(string path, InspectOptions options, CancellationToken cancellationToken = default)
        => ShardInspector.ReadAsync(path, options with { Format = format }, cancellationToken);
}
