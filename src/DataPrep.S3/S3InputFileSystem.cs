using System.Text.RegularExpressions;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.S3;

/// <summary>
/// <c>s3://</c> inputs: an object, every object under a prefix ending in '/', or a pattern such as
/// <c>s3://bucket/data/*.csv.gz</c>; objects are read through <see cref="S3ReadStream"/> (ranged GETs).
/// </summary>
internal sealed class S3InputFileSystem(IAmazonS3 client, S3Options options) : IInputFileSystem
{
    public IReadOnlyList<string> Expand(string uri)
    {
        var loc = S3Location.Parse(uri, "input");
        try
        {
            int slash = loc.Key.LastIndexOf('/');
            string name = loc.Key[(slash + 1)..];
            if (name.AsSpan().IndexOfAny('*', '?') >= 0)
            {
                string folder = loc.Key[..(slash + 1)];
                var regex = new Regex("^" + Regex.Escape(name).Replace("\\*", "[^/]*", StringComparison.Ordinal).Replace("\\?", "[^/]", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
                var matches = List(loc.Bucket, folder).Select(o => o.Key).Where(k => !k[folder.Length..].Contains('/') && regex.IsMatch(k[folder.Length..])).ToList();
                return matches.Count > 0 ? matches.Select(k => $"s3://{loc.Bucket}/{k}").ToList()
                    : throw new PipelineValidationException($"The pattern '{uri}' matches no object.");
            }
            if (loc.Key.Length == 0 || loc.Key.EndsWith('/'))
            {
                var keys = Listed(List(loc.Bucket, loc.Key).Select(o => o.Key)).ToList();
                return keys.Count > 0 ? keys.Select(k => $"s3://{loc.Bucket}/{k}").ToList()
                    : throw new PipelineValidationException($"The prefix '{uri}' holds no objects.");
            }
            try
            {
                client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = loc.Bucket, Key = loc.Key }).GetAwaiter().GetResult();
                return [uri];
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNotFound(e))
            {
                // Like a local folder: s3://bucket/data means the objects under data/.
                var keys = List(loc.Bucket, loc.Key + "/").Select(o => o.Key).Where(k => !k.EndsWith('/')).ToList();
                return keys.Count > 0 ? keys.Select(k => $"s3://{loc.Bucket}/{k}").ToList()
                    : throw new PipelineValidationException($"The input '{uri}' does not exist (expected an object, a prefix ending in '/' or a pattern such as s3://bucket/data/*.csv).");
            }
        }
        catch (Exception e) when (e is not PipelineValidationException)
        {
            throw AsInputError(e, uri, "listing");
        }
    }

    public bool Exists(string uri)
    {
        var loc = S3Location.Parse(uri, "input");
        if (loc.Key.Length == 0 || loc.Key.EndsWith('/')) return false;
        try
        {
            client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = loc.Bucket, Key = loc.Key }).GetAwaiter().GetResult();
            return true;
        }
        catch (AmazonS3Exception e) when (S3Errors.IsNotFound(e))
        {
            return false;
        }
        catch (Exception e)
        {
            throw AsInputError(e, uri, "looking for");
        }
    }

    public Stream Open(string uri)
    {
        var loc = S3Location.Parse(uri, "input");
        try
        {
            var head = client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = loc.Bucket, Key = loc.Key }).GetAwaiter().GetResult();
            return new S3ReadStream(client, loc.Bucket, loc.Key, head.ContentLength, head.ETag, uri);
        }
        catch (Exception e)
        {
            throw AsInputError(e, uri, "opening");
        }
    }

    public InputFingerprint Fingerprint(string uri)
    {
        var loc = S3Location.Parse(uri, "input");
        try
        {
            var head = client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = loc.Bucket, Key = loc.Key }).GetAwaiter().GetResult();
            return new InputFingerprint(uri, head.ContentLength, (head.LastModified ?? default).ToUniversalTime(), "etag:" + S3OutputStore.Unquote(head.ETag));
        }
        catch (Exception e)
        {
            throw AsInputError(e, uri, "reading the metadata of");
        }
    }

    /// <summary>The objects under a prefix from the listing alone: one LIST per 1,000 keys, no HEAD per object.</summary>
    public IReadOnlyList<InputFingerprint> ListFingerprints(string prefixUri)
    {
        var loc = S3Location.Parse(prefixUri, "input");
        try
        {
            var objects = List(loc.Bucket, loc.Key);
            var kept = Listed(objects.Select(o => o.Key)).ToHashSet(StringComparer.Ordinal);
            var result = objects.Where(o => kept.Contains(o.Key))
                .Select(o => new InputFingerprint($"s3://{loc.Bucket}/{o.Key}", o.Size ?? 0, (o.LastModified ?? default).ToUniversalTime(), "etag:" + S3OutputStore.Unquote(o.ETag)))
                .ToList();
            return result.Count > 0 ? result : throw new PipelineValidationException($"The prefix '{prefixUri}' holds no objects.");
        }
        catch (Exception e) when (e is not PipelineValidationException)
        {
            throw AsInputError(e, prefixUri, "listing");
        }
    }

    /// <summary>The keys a prefix input names: not "folder" markers, not hidden names (a leading '.').</summary>
    private static IEnumerable<string> Listed(IEnumerable<string> keys)
        => keys.Where(k => !k.EndsWith('/') && !k[(k.LastIndexOf('/') + 1)..].StartsWith('.'));

    private List<S3Object> List(string bucket, string prefix)
    {
        var objects = new List<S3Object>();
        string? token = null;
        do
        {
            var page = client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token }).GetAwaiter().GetResult();
            objects.AddRange(page.S3Objects ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        objects.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return objects;
    }

    private Exception AsInputError(Exception e, string uri, string what)
    {
        if (e is AmazonS3Exception s && S3Errors.IsNotFound(s)) return new PipelineValidationException($"The input '{uri}' does not exist.");
        var mapped = S3Errors.Map(e, $"{what} the input", uri, options.EndpointUrl);
        return mapped is OutputException o ? new PipelineValidationException(o.Message) : mapped;
    }
}

/// <summary>
/// A seekable read-only view of an S3 object made of ranged GETs in blocks (default 8 MiB), with the next
/// block fetched ahead while the current one is read: CSV/JSON readers stream through it, Parquet seeks to
/// its footer and row groups and reads only those. Every GET is conditional on the ETag seen at open, so an
/// object replaced while being read is an error rather than a mix of two versions.
/// </summary>
internal sealed class S3ReadStream(IAmazonS3 client, string bucket, string key, long length, string etag, string uri, int blockSize = 8 << 20) : Stream
{
    private long _position;
    private long _blockStart = -1;
    private byte[] _block = [];
    private (long Start, Task<byte[]> Data)? _ahead;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => _position = Math.Clamp(value, 0, length); }
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        if (_blockStart < 0 || _position < _blockStart || _position >= _blockStart + _block.Length) Load(_position / blockSize * blockSize).GetAwaiter().GetResult();
        return CopyOut(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        if (_blockStart < 0 || _position < _blockStart || _position >= _blockStart + _block.Length) await Load(_position / blockSize * blockSize).ConfigureAwait(false);
        return CopyOut(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int CopyOut(Span<byte> buffer)
    {
        int from = (int)(_position - _blockStart);
        int n = Math.Min(buffer.Length, _block.Length - from);
        _block.AsSpan(from, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    private async Task Load(long start)
    {
        byte[] data;
        if (_ahead is { } a && a.Start == start) data = await a.Data.ConfigureAwait(false);
        else data = await FetchAsync(start).ConfigureAwait(false);
        _block = data;
        _blockStart = start;
        long next = start + blockSize;
        // Sequential readers (CSV, JSON Lines) find the next block already on its way.
        _ahead = next < length ? (next, FetchAsync(next)) : null;
    }

    private async Task<byte[]> FetchAsync(long start)
    {
        long end = Math.Min(length, start + blockSize) - 1;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                var request = new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = new ByteRange(start, end), EtagToMatch = etag };
                using var response = await client.GetObjectAsync(request).ConfigureAwait(false);
                var data = new byte[end - start + 1];
                await response.ResponseStream.ReadExactlyAsync(data).ConfigureAwait(false);
                return data;
            }
            catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.PreconditionFailed)
            {
                throw new DataFormatException($"changed while being read (its ETag is no longer {etag}); expected an object that stays the same during the run", uri, inner: e);
            }
            catch (Exception e) when (attempt < 3 && S3Errors.IsTransient(e))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 << attempt)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw S3Errors.Map(e, "reading the input", uri, null);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ahead is { } a) a.Data.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        base.Dispose(disposing);
    }
}
