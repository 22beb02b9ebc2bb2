using DataPrep.Output;
using DataPrep.Sources;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// Parquet's records for the audit: each row rebuilt from its row group and hashed as label-first CSV writes it
/// (<see cref="ParquetContentHashes"/>, the sink's own hashing), so it matches the lineage's content_hash.
/// </summary>
internal sealed class ParquetRecordHasher : IRecordHasher
{
    /// <summary>The hasher (it holds no state).</summary>
    public static ParquetRecordHasher Instance { get; } = new();

    private ParquetRecordHasher()
    {
    }

    /// <inheritdoc />
    /// <remarks>
    /// Parquet is read footer first, so the file is opened again by <paramref name="path"/>; <paramref name="content"/>
    /// is left to the caller, which reads it whole for the file's SHA-256.
    /// </remarks>
    public async ValueTask HashAsync(Stream content, string path, Action<ulong> onRecord, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onRecord);
        var options = new SourceOptions();
        var source = new ParquetSource(path, options);
        try
        {
            await source.OpenAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var batch in source.ReadAsync(0, cancellationToken).ConfigureAwait(false))
            {
                foreach (ulong hash in ParquetContentHashes.Of(batch, options.EffectiveThreads)) onRecord(hash);
            }
        }
        catch (Exception e) when (Throw.IsDecodeFailure(e))
        {
            // E.g. a text column, which no label-first CSV row holds: the file is not one of our shards.
            throw Throw.Format($"cannot be read back as label-first rows ({e.Message.TrimEnd('.')}); expected a Parquet shard of INT64 and DOUBLE columns as --format parquet writes them", path, inner: e);
        }
    }
}
