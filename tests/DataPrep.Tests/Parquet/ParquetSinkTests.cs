using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Xunit;
using DataPrep.Conversion;

namespace DataPrep.Tests.Parquet;

/// <summary>
/// The Parquet sink driven directly with batches: row group and shard boundaries depend only on row counts and
/// options, never on how the rows were cut into batches; the row group formula's bounds; column names; refusals.
/// </summary>
public class ParquetSinkTests
{
    private static readonly Schema s_schema = new([
        new Field("y", ColumnKind.Int64),
        new Field("x", ColumnKind.Float64),
        new Field("flag", ColumnKind.Boolean),
        new Field("cat", ColumnKind.Sparse, 4),
        new Field("k", ColumnKind.Int64),
    ]);

    /// <summary><paramref name="rows"/> random rows of <see cref="s_schema"/>, each tagged train, validation or test.</summary>
    private static RecordBatch Rows(Random rng, int rows)
    {
        var y = new long[rows];
        var x = new double[rows];
        var flag = new bool[rows];
        var k = new long[rows];
        var offsets = new int[rows + 1];
        var indices = new List<int>();
        var tags = new SplitTag[rows];
        for (int r = 0; r < rows; r++)
        {
            y[r] = rng.Next(3);
            x[r] = Math.Round(rng.NextDouble() * 1000 - 500, rng.Next(6));
            flag[r] = rng.Next(2) == 1;
            k[r] = rng.NextInt64(-1_000_000_000_000, 1_000_000_000_000);
            if (rng.Next(5) > 0) indices.Add(rng.Next(4)); // some rows have no category set
            offsets[r + 1] = indices.Count;
            tags[r] = (SplitTag)rng.Next(3);
        }
        Column[] columns =
        [
            new Int64Column(y), new Float64Column(x), new BooleanColumn(flag),
            new SparseColumn(4, offsets, [.. indices], [.. indices.Select(_ => 1.0)], rows), new Int64Column(k),
        ];
        return new RecordBatch(s_schema, columns, rows, RowInfo.Sequential(0, 0, rows) with { Splits = tags });
    }

    private static IEnumerable<RecordBatch> Cut(RecordBatch all, Random rng)
    {
        for (int start = 0; start < all.RowCount;)
        {
            int n = Math.Min(all.RowCount - start, rng.Next(1, 700));
            yield return all.Take([.. Enumerable.Range(start, n)]);
            start += n;
        }
    }

    /// <summary>Writes batches through the registered format's sink into a new folder, as the runner does.</summary>
    private static async Task<RunContext> WriteAsync(string outDir, ConvertOptions options, IEnumerable<RecordBatch> batches, Schema? schema = null)
    {
        options = options with { Output = outDir };
        var registry = new DataPrepRegistry().AddParquet();
        var format = registry.Formats.Get("parquet");
        var store = registry.Stores.CreateOutput(options);
        var layout = new RunLayout(store, _ => "{}\n"u8.ToArray());
        var context = new RunContext();
        context.Inputs.Add("in.csv");
        await using var sink = format.CreateSink(new FormatSinkContext(options, store, HasLabel: true, layout));
        await sink.OpenAsync(schema ?? s_schema, context, default);
        await store.PrepareAsync(false, default);
        foreach (var b in batches) await sink.WriteAsync(b, default);
        await sink.CommitAsync(default);
        return context;
    }

    [Property(MaxTest = 15)]
    public void Files_do_not_depend_on_batch_boundaries(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        using var tmp = new TempDir();
        var all = Rows(rng, rng.Next(1, 3000));
        var options = new ConvertOptions
        {
            // The smallest budget: row groups of 1,024 rows (or --shard-rows).
            Memory = new MemoryOptions(Budget: 1, TempDirectory: tmp.Path),
            Shards = new ShardOptions(MaxRows: new long[] { 0, 0, 700, 1500 }[rng.Next(4)], Count: new[] { 0, 0, 0, 3 }[rng.Next(4)]),
            Threads = rng.Next(1, 3),
        };
        WriteAsync(tmp.Combine("whole"), options, [all]).GetAwaiter().GetResult();
        WriteAsync(tmp.Combine("cut"), options with { Threads = 3 - options.Threads }, Cut(all, rng)).GetAwaiter().GetResult();
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("whole")), RunOutputs.FileHashes(tmp.Combine("cut")));

        int groupRows = ParquetFormatDefinition.RowGroupRows(options, 8);
        foreach (var file in Directory.GetFiles(tmp.Combine("cut"), "*.parquet", SearchOption.AllDirectories))
        {
            var table = ParquetOutputFiles.Read(file);
            Assert.All(table.RowGroups, n => Assert.InRange(n, 1, groupRows));
            if (options.Shards.MaxRows > 0) Assert.True(table.Lines.Count <= options.Shards.MaxRows);
        }
    }

    [Fact]
    public async Task Rows_are_written_dense_with_booleans_as_integers()
    {
        using var tmp = new TempDir();
        var all = Rows(new Random(3), 50);
        await WriteAsync(tmp.Combine("out"), new ConvertOptions(), [all]);
        var table = ParquetOutputFiles.Read(tmp.Combine("out", "train", "part-00000.parquet"));
        Assert.Equal(["y", "x", "flag", "cat[0]", "cat[1]", "cat[2]", "cat[3]", "k"], table.Columns.Select(c => c.Name));
        var train = Enumerable.Range(0, 50).Where(r => all.Rows.Splits![r] == SplitTag.Train).ToList();
        var csv = new LabelFirstCsvFormat(true).Format(all.Take([.. train]), 0, train.Count);
        var expected = System.Text.Encoding.UTF8.GetString(csv.Data, 0, csv.Length).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected, table.Lines);
    }

    [Property(MaxTest = 300)]
    public void Row_group_rows_stay_within_their_bounds(PositiveInt budgetKb, PositiveInt columns, byte folds, NonNegativeInt maxRows, PositiveInt maxBytesKb, bool lineage)
    {
        int cols = columns.Get % 5000 + 1;
        long budget = budgetKb.Get * 1024L, maxBytes = maxBytesKb.Get * 1024L;
        var options = new ConvertOptions
        {
            Memory = new MemoryOptions(budget),
            Folds = folds % 2 == 0 ? 0 : 2 + folds % 9,
            Shards = new ShardOptions(MaxBytes: maxBytes, MaxRows: maxRows.Get),
            Lineage = lineage,
        };
        int rows = ParquetFormatDefinition.RowGroupRows(options, cols);
        long cap = Math.Min(maxRows.Get > 0 ? maxRows.Get : long.MaxValue, Math.Max(1, maxBytes / (8L * cols)));
        Assert.InRange(rows, Math.Min(ParquetFormatDefinition.MinRowGroupRows, cap), Math.Min(ParquetFormatDefinition.MaxRowGroupRows, cap));
        Assert.True(ParquetFormatDefinition.RowGroupRows(options with { Memory = new MemoryOptions(budget * 2) }, cols) >= rows);
        // Without --memory the budget is a constant, not the machine's memory: the files are the same everywhere.
        Assert.Equal(
            ParquetFormatDefinition.RowGroupRows(options with { Memory = new MemoryOptions(ParquetFormatDefinition.DefaultRowGroupBudget) }, cols),
            ParquetFormatDefinition.RowGroupRows(options with { Memory = new MemoryOptions() }, cols));
    }

    [Fact]
    public void One_hot_positions_are_named_after_their_categories()
    {
        var schema = new Schema([new Field("y", ColumnKind.Int64), new Field("plan", ColumnKind.Sparse, 3), new Field("bag", ColumnKind.Sparse, 2)]);
        var encoding = new EncodingRecord { Features = [new FeatureRecord { Name = "plan", Encoding = "onehot", Vocabulary = ["basic", "pro"], Width = 3 }] };
        Assert.Equal(["y", "plan=basic", "plan=pro", "plan=<unseen>", "bag[0]", "bag[1]"], ParquetColumns.Create(schema, encoding).Columns.Select(c => c.Name));
        Assert.Equal(["y", "plan[0]", "plan[1]", "plan[2]", "bag[0]", "bag[1]"], ParquetColumns.Create(schema, null).Columns.Select(c => c.Name));

        var clash = new Schema([new Field("y", ColumnKind.Int64), new Field("plan=pro", ColumnKind.Float64), new Field("plan", ColumnKind.Sparse, 3)]);
        var e = Assert.Throws<PipelineValidationException>(() => ParquetColumns.Create(clash, encoding));
        Assert.Contains("two columns named 'plan=pro'", e.Message);
    }

    [Fact]
    public async Task A_missing_value_that_reaches_the_sink_stops_the_run_naming_the_row()
    {
        using var tmp = new TempDir();
        var good = Rows(new Random(5), 20);
        var nulls = new bool[20];
        nulls[6] = true;
        var columns = good.Columns.ToArray();
        columns[1] = new Float64Column(((Float64Column)columns[1]).Values, nulls, 20);
        var bad = new RecordBatch(s_schema, columns, 20, good.Rows);
        var e = await Assert.ThrowsAsync<DataFormatException>(() => WriteAsync(tmp.Combine("out"), new ConvertOptions(), [bad]));
        Assert.Equal("x", e.Column);
        Assert.Equal(7, e.Row);
        Assert.Equal("in.csv", e.File);
        Assert.False(Directory.Exists(tmp.Combine("out", "train")));
    }

    [Fact]
    public async Task Text_columns_are_refused_before_anything_is_created()
    {
        using var tmp = new TempDir();
        var schema = new Schema([new Field("y", ColumnKind.Int64), new Field("city", ColumnKind.String)]);
        var e = await Assert.ThrowsAsync<PipelineValidationException>(() => WriteAsync(tmp.Combine("out"), new ConvertOptions(), [], schema));
        Assert.Contains("Parquet output needs numeric columns, but 'city' is String", e.Message);
        Assert.False(Directory.Exists(tmp.Combine("out")));
    }
}
