using System.IO.Hashing;

namespace DataPrep.Output;

/// <summary>
/// Hashes the records of one of a format's data files as the run's lineage records them (<c>content_hash</c>, XxHash3-64),
/// so <c>dataprep audit</c> can tell which record of a shard no longer matches its lineage. An output format offers it as
/// <c>OutputFormatDefinition.RecordHasher</c>; the writer and its hasher must agree on what a record's bytes are.
/// </summary>
public interface IRecordHasher
{
    /// <summary>Hashes a data file's records in file order.</summary>
    /// <param name="content">The file's content, decompressed when the file is .gz, read forward once (the caller hashes the stored bytes as they pass and reads what is left).</param>
    /// <param name="path">The local file: for messages, and for formats that need random access (Parquet reads its footer first) to open it again.</param>
    /// <param name="onRecord">Called with each record's content hash, in file order.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <exception cref="DataFormatException">The file is corrupt or not of the format; the records passed to <paramref name="onRecord"/> before stay valid.</exception>
    ValueTask HashAsync(Stream content, string path, Action<ulong> onRecord, CancellationToken cancellationToken);
}

/// <summary>
/// The text formats' records: one per line, hashed without its '\n' (label-first CSV, LibSVM, JSON Lines). A last line
/// without '\n' is still a record (the file then breaks the format; its SHA-256 tells).
/// </summary>
public sealed class LineRecordHasher : IRecordHasher
{
    /// <summary>The hasher (it holds no state).</summary>
    public static LineRecordHasher Instance { get; } = new();

    private LineRecordHasher()
    {
    }

    /// <inheritdoc />
    /// <remarks>Reads synchronously in 64 KiB blocks (longer lines grow the buffer); no allocation per line.</remarks>
    public ValueTask HashAsync(Stream content, string path, Action<ulong> onRecord, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(onRecord);
        var buffer = new byte[1 << 16];
        int start = 0, end = 0;
        while (true)
        {
            if (start > 0 && start == end) start = end = 0;
            if (end == buffer.Length)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                else
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
            }
            int n = content.Read(buffer, end, buffer.Length - end);
            if (n == 0) break;
            int scanFrom = end;
            end += n;
            while (true)
            {
                int nl = Array.IndexOf(buffer, (byte)'\n', scanFrom, end - scanFrom);
                if (nl < 0) break;
                onRecord(XxHash3.HashToUInt64(buffer.AsSpan(start, nl - start)));
                start = scanFrom = nl + 1;
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        if (end > start) onRecord(XxHash3.HashToUInt64(buffer.AsSpan(start, end - start)));
        return ValueTask.CompletedTask;
    }
}
