using System.Globalization;
using System.Text;

namespace DataPrep.Tests.Splits;

/// <summary>
/// A spilled split numbers each channel's rows with 32-bit positions, so one run refuses a channel of more than
/// 2^31 − 1 rows before it writes anything. The limit is lowered through the registry to reach the refusal with a few
/// thousand rows: one row over it is refused (exit 2, the split, the count, the limit, and what to do), with no output and
/// no spill file left behind; at the limit the run completes.
/// </summary>
public class ChannelLimitTests
{
    private static string WriteInput(TempDir tmp)
    {
        var text = new StringBuilder("x,y\n");
        for (int i = 0; i < 3000; i++) text.Append(CultureInfo.InvariantCulture, $"{i * 0.5},{i % 3}\n");
        return tmp.File("input.csv", text.ToString());
    }

    private static (CliRunner.Result Run, DataPrep.Conversion.DataPrepRegistry Registry) Convert(TempDir tmp, string input, string output, int maxChannelRows)
    {
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        registry.MaxChannelRows = maxChannelRows;
        var spill = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var r = CliRunner.Run(registry, ["convert", input, "--out", output, "--label", "y", "--fractions", "80/10/10", "--memory", "16KB", "--temp", spill, "--quiet"]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(spill));
        return (r, registry);
    }

    [Fact]
    public void A_channel_one_row_over_the_limit_is_refused_and_one_at_it_is_written()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp);
        // 80 % of 3,000 rows: train holds exactly 2,400.
        var (over, overRegistry) = Convert(tmp, input, tmp.Combine("over"), 2399);
        Assert.True(overRegistry.Diagnostics.Spills > 0, "the run was meant to spill");
        Assert.Equal(2, over.Code);
        Assert.Contains("The train split would hold 2,400 rows or more in one run; at most 2,399 are supported. Use --workers to spread the run.", over.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tmp.Combine("over")), "a refused run published its output");

        var (at, atRegistry) = Convert(tmp, input, tmp.Combine("at"), 2400);
        Assert.True(at.Code == 0, at.Err);
        Assert.True(atRegistry.Diagnostics.Spills > 0, "the run was meant to spill");
        Assert.Equal(2400, File.ReadLines(Path.Combine(tmp.Combine("at"), "train", "part-00000.csv")).Count());
    }
}
