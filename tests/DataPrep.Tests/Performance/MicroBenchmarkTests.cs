using System.Reflection;
using System.Text;
using BenchmarkDotNet.Attributes;
using DataPrep.Data;
using DataPrep.Micro;
using DataPrep.Output;
using DataPrep.Tests.Notebooks;

namespace DataPrep.Tests.Performance;

/// <summary>
/// bench/micro's input: a small W1-shaped CSV from bench/gen-numeric.mjs, and what <c>dataprep convert</c> writes
/// from it, made once for the class.
/// </summary>
public sealed class MicroFixture : IDisposable
{
    public const int Rows = 3_000;
    private readonly TempDir _tmp = new();

    public MicroFixture()
    {
        InputPath = _tmp.Combine("numeric.csv");
        var gen = ProcessRunner.Run("node", [Path.Combine(Paths.Repo, "bench", "gen-numeric.mjs"), "--out", InputPath, "--rows", Rows.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            Paths.Repo, TimeSpan.FromMinutes(2));
        Assert.True(gen.Code == 0, gen.ToString());
        Input = MicroInput.Load(InputPath);
    }

    public string InputPath { get; }

    public MicroInput Input { get; }

    /// <summary>Runs <c>dataprep convert</c> on <paramref name="input"/> (label first) and gives the concatenated data files of each split.</summary>
    public Dictionary<string, byte[]> Convert(string name, string input, params string[] options)
    {
        string output = _tmp.Combine(name);
        var r = CliRunner.Run(["convert", input, "--out", output, "--label", "label", "--quiet", "--no-lineage", .. options]);
        Assert.True(r.Code == 0, r.Err);
        var splits = new Dictionary<string, byte[]>();
        foreach (var dir in Directory.GetDirectories(output).Where(d => !Path.GetFileName(d).StartsWith('_')))
        {
            var data = new MemoryStream();
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal)) data.Write(File.ReadAllBytes(file));
            splits[Path.GetFileName(dir)] = data.ToArray();
        }
        return splits;
    }

    public void Dispose() => _tmp.Dispose();
}

/// <summary>
/// The micro-benchmarks cannot rot: the project builds with the suite (this project references it), every benchmark
/// method runs once with its setup and cleanup, and each gives what the pipeline gives for the same rows.
/// </summary>
public sealed class MicroBenchmarkTests(MicroFixture fixture) : IClassFixture<MicroFixture>
{
    /// <summary>Every benchmark and the test below that compares it with the pipeline; a new benchmark needs a comparison too.</summary>
    private static readonly string[] s_covered =
    [
        "CsvBenchmarks.FieldScan", "CsvBenchmarks.ReadColumns",
        "NumberBenchmarks.ParseCopyable", "NumberBenchmarks.ParseValueParser", "NumberBenchmarks.FormatNumberText", "NumberBenchmarks.FormatBcl",
        "OutputBenchmarks.CsvCopyKeptText", "OutputBenchmarks.CsvFormatNumbers", "OutputBenchmarks.RecordIOProtobufEncode",
        "ShuffleBenchmarks.ShuffleOrder", "ShuffleBenchmarks.ShuffleOrderComparisonSort", "ShuffleBenchmarks.SplitAssign",
        "ParquetBenchmarks.Decode",
    ];

    private static IEnumerable<(Type Type, MethodInfo Method)> Benchmarks()
        => typeof(MicroInput).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null).Select(m => (t, m)));

    private T Create<T>(Action<T>? more = null) where T : new()
    {
        var bench = new T();
        typeof(T).GetProperty("InputPath")!.SetValue(bench, fixture.InputPath);
        foreach (var setup in typeof(T).GetMethods().Where(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null)) setup.Invoke(bench, null);
        more?.Invoke(bench);
        return bench;
    }

    [Fact]
    public void EveryBenchmark_RunsOnceWithItsSetupAndCleanup_AndGivesAResult()
    {
        var found = Benchmarks().Select(b => $"{b.Type.Name}.{b.Method.Name}").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(s_covered.Order(StringComparer.Ordinal), found);
        foreach (var group in Benchmarks().GroupBy(b => b.Type))
        {
            var bench = Activator.CreateInstance(group.Key)!;
            group.Key.GetProperty("InputPath")!.SetValue(bench, fixture.InputPath);
            var methods = group.Key.GetMethods();
            foreach (var setup in methods.Where(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null)) setup.Invoke(bench, null);
            foreach (var (_, method) in group)
            {
                object? result = method.Invoke(bench, null);
                string name = $"{group.Key.Name}.{method.Name}";
                switch (result)
                {
                    case long n: Assert.True(n > 0, name); break;
                    case double d: Assert.True(double.IsFinite(d) && d != 0, $"{name}: {d}"); break;
                    case RecordBatch b: Assert.Equal(MicroFixture.Rows, b.RowCount); break;
                    case FormattedChunk c: Assert.Equal(MicroFixture.Rows, c.RecordEnds.Length); break;
                    case Array a: Assert.Equal(MicroFixture.Rows, a.Length); break;
                    default: Assert.Fail($"{name} gave {result?.GetType().Name ?? "null"}, which this test does not check"); break;
                }
            }
            foreach (var cleanup in methods.Where(m => m.GetCustomAttribute<GlobalCleanupAttribute>() is not null)) cleanup.Invoke(bench, null);
        }
    }

    [Fact]
    public void CsvBenchmarks_ScanEveryField_AndReadTheValuesDoubleParseReads()
    {
        var bench = Create<CsvBenchmarks>();
        // The file has no quotes: its fields are its lines cut at commas.
        var lines = Encoding.ASCII.GetString(fixture.Input.Bytes).TrimEnd('\n').Split('\n').Skip(1).ToArray();
        Assert.Equal(MicroFixture.Rows, lines.Length);
        Assert.Equal(lines.Sum(l => (long)l.Length - l.Count(ch => ch == ',')), bench.FieldScan());

        var batch = bench.ReadColumns();
        Assert.Equal(51, batch.Columns.Count);
        Assert.Equal(lines.Select(l => long.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)), ((Int64Column)batch.Columns[0]).Values.Take(batch.RowCount));
        var values = new double[fixture.Input.Floats.Length];
        for (int r = 0; r < batch.RowCount; r++)
        {
            for (int c = 1; c < 51; c++) values[r * 50 + c - 1] = ((Float64Column)batch.Columns[c]).Values[r];
        }
        Assert.Equal(fixture.Input.Floats, values);
    }

    [Fact]
    public void ParseBenchmarks_ReadEveryFeatureAsDoubleParseDoes()
    {
        var bench = Create<NumberBenchmarks>();
        double expected = 0;
        foreach (double v in fixture.Input.Floats) expected += v;
        // Same values summed in the same order: bit-identical sums, and no NaN (a refused value).
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(bench.ParseCopyable()));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(bench.ParseValueParser()));
    }

    [Fact]
    public void FormatAndEncodeBenchmarks_WriteWhatConvertWrites()
    {
        string[] inOrder = ["--train", "1", "--validation", "0", "--test", "0", "--no-shuffle"];
        var csv = fixture.Convert("csv", fixture.InputPath, inOrder)["train"];
        var output = Create<OutputBenchmarks>();
        Assert.Equal(csv, Bytes(output.CsvCopyKeptText()));
        Assert.Equal(csv, Bytes(output.CsvFormatNumbers()));

        var recordIO = fixture.Convert("recordio", fixture.InputPath, [.. inOrder, "--format", "recordio-protobuf"])["train"];
        Assert.Equal(recordIO, Bytes(output.RecordIOProtobufEncode()));

        // The number benchmarks format the features alone: convert's records without their label.
        var features = string.Concat(Encoding.ASCII.GetString(csv).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.IndexOf(',') + 1)..] + "\n"));
        var numbers = Create<NumberBenchmarks>();
        numbers.FormatNumberText();
        Assert.Equal(features, Encoding.ASCII.GetString(numbers.LastOutput.Span));
        numbers.FormatBcl();
        Assert.Equal(features, Encoding.ASCII.GetString(numbers.LastOutput.Span));
    }

    [Fact]
    public void ShuffleBenchmarks_OrderAndSplitRowsAsConvertDoes()
    {
        var lines = Lines(fixture.Convert("in-order", fixture.InputPath, "--train", "1", "--validation", "0", "--test", "0", "--no-shuffle")["train"]);
        var shuffled = fixture.Convert("shuffled", fixture.InputPath, "--train", "0.8", "--validation", "0.1", "--test", "0.1", "--seed", ShuffleBenchmarks.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var bench = Create<ShuffleBenchmarks>();
        var order = bench.ShuffleOrder();
        // The reference sort gives the same order (no two rows of the input share a shuffle hash).
        Assert.Equal(order, bench.ShuffleOrderComparisonSort());
        var tags = bench.SplitAssign();
        Assert.Equal([MicroFixture.Rows * 8 / 10, MicroFixture.Rows / 10, MicroFixture.Rows / 10], SplitNames.All.Select(s => tags.Count(t => t == s)));
        foreach (var split in SplitNames.All)
        {
            var expected = order.Where(i => tags[i] == split).Select(i => lines[i]);
            Assert.Equal(expected, Lines(shuffled[split.Name()]));
        }
    }

    [Fact]
    public void ParquetBenchmark_DecodesTheCsvValues_AndConvertWritesTheSameFromIt()
    {
        var bench = Create<ParquetBenchmarks>();
        try
        {
            var batch = bench.Decode();
            var expected = fixture.Input.Batch;
            Assert.Equal(expected.Schema.Fields.Select(f => (f.Name, f.Kind)), batch.Schema.Fields.Select(f => (f.Name, f.Kind)));
            Assert.Equal(((Int64Column)expected.Columns[0]).Values.Take(expected.RowCount), ((Int64Column)batch.Columns[0]).Values.Take(batch.RowCount));
            for (int c = 1; c < 51; c++)
            {
                Assert.Equal(((Float64Column)expected.Columns[c]).Values.Take(expected.RowCount), ((Float64Column)batch.Columns[c]).Values.Take(batch.RowCount));
            }
            string[] inOrder = ["--train", "1", "--validation", "0", "--test", "0", "--no-shuffle"];
            Assert.Equal(fixture.Convert("from-csv", fixture.InputPath, inOrder)["train"], fixture.Convert("from-parquet", bench.ParquetPath, inOrder)["train"]);
        }
        finally
        {
            bench.Cleanup();
        }
        Assert.False(File.Exists(bench.ParquetPath));
    }

    private static byte[] Bytes(FormattedChunk chunk) => chunk.Data.AsSpan(0, chunk.Length).ToArray();

    private static string[] Lines(byte[] csv) => Encoding.ASCII.GetString(csv).Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
