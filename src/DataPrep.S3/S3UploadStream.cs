using System.Buffers;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Data;

namespace DataPrep.S3;

/// <summary>
/// A write-only stream that uploads one object as the encoder writes it: one part buffered, full parts
/// uploaded in the background (bounded by the store's concurrency), a single PUT when the object fits in
/// one part. Closing completes the upload and verifies it; any failure aborts the multipart upload.
/// </summary>
internal sealed class S3UploadStream : WriteOnlyForwardStream
{
    private readonly S3OutputStore _store;
    private readonly string _path;
    private readonly string _key;
    private readonly int _partSize;
    private readonly CancellationToken _cancellationToken;
    private readonly List<Task<(PartETag ETag, byte[] Digest)>> _parts = [];
    // Only S3-compatible stores (an endpoint URL) may give a multipart object the MD5 of its whole content as ETag.
    private readonly IncrementalHash? _whole;
    private byte[] _buffer;
    private int _filled;
    private long _length;
    private string? _uploadId;
    private bool _closed;

    public S3UploadStream(S3OutputStore store, string relativePath, CancellationToken cancellationToken)
    {
        _store = store;
        _path = relativePath;
        _key = store.KeyOf(relativePath);
        _partSize = (int)Math.Min(store.Options.PartSize, Array.MaxLength);
        _cancellationToken = cancellationToken;
        _buffer = ArrayPool<byte>.Shared.Rent(_partSize);
        if (store.Options.EndpointUrl is not null) _whole = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    }

    public override bool CanWrite => !_closed;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            // A full part is sent only when more data follows, so the last part is never empty.
            if (_filled == _partSize) SendPartAsync().GetAwaiter().GetResult();
            int n = Math.Min(data.Length, _partSize - _filled);
            data[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            _length += n;
            data = data[n..];
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (data.Length > 0)
        {
            if (_filled == _partSize) await SendPartAsync().ConfigureAwait(false);
            int n = Math.Min(data.Length, _partSize - _filled);
            data.Span[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            _length += n;
            data = data[n..];
        }
    }

    private async Task SendPartAsync()
    {
        try
        {
            if (_uploadId is null)
            {
                var init = new InitiateMultipartUploadRequest { BucketName = _store.Bucket, Key = _key };
                ApplyEncryption(init);
                var response = await _store.RetryAsync(() => _store.Client.InitiateMultipartUploadAsync(init, _cancellationToken), _cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _uploadId, response.UploadId);
                // An abort that ran while the upload was being created found no id to abort: abort it here.
                if (Volatile.Read(ref _closed))
                {
                    await AbortAsync().ConfigureAwait(false);
                    throw new OperationCanceledException($"The upload of {_path} was aborted.");
                }
            }
            // Back-pressure: wait for a free upload slot before taking another part's memory.
            await _store.Slots.WaitAsync(_cancellationToken).ConfigureAwait(false);
            var data = _buffer;
            int length = _filled;
            int number = _parts.Count + 1;
            if (_whole is not null) _whole.AppendData(data.AsSpan(0, length));
            _buffer = ArrayPool<byte>.Shared.Rent(_partSize);
            _filled = 0;
            _parts.Add(Task.Run(() => UploadPartAsync(data, length, number, last: false)));
        }
        catch (Exception e)
        {
            await AbortAsync().ConfigureAwait(false);
            throw _store.Fail(e, $"uploading {_path}");
        }
        // Surface a failed part early rather than at close.
        if (_parts.FirstOrDefault(p => p.IsFaulted) is { } failed)
        {
            await AbortAsync().ConfigureAwait(false);
            throw _store.Fail(failed.Exception!.InnerException!, $"uploading {_path}");
        }
    }

    private async Task<(PartETag ETag, byte[] Digest)> UploadPartAsync(byte[] data, int length, int number, bool last)
    {
        try
        {
            // Hashed on the upload task, off the encoder's path.
            var digest = MD5.HashData(data.AsSpan(0, length));
            var response = await _store.RetryAsync(async () =>
            {
                using var body = new MemoryStream(data, 0, length, writable: false);
                var request = new UploadPartRequest
                {
                    BucketName = _store.Bucket, Key = _key, UploadId = _uploadId, PartNumber = number,
                    InputStream = body, PartSize = length, IsLastPart = last,
                    UseChunkEncoding = !_store.Options.DisableChunkEncoding,
                };
                var r = await _store.Client.UploadPartAsync(request, _cancellationToken).ConfigureAwait(false);
                Verify(r.ETag, Convert.ToHexStringLower(digest), $"part {number}");
                return r;
            }, _cancellationToken).ConfigureAwait(false);
            return (new PartETag(number, response.ETag), digest);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
            _store.Slots.Release();
        }
    }

    /// <summary>An ETag that is an MD5 (not SSE-KMS, not SSE-C) must match the local one, else the bytes differ.</summary>
    private void Verify(string? etag, string expected, string what, string? alternative = null)
    {
        var actual = S3OutputStore.Unquote(etag);
        if (!Comparable(actual, _store.Options)) return;
        if (!actual.Equals(expected, StringComparison.OrdinalIgnoreCase) && !actual.Equals(alternative, StringComparison.OrdinalIgnoreCase))
        {
            throw new ChecksumMismatchException($"{what} of {_path}: S3 stored ETag {actual}, but the bytes sent have {expected}");
        }
    }

    /// <summary>Whether an ETag is an MD5 DataPrep can check (not SSE-KMS/SSE-C, which encrypt before hashing).</summary>
    internal static bool Comparable(string etag, Pipeline.S3Options options)
        => etag.Length >= 32 && etag[..32].All(Uri.IsHexDigit) && options.Sse != "aws:kms";

    /// <summary>
    /// Closing returns once the last part is handed over: the upload completes in the background (the store
    /// awaits it before committing), so the encoder goes on with the next shard meanwhile.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        if (_closed) return;
        _closed = true;
        if (_uploadId is not null)
        {
            try { await _store.Slots.WaitAsync(_cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { await AbortAsync().ConfigureAwait(false); throw; }
        }
        _store.Pending(CompleteAsync());
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes and waits until the object is complete and verified.</summary>
    public async Task CloseAndWaitAsync()
    {
        _closed = true;
        if (_uploadId is not null) await _store.Slots.WaitAsync(_cancellationToken).ConfigureAwait(false);
        await CompleteAsync().ConfigureAwait(false);
    }

    private async Task CompleteAsync()
    {
        try
        {
            S3OutputStore.ObjectInfo info;
            if (_uploadId is null)
            {
                var expected = Convert.ToHexStringLower(MD5.HashData(_buffer.AsSpan(0, _filled)));
                await _store.RetryAsync(async () =>
                {
                    using var body = new MemoryStream(_buffer, 0, _filled, writable: false);
                    var put = new PutObjectRequest
                    {
                        BucketName = _store.Bucket, Key = _key, InputStream = body, AutoCloseStream = false,
                        UseChunkEncoding = !_store.Options.DisableChunkEncoding,
                    };
                    ApplyEncryption(put);
                    var r = await _store.Client.PutObjectAsync(put, _cancellationToken).ConfigureAwait(false);
                    Verify(r.ETag, expected, "object");
                    return r;
                }, _cancellationToken).ConfigureAwait(false);
                info = new(_filled, expected);
            }
            else
            {
                var lastData = _buffer;
                _buffer = [];
                _whole?.AppendData(lastData.AsSpan(0, _filled));
                _parts.Add(UploadPartAsync(lastData, _filled, _parts.Count + 1, last: true));
                var done = await Task.WhenAll(_parts).ConfigureAwait(false);
                var etags = done.Select(d => d.ETag).ToList();
                var expected = ETagCalculator.Combine(done.Select(d => d.Digest).ToList());
                var complete = new CompleteMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = _uploadId, PartETags = [.. etags] };
                var result = await _store.RetryAsync(() => _store.Client.CompleteMultipartUploadAsync(complete, _cancellationToken), _cancellationToken).ConfigureAwait(false);
                // AWS: MD5 of the part MD5s and "-N"; some S3-compatible stores (s3rver) give the MD5 of the whole object.
                var whole = _whole is null ? null : Convert.ToHexStringLower(_whole.GetHashAndReset());
                Verify(result.ETag, expected, "object", whole);
                info = new(_length, whole is not null && S3OutputStore.Unquote(result.ETag).Equals(whole, StringComparison.OrdinalIgnoreCase) ? whole : expected);
            }
            // The size S3 reports for the finished object must be what was written.
            var head = await _store.RetryAsync(() => _store.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _store.Bucket, Key = _key }, _cancellationToken), _cancellationToken).ConfigureAwait(false);
            if (head.ContentLength != _length)
            {
                throw new ChecksumMismatchException($"{_path}: S3 reports {head.ContentLength} bytes after upload, but {_length} were written");
            }
            _store.Completed(this, _path, info);
        }
        catch (Exception e)
        {
            await AbortAsync().ConfigureAwait(false);
            throw _store.Fail(e, $"uploading {_path}");
        }
        finally
        {
            if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _whole?.Dispose();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_closed) DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    /// <summary>Aborts the multipart upload (its parts stop costing storage); best effort.</summary>
    public async Task AbortAsync()
    {
        _closed = true;
        _store.Failed(this);
        var id = Interlocked.Exchange(ref _uploadId, null);
        try { await Task.WhenAll(_parts).ConfigureAwait(false); } catch (Exception) { /* reported by the caller */ }
        if (id is null) return;
        try
        {
            await _store.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = id }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The run is failing already; a later --resume or --overwrite aborts uploads left under the prefix.
        }
    }

    private void ApplyEncryption(PutObjectRequest r)
    {
        if (_store.Options.Sse is { } sse) r.ServerSideEncryptionMethod = sse == "aws:kms" ? ServerSideEncryptionMethod.AWSKMS : ServerSideEncryptionMethod.AES256;
        if (_store.Options.SseKmsKeyId is { } key) r.ServerSideEncryptionKeyManagementServiceKeyId = key;
    }

    private void ApplyEncryption(InitiateMultipartUploadRequest r)
    {
        if (_store.Options.Sse is { } sse) r.ServerSideEncryptionMethod = sse == "aws:kms" ? ServerSideEncryptionMethod.AWSKMS : ServerSideEncryptionMethod.AES256;
        if (_store.Options.SseKmsKeyId is { } key) r.ServerSideEncryptionKeyManagementServiceKeyId = key;
    }
}

/// <summary>S3 stored different bytes than were sent (retried like a transient failure).</summary>
internal sealed class ChecksumMismatchException(string message) : IOException(message);

/// <summary>
/// <see cref="Pipeline.S3Options.Resume"/>: an object with this key already exists. The encoder's bytes are spooled
/// to a local file while their S3 ETag is computed; at close the object is kept if size and ETag match,
/// otherwise the file is uploaded.
/// </summary>
internal sealed class S3ResumeStream : WriteOnlyForwardStream
{
    private readonly S3OutputStore _store;
    private readonly string _path;
    private readonly S3OutputStore.ObjectInfo _existing;
    private readonly CancellationToken _cancellationToken;
    private readonly ETagCalculator _etag;
    private readonly string _spool = Path.Combine(Path.GetTempPath(), $"dataprep-s3-{Guid.NewGuid():N}");
    private readonly FileStream _file;
    private bool _closed;

    public S3ResumeStream(S3OutputStore store, string path, S3OutputStore.ObjectInfo existing, CancellationToken cancellationToken)
    {
        _store = store;
        _path = path;
        _existing = existing;
        _cancellationToken = cancellationToken;
        _etag = new ETagCalculator(store.Options.PartSize);
        _file = new FileStream(_spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
    }

    public override bool CanWrite => !_closed;
    public override long Length => _etag.Length;
    public override long Position { get => _etag.Length; set => throw new NotSupportedException(); }
    public override void Flush() { }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _etag.Append(buffer);
        _file.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _etag.Append(buffer.Span);
        await _file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_closed) return;
        _closed = true;
        try
        {
            long length = _etag.Length;
            var etag = _etag.ETag();
            if (length == _existing.Size && (etag.Equals(_existing.ETag, StringComparison.OrdinalIgnoreCase) || _etag.Whole.Equals(_existing.ETag, StringComparison.OrdinalIgnoreCase)))
            {
                _store.KeptExisting(_path, new(length, etag));
                return;
            }
            _file.Position = 0;
            await using var upload = _store.NewUpload(_path, _cancellationToken);
            await _file.CopyToAsync(upload, 1 << 20, _cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _etag.Dispose();
            await _file.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_closed) DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
