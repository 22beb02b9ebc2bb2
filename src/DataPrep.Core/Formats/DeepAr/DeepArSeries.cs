using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// DeepAR's series, built from rows and written as records: the part of <see cref="DeepArSink"/> that one process and a
/// scaled-out run share, so both write the same bytes. One process collects every series and writes each channel's
/// records in series-key order; an encode task of a scaled-out run collects the series of its bucket (every row of a
/// series is in one bucket) and writes them the same way with a key index, and the commit merges the tasks' records by
/// key (<see cref="MergeAsync"/>), which gives one process's order because a key lives in one bucket only.
/// </summary>
internal sealed class DeepArSeries
{
    private readonly Dictionary<string, List<Point>> _series = new(StringComparer.Ordinal);
    private readonly int[] _cat;
    private readonly int[] _dynamic;
    private readonly MemoryStream _record = new();

    private readonly record struct Point(long Time, SplitTag Split, double Target, double[] Cat, double[] Dynamic);

    private DeepArSeries(int[] cat, int[] dynamic)
    {
        _cat = cat;
        _dynamic = dynamic;
    }

    /// <summary>The channels in order, each with the splits whose points it holds (validation and test repeat the earlier splits' points).</summary>
    public static readonly IReadOnlyList<(string Name, SplitTag Own, Func<SplitTag, bool> Includes)> Channels =
    [
        (SplitTag.Train.Name(), SplitTag.Train, t => t == SplitTag.Train),
        (SplitTag.Validation.Name(), SplitTag.Validation, t => t is SplitTag.Train or SplitTag.Validation),
        (SplitTag.Test.Name(), SplitTag.Test, _ => true),
    ];

    /// <summary>Checks the schema (the label first, numeric features) and binds the cat and dynamic feature columns.</summary>
    /// <exception cref="PipelineValidationException">The schema does not fit DeepAR (every problem is listed).</exception>
    public static DeepArSeries Bind(Schema schema, IReadOnlyList<string> catColumns)
    {
        var problems = new List<string>();
        if (schema.Count == 0) problems.Add("DeepAR output needs the target as the label: --label COLUMN.");
        foreach (var c in catColumns)
        {
            if (schema.IndexOf(c) < 1) problems.Add($"--deepar-cat names '{c}', which is not a feature of the output (features: {string.Join(", ", schema.Fields.Skip(1).Select(f => f.Name))}).");
        }
        foreach (var f in schema.Fields.Skip(1))
        {
            if (f.Kind == ColumnKind.Sparse) problems.Add($"Feature '{f.Name}' is one-hot (sparse); DeepAR features must be single numbers: encode it ordinal and list it in --deepar-cat, or drop it.");
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        var cat = catColumns.Select(schema.IndexOf).ToArray();
        return new DeepArSeries(cat, Enumerable.Range(1, schema.Count - 1).Where(i => !cat.Contains(i)).ToArray());
    }

    /// <summary>The number of <c>dynamic_feat</c> arrays of each record.</summary>
    public int DynamicCount => _dynamic.Length;

    /// <summary>Points collected so far.</summary>
    public long Points { get; private set; }

    /// <summary>Adds the rows of a batch to their series (in arrival order; a series' points are ordered by time, stably, when written).</summary>
    public void Add(RecordBatch batch)
    {
        var rows = batch.Rows;
        if (rows.Times is null || rows.GroupKeys is null)
        {
            throw new PipelineValidationException("DeepAR output needs a time split with a series column: --split time --time COLUMN --series COLUMN.");
        }
        for (int r = 0; r < batch.RowCount; r++)
        {
            string key = rows.GroupKeys[r] ?? "";
            if (!_series.TryGetValue(key, out var points)) _series[key] = points = [];
            points.Add(new Point(rows.Times[r], rows.Splits?[r] ?? SplitTag.Train, Value(batch.Columns[0], r),
                _cat.Select(c => Value(batch.Columns[c], r)).ToArray(), _dynamic.Select(c => Value(batch.Columns[c], r)).ToArray()));
        }
        Points += batch.RowCount;
    }

    private static double Value(Column c, int r) => c switch
    {
        Float64Column d => d.Values[r],
        Int64Column l => l.Values[r],
        BooleanColumn b => b.Values[r] ? 1 : 0,
        _ => throw new NotSupportedException(c.Kind.ToString()),
    };

    /// <summary>Whether some point belongs to <paramref name="split"/> (a channel exists when its own split has rows).</summary>
    public bool Has(SplitTag split) => _series.Values.Any(p => p.Any(x => x.Split == split));

    private readonly (long Count, string? First)[] _varying = new (long, string?)[Channels.Count];

    /// <summary>
    /// How many series written to channel <paramref name="channel"/> have <c>--deepar-cat</c> values that change over
    /// time, and the first of them in key order. A channel's points of a series are a time prefix of the next channel's
    /// (a time split), so a series that varies in one channel varies in every later one: the last channel written
    /// counts every varying series of the run.
    /// </summary>
    public (long Count, string? First) VaryingIn(int channel) => _varying[channel];

    /// <summary>
    /// Writes a channel's records, one per series with points in it, in ordinal key order; with <paramref name="keys"/>,
    /// also each record's key and length (<see cref="MergeAsync"/> reads them). Returns the number of records.
    /// </summary>
    public async Task<long> WriteChannelAsync(int channel, Stream data, Stream? keys, CancellationToken cancellationToken)
    {
        var includes = Channels[channel].Includes;
        long records = 0;
        foreach (var (key, all) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var points = all.Where(p => includes(p.Split)).OrderBy(p => p.Time).ToList();
            if (points.Count == 0) continue;
            if (points.Any(p => !p.Cat.AsSpan().SequenceEqual(points[0].Cat))) _varying[channel] = (_varying[channel].Count + 1, _varying[channel].First ?? key);
            _record.SetLength(0);
            WriteRecord(_record, points);
            await data.WriteAsync(_record.GetBuffer().AsMemory(0, (int)_record.Length), cancellationToken).ConfigureAwait(false);
            if (keys is not null) await WriteKeyAsync(keys, key, _record.Length, cancellationToken).ConfigureAwait(false);
            records++;
        }
        return records;
    }

    private void WriteRecord(Stream stream, List<Point> points)
    {
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("start", new DateTime(points[0].Time, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            w.WriteStartArray("target");
            foreach (var p in points) WriteNumber(w, p.Target);
            w.WriteEndArray();
            if (_cat.Length > 0)
            {
                w.WriteStartArray("cat");
                foreach (double c in points[0].Cat) w.WriteNumberValue((long)c);
                w.WriteEndArray();
            }
            if (_dynamic.Length > 0)
            {
                w.WriteStartArray("dynamic_feat");
                for (int f = 0; f < _dynamic.Length; f++)
                {
                    w.WriteStartArray();
                    foreach (var p in points) WriteNumber(w, p.Dynamic[f]);
                    w.WriteEndArray();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    /// <summary>Integers as integers, other numbers shortest round-trip (as the CSV encoder writes them).</summary>
    private static void WriteNumber(Utf8JsonWriter w, double v)
    {
        if (v == Math.Floor(v) && Math.Abs(v) < 1e15) w.WriteNumberValue((long)v);
        else w.WriteNumberValue(v);
    }

    /// <summary>A key index entry: the key's UTF-8 length (4 bytes), the record's length (8), the key.</summary>
    private static async Task WriteKeyAsync(Stream keys, string key, long length, CancellationToken cancellationToken)
    {
        var bytes = new byte[12 + Encoding.UTF8.GetByteCount(key)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, bytes.Length - 12);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4), length);
        Encoding.UTF8.GetBytes(key, bytes.AsSpan(12));
        await keys.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the records of several parts (each a data stream and its key index, keys ascending and no key in two parts)
    /// in ordinal key order, one record in memory at a time. Returns the number of records.
    /// </summary>
    public static async Task<long> MergeAsync(IReadOnlyList<(Stream Data, Stream Keys)> parts, Stream target, CancellationToken cancellationToken)
    {
        var queue = new PriorityQueue<int, string>(StringComparer.Ordinal);
        var lengths = new long[parts.Count];
        var head = new byte[12];
        async Task NextAsync(int part)
        {
            var keys = parts[part].Keys;
            int n = await keys.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (n == 0) return;
            if (n < head.Length) throw new InvalidDataException($"DeepAR key index {part} ends inside an entry.");
            var key = new byte[BinaryPrimitives.ReadInt32LittleEndian(head)];
            lengths[part] = BinaryPrimitives.ReadInt64LittleEndian(head.AsSpan(4));
            await keys.ReadExactlyAsync(key, cancellationToken).ConfigureAwait(false);
            queue.Enqueue(part, Encoding.UTF8.GetString(key));
        }
        for (int i = 0; i < parts.Count; i++) await NextAsync(i).ConfigureAwait(false);
        var buffer = new byte[1 << 16];
        long records = 0;
        while (queue.TryDequeue(out int part, out _))
        {
            for (long left = lengths[part]; left > 0;)
            {
                int k = (int)Math.Min(left, buffer.Length);
                await parts[part].Data.ReadExactlyAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
                await target.WriteAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
                left -= k;
            }
            records++;
            await NextAsync(part).ConfigureAwait(false);
        }
        return records;
    }

    /// <summary>
    /// Writes the channels whose own split has rows (<paramref name="present"/>), one file each, with
    /// <paramref name="write"/> (which returns the records it wrote), reports them, and commits the run through
    /// <paramref name="layout"/> (run.json last): the end of a DeepAR run, in one process and in a scaled-out commit.
    /// </summary>
    public static async Task PublishAsync(RunLayout layout, RunContext context, int dynamicCount, Func<SplitTag, bool> present,
        Func<int, Stream, CancellationToken, Task<long>> write, Func<int, (long Count, string? First)> varying, int instances, CancellationToken cancellationToken)
    {
        var store = layout.Store;
        context.Report.ContentType = DeepArSink.ContentType;
        context.Report.Output = store.Location;
        int last = -1;
        for (int c = 0; c < Channels.Count; c++)
        {
            var (name, own, _) = Channels[c];
            if (!present(own)) continue;
            last = c;
            var path = RunLayout.ShardPath(name, 0, DeepArFormatDefinition.FileExtension, gzip: false);
            long records;
            var hashing = new Sha256WriteStream(await store.CreateAsync(path, cancellationToken).ConfigureAwait(false));
            await using (hashing.ConfigureAwait(false))
            {
                records = await write(c, hashing, cancellationToken).ConfigureAwait(false);
            }
            var report = context.Report.Splits.TryGetValue(name, out var r) ? r : context.Report.Splits[name] = new SplitReport();
            report.Rows = records;
            report.Shards.Add(new ShardRecord(path, records, hashing.Written, hashing.HashHex()));
            report.Format = new FormatInfo(DeepArSink.ContentType, dynamicCount, false, "deepar", null);
        }
        long total = context.Report.Splits.Values.Sum(s => s.Rows);
        foreach (var s in context.Report.Splits.Values) s.Fraction = total == 0 ? 0 : (double)s.Rows / total;
        var (count, first) = last < 0 ? (0, null) : varying(last);
        if (count > 0)
        {
            context.Report.Warnings.Add($"--deepar-cat values change over time in {count} series (e.g. '{first}'); DeepAR's cat is static, so each record uses its series' first values.");
        }
        await layout.CommitAsync(context, instances, cancellationToken).ConfigureAwait(false);
    }
}
