using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Images;

/// <summary>One image of the input, before splitting.</summary>
/// <param name="Path">The absolute path of the image file.</param>
/// <param name="RelativePath">The path below the input root, with '/' separators (e.g. <c>cat/001.jpg</c>); output files keep it.</param>
/// <param name="Labels">The class ids (one, or several for multi-label rows).</param>
/// <param name="Group">The group key, when a group column was named.</param>
/// <param name="Line">The 1-based line of the input list (0 for class folders).</param>
public sealed record ImageEntry(string Path, string RelativePath, float[] Labels, string? Group, long Line);

/// <summary>A file or folder of an image folder that is not read as an image of a class.</summary>
/// <param name="Reason">Why (<see cref="ImageInputs.NotAnImage"/>, <see cref="ImageInputs.NestedFolder"/>, <see cref="ImageInputs.OutsideClasses"/>).</param>
/// <param name="Path">Relative to the image folder ('/' separators; folders end with '/').</param>
public sealed record SkippedInput(string Reason, string Path);

/// <summary>The images of a run with their labels and any extra list columns, as rows the split stage can tag.</summary>
public sealed class ImageInput
{
    /// <summary>What a class folder held besides images of one level of class folders, in the order found (report and run.json list them; --strict refuses them).</summary>
    public List<SkippedInput> Skipped { get; } = [];

    internal ImageInput(string description, IReadOnlyList<ImageEntry> entries, List<string>? classes, Schema schema, IReadOnlyList<Column> columns)
    {
        Description = description;
        Entries = entries;
        Classes = classes;
        Batch = new RecordBatch(schema, columns, entries.Count, RowInfo.Sequential(0, 0, entries.Count));
    }

    /// <summary>The folder or list file.</summary>
    public string Description { get; }

    /// <summary>The images in input order (row position = index).</summary>
    public IReadOnlyList<ImageEntry> Entries { get; }

    /// <summary>Class names by id, when labels were names (class folders, or text labels in a list); null for numeric labels.</summary>
    public List<string>? Classes { get; }

    /// <summary>One row per image: <c>path</c>, <c>label</c> (text such as <c>3</c> or <c>1;3</c>), the group and other list columns.</summary>
    public RecordBatch Batch { get; }

    /// <summary>Whether the input is a class folder (or an <c>s3://</c> prefix of class folders) rather than a list.</summary>
    public bool IsClassFolder { get; internal set; }

    /// <summary>The remote file system the images are read from (<c>s3://</c> inputs); null for local files.</summary>
    public IInputFileSystem? Remote { get; internal set; }

    /// <summary>Reads one image's bytes: a local file, or a remote object through <see cref="Remote"/>.</summary>
    public async Task<byte[]> ReadAsync(ImageEntry entry, CancellationToken cancellationToken)
    {
        if (Remote is null) return await File.ReadAllBytesAsync(entry.Path, cancellationToken).ConfigureAwait(false);
        await using var stream = Remote.Open(entry.Path);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Whether any image has more than one label.</summary>
    public bool MultiLabel => Entries.Any(e => e.Labels.Length != 1);
}

/// <summary>Reads image sources: a folder with one subfolder per class, or an input list (CSV or JSON Lines).</summary>
public static class ImageInputs
{
    /// <summary>File extensions taken from class folders (what ImageSharp 2 decodes).</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".tga", ".webp", ".pbm", ".pgm", ".ppm",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reason of a file in a class folder whose extension is not an image's.</summary>
    public const string NotAnImage = "files that are not images (by extension)";

    /// <summary>Reason of a folder inside a class folder: its images count for that class.</summary>
    public const string NestedFolder = "nested subfolders (their images count for the class folder above them)";

    /// <summary>Reason of a file beside the class folders, in no class.</summary>
    public const string OutsideClasses = "files outside the class folders";

    /// <summary>Reads the input named by <paramref name="options"/>: a class folder, or a .csv/.tsv/.jsonl list.</summary>
    /// <exception cref="PipelineValidationException">Not exactly one input, or the input is neither a folder nor a list.</exception>
    /// <exception cref="DataFormatException">A bad list line: missing path or label, a path outside the list's folder, a missing file; with <see cref="ImageOptions.Strict"/>, anything a class folder holds besides images.</exception>
    public static ImageInput Read(ConvertOptions options, InputFiles? files = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var input = ReadAny(options, files);
        if (options.Images.Strict && input.Skipped.Count > 0)
        {
            var first = input.Skipped[0];
            string more = input.Skipped.Count > 1 ? $" (and {input.Skipped.Count - 1} more)" : "";
            throw new DataFormatException(
                $"{first.Path}: one of the {first.Reason}{more}; --strict refuses an image folder holding anything but images in one level of class folders (without it they are skipped, counted and listed in the report and run.json).",
                options.Inputs[0]);
        }
        return input;
    }

    private static ImageInput ReadAny(ConvertOptions options, InputFiles? files)
    {
        if (options.Inputs.Count != 1) throw new PipelineValidationException($"The image formats read one input (a folder with one subfolder per class, or an input list .csv/.jsonl); got {options.Inputs.Count}.");
        var input = options.Inputs[0];
        if (input.Contains("://", StringComparison.Ordinal)) return ReadRemote(input, options, files ?? InputFiles.Local);
        if (Directory.Exists(input)) return ReadClassFolders(input, options.GroupColumn);
        if (!File.Exists(input)) throw new PipelineValidationException($"{input} does not exist; expected a folder with one subfolder per class, or an input list (.csv, .tsv, .jsonl).");
        var ext = System.IO.Path.GetExtension(input).ToLowerInvariant();
        if (!IsListExtension(ext))
        {
            throw new PipelineValidationException($"{input}: the image formats read a folder with one subfolder per class, or an input list (.csv, .tsv, .jsonl); found a {ext} file.");
        }
        return ReadList(input, options.Images.PathColumn, options.Label ?? options.Images.LabelColumn, options.GroupColumn, ext, options.SplitBy == SplitMethod.Time ? options.TimeColumn : null);
    }

    /// <summary>The ImageFolder / im2rec convention: class ids 0…K−1 in ordinal order of the subfolder names.</summary>
    public static ImageInput ReadClassFolders(string folder, string? groupColumn = null)
    {
        if (groupColumn is not null) throw new PipelineValidationException($"--group {groupColumn}: class folders have no group column; use an input list (.csv/.jsonl) with a group column.");
        var root = System.IO.Path.GetFullPath(folder);
        var classes = Directory.GetDirectories(root).Select(d => System.IO.Path.GetFileName(d)!)
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        if (classes.Count == 0) throw new PipelineValidationException($"{folder} has no subfolders; expected one subfolder per class (e.g. {folder}/cat/1.jpg, {folder}/dog/2.jpg) or an input list.");
        var entries = new List<ImageEntry>();
        var skipped = new List<SkippedInput>();
        static bool Hidden(string path) => System.IO.Path.GetFileName(path).StartsWith('.');
        string Rel(string path) => System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');
        foreach (var f in Directory.EnumerateFiles(root).Where(f => !Hidden(f)).Select(Rel).Order(StringComparer.Ordinal)) skipped.Add(new(OutsideClasses, f));
        for (int c = 0; c < classes.Count; c++)
        {
            var dir = System.IO.Path.Combine(root, classes[c]);
            foreach (var d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).Where(d => !Hidden(d)).Select(Rel).Order(StringComparer.Ordinal)) skipped.Add(new(NestedFolder, d + "/"));
            var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => !Hidden(f)).Select(Rel).Order(StringComparer.Ordinal);
            foreach (var rel in files)
            {
                if (Extensions.Contains(System.IO.Path.GetExtension(rel))) entries.Add(new ImageEntry(System.IO.Path.Combine(root, rel), rel, [c], null, 0));
                else skipped.Add(new(NotAnImage, rel));
            }
        }
        if (entries.Count == 0) throw new PipelineValidationException($"{folder}: the class folders hold no images ({string.Join(", ", Extensions)}).");
        var result = Build(folder, entries, classes, [], []);
        result.IsClassFolder = true;
        result.Skipped.AddRange(skipped);
        return result;
    }

    private static bool IsListExtension(string ext) => ext is ".csv" or ".tsv" or ".jsonl" or ".json" or ".ndjson";

    /// <summary>
    /// An <c>s3://</c> input: a list object (.csv/.tsv/.jsonl, paths relative to the list's prefix) or a prefix
    /// of class folders (<c>s3://bucket/raw/</c> with <c>raw/cat/1.png</c>, …), read through the registered
    /// <see cref="IInputFileSystem"/> so the same job gives the same output as on local files.
    /// </summary>
    private static ImageInput ReadRemote(string uri, ConvertOptions options, InputFiles inputs)
    {
        var fs = inputs.FileSystemOf(uri)!;
        string name = uri[(uri.LastIndexOf('/') + 1)..];
        var ext = System.IO.Path.GetExtension(name).ToLowerInvariant();
        ImageInput input;
        if (name.Length > 0 && IsListExtension(ext))
        {
            string root = uri[..(uri.LastIndexOf('/') + 1)];
            string text;
            using (var reader = new StreamReader(fs.Open(uri), Encoding.UTF8)) text = reader.ReadToEnd();
            // One listing of the list's prefix answers every "does this image exist" (no HEAD per image).
            var existing = fs.Expand(root).ToHashSet(StringComparer.Ordinal);
            input = ReadList(uri, text, root, existing, options.Images.PathColumn, options.Label ?? options.Images.LabelColumn, options.GroupColumn, ext,
                options.SplitBy == SplitMethod.Time ? options.TimeColumn : null);
        }
        else
        {
            if (options.GroupColumn is not null) throw new PipelineValidationException($"--group {options.GroupColumn}: class folders have no group column; use an input list (.csv/.jsonl) with a group column.");
            string prefix = uri.EndsWith('/') ? uri : uri + "/";
            var keys = fs.Expand(prefix);
            var classes = new SortedSet<string>(StringComparer.Ordinal);
            var files = new List<(string Class, string Rel, string Uri)>();
            var skipped = new List<SkippedInput>();
            var nested = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                string rel = key[prefix.Length..];
                int slash = rel.IndexOf('/', StringComparison.Ordinal);
                if (slash < 0 && !rel.StartsWith('.')) skipped.Add(new(OutsideClasses, rel));
                if (slash <= 0 || rel[..slash].StartsWith('.')) continue;
                classes.Add(rel[..slash]);
                int last = rel.LastIndexOf('/');
                string file = rel[(last + 1)..];
                if (file.StartsWith('.')) continue;
                // Every folder between the class folder and the file (a prefix has no folder objects, only keys).
                for (int s = rel.IndexOf('/', slash + 1); s > 0 && s <= last; s = rel.IndexOf('/', s + 1)) nested.Add(rel[..(s + 1)]);
                if (Extensions.Contains(System.IO.Path.GetExtension(file))) files.Add((rel[..slash], rel, key));
                else skipped.Add(new(NotAnImage, rel));
            }
            if (classes.Count == 0) throw new PipelineValidationException($"{uri} has no class folders; expected one folder per class (e.g. {prefix}cat/1.jpg, {prefix}dog/2.jpg) or an input list.");
            var ids = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
            var entries = files.OrderBy(f => ids[f.Class]).ThenBy(f => f.Rel, StringComparer.Ordinal)
                .Select(f => new ImageEntry(f.Uri, f.Rel, [ids[f.Class]], null, 0)).ToList();
            if (entries.Count == 0) throw new PipelineValidationException($"{uri}: the class folders hold no images ({string.Join(", ", Extensions)}).");
            input = Build(uri, entries, classes.ToList(), [], []);
            input.IsClassFolder = true;
            input.Skipped.AddRange(skipped.Where(x => x.Reason == OutsideClasses));
            input.Skipped.AddRange(nested.Select(n => new SkippedInput(NestedFolder, n)));
            input.Skipped.AddRange(skipped.Where(x => x.Reason != OutsideClasses));
        }
        input.Remote = fs;
        return input;
    }

    /// <summary>
    /// Resolves a list path against a remote list's prefix (<c>s3://bucket/lists/</c>) as a local list's path
    /// resolves against its folder: <c>.</c> and <c>..</c> segments are applied to the whole key, and a path that
    /// ends outside the prefix (or in another bucket, or at the prefix itself) gives null. Returns the path
    /// relative to the prefix.
    /// </summary>
    internal static string? ResolveRemote(string root, string path)
    {
        int scheme = root.IndexOf("://", StringComparison.Ordinal) + 3;
        var baseParts = root[scheme..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        string tail;
        if (path.Contains("://", StringComparison.Ordinal))
        {
            if (!path.StartsWith(root[..scheme], StringComparison.Ordinal)) return null;
            tail = path[scheme..];
            if (!tail.StartsWith(baseParts[0] + "/", StringComparison.Ordinal)) return null; // another bucket
            tail = tail[(baseParts[0].Length + 1)..];
        }
        else
        {
            if (path.StartsWith('/')) return null;
            tail = string.Join('/', baseParts.Skip(1)) + "/" + path;
        }
        var parts = new List<string>();
        foreach (var part in tail.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..")
            {
                if (parts.Count == 0) return null; // above the bucket
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        int depth = baseParts.Length - 1;
        if (parts.Count <= depth) return null;
        for (int i = 0; i < depth; i++)
        {
            if (!string.Equals(parts[i], baseParts[i + 1], StringComparison.Ordinal)) return null;
        }
        return string.Join('/', parts.Skip(depth));
    }

    /// <summary>An input list: a header row (CSV/TSV) or one JSON object per line, with a path and label(s) per image.</summary>
    /// <param name="listFile">The list (.csv, .tsv or .jsonl).</param>
    /// <param name="pathColumn">The column of image paths.</param>
    /// <param name="labelColumn">The column of labels.</param>
    /// <param name="groupColumn">The group key column, if any.</param>
    /// <param name="extension">The list format, when the file name does not tell.</param>
    /// <param name="timeColumn">A column parsed as ISO 8601 instants (UTC unless an offset is given), for time splits.</param>
    public static ImageInput ReadList(string listFile, string pathColumn = "path", string labelColumn = "label", string? groupColumn = null, string? extension = null, string? timeColumn = null)
        => ReadList(listFile, null, null, null, pathColumn, labelColumn, groupColumn, extension, timeColumn);

    /// <summary>A local list (<paramref name="listText"/> null) or a remote one: its text, its prefix and the objects under it.</summary>
    private static ImageInput ReadList(string listFile, string? listText, string? remoteRoot, HashSet<string>? existing, string pathColumn, string labelColumn, string? groupColumn, string? extension, string? timeColumn)
    {
        var root = remoteRoot ?? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(listFile))!;
        extension ??= System.IO.Path.GetExtension(listFile).ToLowerInvariant();
        TextReader Reader() => listText is null ? new StreamReader(listFile, Encoding.UTF8) : new StringReader(listText);
        var rows = extension is ".csv" or ".tsv" ? ReadDelimited(listFile, Reader, extension == ".tsv" ? '\t' : ',') : ReadJsonLines(listFile, Reader);
        if (rows.Count == 0) throw new DataFormatException("the input list holds no images; expected a header and one line per image", listFile);
        var raw = new List<(string Path, string Rel, string[] Labels, string? Group, long Line)>();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        var extras = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (line, fields) in rows)
        {
            foreach (var k in fields.Keys) extras.Add(k);
            if (!fields.TryGetValue(pathColumn, out var p) || string.IsNullOrWhiteSpace(p?.Text))
            {
                throw new DataFormatException($"no image path; expected a path (relative to {root}) in column '{pathColumn}' (found columns {string.Join(", ", fields.Keys)})", listFile, line, column: pathColumn);
            }
            var labels = fields.TryGetValue(labelColumn, out var l) && l is not null ? LabelTokens(l, listFile, line, labelColumn) : [];
            if (labels.Length == 0)
            {
                throw new DataFormatException($"no label; expected a class id or name (several separated by ';' or a JSON array for multi-label) in column '{labelColumn}' (found columns {string.Join(", ", fields.Keys)})", listFile, line, column: labelColumn);
            }
            string full, rel;
            if (remoteRoot is not null)
            {
                rel = ResolveRemote(remoteRoot, p.Text)
                    ?? throw new DataFormatException($"image path '{p.Text}' resolves outside the list's prefix {root}; expected a path inside it (paths are relative to the list object)", listFile, line, column: pathColumn);
                full = remoteRoot + rel;
                if (!existing!.Contains(full)) throw new DataFormatException($"image '{p.Text}' does not exist (looked for {full})", listFile, line, column: pathColumn);
            }
            else
            {
                full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, p.Text));
                rel = System.IO.Path.GetRelativePath(root, full);
                if (rel == ".." || rel.StartsWith(".." + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal) || System.IO.Path.IsPathRooted(rel))
                {
                    throw new DataFormatException($"image path '{p.Text}' resolves to {full}, outside the list's folder {root}; expected a path inside it (paths are relative to the list file)", listFile, line, column: pathColumn);
                }
                if (!File.Exists(full)) throw new DataFormatException($"image '{p.Text}' does not exist (looked for {full})", listFile, line, column: pathColumn);
                rel = rel.Replace('\\', '/');
            }
            if (seen.TryGetValue(rel, out long first)) throw new DataFormatException($"image '{p.Text}' is listed twice (first on line {first}); expected each image once", listFile, line, column: pathColumn);
            seen[rel] = line;
            string? group = null;
            if (groupColumn is not null)
            {
                if (!fields.TryGetValue(groupColumn, out var g) || string.IsNullOrEmpty(g?.Text)) throw new DataFormatException($"no group key in column '{groupColumn}'", listFile, line, column: groupColumn);
                group = g.Text;
            }
            raw.Add((full, rel, labels, group, line));
        }
        extras.Remove(pathColumn);
        extras.Remove(labelColumn);
        if (groupColumn is not null) extras.Remove(groupColumn);
        // Numeric labels are class ids as they are; any text label turns every label into a name mapped to 0…K−1.
        bool numeric = raw.All(r => r.Labels.All(t => float.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _)));
        List<string>? classes = numeric ? null : raw.SelectMany(r => r.Labels).Distinct().Order(StringComparer.Ordinal).ToList();
        var ids = classes?.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (float)x.i, StringComparer.Ordinal);
        var entries = raw.Select(r => new ImageEntry(r.Path, r.Rel,
            r.Labels.Select(t => ids is null ? float.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture) : ids[t]).ToArray(), r.Group, r.Line)).ToList();
        var extraColumns = extras.Select(name => (name, rows.Select(r => r.Fields.TryGetValue(name, out var v) ? v?.Text : null).ToArray())).ToList();
        var input = Build(listFile, entries, classes, extraColumns, groupColumn is null ? [] : [(groupColumn, raw.Select(r => r.Group).ToArray())]);
        if (timeColumn is null) return input;
        int t = input.Batch.Schema.IndexOf(timeColumn);
        if (t < 0) throw new PipelineValidationException($"--time {timeColumn}: the input list {listFile} has no such column; expected one of {string.Join(", ", input.Batch.Schema.Fields.Select(f => f.Name))}.");
        // Time splits order by instants: the column becomes a timestamp (text in lists is ISO 8601).
        var text = (StringColumn)input.Batch.Columns[t];
        var ticks = new long[entries.Count];
        var nulls = new bool[entries.Count];
        for (int i = 0; i < ticks.Length; i++)
        {
            var v = text.Values[i];
            if (v is null) { nulls[i] = true; continue; }
            if (!DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                throw new DataFormatException($"found '{v}', expected an ISO 8601 date or date-time (e.g. 2025-01-31 or 2025-01-31T12:00:00Z)", listFile, entries[i].Line, column: timeColumn);
            }
            ticks[i] = at.UtcTicks;
        }
        var timeFields = input.Batch.Schema.Fields.Select((f, i) => i == t ? f with { Kind = ColumnKind.Timestamp } : f).ToList();
        var columns = input.Batch.Columns.Select((c, i) => i == t ? new TimestampColumn(ticks, nulls, ticks.Length) : c).ToList();
        return new ImageInput(listFile, entries, classes, new Schema(timeFields), columns);
    }

    /// <summary>An input of given entries (tests, custom sources); the group column is named <c>group</c>.</summary>
    internal static ImageInput FromEntries(string description, List<ImageEntry> entries, List<string>? classes = null)
        => Build(description, entries, classes, [], entries.Any(e => e.Group is not null) ? [("group", entries.Select(e => e.Group).ToArray())] : []);

    private static ImageInput Build(string description, List<ImageEntry> entries, List<string>? classes, List<(string Name, string?[] Values)> extras, List<(string Name, string?[] Values)> group)
    {
        var fields = new List<Field> { new("path", ColumnKind.String), new("label", ColumnKind.String) };
        var columns = new List<Column>
        {
            new StringColumn(entries.Select(e => (string?)e.RelativePath).ToArray()),
            new StringColumn(entries.Select(e => (string?)LabelText(e.Labels)).ToArray()),
        };
        foreach (var (name, values) in group.Concat(extras))
        {
            if (name is "path" or "label") continue;
            fields.Add(new Field(name, ColumnKind.String));
            columns.Add(new StringColumn(values));
        }
        return new ImageInput(description, entries, classes, new Schema(fields), columns);
    }

    /// <summary>Labels as text: <c>3</c>, or <c>1;3</c> for several.</summary>
    public static string LabelText(float[] labels) => string.Join(";", labels.Select(l => l.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>A list field: its text, and the items when it is a JSON array in a JSON Lines list.</summary>
    private sealed record Value(string Text, string[]? Items = null);

    /// <summary>
    /// The labels of a field: the items of a JSON array (a JSON Lines array, or text such as <c>[1,3]</c> or
    /// <c>["cat","dog"]</c>), else the text split at ';' (<c>1;3</c>).
    /// </summary>
    /// <exception cref="DataFormatException">Text in brackets that is not a JSON array.</exception>
    private static string[] LabelTokens(Value value, string file, long line, string column)
    {
        if (value.Items is not null) return value.Items;
        var t = value.Text.Trim();
        if (!(t.StartsWith('[') && t.EndsWith(']'))) return t.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        try
        {
            using var doc = JsonDocument.Parse(t);
            return Items(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw Throw.Format($"found {Throw.Quote(t)}, which is not a JSON array ({e.Message}); expected a JSON array of labels such as [1,3] or [\"cat\",\"dog\"], or labels separated by ';'", file, line, column: column, inner: e);
        }
    }

    /// <summary>The items of a JSON array as label text: strings as their value, anything else as its JSON.</summary>
    private static string[] Items(JsonElement array)
        => array.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToArray();

    private static List<(long Line, Dictionary<string, Value?> Fields)> ReadDelimited(string file, Func<TextReader> open, char separator)
    {
        // Quoted fields may hold separators and line breaks (RFC 4180); malformed quoting is read leniently as text.
        var options = CsvReaderOptions.Default with
        {
            Separator = separator,
            HasHeader = true,
            DetectSeparatorHint = false,
            SkipEmptyLines = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            TrackLineNumbers = true,
        };
        var result = new List<(long, Dictionary<string, Value?>)>();
        using var reader = CsvReader.Create(open(), options, leaveOpen: false);
        string[]? header = null;
        while (Read(reader, file))
        {
            header ??= reader.Headers.Select(h => h.Trim()).ToArray();
            if (reader.FieldCount != header.Length)
            {
                throw Throw.Format($"found {reader.FieldCount} fields; expected {header.Length} as in the header ({string.Join(", ", header)})", file, reader.LineNumber);
            }
            var fields = new Dictionary<string, Value?>(StringComparer.Ordinal);
            for (int i = 0; i < header.Length; i++) fields[header[i]] = reader.IsEmpty(i) ? null : new Value(reader.GetString(i));
            result.Add((reader.LineNumber, fields));
        }
        return result;
    }

    private static bool Read(CsvReader reader, string file)
    {
        try
        {
            return reader.Read();
        }
        catch (CsvFormatException e)
        {
            throw Throw.Format($"malformed CSV ({e.Message.TrimEnd('.')}); expected a header row and one line per image", file, e.LineNumber, inner: e);
        }
    }

    private static List<(long Line, Dictionary<string, Value?> Fields)> ReadJsonLines(string file, Func<TextReader> open)
    {
        var result = new List<(long, Dictionary<string, Value?>)>();
        long line = 0;
        using var reader = open();
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(text); }
            catch (JsonException e) { throw new DataFormatException($"not valid JSON ({e.Message}); expected one object per line such as {{\"path\": \"cat/1.jpg\", \"label\": 0}}", file, line); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new DataFormatException($"found a JSON {doc.RootElement.ValueKind}; expected one object per line such as {{\"path\": \"cat/1.jpg\", \"label\": 0}}", file, line);
                var fields = new Dictionary<string, Value?>(StringComparer.Ordinal);
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    fields[p.Name] = p.Value.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.String => new Value(p.Value.GetString()!),
                        JsonValueKind.Array => new Value(p.Value.GetRawText(), Items(p.Value)),
                        _ => new Value(p.Value.GetRawText(), [p.Value.GetRawText()]),
                    };
                }
                result.Add((line, fields));
            }
        }
        return result;
    }
}
