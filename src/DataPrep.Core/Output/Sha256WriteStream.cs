using System.Security.Cryptography;
using DataPrep.Data;

namespace DataPrep.Output;

/// <summary>
/// Counts the bytes and computes the SHA-256 of what is written through it (shards, .rec/.idx/.lst files);
/// the hash stays readable after the stream is closed.
/// </summary>
internal sealed class Sha256WriteStream(Stream inner) : WriteOnlyForwardStream
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private string? _hex;
    private bool _disposed;

    /// <summary>Bytes written so far.</summary>
    public override long Length => Written;

    /// <summary>Bytes written so far.</summary>
    public long Written { get; private set; }

    public override void Flush() => inner.Flush();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _sha.AppendData(buffer);
        Written += buffer.Length;
        inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _sha.AppendData(buffer.Span);
        Written += buffer.Length;
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lower-case hex SHA-256 of everything written (ends the hash: write nothing after it).</summary>
    public string HashHex() => _hex ??= Convert.ToHexStringLower(_sha.GetHashAndReset());

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _hex ??= Convert.ToHexStringLower(_sha.GetHashAndReset());
            _disposed = true;
            inner.Dispose();
            _sha.Dispose();
        }
        base.Dispose(disposing);
    }
}
