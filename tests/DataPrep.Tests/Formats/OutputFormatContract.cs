using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPrep.Cli;
using DataPrep.Formats;
using DataPrep.Inspect;
using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Conversion;

namespace DataPrep.Tests.Formats;

/// <summary>
/// What every output format promises, run once per registered format (a subclass each): what it writes reads back
/// as what went in, the bytes do not depend on threads or batch size, a one-row split and empty splits are handled,
/// gzip round-trips where the format allows it, and a golden case over sample-data pins its bytes.
/// </summary>
public abstract class OutputFormatContract
{
    private static readonly string[] s_channels = ["train", "validation", "test"];

    /// <summary>The format's name as registered.</summary>
    protected abstract string Format { get; }

    /// <summary><see cref="Format"/>, for the test that every registered format has a contract.</summary>
    internal string FormatUnderTest => Format;

    /// <summary>Whether each input row is one record (DeepAR writes one record per series).</summary>
    protected virtual bool RecordsAreRows => true;

    /// <summary>Options besides the input, output and format.</summary>
    protected virtual string[] Args => ["--label", "y", "--encode", "cat=onehot", "--seed", "5"];

    /// <summary>The format's definition in the CLI's registry.</summary>
    protected OutputFormatDefinition Definition => DataPrepCli.CreateRegistry().Formats.Get(Format);

    /// <summary>Writes the contract's input: numeric, integer, boolean and categorical features, a 0/1 label.</summary>
    protected virtual string WriteInput(TempDir tmp, int rows)
    {
        var random = new Random(rows);
        var text = new StringBuilder("id,y,x1,x2,n,flag,cat\n");
        for (int i = 0; i < rows; i++)
        {
            double x1 = Math.Round(random.NextDouble() * 200 - 100, random.Next(0, 7));
            text.Append(CultureInfo.InvariantCulture, $"{i},{random.Next(2)},{x1},{random.NextDouble() * 1e-3:R},{random.Next(-5000, 5000)},{(random.Next(2) == 0 ? "true" : "false")},{(char)('a' + random.Next(4))}\n");
        }
        return tmp.File($"in-{rows}.csv", text.ToString());
    }

    /// <summary>The records of a channel, read back from the run's files with the format's own reader, as comparable text.</summary>
    protected abstract Task<List<string>> ReadBackAsync(string outDir, string channel);

    /// <summary>What the records of a channel must read back as (from another, trusted path), as comparable text.</summary>
    protected abstract Task<List<string>> ExpectedAsync(TempDir tmp, string input, string outDir, string channel);

    /// <summary>Runs convert and asserts success.</summary>
    protected string Convert(TempDir tmp, string input, string name, params string[] more)
    {
        var outDir = tmp.Combine(name);
        var r = CliRunner.Run(["convert", input, "--out", outDir, "--format", Format, "--quiet", .. Args, .. more]);
        Assert.True(r.Code == 0, $"{Format} {string.Join(' ', more)}: {r.Err}");
        return outDir;
    }

    /// <summary>The data files of a channel, in run.json's shard order.</summary>
    protected static List<string> Shards(string outDir, string channel)
    {
        using var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
        if (!run.RootElement.GetProperty("splits").TryGetProperty(channel, out var split)) return [];
        return split.GetProperty("shards").EnumerateArray().Select(s => Path.Combine(outDir, s.GetProperty("path").GetString()!)).ToList();
    }

    [Fact]
    public async Task Reads_back_through_its_own_reader_as_what_went_in()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, 500);
        var outDir = Convert(tmp, input, "out", "--shard-rows", "90");
        int total = 0;
        foreach (var channel in s_channels)
        {
            var actual = await ReadBackAsync(outDir, channel);
            var expected = await ExpectedAsync(tmp, input, outDir, channel);
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++) Assert.True(expected[i] == actual[i], $"{Format} {channel} record {i}: expected {expected[i]}, read {actual[i]}");
            total += actual.Count;
            Assert.Equal(Shards(outDir, channel).Count == 0 ? 0 : RunRows(outDir, channel), actual.Count);
        }
        if (RecordsAreRows) Assert.Equal(500, total);
    }

    [Fact]
    public void Bytes_do_not_depend_on_threads_or_batch_size()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, 700);
        var a = RunOutputs.FileHashes(Convert(tmp, input, "a", "--threads", "1", "--batch-rows", "7", "--shard-rows", "100"));
        var b = RunOutputs.FileHashes(Convert(tmp, input, "b", "--threads", "2", "--batch-rows", "65536", "--shard-rows", "100"));
        Assert.Contains(a.Keys, k => k.StartsWith("train/", StringComparison.Ordinal));
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task A_one_row_split_is_written_and_empty_splits_are_not()
    {
        using var tmp = new TempDir();
        var outDir = Convert(tmp, WriteInput(tmp, 1), "one", "--allow-empty-split");
        Assert.Single(await ReadBackAsync(outDir, "train"));
        foreach (var empty in new[] { "validation", "test" })
        {
            Assert.False(Directory.Exists(Path.Combine(outDir, empty)), $"{Format}: an empty {empty} split left a folder");
            Assert.False(File.Exists(Path.Combine(outDir, "_dataprep", empty + ".manifest")), $"{Format}: an empty {empty} split has a ManifestFile");
            Assert.Empty(Shards(outDir, empty));
        }
    }

    [Fact]
    public async Task Gzip_round_trips_where_the_format_allows_it()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, 300);
        if (!Definition.Traits.AllowsGzip)
        {
            var refused = CliRunner.Run(["convert", input, "--out", tmp.Combine("gz"), "--format", Format, "--compress", "gzip", "--quiet", .. Args]);
            Assert.Equal(2, refused.Code);
            Assert.Contains("--compress gzip", refused.Err);
            Assert.False(Directory.Exists(tmp.Combine("gz")));
            return;
        }
        var plain = Convert(tmp, input, "plain");
        var gzip = Convert(tmp, input, "gzip", "--compress", "gzip");
        foreach (var channel in s_channels)
        {
            Assert.All(Shards(gzip, channel), f => Assert.EndsWith(".gz", f, StringComparison.Ordinal));
            Assert.Equal(await ReadBackAsync(plain, channel), await ReadBackAsync(gzip, channel));
        }
    }

    [Fact]
    public void A_golden_case_over_sample_data_pins_its_bytes()
    {
        var goldens = Directory.GetFiles(Path.Combine(Paths.Repo, "tests", "DataPrep.Tests", "Golden", "sample-data"), "*.json");
        bool covered = goldens.Any(g =>
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(g));
            var args = doc.RootElement.GetProperty("args").EnumerateArray().Select(a => a.GetString()).ToList();
            int i = args.IndexOf("--format");
            return (i >= 0 ? args[i + 1] : CsvFormatDefinition.FormatName) == Format;
        });
        Assert.True(covered, $"no golden case in Golden/sample-data writes --format {Format}");
    }

    /// <summary>A training record as text: label then every feature, sparse features written out dense.</summary>
    /// <param name="r">The record.</param>
    /// <param name="float32">Compare as float32.</param>
    /// <param name="width">The feature width from run.json (LibSVM files do not record trailing zero columns).</param>
    protected static string Canonical(DataPrep.Inspect.ShardRecord r, bool float32, int width = 0)
    {
        var values = new double[Math.Max(width, (int)r.Width)];
        if (r.IsSparse) { for (int k = 0; k < r.Keys!.Length; k++) values[(int)r.Keys[k]] = r.Values[k]; }
        else r.Values.CopyTo(values, 0);
        string Text(double v) => float32 ? ((float)v).ToString("R", CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
        return string.Join(',', (r.Label ?? []).Select(Text)) + "|" + string.Join(',', values.Select(Text));
    }

    /// <summary>The records run.json counts for a channel.</summary>
    protected static long RunRows(string outDir, string channel)
    {
        using var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
        return run.RootElement.GetProperty("splits").GetProperty(channel).GetProperty("rows").GetInt64();
    }

    /// <summary>The feature width run.json records for a channel (0 when the channel has no files).</summary>
    protected static int FeatureWidth(string outDir, string channel)
    {
        using var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
        return run.RootElement.GetProperty("splits").TryGetProperty(channel, out var split) ? split.GetProperty("format").GetProperty("featureWidth").GetInt32() : 0;
    }

    /// <summary>Reads every shard of a channel with a reader.</summary>
    protected static async Task<List<DataPrep.Inspect.ShardRecord>> ReadAllAsync(IShardReader reader, string outDir, string channel)
    {
        var records = new List<DataPrep.Inspect.ShardRecord>();
        foreach (var shard in Shards(outDir, channel))
        {
            await foreach (var r in reader.ReadAsync(shard, new InspectOptions())) records.Add(r);
        }
        return records;
    }
}

/// <summary>Formats of training records (label, numeric features): they read back as the label-first CSV of the same run.</summary>
public abstract class TrainingFormatContract : OutputFormatContract
{
    /// <summary>Whether the format stores float32 (values compare after rounding to float).</summary>
    protected virtual bool Float32 => false;

    protected override async Task<List<string>> ReadBackAsync(string outDir, string channel)
    {
        var reader = Definition.Reader ?? throw new InvalidOperationException($"{Format} has no reader");
        return (await ReadAllAsync(reader, outDir, channel)).Select(r => Canonical(r, Float32, FeatureWidth(outDir, channel))).ToList();
    }

    protected override async Task<List<string>> ExpectedAsync(TempDir tmp, string input, string outDir, string channel)
    {
        var csvDir = tmp.Combine("reference-csv");
        if (!Directory.Exists(csvDir))
        {
            var r = CliRunner.Run(["convert", input, "--out", csvDir, "--quiet", .. Args, "--shard-rows", "90"]);
            Assert.True(r.Code == 0, r.Err);
        }
        var csv = DataPrepCli.CreateRegistry().Formats.Get("csv").Reader!;
        return (await ReadAllAsync(csv, csvDir, channel)).Select(r => Canonical(r, Float32, FeatureWidth(csvDir, channel))).ToList();
    }
}

public sealed class CsvFormatContract : TrainingFormatContract
{
    protected override string Format => "csv";
}

public sealed class RecordIOProtobufFormatContract : TrainingFormatContract
{
    protected override string Format => "recordio-protobuf";

    protected override bool Float32 => true;
}

public sealed class LibSvmFormatContract : TrainingFormatContract
{
    protected override string Format => "libsvm";
}

/// <summary>Parquet (DataPrep.Parquet): typed columns, read back through its own reader as the label-first CSV of the same run.</summary>
public sealed class ParquetFormatContract : TrainingFormatContract
{
    protected override string Format => "parquet";
}

/// <summary>The list formats keep every column as it is: they read back, as inputs, into the input rows the lineage names.</summary>
public abstract class ListFormatContract : OutputFormatContract
{
    protected override string[] Args => ["--seed", "5"];

    protected override async Task<List<string>> ReadBackAsync(string outDir, string channel)
    {
        var rows = new List<string>();
        foreach (var shard in Shards(outDir, channel)) rows.AddRange(await ReadTableAsync(shard));
        return rows;
    }

    protected override async Task<List<string>> ExpectedAsync(TempDir tmp, string input, string outDir, string channel)
    {
        var all = await ReadTableAsync(input);
        var lineage = Path.Combine(outDir, "_dataprep", "lineage", channel + ".csv");
        if (!File.Exists(lineage)) return [];
        return File.ReadLines(lineage).Skip(1).Select(l => all[(int)long.Parse(l.Split(',')[2], CultureInfo.InvariantCulture) - 1]).ToList();
    }

    /// <summary>Rows of a table file read by the registry's sources (type inference as for any input), as text.</summary>
    private static async Task<List<string>> ReadTableAsync(string path)
    {
        var source = new DataPrepRegistry().Sources.Create(path, new SourceOptions());
        await source.OpenAsync();
        var rows = new List<string>();
        await foreach (var batch in source.ReadAsync(0))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                rows.Add(string.Join('|', batch.Schema.Fields.Select((f, c) => $"{f.Name}={Text(batch.Columns[c], r)}")));
            }
        }
        return rows;
    }

    private static string Text(DataPrep.Data.Column column, int row) => column.IsNull(row) ? "" : column switch
    {
        DataPrep.Data.Float64Column f => f.Values[row].ToString("R", CultureInfo.InvariantCulture),
        DataPrep.Data.Int64Column l => l.Values[row].ToString(CultureInfo.InvariantCulture),
        DataPrep.Data.BooleanColumn b => b.Values[row] ? "true" : "false",
        DataPrep.Data.TimestampColumn t => t.Values[row].ToString(CultureInfo.InvariantCulture),
        DataPrep.Data.StringColumn s => s.Values[row] ?? "",
        _ => column.Kind.ToString(),
    };
}

public sealed class HeaderCsvFormatContract : ListFormatContract
{
    protected override string Format => "csv-header";
}

public sealed class JsonLinesFormatContract : ListFormatContract
{
    protected override string Format => "jsonl";
}

/// <summary>DeepAR writes one JSON record per series: train is each series up to the end of train, validation up to the end of validation, test the whole series.</summary>
public sealed class DeepArFormatContract : OutputFormatContract
{
    protected override string Format => "deepar";

    protected override bool RecordsAreRows => false;

    protected override string[] Args => ["--label", "y", "--split", "time", "--time", "day", "--series", "s", "--fractions", "70/15/15", "--seed", "5"];

    protected override string WriteInput(TempDir tmp, int rows)
    {
        var random = new Random(rows);
        var text = new StringBuilder("day,s,y,x\n");
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < rows; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{start.AddDays(i / 3):yyyy-MM-dd},s{i % 3},{Math.Round(random.NextDouble() * 50, 2)},{random.Next(100)}\n");
        }
        return tmp.File($"series-{rows}.csv", text.ToString());
    }

    protected override Task<List<string>> ReadBackAsync(string outDir, string channel)
        => Task.FromResult(Shards(outDir, channel).SelectMany(File.ReadLines).Select(line =>
        {
            using var record = JsonDocument.Parse(line);
            var target = record.RootElement.GetProperty("target").EnumerateArray().Select(v => v.GetDouble().ToString("R", CultureInfo.InvariantCulture));
            return record.RootElement.GetProperty("start").GetString() + "|" + string.Join(',', target);
        }).ToList());

    protected override Task<List<string>> ExpectedAsync(TempDir tmp, string input, string outDir, string channel)
    {
        using var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
        var splits = run.RootElement.GetProperty("splits");
        if (!splits.TryGetProperty(channel, out _)) return Task.FromResult(new List<string>());
        // A channel holds every point up to the end of its own split (test: the whole series).
        DateTime end = channel == "test" ? DateTime.MaxValue : DateTime.Parse(splits.GetProperty(channel).GetProperty("timeTo").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var rows = File.ReadLines(input).Skip(1).Select(l => l.Split(','))
            .Select(f => (Day: DateTime.Parse(f[0], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), Series: f[1], Y: double.Parse(f[2], CultureInfo.InvariantCulture)))
            .Where(r => r.Day <= end);
        return Task.FromResult(rows.GroupBy(r => r.Series).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.OrderBy(r => r.Day).ToList())
            .Select(points => $"{points[0].Day:yyyy-MM-dd HH:mm:ss}|{string.Join(',', points.Select(p => p.Y.ToString("R", CultureInfo.InvariantCulture)))}").ToList());
    }
}
