using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>
/// Writes processed images in output order as one of the image formats (DESIGN §4), per split:
/// <list type="bullet">
/// <item><c>images</c>: <c>OUT/&lt;split&gt;/&lt;relative path&gt;</c> plus <c>OUT/&lt;split&gt;_lst/&lt;split&gt;.lst</c>;</item>
/// <item><c>recordio-image</c>: <c>OUT/&lt;split&gt;/&lt;split&gt;.rec</c> plus <c>OUT/_dataprep/&lt;split&gt;.idx</c>;</item>
/// <item><c>augmented-manifest</c>: images under <c>OUT/images/&lt;split&gt;/</c> (outside every channel prefix) plus
/// <c>OUT/&lt;split&gt;/&lt;split&gt;.jsonl</c> whose <c>source-ref</c>s are the images' final URIs.</item>
/// </list>
/// A lineage sidecar per split (<c>_dataprep/lineage/&lt;split&gt;.csv</c>) records each image's row id, source
/// row, record, content hash, source path, operation and, for augmented copies, the source's row id.
/// </summary>
internal sealed class ImageOutputWriter : IAsyncDisposable
{
    private readonly IOutputStore _store;
    private readonly ConvertOptions _options;
    private readonly RunContext _context;
    private readonly bool _multiLabel;
    private readonly bool _hasGroups;
    private readonly Dictionary<SplitTag, SplitState> _splits = [];
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);
    private Stream? _quarantine;
    private CsvWriter? _quarantineCsv;
    private readonly ArrayBufferWriter<byte> _json = new(512);

    /// <summary>The lineage sidecar and the quarantine list: RFC 4180, LF line endings, invariant numbers.</summary>
    private static readonly CsvWriterOptions s_csv = CsvWriterOptions.Default with { NewLine = "\n" };

    public ImageOutputWriter(IOutputStore store, ConvertOptions options, RunContext context, ImageInput input)
    {
        _store = store;
        _options = options;
        _context = context;
        _multiLabel = input.MultiLabel;
        _hasGroups = input.Entries.Any(e => e.Group is not null);
        var report = context.Report;
        report.Output = store.Location;
        report.ContentType = options.Format switch
        {
            ImageFilesFormatDefinition.FormatName => "application/x-image",
            AugmentedManifestFormatDefinition.FormatName when _multiLabel => "application/x-recordio; label-format=class-id",
            _ => "application/x-recordio",
        };
    }

    private sealed class SplitState(string name)
    {
        public string Name { get; } = name;
        public SplitReport Report { get; } = new();
        public Dictionary<string, long> Labels { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, long> Augmented { get; } = new(StringComparer.Ordinal);
        public CsvWriter? Lineage { get; set; }
        public Stream? LineageStream { get; set; }
        public StringBuilder Text { get; } = new(); // .lst lines, .idx lines or manifest lines
        public Sha256WriteStream? TextStream { get; set; }
        public Sha256WriteStream? Rec { get; set; }
        public long Record { get; set; }
    }

    private async ValueTask<SplitState> StateAsync(SplitTag tag, CancellationToken ct)
    {
        if (_splits.TryGetValue(tag, out var s)) return s;
        s = new SplitState(tag.Name());
        _splits[tag] = s;
        if (_options.Lineage)
        {
            s.LineageStream = await _store.CreateAsync(RunLayout.LineagePath(s.Name), ct).ConfigureAwait(false);
            s.Lineage = CsvWriter.Create(s.LineageStream, s_csv, leaveOpen: true);
            string[] header = ["row_id", "source", "source_row", "shard", "record", "content_hash", .. (_hasGroups ? (string[])["group"] : []), "image", "operation", "source_row_id", "output"];
            foreach (var name in header) s.Lineage.WriteField(name);
            await s.Lineage.EndRecordAsync(ct).ConfigureAwait(false);
            s.Report.Lineage = RunLayout.LineagePath(s.Name);
        }
        switch (_options.Format)
        {
            case ImageFilesFormatDefinition.FormatName:
                s.TextStream = new Sha256WriteStream(await _store.CreateAsync(ListPath(s.Name), ct).ConfigureAwait(false));
                break;
            case RecordIOImageFormatDefinition.FormatName:
                s.Rec = new Sha256WriteStream(await _store.CreateAsync(RecPath(s.Name), ct).ConfigureAwait(false));
                s.TextStream = new Sha256WriteStream(await _store.CreateAsync($"_dataprep/{s.Name}.idx", ct).ConfigureAwait(false));
                break;
            default:
                s.TextStream = new Sha256WriteStream(await _store.CreateAsync(ManifestPath(s.Name), ct).ConfigureAwait(false));
                break;
        }
        return s;
    }

    private static string ListPath(string split) => $"{split}_lst/{split}.lst";

    private static string RecPath(string split) => $"{split}/{split}.rec";

    private static string ManifestPath(string split) => $"{split}/{split}.jsonl";

    /// <summary>Writes one unit's images (or handles its failure by the bad-image policy).</summary>
    public async ValueTask WriteAsync(ImageConvertRunner.UnitResult result, CancellationToken ct)
    {
        var u = result.Unit;
        if (result.Error is { } bad)
        {
            if (_options.Images.OnBadImage == BadImagePolicy.Fail)
            {
                throw new DataFormatException($"{bad.Problem}{(u.Entry.Line > 0 ? $" (listed on line {u.Entry.Line} of {_context.Inputs[0]})" : "")}; pass --on-bad-image skip or quarantine to leave such images out", bad.File);
            }
            _context.Report.Drop("bad image", 1 + u.Rotations.Count);
            if (_options.Images.OnBadImage == BadImagePolicy.Quarantine)
            {
                if (_quarantineCsv is null)
                {
                    _quarantine = await _store.CreateAsync("_dataprep/quarantine/images.csv", ct).ConfigureAwait(false);
                    _quarantineCsv = CsvWriter.Create(_quarantine, s_csv, leaveOpen: true);
                    _quarantineCsv.WriteRecord(["image", "line", "problem"]);
                }
                _quarantineCsv.WriteField(u.Entry.RelativePath);
                _quarantineCsv.WriteField(u.Entry.Line);
                _quarantineCsv.WriteField(bad.Problem);
                await _quarantineCsv.EndRecordAsync(ct).ConfigureAwait(false);
            }
            return;
        }
        var s = await StateAsync(u.Split, ct).ConfigureAwait(false);
        var images = result.Images!;
        for (int k = 0; k < images.Count; k++)
        {
            var img = images[k];
            long index = u.FirstIndex + k;
            string op = k == 0 ? "original" : ImageConvertRunner.OperationName(u.Rotations[k - 1]);
            long rowId = k == 0 ? u.RowId : ImageConvertRunner.AugmentedRowId(u.RowId, k - 1);
            string rel = OutputName(u.Entry.RelativePath, img.Extension, k == 0 ? null : op);
            string output;
            switch (_options.Format)
            {
                case ImageFilesFormatDefinition.FormatName:
                    output = $"{s.Name}/{rel}";
                    await WriteFileAsync(output, img.Bytes, s, ct).ConfigureAwait(false);
                    s.Text.Append(index).Append('\t');
                    foreach (var l in u.Entry.Labels) s.Text.Append(Number(l)).Append('\t');
                    s.Text.Append(rel).Append('\n');
                    break;
                case RecordIOImageFormatDefinition.FormatName:
                    output = RecPath(s.Name);
                    var framed = new ArrayBufferWriter<byte>(img.Bytes.Length + 64);
                    ImageRecord.Frame(ImageRecord.Pack(u.Entry.Labels, _multiLabel, (ulong)index, img.Bytes), framed);
                    s.Text.Append(index).Append('\t').Append(s.Rec!.Length).Append('\n');
                    await s.Rec.WriteAsync(framed.WrittenMemory, ct).ConfigureAwait(false);
                    break;
                default:
                    output = $"images/{s.Name}/{rel}";
                    await WriteFileAsync(output, img.Bytes, null, ct).ConfigureAwait(false);
                    // As SageMaker's example: {"source-ref": "s3://…", "class": "0"}; multi-label in the class-id format [0, 2].
                    s.Text.Append(ManifestLine(_store.UriOf(output), u.Entry.Labels)).Append('\n');
                    break;
            }
            if (s.Lineage is { } lin)
            {
                lin.WriteField(rowId);
                lin.WriteField("0"u8);
                lin.WriteField(u.SourceRow);
                lin.WriteField("0"u8);
                lin.WriteField(s.Record);
                lin.WriteField(XxHash3.HashToUInt64(img.Bytes).ToString("x16", CultureInfo.InvariantCulture));
                if (_hasGroups) lin.WriteField(u.Entry.Group);
                lin.WriteField(u.Entry.RelativePath);
                lin.WriteField(op);
                lin.WriteField(u.RowId);
                lin.WriteField(output);
                await lin.EndRecordAsync(ct).ConfigureAwait(false);
            }
            s.Record++;
            s.Report.Rows++;
            foreach (var l in u.Entry.Labels) s.Labels[Number(l)] = s.Labels.GetValueOrDefault(Number(l)) + 1;
            if (u.Entry.Group is { } g) s.Groups.Add(g);
            if (k > 0) s.Augmented[op] = s.Augmented.GetValueOrDefault(op) + 1;
        }
        await FlushAsync(s, 1 << 20, ct).ConfigureAwait(false);
    }

    private async Task WriteFileAsync(string path, byte[] bytes, SplitState? shardOf, CancellationToken ct)
    {
        if (!_paths.Add(path)) throw new DataFormatException($"two images would both be written to {path}; expected distinct file names (e.g. a.bmp and a.png both become a.png)", path);
        await using (var f = await _store.CreateAsync(path, ct).ConfigureAwait(false))
        {
            await f.WriteAsync(bytes, ct).ConfigureAwait(false);
        }
        shardOf?.Report.Shards.Add(new ShardRecord(path, 1, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))));
    }

    private static async Task FlushAsync(SplitState s, int threshold, CancellationToken ct)
    {
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

    /// <summary>
    /// An augmented-manifest line as SageMaker's example has it: <c>{"source-ref": "s3://…", "class": "0"}</c>, the label as
    /// text; multi-label in the class-id format <c>[0, 2]</c> (numbers).
    /// </summary>
    private string ManifestLine(string sourceRef, float[] labels)
    {
        _json.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_json)) WriteManifestObject(w, sourceRef, labels);
        return Encoding.UTF8.GetString(_json.WrittenSpan);
    }

    private void WriteManifestObject(Utf8JsonWriter w, string sourceRef, float[] labels)
    {
        w.WriteStartObject();
        w.WriteString("source-ref", sourceRef);
        w.WritePropertyName(_options.Images.LabelAttribute);
        if (_multiLabel)
        {
            w.WriteStartArray();
            foreach (var l in labels)
            {
                if (!float.IsFinite(l)) w.WriteStringValue(Number(l)); // JSON has no NaN or infinity
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

    /// <summary>Finishes every file, fills the report and commits the store (run record last).</summary>
    public async Task CommitAsync(CancellationToken ct)
    {
        foreach (var s in _splits.Values) await FlushAsync(s, 0, ct).ConfigureAwait(false);
        var report = _context.Report;
        long total = _splits.Values.Sum(s => s.Report.Rows);
        foreach (var (tag, s) in _splits.OrderBy(kv => kv.Key))
        {
            var r = s.Report;
            if (s.Lineage is not null) await s.Lineage.DisposeAsync().ConfigureAwait(false);
            if (s.LineageStream is not null) await s.LineageStream.DisposeAsync().ConfigureAwait(false);
            var text = s.TextStream!;
            var textRecord = new ShardRecord("", r.Rows, text.Length, text.HashHex());
            await text.DisposeAsync().ConfigureAwait(false);
            switch (_options.Format)
            {
                case ImageFilesFormatDefinition.FormatName:
                    // The list is its own channel (train_lst) in SageMaker's image format.
                    report.Splits[s.Name + "_lst"] = new SplitReport { Rows = r.Rows, Shards = [textRecord with { Path = ListPath(s.Name) }] };
                    break;
                case RecordIOImageFormatDefinition.FormatName:
                    await s.Rec!.DisposeAsync().ConfigureAwait(false);
                    r.Shards.Add(new ShardRecord(RecPath(s.Name), r.Rows, s.Rec.Length, s.Rec.HashHex()));
                    break;
                default:
                    r.Shards.Add(textRecord with { Path = ManifestPath(s.Name) });
                    break;
            }
            r.Fraction = total == 0 ? 0 : (double)r.Rows / total;
            r.LabelDistribution = new SortedDictionary<string, long>(s.Labels, Comparer<string>.Create(CompareNumeric));
            if (_hasGroups) r.Groups = s.Groups.Count;
            if (s.Augmented.Count > 0) r.Augmented = s.Augmented;
            report.Splits[s.Name] = r;
        }
        if (_quarantineCsv is not null) await _quarantineCsv.DisposeAsync().ConfigureAwait(false);
        if (_quarantine is not null) await _quarantine.DisposeAsync().ConfigureAwait(false);
        // Like the tabular sinks: ManifestFiles and channels.json just before the run record (committed runs only).
        await new RunLayout(_store, context => RunRecord.From(_options, context).ToJson()).CommitAsync(_context, _options.Instances, ct).ConfigureAwait(false);
    }

    private static int CompareNumeric(string a, string b)
    {
        bool na = double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x);
        bool nb = double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y);
        return na && nb ? x.CompareTo(y) : string.CompareOrdinal(a, b);
    }

    /// <summary>Closes every open file and removes everything staged.</summary>
    public async Task AbortAsync()
    {
        foreach (var s in _splits.Values)
        {
            foreach (var st in new[] { s.LineageStream, s.TextStream, s.Rec })
            {
                try { if (st is not null) await st.DisposeAsync().ConfigureAwait(false); }
                catch (IOException) { /* the run is failing already */ }
            }
        }
        _splits.Clear();
        // The CSV writers are dropped unflushed: what they hold is being thrown away.
        _quarantineCsv = null;
        if (_quarantine is not null) await _quarantine.DisposeAsync().ConfigureAwait(false);
        _quarantine = null;
        await _store.AbortAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await AbortAsync().ConfigureAwait(false);
}
