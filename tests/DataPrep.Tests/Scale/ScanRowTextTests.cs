using System.Globalization;
using System.Text;
using DataPrep.Cli;

namespace DataPrep.Tests.Scale;

/// <summary>
/// A scan task writes its rows' values into work objects, so its sources keep no row text: text kept there would only
/// be parsed again for the work objects, and held against <c>--memory</c> meanwhile (it took a W4 scan task from
/// about 400 to 640 MiB under <c>--memory 512MB</c>). Label-first CSV is the exception: its rows objects hold each row's
/// text in place of the features (<c>ScaleRun.RowTextColumns</c>), which the encode tasks copy. RecordIO-protobuf's scan
/// tasks keep their rows' features as float32 values alone, as one process does when it expects to spill, and their rows
/// objects hold them so (<c>ScaleRun.RowFloat32Columns</c>).
/// </summary>
public sealed class ScanRowTextTests
{
    [Theory]
    [InlineData("csv")]
    [InlineData("recordio-protobuf")]
    public void A_scan_task_keeps_row_text_only_where_its_rows_objects_carry_it(string format)
    {
        using var tmp = new TempDir();
        var sb = new StringBuilder("y,a,b\n");
        for (int i = 0; i < 500; i++) sb.Append(CultureInfo.InvariantCulture, $"{i % 2},{i * 0.5},{i % 9 - 4.25}\n");
        var input = tmp.File("data.csv", sb.ToString());
        string[] common = ["--label", "y", "--format", format, "--seed", "9", "--quiet"];

        var one = DataPrepCli.CreateRegistry();
        Succeeds(CliRunner.Run(one, ["convert", input, "--out", tmp.Combine("one"), .. common]));
        Assert.Equal(1, one.Diagnostics.RowTextKept);

        var scan = DataPrepCli.CreateRegistry();
        Succeeds(CliRunner.Run(scan, ["convert", input, "--out", tmp.Combine("many"), .. common, "--workers", "2", "--step", "scan", "--worker", "1"]));
        Assert.Equal(format == "csv" ? 1 : 0, scan.Diagnostics.RowTextKept);
        Assert.True(Directory.Exists(tmp.Combine("many", "_dataprep", "work")), "the scan task was meant to write its work objects");
        // RecordIO-protobuf: the scan task keeps its rows' features as float32 alone (its rows objects hold them so).
        if (format == "csv") Assert.Equal(0, scan.Diagnostics.RowsWithoutText);
        else Assert.InRange(scan.Diagnostics.RowsWithoutText, 1, 500);
    }

    private static void Succeeds(CliRunner.Result r) => Assert.True(r.Code == 0, r.Err);
}
