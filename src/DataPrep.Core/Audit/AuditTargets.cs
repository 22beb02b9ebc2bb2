using System.Globalization;
using DataPrep.Sources;
using DataPrep.Pipeline;

namespace DataPrep.Audit;

/// <summary>A data file of anyone's dataset and the split it belongs to.</summary>
/// <param name="Split">The split name.</param>
/// <param name="Path">The file.</param>
internal sealed record FileTarget(string Split, string Path);

/// <summary>
/// Works out what the audit's paths are: one DataPrep output folder (it has <c>_dataprep/run.json</c>), or
/// anyone's split files, named by their file or folder name.
/// </summary>
internal static class AuditTargets
{
    /// <summary>The canonical splits in check order.</summary>
    public static readonly string[] Canonical = ["train", "validation", "test"];

    /// <summary>The split a name stands for: train/training, validation/valid/val/dev, test/testing; else null.</summary>
    public static string? SplitOf(string token) => token.ToLowerInvariant() switch
    {
        "train" or "training" => "train",
        "validation" or "valid" or "val" or "dev" => "validation",
        "test" or "testing" => "test",
        _ => null,
    };

    /// <summary>
    /// The split a file or folder name names: the whole name (without extensions) or exactly one of its
    /// parts separated by '-', '_', '.' or ' ' (<c>churn_train.csv</c>, <c>train-00000-of-00004.parquet</c>).
    /// </summary>
    public static string? SplitOfName(string name)
    {
        string stem = StemOf(name);
        if (SplitOf(stem) is { } whole) return whole;
        var found = stem.Split(['-', '_', '.', ' '], StringSplitOptions.RemoveEmptyEntries).Select(SplitOf).Where(x => x is not null).Distinct().ToList();
        return found.Count == 1 ? found[0] : null;
    }

    private static string StemOf(string name)
    {
        string s = InputFiles.WithoutCompression(name);
        string ext = Path.GetExtension(s);
        return ext.Length is > 1 and <= 9 ? s[..^ext.Length] : s;
    }

    /// <summary>
    /// Split names in time order, as the time check compares neighbours: train, validation, then the others
    /// (k-fold folds fold-0, fold-1, … by number; other names in the given order), and test last.
    /// </summary>
    public static IEnumerable<string> Order(IEnumerable<string> names)
    {
        var list = names.Distinct(StringComparer.Ordinal).ToList();
        static int Rank(string n) => n switch { "train" => 0, "validation" => 1, "test" => 3, _ => 2 };
        static long Fold(string n) => n.StartsWith("fold-", StringComparison.Ordinal) && long.TryParse(n.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out long k) ? k : long.MaxValue;
        return list.Select((n, i) => (n, i)).OrderBy(x => Rank(x.n)).ThenBy(x => Fold(x.n)).ThenBy(x => x.i).Select(x => x.n);
    }

    /// <summary>The run folder when the paths name one DataPrep output (its folder or its run.json), else null.</summary>
    /// <exception cref="PipelineValidationException">A run folder is given together with other paths.</exception>
    public static string? RunRoot(IReadOnlyList<string> paths)
    {
        string? RootOf(string p)
        {
            if (Directory.Exists(p) && File.Exists(Path.Combine(p, "_dataprep", "run.json"))) return p;
            if (File.Exists(p) && Path.GetFileName(p) == "run.json" && Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(p))) == "_dataprep")
            {
                return Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(p)));
            }
            return null;
        }
        var roots = paths.Select(RootOf).ToList();
        if (roots.All(r => r is null)) return null;
        if (paths.Count > 1)
        {
            string run = paths[roots.FindIndex(r => r is not null)];
            throw new PipelineValidationException($"'{run}' is a DataPrep output folder (it has _dataprep/run.json); audit it on its own: dataprep audit {run}");
        }
        return roots[0];
    }

    /// <summary>Anyone's split files, from files, patterns and folders.</summary>
    /// <exception cref="PipelineValidationException">A path does not exist, a folder holds no recognisable split files, or fewer than two splits were found.</exception>
    public static List<FileTarget> Files(IReadOnlyList<string> paths, SourceRegistry registry, SourceOptions options)
    {
        var targets = new List<FileTarget>();
        var problems = new List<string>();
        foreach (var path in paths)
        {
            if (path.Contains("://", StringComparison.Ordinal))
            {
                problems.Add($"'{path}': audit reads local files and folders; copy the objects locally first (e.g. aws s3 sync).");
                continue;
            }
            if (EnclosingRun(path) is { } run)
            {
                problems.Add($"'{path}' is inside the DataPrep output folder '{run}'; audit the folder itself (dataprep audit {run}): "
                    + "its shards are label-first without a header, and the run's lineage holds the row ids, groups and times.");
                continue;
            }
            if (Directory.Exists(path))
            {
                var found = FromFolder(path, registry, options);
                if (found.Count == 0)
                {
                    problems.Add($"The folder '{path}' has no _dataprep/run.json and no recognisable split files; expected a DataPrep output folder, "
                        + "train/ validation/ test/ subfolders, or files named like train.csv, validation.jsonl, test.parquet.");
                }
                targets.AddRange(found);
                continue;
            }
            IReadOnlyList<string> files;
            try { files = InputFiles.Local.Expand([path]); }
            catch (PipelineValidationException e) { problems.AddRange(e.Problems); continue; }
            foreach (var f in files)
            {
                if (!Readable(f, registry, options))
                {
                    problems.Add($"Cannot tell the format of '{f}' from its name; expected a .csv, .tsv, .jsonl, .parquet or .libsvm file (optionally .gz), or pass --input-format.");
                    continue;
                }
                targets.Add(new FileTarget(NameOfFile(f), f));
            }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        var splits = Order(targets.Select(t => t.Split)).ToList();
        if (splits.Count < 2)
        {
            string which = splits.Count == 0 ? "no split" : $"only one split ({splits[0]}: {string.Join(", ", targets.Select(t => t.Path))})";
            throw new PipelineValidationException(
                $"Found {which}; an audit compares two or more splits. Name files per split (train.csv test.csv), give a folder with train/ and test/ subfolders, or a DataPrep output folder.");
        }
        if (splits.Count > 64) throw new PipelineValidationException($"Found {splits.Count} splits; the audit compares at most 64 (files whose names name no split count as their own split).");
        return targets;
    }

    /// <summary>The DataPrep output folder a path lies in (up to three levels up), or null.</summary>
    private static string? EnclosingRun(string path)
    {
        string full = Path.GetFullPath(path);
        var dir = Directory.GetParent(Path.TrimEndingDirectorySeparator(full));
        for (int up = 0; dir is not null && up < 3; up++, dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "_dataprep", "run.json")))
            {
                return Path.GetRelativePath(Directory.GetCurrentDirectory(), dir.FullName);
            }
        }
        return null;
    }

    /// <summary>A file's split: its own name, else its folder's name, else the file name itself.</summary>
    private static string NameOfFile(string file)
        => SplitOfName(Path.GetFileName(file))
           ?? SplitOf(Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file))) ?? "")
           ?? Path.GetFileName(file);

    private static List<FileTarget> FromFolder(string folder, SourceRegistry registry, SourceOptions options)
    {
        var result = new List<FileTarget>();
        // train/ validation/ test/ subfolders (recursively: part files may sit in date folders).
        foreach (var dir in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            if (SplitOf(Path.GetFileName(dir)) is not { } split) continue;
            foreach (var f in DataFiles(dir, SearchOption.AllDirectories, registry, options)) result.Add(new FileTarget(split, f));
        }
        if (result.Count > 0) return result;
        // train.csv, test.parquet, … side by side.
        foreach (var f in DataFiles(folder, SearchOption.TopDirectoryOnly, registry, options))
        {
            if (SplitOfName(Path.GetFileName(f)) is { } split) result.Add(new FileTarget(split, f));
        }
        if (result.Count > 0) return result;
        // The folder itself names a split (dataprep audit data/train data/test).
        if (SplitOf(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)))) is { } own)
        {
            foreach (var f in DataFiles(folder, SearchOption.AllDirectories, registry, options)) result.Add(new FileTarget(own, f));
        }
        return result;
    }

    private static IEnumerable<string> DataFiles(string dir, SearchOption search, SourceRegistry registry, SourceOptions options)
        => Directory.EnumerateFiles(dir, "*", search)
            .Where(f => !Path.GetRelativePath(dir, f).Split(Path.DirectorySeparatorChar).Any(p => p.StartsWith('.') || p.StartsWith('_')))
            .Where(f => Readable(f, registry, options))
            .Order(StringComparer.Ordinal);

    private static bool Readable(string file, SourceRegistry registry, SourceOptions options)
    {
        try
        {
            registry.Create(file, options);
            return true;
        }
        catch (PipelineValidationException)
        {
            return false;
        }
    }
}
