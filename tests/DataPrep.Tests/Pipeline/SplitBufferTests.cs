using DataPrep.Pipeline;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// The split buffers rows in memory while they fit half the budget, then spills them (<c>SplitStage</c>). A run expected
/// to spill counts the rest of the live heap too (what the governor's last collection left besides the buffer), and the
/// governor's cap follows the live data back down once the buffer is spilled (<see cref="MemoryGovernor.CapFor"/>): a
/// 400 MB one-group Parquet file at <c>--memory 128MB</c>, whose source held 40–50 MiB beside the buffer, peaked at
/// 290–320 MiB, and now at about 206 MiB.
/// </summary>
public class SplitBufferTests
{
    [Theory]
    [InlineData(128L << 20, 0L, 96L << 20)]            // nothing live: the base cap, three quarters of the budget
    [InlineData(128L << 20, 72L << 20, 96L << 20)]     // three quarters of the base cap live: still the base cap
    [InlineData(128L << 20, 80L << 20, 104L << 20)]    // more: the live data and a quarter of the base cap of garbage
    [InlineData(128L << 20, 300L << 20, 324L << 20)]
    [InlineData(1L << 30, 700L << 20, 892L << 20)]
    public void The_cap_is_the_live_data_and_a_quarter_of_the_base_cap_when_that_is_more(long budget, long live, long cap)
        => Assert.Equal(cap, new MemoryGovernor(budget).CapFor(live));

    [Fact]
    public void The_cap_comes_back_down_when_the_live_data_does()
    {
        var governor = new MemoryGovernor(128L << 20);
        Assert.Equal(324L << 20, governor.CapFor(300L << 20));
        Assert.Equal(96L << 20, governor.CapFor(10L << 20));
        Assert.Equal(-1, governor.LastLive);
    }

    [Fact]
    public async Task A_run_expected_to_spill_spills_its_buffer_when_the_rest_of_the_heap_leaves_it_no_room()
    {
        using var tmp = new TempDir();
        // 300,000 rows of a label and 7 random doubles: a 19 MB Parquet file, which the estimate counts 4× (past half of a
        // 128 MB budget: the run expects to spill), but whose rows (about 20 MB decoded) fit half the budget.
        var input = tmp.Combine("in.parquet");
        await WriteParquetAsync(input, 300_000);
        Assert.True(SpillFolder.ExpectsSplitSpill(new MemoryOptions { Budget = 128L << 20 }, SpillFolder.EstimatedBytes([input])), "the run was meant to expect a spill");
        string[] common = ["convert", input, "--label", "y", "--format", "recordio-protobuf", "--quiet"];
        var roomy = CliRunner.Run([.. common, "--out", tmp.Combine("roomy"), "--memory", "4GB"]);
        Assert.True(roomy.Code == 0, roomy.Err);

        // 100 MiB held elsewhere in the process: the buffer alone (about 20 MB) never passes half the budget, so only
        // counting the rest of the heap spills it.
        var held = new byte[100 << 20];
        held.AsSpan().Fill(1);
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var r = CliRunner.Run(registry, [.. common, "--out", tmp.Combine("held"), "--memory", "128MB", "--temp", tmp.Combine("spill")]);
        GC.KeepAlive(held);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(registry.Diagnostics.Spills >= 1, "the split was meant to spill its buffer");
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("roomy")), RunOutputs.FileHashes(tmp.Combine("held")));
    }

    private static async Task WriteParquetAsync(string path, int rows)
    {
        var rng = new Random(5);
        var label = Enumerable.Range(0, rows).Select(i => (double)(i % 2)).ToArray();
        var features = Enumerable.Range(1, 7).Select(c => ($"x{c}", Enumerable.Range(0, rows).Select(_ => rng.NextDouble()).ToArray()));
        await TestParquet.WriteDoublesAsync(path, [("y", label), .. features]);
    }
}
