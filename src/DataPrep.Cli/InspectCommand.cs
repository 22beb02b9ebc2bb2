using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using DataPrep.Inspect;
using DataPrep.RecordIO;
using DataPrep.Sources;
using Spectre.Console;

namespace DataPrep.Cli;

/// <summary><c>dataprep inspect</c>: prints the records and a summary of training shards of any output format.</summary>
public static class InspectCommand
{
    private const string Description = """
        Show what training shards hold: the first records and a summary per file (record count, dtype,
        dense or sparse, feature width, label distribution). Reads RecordIO-protobuf, LibSVM and label-first
        CSV, plain or .gz, and Parquet; the format is found from the content, not the file name. MXNet image RecordIO (.rec)
        shows each record's header (id, flag, labels), image format and size, and checks the .idx when found.
        A whole run (its folder or s3:// prefix, or its _dataprep/run.json) means every shard its run.json lists,
        train, validation, test, data, then folds. Files and runs may be local or s3://bucket/key.

        Examples:
          # The first 10 records and the summary of a RecordIO-protobuf shard
          dataprep inspect out/train/part-00000.rec

          # Only the summaries of every shard of a split
          dataprep inspect out/train --summary

          # Every record as JSON Lines, e.g. for jq
          dataprep inspect part-00000.rec --output jsonl --limit 0 | jq -c '.label'

          # The summaries of every shard of a run on S3 (or of a local run: dataprep inspect out/churn --summary)
          dataprep inspect s3://my-bucket/churn/v1/ --summary

        JSON Lines: one object per record, {"file":…,"record":i,"label":…,"features":[…]} for dense features or
        {…,"keys":[…],"values":[…],"shape":[n]} for sparse ones (keys are 0-based, LibSVM included), plus "uid"
        and "metadata" when present; NaN and infinities are the strings "NaN", "Infinity", "-Infinity". Then one
        {"file":…,"summary":{…}} object per file. Exit codes: 0 ok, 2 invalid options, 3 bad input data, 6 S3 unreachable or credentials refused.
        """;

    /// <summary>Rows per printed table when records are listed.</summary>
    private const int TableRows = 1000;

    /// <summary>The console width tables are laid out for when the output is not a terminal.</summary>
    private const int Width = 120;

    /// <summary>Builds the command.</summary>
    public static Command Build(TextWriter stdout, TextWriter stderr, Conversion.DataPrepRegistry registry)
    {
        var cmd = new Command("inspect", Description);
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.OneOrMore, Description = "Shards, folders or patterns (out/train/*.rec), or runs (OUT, OUT/_dataprep/run.json); local or s3://; .gz is read transparently." };
        var limit = new Option<int>("--limit", "-n") { Description = "Records to print per file; 0 prints all. The summary always covers every record.", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--output") { Description = "Output style: table or jsonl (one JSON object per line).", DefaultValueFactory = _ => "table" };
        var summary = new Option<bool>("--summary") { Description = "Print only the summary of each file, no records." };
        var format = new Option<string>("--format") { Description = "The shard format, when detection by content is not wanted: auto, recordio, libsvm, csv or parquet.", DefaultValueFactory = _ => "auto" };
        var noLabel = new Option<bool>("--no-label") { Description = "CSV shards hold features only (text/csv;label_size=0)." };
        var zeroBased = new Option<bool>("--zero-based") { Description = "LibSVM feature indexes start at 0 (default: 1)." };
        cmd.Arguments.Add(files);
        foreach (var o in new Option[] { limit, output, summary, format, noLabel, zeroBased }) cmd.Options.Add(o);
        var s3 = new S3Flags(uploads: false);
        s3.AddTo(cmd);

        cmd.SetAction(async (r, ct) =>
        {
            try
            {
                int max = r.GetValue(limit);
                if (max < 0) return Fail(stderr, $"--limit {max}: expected 0 (all records) or a positive number.", DataPrepCli.InvalidOptions);
                bool jsonl = r.GetValue(output)?.Trim().ToLowerInvariant() switch
                {
                    "table" => false,
                    "jsonl" or "json" => true,
                    var x => throw new PipelineValidationException($"--output {x}: expected table or jsonl."),
                };
                string formatName = r.GetValue(format) ?? "auto";
                // The output formats that can be read back come from the registry (their Reader); older short names still work.
                var readable = registry.Formats.All.Where(f => f.Reader is not null).Select(f => f.Name).ToList();
                ShardFormat? forced = null;
                if (!formatName.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
                {
                    forced = registry.Formats.Find(formatName) is { Reader: { } reader } definition
                        ? (reader as ShardFormatReader)?.Format ?? ShardFormats.Parse(definition.Name)
                        : ShardFormats.Parse(formatName);
                    if (forced is null) throw new PipelineValidationException($"--format {formatName}: expected auto or a format inspect reads back: {string.Join(", ", readable)}.");
                }
                var inputs = registry.Stores.Inputs(s3.Options(r));
                var options = new InspectOptions { Format = forced, NoLabel = r.GetValue(noLabel), ZeroBased = r.GetValue(zeroBased), Files = inputs };
                var paths = Expand(r.GetValue(files)!, inputs);
                var printer = jsonl ? (Printer)new JsonLinesPrinter(stdout) : new TablePrinter(stdout);
                int code = DataPrepCli.Ok;
                foreach (var path in paths)
                {
                    try
                    {
                        await InspectFileAsync(path, options, registry.Formats, r.GetValue(summary) ? -1 : max, printer, stdout, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
                    {
                        // Report the file and go on with the others; the exit code tells that one failed.
                        printer.Flush();
                        stdout.Flush();
                        bool data = e is DataFormatException;
                        Fail(stderr, data ? e.Message : $"{path}: {e.Message}", 0);
                        if (code == DataPrepCli.Ok) code = data ? DataPrepCli.BadInput : DataPrepCli.Failed;
                    }
                }
                return code;
            }
            catch (PipelineValidationException e) { return Fail(stderr, e.Message, DataPrepCli.InvalidOptions); }
            catch (DataFormatException e) { return Fail(stderr, e.Message, DataPrepCli.BadInput); }
            catch (StorageException e) { return Fail(stderr, e.Message, DataPrepCli.StorageFailed); }
            catch (OperationCanceledException) { return Fail(stderr, "cancelled.", DataPrepCli.Cancelled); }
        });
        return cmd;
    }

    /// <summary>The files to inspect, in argument order: a run's data files, or what a path, folder or pattern expands to.</summary>
    /// <exception cref="PipelineValidationException">Arguments that name nothing (every one reported).</exception>
    /// <exception cref="DataFormatException">A run whose run.json is not a DataPrep run record.</exception>
    private static List<string> Expand(IEnumerable<string> arguments, Pipeline.InputFiles inputs)
    {
        var result = new List<string>();
        var problems = new List<string>();
        foreach (var argument in arguments)
        {
            try { result.AddRange(ShardInspector.RunFiles(argument, inputs) ?? inputs.Expand([argument])); }
            catch (PipelineValidationException e) { problems.AddRange(e.Problems); }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        return result;
    }

    /// <summary>Reads one file once: prints up to <paramref name="limit"/> records (all for 0, none for −1), then its summary.</summary>
    private static async Task InspectFileAsync(string path, InspectOptions options, Formats.FormatRegistry formats, int limit, Printer printer, TextWriter stdout, CancellationToken ct)
    {
        if (options.Format is null && path.EndsWith(".rec", StringComparison.OrdinalIgnoreCase) && Images.ImageRecordInspector.IsImageRecordIO(path, options.Files))
        {
            printer.Flush();
            ImageInspect.Print(path, options.Files, limit, printer is JsonLinesPrinter, stdout, ct);
            return;
        }
        var format = options.Format ?? ShardInspector.DetectFormat(path, options.Files);
        var builder = new ShardSummaryBuilder(path, format);
        printer.BeginFile(path, format, records: limit != -1);
        long printed = 0;
        await foreach (var record in formats.ReaderOf(format).ReadAsync(path, options with { Format = format }, ct).ConfigureAwait(false))
        {
            builder.Add(record);
            if (limit == 0 || printed < limit)
            {
                printer.Record(path, record);
                printed++;
            }
        }
        printer.EndRecords();
        printer.Summary(builder.Build(), printed);
    }

    private static int Fail(TextWriter stderr, string message, int code)
    {
        stderr.WriteLine($"error: {message}");
        return code;
    }

    private abstract class Printer
    {
        public abstract void BeginFile(string path, ShardFormat format, bool records);

        public abstract void Record(string path, ShardRecord record);

        public abstract void EndRecords();

        public abstract void Summary(ShardSummary summary, long printed);

        public virtual void Flush() { }
    }

    /// <summary>One JSON object per line: records, then the file's summary.</summary>
    private sealed class JsonLinesPrinter(TextWriter output) : Printer
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(4096);
        private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

        public override void BeginFile(string path, ShardFormat format, bool records) { }

        public override void EndRecords() { }

        public override void Record(string path, ShardRecord record)
        {
            Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteNumber("record", record.Index);
                if (record.Label is { } label)
                {
                    w.WritePropertyName("label");
                    if (label.Length == 1) Number(w, label[0], record.LabelDType);
                    else Numbers(w, label, record.LabelDType);
                }
                if (record.IsSparse)
                {
                    w.WritePropertyName("keys");
                    w.WriteStartArray();
                    foreach (var k in record.Keys!) w.WriteNumberValue(k);
                    w.WriteEndArray();
                    w.WritePropertyName("values");
                    Numbers(w, record.Values, record.DType);
                    w.WritePropertyName("shape");
                    w.WriteStartArray();
                    foreach (var s in record.Shape) w.WriteNumberValue(s);
                    w.WriteEndArray();
                }
                else
                {
                    w.WritePropertyName("features");
                    Numbers(w, record.Values, record.DType);
                }
                if (record.Uid is not null) w.WriteString("uid", record.Uid);
                if (record.Metadata is not null) w.WriteString("metadata", record.Metadata);
                w.WriteEndObject();
            });
        }

        public override void Summary(ShardSummary s, long printed)
        {
            Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("file", s.File);
                w.WriteStartObject("summary");
                w.WriteString("format", s.Format.Name());
                w.WriteNumber("records", s.Records);
                WriteNullable(w, "dtype", s.DType);
                WriteNullable(w, "labelDType", s.LabelDType);
                WriteNullable(w, "layout", s.Layout);
                w.WriteNumber("featureWidth", s.FeatureWidth);
                w.WriteNumber("minFeatureWidth", s.MinFeatureWidth);
                w.WriteNumber("storedValues", s.StoredValues);
                w.WriteNumber("nanValues", s.NaNValues);
                w.WriteNumber("infiniteValues", s.InfiniteValues);
                w.WriteNumber("labeledRecords", s.LabeledRecords);
                w.WriteStartObject("labelCounts");
                foreach (var (label, count) in s.LabelCounts) w.WriteNumber(label, count);
                w.WriteEndObject();
                w.WriteNumber("otherLabelRecords", s.OtherLabelRecords);
                w.WriteNumber("uidRecords", s.UidRecords);
                w.WriteNumber("metadataRecords", s.MetadataRecords);
                w.WriteStartArray("warnings");
                foreach (var warning in s.Warnings) w.WriteStringValue(warning);
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            });
            output.Flush();
        }

        private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
        {
            if (value is null) w.WriteNull(name);
            else w.WriteString(name, value);
        }

        private void Line(Action<Utf8JsonWriter> write)
        {
            _buffer.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(_buffer, s_options)) write(w);
            output.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
            output.Write('\n');
        }

        private static void Numbers(Utf8JsonWriter w, double[] values, string? dtype)
        {
            w.WriteStartArray();
            foreach (double v in values) Number(w, v, dtype);
            w.WriteEndArray();
        }

        /// <summary>A number as its dtype prints it (float32 shortest as float32); non-finite values as strings.</summary>
        private static void Number(Utf8JsonWriter w, double v, string? dtype)
        {
            if (!double.IsFinite(v))
            {
                w.WriteStringValue(ShardSummaryBuilder.FormatNumber(v, dtype));
                return;
            }
            switch (dtype)
            {
                case TensorDTypes.Float32:
                    w.WriteNumberValue((float)v);
                    break;
                case TensorDTypes.Int32:
                    w.WriteNumberValue((long)v);
                    break;
                default:
                    w.WriteNumberValue(v);
                    break;
            }
        }
    }

    /// <summary>Spectre.Console tables, laid out for 120 columns when not writing to a terminal.</summary>
    private sealed class TablePrinter : Printer
    {
        private readonly IAnsiConsole _console;
        private readonly List<ShardRecord> _rows = new();
        private bool _records;

        public TablePrinter(TextWriter output)
        {
            bool terminal = output == Console.Out && !Console.IsOutputRedirected;
            _console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            });
            if (!terminal) _console.Profile.Width = Width;
        }

        private int ConsoleWidth => Math.Max(60, _console.Profile.Width);

        public override void BeginFile(string path, ShardFormat format, bool records)
        {
            _records = records;
            _console.Write(new Rule(Markup.Escape($"{path} ({format.Name()})")).LeftJustified());
        }

        public override void Record(string path, ShardRecord record)
        {
            _rows.Add(record);
            if (_rows.Count >= TableRows) Flush();
        }

        public override void EndRecords()
        {
            Flush();
        }

        public override void Flush()
        {
            if (_rows.Count == 0) return;
            bool uid = _rows.Any(r => r.Uid is not null), metadata = _rows.Any(r => r.Metadata is not null);
            bool line = _rows.Any(r => r.Line is not null);
            bool offset = _rows.Any(r => r.ByteOffset is not null);
            int Digits(Func<ShardRecord, long?> value, string header) => Math.Max(header.Length, _rows.Max(r => value(r)?.ToString(CultureInfo.InvariantCulture).Length ?? 0));
            int labelWidth = Math.Clamp(_rows.Max(r => LabelText(r).Length), 5, 16);
            int fixedWidth = Digits(r => r.Index, "record") + labelWidth
                + (line ? Digits(r => r.Line, "line") : 0) + (offset ? Digits(r => r.ByteOffset, "offset") : 0);
            int uidWidth = uid ? Math.Clamp(_rows.Max(r => r.Uid?.Length ?? 0), 3, 20) : 0;
            int metadataWidth = metadata ? Math.Clamp(_rows.Max(r => r.Metadata?.Length ?? 0), 8, 40) : 0;
            int columns = 3 + (uid ? 1 : 0) + (metadata ? 1 : 0) + (line ? 1 : 0) + (offset ? 1 : 0);
            // Borders and padding take 3 characters per column plus 1; features get at least 64 when uid/metadata can shrink.
            int featureBudget = ConsoleWidth - 1 - 3 * columns - fixedWidth - uidWidth - metadataWidth;
            if (featureBudget < 64 && metadata)
            {
                int give = Math.Min(64 - featureBudget, metadataWidth - 8);
                metadataWidth -= give;
                featureBudget += give;
            }
            if (featureBudget < 64 && uid)
            {
                int give = Math.Min(64 - featureBudget, uidWidth - 3);
                uidWidth -= give;
                featureBudget += give;
            }
            featureBudget = Math.Max(20, featureBudget);

            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn(new TableColumn("record").RightAligned().NoWrap());
            if (line) table.AddColumn(new TableColumn("line").RightAligned().NoWrap());
            if (offset) table.AddColumn(new TableColumn("offset").RightAligned().NoWrap());
            table.AddColumn(new TableColumn("label").RightAligned().NoWrap());
            table.AddColumn(new TableColumn(_rows.Any(r => r.IsSparse) ? "features (column:value)" : "features").NoWrap());
            if (uid) table.AddColumn(new TableColumn("uid").NoWrap());
            if (metadata) table.AddColumn(new TableColumn("metadata").NoWrap());
            foreach (var r in _rows)
            {
                var cells = new List<string> { r.Index.ToString(CultureInfo.InvariantCulture) };
                if (line) cells.Add(r.Line?.ToString(CultureInfo.InvariantCulture) ?? "");
                if (offset) cells.Add(r.ByteOffset?.ToString(CultureInfo.InvariantCulture) ?? "");
                cells.Add(Truncate(LabelText(r), labelWidth));
                cells.Add(FeatureText(r, featureBudget));
                if (uid) cells.Add(Truncate(r.Uid ?? "", uidWidth));
                if (metadata) cells.Add(Truncate(r.Metadata ?? "", metadataWidth));
                table.AddRow(cells.Select(c => new Text(c)).ToArray());
            }
            _rows.Clear();
            _console.Write(table);
        }

        public override void Summary(ShardSummary s, long printed)
        {
            var grid = new Grid();
            grid.AddColumn(new GridColumn().NoWrap().PadRight(2));
            grid.AddColumn(new GridColumn());
            string records = N(s.Records) + (_records && printed < s.Records ? $" (first {N(printed)} shown)" : "");
            Add(grid, "records", records);
            if (s.Records > 0)
            {
                string width = s.MinFeatureWidth == s.FeatureWidth ? N(s.FeatureWidth) : $"{N(s.MinFeatureWidth)} to {N(s.FeatureWidth)}";
                string features = $"{s.DType}, {s.Layout}, width {width}";
                if (s.SparseRecords > 0 && s.FeatureWidth > 0)
                {
                    double density = s.StoredValues / ((double)s.Records * s.FeatureWidth);
                    features += $", {N(s.StoredValues)} stored values ({Percent(density, "0.00")} of cells)";
                }
                Add(grid, "features", features);
                Add(grid, "labels", LabelSummary(s));
            }
            if (s.UidRecords > 0) Add(grid, "uid", $"{N(s.UidRecords)} records");
            if (s.MetadataRecords > 0) Add(grid, "metadata", $"{N(s.MetadataRecords)} records");
            foreach (var w in s.Warnings) Add(grid, "warning", w);
            _console.Write(grid);
            _console.WriteLine();
        }

        private static string LabelSummary(ShardSummary s)
        {
            if (s.LabeledRecords == 0) return "none";
            var parts = s.LabelCounts.Select(kv => $"{kv.Key}: {N(kv.Value)} ({Percent(kv.Value / (double)s.LabeledRecords, "0.0")})");
            string distinct = s.LabelsCapped ? $"more than {ShardSummary.MaxDistinctLabels} distinct values" : $"{s.LabelCounts.Count} distinct";
            string text = $"{s.LabelDType}, {distinct}: {string.Join("  ", parts)}";
            if (s.LabelsCapped) text += $"  (+{N(s.OtherLabelRecords)} records with other values)";
            return text;
        }

        private static void Add(Grid grid, string name, string value) => grid.AddRow(new Text(name), new Text(value));

        private static string LabelText(ShardRecord r) => r.Label is { } l ? ShardSummaryBuilder.LabelKey(l, r.LabelDType) : "-";

        private static string FeatureText(ShardRecord r, int budget)
        {
            var items = new List<string>();
            if (r.IsSparse)
            {
                for (int i = 0; i < r.Values.Length; i++)
                {
                    items.Add($"{r.Keys![i].ToString(CultureInfo.InvariantCulture)}:{ShardSummaryBuilder.FormatNumber(r.Values[i], r.DType)}");
                }
                string tail = $" ({N(r.Values.Length)} of {N(r.Width)})";
                return Join(items, Math.Max(8, budget - tail.Length), r.Values.Length) + tail;
            }
            foreach (double v in r.Values) items.Add(ShardSummaryBuilder.FormatNumber(v, r.DType));
            if (r.DType == TensorDTypes.Bytes) return "(bytes)";
            return Join(items, budget, r.Values.Length);
        }

        /// <summary>Joins items with spaces, ending in "… N more" when they do not fit the budget.</summary>
        private static string Join(List<string> items, int budget, long total)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < items.Count; i++)
            {
                string separator = sb.Length > 0 ? " " : "";
                int after = sb.Length + separator.Length + items[i].Length;
                int reserve = i == items.Count - 1 ? 0 : $" … {N(total - i - 1)} more".Length;
                if (after + reserve > budget)
                {
                    sb.Append(separator).Append($"… {N(total - i)} more");
                    return sb.ToString();
                }
                sb.Append(separator).Append(items[i]);
            }
            return sb.Length == 0 ? "(none)" : sb.ToString();
        }

        private static string Truncate(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

        private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

        private static string Percent(double share, string format) => (share * 100).ToString(format, CultureInfo.InvariantCulture) + "%";

        private static string N(ulong n) => n.ToString("N0", CultureInfo.InvariantCulture);
    }
}
