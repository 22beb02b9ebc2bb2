namespace DataPrep.Output;

/// <summary>
/// A local folder. Files are written under <c>.dataprep-staging-…/</c> inside the folder (same file
/// system, so publishing is a rename) and moved into place only at commit.
/// </summary>
public sealed class LocalOutputStore : IOutputStore
{
    private readonly string _root;
    private string? _staging;
    private bool _createdRoot;
    private bool _committed;

    /// <summary>Creates the store for a folder (created if needed).</summary>
    public LocalOutputStore(string root) => _root = Path.GetFullPath(root);

    /// <inheritdoc />
    public string Location => _root;

    /// <inheritdoc />
    public string UriOf(string relativePath) => new Uri(Path.Combine(_root, relativePath.Replace('/', Path.DirectorySeparatorChar))).AbsoluteUri;

    private static bool IsManaged(string name) => RunLayout.IsRunOwned(name);

    /// <summary>Whether an entry of the output folder is <c>_dataprep</c> holding nothing but a scaled-out run's work area.</summary>
    private static bool IsOnlyWorkArea(string entry)
        => Path.GetFileName(entry) == RunLayout.MetaFolder && Directory.Exists(entry)
           && Directory.EnumerateFileSystemEntries(entry).All(e => Path.GetFileName(e) == RunLayout.WorkFolder);

    /// <summary>The run record path of a folder.</summary>
    public static string RunRecordOf(string root) => Path.Combine(root, RunLayout.RunRecordPath.Replace('/', Path.DirectorySeparatorChar));

    /// <inheritdoc />
    public ValueTask PrepareAsync(bool overwrite, CancellationToken cancellationToken)
    {
        if (File.Exists(_root)) throw Throw.Output($"--out {_root} is a file; expected a folder (new, empty, or holding an earlier run to replace with --overwrite).");
        if (Directory.Exists(_root))
        {
            var entries = Directory.EnumerateFileSystemEntries(_root)
                .Where(e => !Path.GetFileName(e).StartsWith(".dataprep-staging-", StringComparison.Ordinal) && !IsOnlyWorkArea(e)).ToList();
            if (!overwrite && entries.Count > 0)
            {
                throw File.Exists(RunRecordOf(_root))
                    ? Throw.Output($"The output folder {_root} already holds a DataPrep run ({RunRecordOf(_root)}). Pass --overwrite to replace it, or choose another --out.")
                    : Throw.Output($"The output folder {_root} is not empty (it holds {Path.GetFileName(entries[0])}{(entries.Count > 1 ? $" and {entries.Count - 1} more" : "")}). DataPrep writes into a new or empty folder, or replaces an earlier run with --overwrite.");
            }
            if (overwrite && entries.Count > 0 && !File.Exists(RunRecordOf(_root)))
            {
                var foreign = entries.Where(e => !IsManaged(Path.GetFileName(e))).ToList();
                if (foreign.Count > 0)
                {
                    throw Throw.Output($"--overwrite replaces an earlier DataPrep run, but {_root} holds no run record and has other files ({Path.GetFileName(foreign[0])}{(foreign.Count > 1 ? $" and {foreign.Count - 1} more" : "")}); refusing to mix outputs. Choose an empty folder.");
                }
            }
        }
        else
        {
            Directory.CreateDirectory(_root);
            _createdRoot = true;
        }
        _staging = Path.Combine(_root, $".dataprep-staging-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_staging);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<Stream> CreateAsync(string relativePath, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_staging ?? throw new InvalidOperationException("PrepareAsync first."), relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Stream s = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        return ValueTask.FromResult(s);
    }

    /// <summary>
    /// Moves a finished file of the same file system into the staging folder at <paramref name="relativePath"/>
    /// (a scaled-out run's shards, from its work area); false when a rename is not possible (other device).
    /// </summary>
    internal bool TryAdopt(string file, string relativePath)
    {
        var path = Path.Combine(_staging ?? throw new InvalidOperationException("PrepareAsync first."), relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            File.Move(file, path);
            return true;
        }
        catch (IOException) when (File.Exists(file) && !File.Exists(path))
        {
            return false;
        }
    }

    /// <inheritdoc />
    public ValueTask CommitAsync(string runRecordPath, ReadOnlyMemory<byte> runRecord, CancellationToken cancellationToken)
    {
        var staging = _staging ?? throw new InvalidOperationException("PrepareAsync first.");
        // The old run record goes first, so a crash part-way leaves no record describing mixed data.
        var oldRecord = RunRecordOf(_root);
        if (File.Exists(oldRecord)) File.Delete(oldRecord);
        foreach (var dir in Directory.EnumerateDirectories(_root).Where(d => IsManaged(Path.GetFileName(d))).ToList())
        {
            if (Path.GetFileName(dir) == RunLayout.MetaFolder && Directory.Exists(Path.Combine(dir, RunLayout.WorkFolder)))
            {
                // A scaled-out run's work area (OUT/_dataprep/work) stays until that run removes it after its commit.
                foreach (var e in Directory.EnumerateFileSystemEntries(dir).Where(e => Path.GetFileName(e) != RunLayout.WorkFolder).ToList())
                {
                    if (Directory.Exists(e)) Directory.Delete(e, recursive: true);
                    else File.Delete(e);
                }
                continue;
            }
            Directory.Delete(dir, recursive: true);
        }
        foreach (var dir in Directory.EnumerateDirectories(staging))
        {
            var target = Path.Combine(_root, Path.GetFileName(dir));
            if (!Directory.Exists(target))
            {
                Directory.Move(dir, target);
                continue;
            }
            foreach (var e in Directory.EnumerateFileSystemEntries(dir))
            {
                if (Directory.Exists(e)) Directory.Move(e, Path.Combine(target, Path.GetFileName(e)));
                else File.Move(e, Path.Combine(target, Path.GetFileName(e)));
            }
        }
        var record = Path.Combine(_root, runRecordPath);
        Directory.CreateDirectory(Path.GetDirectoryName(record)!);
        var tmp = record + ".tmp";
        File.WriteAllBytes(tmp, runRecord.ToArray());
        File.Move(tmp, record, overwrite: true);
        Directory.Delete(staging, recursive: true);
        _committed = true;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask AbortAsync()
    {
        if (_committed) return ValueTask.CompletedTask;
        try
        {
            if (_staging is not null && Directory.Exists(_staging)) Directory.Delete(_staging, recursive: true);
            if (_createdRoot && Directory.Exists(_root) && !Directory.EnumerateFileSystemEntries(_root).Any()) Directory.Delete(_root);
        }
        catch (IOException)
        {
            // Best effort: the error that caused the abort matters more than a leftover staging folder.
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();
}
