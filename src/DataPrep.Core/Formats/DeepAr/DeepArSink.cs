using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// SageMaker DeepAR's JSON Lines (<c>application/jsonlines</c>): one record per series with <c>start</c>,
/// <c>target</c>, optional <c>cat</c> (static category codes) and <c>dynamic_feat</c> (one array per
/// time-varying feature, as long as the target). Following that algorithm's convention the training
/// channel holds each series truncated before the validation/test window, validation holds it up to the
/// end of validation, and the test channel holds the full series. Needs a time split (rows carry their
/// timestamp) and a series column (rows carry their series key).
/// </summary>
public sealed class DeepArSink(RunLayout layout, IReadOnlyList<string> catColumns, int instances) : IRecordSink
{
    private readonly IOutputStore _store = layout.Store;
    private readonly Dictionary<string, List<Point>> _series = new(StringComparer.Ordinal);
    private int[] _cat = [];
    private int[] _dynamic = [];
    private RunContext? _context;

    private readonly record struct Point(long Time, SplitTag Split, double Target, double[] Cat, double[] Dynamic);

    /// <summary>The content type of DeepAR files.</summary>
    public const string ContentType = "application/jsonlines";

    /// <inheritdoc />
    public ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken)
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
        _cat = catColumns.Select(schema.IndexOf).ToArray();
        _dynamic = Enumerable.Range(1, schema.Count - 1).Where(i => !_cat.Contains(i)).ToArray();
        _context = context;
        context.Report.ContentType = ContentType;
        context.Report.Output = _store.Location;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
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
        _context?.OnProgress("write", _series.Values.Sum(p => (long)p.Count), _context.ExpectedRows);
        return ValueTask.CompletedTask;
    }

    private static double Value(Column c, int r) => c switch
    {
        Float64Column d => d.Values[r],
        Int64Column l => l.Values[r],
        BooleanColumn b => b.Values[r] ? 1 : 0,
        _ => throw new NotSupportedException(c.Kind.ToString()),
    };

    /// <inheritdoc />
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("OpenAsync first.");
        var channels = new (string Name, Func<SplitTag, bool> Includes)[]
        {
            (SplitTag.Train.Name(), t => t == SplitTag.Train),
            (SplitTag.Validation.Name(), t => t is SplitTag.Train or SplitTag.Validation),
            (SplitTag.Test.Name(), _ => true),
        };
        var varying = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, includes) in channels)
        {
            // A channel exists when its own split has rows (validation/test windows may be empty).
            var own = SplitNames.All.First(t => t.Name() == name);
            if (!_series.Values.Any(p => p.Any(x => x.Split == own))) continue;
            using var buffer = new MemoryStream();
            long records = 0;
            foreach (var (key, all) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                var points = all.Where(p => includes(p.Split)).OrderBy(p => p.Time).ToList();
                if (points.Count == 0) continue;
                if (points.Any(p => !p.Cat.AsSpan().SequenceEqual(points[0].Cat))) varying.Add(key);
                WriteRecord(buffer, points);
                records++;
            }
            var bytes = buffer.ToArray();
            var path = RunLayout.ShardPath(name, 0, DeepArFormatDefinition.FileExtension, gzip: false);
            await using (var file = await _store.CreateAsync(path, cancellationToken).ConfigureAwait(false))
            {
                await file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            var report = context.Report.Splits.TryGetValue(name, out var r) ? r : context.Report.Splits[name] = new SplitReport();
            report.Rows = records;
            report.Shards.Add(new ShardRecord(path, records, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))));
            report.Format = new FormatInfo(ContentType, _dynamic.Length, false, "deepar", null);
        }
        long total = context.Report.Splits.Values.Sum(s => s.Rows);
        foreach (var s in context.Report.Splits.Values) s.Fraction = total == 0 ? 0 : (double)s.Rows / total;
        if (varying.Count > 0)
        {
            context.Report.Warnings.Add($"--deepar-cat values change over time in {varying.Count} series (e.g. '{varying.First()}'); DeepAR's cat is static, so each record uses its series' first values.");
        }
        await layout.CommitAsync(context, instances, cancellationToken).ConfigureAwait(false);
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

    /// <inheritdoc />
    public ValueTask AbortAsync() => _store.AbortAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => AbortAsync();
}
