using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DataPrep.Pipeline;
using DataPrep.Splits;
using DataPrep.Conversion;

namespace DataPrep.Tests.Performance;

/// <summary>
/// DESIGN.md §2: the same job gives byte-identical data files however it ran — in memory or spilling to
/// temp files, on one thread or all, with any batch size — and run records that differ only in time
/// stamps, paths and the options that were varied. Spill folders are gone after success, failure and
/// cancellation.
/// </summary>
public class DeterminismTests
{
    private const int Rows = 3000;

    /// <summary>A mixed table: group key, date, category, floats with a few blanks in one column, integer class label.</summary>
    private static string WriteInput(TempDir tmp, int badRowAt = -1, int rows = Rows)
    {
        var rng = new Random(7);
        var sb = new StringBuilder("id,grp,day,cat,x1,x2,x3,y\n");
        for (int i = 0; i < rows; i++)
        {
            if (i == badRowAt) { sb.Append(i).Append(",g1,2024-01-01,a,1.5\n"); continue; }
            var day = new DateTime(2024, 1, 1).AddDays(rng.Next(400)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{i},g{rng.Next(60)},{day},{"abcde"[rng.Next(5)]},{rng.NextDouble() * 100 - 50},{Math.Round(rng.NextDouble(), 3)},{rng.Next(-1000, 1000)},{rng.Next(3)}\n");
        }
        return tmp.File("input.csv", sb.ToString());
    }

    public static TheoryData<string, string> Jobs() => new()
    {
        { "random", "--drop id,grp,day --encode cat=onehot" },
        { "stratified", "--drop id,grp,day --encode cat=ordinal --stratify y" },
        { "group", "--split group --group grp --drop id,day --encode grp=ordinal,cat=onehot" },
        { "time", "--split time --time day --drop id,grp --timestamps epoch --encode cat=onehot --fractions 70/15/15" },
        { "numeric", "--drop id,grp,day,cat" },
    };

    private static readonly string[][] Variants =
    [
        [],                                                                   // in memory, all cores, default batches
        ["--memory", "16KB"],                                                 // spilling, all cores
        ["--threads", "1", "--batch-rows", "97"],                             // in memory, one thread, small batches
        ["--memory", "16KB", "--threads", "1", "--batch-rows", "64"],         // spilling, one thread, small batches
        ["--memory", "40KB", "--batch-rows", "1000"],                         // spilling, large batches
    ];

    [Theory]
    [MemberData(nameof(Jobs))]
    public void Csv_and_recordio_bytes_do_not_depend_on_memory_threads_or_batch_size(string name, string job)
    {
        foreach (var format in new[] { "csv", "recordio-protobuf" })
        {
            using var tmp = new TempDir();
            var input = WriteInput(tmp);
            var spillRoot = tmp.Combine("spill");
            Directory.CreateDirectory(spillRoot);
            Dictionary<string, string>? expected = null;
            JsonNode? expectedRecord = null;
            for (int v = 0; v < Variants.Length; v++)
            {
                var outDir = tmp.Combine($"out-{v}");
                var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
                var r = CliRunner.Run(registry, ["convert", input, "--out", outDir, "--label", "y", "--format", format, "--temp", spillRoot, "--quiet",
                    .. job.Split(' '), .. Variants[v]]);
                Assert.True(r.Code == 0, $"{name}/{format}/variant {v}: {r.Err}");
                if (Variants[v].Contains("--memory"))
                {
                    Assert.True(registry.Diagnostics.Spills > 0, $"{name}/{format}/variant {v} was meant to spill");
                    // Shuffled output is hash order, so pass 1's hash-range files are already runs of ranks: written once.
                    // A time split orders rows by time, which the unsorted input's files are not: put in buckets of time order.
                    Assert.True((registry.Diagnostics.SpillRepartitions > 0) == (name == "time"), $"{name}/{format}/variant {v}: {registry.Diagnostics.SpillRepartitions} repartitions");
                    // Every job keeps nothing per row once it spills (a random split tags from row ids and classes, a time split
                    // from times, a group split from group numbers): files are ranked one at a time.
                    Assert.True(registry.Diagnostics.SpillsRanked > 0, $"{name}/{format}/variant {v}: {registry.Diagnostics.SpillsRanked} ranked spills");
                }
                Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
                var files = RunOutputs.FileHashes(outDir);
                Assert.Contains(files.Keys, k => k.StartsWith("train/", StringComparison.Ordinal));
                var record = RunOutputs.ComparableRecordOf(outDir, "memory", "threads", "batchRows");
                if (expected is null) { expected = files; expectedRecord = record; continue; }
                Assert.Equal(expected.Keys.Order(), files.Keys.Order());
                foreach (var (path, sha) in expected) Assert.True(sha == files[path], $"{name}/{format}: {path} differs in variant {string.Join(' ', Variants[v])}");
                Assert.True(JsonNode.DeepEquals(expectedRecord, record), $"{name}/{format}: run records differ in variant {v}:\n{expectedRecord}\n---\n{record}");
            }
        }
    }

    [Fact]
    public void A_split_expected_to_spill_is_foreseen_from_the_inputs_sizes()
    {
        using var tmp = new TempDir();
        var csv = tmp.File("a.csv", new string('1', 10_000));
        var gz = tmp.Combine("a.csv.gz");
        File.WriteAllBytes(gz, new byte[3_000]);
        Assert.Equal(10_000 + 4 * 3_000, SpillFolder.EstimatedBytes([csv, gz]));
        Assert.Equal(0, SpillFolder.EstimatedBytes(["s3://bucket/key.csv", tmp.Combine("missing.csv")]));
        // The split spills past half the budget.
        Assert.True(SpillFolder.ExpectsSplitSpill(new MemoryOptions(40_000), SpillFolder.EstimatedBytes([csv, gz])));
        Assert.False(SpillFolder.ExpectsSplitSpill(new MemoryOptions(44_000), SpillFolder.EstimatedBytes([csv, gz])));
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("recordio-protobuf")]
    public void A_spill_the_estimate_did_not_foresee_keeps_the_rows_text_and_writes_the_same_bytes(string format)
    {
        // A gzip file counts 4x its size in the estimate; this one holds far more (repeated rows), so the run keeps the
        // rows' text (kept text for CSV, float32 values for RecordIO) and then spills them: the text is parsed for the spill.
        using var tmp = new TempDir();
        var sb = new StringBuilder("x1,x2,x3,y\n");
        for (int i = 0; i < 4000; i++) sb.Append(CultureInfo.InvariantCulture, $"{i % 4 * 0.25},{i % 5 - 2},{i % 4 * 1.5e-3},{i % 3}\n");
        var plain = tmp.File("input.csv", sb.ToString());
        var gz = tmp.Combine("input.csv.gz");
        using (var file = File.Create(gz))
        using (var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Optimal))
        {
            zip.Write(File.ReadAllBytes(plain));
        }
        var memory = new MemoryOptions(32 << 10);
        Assert.False(SpillFolder.ExpectsSplitSpill(memory, SpillFolder.EstimatedBytes([gz])), $"{new FileInfo(gz).Length} bytes of gzip were meant to look small");
        Assert.True(SpillFolder.ExpectsSplitSpill(memory, SpillFolder.EstimatedBytes([plain])));
        var spillRoot = tmp.Combine("spill");
        Directory.CreateDirectory(spillRoot);
        var expected = tmp.Combine("expected");
        Assert.Equal(0, CliRunner.Run("convert", plain, "--out", expected, "--label", "y", "--format", format, "--quiet").Code);
        foreach (var input in new[] { gz, plain })
        {
            var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
            var outDir = tmp.Combine($"out-{Path.GetFileName(input)}");
            var r = CliRunner.Run(registry, ["convert", input, "--out", outDir, "--label", "y", "--format", format, "--memory", "32KB", "--temp", spillRoot, "--quiet"]);
            Assert.True(r.Code == 0, r.Err);
            Assert.True(registry.Diagnostics.Spills > 0, $"{input}: the run was meant to spill");
            Assert.Equal(RunOutputs.FileHashes(expected).OrderBy(kv => kv.Key, StringComparer.Ordinal), RunOutputs.FileHashes(outDir).OrderBy(kv => kv.Key, StringComparer.Ordinal));
            Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        }
    }

    [Fact]
    public void A_bad_row_after_spilling_began_fails_cleanly_and_leaves_no_temp_files()
    {
        using var tmp = new TempDir();
        // Past the 10,000 rows that type inference reads, so the error comes from the streaming read.
        var input = WriteInput(tmp, badRowAt: 12_500, rows: 13_000);
        var spillRoot = tmp.Combine("spill");
        Directory.CreateDirectory(spillRoot);
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run(registry, "convert", input, "--out", outDir, "--label", "y", "--drop", "id,grp,day,cat", "--memory", "16KB", "--batch-rows", "100",
            "--temp", spillRoot, "--quiet");
        Assert.Equal(3, r.Code);
        Assert.Contains("line 12502", r.Err);
        Assert.True(registry.Diagnostics.Spills > 0, "the run spilled before it met the bad row");
        Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Cancelling_while_spilled_leaves_no_temp_files()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp);
        var spillRoot = tmp.Combine("spill");
        Directory.CreateDirectory(spillRoot);
        using var cts = new CancellationTokenSource();
        bool sawSpill = false;
        // Cancel as the split starts emitting: by then pass 1 has written the spill file.
        var progress = new SyncProgress(p =>
        {
            if (p.Stage != "split" || cts.IsCancellationRequested) return;
            sawSpill = Directory.EnumerateFiles(spillRoot, "*", SearchOption.AllDirectories).Any();
            cts.Cancel();
        });
        var options = new ConvertOptions
        {
            Inputs = [input], Output = tmp.Combine("out"), Label = "y", Drop = ["id", "grp", "day", "cat"],
            Source = new DataPrep.Pipeline.SourceOptions { BatchRows = 100 },
            Memory = new MemoryOptions(16 << 10, spillRoot),
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ConvertRunner.RunAsync(options, progress: progress, cancellationToken: cts.Token));
        Assert.True(sawSpill, "the spill file existed when the run was cancelled");
        Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        Assert.False(Directory.Exists(options.Output));
    }

    [Fact]
    public void Stale_spill_folders_of_ended_processes_are_removed_and_live_ones_kept()
    {
        using var tmp = new TempDir();
        var stale = Directory.CreateDirectory(tmp.Combine("dataprep-spill-999999999-abc")).FullName;
        File.WriteAllText(Path.Combine(stale, "x.spill"), "x");
        var live = Directory.CreateDirectory(tmp.Combine($"dataprep-spill-{Environment.ProcessId}-def")).FullName;
        var foreign = Directory.CreateDirectory(tmp.Combine("other")).FullName;
        SpillFolder.RemoveStale(tmp.Path);
        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(foreign));
    }

    [Fact]
    public void A_run_that_would_not_fit_the_temp_disk_is_refused_before_it_starts()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp);
        var outDir = tmp.Combine("out");
        // A 1 KB budget: the input spills. A sparse file larger than the disk's free space cannot be spilled there.
        var options = new ConvertOptions { Inputs = [input], Output = outDir, Label = "y", Memory = new MemoryOptions(1024, tmp.Path) };
        SpillFolder.CheckSpace(options, SpillFolder.EstimatedBytes([input])); // a 100 KB input fits anywhere: no exception
        var huge = new FileInfo(tmp.Combine("huge.csv"));
        using (var fs = File.Create(huge.FullName)) fs.SetLength(new DriveInfo(tmp.Path).AvailableFreeSpace + (1L << 30)); // sparse file
        var e = Assert.Throws<PipelineValidationException>(() => SpillFolder.CheckSpace(options, SpillFolder.EstimatedBytes([huge.FullName])));
        Assert.Contains("MiB of temp files are needed but only", e.Message);
        Assert.Contains("--temp", e.Message);
    }

    [Theory]
    [InlineData("512MB", 512L << 20)]
    [InlineData("4GB", 4L << 30)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("65536", 65536)]
    public void Sizes_parse(string text, long bytes) => Assert.Equal(bytes, MemoryOptions.ParseSize(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("-1GB")]
    [InlineData("12XB")]
    public void Bad_sizes_are_refused(string text) => Assert.Throws<PipelineValidationException>(() => MemoryOptions.ParseSize(text));

    private sealed class SyncProgress(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
