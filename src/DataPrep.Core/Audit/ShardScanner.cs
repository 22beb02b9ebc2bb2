using DataPrep.Output;
using System.IO.Compression;
using System.Security.Cryptography;
using DataPrep.Formats;

namespace DataPrep.Audit;

/// <summary>
/// Reads a shard once: the SHA-256 and size of its bytes as stored (compressed when .gz), and the XxHash3-64 of every
/// record's content as the lineage records it, from the run's format (<see cref="OutputFormatDefinition.RecordHasher"/>:
/// text formats hash the line without '\n', RecordIO the payload, Parquet each row as label-first CSV writes it).
/// </summary>
internal static class ShardScanner
{
    /// <summary>What a shard holds.</summary>
    /// <param name="Bytes">The file size.</param>
    /// <param name="Sha256">Lowercase hex SHA-256 of the file bytes.</param>
    /// <param name="Records">Records read.</param>
    /// <param name="Error">Why the records could not all be read (corrupt framing, gzip or file), or null.</param>
    public sealed record Result(long Bytes, string Sha256, long Records, string? Error);

    /// <summary>Scans a shard, calling <paramref name="onRecord"/>(record, hash) for each record in order.</summary>
    public static async Task<Result> ScanAsync(string path, IRecordHasher hasher, Action<long, ulong> onRecord, CancellationToken ct)
    {
        using var raw = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var hashing = new HashingReadStream(raw);
        long records = 0;
        string? error = null;
        try
        {
            bool gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
            using Stream content = gzip ? new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true) : new NonClosing(hashing);
            await hasher.HashAsync(content, path, hash => onRecord(records++, hash), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DataFormatException or InvalidDataException or EndOfStreamException)
        {
            error = e is DataFormatException d ? d.Problem : e.Message;
        }
        // The digest covers every byte of the file, also what a decoder left unread.
        hashing.Drain();
        return new Result(hashing.Length, hashing.HashHex(), records, error);
    }

    /// <summary>Counts and SHA-256-hashes the bytes read through it.</summary>
    private sealed class HashingReadStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            _sha.AppendData(buffer[..n]);
            _length += n;
            return n;
        }

        public void Drain()
        {
            var b = new byte[1 << 16];
            while (Read(b, 0, b.Length) > 0) { }
        }

        public string HashHex() => Convert.ToHexStringLower(_sha.GetHashAndReset());

        protected override void Dispose(bool disposing)
        {
            if (disposing) _sha.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class NonClosing(Stream inner) : DataPrep.Data.ReadOnlyForwardStream
    {
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
    }
}
