using DataPrep.Tests.S3;
using Parquet;
using Parquet.Schema;

namespace DataPrep.Tests.Parquet;

/// <summary>
/// A process that runs out of memory while decoding a Parquet column is told so (exit 1), never that its file may be
/// corrupt (exit 3, as it was): the file is sound, the machine was short. Nothing is published and an earlier run stays.
/// The child's GC heap is capped by <c>DOTNET_GCHeapHardLimit</c> (hex without "0x", which Native AOT reads as the JIT
/// runtime does) below one decoded column: 4,000,000 doubles, 32 MB, in a file of a few KB.
/// </summary>
public sealed class ParquetOutOfMemoryTests
{
    private static string Write(TempDir tmp, string name, int rows)
    {
        var path = tmp.Combine(name);
        var x = new DataField<double>("x");
        var y = new DataField<long>("y");
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema(x, y), stream).GetAwaiter().GetResult();
        try
        {
            using var group = writer.CreateRowGroup();
            group.WriteAsync<double>(x, Enumerable.Range(0, rows).Select(i => (double)(i % 3)).ToArray().AsMemory()).GetAwaiter().GetResult();
            group.WriteAsync<long>(y, Enumerable.Range(0, rows).Select(i => (long)(i % 2)).ToArray().AsMemory()).GetAwaiter().GetResult();
        }
        finally
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return path;
    }

    [Fact]
    public void Running_out_of_memory_while_decoding_a_column_is_not_reported_as_a_corrupt_file()
    {
        using var tmp = new TempDir();
        var small = Write(tmp, "small.parquet", 1_000);
        var large = Write(tmp, "large.parquet", 4_000_000);
        var output = tmp.Combine("out");
        var earlier = CliProcess.Run(["convert", small, "--out", output, "--label", "y", "--quiet"]);
        Assert.True(earlier.Code == 0, earlier.Err);
        var before = Directory.GetFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var r = CliProcess.Run(["convert", large, "--out", output, "--label", "y", "--overwrite", "--quiet"],
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "1800000" });   // 24 MiB

        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}");
        Assert.StartsWith($"error: the process ran out of memory while decoding {large}, column 'x', row group 1 of 1 (rows 1–4,000,000: 4,000,000 DOUBLE values", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("may be corrupt", r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var after = Directory.GetFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));

        // The same file with the memory it needs converts: the refusal above was the heap limit, not the file.
        var fine = CliProcess.Run(["convert", large, "--out", tmp.Combine("out2"), "--label", "y", "--quiet"]);
        Assert.True(fine.Code == 0, fine.Err);
    }
}
