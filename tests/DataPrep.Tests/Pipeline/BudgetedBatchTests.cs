using DataPrep.Output;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// Batches follow the memory budget (<see cref="MemoryOptions.BatchRows"/>): below 1 GB a batch holds at most the budget
/// over 16 KiB rows, and the writer's queues follow the batches. Output bytes do not change.
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

    [Property]
    public Property Batch_rows_are_as_asked_or_a_power_of_two_the_budget_holds()
        => Prop.ForAll(Gen.Choose(1, 40).ToArbitrary(), Gen.Choose(1, 1 << 20).ToArbitrary(), (log2, requested) =>
        {
            long budget = (1L << log2) + log2 * 12_345L;
            int rows = new MemoryOptions(budget).BatchRows(requested);
            bool asAsked = rows == requested;
            bool powerOfTwo = rows > 0 && (rows & (rows - 1)) == 0;
            return rows <= requested
                && rows >= Math.Min(requested, 1024)
                && (asAsked || powerOfTwo)
                && (asAsked || rows == 1024 || rows * MemoryOptions.BudgetPerBatchRow <= budget)
                && (asAsked || rows * 2 * MemoryOptions.BudgetPerBatchRow > budget || rows * 2 > requested);
        });

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
