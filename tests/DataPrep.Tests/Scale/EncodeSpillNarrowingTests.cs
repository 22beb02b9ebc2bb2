using System.Globalization;
using System.Text;
using DataPrep.Pipeline;
using DataPrep.Scale;

namespace DataPrep.Tests.Scale;

/// <summary>
/// An encode task whose bucket spills keeps the columns only a float32 writer reads as float32, by one process's rule
/// (<c>SpillNarrowing</c>), and writes one process's bytes.
/// </summary>
public sealed class EncodeSpillNarrowingTests
{
    [Fact]
    public async Task A_spilling_encode_task_narrows_the_columns_one_process_narrows_and_writes_its_bytes()
    {
        using var tmp = new TempDir();
        var sb = new StringBuilder("y,a,b,c\n");
        for (int i = 0; i < 4000; i++)
        {
            // Values float32 rounds (0.1), tiny ones (1e-50 underflows to 0 in float32) and the largest float32.
            string c = (i % 97) switch { 0 => "1e-50", 1 => "3.4028235E+38", _ => (i * 0.1).ToString("R", CultureInfo.InvariantCulture) };
            sb.Append(CultureInfo.InvariantCulture, $"{i % 3},{i * 0.25},{i % 7 - 3.5},{c}\n");
        }
        var options = new ConvertOptions
        {
            Inputs = [tmp.File("data.csv", sb.ToString())],
            Output = tmp.Combine("one"),
            Label = "y",
            Format = "recordio-protobuf",
            Seed = 4,
            Memory = new MemoryOptions(64 << 10, tmp.Path),
        };
        var one = DataPrep.Cli.DataPrepCli.CreateRegistry();
        await DataPrep.Conversion.ConvertRunner.RunAsync(options, one);
        Assert.True(one.Diagnostics.Spills >= 1, "one process was meant to spill");
        Assert.Equal(["a", "b", "c"], one.Diagnostics.SpillFloat32Columns);

        var many = DataPrep.Cli.DataPrepCli.CreateRegistry();
        await ScaleRunner.RunAsync(options with { Output = tmp.Combine("many") }, new ScaleOptions(2), many);
        Assert.True(many.Diagnostics.Spills >= 2, $"both encode tasks were meant to spill ({many.Diagnostics.Spills} spills)");
        Assert.Equal(["a", "b", "c"], many.Diagnostics.SpillFloat32Columns.Distinct());
        ScaleOutTests.AssertSameRun(tmp.Combine("one"), tmp.Combine("many"), 2);
    }
}
