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
/// <remarks>
/// One instance serves one run (<see cref="InputFiles.FileSystemOf"/>) and remembers each object's size and ETag from
/// the first listing or HEAD that saw it: opening an object (the schema sample, then the whole) and the spill estimate
/// send no HEAD of their own, and every read of the run is conditional on that one ETag, so the run reads one version
/// of each object. The run record's time stamp comes from a HEAD (a listing's time stamp may be finer than a HEAD's);
/// a HEAD that finds another ETag than the run saw is an error, not a silent switch to the new version.
/// </remarks>
internal sealed class S3InputFileSystem(IAmazonS3 client, S3Options options) : IInputFileSystem
{
    /// <summary>What the run knows of an object; <see cref="Modified"/> only from a HEAD.</summary>
    private sealed record Known(long Size, string ETag, DateTime? Modified);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Known> _known = new(StringComparer.Ordinal);

    /// <summary>Remembers a listed object's size and ETag (a HEAD's answer, when there was one, is kept).</summary>
    private void Remember(string bucket, S3Object o) => _known.TryAdd($"s3://{bucket}/{o.Key}", new Known(o.Size ?? 0, o.ETag, null));

    /// <summary>HEADs an object and remembers the answer; another ETag than the run saw before is an error.</summary>
    private Known Head(string uri, S3Location loc)
    {
        var head = client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = loc.Bucket, Key = loc.Key }).GetAwaiter().GetResult();
        var now = new Known(head.ContentLength, head.ETag, (head.LastModified ?? default).ToUniversalTime());
        if (_known.TryGetValue(uri, out var seen) && seen.ETag != now.ETag)
        {
            throw new DataFormatException($"changed during the run (its ETag was {seen.ETag}, now {now.ETag}); expected an object that stays the same during the run", uri);
        }
        _known[uri] = now;
        return now;
    }

    /// <summary>What the run knows of an object, HEADing it first when it knows nothing (or, <paramref name="stamped"/>, no time stamp).</summary>
    private Known Find(string uri, string what, bool stamped = false)
    {
        if (_known.TryGetValue(uri, out var k) && (!stamped || k.Modified is not null)) return k;
        var loc = S3Location.Parse(uri, "input");
        try
        {
            return Head(uri, loc);
        }
        catch (Exception e) when (e is not DataFormatException)
        {
            throw AsInputError(e, uri, what);
        }
    }

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
                var matched = List(loc.Bucket, folder).Where(o => !o.Key[folder.Length..].Contains('/') && regex.IsMatch(o.Key[folder.Length..])).ToList();
                foreach (var o in matched) Remember(loc.Bucket, o);
                return matched.Count > 0 ? matched.Select(o => $"s3://{loc.Bucket}/{o.Key}").ToList()
                    : throw new PipelineValidationException($"The pattern '{uri}' matches no object.");
            }
            if (loc.Key.Length == 0 || loc.Key.EndsWith('/'))
            {
                var listed = Listed(List(loc.Bucket, loc.Key)).ToList();
                foreach (var o in listed) Remember(loc.Bucket, o);
                return listed.Count > 0 ? listed.Select(o => $"s3://{loc.Bucket}/{o.Key}").ToList()
                    : throw new PipelineValidationException($"The prefix '{uri}' holds no objects.");
            }
            try
            {
                Head(uri, loc);
                return [uri];
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNotFound(e))
            {
                // Like a local folder: s3://bucket/data means the objects under data/.
                var under = List(loc.Bucket, loc.Key + "/").Where(o => !o.Key.EndsWith('/')).ToList();
                foreach (var o in under) Remember(loc.Bucket, o);
                return under.Count > 0 ? under.Select(o => $"s3://{loc.Bucket}/{o.Key}").ToList()
                    : throw new PipelineValidationException($"The input '{uri}' does not exist (expected an object, a prefix ending in '/' or a pattern such as s3://bucket/data/*.csv).");
            }
        }
        catch (Exception e) when (e is not PipelineValidationException and not DataFormatException)
        {
            throw AsInputError(e, uri, "listing");
        }
    }

    public bool Exists(string uri)
    {
        var loc = S3Location.Parse(uri, "input");
        if (loc.Key.Length == 0 || loc.Key.EndsWith('/')) return false;
        if (_known.ContainsKey(uri)) return true;
        try
        {
            Head(uri, loc);
            return true;
        }
        catch (AmazonS3Exception e) when (S3Errors.IsNotFound(e))
        {
            return false;
        }
        catch (Exception e) when (e is not DataFormatException)
        {
            throw AsInputError(e, uri, "looking for");
        }
    }

    public Stream Open(string uri)
    {
        var loc = S3Location.Parse(uri, "input");
        var known = Find(uri, "opening");
        return new S3ReadStream(client, loc.Bucket, loc.Key, known.Size, known.ETag, uri);
    }

    public InputFingerprint Fingerprint(string uri)
    {
        var known = Find(uri, "reading the metadata of", stamped: true);
        return new InputFingerprint(uri, known.Size, known.Modified!.Value, "etag:" + S3OutputStore.Unquote(known.ETag));
    }

    public long SizeOf(string uri) => Find(uri, "reading the metadata of").Size;

    /// <summary>The objects under a prefix from the listing alone: one LIST per 1,000 keys, no HEAD per object.</summary>
    public IReadOnlyList<InputFingerprint> ListFingerprints(string prefixUri)
    {
        var loc = S3Location.Parse(prefixUri, "input");
        try
        {
            var listed = Listed(List(loc.Bucket, loc.Key)).ToList();
            foreach (var o in listed) Remember(loc.Bucket, o);
            var result = listed
                .Select(o => new InputFingerprint($"s3://{loc.Bucket}/{o.Key}", o.Size ?? 0, (o.LastModified ?? default).ToUniversalTime(), "etag:" + S3OutputStore.Unquote(o.ETag)))
                .ToList();
            return result.Count > 0 ? result : throw new PipelineValidationException($"The prefix '{prefixUri}' holds no objects.");
        }
        catch (Exception e) when (e is not PipelineValidationException)
        {
            throw AsInputError(e, prefixUri, "listing");
        }
    }

    /// <summary>The objects a prefix input names: not "folder" markers, not hidden names (a leading '.').</summary>
    private static IEnumerable<S3Object> Listed(IEnumerable<S3Object> objects)
        => objects.Where(o => !o.Key.EndsWith('/') && !o.Key[(o.Key.LastIndexOf('/') + 1)..].StartsWith('.'));

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
/// A seekable read-only view of an S3 object made of ranged GETs. Blocks grow while the reader goes on where the last one
/// ended: 1 MiB, 2 MiB, 4 MiB, then <c>blockSize</c> (default 8 MiB) with the next block fetched ahead while the current
/// one is read. A reader that stops early (a schema sample of a few MB) reads little more than it used; a sequential
/// reader (CSV, JSON Lines) soon finds every block already on its way; a seek (Parquet's footer and row groups) starts
/// again at 1 MiB from where it lands, so a small read costs a small GET. Every GET is conditional on the ETag the run
/// saw, so an object replaced while being read is an error rather than a mix of two versions.
/// </summary>
internal sealed class S3ReadStream(IAmazonS3 client, string bucket, string key, long length, string etag, string uri, int blockSize = 8 << 20) : Stream
{
    /// <summary>The first block after opening or a seek.</summary>
    internal const int FirstBlock = 1 << 20;

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
        if (_blockStart < 0 || _position < _blockStart || _position >= _blockStart + _block.Length) Load(_position).GetAwaiter().GetResult();
        return CopyOut(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        if (_blockStart < 0 || _position < _blockStart || _position >= _blockStart + _block.Length) await Load(_position).ConfigureAwait(false);
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
        // Going on where the last block ended: twice its size, up to blockSize (a block is short only at the object's
        // end, where nothing goes on). Anywhere else: a first block again.
        bool onward = _blockStart >= 0 && start == _blockStart + _block.Length;
        int size = onward ? (int)Math.Min(blockSize, 2L * _block.Length) : Math.Min(FirstBlock, blockSize);
        byte[] data;
        if (_ahead is { } a && a.Start == start) data = await a.Data.ConfigureAwait(false);
        else data = await FetchAsync(start, size).ConfigureAwait(false);
        _block = data;
        _blockStart = start;
        long next = start + size;
        // A reader that has come this far sequentially (CSV, JSON Lines) finds the next block already on its way.
        _ahead = size == blockSize && next < length ? (next, FetchAsync(next, blockSize)) : null;
    }

    private async Task<byte[]> FetchAsync(long start, int size)
    {
        long end = Math.Min(length, start + size) - 1;
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
