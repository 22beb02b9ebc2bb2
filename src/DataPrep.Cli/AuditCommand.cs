using System.CommandLine;
using System.Globalization;
using DataPrep.Audit;
using DataPrep.Sources;
using DataPrep.Pipeline;

namespace DataPrep.Cli;

/// <summary><c>dataprep audit</c>: re-checks the leakage contract on a DataPrep output folder or on anyone's split files.</summary>
public static class AuditCommand
{
    /// <summary>The exit code when a check finds leakage or the files do not match their run record.</summary>
    public const int LeakFound = 5;

    private const string Description = """
        Check split files for leakage. A DataPrep output folder is checked through its run record and lineage:
        partition (no row id in two splits or twice), integrity (every shard's size and SHA-256 match run.json,
        its records match the lineage's content hashes, no unlisted files), group overlap (the lineage group column
        of group splits), time overlap (the lineage time column of time splits: max(t|train) < min(t|validation),
        max(t|validation) < min(t|test)) and identical encoded rows in two splits (a warning, with the number expected by
        chance from the columns' distinct values; not leakage by itself). --group/--time naming another
        column look it up in the run's inputs (which must exist unchanged), since label-first files carry no
        column names.

        Anyone's files: two or more files (train.csv test.csv, Parquet, JSON Lines, LibSVM) or a folder with
        train/ validation/ test/ subfolders or train.* test.* files. The split comes from the file or folder name
        (train, validation/valid/val/dev, test; otherwise the file name). Checked: group overlap on --group,
        time overlap on --time (timestamps, ISO 8601 text or epoch seconds/millis) and identical rows in two
        splits, compared by their values whatever the format (1, 1.0 and "1" match).

        Times are compared between neighbouring splits in the order train, validation, fold-0, fold-1, …
        (k-fold), other names as given, test.

        Examples:
          # Our own output: everything the lineage allows
          dataprep audit out/churn

          # Our random split: are any customers in two splits? (looked up in the run's inputs)
          dataprep audit out/churn --group customer_id

          # Anyone's files
          dataprep audit data/train.csv data/test.csv --group patient_id --time visit_date
          dataprep audit data/ --json | jq '.checks[] | select(.status != "pass")'

        Exit codes: 0 clean (skipped checks and warnings do not count), 5 leakage found or files that do not match their
        run record, 2 invalid options or paths, 3 unreadable input, 6 S3 unreachable or credentials refused, 130 cancelled.
        """;

    /// <summary>Builds the command.</summary>
    /// <param name="stdout">Where the report goes.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="registry">The output formats runs may have been written in and the sources of anyone's files and of runs' inputs (the CLI's: Parquet, LibSVM, …).</param>
    public static Command Build(TextWriter stdout, TextWriter stderr, Conversion.DataPrepRegistry registry)
    {
        var cmd = new Command("audit", Description);
        var paths = new Argument<string[]>("PATH") { Arity = ArgumentArity.OneOrMore, Description = "A DataPrep output folder; or two or more split files, patterns or folders." };
        var group = new Option<string>("--group") { Description = "Group key column (speaker, patient, user): no key may occur in two splits." };
        var time = new Option<string>("--time") { Description = "Time column: each split must end before the next begins (train → validation → test)." };
        var maxExamples = new Option<int>("--max-examples") { Description = "Examples listed per check (default 5; 0 for none).", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout." };
        var ignore = new Option<string[]>("--ignore") { Description = "Anyone's files: columns left out of the duplicate-row check, e.g. a unique row id.", AllowMultipleArgumentsPerToken = true };
        var noVerify = new Option<bool>("--no-verify") { Description = "Runs: do not read the shards (no size, SHA-256 or record check); faster on large outputs." };
        var noHeader = new Option<bool>("--no-header") { Description = "Anyone's CSV files have no header row; columns are named c0, c1, …" };
        var delimiter = new Option<string>("--delimiter") { Description = "Anyone's CSV files: field separator, e.g. ';' or '\\t' (default ',', '\\t' for .tsv)." };
        var format = new Option<string>("--input-format") { Description = "Anyone's files: the format when the extension does not tell: csv, tsv, jsonl, parquet or libsvm." };
        cmd.Arguments.Add(paths);
        foreach (var o in new Option[] { group, time, maxExamples, json, ignore, noVerify, noHeader, delimiter, format }) cmd.Options.Add(o);

        cmd.SetAction(async (r, ct) =>
        {
            try
            {
                var options = new AuditOptions
                {
                    GroupColumn = r.GetValue(group),
                    TimeColumn = r.GetValue(time),
                    MaxExamples = r.GetValue(maxExamples),
                    IgnoreColumns = OptionParsing.List(r.GetValue(ignore)),
                    VerifyShards = !r.GetValue(noVerify),
                    Source = new SourceOptions
                    {
                        HasHeader = !r.GetValue(noHeader),
                        Delimiter = Delimiter(r.GetValue(delimiter)),
                        Format = r.GetValue(format)?.ToLowerInvariant(),
                    },
                };
                var report = await Auditor.AuditAsync(r.GetValue(paths)!, options, registry, ct).ConfigureAwait(false);
                if (r.GetValue(json)) await stdout.WriteLineAsync(report.ToJson()).ConfigureAwait(false);
                else Print(report, stdout);
                return report.Clean ? DataPrepCli.Ok : LeakFound;
            }
            catch (PipelineValidationException e) { return Fail(stderr, e.Message, DataPrepCli.InvalidOptions); }
            catch (DataFormatException e) { return Fail(stderr, e.Message, DataPrepCli.BadInput); }
            catch (StorageException e) { return Fail(stderr, e.Message, DataPrepCli.StorageFailed); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Fail(stderr, e.Message, DataPrepCli.BadInput); }
            catch (OperationCanceledException) { return Fail(stderr, "cancelled.", DataPrepCli.Cancelled); }
        });
        return cmd;
    }

    private static char Delimiter(string? text) => text switch
    {
        null => ',',
        "\\t" or "tab" => '\t',
        { Length: 1 } => text[0],
        _ => throw new PipelineValidationException($"--delimiter {text} is not a single character; expected e.g. ',' ';' '|' or '\\t'."),
    };

    private static int Fail(TextWriter stderr, string message, int code)
    {
        stderr.WriteLine($"error: {message}");
        return code;
    }

    /// <summary>The readable report: splits, then one line per check with details and examples.</summary>
    public static void Print(AuditReport report, TextWriter output)
    {
        string what = report.Kind == "run"
            ? $"{report.Run} (DataPrep run, {report.SplitMethod} split)"
            : string.Join(" ", report.Paths);
        output.WriteLine($"dataprep audit: {what}");
        output.WriteLine();

        bool groups = report.Splits.Any(s => s.Groups is not null), times = report.Splits.Any(s => s.TimeFrom is not null);
        var header = new List<string> { "split", "rows", "files" };
        if (groups) header.Add("groups");
        if (times) header.Add("time from → to");
        var rows = report.Splits.Select(s =>
        {
            var cells = new List<string> { s.Name, N(s.Rows), N(s.Files.Count) };
            if (groups) cells.Add(s.Groups is { } g ? N(g) : "");
            if (times) cells.Add(s.TimeFrom is null ? "" : $"{s.TimeFrom} → {s.TimeTo}");
            return cells;
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(c => c[i].Length))).ToArray();
        var right = header.Select(h => h is "rows" or "files" or "groups").ToArray();
        string Line(List<string> cells) => "  " + string.Join("  ", cells.Select((c, i) => right[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();
        output.WriteLine(Line(header));
        foreach (var row in rows) output.WriteLine(Line(row));
        output.WriteLine();

        int titleWidth = report.Checks.Max(c => Title(c.Name).Length);
        string indent = new(' ', 2 + 4 + 2 + titleWidth + 2);
        foreach (var c in report.Checks)
        {
            output.WriteLine($"  {Label(c.Status)}  {Title(c.Name).PadRight(titleWidth)}  {c.Message}");
            foreach (var d in c.Details) output.WriteLine($"{indent}{d}");
            foreach (var e in c.Examples) output.WriteLine($"{indent}e.g. {e.Text}");
        }
        foreach (var n in report.Notes) output.WriteLine($"note: {n}");
        output.WriteLine();
        var bad = report.Checks.Where(c => c.Status is AuditStatus.Leak or AuditStatus.Fail).ToList();
        if (bad.Count == 0)
        {
            int ran = report.Checks.Count(c => c.Status == AuditStatus.Pass);
            var warned = report.Checks.Where(c => c.Status == AuditStatus.Warning).Select(c => Title(c.Name)).ToList();
            int skipped = report.Checks.Count(c => c.Status == AuditStatus.Skipped);
            output.WriteLine($"CLEAN: {ran} of {report.Checks.Count} checks passed, none found leakage"
                + (warned.Count > 0 ? $"; warning: {string.Join(", ", warned)} (not leakage, see above)" : "")
                + (skipped > 0 ? $" ({skipped} skipped)" : "") + ".");
        }
        else
        {
            output.WriteLine($"{Label(report.Status)}: {string.Join(", ", bad.Select(c => $"{Title(c.Name)} ({Label(c.Status).ToLowerInvariant()})"))}. Exit code {LeakFound}.");
        }
    }

    private static string Label(AuditStatus s) => s switch
    {
        AuditStatus.Pass => "PASS",
        AuditStatus.Leak => "LEAK",
        AuditStatus.Fail => "FAIL",
        AuditStatus.Warning => "WARN",
        _ => "SKIP",
    };

    private static string Title(string name) => name.Replace('-', ' ');

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
