using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
        public StringBuilder Lineage { get; } = new();
        public Stream? LineageStream { get; set; }
        public StringBuilder Text { get; } = new(); // .lst lines, .idx lines or manifest lines
        public Sha256WriteStream? TextStream { get; set; }
        public Sha256WriteStream? Rec { get; set; }
        public long Record { get; set; }
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
            s.Lineage.Append("row_id,source,source_row,shard,record,content_hash").Append(_group >= 0 ? ",group" : "").Append(",image,operation,source_row_id,output\n");
            s.Report.Lineage = RunLayout.LineagePath(s.Name);
        }
        switch (_kind)
        {
            case ImageOutputKind.Files:
                s.TextStream = new Sha256WriteStream(await _store.CreateAsync(ListPath(s.Name), ct).ConfigureAwait(false));
                break;
            case ImageOutputKind.RecordIO:
                s.Rec = new Sha256WriteStream(await _store.CreateAsync(RecPath(s.Name), ct).ConfigureAwait(false));
                s.TextStream = new Sha256WriteStream(await _store.CreateAsync($"{RunLayout.MetaFolder}/{s.Name}.idx", ct).ConfigureAwait(false));
                break;
            default:
                s.TextStream = new Sha256WriteStream(await _store.CreateAsync(ManifestPath(s.Name), ct).ConfigureAwait(false));
                break;
        }
        return s;
    }

    /// <summary>The im2rec list of a channel: its own channel, <c>&lt;channel&gt;_lst</c>, as SageMaker's image format wants.</summary>
    public static string ListPath(string channel) => $"{channel}_lst/{channel}.lst";

    /// <summary>The image RecordIO file of a channel.</summary>
    public static string RecPath(string channel) => $"{channel}/{channel}.rec";

    /// <summary>The augmented manifest of a channel.</summary>
    public static string ManifestPath(string channel) => $"{channel}/{channel}.jsonl";

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
            string channel = RunLayout.ChannelName(rows.Splits?[r] ?? SplitTag.None, rows.Folds?[r] ?? -1);
            if (s?.Name != channel)
            {
                if (s is not null) await FlushAsync(s, 1 << 20, cancellationToken).ConfigureAwait(false);
                s = await ChannelAsync(channel, cancellationToken).ConfigureAwait(false);
            }
            var bytes = images.Values[r];
            string source = paths.Values[r]!;
            string op = rows.Operations?[r] ?? ImageAugmentStage.Original;
            bool copy = op != ImageAugmentStage.Original;
            long rowId = rows.RowIds[r];
            long sourceRowId = rows.AugmentedFrom?[r] ?? rowId;
            float[] labels = ImageClassStage.ParseLabels(labelText.Values[r]!);
            long index = _index++;
            string rel = OutputName(source, extensions.Values[r]!, copy ? op : null);
            string output;
            switch (_kind)
            {
                case ImageOutputKind.Files:
                    output = $"{s.Name}/{rel}";
                    await WriteFileAsync(output, bytes, s, cancellationToken).ConfigureAwait(false);
                    s.Text.Append(index).Append('\t');
                    foreach (var l in labels) s.Text.Append(Number(l)).Append('\t');
                    s.Text.Append(rel).Append('\n');
                    break;
                case ImageOutputKind.RecordIO:
                    output = RecPath(s.Name);
                    var framed = new ArrayBufferWriter<byte>(bytes.Length + 64);
                    ImageRecord.Frame(ImageRecord.Pack(labels, _classes.MultiLabel, (ulong)index, bytes.Span), framed);
                    s.Text.Append(index).Append('\t').Append(s.Rec!.Length).Append('\n');
                    await s.Rec.WriteAsync(framed.WrittenMemory, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    output = $"images/{s.Name}/{rel}";
                    await WriteFileAsync(output, bytes, null, cancellationToken).ConfigureAwait(false);
                    // As SageMaker's example: {"source-ref": "s3://…", "class": "0"}; multi-label in the class-id format [0, 2].
                    s.Text.Append("{\"source-ref\":").Append(JsonString(_store.UriOf(output))).Append(',').Append(JsonString(_options.Images.LabelAttribute)).Append(':')
                        .Append(_classes.MultiLabel ? "[" + string.Join(",", labels.Select(Number)) + "]" : JsonString(Number(labels[0]))).Append("}\n");
                    break;
            }
            string? group = groups is null || groups.IsNull(r) ? null : ((StringColumn)groups).Values[r];
            if (s.LineageStream is not null)
            {
                var lin = s.Lineage;
                lin.Append(rowId).Append(',').Append(rows.Sources[r]).Append(',').Append(rows.SourceRows[r]).Append(",0,").Append(s.Record).Append(',')
                    .Append(XxHash3.HashToUInt64(bytes.Span).ToString("x16", CultureInfo.InvariantCulture));
                if (_group >= 0) lin.Append(',').Append(Csv(group));
                lin.Append(',').Append(Csv(source)).Append(',').Append(op).Append(',').Append(sourceRowId).Append(',').Append(Csv(output)).Append('\n');
            }
            s.Record++;
            s.Report.Rows++;
            foreach (var l in labels) s.Labels[Number(l)] = s.Labels.GetValueOrDefault(Number(l)) + 1;
            if (group is not null) s.Groups.Add(group);
            if (copy) s.Augmented[op] = s.Augmented.GetValueOrDefault(op) + 1;
        }
        if (s is not null) await FlushAsync(s, 1 << 20, cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteFileAsync(string path, ReadOnlyMemory<byte> bytes, ChannelState? shardOf, CancellationToken ct)
    {
        if (!_paths.Add(path)) throw new DataFormatException($"two images would both be written to {path}; expected distinct file names (e.g. a.bmp and a.png both become a.png)", path);
        await using (var f = await _store.CreateAsync(path, ct).ConfigureAwait(false))
        {
            await f.WriteAsync(bytes, ct).ConfigureAwait(false);
        }
        shardOf?.Report.Shards.Add(new ShardRecord(path, 1, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes.Span))));
    }

    private static async Task FlushAsync(ChannelState s, int threshold, CancellationToken ct)
    {
        if (s.LineageStream is not null && s.Lineage.Length >= threshold)
        {
            await s.LineageStream.WriteAsync(Encoding.UTF8.GetBytes(s.Lineage.ToString()), ct).ConfigureAwait(false);
            s.Lineage.Clear();
        }
        if (s.TextStream is not null && s.Text.Length >= threshold)
        {
            await s.TextStream.WriteAsync(Encoding.UTF8.GetBytes(s.Text.ToString()), ct).ConfigureAwait(false);
            s.Text.Clear();
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

    private static string JsonString(string value) => JsonSerializer.Serialize(value, ImageJsonContext.Default.String);

    private static string Csv(string? value)
        => value is null ? "" : value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

    /// <summary>Finishes every file, fills the report and commits through the run layout (run record last).</summary>
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        foreach (var s in _channels.Values) await FlushAsync(s, 0, cancellationToken).ConfigureAwait(false);
        var report = context.Report;
        long total = _channels.Values.Sum(s => s.Report.Rows);
        foreach (var s in _channels.Values.OrderBy(s => s.Name, RunLayout.ChannelOrder))
        {
            var r = s.Report;
            if (s.LineageStream is not null) await s.LineageStream.DisposeAsync().ConfigureAwait(false);
            var text = s.TextStream!;
            var textRecord = new ShardRecord("", r.Rows, text.Length, text.HashHex());
            await text.DisposeAsync().ConfigureAwait(false);
            switch (_kind)
            {
                case ImageOutputKind.Files:
                    // The list is its own channel (train_lst) in SageMaker's image format.
                    report.Splits[s.Name + "_lst"] = new SplitReport { Rows = r.Rows, Shards = [textRecord with { Path = ListPath(s.Name) }] };
                    break;
                case ImageOutputKind.RecordIO:
                    await s.Rec!.DisposeAsync().ConfigureAwait(false);
                    r.Shards.Add(new ShardRecord(RecPath(s.Name), r.Rows, s.Rec.Length, s.Rec.HashHex()));
                    break;
                default:
                    r.Shards.Add(textRecord with { Path = ManifestPath(s.Name) });
                    break;
            }
            r.Fraction = total == 0 ? 0 : (double)r.Rows / total;
            r.LabelDistribution = new SortedDictionary<string, long>(s.Labels, Comparer<string>.Create(CompareNumeric));
            if (_group >= 0) r.Groups = s.Groups.Count;
            if (s.Augmented.Count > 0) r.Augmented = s.Augmented;
            report.Splits[s.Name] = r;
        }
        if (_transform?.Quarantined is { Count: > 0 } quarantined)
        {
            var csv = new StringBuilder("image,line,problem\n");
            foreach (var q in quarantined) csv.Append(Csv(q.Image)).Append(',').Append(q.Line).Append(',').Append(Csv(q.Problem)).Append('\n');
            await _layout.WriteTextAsync($"{RunLayout.MetaFolder}/quarantine/images.csv", csv.ToString(), cancellationToken).ConfigureAwait(false);
        }
        // Like every format: fold ManifestFiles, ManifestFiles and channels.json, then the run record last.
        await _layout.CommitAsync(context, _options.Instances, cancellationToken).ConfigureAwait(false);
    }

    private static int CompareNumeric(string a, string b)
    {
        bool na = double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x);
        bool nb = double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y);
        return na && nb ? x.CompareTo(y) : string.CompareOrdinal(a, b);
    }

    /// <summary>Closes every open file and removes everything staged.</summary>
    public async ValueTask AbortAsync()
    {
        foreach (var s in _channels.Values)
        {
            foreach (var st in new[] { s.LineageStream, s.TextStream, s.Rec })
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

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ImageJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
