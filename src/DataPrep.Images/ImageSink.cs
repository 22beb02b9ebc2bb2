using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>The three image outputs.</summary>
public enum ImageOutputKind
{
    /// <summary><c>images</c>: image files plus im2rec <c>.lst</c> files.</summary>
    Files,
    /// <summary><c>recordio-image</c>: MXNet image RecordIO plus <c>.idx</c>.</summary>
    RecordIO,
    /// <summary><c>augmented-manifest</c>: image files plus a JSON Lines augmented manifest.</summary>
    AugmentedManifest,
}

/// <summary>
/// Writes image rows (from <see cref="ImageTransformStage"/>, in output order) as one of the image formats (DESIGN §4),
/// per channel: each split, or with k-fold each fold (<c>fold-k</c>) and the held-out test split:
/// <list type="bullet">
/// <item><c>images</c>: <c>OUT/&lt;channel&gt;/&lt;relative path&gt;</c> plus <c>OUT/&lt;channel&gt;_lst/&lt;channel&gt;.lst</c>;</item>
/// <item><c>recordio-image</c>: <c>OUT/&lt;channel&gt;/&lt;channel&gt;.rec</c> plus <c>OUT/_dataprep/&lt;channel&gt;.idx</c>;</item>
/// <item><c>augmented-manifest</c>: images under <c>OUT/images/&lt;channel&gt;/</c> (outside every channel prefix) plus
/// <c>OUT/&lt;channel&gt;/&lt;channel&gt;.jsonl</c> whose <c>source-ref</c>s are the images' final URIs.</item>
/// </list>
/// With k-fold, a fold's augmented copies go to their own files (<c>fold-k/fold-k.augmented.rec</c>,
/// <c>fold-k_lst/fold-k.augmented.lst</c>, <c>fold-k/fold-k.augmented.jsonl</c>, or the copies' image files), marked
/// <see cref="ShardRecord.Augmented"/>: they belong to the other folds' training sets, never to the fold's validation set.
/// With k-fold, the lists (<c>images</c>) and augmented manifests (<c>augmented-manifest</c>) of each fold's training set
/// are written too (see <see cref="WriteFoldListsAsync"/>).
/// Indexes (the <c>.lst</c> index, the record id and <c>.idx</c> key) count the images in output order, so they are
/// unique across all channels. A lineage sidecar per channel (<c>_dataprep/lineage/&lt;channel&gt;.csv</c>) records each
/// image's row id, source, source row, record, content hash, group, source path, operation, the source's row id and
/// the output. Everything is staged in the store and published by <see cref="RunLayout.CommitAsync"/>, run record last.
/// </summary>
public sealed class ImageSink : IRecordSink
{
    private readonly ImageOutputKind _kind;
    private readonly IOutputStore _store;
    private readonly RunLayout _layout;
    private readonly ConvertOptions _options;
    private readonly ImageClasses _classes;
    private readonly ImageTransformStage? _transform;
    private readonly Dictionary<string, ChannelState> _channels = new(StringComparer.Ordinal);
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);
    private RunContext? _context;
    private int _path = -1, _label = -1, _group = -1, _image = -1, _extension = -1;
    private long _index;

    /// <summary>
    /// k-fold: each fold's list lines (<c>images</c>, with paths below the output root such as <c>fold-1/cat/1.png</c>)
    /// or augmented manifest lines, in output order, for the lists and manifests of the folds' training sets.
    /// </summary>
    private readonly SortedDictionary<short, List<(string Line, bool Augmented)>> _foldLines = [];

    private List<(string Line, bool Augmented)> FoldLines(short fold)
    {
        if (!_foldLines.TryGetValue(fold, out var lines)) _foldLines[fold] = lines = [];
        return lines;
    }

    /// <summary>Creates the sink of one run; the class map comes from the run's <see cref="ImageClassStage"/>.</summary>
    /// <exception cref="InvalidOperationException">The stages have no <see cref="ImageClassStage"/>.</exception>
    public ImageSink(ImageOutputKind kind, FormatSinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _kind = kind;
        _store = context.Store;
        _layout = context.Layout;
        _options = context.Options;
        _classes = context.Stages.OfType<ImageClassStage>().SingleOrDefault()?.Classes
            ?? throw new InvalidOperationException($"The image sink needs an {nameof(ImageClassStage)} among the run's stages.");
        _transform = context.Stages.OfType<ImageTransformStage>().SingleOrDefault();
    }

    private sealed class ChannelState(string name)
    {
        public string Name { get; } = name;
        public SplitReport Report { get; } = new();
        public Dictionary<string, long> Labels { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, long> Augmented { get; } = new(StringComparer.Ordinal);
        public CsvWriter? Lineage { get; set; }
        public Stream? LineageStream { get; set; }
        public long Record { get; set; }

        /// <summary>The files of the channel's input rows, and with k-fold those of its augmented copies.</summary>
        public Part[] Parts { get; } = new Part[2];
    }

    /// <summary>A channel's data file(s) and list or index: all its rows, or (k-fold) only its input rows or only their copies.</summary>
    private sealed class Part(string suffix, bool augmented)
    {
        /// <summary>"" for the rows of a split or a fold's input rows, ".augmented" for a fold's augmented copies.</summary>
        public string Suffix { get; } = suffix;
        public bool IsAugmented { get; } = augmented;
        public StringBuilder Text { get; } = new(); // .lst lines, .idx lines or manifest lines
        public Sha256WriteStream? TextStream { get; set; }
        public Sha256WriteStream? Rec { get; set; }
        public long Rows { get; set; }
    }

    /// <inheritdoc />
    public ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(context);
        _path = schema.IndexOf(ImageColumns.Path);
        _label = schema.IndexOf(ImageColumns.Label);
        _image = schema.IndexOf(ImageColumns.Encoded);
        _extension = schema.IndexOf(ImageColumns.EncodedExtension);
        if (_path < 0 || _label < 0 || _image < 0 || _extension < 0)
        {
            throw new PipelineValidationException($"The image outputs write rows with the columns {ImageColumns.Path}, {ImageColumns.Label}, {ImageColumns.Encoded} and {ImageColumns.EncodedExtension} (from the image stages); got {schema}.");
        }
        _group = _options.GroupColumn is { } g ? schema.IndexOf(g) : -1;
        _context = context;
        context.Report.Output = _store.Location;
        context.Report.ContentType = _kind switch
        {
            ImageOutputKind.Files => "application/x-image",
            ImageOutputKind.AugmentedManifest when _classes.MultiLabel => "application/x-recordio; label-format=class-id",
            _ => "application/x-recordio",
        };
        return ValueTask.CompletedTask;
    }

    private async ValueTask<ChannelState> ChannelAsync(string name, CancellationToken ct)
    {
        if (_channels.TryGetValue(name, out var s)) return s;
        s = new ChannelState(name);
        _channels[name] = s;
        if (_options.Lineage)
        {
            s.LineageStream = await _store.CreateAsync(RunLayout.LineagePath(s.Name), ct).ConfigureAwait(false);
            s.Lineage = CsvWriter.Create(s.LineageStream, s_csv, leaveOpen: true);
            string[] header = ["row_id", "source", "source_row", "shard", "record", "content_hash", .. (_group >= 0 ? (string[])["group"] : []), "image", "operation", "source_row_id", "output"];
            s.Lineage.WriteRecord(header);
            s.Report.Lineage = RunLayout.LineagePath(s.Name);
        }
        return s;
    }

    /// <summary>
    /// The part a row goes to: every row of a split goes to its one part; with k-fold, a fold's augmented copies go to
    /// their own files, so that the fold's validation set (<see cref="RunLayout"/>'s fold ManifestFiles) leaves them out.
    /// </summary>
    private async ValueTask<Part> PartAsync(ChannelState s, bool foldCopy, CancellationToken ct)
    {
        int i = foldCopy ? 1 : 0;
        if (s.Parts[i] is { } part) return part;
        part = s.Parts[i] = new Part(foldCopy ? AugmentedSuffix : "", foldCopy);
        switch (_kind)
        {
            case ImageOutputKind.Files:
                part.TextStream = new Sha256WriteStream(await _store.CreateAsync(ListPath(s.Name, part.Suffix), ct).ConfigureAwait(false));
                break;
            case ImageOutputKind.RecordIO:
                part.Rec = new Sha256WriteStream(await _store.CreateAsync(RecPath(s.Name, part.Suffix), ct).ConfigureAwait(false));
                part.TextStream = new Sha256WriteStream(await _store.CreateAsync(IdxPath(s.Name, part.Suffix), ct).ConfigureAwait(false));
                break;
            default:
                part.TextStream = new Sha256WriteStream(await _store.CreateAsync(ManifestPath(s.Name, part.Suffix), ct).ConfigureAwait(false));
                break;
        }
        return part;
    }

    /// <summary>The name suffix of a fold's files of augmented copies (<c>fold-0/fold-0.augmented.rec</c>).</summary>
    public const string AugmentedSuffix = ".augmented";

    /// <summary>The im2rec list of a channel: its own channel, <c>&lt;channel&gt;_lst</c>, as SageMaker's image format wants.</summary>
    public static string ListPath(string channel, string suffix = "") => $"{channel}_lst/{channel}{suffix}.lst";

    /// <summary>The image RecordIO file of a channel.</summary>
    public static string RecPath(string channel, string suffix = "") => $"{channel}/{channel}{suffix}.rec";

    /// <summary>The <c>.idx</c> of a channel's image RecordIO file (outside the channel, which holds data only).</summary>
    public static string IdxPath(string channel, string suffix = "") => $"{RunLayout.MetaFolder}/{channel}{suffix}.idx";

    /// <summary>The augmented manifest of a channel.</summary>
    public static string ManifestPath(string channel, string suffix = "") => $"{channel}/{channel}{suffix}.jsonl";

    /// <inheritdoc />
    public async ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_context is null) throw new InvalidOperationException("OpenAsync first.");
        var rows = batch.Rows;
        var paths = (StringColumn)batch.Columns[_path];
        var labelText = (StringColumn)batch.Columns[_label];
        var images = (BinaryColumn)batch.Columns[_image];
        var extensions = (StringColumn)batch.Columns[_extension];
        var groups = _group >= 0 ? batch.Columns[_group] : null;
        ChannelState? s = null;
        for (int r = 0; r < batch.RowCount; r++)
        {
            string channel = RunLayout.ChannelName(rows.Splits?[r] ?? SplitTag.None, rows.Folds?[r] ?? (short)-1);
            if (s?.Name != channel)
            {
                if (s is not null) await FlushAsync(s, 1 << 20, cancellationToken).ConfigureAwait(false);
                s = await ChannelAsync(channel, cancellationToken).ConfigureAwait(false);
            }
            var bytes = images.Values[r];
            string source = paths.Values[r]!;
            string op = rows.Operations?[r] ?? ImageAugmentStage.Original;
            bool copy = op != ImageAugmentStage.Original;
            short fold = rows.Folds?[r] ?? -1;
            var part = await PartAsync(s, copy && fold >= 0, cancellationToken).ConfigureAwait(false);
            long rowId = rows.RowIds[r];
            long sourceRowId = rows.AugmentedFrom?[r] ?? rowId;
            float[] labels = ImageClassStage.ParseLabels(labelText.Values[r]!);
            long index = _index++;
            string rel = OutputName(source, extensions.Values[r]!, copy ? op : null);
            string output;
            // The lineage's shard and record: the file (0, or 1 for a fold's copies) and the row's position in it.
            int shard = part.IsAugmented ? 1 : 0;
            long record = part.Rows;
            switch (_kind)
            {
                case ImageOutputKind.Files:
                    output = $"{s.Name}/{rel}";
                    await WriteFileAsync(output, bytes, s, part.IsAugmented, cancellationToken).ConfigureAwait(false);
                    part.Text.Append(index).Append('\t');
                    foreach (var l in labels) part.Text.Append(Number(l)).Append('\t');
                    part.Text.Append(rel).Append('\n');
                    if (fold >= 0) FoldLines(fold).Add(($"{index}\t{string.Join("", labels.Select(l => Number(l) + "\t"))}{output}\n", part.IsAugmented));
                    // Each image file is a shard; the list's line is the lineage's record, as before.
                    shard = 0;
                    record = s.Record;
                    break;
                case ImageOutputKind.RecordIO:
                    output = RecPath(s.Name, part.Suffix);
                    var framed = new ArrayBufferWriter<byte>(bytes.Length + 64);
                    ImageRecord.Frame(ImageRecord.Pack(labels, _classes.MultiLabel, (ulong)index, bytes.Span), framed);
                    part.Text.Append(index).Append('\t').Append(part.Rec!.Length).Append('\n');
                    await part.Rec.WriteAsync(framed.WrittenMemory, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    output = $"images/{s.Name}/{rel}";
                    await WriteFileAsync(output, bytes, null, false, cancellationToken).ConfigureAwait(false);
                    // As SageMaker's example: {"source-ref": "s3://…", "class": "0"}; multi-label in the class-id format [0, 2].
                    string line = ManifestLine(_store.UriOf(output), labels) + "\n";
                    part.Text.Append(line);
                    if (fold >= 0) FoldLines(fold).Add((line, part.IsAugmented));
                    break;
            }
            part.Rows++;
            string? group = groups is null || groups.IsNull(r) ? null : ((StringColumn)groups).Values[r];
            if (s.Lineage is { } lin)
            {
                lin.WriteField(rowId);
                lin.WriteField(rows.Sources[r]);
                lin.WriteField(rows.SourceRows[r]);
                lin.WriteField(shard);
                lin.WriteField(record);
                lin.WriteField(XxHash3.HashToUInt64(bytes.Span).ToString("x16", CultureInfo.InvariantCulture));
                if (_group >= 0) lin.WriteField(group);
                lin.WriteField(source);
                lin.WriteField(op);
                lin.WriteField(sourceRowId);
                lin.WriteField(output);
                await lin.EndRecordAsync(cancellationToken).ConfigureAwait(false);
            }
            s.Record++;
            s.Report.Rows++;
            foreach (var l in labels) s.Labels[Number(l)] = s.Labels.GetValueOrDefault(Number(l)) + 1;
            if (group is not null) s.Groups.Add(group);
            if (copy) s.Augmented[op] = s.Augmented.GetValueOrDefault(op) + 1;
        }
        if (s is not null) await FlushAsync(s, 1 << 20, cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteFileAsync(string path, ReadOnlyMemory<byte> bytes, ChannelState? shardOf, bool augmented, CancellationToken ct)
    {
        if (!_paths.Add(path)) throw new DataFormatException($"two images would both be written to {path}; expected distinct file names (e.g. a.bmp and a.png both become a.png)", path);
        await using (var f = await _store.CreateAsync(path, ct).ConfigureAwait(false))
        {
            await f.WriteAsync(bytes, ct).ConfigureAwait(false);
        }
        shardOf?.Report.Shards.Add(new ShardRecord(path, 1, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes.Span))) { Augmented = augmented ? true : null });
    }

    private static async Task FlushAsync(ChannelState s, int threshold, CancellationToken ct)
    {
        foreach (var part in s.Parts)
        {
            if (part?.TextStream is not null && part.Text.Length >= threshold)
            {
                await part.TextStream.WriteAsync(Encoding.UTF8.GetBytes(part.Text.ToString()), ct).ConfigureAwait(false);
                part.Text.Clear();
            }
        }
    }

    /// <summary>The output name: the input's relative path with the output extension, plus <c>.rotate90</c> for copies.</summary>
    internal static string OutputName(string relative, string extension, string? operation)
    {
        int slash = relative.LastIndexOf('/');
        string dir = slash < 0 ? "" : relative[..(slash + 1)];
        string file = relative[(slash + 1)..];
        string stem = Path.GetFileNameWithoutExtension(file);
        string ext = Path.GetExtension(file);
        // Keep .jpeg/.JPG spellings when the format is unchanged.
        bool same = ext.Equals(extension, StringComparison.OrdinalIgnoreCase) || (extension == ".jpg" && ext.Equals(".jpeg", StringComparison.OrdinalIgnoreCase));
        return dir + stem + (operation is null ? "" : "." + operation) + (same ? ext : extension);
    }

    private static string Number(float v) => v == MathF.Floor(v) && Math.Abs(v) < 1e9 ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The lineage sidecar and the quarantine list: RFC 4180, LF line endings, invariant numbers.</summary>
    private static readonly CsvWriterOptions s_csv = CsvWriterOptions.Default with { NewLine = "\n" };

    /// <summary>
    /// An augmented-manifest line as SageMaker's example has it: <c>{"source-ref": "s3://…", "class": "0"}</c>, the label as
    /// text; multi-label in the class-id format <c>[0, 2]</c> (numbers; JSON has no NaN or infinity, so those are text).
    /// </summary>
    private string ManifestLine(string sourceRef, float[] labels)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("source-ref", sourceRef);
            w.WritePropertyName(_options.Images.LabelAttribute);
            if (_classes.MultiLabel)
            {
                w.WriteStartArray();
                foreach (var l in labels)
                {
                    if (!float.IsFinite(l)) w.WriteStringValue(Number(l));
                    else if (l == MathF.Floor(l) && Math.Abs(l) < 1e9) w.WriteNumberValue((long)l);
                    else w.WriteNumberValue(l);
                }
                w.WriteEndArray();
            }
            else
            {
                w.WriteStringValue(Number(labels[0]));
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Finishes every file, fills the report and commits through the run layout (run record last).</summary>
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        foreach (var s in _channels.Values) await FlushAsync(s, 0, cancellationToken).ConfigureAwait(false);
        var report = context.Report;
        // Fractions count original images: augmented copies follow their source's split and would skew them.
        long total = _channels.Values.Sum(s => s.Report.Rows - s.Augmented.Values.Sum());
        foreach (var s in _channels.Values.OrderBy(s => s.Name, RunLayout.ChannelOrder))
        {
            var r = s.Report;
            if (s.Lineage is not null) await s.Lineage.DisposeAsync().ConfigureAwait(false);
            if (s.LineageStream is not null) await s.LineageStream.DisposeAsync().ConfigureAwait(false);
            var lists = new List<ShardRecord>();
            foreach (var part in s.Parts)
            {
                if (part is null) continue;
                var text = part.TextStream!;
                var textRecord = new ShardRecord("", part.Rows, text.Length, text.HashHex()) { Augmented = part.IsAugmented ? true : null };
                await text.DisposeAsync().ConfigureAwait(false);
                switch (_kind)
                {
                    case ImageOutputKind.Files:
                        lists.Add(textRecord with { Path = ListPath(s.Name, part.Suffix) });
                        break;
                    case ImageOutputKind.RecordIO:
                        await part.Rec!.DisposeAsync().ConfigureAwait(false);
                        r.Shards.Add(new ShardRecord(RecPath(s.Name, part.Suffix), part.Rows, part.Rec.Length, part.Rec.HashHex()) { Augmented = textRecord.Augmented });
                        break;
                    default:
                        r.Shards.Add(textRecord with { Path = ManifestPath(s.Name, part.Suffix) });
                        break;
                }
            }
            // The list is its own channel (train_lst) in SageMaker's image format.
            if (_kind == ImageOutputKind.Files) report.Splits[s.Name + "_lst"] = new SplitReport { Rows = r.Rows, Shards = lists };
            long originals = r.Rows - s.Augmented.Values.Sum();
            r.Fraction = total == 0 ? 0 : (double)originals / total;
            r.LabelDistribution = new SortedDictionary<string, long>(s.Labels, LabelTally.NumericOrder);
            if (_group >= 0) r.Groups = s.Groups.Count;
            if (s.Augmented.Count > 0)
            {
                r.Augmented = s.Augmented;
                r.Originals = originals;
            }
            report.Splits[s.Name] = r;
        }
        if (_transform?.Quarantined is { Count: > 0 } quarantined)
        {
            await using var file = await _store.CreateAsync($"{RunLayout.MetaFolder}/quarantine/images.csv", cancellationToken).ConfigureAwait(false);
            await using var csv = CsvWriter.Create(file, s_csv, leaveOpen: true);
            csv.WriteRecord(["image", "line", "problem"]);
            foreach (var q in quarantined)
            {
                csv.WriteField(q.Image);
                csv.WriteField(q.Line);
                csv.WriteField(q.Problem);
                await csv.EndRecordAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        await WriteFoldListsAsync(context, cancellationToken).ConfigureAwait(false);
        // Like every format: fold ManifestFiles, ManifestFiles and channels.json, then the run record last.
        await _layout.CommitAsync(context, _options.Instances, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// k-fold: what a fold's training set (the other folds with their copies, or with forward chaining the earlier
    /// ones) and validation set (the fold's own images) need besides <see cref="RunLayout"/>'s fold ManifestFiles.
    /// <c>images</c>: their im2rec lists, paths below the output root as the fold ManifestFiles place the images, each
    /// with a ManifestFile for its <c>train_lst</c> / <c>validation_lst</c> channel (<c>_dataprep/fold-k.train.lst</c>,
    /// <c>_dataprep/fold-k.train_lst.manifest</c>, likewise for validation). <c>augmented-manifest</c>: the training
    /// set's augmented manifest <c>_dataprep/fold-k.train.jsonl</c> (the other folds' lines; an AugmentedManifestFile
    /// channel names that object); the validation set's is the fold's own <c>fold-k/fold-k.jsonl</c>.
    /// </summary>
    private async Task WriteFoldListsAsync(RunContext context, CancellationToken cancellationToken)
    {
        string root = _store.UriOf("");
        foreach (short k in _foldLines.Keys)
        {
            var train = _foldLines.Where(f => context.ForwardChainingFolds ? f.Key < k : f.Key != k).SelectMany(f => f.Value).Select(l => l.Line);
            if (_kind == ImageOutputKind.AugmentedManifest)
            {
                await _layout.WriteTextAsync($"{RunLayout.MetaFolder}/{RunLayout.FoldChannel(k)}.train.jsonl", string.Concat(train), cancellationToken).ConfigureAwait(false);
                continue;
            }
            var validation = _foldLines[k].Where(l => !l.Augmented).Select(l => l.Line);
            foreach (var (role, lines) in new[] { ("train", train), ("validation", validation) })
            {
                string list = $"{RunLayout.MetaFolder}/{RunLayout.FoldChannel(k)}.{role}.lst";
                await _layout.WriteTextAsync(list, string.Concat(lines), cancellationToken).ConfigureAwait(false);
                await _layout.WriteTextAsync(RunLayout.FoldManifestPath(k, role + "_lst"), RunLayout.Manifest(root, [list]), cancellationToken).ConfigureAwait(false);
            }
        }
    }


    /// <summary>Closes every open file and removes everything staged.</summary>
    public async ValueTask AbortAsync()
    {
        foreach (var s in _channels.Values)
        {
            foreach (var st in s.Parts.SelectMany(p => new Stream?[] { p?.TextStream, p?.Rec }).Append(s.LineageStream))
            {
                try { if (st is not null) await st.DisposeAsync().ConfigureAwait(false); }
                catch (IOException) { /* the run is failing already */ }
            }
        }
        _channels.Clear();
        await _store.AbortAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();
}
