using System.Globalization;
using System.Text;
using DataPrep.Data;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// A spilled split whose files hold only fixed-width values reads each row straight into its output batch
/// (<c>BatchSpillReader.ReadPlaced</c>) instead of into column arrays that a gather copies again: the batches, and so
/// every output byte, are those of the gathering path and of an in-memory run.
/// </summary>
public class SpillPlacementTests
{
    private const int Rows = 2500;

    /// <summary>Floats x1..x3 (x3 holds edge values: NaN and ±infinity if <paramref name="nonFinite"/> (RecordIO), else values beyond float32 (CSV)), an integer k, a boolean b, a date d, an integer label y.</summary>
    private static string WriteInput(TempDir tmp, bool nonFinite)
    {
        var rng = new Random(5);
        string[] edges = ["-0", "1e-50", "-1e-50", "1.401298464324817E-45", "3.4028234663852886E+38", "4.9E-324", "16777217", "0.1", .. nonFinite ? new[] { "NaN", "Infinity", "-Infinity" } : ["-1.7976931348623157E+308", "1e300"]];
        var sb = new StringBuilder("x1,x2,x3,k,b,d,y\n");
        for (int i = 0; i < Rows; i++)
        {
            string x3 = i % 97 < edges.Length ? edges[i % 97] : (rng.NextDouble() * 1e6 - 5e5).ToString("R", CultureInfo.InvariantCulture);
            string d = new DateTime(2024, 1, 1).AddDays(rng.Next(400)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{rng.NextDouble() * 100 - 50},{Math.Round(rng.NextDouble(), 4)},{x3},{rng.Next(-1000, 1000)},{(rng.Next(2) == 0 ? "true" : "false")},{d},{rng.Next(3)}\n");
        }
        return tmp.File("input.csv", sb.ToString());
    }

    private static (CliRunner.Result Run, DataPrep.Conversion.DataPrepRegistry Registry) Convert(string input, string outDir, string? spillRoot, string[] job)
    {
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        string[] memory = spillRoot is null ? [] : ["--memory", "16KB", "--temp", spillRoot];
        var r = CliRunner.Run(registry, ["convert", input, "--out", outDir, "--label", "y", "--quiet", .. memory, .. job]);
        if (spillRoot is not null) Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        return (r, registry);
    }

    public static TheoryData<string, string, bool> Jobs() => new()
    {
        // job, options, whether the spill reads in place
        { "recordio", "--format recordio-protobuf --non-finite keep --features x1,x2,x3,k", true },
        { "recordio-batches", "--format recordio-protobuf --non-finite keep --features x1,x2,x3,k --batch-rows 97 --threads 1", true },
        { "recordio-stratified", "--format recordio-protobuf --non-finite keep --features x1,x2,x3,k --stratify y", true },
        { "recordio-folds", "--format recordio-protobuf --non-finite keep --features x1,x2,x3,k --folds 3", true },
        { "recordio-float64", "--format recordio-protobuf --non-finite keep --features x1,x2,x3,k --dtype float64 --no-lineage", true },
        { "csv", "--format csv --timestamps epoch", true },
        { "csv-batches", "--format csv --timestamps epoch --batch-rows 61 --threads 1", true },
        { "csv-unshuffled", "--format csv --timestamps epoch --no-shuffle --batch-rows 211", true },
        // Group keys travel with the rows as strings: the general path.
        { "csv-group", "--format csv --timestamps epoch --split group --group k", false },
        // Time order of unsorted input: the rows go to buckets of (time, row id) order first, then are placed as well.
        { "csv-time", "--format csv --timestamps epoch --split time --time d --fractions 70/15/15", true },
    };

    [Theory]
    [MemberData(nameof(Jobs))]
    public void Spilled_rows_placed_in_their_batches_give_the_bytes_of_an_in_memory_run(string name, string options, bool placed)
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, nonFinite: options.Contains("recordio", StringComparison.Ordinal));
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var job = options.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (memory, _) = Convert(input, tmp.Combine("memory"), null, job);
        Assert.True(memory.Code == 0, $"{name}: {memory.Err}");
        var (spilled, registry) = Convert(input, tmp.Combine("spilled"), spillRoot, job);
        Assert.True(spilled.Code == 0, $"{name}: {spilled.Err}");
        Assert.True(registry.Diagnostics.Spills > 0, $"{name} was meant to spill");
        Assert.Equal(placed ? 1 : 0, registry.Diagnostics.SpillsPlaced);
        var expected = RunOutputs.FileHashes(tmp.Combine("memory"));
        var actual = RunOutputs.FileHashes(tmp.Combine("spilled"));
        Assert.Contains(expected.Keys, k => k.Contains("part-", StringComparison.Ordinal));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    /// <summary>
    /// The reader's placed rows equal <c>Read(rows)</c> of the same batches, value for value (bit patterns, NaN payloads,
    /// −0, float32 columns widened, a float32 column's out-of-range block kept as doubles), row information included,
    /// for batches spread over files and windows of several output batches.
    /// </summary>
    [Theory]
    [InlineData(1, 7)]
    [InlineData(2, 64)]
    [InlineData(3, 1000)]
    [InlineData(4, 9000)]
    public void Placed_rows_equal_the_rows_read_and_gathered(int seed, int batchRows)
    {
        using var tmp = new TempDir();
        var rng = new Random(seed);
        var schema = new Schema([new Field("a", ColumnKind.Float64), new Field("f", ColumnKind.Float64), new Field("k", ColumnKind.Int64), new Field("b", ColumnKind.Boolean), new Field("t", ColumnKind.Timestamp)]);
        bool[] narrow = [false, true, false, false, false];
        double[] specials = [double.NaN, BitConverter.Int64BitsToDouble(0x7FF0000000000123), -0.0, 1e-50, -1e-50, 4.9E-324, float.Epsilon, float.MaxValue, double.PositiveInfinity, double.NegativeInfinity, 0.1, 16777217];
        int total = 0;
        var batches = new List<RecordBatch>();
        for (int b = 0; b < 3; b++)
        {
            int n = 5000 + rng.Next(12000);
            double Draw(bool allowHuge) => rng.Next(10) == 0 ? specials[rng.Next(specials.Length)] : allowHuge && b == 1 && rng.Next(3000) == 0 ? 1e300 : (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9));
            var ids = Enumerable.Range(total, n).Select(i => RowInfo.MakeRowId(0, i + 1)).ToArray();
            var info = new RowInfo(ids, new int[n], Enumerable.Range(total + 1, n).Select(i => (long)i).ToArray()) { Times = Enumerable.Range(0, n).Select(_ => rng.NextInt64()).ToArray() };
            batches.Add(new RecordBatch(schema,
            [
                new Float64Column(Enumerable.Range(0, n).Select(_ => Draw(false)).ToArray()),
                new Float64Column(Enumerable.Range(0, n).Select(_ => Draw(true)).ToArray()),
                new Int64Column(Enumerable.Range(0, n).Select(_ => rng.NextInt64(long.MinValue, long.MaxValue)).ToArray()),
                new BooleanColumn(Enumerable.Range(0, n).Select(_ => rng.Next(2) == 0).ToArray()),
                new TimestampColumn(Enumerable.Range(0, n).Select(_ => rng.NextInt64()).ToArray(), null, n),
            ], n, info));
            total += n;
        }
        // Every row gets a channel (0 or 1) and a rank in it; each file takes a random share of every batch.
        var channel = new short[total];
        var rank = new int[total];
        var sizes = new int[2];
        foreach (int p in Enumerable.Range(0, total).OrderBy(_ => rng.Next()))
        {
            channel[p] = (short)(rng.Next(4) == 0 ? 1 : 0);
            rank[p] = sizes[channel[p]]++;
        }
        const int files = 3;
        var writers = Enumerable.Range(0, files).Select(f => new BatchSpillWriter(tmp.Combine($"f{f}"), narrow)).ToArray();
        int at = 0;
        foreach (var batch in batches)
        {
            var fileOf = Enumerable.Range(0, batch.RowCount).Select(_ => rng.Next(files)).ToArray();
            var parts = new List<(BatchSpillWriter, int[], int[])>();
            for (int f = 0; f < files; f++)
            {
                var rows = Enumerable.Range(0, batch.RowCount).Where(i => fileOf[i] == f).ToArray();
                parts.Add((writers[f], rows.Select(i => at + i).ToArray(), rows));
            }
            BatchSpillWriter.WriteSpread(batch, parts);
            at += batch.RowCount;
        }
        foreach (var w in writers)
        {
            Assert.True(w.FixedWidthOnly);
            w.Dispose();
        }

        for (int c = 0; c < 2; c++)
        {
            // Expected: each file's rows of the channel read with Read(rows), then put at their ranks.
            var expected = new (RecordBatch Batch, int Row)[sizes[c]];
            for (int f = 0; f < files; f++)
            {
                using var reader = new BatchSpillReader(tmp.Combine($"f{f}"), schema, narrow);
                while (!reader.AtEnd)
                {
                    var positions = reader.ReadInts();
                    var mine = Enumerable.Range(0, positions.Length).Where(i => channel[positions[i]] == c).ToArray();
                    var read = reader.Read(mine);
                    for (int i = 0; i < mine.Length; i++) expected[rank[positions[mine[i]]]] = (read, i);
                }
            }
            // Placed: all files into a window of output batches of batchRows.
            var window = new List<PlacedRows>();
            for (int lo = 0; lo < sizes[c]; lo += batchRows) window.Add(new PlacedRows(schema, Math.Min(batchRows, sizes[c] - lo)));
            for (int f = 0; f < files; f++)
            {
                using var reader = new BatchSpillReader(tmp.Combine($"f{f}"), schema, narrow);
                while (!reader.AtEnd)
                {
                    var positions = reader.ReadInts();
                    var slot = positions.Select(p => channel[p] == c ? rank[p] / batchRows : -1).ToArray();
                    var offset = positions.Select(p => rank[p] % batchRows).ToArray();
                    reader.ReadPlaced(slot, offset, window, times: true);
                }
            }
            for (int r = 0; r < sizes[c]; r++)
            {
                var (batch, row) = expected[r];
                var placed = window[r / batchRows];
                int o = r % batchRows;
                Assert.Equal(batch.Rows.RowIds[row], placed.Ids[o]);
                Assert.Equal(batch.Rows.Sources[row], placed.Sources[o]);
                Assert.Equal(batch.Rows.SourceRows[row], placed.SourceRows[o]);
                Assert.Equal(batch.Rows.Times![row], placed.Times![o]);
                Assert.Equal(BitConverter.DoubleToInt64Bits(((Float64Column)batch.Columns[0]).Values[row]), BitConverter.DoubleToInt64Bits(((double[])placed.Columns[0]!)[o]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(((Float64Column)batch.Columns[1]).Values[row]), BitConverter.DoubleToInt64Bits(((double[])placed.Columns[1]!)[o]));
                Assert.Equal(((Int64Column)batch.Columns[2]).Values[row], ((long[])placed.Columns[2]!)[o]);
                Assert.Equal(((BooleanColumn)batch.Columns[3]).Values[row], ((bool[])placed.Columns[3]!)[o]);
                Assert.Equal(((TimestampColumn)batch.Columns[4]).Values[row], ((long[])placed.Columns[4]!)[o]);
            }
            var first = window[0].ToBatch(schema, SplitTag.Validation);
            Assert.All(first.Rows.Splits!, t => Assert.Equal(SplitTag.Validation, t));
            Assert.All(first.Columns, col => Assert.Null(col.Nulls));
        }
    }

    [Fact]
    public void A_file_with_a_null_mask_or_strings_is_not_fixed_width()
    {
        using var tmp = new TempDir();
        var schema = new Schema([new Field("x", ColumnKind.Float64)]);
        var info = new RowInfo([1, 2], [0, 0], [1, 2]);
        using (var w = new BatchSpillWriter(tmp.Combine("nulls")))
        {
            w.Write(new RecordBatch(schema, [new Float64Column([1, 0], [false, true], 2)], 2, info));
            Assert.False(w.FixedWidthOnly);
        }
        using (var w = new BatchSpillWriter(tmp.Combine("picked")))
        {
            // The picked row is not missing: no mask is written, as Take would keep none.
            w.Write(new RecordBatch(schema, [new Float64Column([1, 0], [false, true], 2)], 2, info), [0]);
            Assert.True(w.FixedWidthOnly);
        }
        using (var w = new BatchSpillWriter(tmp.Combine("groups")))
        {
            w.Write(new RecordBatch(schema, [new Float64Column([1.0, 2.0])], 2, info with { GroupKeys = ["a", "b"] }));
            Assert.False(w.FixedWidthOnly);
        }
        using (var w = new BatchSpillWriter(tmp.Combine("strings")))
        {
            w.Write(new RecordBatch(new Schema([new Field("s", ColumnKind.String)]), [new StringColumn(["a", null], 2)], 2, info));
            Assert.False(w.FixedWidthOnly);
        }
    }
}
