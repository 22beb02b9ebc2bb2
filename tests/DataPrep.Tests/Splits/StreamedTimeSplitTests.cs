using System.Text.Json.Nodes;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Parquet;
using Parquet.Schema;

namespace DataPrep.Tests.Splits;

/// <summary>
/// A time split of columnar (Parquet) input in time order is planned from a first pass over the time column and
/// then streamed (<see cref="TimeSplitPlan"/>). It must give exactly the files of the ordinary path, which collects
/// every row before cutting: same data, lineage, manifests and run record. Inputs the plan cannot reproduce
/// (out of time order, a missing time, rows dropped before the split, shuffling) take the ordinary path.
/// </summary>
public class StreamedTimeSplitTests
{
    private static readonly DateTime s_start = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Columns t (timestamp, UTC micros), e (epoch seconds), x (double), y (label 0–3), g (text); <paramref name="tie"/> rows per instant.</summary>
    private static void WriteParquet(string path, int rows, int rowGroup, int tie = 3, bool shuffled = false, int nullTimeAt = -1, int first = 0)
    {
        var order = Enumerable.Range(first, rows).ToArray();
        if (shuffled) new Random(5).Shuffle(order);
        var time = new DateTimeDataField("t", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: nullTimeAt >= 0);
        var epoch = new DataField<long>("e");
        var x = new DataField<double>("x");
        var y = new DataField<long>("y");
        var g = new DataField<string>("g");
        var schema = new ParquetSchema(time, epoch, x, y, g);
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(schema, stream).GetAwaiter().GetResult();
        for (int start = 0; start < rows; start += rowGroup)
        {
            var part = order.Skip(start).Take(rowGroup).ToArray();
            var instants = part.Select(i => s_start.AddMinutes(7 * (i / tie))).ToArray();
            using var group = writer.CreateRowGroup();
            if (nullTimeAt >= 0)
            {
                group.WriteAsync<DateTime>(time, instants.Select((t, k) => start + k == nullTimeAt ? (DateTime?)null : t).ToArray().AsMemory()).GetAwaiter().GetResult();
            }
            else
            {
                group.WriteAsync<DateTime>(time, instants.AsMemory()).GetAwaiter().GetResult();
            }
            group.WriteAsync<long>(epoch, instants.Select(t => (long)(t - DateTime.UnixEpoch).TotalSeconds).ToArray().AsMemory()).GetAwaiter().GetResult();
            group.WriteAsync<double>(x, part.Select(i => i * 0.25 - 10.3).ToArray().AsMemory()).GetAwaiter().GetResult();
            group.WriteAsync<long>(y, part.Select(i => (long)(i % 4)).ToArray().AsMemory()).GetAwaiter().GetResult();
            group.WriteAsync(g, part.Select(i => "g" + (i % 5)).ToArray()).GetAwaiter().GetResult();
        }
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Runs the job twice, planned (if it can be) and with planning disabled; returns both results and whether the first streamed.</summary>
    private static (CliRunner.Result Planned, CliRunner.Result Ordinary, bool Streamed, string PlannedOut, string OrdinaryOut) RunBoth(TempDir tmp, string[] inputs, string job, string name = "")
    {
        var planned = tmp.Combine("planned" + name);
        var ordinary = tmp.Combine("ordinary" + name);
        string[] Args(string outDir) => ["convert", .. inputs, "--out", outDir, "--quiet", .. job.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var a = CliRunner.Run(registry, Args(planned));
        bool streamed = registry.Diagnostics.StreamedTimeSplits > 0;

        var unplanned = DataPrep.Cli.DataPrepCli.CreateRegistry();
        unplanned.StreamTimeSplits = false;
        var b = CliRunner.Run(unplanned, Args(ordinary));
        Assert.Equal(0, unplanned.Diagnostics.StreamedTimeSplits);
        return (a, b, streamed, planned, ordinary);
    }

    private static void AssertSameFiles(string expectedDir, string actualDir, string what)
    {
        var expected = RunOutputs.FileHashes(expectedDir);
        var actual = RunOutputs.FileHashes(actualDir);
        Assert.Contains(expected.Keys, k => !k.StartsWith("_dataprep/", StringComparison.Ordinal));
        Assert.Contains(expected.Keys, k => k.StartsWith("_dataprep/lineage/", StringComparison.Ordinal));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (path, sha) in expected) Assert.True(sha == actual[path], $"{what}: {path} differs");
        var a = RunOutputs.ComparableRecordOf(expectedDir);
        var b = RunOutputs.ComparableRecordOf(actualDir);
        Assert.True(JsonNode.DeepEquals(a, b), $"{what}: run records differ:\n{a}\n---\n{b}");
    }

    public static TheoryData<string, string> Jobs() => new()
    {
        // Batches cut inside row groups, splits cut inside batches, ties across batch boundaries.
        { "fractions", "--label y --features x,g --encode g=onehot --split time --time t --fractions 70/15/15 --batch-rows 128" },
        { "cutoffs and gap", "--label y --features x --split time --time t --cutoffs 2024-01-01T12:00:00Z,2024-01-02T00:00:00Z --gap 3h" },
        { "train/test with a gap", "--label y --features x --split time --time t --fractions 80/0/20 --gap 30m" },
        { "epoch seconds", "--label y --features x --split time --time e --fractions 60/20/20 --batch-rows 100" },
        { "time as a feature", "--label y --features x,t --timestamps epoch --split time --time t --fractions 70/15/15" },
        { "recordio", "--label y --features x,g --encode g=ordinal --split time --time t --fractions 70/15/15 --format recordio-protobuf" },
        { "one thread", "--label y --features x --split time --time t --fractions 70/15/15 --threads 1 --batch-rows 50" },
        { "memory budget", "--label y --features x --split time --time t --fractions 70/15/15 --memory 16KB" },
        { "every column", "--label y --split time --time t --fractions 70/15/15 --timestamps epoch --encode g=onehot" },
    };

    [Theory]
    [MemberData(nameof(Jobs))]
    public void Streamed_split_writes_the_files_of_the_ordinary_path(string name, string job)
    {
        using var tmp = new TempDir();
        var input = tmp.Combine("in.parquet");
        WriteParquet(input, rows: 1000, rowGroup: 300);
        var (planned, ordinary, streamed, a, b) = RunBoth(tmp, [input], job);
        Assert.True(planned.Code == 0, $"{name}: {planned.Err}");
        Assert.True(ordinary.Code == 0, $"{name}: {ordinary.Err}");
        Assert.True(streamed, $"{name}: expected the planned run to stream");
        AssertSameFiles(b, a, name);
    }

    [Fact]
    public void Several_inputs_stream_in_order()
    {
        using var tmp = new TempDir();
        var first = tmp.Combine("a.parquet");
        var second = tmp.Combine("b.parquet");
        WriteParquet(first, rows: 500, rowGroup: 200);
        WriteParquet(second, rows: 700, rowGroup: 160, first: 500);
        var (planned, ordinary, streamed, a, b) = RunBoth(tmp, [first, second], "--label y --features x --split time --time t --fractions 70/15/15 --batch-rows 64");
        Assert.True(planned.Code == 0, planned.Err);
        Assert.True(ordinary.Code == 0, ordinary.Err);
        Assert.True(streamed);
        AssertSameFiles(b, a, "two inputs");
    }

    public static TheoryData<string, string> OrdinaryOnly() => new()
    {
        { "shuffled rows", "--label y --features x --split time --time t --fractions 70/15/15" },
        { "shuffle asked for", "--label y --features x --split time --time t --fractions 70/15/15 --shuffle" },
        { "rows dropped before the split", "--label y --features x --split time --time t --fractions 70/15/15 --missing drop" },
        { "k-fold", "--label y --features x --split time --time t --folds 3" },
    };

    [Theory]
    [MemberData(nameof(OrdinaryOnly))]
    public void Jobs_the_plan_cannot_reproduce_take_the_ordinary_path(string name, string job)
    {
        using var tmp = new TempDir();
        var input = tmp.Combine("in.parquet");
        WriteParquet(input, rows: 600, rowGroup: 250, shuffled: name == "shuffled rows");
        var (planned, ordinary, streamed, a, b) = RunBoth(tmp, [input], job);
        Assert.True(planned.Code == 0, $"{name}: {planned.Err}");
        Assert.True(ordinary.Code == 0, $"{name}: {ordinary.Err}");
        Assert.False(streamed, $"{name}: must not stream");
        AssertSameFiles(b, a, name);
    }

    [Fact]
    public void A_missing_time_fails_exactly_as_on_the_ordinary_path()
    {
        using var tmp = new TempDir();
        var input = tmp.Combine("in.parquet");
        WriteParquet(input, rows: 400, rowGroup: 150, nullTimeAt: 321);
        var (planned, ordinary, streamed, a, _) = RunBoth(tmp, [input], "--label y --features x --split time --time t --fractions 70/15/15");
        Assert.False(streamed);
        Assert.Equal(3, ordinary.Code);
        Assert.Equal(ordinary.Code, planned.Code);
        Assert.Contains("row 322", ordinary.Err);
        Assert.Equal(ordinary.Err, planned.Err);
        Assert.False(Directory.Exists(Path.Combine(a, "train")), "no partial output");
    }

    /// <summary>The plan is made from one file; the stream reads another (the file changed between the passes).</summary>
    private static async Task<Exception> StreamChangedInput(TempDir tmp, int plannedRows, int streamedRows, int streamedFirst)
    {
        var planned = tmp.Combine("planned.parquet");
        var changed = tmp.Combine("changed.parquet");
        WriteParquet(planned, plannedRows, 100);
        WriteParquet(changed, streamedRows, 100, first: streamedFirst);
        var assigner = new TimeSplitAssigner("t", [0.7, 0.15, 0.15]);
        var context = new DataPrep.Pipeline.RunContext();
        context.Inputs.Add(planned);
        var timeOnly = new DataPrep.Pipeline.SourceOptions { OnlyColumns = new HashSet<string> { "t" } };
        var plan = await TimeSplitPlan.TryCreateAsync(assigner, [new DataPrep.Sources.ParquetSource(planned, timeOnly)], context, default);
        Assert.NotNull(plan);
        var source = new DataPrep.Sources.ParquetSource(changed);
        var stage = new SplitStage(assigner, 1, shuffle: false, lineageTime: "t") { Plan = plan };
        stage.Bind(await source.OpenAsync());
        return await Assert.ThrowsAsync<DataFormatException>(async () =>
        {
            await foreach (var _ in stage.RunAsync(source.ReadAsync(0), context, default)) { }
        });
    }

    [Fact]
    public async Task Times_that_changed_since_the_first_pass_are_an_error_not_a_wrong_split()
    {
        using var tmp = new TempDir();
        var e = await StreamChangedInput(tmp, plannedRows: 500, streamedRows: 500, streamedFirst: 3);
        Assert.Contains("changed while being read", e.Message);
        Assert.Contains("'t'", e.Message);
    }

    [Theory]
    [InlineData(500, 400)]
    [InlineData(400, 500)]
    public async Task A_row_count_that_changed_since_the_first_pass_is_an_error(int plannedRows, int streamedRows)
    {
        using var tmp = new TempDir();
        var e = await StreamChangedInput(tmp, plannedRows, streamedRows, streamedFirst: 0);
        Assert.Contains("changed while being read", e.Message);
        Assert.Contains("rows", e.Message);
    }

    /// <summary>Any size, row group, batch size, tie length and fractions: the streamed files are the ordinary path's.</summary>
    [Property(MaxTest = 12)]
    public Property Streamed_equals_ordinary_for_any_shape(PositiveInt rows, PositiveInt rowGroup, PositiveInt batch, PositiveInt tie, PositiveInt a, NonNegativeInt b, NonNegativeInt c)
    {
        using var tmp = new TempDir();
        var input = tmp.Combine("in.parquet");
        int n = rows.Get % 700 + 1;
        WriteParquet(input, n, rowGroup.Get % 300 + 1, tie.Get % 9 + 1);
        int wa = a.Get % 10 + 1, wb = b.Get % 10, wc = c.Get % 10, sum = wa + wb + wc;
        int pa = 100 * wa / sum, pb = 100 * wb / sum;
        string fractions = $"{pa}/{pb}/{100 - pa - pb}";
        var job = $"--label y --features x --split time --time t --fractions {fractions} --batch-rows {batch.Get % 200 + 1}";
        var (planned, ordinary, streamed, outA, outB) = RunBoth(tmp, [input], job);
        if (ordinary.Code != 0) return (planned.Code == ordinary.Code).Label($"{job}: {ordinary.Err} / {planned.Err}");
        var expected = RunOutputs.FileHashes(outB);
        var actual = RunOutputs.FileHashes(outA);
        bool same = expected.Count == actual.Count && expected.All(kv => actual.TryGetValue(kv.Key, out var v) && v == kv.Value)
            && JsonNode.DeepEquals(RunOutputs.ComparableRecordOf(outB), RunOutputs.ComparableRecordOf(outA));
        return (streamed && planned.Code == 0 && same).Label($"n={n} {job}: streamed={streamed} code={planned.Code} same={same} {planned.Err}");
    }
}
