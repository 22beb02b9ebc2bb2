using DataPrep.Tests.S3;
using Parquet;
using Parquet.Schema;

namespace DataPrep.Tests.Parquet;

/// <summary>
/// A process that runs out of memory while decoding a Parquet column is told so (exit 1), never that its file may be
/// corrupt (exit 3, as it was): the file (written by Parquet.Net) is sound, the machine was short. Nothing is published and
/// an earlier run stays. The child's GC heap is capped by <c>DOTNET_GCHeapHardLimit</c> (hex without "0x", which Native
/// AOT reads as the JIT runtime does) at 48 MiB, below one decoded column: 8,000,000 doubles, 64 MB, in a file of a few
/// hundred KB. One thread decodes (<c>--threads 1</c>): when two threads' allocations fail at once, the runtime itself
/// sometimes dies of SIGSEGV (exit 139; 3 runs in 10 of the JIT runtime, 1 in 10 of Native AOT, none in 22 with one
/// thread), which no message can answer.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
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
        var large = Write(tmp, "large.parquet", 8_000_000);
        var output = tmp.Combine("out");
        var earlier = CliProcess.Run(["convert", small, "--out", output, "--label", "y", "--quiet"]);
        Assert.True(earlier.Code == 0, earlier.Err);
        var before = Directory.GetFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var r = CliProcess.Run(["convert", large, "--out", output, "--label", "y", "--overwrite", "--quiet", "--threads", "1"],
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "3000000" });   // 48 MiB

        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}");
        Assert.StartsWith($"error: the process ran out of memory while decoding {large}, column 'x', row group 1 of 1 (rows 1–8,000,000: 8,000,000 DOUBLE values", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("may be corrupt", r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var after = Directory.GetFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
    }
}
