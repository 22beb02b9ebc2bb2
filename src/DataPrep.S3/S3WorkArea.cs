using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.S3;

/// <summary>
/// A scaled-out run's work area under <c>s3://bucket/prefix/</c>: every object is written by one PUT (or a completed
/// multipart upload), so it is whole or absent; shards reach the output by server-side copy.
/// </summary>
internal sealed class S3WorkArea : IWorkArea
{
    private const long PartSize = 64L << 20;
    private const long CopyPartSize = 512L << 20;
    private const long MaxSingleCopy = 5L << 30;
    private readonly S3Location _root;
    private readonly IAmazonS3 _client;
    private readonly S3Options _options;

    public S3WorkArea(string location, IAmazonS3 client, S3Options options)
    {
        var parsed = S3Location.Parse(location, "--work");
        var key = parsed.Key.TrimStart('/');
        if (key.Length > 0 && !key.EndsWith('/')) key += "/";
        _root = parsed with { Key = key };
        _client = client;
        _options = options;
    }

    public string Location => _root.ToString();

    private string KeyOf(string key) => _root.Key + key;

    private Exception Fail(Exception e, string what, string key) => S3Errors.Map(e, what, $"s3://{_root.Bucket}/{KeyOf(key)}", _options.EndpointUrl);

    public async Task PutAsync(string key, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        try
        {
            var checksum = S3Checksum.Encode(S3Checksum.Of(bytes.Span));
            using var body = new MemoryStream(bytes.ToArray(), writable: false);
            var put = await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _root.Bucket, Key = KeyOf(key), InputStream = body, AutoCloseStream = false,
            }.WithCrc(checksum).Encrypted(_options), cancellationToken).ConfigureAwait(false);
            CheckEcho(put.ChecksumCRC32C, checksum, key);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "writing a work object", key);
        }
    }

    /// <summary>
    /// A shard written by a worker: uploaded with its full-object CRC-32C (the parts' CRCs combined), which S3 keeps
    /// and the commit step checks the channel's copy against (<see cref="AdoptAsync"/>, <see cref="ComposeAsync"/>).
    /// </summary>
    public async Task PutFileAsync(string key, string localPath, CancellationToken cancellationToken)
    {
        long length = new FileInfo(localPath).Length;
        try
        {
            var crcs = await PartCrcsAsync(localPath, length, cancellationToken).ConfigureAwait(false);
            if (length <= PartSize)
            {
                var checksum = S3Checksum.Encode(crcs[0]);
                var put = await _client.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _root.Bucket, Key = KeyOf(key), FilePath = localPath,
                }.WithCrc(checksum).Encrypted(_options), cancellationToken).ConfigureAwait(false);
                CheckEcho(put.ChecksumCRC32C, checksum, key);
            }
            else
            {
                var start = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
                {
                    BucketName = _root.Bucket, Key = KeyOf(key), ChecksumAlgorithm = S3Checksum.Algorithm, ChecksumType = ChecksumType.FULL_OBJECT,
                }.Encrypted(_options), cancellationToken).ConfigureAwait(false);
                try
                {
                    var parts = new List<PartETag>();
                    uint whole = 0;
                    for (int n = 1; (long)(n - 1) * PartSize < length; n++)
                    {
                        long offset = (n - 1) * PartSize, size = Math.Min(PartSize, length - offset);
                        var checksum = S3Checksum.Encode(crcs[n - 1]);
                        var part = await _client.UploadPartAsync(new UploadPartRequest
                        {
                            BucketName = _root.Bucket, Key = KeyOf(key), UploadId = start.UploadId, PartNumber = n,
                            FilePath = localPath, FilePosition = offset, PartSize = size,
                        }.WithCrc(checksum), cancellationToken).ConfigureAwait(false);
                        CheckEcho(part.ChecksumCRC32C, checksum, key);
                        parts.Add(S3Checksum.Part(n, part.ETag, part.ChecksumCRC32C));
                        whole = n == 1 ? crcs[0] : S3Checksum.Combine(whole, crcs[n - 1], size);
                    }
                    var complete = new CompleteMultipartUploadRequest { BucketName = _root.Bucket, Key = KeyOf(key), UploadId = start.UploadId, PartETags = parts };
                    // Only where the store echoed the parts' checksums (one that keeps none may refuse the fields).
                    if (parts.All(p => p.ChecksumCRC32C is not null))
                    {
                        complete.ChecksumType = ChecksumType.FULL_OBJECT;
                        complete.ChecksumCRC32C = S3Checksum.Encode(whole);
                        complete.MpuObjectSize = length;
                    }
                    var done = await _client.CompleteMultipartUploadAsync(complete, cancellationToken).ConfigureAwait(false);
                    CheckEcho(done.ChecksumCRC32C, S3Checksum.Encode(whole), key);
                }
                catch
                {
                    await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _root.Bucket, Key = KeyOf(key), UploadId = start.UploadId }, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "writing a work object", key);
        }
        File.Delete(localPath);
    }

    /// <summary>The CRC-32C of each <see cref="PartSize"/> part of a file (one part when it fits in one).</summary>
    private static async Task<uint[]> PartCrcsAsync(string path, long length, CancellationToken cancellationToken)
    {
        var crcs = new uint[Math.Max(1, (int)((length + PartSize - 1) / PartSize))];
        var crc = S3Checksum.Create();
        var buffer = new byte[1 << 20];
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long done = 0;
        for (int n = 0; n < crcs.Length; n++)
        {
            long end = Math.Min(length, (n + 1) * PartSize);
            while (done < end)
            {
                int read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, end - done)), cancellationToken).ConfigureAwait(false);
                if (read == 0) throw new EndOfStreamException($"{path} ended at {done} of {length} bytes while it was uploaded");
                crc.Append(buffer.AsSpan(0, read));
                done += read;
            }
            crcs[n] = crc.GetCurrentHashAsUInt32();
            crc.Reset();
        }
        return crcs;
    }

    /// <summary>A checksum the store echoed must be the one sent (none: a store that keeps no checksums).</summary>
    private void CheckEcho(string? echoed, string expected, string key)
    {
        if (!string.IsNullOrEmpty(echoed) && echoed != expected)
        {
            throw new ChecksumMismatchException($"s3://{_root.Bucket}/{KeyOf(key)}: S3 stored CRC-32C {echoed}, but the bytes sent have {expected}");
        }
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _root.Bucket, Key = KeyOf(key) }, cancellationToken).ConfigureAwait(false);
            using var copy = new MemoryStream();
            await response.ResponseStream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            return copy.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "reading a work object", key);
        }
    }

    public async Task<string?> GetFileAsync(string key, string tempFolder, CancellationToken cancellationToken)
    {
        var path = Path.Combine(tempFolder, $"{Path.GetFileName(key)}-{Guid.NewGuid():N}");
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _root.Bucket, Key = KeyOf(key) }, cancellationToken).ConfigureAwait(false);
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            await response.ResponseStream.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            return path;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "reading a work object", key);
        }
    }

    public async Task<Stream> OpenRangeAsync(string key, long offset, long count, CancellationToken cancellationToken)
    {
        try
        {
            var request = new GetObjectRequest { BucketName = _root.Bucket, Key = KeyOf(key) };
            if (offset > 0 || count != long.MaxValue)
            {
                if (count == 0) return new MemoryStream([], writable: false);
                request.ByteRange = count == long.MaxValue ? new ByteRange($"bytes={offset}-") : new ByteRange(offset, offset + count - 1);
            }
            var response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "reading a work object", key);
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        try
        {
            string? token = null;
            do
            {
                var page = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _root.Bucket, Prefix = KeyOf(prefix), ContinuationToken = token }, cancellationToken).ConfigureAwait(false);
                foreach (var o in page.S3Objects ?? []) keys.Add(o.Key[_root.Key.Length..]);
                token = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (token is not null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "listing the work area", prefix);
        }
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    public async Task DeleteAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = await ListAsync(prefix, cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var batch in keys.Chunk(1000))
            {
                await _client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = _root.Bucket, Objects = [.. batch.Select(k => new KeyVersion { Key = KeyOf(k) })] }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "removing the work area", prefix);
        }
    }

    /// <inheritdoc />
    public bool AdoptsInPlace(IOutputStore store) => store is S3OutputStore;

    /// <summary>
    /// Into an S3 output: a server-side copy (multipart above 5 GiB); the bytes do not pass through this worker. S3
    /// computes the copy's full-object CRC-32C, which must be the one the worker's upload gave the work object.
    /// </summary>
    public async Task AdoptAsync(string key, IOutputStore store, string relativePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store is not S3OutputStore s3)
        {
            await WorkAreas.CopyAsync(this, key, store, relativePath, cancellationToken).ConfigureAwait(false);
            return;
        }
        var target = s3.LocationOf(relativePath);
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _root.Bucket, Key = KeyOf(key), ChecksumMode = ChecksumMode.ENABLED }, cancellationToken).ConfigureAwait(false);
            long size = head.ContentLength;
            // Null only on a store that keeps no checksums: there the size is all that can be compared.
            var expected = S3Checksum.FullObject(head);
            string etag;
            if (size <= MaxSingleCopy)
            {
                var copy = await s3.Client.CopyObjectAsync(new CopyObjectRequest
                {
                    SourceBucket = _root.Bucket, SourceKey = KeyOf(key), DestinationBucket = target.Bucket, DestinationKey = target.Key,
                    ChecksumAlgorithm = S3Checksum.Algorithm,
                }.Encrypted(s3.Options), cancellationToken).ConfigureAwait(false);
                etag = copy.ETag;
            }
            else
            {
                var start = await s3.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
                {
                    BucketName = target.Bucket, Key = target.Key, ChecksumAlgorithm = S3Checksum.Algorithm, ChecksumType = ChecksumType.FULL_OBJECT,
                }.Encrypted(s3.Options), cancellationToken).ConfigureAwait(false);
                var parts = new List<PartETag>();
                for (int n = 1; (long)(n - 1) * CopyPartSize < size; n++)
                {
                    long first = (n - 1) * CopyPartSize, last = Math.Min(size, n * CopyPartSize) - 1;
                    var part = await s3.Client.CopyPartAsync(new CopyPartRequest
                    {
                        SourceBucket = _root.Bucket, SourceKey = KeyOf(key), DestinationBucket = target.Bucket, DestinationKey = target.Key,
                        UploadId = start.UploadId, PartNumber = n, FirstByte = first, LastByte = last,
                    }, cancellationToken).ConfigureAwait(false);
                    parts.Add(S3Checksum.Part(n, part.ETag, part.ChecksumCRC32C));
                }
                var complete = new CompleteMultipartUploadRequest { BucketName = target.Bucket, Key = target.Key, UploadId = start.UploadId, PartETags = parts };
                if (expected is not null) (complete.ChecksumType, complete.ChecksumCRC32C, complete.MpuObjectSize) = (ChecksumType.FULL_OBJECT, expected, size);
                var done = await s3.Client.CompleteMultipartUploadAsync(complete, cancellationToken).ConfigureAwait(false);
                etag = done.ETag;
            }
            await VerifyCopyAsync(s3, target, size, expected, $"copied from {Location}{key}", cancellationToken).ConfigureAwait(false);
            s3.Adopted(relativePath, new S3OutputStore.ObjectInfo(size, etag.Trim('"'), expected));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, $"copying a shard to s3://{target.Bucket}/{target.Key}", key);
        }
    }

    /// <summary>
    /// What S3 reports for an object it assembled on the server: the size, and the full-object CRC-32C it computed
    /// over the bytes, which must be the one the work objects' CRCs give (null: a store that keeps none).
    /// </summary>
    private static async Task VerifyCopyAsync(S3OutputStore s3, S3Location target, long size, string? expected, string what, CancellationToken cancellationToken)
    {
        var head = await s3.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = target.Bucket, Key = target.Key, ChecksumMode = ChecksumMode.ENABLED }, cancellationToken).ConfigureAwait(false);
        string? wrong = null;
        if (head.ContentLength != size)
        {
            wrong = $"s3://{target.Bucket}/{target.Key}: {what} ({size} bytes), S3 stored {head.ContentLength} bytes";
        }
        else if (expected is not null && S3Checksum.FullObject(head) is var stored && stored != expected)
        {
            wrong = $"s3://{target.Bucket}/{target.Key}: {what}, S3 stored CRC-32C {stored ?? "(none)"}, but the work objects' bytes have {expected}";
        }
        if (wrong is null) return;
        try
        {
            // Not left in the channel: the run fails, and a wrong object must not wait there for a later commit.
            await s3.Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = target.Bucket, Key = target.Key }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The run is failing already; --resume or --overwrite replaces the object.
        }
        throw new ChecksumMismatchException(wrong);
    }

    /// <summary>
    /// Into an S3 output: one multipart upload of copied ranges (<see cref="S3Compose"/>); only the header and bytes
    /// that top a small object up to S3's smallest part pass through this worker. Without anything to copy (every
    /// object small) the bytes are streamed as by any work area. The object's full-object CRC-32C is the header's
    /// and the work objects' CRCs combined (<see cref="S3Checksum.Combine"/>): S3 checks the assembled object
    /// against it, and DataPrep checks what S3 then reports.
    /// </summary>
    public async Task ComposeAsync(ReadOnlyMemory<byte> header, IReadOnlyList<string> keys, IOutputStore store, string relativePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(store);
        if (store is not S3OutputStore s3)
        {
            await WorkAreas.ConcatAsync(this, header, keys, store, relativePath, cancellationToken).ConfigureAwait(false);
            return;
        }
        var sizes = new long[keys.Count];
        var crcs = new string?[keys.Count];
        try
        {
            await Parallel.ForAsync(0, keys.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.CopyConcurrency), CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _root.Bucket, Key = KeyOf(keys[i]), ChecksumMode = ChecksumMode.ENABLED }, ct).ConfigureAwait(false);
                sizes[i] = head.ContentLength;
                crcs[i] = S3Checksum.FullObject(head);
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, "reading the size of a work object", keys.Count > 0 ? keys[0] : "");
        }
        var pieces = S3Compose.Plan(header.Length, sizes);
        if (pieces.Count > S3Compose.MaxParts || !pieces.Any(p => p.Copy))
        {
            await WorkAreas.ConcatAsync(this, header, keys, store, relativePath, cancellationToken).ConfigureAwait(false);
            return;
        }
        var target = s3.LocationOf(relativePath);
        long total = header.Length + sizes.Sum();
        // Null only on a store that keeps no checksums (every work object lacks one): then the size is all that is compared.
        string? expected = null;
        if (crcs.All(c => c is not null))
        {
            uint whole = S3Checksum.Of(header.Span);
            for (int i = 0; i < crcs.Length; i++)
            {
                if (!S3Checksum.TryDecode(crcs[i], out uint crc)) throw Fail(new ChecksumMismatchException($"a work object's CRC-32C is not one: {crcs[i]}"), "composing", keys[i]);
                whole = S3Checksum.Combine(whole, crc, sizes[i]);
            }
            expected = S3Checksum.Encode(whole);
        }
        string? uploadId = null;
        try
        {
            uploadId = (await s3.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
            {
                BucketName = target.Bucket, Key = target.Key, ChecksumAlgorithm = S3Checksum.Algorithm, ChecksumType = ChecksumType.FULL_OBJECT,
            }.Encrypted(s3.Options), cancellationToken).ConfigureAwait(false)).UploadId;
            var parts = new PartETag[pieces.Count];
            // Copied parts carry no data through this worker: --copy-concurrency of them at once. A part made of bytes
            // (under 10 MiB: the header, small objects) holds them while it uploads: --upload-concurrency of those at once,
            // as lowered by --memory (the registry opens the work area with ConvertOptions.EffectiveS3).
            using var buffers = new SemaphoreSlim(Math.Max(1, _options.Concurrency));
            await Parallel.ForAsync(0, pieces.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.CopyConcurrency), CancellationToken = cancellationToken }, async (n, ct) =>
            {
                var piece = pieces[n];
                if (piece.Copy)
                {
                    var range = piece.Ranges[0];
                    var copied = await s3.Client.CopyPartAsync(new CopyPartRequest
                    {
                        SourceBucket = _root.Bucket, SourceKey = KeyOf(keys[range.Source]), DestinationBucket = target.Bucket, DestinationKey = target.Key,
                        UploadId = uploadId, PartNumber = n + 1, FirstByte = range.Offset, LastByte = range.Offset + range.Length - 1,
                    }, ct).ConfigureAwait(false);
                    parts[n] = S3Checksum.Part(n + 1, copied.ETag, copied.ChecksumCRC32C);
                    return;
                }
                // Less than two S3Compose.MinPart: the header or small objects, topped up from the next object's start.
                await buffers.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    parts[n] = await UploadPieceAsync(piece, n, ct).ConfigureAwait(false);
                }
                finally
                {
                    buffers.Release();
                }
            }).ConfigureAwait(false);
            async Task<PartETag> UploadPieceAsync(S3Compose.Piece piece, int n, CancellationToken ct)
            {
                var bytes = new byte[piece.Length];
                int at = 0;
                foreach (var range in piece.Ranges)
                {
                    if (range.Source < 0)
                    {
                        header.Span.Slice((int)range.Offset, (int)range.Length).CopyTo(bytes.AsSpan(at));
                    }
                    else
                    {
                        await using var source = await OpenRangeAsync(keys[range.Source], range.Offset, range.Length, ct).ConfigureAwait(false);
                        await source.ReadExactlyAsync(bytes.AsMemory(at, (int)range.Length), ct).ConfigureAwait(false);
                    }
                    at += (int)range.Length;
                }
                var checksum = S3Checksum.Encode(S3Checksum.Of(bytes));
                using var body = new MemoryStream(bytes, writable: false);
                var uploaded = await s3.Client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = target.Bucket, Key = target.Key, UploadId = uploadId, PartNumber = n + 1, InputStream = body, PartSize = bytes.Length,
                }.WithCrc(checksum), ct).ConfigureAwait(false);
                return S3Checksum.Part(n + 1, uploaded.ETag, uploaded.ChecksumCRC32C);
            }
            var complete = new CompleteMultipartUploadRequest { BucketName = target.Bucket, Key = target.Key, UploadId = uploadId, PartETags = [.. parts] };
            // S3 refuses to complete if the assembled object's CRC-32C is not the work objects'.
            if (expected is not null) (complete.ChecksumType, complete.ChecksumCRC32C, complete.MpuObjectSize) = (ChecksumType.FULL_OBJECT, expected, total);
            var done = await s3.Client.CompleteMultipartUploadAsync(complete, cancellationToken).ConfigureAwait(false);
            uploadId = null;
            await VerifyCopyAsync(s3, target, total, expected, $"composed of {keys.Count} work objects", cancellationToken).ConfigureAwait(false);
            s3.Adopted(relativePath, new S3OutputStore.ObjectInfo(total, done.ETag.Trim('"'), expected));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw Fail(e, $"composing s3://{target.Bucket}/{target.Key}", keys.Count > 0 ? keys[0] : "");
        }
        finally
        {
            if (uploadId is not null)
            {
                try
                {
                    await s3.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = target.Bucket, Key = target.Key, UploadId = uploadId }, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The run is failing already; a later --resume or --overwrite aborts uploads left under the prefix.
                }
            }
        }
    }

    /// <summary>A response's body that disposes the response with it.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Data.ReadOnlyForwardStream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }
}
