using DataPrep.Output;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// Batches follow the memory budget (<see cref="MemoryOptions.RowsFor"/>): below 1 GB a batch holds at most a 32nd of the
/// budget in rows of at least 512 bytes of text (the budget over 16 KiB rows), wider rows give fewer rows, and the
/// writer's queues follow the batches. Output bytes do not change.
/// </summary>
public class BudgetedBatchTests
{
    [Theory]
    [InlineData(16L << 10, 1024)]
    [InlineData(16L << 20, 1024)]
    [InlineData(64L << 20, 4096)]
    [InlineData(128L << 20, 8192)]
    [InlineData(200L << 20, 8192)]
    [InlineData(512L << 20, 32_768)]
    [InlineData(1L << 30, 65_536)]
    [InlineData(8L << 30, 65_536)]
    public void A_budget_below_1GB_lowers_the_default_batch(long budget, int rows)
    {
        Assert.Equal(rows, new MemoryOptions(budget).BatchRows(65_536));
        // A smaller --batch-rows stays as given.
        Assert.Equal(97, new MemoryOptions(budget).BatchRows(97));
    }

    [Theory]
    [InlineData(128L << 20, 9000, 256)]
    [InlineData(512L << 20, 9000, 1024)]
    [InlineData(8L << 30, 9000, 16_384)]
    [InlineData(64L << 20, 100_000, 16)]
    [InlineData(16L << 20, 9000, 32)]
    [InlineData(128L << 20, 460, 8192)]
    [InlineData(128L << 20, 0, 8192)]
    [InlineData(128L << 20, 1024, 4096)]
    public void Wider_rows_get_fewer_rows_a_batch(long budget, long rowBytes, int rows)
    {
        Assert.Equal(rows, new MemoryOptions(budget).BatchRows(65_536, rowBytes));
        var options = new ConvertOptions { Inputs = ["in.csv"], Output = "out", Label = "y", Memory = new MemoryOptions(budget), RowBytes = rowBytes };
        Assert.Equal(rows, options.EffectiveBatchRows);
        // Each text source gets the budget's bytes, and cuts by its own rows' width with the same rule.
        Assert.Equal(budget / 32, options.ReadingSource.BatchBytes);
        Assert.Equal(rows, options.ReadingSource.BatchRowsFor(rowBytes));
    }

    [Property]
    public Property Batch_rows_are_as_asked_or_a_power_of_two_the_budget_holds()
        => Prop.ForAll(Gen.Choose(1, 40).ToArbitrary(), Gen.Choose(1, 1 << 20).ToArbitrary(), Gen.Choose(0, 1 << 20).ToArbitrary(), (log2, requested, rowBytes) =>
        {
            long budget = (1L << log2) + log2 * 12_345L;
            int rows = new MemoryOptions(budget).BatchRows(requested, rowBytes);
            long width = Math.Max(MemoryOptions.NarrowRowBytes, rowBytes);
            // The least batch: 512 KiB of rows (1,024 narrow ones), or 16 rows, rounded down to a power of two.
            long least = 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)Math.Max(16, MemoryOptions.MinBatchBytes / width)));
            bool asAsked = rows == requested;
            bool powerOfTwo = rows > 0 && (rows & (rows - 1)) == 0;
            return rows <= requested
                && rows >= Math.Min(requested, least)
                && (asAsked || powerOfTwo)
                && (asAsked || rows == least || rows * width <= budget / 32)
                && (asAsked || rows * 2 * width > budget / 32 || rows * 2 > requested)
                // Rows of 512 bytes or fewer: the budget over 16 KiB rows, at least 1,024.
                && (rowBytes > MemoryOptions.NarrowRowBytes || asAsked || rows == 1024 || rows * (16L << 10) <= budget);
        });

    [Fact]
    public async Task Text_sources_measure_their_rows_and_cut_batches_by_bytes()
    {
        using var tmp = new TempDir();
        // 200 columns of "0.123456": about 1.8 KB a row.
        var header = string.Join(',', Enumerable.Range(0, 200).Select(c => $"f{c}"));
        var row = string.Join(',', Enumerable.Repeat("0.123456", 200));
        var jsonLine = "{" + string.Join(',', Enumerable.Range(0, 200).Select(c => $"\"f{c}\":0.123456")) + "}";
        var svmLine = "1 " + string.Join(' ', Enumerable.Range(1, 200).Select(c => $"{c}:0.123456"));
        var csv = tmp.File("wide.csv", header + "\n" + string.Join('\n', Enumerable.Repeat(row, 3000)) + "\n");
        var jsonl = tmp.File("wide.jsonl", string.Join('\n', Enumerable.Repeat(jsonLine, 3000)) + "\n");
        var libsvm = tmp.File("wide.svm", string.Join('\n', Enumerable.Repeat(svmLine, 3000)) + "\n");
        // 1 MB of row text a batch (a 32 MB budget).
        var options = new SourceOptions { BatchBytes = 1L << 20, Threads = 2 };
        foreach (var (source, width) in new (DataPrep.Sources.IRecordSource, int)[]
        {
            (new DataPrep.Sources.CsvSource(csv, options), row.Length + 1),
            (new DataPrep.Sources.JsonLinesSource(jsonl, options), jsonLine.Length + 1),
            (new DataPrep.Sources.LibSvmSource(libsvm, options), svmLine.Length + 1),
        })
        {
            await source.OpenAsync();
            Assert.Equal(width, source.RowBytes);
            int expected = MemoryOptions.RowsFor(65_536, 1L << 20, width);
            Assert.True(expected is >= 256 and <= 512, $"{source.Description}: {expected} rows a batch");
            var sizes = new List<int>();
            await foreach (var b in source.ReadAsync(0)) sizes.Add(b.RowCount);
            Assert.Equal(3000, sizes.Sum());
            Assert.All(sizes.SkipLast(1), n => Assert.Equal(expected, n));
            // Without a byte bound, one batch.
            var whole = (DataPrep.Sources.IRecordSource)(source switch
            {
                DataPrep.Sources.CsvSource => new DataPrep.Sources.CsvSource(csv, new SourceOptions()),
                DataPrep.Sources.JsonLinesSource => new DataPrep.Sources.JsonLinesSource(jsonl, new SourceOptions()),
                _ => new DataPrep.Sources.LibSvmSource(libsvm, new SourceOptions()),
            });
            int batches = 0;
            await foreach (var b in whole.ReadAsync(0)) batches++;
            Assert.Equal(1, batches);
        }
    }

    [Fact]
    public void Options_make_batches_within_their_budget_and_record_the_rows_asked_for()
    {
        var options = new ConvertOptions { Inputs = ["in.csv"], Output = "out", Label = "y", Memory = new MemoryOptions(128L << 20) };
        Assert.Equal(8192, options.EffectiveBatchRows);
        Assert.Equal(500, (options with { Source = options.Source with { BatchRows = 500 } }).EffectiveBatchRows);
        Assert.Equal(65_536, (options with { Memory = new MemoryOptions(2L << 30) }).EffectiveBatchRows);
        Assert.Equal(65_536, options.Source.BatchRows);
    }

    [Theory]
    [InlineData(64L << 20, 5L << 20, 1)]
    [InlineData(128L << 20, 5L << 20, 3)]
    [InlineData(256L << 20, 5L << 20, 6)]
    [InlineData(512L << 20, 8L << 20, 8)]
    [InlineData(1L << 30, 16L << 20, 8)]
    [InlineData(4L << 30, 16L << 20, 8)]
    public void S3_upload_buffers_follow_the_budget(long budget, long part, int inFlight)
    {
        var asked = new S3Options();
        var s3 = new MemoryOptions(budget).UploadBuffers(asked);
        Assert.Equal((part, inFlight), (s3.PartSize, s3.Concurrency));
        // Only the upload knobs change, and only downwards: what was asked below the budget's share stays.
        Assert.Equal(asked with { PartSize = part, Concurrency = inFlight }, s3);
        var least = asked with { PartSize = S3Options.MinPartSize, Concurrency = 1 };
        Assert.Same(least, new MemoryOptions(budget).UploadBuffers(least));
        var options = new ConvertOptions { Inputs = ["in.csv"], Output = "s3://b/o/", Label = "y", Memory = new MemoryOptions(budget) };
        Assert.Equal(s3, options.EffectiveS3);
        Assert.Equal(asked, options.S3);
    }

    [Property]
    public Property Upload_buffers_stay_within_what_was_asked_and_a_quarter_of_the_budget()
        => Prop.ForAll(Gen.Choose(20, 36).ToArbitrary(), Gen.Choose(5, 200).ToArbitrary(), Gen.Choose(1, 64).ToArbitrary(), (log2, partMiB, concurrency) =>
        {
            long budget = 1L << log2;
            var asked = new S3Options { PartSize = (long)partMiB << 20, Concurrency = concurrency };
            var s3 = new MemoryOptions(budget).UploadBuffers(asked);
            return s3.PartSize >= S3Options.MinPartSize && s3.PartSize <= asked.PartSize
                && s3.Concurrency >= 1 && s3.Concurrency <= asked.Concurrency
                && (s3.Concurrency == 1 || s3.Concurrency * s3.PartSize <= budget / 8)
                && (s3.PartSize == S3Options.MinPartSize || s3.PartSize == asked.PartSize || s3.PartSize <= budget / 64);
        });

    [Theory]
    [InlineData(16L << 10, 32L << 20)]
    [InlineData(16L << 20, 32L << 20)]
    [InlineData(64L << 20, 48L << 20)]
    [InlineData(128L << 20, 96L << 20)]
    [InlineData(1L << 30, 768L << 20)]
    public void The_heap_is_collected_past_three_quarters_of_the_budget(long budget, long cap)
        => Assert.Equal(cap, new MemoryGovernor(budget).Cap);

    [Theory]
    [InlineData(65_536, 64)]
    [InlineData(32_768, 32)]
    [InlineData(8192, 8)]
    [InlineData(4096, 4)]
    [InlineData(1024, 4)]
    [InlineData(97, 4)]
    [InlineData(int.MaxValue, 64)]
    public void The_writer_queues_four_batches_of_chunks(int batchRows, int chunks)
        => Assert.Equal(chunks, ShardedSink.QueuedChunks(batchRows));

    [Theory]
    [InlineData("csv", "csv")]
    [InlineData("recordio-protobuf", "csv")]
    [InlineData("csv", "jsonl")]
    public void Batches_of_wide_rows_give_the_bytes_of_full_batches(string format, string inputKind)
    {
        using var tmp = new TempDir();
        var input = WideInput(tmp, inputKind);
        string[] common = ["convert", input, "--label", "y", "--format", format, "--quiet", "--shard-size", "256KB"];
        // Rows of about 5.7 KB (CSV; 6.9 KB JSON Lines): at --memory 16MB, 64-row batches where a row count alone gave
        // 1,024, from the source to the writer; with 4 GB, one batch.
        var smallRun = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var small = CliRunner.Run(smallRun, [.. common, "--out", tmp.Combine("small"), "--memory", "16MB", "--temp", tmp.Combine("spill")]);
        Assert.True(small.Code == 0, small.Err);
        Assert.Equal(64, smallRun.Diagnostics.LargestBatchWritten);
        var wholeRun = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var whole = CliRunner.Run(wholeRun, [.. common, "--out", tmp.Combine("whole"), "--memory", "4GB"]);
        Assert.True(whole.Code == 0, whole.Err);
        Assert.True(wholeRun.Diagnostics.LargestBatchWritten > 1000, $"{wholeRun.Diagnostics.LargestBatchWritten} rows");
        var a = RunOutputs.FileHashes(tmp.Combine("small"));
        Assert.True(a.Count > 6, $"only {a.Count} files");
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("whole")), a);
    }

    /// <summary>1,500 rows of 300 random floats and a 0/1 label y, as CSV (about 5.7 KB a row) or JSON Lines.</summary>
    private static string WideInput(TempDir tmp, string kind)
    {
        var rng = new Random(11);
        var names = Enumerable.Range(0, 300).Select(c => $"f{c}").Append("y").ToArray();
        var rows = Enumerable.Range(0, 1500).Select(_ => names.Select(n => n == "y" ? rng.Next(2).ToString(System.Globalization.CultureInfo.InvariantCulture) : FormattableString.Invariant($"{rng.NextDouble() * 100 - 50}")).ToArray()).ToList();
        return kind == "csv"
            ? tmp.File("in.csv", string.Join(',', names) + "\n" + string.Join('\n', rows.Select(r => string.Join(',', r))) + "\n")
            : tmp.File("in.jsonl", string.Join('\n', rows.Select(r => "{" + string.Join(',', names.Select((n, i) => $"\"{n}\":{r[i]}")) + "}")) + "\n");
    }

    [Fact]
    public async Task A_Parquet_source_measures_decoded_rows_from_its_footer()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("wide.parquet");
        // 100 double columns and a text column of 40 characters: 816 bytes decoded a row, and the text's.
        var fields = Enumerable.Range(0, 100).Select(c => new global::Parquet.Schema.DataField<double>($"f{c}")).ToList();
        var text = new global::Parquet.Schema.DataField<string>("s");
        await using (var stream = File.Create(path))
        {
            await using var writer = await global::Parquet.ParquetWriter.CreateAsync(new global::Parquet.Schema.ParquetSchema([.. fields, text]), stream);
            using var group = writer.CreateRowGroup();
            foreach (var f in fields) await group.WriteAsync<double>(f, Enumerable.Range(0, 9000).Select(i => i * 0.5).ToArray().AsMemory());
            await group.WriteAsync(text, Enumerable.Range(0, 9000).Select(i => i.ToString("D40", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
        var source = new DataPrep.Sources.ParquetSource(path, new SourceOptions { BatchBytes = 256L << 10 });
        await source.OpenAsync();
        Assert.InRange(source.RowBytes, 816 + 40, 816 + 80);
        // The run's batches after the split follow the width (at a 256 KiB bound the least batch decides: 512 KiB of
        // rows, 609, rounded down to 512), but the source cuts its row groups by rows alone: a group is decoded whole
        // anyway, and cutting it would copy every value while it stays alive.
        Assert.Equal(512, MemoryOptions.RowsFor(65_536, 256L << 10, source.RowBytes));
        var sizes = new List<int>();
        await foreach (var b in source.ReadAsync(0)) sizes.Add(b.RowCount);
        Assert.Equal([9000], sizes);
        var options = new ConvertOptions { Inputs = [path], Output = tmp.Combine("out"), NoLabel = true, Memory = new MemoryOptions(8L << 20) };
        Assert.Equal(512, DataPrep.Conversion.ConvertRunner.WithRowBytes(options, [source]).EffectiveBatchRows);
    }

    [Fact]
    public void Scaled_out_encode_tasks_cut_wide_rows_as_the_scan_measured()
    {
        using var tmp = new TempDir();
        var input = WideInput(tmp, "csv");
        string[] common = ["convert", input, "--label", "y", "--format", "recordio-protobuf", "--quiet", "--shard-size", "256KB", "--memory", "16MB", "--temp", tmp.Combine("spill")];
        var one = CliRunner.Run([.. common, "--out", tmp.Combine("one")]);
        Assert.True(one.Code == 0, one.Err);
        // The steps in order, each task in this process: the encode tasks learn the rows' width from scan task 0's report.
        string[] scaled = [.. common, "--out", tmp.Combine("many"), "--workers", "2", "--work", tmp.Combine("work")];
        var steps = CliRunner.Run([.. scaled, "--steps"]);
        Assert.True(steps.Code == 0, steps.Err);
        foreach (var line in steps.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            for (int task = 0; task < int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture); task++)
            {
                var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
                var r = CliRunner.Run(registry, [.. scaled, "--step", parts[0], "--worker", task.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                Assert.True(r.Code == 0, $"{line} task {task}: {r.Err}");
                if (parts[0] == "encode") Assert.Equal(64, registry.Diagnostics.LargestBatchWritten);
            }
        }
        var a = RunOutputs.FileHashes(tmp.Combine("many"));
        Assert.True(a.Count > 6, $"only {a.Count} files");
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("one")), a);
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("recordio-protobuf")]
    public void Budgeted_batches_give_the_bytes_of_full_batches(string format)
    {
        using var tmp = new TempDir();
        var rng = new Random(7);
        var lines = new List<string> { "a,b,c,y" };
        for (int i = 0; i < 5000; i++) lines.Add(FormattableString.Invariant($"{rng.NextDouble() * 100 - 50},{rng.Next(-9, 9)},{rng.NextDouble() / 7},{rng.Next(2)}"));
        var input = tmp.File("in.csv", string.Join('\n', lines) + "\n");
        string[] common = ["convert", input, "--label", "y", "--format", format, "--quiet", "--shard-size", "64KB"];
        // --memory 16MB: five batches of 1,024 rows, and writer queues of 4 chunks; no budget: one batch.
        var small = CliRunner.Run([.. common, "--out", tmp.Combine("small"), "--memory", "16MB", "--temp", tmp.Combine("spill")]);
        Assert.True(small.Code == 0, small.Err);
        var whole = CliRunner.Run([.. common, "--out", tmp.Combine("whole"), "--memory", "4GB"]);
        Assert.True(whole.Code == 0, whole.Err);
        var a = RunOutputs.FileHashes(tmp.Combine("small"));
        Assert.True(a.Count > 6, $"only {a.Count} files");
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("whole")), a);
    }
}
