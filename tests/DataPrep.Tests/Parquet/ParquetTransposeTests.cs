using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using Parquet;
using Parquet.Schema;

namespace DataPrep.Tests.Parquet;

/// <summary>
/// A row group whose decoded rows exceed an eighth of the budget (<see cref="ParquetSource.HeldGroupBatches"/> batches) is
/// transposed on disk and read back in batches of the budget's rows (<see cref="RowGroupTranspose"/>): the same rows,
/// values, null masks, row ids and bad rows as a group held whole, nothing left in the temp folder, and the same output
/// bytes.
/// </summary>
public class ParquetTransposeTests
{
    private const int Doubles = 40;

    /// <summary>
    /// Two row groups, 300 and 5,000 rows: 40 nullable doubles (a null every 7th row of the first), y (0/1), a nullable
    /// boolean, a text column with nulls, a timestamp. About 400 bytes decoded a row. <paramref name="nans"/>: a NaN in
    /// column dC at 1-based row R.
    /// </summary>
    private static string WriteFile(TempDir tmp, params (int Column, int Row)[] nans)
    {
        var path = tmp.Combine("groups.parquet");
        var doubles = Enumerable.Range(0, Doubles).Select(c => new DataField<double?>($"d{c}")).ToArray();
        var y = new DataField<long>("y");
        var flag = new DataField<bool?>("flag");
        var text = new DataField<string>("s");
        var time = new DateTimeDataField("t", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros);
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema([.. doubles, y, flag, text, time]), stream).GetAwaiter().GetResult();
        try
        {
            int first = 0;
            foreach (int rows in new[] { 300, 5000 })
            {
                var ids = Enumerable.Range(first, rows).ToArray();
                using var group = writer.CreateRowGroup();
                for (int c = 0; c < Doubles; c++)
                {
                    int column = c;
                    var values = ids.Select(i => column == 0 && i % 7 == 3 ? (double?)null
                        : nans.Contains((column, i + 1)) ? double.NaN
                        : Math.Sin(i * 0.37 + column) * 1000 + column).ToArray();
                    group.WriteAsync<double>(doubles[c], values.AsMemory()).GetAwaiter().GetResult();
                }
                group.WriteAsync<long>(y, ids.Select(i => (long)(i % 2)).ToArray().AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync<bool>(flag, ids.Select(i => i % 5 == 0 ? (bool?)null : i % 3 == 0).ToArray().AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync(text, ids.Select(i => i % 11 == 0 ? null : $"row {i} é").ToArray()).GetAwaiter().GetResult();
                group.WriteAsync<DateTime>(time, ids.Select(i => new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i * 61.5)).ToArray().AsMemory()).GetAwaiter().GetResult();
                first += rows;
            }
        }
        finally
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return path;
    }

    private static string Cell(Column column, int row) => column.IsNull(row) ? "null" : column switch
    {
        Float64Column f => f.Values[row].ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        Int64Column l => l.Values[row].ToString(System.Globalization.CultureInfo.InvariantCulture),
        BooleanColumn b => b.Values[row] ? "true" : "false",
        StringColumn s => "'" + s.Values[row] + "'",
        TimestampColumn t => t.Values[row].ToString(System.Globalization.CultureInfo.InvariantCulture),
        BinaryColumn b => Convert.ToHexString(b.Values[row].Span),
        _ => throw new NotSupportedException(column.GetType().Name),
    };

    /// <summary>Every batch's rows as text (row id, then each cell), and the batches' sizes.</summary>
    private static async Task<(List<string> Rows, List<int> Sizes)> ReadAll(ParquetSource source)
    {
        var rows = new List<string>();
        var sizes = new List<int>();
        await foreach (var batch in source.ReadAsync(0))
        {
            sizes.Add(batch.RowCount);
            for (int r = 0; r < batch.RowCount; r++)
            {
                rows.Add(batch.Rows.RowIds[r] + ":" + string.Join('|', batch.Columns.Select(c => Cell(c, r))));
            }
        }
        return (rows, sizes);
    }

    private static bool LeftBehind(string temp) => Directory.Exists(temp) && Directory.EnumerateFileSystemEntries(temp, "*", SearchOption.AllDirectories).Any();

    [Fact]
    public async Task A_group_too_large_for_the_budget_is_read_back_in_budgeted_batches_with_the_same_rows()
    {
        using var tmp = new TempDir();
        var path = WriteFile(tmp);
        var whole = new ParquetSource(path, new SourceOptions());
        await whole.OpenAsync();
        var (expected, wholeSizes) = await ReadAll(whole);
        Assert.Equal([300, 5000], wholeSizes);

        // 64 KiB batches: a group is held while it decodes to at most 256 KiB. The 300-row group (about 120 KB) is; the
        // 5,000-row one is transposed and read back in batches of 1,024 rows (the least batch: 512 KiB of 512-byte rows).
        var temp = tmp.Combine("temp");
        Directory.CreateDirectory(temp);
        var options = new SourceOptions { BatchBytes = 64L << 10, TempDirectory = temp };
        var budgeted = new ParquetSource(path, options);
        await budgeted.OpenAsync();
        Assert.InRange(budgeted.RowBytes, 40 * 8 + 8 + 1 + 16 + 8, 40 * 8 + 8 + 1 + 16 + 8 + 40);
        Assert.True(300 * budgeted.RowBytes <= ParquetSource.HeldGroupBatches * options.BatchBytes);
        Assert.True(5000 * budgeted.RowBytes > ParquetSource.HeldGroupBatches * options.BatchBytes);
        Assert.Equal(1024, options.BatchRowsFor(budgeted.RowBytes));
        var (rows, sizes) = await ReadAll(budgeted);
        Assert.Equal([300, 1024, 1024, 1024, 1024, 904], sizes);
        Assert.Equal(expected.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++) Assert.True(expected[i] == rows[i], $"row {i + 1}: {rows[i]}, expected {expected[i]}");
        Assert.False(LeftBehind(temp), "a temp file was left behind");

        // A reader that stops mid-group removes its temp file as well.
        int seen = 0;
        await foreach (var batch in new ParquetSource(path, options).ReadAsync(0))
        {
            if (++seen == 3) break;
        }
        Assert.False(LeftBehind(temp), "a temp file was left behind after stopping early");
    }

    [Fact]
    public async Task Row_groups_read_as_parts_are_transposed_alike()
    {
        using var tmp = new TempDir();
        var path = WriteFile(tmp);
        var temp = tmp.Combine("temp");
        var whole = new ParquetSource(path, new SourceOptions());
        await whole.OpenAsync();
        var (expected, _) = await ReadAll(whole);
        // The second row group alone (a scaled-out scan task's part): row ids count the first group's rows.
        var part = new ParquetSource(path, new SourceOptions { BatchBytes = 64L << 10, TempDirectory = temp });
        var rows = new List<string>();
        await foreach (var batch in part.ReadPartsAsync(0, 1, 2))
        {
            Assert.True(batch.RowCount <= 1024);
            for (int r = 0; r < batch.RowCount; r++) rows.Add(batch.Rows.RowIds[r] + ":" + string.Join('|', batch.Columns.Select(c => Cell(c, r))));
        }
        Assert.Equal(expected.Skip(300), rows);
        Assert.False(LeftBehind(temp));
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("recordio-protobuf")]
    [InlineData("parquet")]
    public void A_run_under_a_small_budget_writes_the_bytes_of_a_large_one(string format)
    {
        using var tmp = new TempDir();
        var input = WriteFile(tmp);
        var temp = tmp.Combine("temp");
        string[] common = ["convert", input, "--label", "y", "--drop", "s", "--drop", "t", "--drop", "flag", "--missing", "fill:0", "--format", format, "--quiet", "--shard-size", "64KB"];
        var small = CliRunner.Run([.. common, "--out", tmp.Combine("small"), "--memory", "2MB", "--temp", temp]);
        Assert.True(small.Code == 0, small.Err);
        var large = CliRunner.Run([.. common, "--out", tmp.Combine("large"), "--memory", "4GB"]);
        Assert.True(large.Code == 0, large.Err);
        var a = RunOutputs.FileHashes(tmp.Combine("small"));
        Assert.True(a.Count > 6, $"only {a.Count} files");
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("large")), a);
        Assert.False(LeftBehind(temp), "the run left temp files");
    }

    [Fact]
    public void A_scaled_out_run_over_a_transposed_group_writes_the_bytes_of_one_process()
    {
        using var tmp = new TempDir();
        var input = WriteFile(tmp);
        var temp = tmp.Combine("temp");
        string[] common = ["convert", input, "--label", "y", "--drop", "s", "--drop", "t", "--drop", "flag", "--missing", "fill:0", "--format", "recordio-protobuf",
            "--quiet", "--shard-size", "64KB", "--memory", "2MB", "--temp", temp];
        var one = CliRunner.Run([.. common, "--out", tmp.Combine("one")]);
        Assert.True(one.Code == 0, one.Err);
        // Each task of each step in this process, in a shuffled order: the scan tasks read a row group each (the second is
        // transposed, as Row_groups_read_as_parts_are_transposed_alike shows for a part).
        string[] scaled = [.. common, "--out", tmp.Combine("many"), "--workers", "2", "--work", tmp.Combine("work")];
        DataPrep.Tests.Scale.ScaleOutTests.RunSteps(scaled, new Random(3), (args, _) => CliRunner.Run(args));
        var many = RunOutputs.FileHashes(tmp.Combine("many"));
        Assert.True(many.Count > 6, $"only {many.Count} files");
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("one")), many);
        Assert.False(LeftBehind(temp), "the tasks left temp files");
    }

    [Fact]
    public void Bad_rows_of_a_transposed_group_are_named_and_skipped_as_in_a_whole_one()
    {
        using var tmp = new TempDir();
        // Row 2000's NaN is in a later column than row 2345's: decoding the group whole meets d3's first, and so must the
        // workers that decode its columns in parallel.
        var input = WriteFile(tmp, (3, 2345), (20, 2000), (3, 4001));
        string[] common = ["convert", input, "--label", "y", "--drop", "s", "--drop", "t", "--drop", "flag", "--missing", "fill:0", "--quiet"];
        // Refused: the first column's NaN is named by its row, row group and column, as a whole group names it.
        foreach (var memory in new[] { "2MB", "4GB" })
        {
            var refused = CliRunner.Run([.. common, "--out", tmp.Combine("refused" + memory), "--memory", memory, "--temp", tmp.Combine("temp")]);
            Assert.Equal(3, refused.Code);
            Assert.Contains("row 2345 (row group 2 of 2, its row 2045)", refused.Err);
            Assert.Contains("column 'd3'", refused.Err);
            Assert.False(Directory.Exists(tmp.Combine("refused" + memory)) && Directory.EnumerateFiles(tmp.Combine("refused" + memory), "*", SearchOption.AllDirectories).Any());
        }
        // Skipped: the same three rows are left out either way.
        var small = CliRunner.Run([.. common, "--out", tmp.Combine("small"), "--on-bad-row", "skip", "--memory", "2MB", "--temp", tmp.Combine("temp")]);
        Assert.True(small.Code == 0, small.Err);
        var large = CliRunner.Run([.. common, "--out", tmp.Combine("large"), "--on-bad-row", "skip", "--memory", "4GB"]);
        Assert.True(large.Code == 0, large.Err);
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("large")), RunOutputs.FileHashes(tmp.Combine("small")));
        int rows = Directory.EnumerateFiles(tmp.Combine("small"), "*.csv", SearchOption.AllDirectories).Where(f => !f.Contains("_dataprep", StringComparison.Ordinal)).Sum(f => File.ReadAllLines(f).Length);
        Assert.Equal(5300 - 3, rows);
    }

    [Fact]
    public void The_transpose_takes_columns_in_any_order_and_refuses_reads_before_every_column_and_columns_of_another_length()
    {
        using var tmp = new TempDir();
        var schema = new DataPrep.Data.Schema([new DataPrep.Data.Field("a", ColumnKind.Float64), new DataPrep.Data.Field("b", ColumnKind.String),
            new DataPrep.Data.Field("c", ColumnKind.Binary), new DataPrep.Data.Field("d", ColumnKind.Boolean), new DataPrep.Data.Field("e", ColumnKind.Timestamp), new DataPrep.Data.Field("f", ColumnKind.Int64)]);
        using var t = new RowGroupTranspose(tmp.Combine("g.bin"), schema, 5, 2);
        Assert.Equal(3, t.Slices);
        Assert.Throws<InvalidOperationException>(() => t.Add(0, new Float64Column([1, 2, 3])));
        // Columns come in any order (workers decode them in parallel).
        t.Add(1, new StringColumn(["v", null, "w", "x", "é"], 5));
        t.Add(3, new BooleanColumn([true, false, false, true, true], [false, false, false, false, true], 5));
        t.Add(2, new BinaryColumn([new byte[] { 1, 2 }, Array.Empty<byte>(), new byte[] { 255 }, new byte[] { 0 }, new byte[] { 7, 7, 7 }], [false, true, false, false, false], 5));
        t.Add(5, new Int64Column([-1, long.MaxValue, 0, 3, long.MinValue]));
        Assert.Throws<InvalidOperationException>(() => t.Read(0));
        Assert.Throws<InvalidOperationException>(() => t.Add(1, new StringColumn(["v", null, "w", "x", "é"], 5)));
        t.Add(4, new TimestampColumn([10, 20, 30, 40, 50], null, 5));
        t.Add(0, new Float64Column([1, 2, 3, 4, 5], [false, false, true, false, false], 5));
        string Row(Column[] columns, int r) => string.Join('|', columns.Select(c => Cell(c, r)));
        var last = t.Read(2);
        Assert.Equal(["5|'é'|070707|null|50|-9223372036854775808"], Enumerable.Range(0, 1).Select(r => Row(last, r)));
        var middle = t.Read(1);
        Assert.Equal(["null|'w'|FF|false|30|0", "4|'x'|00|true|40|3"], Enumerable.Range(0, 2).Select(r => Row(middle, r)));
        // A slice without a missing value has no null mask, as a batch of those rows would not.
        Assert.All(middle.Where(c => c.Kind is ColumnKind.Binary or ColumnKind.Boolean), c => Assert.Null(c.Nulls));
        var first = t.Read(0);
        Assert.Equal(["1|'v'|0102|true|10|-1", "2|null|null|false|20|9223372036854775807"], Enumerable.Range(0, 2).Select(r => Row(first, r)));
        t.Dispose();
        Assert.False(File.Exists(tmp.Combine("g.bin")));
    }
}
