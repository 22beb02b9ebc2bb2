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
        table.AddColumns("split", "rows", "fraction", "target", "shards", "bytes", report.Splits.Values.Any(x => x.LabelSummary is not null) ? "label (regression)" : "labels");
        foreach (var (name, s) in RunReportText.OrderedSplits(report))
        {
            table.AddRow(Markup.Escape(name), Markup.Escape(RunReportText.RowsText(s)), s.Fraction.ToString("0.0000", CultureInfo.InvariantCulture),
                s.TargetFraction.ToString("0.####", CultureInfo.InvariantCulture), s.Shards.Count.ToString(CultureInfo.InvariantCulture),
                RunReportText.Bytes(s.Bytes), Markup.Escape(RunReportText.LabelText(s)));
        }
        console.Write(table);
        console.WriteLine($"content type: {report.ContentType}   output: {report.Output}");
        if (RunReportText.PhaseLine(report) is { } phases) console.WriteLine($"phases: {phases}");
        if (report.Encoding?.Label?.Classes is { } classes)
        {
            console.WriteLine($"label classes (id order): {string.Join(", ", classes.Take(12))}{(classes.Count > 12 ? ", …" : "")}");
        }
        foreach (var (reason, n) in report.Dropped) console.WriteLine($"dropped {n:N0} rows: {reason}");
        foreach (var line in RunReportText.BadRowLines(report)) console.WriteLine(line);
        foreach (var (col, n) in report.Filled) console.WriteLine($"filled {n:N0} missing values in '{col}'");
        foreach (var (reason, s) in report.Skipped) console.WriteLine($"skipped {s.Count:N0} {reason}: {string.Join(", ", s.First)}{(s.Count > s.First.Count ? ", …" : "")}");
        foreach (var (col, n) in report.Unseen ?? []) console.WriteLine(RunReportText.UnseenLine(col, n));
        foreach (var w in report.Warnings) console.WriteLine($"warning: {w}");
    }
}
