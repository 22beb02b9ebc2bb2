using System.Globalization;
using DataPrep.Pipeline;
using Spectre.Console;

namespace DataPrep.Cli;

/// <summary>The run summary as a table (the same facts as --json).</summary>
internal static class ReportPrinter
{
    public static void Print(RunReport report, string command, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = output == Console.Out && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = output == Console.Out && !Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (output != Console.Out || Console.IsOutputRedirected) console.Profile.Width = 120;
        var table = new Table().Border(TableBorder.Rounded).Title($"dataprep {command}: {report.RowsRead:N0} rows in {report.Seconds:0.00} s");
        table.AddColumns("split", "rows", "fraction", "shards", "bytes", "labels");
        foreach (var (name, s) in report.Splits.OrderBy(kv => Order(kv.Key)))
        {
            string labels = s.LabelDistribution is { } d
                ? string.Join(" ", d.Take(6).Select(kv => $"{kv.Key}:{kv.Value}")) + (d.Count > 6 ? $" …(+{d.Count - 6})" : "")
                : "";
            table.AddRow(Markup.Escape(name), s.Rows.ToString("N0", CultureInfo.InvariantCulture), s.Fraction.ToString("0.0000", CultureInfo.InvariantCulture),
                s.Shards.Count.ToString(CultureInfo.InvariantCulture), Bytes(s.Bytes), Markup.Escape(labels));
        }
        console.Write(table);
        console.WriteLine($"content type: {report.ContentType}   output: {report.Output}");
        if (RunReportText.PhaseLine(report) is { } phases) console.WriteLine($"phases: {phases}");
        if (report.Encoding?.Label?.Classes is { } classes)
        {
            console.WriteLine($"label classes (id order): {string.Join(", ", classes.Take(12))}{(classes.Count > 12 ? ", …" : "")}");
        }
        foreach (var (reason, n) in report.Dropped) console.WriteLine($"dropped {n:N0} rows: {reason}");
        foreach (var (col, n) in report.Filled) console.WriteLine($"filled {n:N0} missing values in '{col}'");
        foreach (var (reason, s) in report.Skipped) console.WriteLine($"skipped {s.Count:N0} {reason}: {string.Join(", ", s.First)}{(s.Count > s.First.Count ? ", …" : "")}");
        foreach (var w in report.Warnings) console.WriteLine($"warning: {w}");
    }

    private static int Order(string split) => split switch { "train" => 0, "validation" => 1, "test" => 2, _ => 3 };

    private static string Bytes(long b) => b switch
    {
        < 1 << 10 => $"{b} B",
        < 1 << 20 => $"{b / 1024.0:0.0} KiB",
        < 1 << 30 => $"{b / 1048576.0:0.0} MiB",
        _ => $"{b / 1073741824.0:0.00} GiB",
    };
}
