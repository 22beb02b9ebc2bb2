using System.IO.Compression;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// A format's part in a scaled-out run (<c>--workers</c>): how the encode step turns rows into records, and how the
/// write step cuts and writes a shard from them. The write step knows records only as byte strings with their places
/// in the split, so whatever a shard file needs besides its records (a CSV header, Parquet's columns) travels in the
/// header the encode step takes from <see cref="IRecordFormat.FileHeader"/>.
/// </summary>
/// <remarks>
/// The base class serves the record formats (CSV, LibSVM, RecordIO-protobuf, JSON Lines): a shard is the header, then
/// the records' bytes, gzipped with <c>--compress gzip</c>, exactly as <see cref="ShardedSink"/> writes it. A format
/// whose files are not concatenated records (Parquet: row groups and a footer) overrides <see cref="OpenShardAsync"/>,
/// and <see cref="RuleFor"/> if its shard limits apply to something else than the records' bytes.
/// </remarks>
/// <param name="records">The run's record encoder (the encode step formats rows with it, on every core).</param>
public class WorkerFormat(IRecordFormat records)
{
    /// <summary>The run's record encoder.</summary>
    public IRecordFormat Records { get; } = records;

    /// <summary>The shard rule of one channel, from its totals (see <see cref="ShardRule.For"/>).</summary>
    /// <param name="options">The run's options.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="records">The channel's records.</param>
    /// <param name="bytes">The channel's record bytes.</param>
    /// <param name="maxRecord">The bytes of its largest record.</param>
    /// <param name="header">The header the encode step recorded for the channel.</param>
    public virtual ShardRule RuleFor(ConvertOptions options, string channel, long records, long bytes, long maxRecord, byte[] header)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ShardRule.For(options.Shards, channel, records, bytes, maxRecord);
    }

    /// <summary>
    /// Opens one shard file over <paramref name="target"/>: the write step copies the shard's records into the stream
    /// returned, in order, then disposes it, which finishes the file but leaves <paramref name="target"/> open.
    /// </summary>
    /// <param name="target">Where the file's bytes go (the write step hashes them).</param>
    /// <param name="header">The header the encode step recorded for the channel.</param>
    /// <param name="gzip">Whether <c>--compress gzip</c> is on.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public virtual async ValueTask<Stream> OpenShardAsync(Stream target, byte[] header, bool gzip, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(header);
        Stream file = gzip ? new ShardedSink.BlockStream(new GZipStream(target, CompressionLevel.Optimal, leaveOpen: true)) : new ShardedSink.NonClosingStream(target);
        if (header.Length > 0) await file.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        return file;
    }
}
