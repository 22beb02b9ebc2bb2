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
/// <remarks>
/// Verification: every part and single PUT carries its CRC-32C (<see cref="S3Checksum"/>, computed on the upload
/// task), which S3 checks on receipt; the multipart upload is a FULL_OBJECT CRC-32C upload whose checksum S3
/// computes over the assembled object and DataPrep compares with the parts' CRCs combined, and with what a
/// HEAD reports (size too). This holds under every encryption mode. Only a store that echoes no checksum
/// (some S3-compatible stores) is checked the old way, by the MD5 in its ETag, computed then and only then.
/// </remarks>
internal sealed class S3UploadStream : WriteOnlyForwardStream
{
    private readonly S3OutputStore _store;
    private readonly string _path;
    private readonly string _key;
    private readonly int _partSize;
    private readonly CancellationToken _cancellationToken;
    private readonly List<Task<Part>> _parts = [];
    // Only S3-compatible stores (an endpoint URL) may give a multipart object the MD5 of its whole content as
    // ETag; needed only where the store echoes no checksum, so dropped once the store has shown that it does.
    private IncrementalHash? _whole;
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
        if (store.Options.EndpointUrl is not null && !store.ChecksumsEchoed) _whole = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
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
                // A FULL_OBJECT CRC-32C upload: S3 keeps one CRC-32C of the whole object, whatever the encryption.
                var init = new InitiateMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, ChecksumAlgorithm = S3Checksum.Algorithm, ChecksumType = ChecksumType.FULL_OBJECT };
                init.Encrypted(_store.Options);
                // Not cancelled mid-request: an upload S3 created but whose id never arrived could not be aborted.
                var response = await _store.RetryAsync(() => _store.Client.InitiateMultipartUploadAsync(init, CancellationToken.None), _cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _uploadId, response.UploadId);
                // An abort that ran while the upload was being created found no id to abort: abort this one here
                // (whoever takes the id first aborts it).
                if (Volatile.Read(ref _closed) && Interlocked.Exchange(ref _uploadId, null) is { } orphan)
                {
                    try
                    {
                        await _store.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = orphan }, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception)
                    {
                        // The run is failing already; a later --resume or --overwrite aborts uploads left under the prefix.
                    }
                    throw new OperationCanceledException($"The upload of {_path} was aborted.");
                }
                _cancellationToken.ThrowIfCancellationRequested();
            }
            // Back-pressure: wait for a free upload slot before taking another part's memory.
            await _store.Slots.WaitAsync(_cancellationToken).ConfigureAwait(false);
            var data = _buffer;
            int length = _filled;
            int number = _parts.Count + 1;
            AppendWhole(data.AsSpan(0, length));
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

    /// <summary>A part sent: its ETag (and checksum, where the store echoed it), CRC-32C, length and, only where the store echoed no checksum, MD5.</summary>
    private readonly record struct Part(PartETag ETag, uint Crc, int Length, byte[]? Md5);

    private void AppendWhole(ReadOnlySpan<byte> data)
    {
        if (_whole is null) return;
        if (_store.ChecksumsEchoed) { _whole.Dispose(); _whole = null; return; }
        _whole.AppendData(data);
    }

    private async Task<Part> UploadPartAsync(byte[] data, int length, int number, bool last)
    {
        try
        {
            // Computed on the upload task, off the encoder's path; sent with the part, so the SDK computes no checksum of its own.
            uint crc = S3Checksum.Of(data.AsSpan(0, length));
            var checksum = S3Checksum.Encode(crc);
            byte[]? md5 = null;
            var response = await _store.RetryAsync(async () =>
            {
                using var body = new MemoryStream(data, 0, length, writable: false);
                var request = new UploadPartRequest
                {
                    BucketName = _store.Bucket, Key = _key, UploadId = _uploadId, PartNumber = number,
                    InputStream = body, PartSize = length, IsLastPart = last,
                }.WithCrc(checksum);
                var r = await _store.Client.UploadPartAsync(request, _cancellationToken).ConfigureAwait(false);
                if (!VerifyChecksum(r.ChecksumCRC32C, checksum, $"part {number}"))
                {
                    md5 ??= MD5.HashData(data.AsSpan(0, length));
                    Verify(r.ETag, Convert.ToHexStringLower(md5), $"part {number}");
                }
                return r;
            }, _cancellationToken).ConfigureAwait(false);
            var etag = S3Checksum.Part(number, response.ETag, response.ChecksumCRC32C);
            return new Part(etag, crc, length, string.IsNullOrEmpty(response.ChecksumCRC32C) ? md5 : null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
            _store.Slots.Release();
        }
    }

    /// <summary>
    /// The checksum a store echoed must be the one sent; false when it echoed none (a store that keeps no
    /// checksums: the caller falls back to the ETag).
    /// </summary>
    private bool VerifyChecksum(string? echoed, string expected, string what)
    {
        if (string.IsNullOrEmpty(echoed)) return false;
        _store.ChecksumsEchoed = true;
        if (!echoed.Equals(expected, StringComparison.Ordinal))
        {
            throw new ChecksumMismatchException($"{what} of {_path}: S3 stored CRC-32C {echoed}, but the bytes sent have {expected}");
        }
        return true;
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
        // The last part, or the single PUT, takes an upload slot like every other part: an object that fits in one
        // part holds its buffer until it is sent, so without a slot many small objects (short shards, images) would
        // pile up in memory behind a slow store.
        try { await _store.Slots.WaitAsync(_cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { await AbortAsync().ConfigureAwait(false); throw; }
        _store.Pending(CompleteAsync());
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes and waits until the object is complete and verified.</summary>
    public async Task CloseAndWaitAsync()
    {
        _closed = true;
        await _store.Slots.WaitAsync(_cancellationToken).ConfigureAwait(false);
        await CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Sends what is left and completes the object. The caller holds an upload slot: the last part releases it
    /// when sent, a single PUT when it is done.
    /// </summary>
    private async Task CompleteAsync()
    {
        bool singlePut = _uploadId is null;
        try
        {
            string checksum, etag;
            if (singlePut)
            {
                checksum = S3Checksum.Encode(S3Checksum.Of(_buffer.AsSpan(0, _filled)));
                var response = await _store.RetryAsync(async () =>
                {
                    using var body = new MemoryStream(_buffer, 0, _filled, writable: false);
                    var put = new PutObjectRequest
                    {
                        BucketName = _store.Bucket, Key = _key, InputStream = body, AutoCloseStream = false,
                    }.WithCrc(checksum);
                    put.Encrypted(_store.Options);
                    var r = await _store.Client.PutObjectAsync(put, _cancellationToken).ConfigureAwait(false);
                    if (!VerifyChecksum(r.ChecksumCRC32C, checksum, "object")) Verify(r.ETag, Convert.ToHexStringLower(MD5.HashData(_buffer.AsSpan(0, _filled))), "object");
                    return r;
                }, _cancellationToken).ConfigureAwait(false);
                etag = S3OutputStore.Unquote(response.ETag);
            }
            else
            {
                var lastData = _buffer;
                _buffer = [];
                AppendWhole(lastData.AsSpan(0, _filled));
                _parts.Add(UploadPartAsync(lastData, _filled, _parts.Count + 1, last: true));
                var done = await Task.WhenAll(_parts).ConfigureAwait(false);
                uint crc = done[0].Crc;
                for (int i = 1; i < done.Length; i++) crc = S3Checksum.Combine(crc, done[i].Crc, done[i].Length);
                checksum = S3Checksum.Encode(crc);
                bool echoed = done.All(d => d.Md5 is null);
                var complete = new CompleteMultipartUploadRequest
                {
                    BucketName = _store.Bucket, Key = _key, UploadId = _uploadId, PartETags = [.. done.Select(d => d.ETag)],
                    MpuObjectSize = _length,
                };
                // S3 refuses to complete if the assembled object's CRC-32C is not this one.
                if (echoed) { complete.ChecksumType = ChecksumType.FULL_OBJECT; complete.ChecksumCRC32C = checksum; }
                var result = await _store.RetryAsync(() => _store.Client.CompleteMultipartUploadAsync(complete, _cancellationToken), _cancellationToken).ConfigureAwait(false);
                if (!VerifyChecksum(result.ChecksumCRC32C, checksum, "object") && !echoed)
                {
                    // A store without checksums: AWS gives the MD5 of the part MD5s and "-N"; some S3-compatible stores (s3rver) the MD5 of the whole object.
                    var whole = _whole is null ? null : Convert.ToHexStringLower(_whole.GetHashAndReset());
                    Verify(result.ETag, ETagCalculator.Combine([.. done.Select(d => d.Md5!)]), "object", whole);
                }
                etag = S3OutputStore.Unquote(result.ETag);
            }
            // What S3 reports for the finished object, size and full-object checksum, must be what was written.
            var head = await _store.RetryAsync(() => _store.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _store.Bucket, Key = _key, ChecksumMode = ChecksumMode.ENABLED }, _cancellationToken), _cancellationToken).ConfigureAwait(false);
            if (head.ContentLength != _length)
            {
                throw new ChecksumMismatchException($"{_path}: S3 reports {head.ContentLength} bytes after upload, but {_length} were written");
            }
            bool kept = VerifyChecksum(head.ChecksumCRC32C, checksum, "object");
            _store.Completed(this, _path, new(_length, etag, kept ? checksum : null));
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
            if (singlePut) _store.Slots.Release();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_closed) DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    /// <summary>
    /// Aborts the multipart upload (its parts stop costing storage); best effort. Every caller (the failing write,
    /// the store's abort on cancellation) awaits the same abort, and the stream counts as open until it is done, so
    /// a cancelled run does not exit while an abort request is still on its way.
    /// </summary>
    public Task AbortAsync()
    {
        _closed = true;
        lock (_abortLock)
        {
            return _abort ??= AbortOnceAsync();
        }
    }

    private readonly Lock _abortLock = new();
    private Task? _abort;

    private async Task AbortOnceAsync()
    {
        var id = Interlocked.Exchange(ref _uploadId, null);
        try { await Task.WhenAll(_parts).ConfigureAwait(false); } catch (Exception) { /* reported by the caller */ }
        try
        {
            if (id is not null) await _store.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = id }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The run is failing already; a later --resume or --overwrite aborts uploads left under the prefix.
        }
        finally
        {
            _store.Failed(this);
        }
    }
}

/// <summary>S3 stored different bytes than were sent (retried like a transient failure).</summary>
internal sealed class ChecksumMismatchException(string message) : IOException(message);

/// <summary>
/// <see cref="Pipeline.S3Options.Resume"/>: an object with this key already exists. The encoder's bytes are spooled
/// to a local file while their CRC-32C is computed; at close the object is kept if its size and the full-object
/// CRC-32C S3 keeps for it match, otherwise the file is uploaded. An object that carries another checksum (CRC-32,
/// as DataPrep wrote before it used CRC-32C, or a composite one) is uploaded again, so that every object of a
/// finished run carries a full-object CRC-32C; only on a store that keeps no checksums at all is an object compared
/// by its ETag, where that is an MD5 (not under SSE-KMS), else uploaded again.
/// </summary>
internal sealed class S3ResumeStream : WriteOnlyForwardStream
{
    private readonly S3OutputStore _store;
    private readonly string _path;
    private readonly S3OutputStore.ObjectInfo _existing;
    private readonly CancellationToken _cancellationToken;
    private readonly System.IO.Hashing.Crc32 _crc = S3Checksum.Create();
    // The MD5s of S3's ETag: only where the existing object's ETag is one DataPrep can compare.
    private readonly ETagCalculator? _etag;
    private readonly string _spool = Path.Combine(Path.GetTempPath(), $"dataprep-s3-{Guid.NewGuid():N}");
    private readonly FileStream _file;
    private long _length;
    private bool _closed;

    public S3ResumeStream(S3OutputStore store, string path, S3OutputStore.ObjectInfo existing, CancellationToken cancellationToken)
    {
        _store = store;
        _path = path;
        _existing = existing;
        _cancellationToken = cancellationToken;
        if (S3UploadStream.Comparable(existing.ETag, store.Options)) _etag = new ETagCalculator(store.Options.PartSize);
        _file = new FileStream(_spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
    }

    public override bool CanWrite => !_closed;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Append(buffer);
        _file.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Append(buffer.Span);
        await _file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private void Append(ReadOnlySpan<byte> buffer)
    {
        _crc.Append(buffer);
        _etag?.Append(buffer);
        _length += buffer.Length;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_closed) return;
        _closed = true;
        try
        {
            if (_length == _existing.Size && await SameAsync().ConfigureAwait(false) is { } info)
            {
                _store.KeptExisting(_path, info);
                return;
            }
            _file.Position = 0;
            await using var upload = _store.NewUpload(_path, _cancellationToken);
            await _file.CopyToAsync(upload, 1 << 20, _cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _etag?.Dispose();
            await _file.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The object's info when it holds these bytes, else null.</summary>
    private async Task<S3OutputStore.ObjectInfo?> SameAsync()
    {
        var checksum = S3Checksum.Encode(_crc.GetCurrentHashAsUInt32());
        var head = await _store.RetryAsync(() => _store.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _store.Bucket, Key = _store.KeyOf(_path), ChecksumMode = ChecksumMode.ENABLED }, _cancellationToken), _cancellationToken).ConfigureAwait(false);
        if (S3Checksum.FullObject(head) is { } stored)
        {
            return stored == checksum && head.ContentLength == _length ? new(_length, S3OutputStore.Unquote(head.ETag), checksum) : null;
        }
        // Another checksum (an earlier DataPrep's CRC-32): not trusted, not compared; the object is written again.
        if (S3Checksum.Any(head) || _etag is null) return null;
        var etag = _etag.ETag();
        return etag.Equals(_existing.ETag, StringComparison.OrdinalIgnoreCase) || _etag.Whole.Equals(_existing.ETag, StringComparison.OrdinalIgnoreCase) ? new(_length, etag, null) : null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_closed) DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
