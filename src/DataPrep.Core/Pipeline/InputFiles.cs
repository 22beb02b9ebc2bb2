using DataPrep.Pipeline;

namespace DataPrep.Pipeline;

/// <summary>
/// Expands input globs and opens input files of one run, decompressing gzip transparently. Local paths are
/// read directly; URIs (<c>s3://…</c>) through the remote file systems registered on the run's
/// <see cref="Output.StoreRegistry"/>, with the run's own connection settings, so two runs in one process never
/// see each other's settings.
/// </summary>
public sealed class InputFiles
{
    private readonly IReadOnlyDictionary<string, Func<S3Options, IInputFileSystem>> _schemes;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IInputFileSystem> _opened;
    private readonly InputMeter? _meter;

    /// <summary>Local files only: a URI input is refused with a message that names the missing plug-in.</summary>
    public static InputFiles Local { get; } = new(new Dictionary<string, Func<S3Options, IInputFileSystem>>(), new S3Options());

    /// <summary>Creates the inputs of a run.</summary>
    /// <param name="schemes">Remote file systems by URI scheme (a snapshot: later registrations do not change it).</param>
    /// <param name="settings">The connection settings the remote file systems use.</param>
    public InputFiles(IReadOnlyDictionary<string, Func<S3Options, IInputFileSystem>> schemes, S3Options settings)
    {
        _schemes = new Dictionary<string, Func<S3Options, IInputFileSystem>>(schemes, StringComparer.OrdinalIgnoreCase);
        _opened = new(StringComparer.OrdinalIgnoreCase);
        Settings = settings;
    }

    private InputFiles(InputFiles other, InputMeter meter)
    {
        _schemes = other._schemes;
        _opened = other._opened;
        Settings = other.Settings;
        _meter = meter;
    }

    /// <summary>These inputs with every stream they open counted by <paramref name="meter"/> (progress by bytes).</summary>
    public InputFiles Metered(InputMeter meter) => new(this, meter);

    /// <summary>The connection settings remote inputs use.</summary>
    public S3Options Settings { get; }

    /// <summary>
    /// The remote file system for a URI input, or null for a local path. One per scheme for the life of these inputs
    /// (one run), so what it learned about an object (S3: its size and ETag from a listing or a HEAD) is asked once.
    /// </summary>
    /// <exception cref="PipelineValidationException">A URI whose scheme nothing has registered.</exception>
    public IInputFileSystem? FileSystemOf(string path)
    {
        int sep = path.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 1) return null;
        var scheme = path[..sep];
        if (_opened.TryGetValue(scheme, out var known)) return known;
        return _schemes.TryGetValue(scheme, out var factory)
            ? _opened.GetOrAdd(scheme, _ => factory(Settings))
            : throw new PipelineValidationException($"The input '{path}' uses '{scheme}://', which no loaded plug-in reads; expected a local file, folder or pattern{(scheme.Equals("s3", StringComparison.OrdinalIgnoreCase) ? ", or s3://bucket/key with DataPrep.S3 added to the registry (registry.AddS3())" : "")}.");
    }

    /// <summary>
    /// Expands each argument: a file stays as it is, a folder becomes its files (sorted), and a
    /// pattern with * or ? in its last segment becomes the matching files (sorted, ordinal).
    /// </summary>
    /// <exception cref="PipelineValidationException">An argument matches nothing.</exception>
    public IReadOnlyList<string> Expand(IEnumerable<string> inputs)
    {
        var result = new List<string>();
        var problems = new List<string>();
        foreach (var input in inputs)
        {
            if (input.Contains("://", StringComparison.Ordinal))
            {
                try { result.AddRange(FileSystemOf(input)!.Expand(input)); }
                catch (PipelineValidationException e) { problems.AddRange(e.Problems); }
                continue;
            }
            string name = Path.GetFileName(input);
            if (name.AsSpan().IndexOfAny('*', '?') >= 0)
            {
                string dir = Path.GetDirectoryName(input) is { Length: > 0 } d ? d : ".";
                var matches = Directory.Exists(dir)
                    ? Directory.EnumerateFiles(dir, name, SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal).ToList()
                    : [];
                if (matches.Count == 0) problems.Add($"The pattern '{input}' matches no file.");
                result.AddRange(matches);
            }
            else if (Directory.Exists(input))
            {
                var files = Directory.EnumerateFiles(input).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList();
                if (files.Count == 0) problems.Add($"The folder '{input}' holds no files.");
                result.AddRange(files);
            }
            else if (File.Exists(input))
            {
                result.Add(input);
            }
            else
            {
                problems.Add($"The input '{input}' does not exist (expected a file, a folder or a pattern such as data/*.csv).");
            }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        return result;
    }

    /// <summary>
    /// The fingerprints of the remote inputs among <paramref name="paths"/> (null for local paths and for those
    /// <paramref name="include"/> leaves out), asked 16 at a time: a HEAD each for S3, which one after another would take
    /// about 20 s of every task's start at 1,024 inputs. When some fail, the first failing input in order is reported,
    /// as a loop would have.
    /// </summary>
    public InputFingerprint?[] RemoteFingerprints(IReadOnlyList<string> paths, Func<int, bool>? include = null)
    {
        var result = new InputFingerprint?[paths.Count];
        var failed = new Exception?[paths.Count];
        var remote = Enumerable.Range(0, paths.Count).Where(i => IsUri(paths[i]) && (include?.Invoke(i) ?? true)).ToArray();
        Parallel.ForEach(remote, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            try { result[i] = FileSystemOf(paths[i])!.Fingerprint(paths[i]); }
            catch (Exception e) { failed[i] = e; }
        });
        if (failed.FirstOrDefault(e => e is not null) is { } first) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        return result;
    }

    /// <summary>Whether a file exists: a local file, or a remote object at exactly this key (a prefix is not one).</summary>
    /// <exception cref="PipelineValidationException">A URI whose scheme nothing has registered, or a location that cannot be read.</exception>
    public bool Exists(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FileSystemOf(path) is { } remote ? remote.Exists(path) : File.Exists(path);
    }

    /// <summary>Whether a path is a URI (<c>s3://…</c>) rather than a local path.</summary>
    public static bool IsUri(string path) => path.IndexOf("://", StringComparison.Ordinal) > 1;

    /// <summary>The last segment of a local path or URI (<c>run.json</c>); empty when it ends in a separator.</summary>
    public static string NameOf(string path) => path[(LastSeparator(path) + 1)..];

    /// <summary>The folder of a local path or URI, without a trailing separator (<c>s3://b/p/x.csv</c> → <c>s3://b/p</c>).</summary>
    public static string FolderOf(string path) => LastSeparator(path) is var i and >= 0 ? path[..i] : IsUri(path) ? path : ".";

    /// <summary>A file under a folder: <see cref="Path.Combine(string, string)"/> for local paths, '/'-joined for URIs.</summary>
    /// <param name="folder">A local folder or a URI prefix, with or without a trailing separator.</param>
    /// <param name="relative">A '/'-separated relative path.</param>
    public static string Combine(string folder, string relative)
        => IsUri(folder) ? folder.TrimEnd('/') + "/" + relative : Path.Combine(folder, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The last separator of a path: '/' in URIs, '/' or the platform's separator in local paths; −1 when there is none.</summary>
    private static int LastSeparator(string path)
    {
        int i = path.LastIndexOf('/');
        if (!IsUri(path) && Path.DirectorySeparatorChar != '/') i = Math.Max(i, path.LastIndexOf(Path.DirectorySeparatorChar));
        return IsUri(path) && i < path.IndexOf("://", StringComparison.Ordinal) + 3 ? -1 : i;
    }

    /// <summary>Whether the path names gzip-compressed content by its extension.</summary>
    public static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>The path without a trailing .gz, for choosing the format.</summary>
    public static string WithoutCompression(string path) => IsGzip(path) ? path[..^3] : path;

    /// <summary>Opens a file for sequential reading; .gz files (or gzip magic bytes) are decompressed, every member's trailer checked (see <see cref="GzipInputStream"/>).</summary>
    /// <exception cref="DataFormatException">The file cannot be opened.</exception>
    public Stream Open(string path)
    {
        if (path.Contains("://", StringComparison.Ordinal))
        {
            var remote = FileSystemOf(path)!.Open(path);
            if (_meter is not null) remote = _meter.Track(path, remote);
            try
            {
                return IsGzip(path) || StartsWithGzipMagic(remote) ? new GzipInputStream(remote, path) : remote;
            }
            catch
            {
                remote.Dispose();
                throw;
            }
        }
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Throw.Format($"cannot be opened: {e.Message}", path, inner: e);
        }
        Stream raw = _meter is null ? file : _meter.Track(path, file);
        if (IsGzip(path) || StartsWithGzipMagic(raw))
        {
            try
            {
                return new GzipInputStream(raw, path);
            }
            catch
            {
                raw.Dispose();
                throw;
            }
        }
        return raw;
    }

    private static bool StartsWithGzipMagic(Stream file)
    {
        Span<byte> head = stackalloc byte[2];
        int n = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && head[0] == 0x1F && head[1] == 0x8B;
    }
}
