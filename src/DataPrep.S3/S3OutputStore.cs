using System.Collections.Concurrent;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.S3;

/// <summary>
/// An S3 prefix as a DataPrep output (<c>--out s3://bucket/prefix/</c>). S3 has no rename, so data objects
/// are uploaded straight to their final keys under <c>prefix/&lt;split&gt;/</c>; what makes a run visible is
/// its ManifestFiles, <c>channels.json</c> and finally <c>run.json</c>, written only at
/// <see cref="CommitAsync"/> (after stale objects are deleted). A failed run aborts its multipart uploads
/// and writes none of them; <see cref="S3Options.Resume"/> finishes it later.
/// </summary>
/// <remarks>
/// Uploads stream from the encoder: each object buffers one part (<see cref="S3Options.PartSize"/>) and
/// uploads full parts in the background, at most <see cref="S3Options.Concurrency"/> parts at a time across
/// all objects; objects no larger than one part use a single PUT. Every part and object is checked against
/// locally computed CRC-32Cs (S3's full-object checksum, <see cref="S3Checksum"/>; the MD5 in the ETag only on a
/// store that keeps no checksums) and its size after upload.
/// </remarks>
public sealed class S3OutputStore : IOutputStore
{
    private readonly string _location;
    private readonly S3Location _root;
    private readonly S3Options _options;
    private readonly ConcurrentDictionary<string, ObjectInfo> _uploaded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _deferred = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<S3UploadStream, byte> _open = new();
    private readonly List<Task> _pending = [];
    private Dictionary<string, ObjectInfo> _existing = new(StringComparer.Ordinal);
    private bool _prepared, _committed, _reported;
    private int _kept;

    /// <summary>What is known about an object: size, ETag (unquoted) and, where the store keeps it, its full-object CRC-32C (base64).</summary>
    internal readonly record struct ObjectInfo(long Size, string ETag, string? Checksum = null);

    /// <summary>Whether this store has echoed a checksum (then no MD5 is computed for its ETags any more).</summary>
    internal bool ChecksumsEchoed
    {
        get => Volatile.Read(ref _checksumsEchoed);
        set => Volatile.Write(ref _checksumsEchoed, value);
    }

    private bool _checksumsEchoed;

    /// <summary>Creates the store for <c>s3://bucket/prefix/</c>.</summary>
    public S3OutputStore(string location, IAmazonS3 client, S3Options options)
    {
        _location = location;
        var parsed = S3Location.Parse(location);
        var key = parsed.Key.TrimStart('/');
        if (key.Length > 0 && !key.EndsWith('/')) key += "/";
        _root = parsed with { Key = key };
        Client = client;
        _options = options;
        Slots = new SemaphoreSlim(Math.Max(1, options.Concurrency));
    }

    internal IAmazonS3 Client { get; }
    internal SemaphoreSlim Slots { get; }
    internal S3Options Options => _options;
    internal string Bucket => _root.Bucket;
    internal string Endpoint => _options.EndpointUrl ?? "AWS";

    /// <summary>Objects this run kept unchanged because they already matched (<see cref="S3Options.Resume"/>).</summary>
    public int Kept => _kept;

    /// <summary>Objects this run uploaded (data, sidecars, manifests, run record).</summary>
    public int Uploaded => _uploaded.Count - _kept;

    /// <inheritdoc />
    public string Location => _location;

    /// <inheritdoc />
    public string UriOf(string relativePath) => $"s3://{_root.Bucket}/{_root.Key}{relativePath}";

    internal string KeyOf(string relativePath) => _root.Key + relativePath;

    private string RunRecordKey => KeyOf(RunLayout.RunRecordPath);

    private static bool IsManaged(string relative)
    {
        int slash = relative.IndexOf('/');
        var top = slash < 0 ? relative : relative[..slash];
        return slash > 0 && RunLayout.IsRunOwned(top);
    }

    /// <inheritdoc />
    public async ValueTask PrepareAsync(bool overwrite, CancellationToken cancellationToken)
    {
        // A scaled-out run's work area under the prefix (_dataprep/work/) is that run's, not an output: left out.
        var work = KeyOf($"{RunLayout.MetaFolder}/{RunLayout.WorkFolder}/");
        var all = (await ListAsync(_root.Key, cancellationToken).ConfigureAwait(false)).Where(kv => !kv.Key.StartsWith(work, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);
        bool hasRun = all.ContainsKey(RunRecordKey);
        var relative = all.Keys.Select(k => k[_root.Key.Length..]).ToList();
        var foreign = relative.Where(r => !IsManaged(r)).Order(StringComparer.Ordinal).ToList();
        bool resume = _options.Resume;
        if (all.Count > 0)
        {
            if (hasRun && resume)
            {
                throw new OutputException($"--out {UriOf("")} holds a complete DataPrep run ({UriOf(RunLayout.RunRecordPath)}); there is nothing to resume. Pass --overwrite to replace it, or choose another prefix.");
            }
            if (hasRun && !overwrite)
            {
                throw new OutputException($"--out {UriOf("")} already holds a DataPrep run ({UriOf(RunLayout.RunRecordPath)}). Pass --overwrite to replace it, or choose another prefix.");
            }
            if (!hasRun && foreign.Count > 0)
            {
                throw new OutputException($"--out {UriOf("")} holds objects that are not DataPrep's ({foreign[0]}{(foreign.Count > 1 ? $" and {foreign.Count - 1} more" : "")}); refusing to mix outputs. Choose an empty prefix.");
            }
            if (!hasRun && !overwrite && !resume)
            {
                throw new OutputException($"--out {UriOf("")} holds {all.Count} object(s) of an unfinished DataPrep run (no run.json, e.g. {relative.Order(StringComparer.Ordinal).First()}). Pass --resume to finish that run (same inputs and options), or --overwrite to replace it.");
            }
        }
        _existing = all.Where(kv => IsManaged(kv.Key[_root.Key.Length..])).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (overwrite && _existing.Count > 0)
        {
            // Nothing may describe the old data once it starts being replaced in place: the run record goes
            // first, then the ManifestFiles and channels.json (a crash now leaves an unfinished run, not a mixed one).
            if (hasRun) await DeleteAsync([RunRecordKey], cancellationToken).ConfigureAwait(false);
            var describing = _existing.Keys.Where(k => k != RunRecordKey && k.StartsWith(KeyOf(RunLayout.MetaFolder + "/"), StringComparison.Ordinal)
                && (k.EndsWith(".manifest", StringComparison.Ordinal) || k.EndsWith("/channels.json", StringComparison.Ordinal))).ToList();
            await DeleteAsync(describing, cancellationToken).ConfigureAwait(false);
            _existing.Remove(RunRecordKey);
            foreach (var k in describing) _existing.Remove(k);
        }
        if (overwrite || resume) await AbortStaleUploadsAsync(cancellationToken).ConfigureAwait(false);
        _prepared = true;
    }

    /// <inheritdoc />
    public ValueTask<Stream> CreateAsync(string relativePath, CancellationToken cancellationToken)
    {
        if (!_prepared) throw new InvalidOperationException("PrepareAsync first.");
        ThrowIfAnyFailed();
        // ManifestFiles and channels.json describe the run: held back until commit, after stale objects are gone.
        if (relativePath.StartsWith(RunLayout.MetaFolder + "/", StringComparison.Ordinal)
            && (relativePath.EndsWith(".manifest", StringComparison.Ordinal) || relativePath == RunLayout.ChannelsPath))
        {
            return ValueTask.FromResult<Stream>(new DeferredStream(this, relativePath));
        }
        var key = KeyOf(relativePath);
        if (_options.Resume && _existing.TryGetValue(key, out var existing))
        {
            return ValueTask.FromResult<Stream>(new S3ResumeStream(this, relativePath, existing, cancellationToken));
        }
        return ValueTask.FromResult<Stream>(NewUpload(relativePath, cancellationToken));
    }

    internal S3UploadStream NewUpload(string relativePath, CancellationToken cancellationToken)
    {
        var s = new S3UploadStream(this, relativePath, cancellationToken);
        _open[s] = 0;
        return s;
    }

    internal void Completed(S3UploadStream stream, string relativePath, ObjectInfo info)
    {
        _open.TryRemove(stream, out _);
        _uploaded[relativePath] = info;
    }

    internal void Failed(S3UploadStream stream) => _open.TryRemove(stream, out _);

    /// <summary>An upload completing in the background; a failure surfaces at the next create or at commit.</summary>
    internal void Pending(Task completion)
    {
        lock (_pending) _pending.Add(completion);
    }

    private async Task DrainAsync()
    {
        Task[] all;
        lock (_pending) all = [.. _pending];
        await Task.WhenAll(all).ConfigureAwait(false);
    }

    private void ThrowIfAnyFailed()
    {
        Task? failed;
        lock (_pending) failed = _pending.FirstOrDefault(t => t.IsFaulted);
        if (failed is not null) failed.GetAwaiter().GetResult();
    }

    /// <summary>An object put in place by a server-side copy (a scaled-out run's shard, from its work area).</summary>
    internal void Adopted(string relativePath, ObjectInfo info)
    {
        if (!_prepared) throw new InvalidOperationException("PrepareAsync first.");
        _uploaded[relativePath] = info;
    }

    /// <summary>The bucket and key of a path of the run.</summary>
    internal S3Location LocationOf(string relativePath) => new(_root.Bucket, KeyOf(relativePath));

    internal void KeptExisting(string relativePath, ObjectInfo info)
    {
        _uploaded[relativePath] = info;
        Interlocked.Increment(ref _kept);
    }

    /// <inheritdoc />
    public async ValueTask CommitAsync(string runRecordPath, ReadOnlyMemory<byte> runRecord, CancellationToken cancellationToken)
    {
        if (!_prepared) throw new InvalidOperationException("PrepareAsync first.");
        await DrainAsync().ConfigureAwait(false);
        if (!_open.IsEmpty) throw new InvalidOperationException($"{_open.Count} upload(s) still open at commit.");
        // Objects of an older or unfinished run that this run did not write again.
        var written = _uploaded.Keys.Concat(_deferred.Keys).Append(runRecordPath).Select(KeyOf).ToHashSet(StringComparer.Ordinal);
        var stale = _existing.Keys.Where(k => !written.Contains(k)).ToList();
        await DeleteAsync(stale, cancellationToken).ConfigureAwait(false);
        foreach (var (path, bytes) in _deferred.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            await PutSmallAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        }
        await PutSmallAsync(runRecordPath, runRecord.ToArray(), cancellationToken).ConfigureAwait(false);
        _committed = true;
    }

    private async Task PutSmallAsync(string relativePath, byte[] bytes, CancellationToken cancellationToken)
    {
        var s = NewUpload(relativePath, cancellationToken);
        await s.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await s.CloseAndWaitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask AbortAsync()
    {
        if (_committed) return;
        foreach (var s in _open.Keys.ToList()) await s.AbortAsync().ConfigureAwait(false);
        try { await DrainAsync().ConfigureAwait(false); }
        catch (Exception) { /* the failure is reported by the caller */ }
        if (!_reported && _uploaded.Count > 0)
        {
            _reported = true;
            await Console.Error.WriteLineAsync($"note: {DescribeUploaded()}").ConfigureAwait(false);
        }
    }

    /// <summary>Which objects a failed run left (for error messages).</summary>
    internal string DescribeUploaded()
    {
        var keys = _uploaded.Keys.Order(StringComparer.Ordinal).ToList();
        var what = keys.Count == 0
            ? "no object of this run was completed"
            : $"{keys.Count} object(s) of this run exist ({string.Join(", ", keys.Take(5))}{(keys.Count > 5 ? ", …" : "")})";
        return $"{UriOf("")}: {what}; no ManifestFile and no run.json were written, so no training job sees a half-written dataset. Re-run with --resume to finish (same inputs and options), or --overwrite to start again.";
    }

    internal Exception Fail(Exception e, string what)
    {
        _reported = true; // the error itself says which objects exist
        if (e is ChecksumMismatchException c)
        {
            return new OutputException($"{UriOf("")}: {c.Message} (after {_options.Retries} retries) while {what}: the store or the network changes the bytes it receives. {DescribeUploaded()}", e);
        }
        var mapped = S3Errors.Map(e, what, UriOf(""), _options.EndpointUrl);
        return mapped switch
        {
            OutputException o => new OutputException($"{o.Message} {DescribeUploaded()}", e),
            StorageException s => new StorageException($"{s.Message} {DescribeUploaded()}", e),
            _ => mapped,
        };
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();

    /// <summary>Runs an S3 call with the store's retries (after the SDK's own) and exponential backoff.</summary>
    internal async Task<T> RetryAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < _options.Retries && S3Errors.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                double ms = 250 * Math.Pow(2, attempt) * (0.5 + Random.Shared.NextDouble());
                await Task.Delay(TimeSpan.FromMilliseconds(ms), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<Dictionary<string, ObjectInfo>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        try
        {
            string? token = null;
            do
            {
                var page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _root.Bucket, Prefix = prefix, ContinuationToken = token }, cancellationToken).ConfigureAwait(false);
                foreach (var o in page.S3Objects ?? []) result[o.Key] = new ObjectInfo(o.Size ?? 0, Unquote(o.ETag));
                token = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (token is not null);
        }
        catch (Exception e)
        {
            throw S3Errors.Map(e, "listing the prefix", UriOf(""), _options.EndpointUrl);
        }
        return result;
    }

    private async Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        try
        {
            await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.CopyConcurrency), CancellationToken = cancellationToken },
                async (key, ct) => await RetryAsync(() => Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _root.Bucket, Key = key }, ct), ct).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw Fail(e, "deleting objects of an earlier run");
        }
    }

    private async Task AbortStaleUploadsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var uploads = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _root.Bucket, Prefix = _root.Key }, cancellationToken).ConfigureAwait(false);
            foreach (var u in uploads.MultipartUploads ?? [])
            {
                if (!IsManaged(u.Key[_root.Key.Length..])) continue;
                await Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _root.Bucket, Key = u.Key, UploadId = u.UploadId }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is AmazonS3Exception { StatusCode: System.Net.HttpStatusCode.NotImplemented or System.Net.HttpStatusCode.MethodNotAllowed })
        {
            // Some S3-compatible stores cannot list uploads; their incomplete parts expire by their own rules.
        }
        catch (Exception e)
        {
            throw S3Errors.Map(e, "aborting incomplete uploads of an earlier run", UriOf(""), _options.EndpointUrl);
        }
    }

    internal static string Unquote(string? etag) => (etag ?? "").Trim('"');

    /// <summary>A small describing file (ManifestFile, channels.json), uploaded at commit.</summary>
    private sealed class DeferredStream(S3OutputStore store, string path) : MemoryStream
    {
        protected override void Dispose(bool disposing)
        {
            if (disposing) store._deferred[path] = ToArray();
            base.Dispose(disposing);
        }
    }
}

/// <summary>Computes the ETag S3 gives an object uploaded by <see cref="S3UploadStream"/> with a part size.</summary>
internal sealed class ETagCalculator(long partSize) : IDisposable
{
    private readonly System.Security.Cryptography.IncrementalHash _part = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.MD5);
    private readonly System.Security.Cryptography.IncrementalHash _whole = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.MD5);
    private readonly List<byte[]> _digests = [];
    private long _inPart;

    public long Length { get; private set; }

    /// <summary>The MD5 of the whole object (the ETag some S3-compatible stores give multipart objects); valid after <see cref="ETag"/>.</summary>
    public string Whole { get; private set; } = "";

    public void Append(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (_inPart == partSize) { _digests.Add(_part.GetHashAndReset()); _inPart = 0; }
            int n = (int)Math.Min(data.Length, partSize - _inPart);
            _part.AppendData(data[..n]);
            _whole.AppendData(data[..n]);
            _inPart += n;
            Length += n;
            data = data[n..];
        }
    }

    /// <summary>MD5 hex for a single PUT (one part or less), else MD5 of the part MD5s and "-N".</summary>
    public string ETag()
    {
        _digests.Add(_part.GetHashAndReset());
        _inPart = 0;
        Whole = Convert.ToHexStringLower(_whole.GetHashAndReset());
        return Combine(_digests);
    }

    public static string Combine(IReadOnlyList<byte[]> partDigests)
    {
        if (partDigests.Count == 1) return Convert.ToHexStringLower(partDigests[0]);
        var all = partDigests.SelectMany(d => d).ToArray();
        return Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(all)) + "-" + partDigests.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        _part.Dispose();
        _whole.Dispose();
    }
}
