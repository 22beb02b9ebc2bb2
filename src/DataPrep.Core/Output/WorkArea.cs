namespace DataPrep.Output;

/// <summary>
/// Where the workers of a scaled-out run (<c>--workers N</c>) exchange their work objects: under the output
/// (<c>OUT/_dataprep/work/</c>), a shared folder, or an <c>s3://</c> prefix (<c>--work</c>). Every object is
/// written whole under a key that depends only on the run's fingerprint, the step and the task, so a retried or
/// killed task simply writes it again; a reader never sees half an object.
/// </summary>
public interface IWorkArea
{
    /// <summary>The folder or URI, for messages.</summary>
    string Location { get; }

    /// <summary>Writes a small object whole, atomically replacing one of the same key.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>Publishes a finished local file as an object, atomically; the local file is consumed (moved or uploaded, then deleted).</summary>
    Task PutFileAsync(string key, string localPath, CancellationToken cancellationToken);

    /// <summary>Reads an object whole; null when it does not exist.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// A local file with the object's bytes: the object itself in a local work area, else a download into
    /// <paramref name="tempFolder"/> (the caller deletes it). Null when the object does not exist.
    /// </summary>
    Task<string?> GetFileAsync(string key, string tempFolder, CancellationToken cancellationToken);

    /// <summary>Opens bytes [offset, offset + count) of an object (to its end with <see cref="long.MaxValue"/>).</summary>
    Task<Stream> OpenRangeAsync(string key, long offset, long count, CancellationToken cancellationToken);

    /// <summary>The keys that start with <paramref name="prefix"/>, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Removes every object under <paramref name="prefix"/> (all of them with an empty prefix).</summary>
    Task DeleteAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Moves an object into an output store at <paramref name="relativePath"/> (staged there until the store commits):
    /// a rename when both are local folders, a server-side copy when both are S3, else a copy of the bytes.
    /// </summary>
    Task AdoptAsync(string key, IOutputStore store, string relativePath, CancellationToken cancellationToken)
        => WorkAreas.CopyAsync(this, key, store, relativePath, cancellationToken);

    /// <summary>
    /// Whether <see cref="AdoptAsync"/> into <paramref name="store"/> moves no bytes through this process (a rename, a
    /// server-side copy), so that many adoptions can run at once without buffers (<c>S3Options.CopyConcurrency</c>);
    /// false: each copies the bytes through an upload, held to <c>S3Options.Concurrency</c>.
    /// </summary>
    bool AdoptsInPlace(IOutputStore store) => false;

    /// <summary>
    /// Writes a new file of an output store at <paramref name="relativePath"/>: <paramref name="header"/>, then the
    /// objects' bytes in order (a channel's lineage from the write tasks' parts). Composed on the server when both are
    /// S3 (the bytes do not pass through this worker, bar a few MiB per object), else a copy of the bytes.
    /// </summary>
    Task ComposeAsync(ReadOnlyMemory<byte> header, IReadOnlyList<string> keys, IOutputStore store, string relativePath, CancellationToken cancellationToken)
        => WorkAreas.ConcatAsync(this, header, keys, store, relativePath, cancellationToken);
}

/// <summary>What every work area can do the slow way.</summary>
public static class WorkAreas
{
    /// <summary>Copies an object's bytes into a new file of an output store.</summary>
    public static async Task CopyAsync(IWorkArea area, string key, IOutputStore store, string relativePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(area);
        ArgumentNullException.ThrowIfNull(store);
        await using var target = await store.CreateAsync(relativePath, cancellationToken).ConfigureAwait(false);
        await using var source = await area.OpenRangeAsync(key, 0, long.MaxValue, cancellationToken).ConfigureAwait(false);
        await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a header and then objects' bytes, in order, into a new file of an output store.</summary>
    public static async Task ConcatAsync(IWorkArea area, ReadOnlyMemory<byte> header, IReadOnlyList<string> keys, IOutputStore store, string relativePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(area);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(store);
        await using var target = await store.CreateAsync(relativePath, cancellationToken).ConfigureAwait(false);
        await target.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        foreach (var key in keys)
        {
            await using var source = await area.OpenRangeAsync(key, 0, long.MaxValue, cancellationToken).ConfigureAwait(false);
            await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>A work area in a local or shared folder (NFS, EFS, Lustre): objects are files, published by rename.</summary>
public sealed class LocalWorkArea : IWorkArea
{
    private readonly string _root;

    /// <summary>Creates the work area (the folder is made on first write).</summary>
    public LocalWorkArea(string root) => _root = Path.GetFullPath(root);

    /// <inheritdoc />
    public string Location => _root;

    private string PathOf(string key) => Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            await using (var s = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                await s.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <inheritdoc />
    public Task PutFileAsync(string key, string localPath, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            File.Move(localPath, path, overwrite: true);
        }
        catch (IOException)
        {
            // Another file system (the temp folder is elsewhere): copy beside the target, then rename.
            var tmp = $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
            File.Copy(localPath, tmp);
            File.Move(tmp, path, overwrite: true);
            File.Delete(localPath);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task<string?> GetFileAsync(string key, string tempFolder, CancellationToken cancellationToken)
        => Task.FromResult(File.Exists(PathOf(key)) ? PathOf(key) : null);

    /// <inheritdoc />
    public Task<Stream> OpenRangeAsync(string key, long offset, long count, CancellationToken cancellationToken)
    {
        var s = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        s.Position = offset;
        return Task.FromResult<Stream>(count == long.MaxValue ? s : new RangeStream(s, Math.Min(count, s.Length - offset)));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_root)) return Task.FromResult<IReadOnlyList<string>>([]);
        var keys = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !k.Contains(".tmp-", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<string>>(keys);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string prefix, CancellationToken cancellationToken)
    {
        if (prefix.Length == 0)
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
            return Task.CompletedTask;
        }
        var path = PathOf(prefix.TrimEnd('/'));
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else if (File.Exists(path)) File.Delete(path);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public bool AdoptsInPlace(IOutputStore store) => store is LocalOutputStore;

    /// <summary>A local object adopted by a local store is renamed, not copied.</summary>
    public Task AdoptAsync(string key, IOutputStore store, string relativePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store is LocalOutputStore local && local.TryAdopt(PathOf(key), relativePath)) return Task.CompletedTask;
        return WorkAreas.CopyAsync(this, key, store, relativePath, cancellationToken);
    }

    /// <summary>A read-only view of part of a stream.</summary>
    private sealed class RangeStream(Stream inner, long length) : Data.ReadOnlyForwardStream
    {
        private long _left = length;

        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0) return 0;
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_left <= 0) return 0;
            int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken).ConfigureAwait(false);
            _left -= n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
