using System.CommandLine;
using System.Globalization;
using System.Text.Json;

using DataPrep.Images;
using DataPrep.Pipeline;
using DataPrep.S3;
using DataPrep.RecordIO;
using DataPrep.Splits;
using DataPrep.Sources;
using Spectre.Console;
using DataPrep.Conversion;

namespace DataPrep.Cli;

/// <summary>The <c>dataprep</c> command line: a thin shell that maps flags one-to-one onto option records.</summary>
public static class DataPrepCli
{
    /// <summary>
    /// Exit codes: 0 ok, 1 unexpected failure, 2 invalid options, 3 bad input data, 4 output refused, 6 storage unreachable or
    /// credentials refused (S3), 130 cancelled by SIGINT (143 by SIGTERM, see <c>CliSignals</c>).
    /// </summary>
    public const int Ok = 0, Failed = 1, InvalidOptions = 2, BadInput = 3, OutputRefused = 4, StorageFailed = 6, Cancelled = 130;

    /// <summary>The command's name, as installed (the .NET tool's command), whatever the process is called.</summary>
    public const string CommandName = "dataprep";

    private const string ConvertExamples = """

        Examples:
          # Classification table: text label → class ids, one-hot a categorical feature, 80/10/10 split
          dataprep convert sample-data/churn.csv --out out/churn --label churn --drop customer_id --encode plan=onehot,region=onehot

          # Several files (or a pattern) of one schema, stratified 70/15/15, gzip shards of 100,000 rows
          dataprep convert 'data/part-*.csv.gz' --out out/x --label target --split 70/15/15 --stratify target --shard-rows 100000 --compress gzip

          # Unsupervised (content type text/csv;label_size=0), Parquet input, missing values filled with train means
          dataprep convert events.parquet --out out/events --no-label --missing fill:mean

          # Forecasting: oldest 70 % of days → train, next 15 % → validation, newest → test, a 7-day gap between them
          dataprep convert sample-data/demand.csv --out out/demand --label demand --split time --time date --fractions 70/15/15 --gap 7d --timestamps epoch --encode product=onehot

          # Speech: no speaker in two splits, fractions met by rows
          dataprep convert utterances.csv --out out/speech --label label --split group --group speaker_id --drop path

          # Noisy/clean: train on clean recordings, validate and test on noisy ones, no speaker in two splits
          dataprep convert clean.csv --noisy noisy.csv --out out/asr --label label --split noisy --group speaker_id --drop path

          # SageMaker RecordIO-protobuf (float32 tensors, sparse where one-hot), 4 shards per split for 4 instances
          dataprep convert sample-data/churn.csv --out out/churn-rec --label churn --drop customer_id --categorical onehot --format recordio-protobuf --shards 4

          # Straight to S3 as SageMaker channels, shards a multiple of 4 training instances (prints a TrainingInput snippet)
          dataprep convert s3://raw/events/ --out s3://my-bucket/churn/v1/ --label churn --format recordio-protobuf --instances 4

          # Larger than RAM: stream under a 512 MB budget, spilling to a fast disk
          dataprep convert 'big/*.csv.gz' --out out/big --label y --memory 512MB --temp /mnt/nvme/tmp

          # Larger than one machine: the steps an engine runs (one task each: --step STEP --worker I; see deploy/)
          dataprep convert s3://raw/events/ --out s3://my-bucket/churn/v2/ --label churn --workers 16 --steps
        """;

    private const string ConvertOutput = """

        Output: OUT/<split>/… holds data only (part-NNNNN.csv|.pbr|.libsvm, or .rec / images); OUT/_dataprep/ holds
        the lineage, ManifestFiles, channels.json and run.json, written last. OUT may be s3://bucket/prefix/.
        Exit codes: 0 ok, 2 invalid options, 3 bad input data, 4 output refused, 6 S3 unreachable or credentials refused,
        1 other failure, 130 cancelled (Ctrl-C), 143 stopped by SIGTERM.
        """;

    /// <summary>The registry the CLI runs with: the built-ins plus Parquet, S3 and the image formats.</summary>
    public static DataPrepRegistry CreateRegistry() => new DataPrepRegistry().AddParquet().AddS3().AddImages();

    /// <summary>Runs the CLI.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="stdout">Where output goes (the console by default).</param>
    /// <param name="stderr">Where errors and progress go (the console by default).</param>
    /// <param name="registry">The sources, formats and stores (<see cref="CreateRegistry"/> by default).</param>
    /// <param name="cancellationToken">Cancels the run (the process's SIGINT/SIGTERM, see <c>CliSignals</c>): it cleans up and returns <see cref="Cancelled"/>.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, DataPrepRegistry? registry = null, CancellationToken cancellationToken = default)
    {
        var output = stdout ?? Console.Out;
        var errors = stderr ?? Console.Error;
        registry ??= CreateRegistry();
        var root = new RootCommand("DataPrep: turns CSV, JSON Lines, Parquet, LibSVM and images into leakage-free, split, SageMaker-ready training files, reads them back (inspect) and checks splits for leaks (audit).");
        var help = new CommandHelp();
        // The top-level help: each command on one line, with one example each (a command's own help has the rest).
        var convert = BuildConvert(output, errors, registry, help);
        help.AddCommand(convert, "Split and encode tables or images into leakage-free, SageMaker-ready shards (local or S3).",
            "dataprep convert sample-data/churn.csv --out out/churn --label churn --drop customer_id --encode plan=onehot,region=onehot");
        var apply = BuildApply(output, errors, registry);
        help.AddCommand(apply, "Encode new data (Batch Transform) exactly like an earlier run.",
            "dataprep apply --run out/churn new-customers.csv --out out/churn-infer");
        var inspect = InspectCommand.Build(output, errors, registry);
        help.AddCommand(inspect, "Show what training shards hold: first records and a summary per file.",
            "dataprep inspect out/churn --summary");
        var audit = AuditCommand.Build(output, errors, registry);
        help.AddCommand(audit, "Check split files (ours or anyone's) for leakage between splits.",
            "dataprep audit out/churn");
        var completion = CompletionCommand.Build(output, errors);
        help.AddCommand(completion, "Print a tab-completion script for bash, zsh or PowerShell.",
            "source <(dataprep completion bash)");
        foreach (var c in new[] { convert, apply, inspect, audit, completion }) root.Subcommands.Add(c);
        OptionRules.AddTo(root);
        help.Install(root);
        var parse = root.Parse(args);
        // A completion request ([suggest:N]) carries a half-typed option by design.
        if (!root.Directives.OfType<System.CommandLine.Completions.SuggestDirective>().Any(d => parse.GetResult(d) is not null) && UnknownOption(parse) is { } unknown)
        {
            // An unknown option after a list option (--features a b --lable y) would otherwise be taken as a value.
            await errors.WriteLineAsync($"error: {unknown}").ConfigureAwait(false);
            return InvalidOptions;
        }
        if (OptionRules.Render(parse) is { } invalid)
        {
            // Not System.CommandLine's own rendering: it exits 1, names .NET types and prints the whole help.
            await errors.WriteLineAsync(invalid).ConfigureAwait(false);
            return InvalidOptions;
        }
        // No ProcessTerminationTimeout: System.CommandLine's own Ctrl-C handling would end the process 2 s after the signal,
        // cleanup finished or not; the caller's token (CliSignals) cancels instead, and the run ends once it has cleaned up.
        var config = new InvocationConfiguration { Output = output, Error = errors, ProcessTerminationTimeout = null };
        return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The first "--name" the parser took as a value (an input path or a list option's item) although the command
    /// has no such option, with the closest option names; null when there is none.
    /// </summary>
    internal static string? UnknownOption(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var known = new List<string>();
        for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var o in c.Options) { known.Add(o.Name); known.AddRange(o.Aliases); }
        }
        foreach (var token in parse.Tokens)
        {
            string v = token.Value;
            if (token.Type != System.CommandLine.Parsing.TokenType.Argument || v.Length < 3 || !v.StartsWith("--", StringComparison.Ordinal) || !char.IsAsciiLetter(v[2])) continue;
            string name = v.Split('=')[0];
            if (known.Contains(name, StringComparer.Ordinal)) continue;
            var close = known.Where(k => k.StartsWith("--", StringComparison.Ordinal))
                .Select(k => (Name: k, Distance: Distance(name, k)))
                .Where(x => x.Distance <= Math.Max(2, name.Length / 4) || x.Name.StartsWith(name, StringComparison.Ordinal) || name.StartsWith(x.Name + "-", StringComparison.Ordinal))
                .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).Select(x => x.Name).Distinct().Take(3).ToList();
            string hint = close.Count > 0 ? $" Did you mean {string.Join(" or ", close)}?" : "";
            return $"'{name}' is not an option of '{(command is RootCommand ? "dataprep" : command.Name)}'.{hint} See '{OptionRules.CommandPath(command)} --help' for the options.";
        }
        return null;

        static int Distance(string a, string b)
        {
            var row = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++) row[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                int diagonal = row[0];
                row[0] = i;
                for (int j = 1; j <= b.Length; j++)
                {
                    int up = row[j];
                    row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                    diagonal = up;
                }
            }
            return row[b.Length];
        }
    }

    private sealed class InputOptions
    {
        public readonly Argument<string[]> Inputs = new("INPUT") { Arity = ArgumentArity.OneOrMore, Description = "Input files, folders or patterns (data/*.csv); .gz is read transparently. All of one schema." };
        public readonly Option<string> Out = new("--out", "-o") { Description = "The output folder or s3://bucket/prefix/ (new, empty, or an earlier run replaced with --overwrite).", Required = true };
        public readonly Option<bool> NoHeader = new("--no-header") { Description = "CSV inputs have no header row; columns are named c0, c1, …" };
        public readonly Option<string> Delimiter = new("--delimiter") { Description = "CSV field separator, e.g. ';' or '\\t' (default ',', '\\t' for .tsv)." };
        public readonly Option<string> Quote = new("--quote") { Description = "CSV quote character (default '\"')." };
        public readonly Option<string> Encoding = new("--encoding") { Description = "Text encoding of CSV, TSV and JSON Lines inputs (default utf-8; e.g. latin1, utf-16)." };
        public readonly Option<string[]> ColumnType = new("--column-type") { Description = "Override inferred types: COL=float|int|bool|string|timestamp (repeat or comma-separate). An inferred float column refuses integers a 64-bit float cannot hold (beyond 2^53, e.g. 9007199254740993); COL=float reads them as the nearest float.", AllowMultipleArgumentsPerToken = true };
        public readonly Option<bool> DecimalComma = new("--decimal-comma") { Description = "CSV numbers use ',' as decimal point (1,5 reads as 1.5), as many European exports do; a '.' in a number is then refused. Pair it with --delimiter ';' (or quote such fields)." };
        public readonly Option<string[]> NullValues = new("--null-values") { Description = "Extra field values of CSV, TSV and JSON Lines inputs meaning 'missing', e.g. NA,null (the empty field always is).", AllowMultipleArgumentsPerToken = true };
        public readonly Option<string> NonFinite = new("--non-finite") { Description = "NaN, ±Inf, ±Infinity (any case) and numbers beyond ±1.8e308 (or an integer column's range): error (default; names file, line or row, column), missing (then --missing decides) or keep (RecordIO-protobuf, Parquet)." };
        public readonly Option<string> OnBadRow = new("--on-bad-row") { Description = "A row that cannot be read (CSV/TSV: ragged, a value of the wrong type, a non-finite number; a malformed JSON Lines or LibSVM line; a Parquet value that is non-finite or not of its --column-type; a missing value under --missing error in any format): fail (default; exit 3 naming file, line or row group and row, column), skip (counted by cause in the report and run.json) or quarantine (also written with file, line or row group and row, and the row's text to _dataprep/quarantine/part-00000.jsonl). Broken quoting, gzip or UTF-8 damage always fail. With --workers too." };
        public readonly Option<string> Format = new("--input-format") { Description = "Input format when the extension does not tell: csv, tsv, jsonl, parquet or libsvm." };
        public readonly Option<bool> Overwrite = new("--overwrite") { Description = "Replace an earlier DataPrep run in the output folder." };
        public readonly Option<int> Threads = new("--threads") { Description = "Worker threads (default: all cores). Output bytes do not depend on it." };
        public readonly Option<int> BatchRows = new("--batch-rows") { Description = "Rows per batch (default 65536; a Parquet row group of up to 16 times as many rows is one batch). A --memory budget caps a batch at a 32nd of it in rows of at least 512 bytes of text, as the input's sampled rows measure (8192 rows at 128MB; 256 rows 9KB wide). Output bytes do not depend on it.", DefaultValueFactory = _ => 65_536 };
        public readonly Option<bool> ZeroBased = new("--zero-based") { Description = "LibSVM inputs number features from 0 (default: from 1, as LIBSVM and SVMlight do)." };
        public readonly Option<int?> NumFeatures = new("--num-features") { Description = "LibSVM inputs have this many features (default: the largest index seen, found in a first pass)." };
        public readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print nothing but errors." };
        public readonly Option<bool> Json = new("--json") { Description = "Print the report as JSON on stdout (no table, no progress unless --progress asks)." };
        public readonly Option<string> Progress = NewProgressOption();

        private static Option<string> NewProgressOption()
        {
            var o = new Option<string>("--progress")
            {
                Description = "Progress on stderr, per phase (read, split, write, upload) with rate and time left: auto (default: a bar on a terminal; plain lines for engine tasks, and after 10 s on other pipes; none with --quiet/--json), bar, plain (a line every 5 s, no control codes, for logs) or none.",
            };
            o.CompletionSources.Add(ProgressDisplay.Names);
            return o;
        }

        public void AddTo(Command c)
        {
            c.Arguments.Add(Inputs);
            foreach (var o in new Option[] { Out, NoHeader, Delimiter, Quote, Encoding, ColumnType, DecimalComma, NullValues, NonFinite, OnBadRow, Format, ZeroBased, NumFeatures, Overwrite, Threads, BatchRows, Quiet, Json, Progress }) c.Options.Add(o);
        }

        /// <summary>The registry with this invocation's LibSVM input options.</summary>
        public DataPrepRegistry Registry(ParseResult r, DataPrepRegistry registry)
        {
            if (r.GetValue(ZeroBased) || r.GetValue(NumFeatures) is not null) registry.Sources.AddLibSvm(new LibSvmOptions(r.GetValue(ZeroBased), r.GetValue(NumFeatures)));
            return registry;
        }

        public SourceOptions Source(ParseResult r) => new()
        {
            HasHeader = !r.GetValue(NoHeader),
            Delimiter = Char(r.GetValue(Delimiter), ',', "--delimiter"),
            Quote = Char(r.GetValue(Quote), '"', "--quote"),
            Encoding = r.GetValue(Encoding),
            ColumnTypes = OptionParsing.Pairs(r.GetValue(ColumnType), "--column-type", OptionParsing.ParseKind, "float, int, bool, string, timestamp"),
            NullValues = OptionParsing.List(r.GetValue(NullValues)),
            DecimalComma = r.GetValue(DecimalComma),
            NonFinite = r.GetValue(NonFinite) is { } nf ? OptionParsing.ParseNonFinite(nf) : NonFinitePolicy.Error,
            OnBadRow = BadRowPolicy(r),
            Format = r.GetValue(Format)?.ToLowerInvariant(),
            BatchRows = r.GetValue(BatchRows),
            Threads = r.GetValue(Threads),
        };

        /// <summary>
        /// The reading options this invocation gives, over <paramref name="earlier"/>'s (apply: the earlier run's, which new
        /// inputs are read with unless told otherwise; a new file may use ';' where the run's used ',').
        /// </summary>
        public SourceOptions Over(ParseResult r, SourceOptions earlier)
        {
            var given = Source(r);
            bool Has(Option o) => r.GetResult(o) is { Implicit: false };
            var types = earlier.ColumnTypes.ToDictionary(StringComparer.Ordinal);
            foreach (var (name, kind) in given.ColumnTypes) types[name] = kind;
            return earlier with
            {
                HasHeader = Has(NoHeader) ? given.HasHeader : earlier.HasHeader,
                Delimiter = Has(Delimiter) ? given.Delimiter : earlier.Delimiter,
                Quote = Has(Quote) ? given.Quote : earlier.Quote,
                Encoding = Has(Encoding) ? given.Encoding : earlier.Encoding,
                ColumnTypes = types,
                NullValues = Has(NullValues) ? given.NullValues : earlier.NullValues,
                DecimalComma = Has(DecimalComma) ? given.DecimalComma : earlier.DecimalComma,
                NonFinite = Has(NonFinite) ? given.NonFinite : earlier.NonFinite,
                Format = Has(Format) ? given.Format : earlier.Format,
                BatchRows = Has(BatchRows) ? given.BatchRows : earlier.BatchRows,
                Threads = Has(Threads) ? given.Threads : earlier.Threads,
            };
        }

        public BadRowPolicy BadRowPolicy(ParseResult r) => r.GetValue(OnBadRow) is { } b ? OptionParsing.ParseBadRow(b) : Pipeline.BadRowPolicy.Fail;

        private static char Char(string? text, char fallback, string option) => text switch
        {
            null => fallback,
            "\\t" or "tab" => '\t',
            { Length: 1 } => text[0],
            _ => throw new PipelineValidationException($"{option} {text} is not a single character; expected e.g. ',' ';' '|' or '\\t'."),
        };
    }

    private static Command BuildConvert(TextWriter stdout, TextWriter stderr, DataPrepRegistry registry, CommandHelp help)
    {
        var cmd = new Command("convert", "Read, split (random, stratified, time, group, noisy/clean, k-fold; exact counts, no leaks) and encode data — tables or images, local or S3 — into SageMaker-ready shards (label-first CSV, RecordIO-protobuf, LibSVM, DeepAR, image RecordIO, im2rec lists, augmented manifests, or lists kept as they are) with a run record.");
        var io = new InputOptions();
        io.AddTo(cmd);
        var imageOptions = new ImageCliOptions();
        imageOptions.AddTo(cmd);
        var label = new Option<string>("--label", "-l") { Description = "The label column: a name, a 0-based index, first or last (LibSVM inputs: their label, without this option). Text labels become class ids 0…K−1 (sorted, fitted on train)." };
        var noLabel = new Option<bool>("--no-label") { Description = "Unsupervised: features only, content type text/csv;label_size=0 (LibSVM inputs: their label is left out)." };
        var features = new Option<string[]>("--features") { Description = "Feature columns in output order (default: all but the label and --drop).", AllowMultipleArgumentsPerToken = true };
        var drop = new Option<string[]>("--drop") { Description = "Columns to leave out (names or 0-based indexes).", AllowMultipleArgumentsPerToken = true };
        var encode = new Option<string[]>("--encode") { Description = "Encode text/timestamp features: COL=onehot|ordinal|epoch (fitted on train; unseen values → reserved code).", AllowMultipleArgumentsPerToken = true };
        var categorical = new Option<string>("--categorical") { Description = "Encoding for every text feature without its own --encode: onehot or ordinal." };
        var timestamps = new Option<string>("--timestamps") { Description = "Encoding for every timestamp feature: epoch (seconds since 1970, UTC)." };
        var missing = new Option<string>("--missing") { Description = "Missing values in used columns: error (default; names file, row, column), drop, fill:NUMBER, fill:mean (train mean) or fill:TEXT.", DefaultValueFactory = _ => "error" };
        var split = new Option<string>("--split") { Description = "random (default), time (oldest → train, newest → test; needs --time), group (no group in two splits; needs --group), or fractions as a shorthand for a random split: 80/10/10, 70/15/15, 90/10." };
        var fractions = new Option<string>("--fractions") { Description = "Fractions train/validation/test for any split method, e.g. 70/15/15 (default 80/10/10)." };
        var timeColumn = new Option<string>("--time") { Description = "The timestamp column of --split time (ISO 8601 dates/date-times, epoch seconds or millis, Parquet timestamps)." };
        var groupColumn = new Option<string>("--group") { Description = "The group key column of --split group (speaker, patient, user): every group lands wholly in one split." };
        var cutoffs = new Option<string[]>("--cutoffs") { Description = "--split time: explicit cut-off instants instead of fractions, e.g. 2025-01-01,2025-07-01 (train < first ≤ validation < second ≤ test).", AllowMultipleArgumentsPerToken = true };
        var gap = new Option<string>("--gap") { Description = "--split time: drop rows within this duration after each split's last timestamp (e.g. 7d, 12h, 30m), so no label window overlaps." };
        var noisy = new Option<string[]>("--noisy") { Description = "--split noisy: inputs whose rows are noisy (the INPUTs are the clean ones).", AllowMultipleArgumentsPerToken = true };
        var noisyColumn = new Option<string>("--noisy-column") { Description = "--split noisy: a column marking noisy rows (true/1/yes/noisy), instead of separate inputs." };
        var noisyApproach = new Option<int>("--noisy-approach") { Description = "--split noisy: 1 (default) train = clean, noisy → validation/test; 2 clean → train/validation (--fractions 90/10), noisy → validation/test.", DefaultValueFactory = _ => 1 };
        var noisyValidation = new Option<double>("--noisy-validation") { Description = "--split noisy: share of the noisy rows that goes to validation; the rest is test (default 0.5).", DefaultValueFactory = _ => 0.5 };
        var series = new Option<string>("--series") { Description = "--format deepar: the column naming each time series (one JSON record per series)." };
        var deeparCat = new Option<string[]>("--deepar-cat") { Description = "--format deepar: features written as the series' static cat codes (ordinal-encode text first); other features become dynamic_feat.", AllowMultipleArgumentsPerToken = true };
        var folds = new Option<int>("--folds") { Description = "k-fold cross-validation: K folds written once each (fold-0/ … fold-K-1/) plus ManifestFiles naming each fold's training set; the test fraction is held out first. Stratified with --stratify, whole groups with --split group, forward-chaining with --split time." };
        var assignment = new Option<string>("--assignment") { Description = "exact (default: exact counts) or stable (fixed hash thresholds: rows or groups added later never move to another split; fractions approximate).", DefaultValueFactory = _ => "exact" };
        var like = new Option<string>("--like") { Description = "Reuse an earlier run's seed, fractions, split method, label classes and category maps (OUT/_dataprep/run.json, or its folder OUT; local or s3://bucket/prefix/), for incremental training." };
        var shuffleFlag = new Option<bool>("--shuffle") { Description = "Shuffle rows inside each split (the default except for time splits, which keep time order)." };
        var train = new Option<double?>("--train") { Description = "Train fraction (default 0.8)." };
        var validation = new Option<double?>("--validation") { Description = "Validation fraction (default 0.1)." };
        var test = new Option<double?>("--test") { Description = "Test fraction (default 0.1)." };
        var stratify = new Option<string>("--stratify") { Description = "Keep each class's share per split (within one row), e.g. --stratify label." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of every random decision; same seed + inputs + options ⇒ byte-identical data files.", DefaultValueFactory = _ => 42 };
        var noShuffle = new Option<bool>("--no-shuffle") { Description = "Keep input order inside each split (the split itself stays random)." };
        var shardSize = new Option<string>("--shard-size") { Description = "Shard size (default 64MB; none with --shard-rows). Shard k holds the records that end in bytes (k×SIZE, (k+1)×SIZE] of the split (uncompressed, a header aside): ⌈split/SIZE⌉ shards, each at most SIZE plus one record less a byte; a record larger than SIZE is an error. Parquet: a limit on each compressed file, by estimate.", DefaultValueFactory = _ => "64MB" };
        var shardRows = new Option<long>("--shard-rows") { Description = "Shards of N rows each (the last one fewer), with no size limit; instead of --shard-size." };
        var shards = new Option<int>("--shards") { Description = "Exactly N shards per split (at most one per row), balanced by bytes (use a multiple of your instance count for ShardedByS3Key)." };
        var compress = new Option<string>("--compress") { Description = "Compress data files: none (default) or gzip.", DefaultValueFactory = _ => "none" };
        var memory = new Option<string>("--memory") { Description = "Memory budget, e.g. 512MB or 4GB (default: half the available RAM). Beyond it the shuffle/split spills to temp files, and below 1GB it also sets how many rows a batch holds (--batch-rows); output bytes do not change." };
        var temp = new Option<string>("--temp") { Description = "Folder for spill files (default: the system temp folder); a run folder inside it is removed at the end, also on failure or Ctrl-C." };
        var allowEmptySplit = new Option<bool>("--allow-empty-split") { Description = "Publish a split that ends up empty although its fraction is above zero (default: an error, exit 3). A run with no rows at all is always an error." };
        var noLineage = new Option<bool>("--no-lineage") { Description = "Do not write lineage sidecars (row id, source row, content hash per output row)." };
        var format = new Option<string>("--format", "-f") { Description = "Output format, one of:\n" + registry.Formats.Help(), DefaultValueFactory = _ => Formats.CsvFormatDefinition.FormatName };
        var dtype = new Option<string>("--dtype") { Description = "RecordIO-protobuf feature tensor: float32 (default), float64 or int32. Values that do not fit are an error.", DefaultValueFactory = _ => "float32" };
        var labelDtype = new Option<string>("--label-dtype") { Description = "RecordIO-protobuf label tensor: float32 (default), float64 or int32.", DefaultValueFactory = _ => "float32" };
        var sparse = new Option<bool>("--sparse") { Description = "RecordIO-protobuf: write every row sparse (keys + shape), dropping zeros. Rows with one-hot columns are always sparse." };
        var uid = new Option<bool>("--uid") { Description = "RecordIO-protobuf: write the stable row id into each record's uid (off: bytes identical to the SageMaker SDK)." };
        var metadata = new Option<bool>("--metadata") { Description = "RecordIO-protobuf: write lineage JSON (row id, source, source row) into each record's metadata." };
        var escape = new Option<bool>("--recordio-escape") { Description = "Split payloads holding the RecordIO magic word into cflag 1/2/3 parts, as MXNet does (off: cflag 0 only, as the SageMaker SDK writes and reads)." };
        var s3 = new S3Flags();
        s3.AddTo(cmd);
        var scaleFlags = new ScaleFlags();
        scaleFlags.AddTo(cmd);
        cmd.Options.Add(s3.Instances);
        foreach (var o in new Option[] { label, noLabel, features, drop, encode, categorical, timestamps, missing, split, train, validation, test, stratify, seed, noShuffle, shardSize, shardRows, shards, compress, noLineage, format, dtype, labelDtype, sparse, uid, metadata, escape, fractions, timeColumn, groupColumn, cutoffs, gap, shuffleFlag, assignment, like, noisy, noisyColumn, noisyApproach, noisyValidation, folds, series, deeparCat, memory, temp, allowEmptySplit }) cmd.Options.Add(o);
        // --help in the order a user thinks: inputs, label and features, split, output, images, S3, then how it runs;
        // the common options first in each section.
        help.SetLayout(cmd,
        [
            new("Inputs", [io.Inputs, io.Out, io.Overwrite, io.Format, io.NoHeader, io.Delimiter, io.Quote, io.Encoding, io.ColumnType, io.DecimalComma, io.NullValues, io.NonFinite, io.OnBadRow, io.ZeroBased, io.NumFeatures]),
            new("Label and features", [label, noLabel, features, drop, encode, categorical, timestamps, missing]),
            new("Split", [split, fractions, stratify, seed, timeColumn, groupColumn, folds, gap, cutoffs, noisy, noisyColumn, noisyApproach, noisyValidation, assignment, like, train, validation, test, shuffleFlag, noShuffle, allowEmptySplit]),
            new("Output format and sharding", [format, shardSize, shardRows, shards, s3.Instances, compress, noLineage, dtype, labelDtype, sparse, uid, metadata, escape, series, deeparCat]),
            new("Images (--format recordio-image, images, augmented-manifest)", [.. imageOptions.All]),
            new("S3 (s3:// inputs and outputs)", [.. s3.Flags]),
            new("Run and scale-out", [io.Progress, io.Quiet, io.Json, io.Threads, io.BatchRows, memory, temp, scaleFlags.Workers, scaleFlags.Steps, scaleFlags.Step, scaleFlags.Worker, scaleFlags.Work, scaleFlags.KeepWork, scaleFlags.InputSplitSize]),
        ], ConvertExamples + "\n" + ImageCliOptions.Examples + "\n" + ConvertOutput);

        cmd.SetAction((r, ct) => RunGuardedAsync(r, io, stdout, stderr, "convert", ct, async progress =>
        {
            var scale = scaleFlags.Parse(r);
            var (policy, fill) = OptionParsing.ParseMissing(r.GetValue(missing)!);
            var (method, splitFractions) = OptionParsing.ParseSplitMethod(r.GetValue(split));
            int cutoffCount = OptionParsing.List(r.GetValue(cutoffs)).Count;
            // One cut-off means train/test; two mean train/validation/test (unless fractions say otherwise).
            var (tr, va, te) = r.GetValue(fractions) is { } fr ? OptionParsing.ParseSplit(fr) : splitFractions ?? (cutoffCount == 1 ? (0.8, 0, 0.2) : (0.8, 0.1, 0.1));
            OptionParsing.CheckFractionSources(r.GetValue(split), splitFractions is not null, r.GetValue(fractions), r.GetValue(train), r.GetValue(validation), r.GetValue(test));
            if (r.GetValue(shuffleFlag) && r.GetValue(noShuffle)) throw new PipelineValidationException("--shuffle and --no-shuffle were both given; choose one.");
            var options = new ConvertOptions
            {
                Inputs = r.GetValue(io.Inputs)!,
                Output = r.GetValue(io.Out)!,
                Source = io.Source(r) with { RangeBytes = scaleFlags.RangeBytes(r) },
                Label = r.GetValue(label),
                NoLabel = r.GetValue(noLabel),
                Features = OptionParsing.List(r.GetValue(features)),
                Drop = OptionParsing.List(r.GetValue(drop)),
                Encodings = OptionParsing.Pairs(r.GetValue(encode), "--encode", OptionParsing.ParseEncoding, "onehot, ordinal, epoch"),
                CategoricalEncoding = r.GetValue(categorical) is { } c ? OptionParsing.ParseEncoding(c.ToLowerInvariant()) ?? throw new PipelineValidationException($"--categorical {c}: expected onehot or ordinal.") : FeatureEncoding.None,
                TimestampEncoding = r.GetValue(timestamps) is { } t ? OptionParsing.ParseEncoding(t.ToLowerInvariant()) ?? throw new PipelineValidationException($"--timestamps {t}: expected epoch.") : FeatureEncoding.None,
                Missing = policy,
                FillValue = fill,
                Train = r.GetValue(train) ?? tr,
                Validation = r.GetValue(validation) ?? va,
                Test = r.GetValue(test) ?? te,
                Stratify = r.GetValue(stratify),
                Seed = r.GetValue(seed),
                Shuffle = r.GetValue(shuffleFlag) ? true : r.GetValue(noShuffle) ? false : null,
                SplitBy = method,
                Assignment = r.GetValue(assignment)?.ToLowerInvariant() switch
                {
                    "exact" or null => Assignment.Exact,
                    "stable" => Assignment.Stable,
                    var x => throw new PipelineValidationException($"--assignment {x}: expected exact or stable."),
                },
                Like = r.GetValue(like),
                NoisyInputs = r.GetValue(noisy) ?? [],
                NoisyColumn = r.GetValue(noisyColumn),
                NoisyApproach = r.GetValue(noisyApproach) switch
                {
                    1 => NoisyApproach.TrainOnClean,
                    2 => NoisyApproach.MixedValidation,
                    var x => throw new PipelineValidationException($"--noisy-approach {x}: expected 1 or 2."),
                },
                NoisyValidation = r.GetValue(noisyValidation),
                Folds = r.GetValue(folds),
                SeriesColumn = r.GetValue(series),
                DeepArCat = OptionParsing.List(r.GetValue(deeparCat)),
                TimeColumn = r.GetValue(timeColumn),
                GroupColumn = r.GetValue(groupColumn),
                Cutoffs = OptionParsing.List(r.GetValue(cutoffs)).Select(OptionParsing.ParseInstant).ToList(),
                Gap = r.GetValue(gap) is { } g ? OptionParsing.ParseDuration(g) : null,
                // An explicit --shard-size is kept even with --shard-rows, so that Validate refuses the pair; the default is
                // left to ShardOptions (64 MiB, or no size limit with --shard-rows).
                Shards = new ShardOptions(
                    r.GetResult(shardSize) is { Implicit: false } ? OptionParsing.ParseSize(r.GetValue(shardSize)!, "--shard-size") : null,
                    r.GetValue(shardRows), r.GetValue(shards)),
                Gzip = r.GetValue(compress)?.ToLowerInvariant() switch
                {
                    "gzip" or "gz" => true,
                    "none" or null => false,
                    var x => throw new PipelineValidationException($"--compress {x}: expected none or gzip."),
                },
                Overwrite = r.GetValue(io.Overwrite),
                Threads = r.GetValue(io.Threads),
                Lineage = !r.GetValue(noLineage),
                AllowEmptySplit = r.GetValue(allowEmptySplit),
                Memory = new MemoryOptions(r.GetValue(memory) is { } m ? MemoryOptions.ParseSize(m) : null, r.GetValue(temp)),
                Format = r.GetValue(format)!,
                RecordIO = new RecordIOOptions(
                    OptionParsing.ParseTensorType(r.GetValue(dtype)!, "--dtype"),
                    OptionParsing.ParseTensorType(r.GetValue(labelDtype)!, "--label-dtype"),
                    r.GetValue(sparse), r.GetValue(uid), r.GetValue(metadata), r.GetValue(escape)),
                Images = imageOptions.Parse(r, r.GetValue(label)),
                S3 = s3.Options(r),
                Instances = r.GetValue(s3.Instances),
            };
            if (scale is not null) return await scaleFlags.RunAsync(r, options, scale, io.Registry(r, registry), stdout, stderr, progress, r.GetValue(io.Quiet) || r.GetValue(io.Json), ct).ConfigureAwait(false);
            return await ConvertRunner.RunAsync(options, io.Registry(r, registry), progress, ct).ConfigureAwait(false);
        }));
        return cmd;
    }

    private static Command BuildApply(TextWriter stdout, TextWriter stderr, DataPrepRegistry registry)
    {
        var cmd = new Command("apply", """
            Encode new data (e.g. for Batch Transform) exactly like an earlier run: same columns, class ids, vocabularies and fills.
            Writes OUT/data/part-NNNNN.csv in input order, features only unless --with-label.

            Examples:
              dataprep apply --run out/churn/_dataprep/run.json new-customers.csv --out out/churn-infer

              # A run, inputs and output on S3 (the run named by its prefix)
              dataprep apply --run s3://my-bucket/churn/v1/ s3://raw/new/ --out s3://my-bucket/churn/infer/
            """);
        var io = new InputOptions();
        io.AddTo(cmd);
        var run = new Option<string>("--run") { Description = "The earlier run: OUT/_dataprep/run.json, or its folder OUT (local or s3://bucket/prefix/).", Required = true };
        var withLabel = new Option<bool>("--with-label") { Description = "Write the label first (the input must have it); default: features only (text/csv;label_size=0)." };
        var onUnseen = new Option<string>("--on-unseen") { Description = "Categories the run's train split never had: reserve (the reserved code, counted per column; default) or error (exit 3 naming file, row, column and value).", DefaultValueFactory = _ => "reserve" };
        cmd.Options.Add(run);
        cmd.Options.Add(withLabel);
        cmd.Options.Add(onUnseen);
        var s3 = new S3Flags();
        s3.AddTo(cmd);
        cmd.SetAction((r, ct) => RunGuardedAsync(r, io, stdout, stderr, "apply", ct, async progress =>
            await ConvertRunner.ApplyAsync(r.GetValue(run)!, r.GetValue(io.Inputs)!, r.GetValue(io.Out)!, r.GetValue(withLabel), r.GetValue(io.Overwrite), s3.Options(r), io.Registry(r, registry), progress, ct,
                OptionParsing.UnseenPolicy(r.GetValue(onUnseen)), io.BadRowPolicy(r), earlier => io.Over(r, earlier)).ConfigureAwait(false)));
        return cmd;
    }

    private static async Task<int> RunGuardedAsync(ParseResult r, InputOptions io, TextWriter stdout, TextWriter stderr, string command, CancellationToken cancellationToken, Func<IProgress<RunProgress>?, Task<RunReport?>> run)
    {
        bool quiet = r.GetValue(io.Quiet), json = r.GetValue(io.Json);
        try
        {
            // A null report: the command printed what it had to (the steps of a scaled-out run, a task's line).
            if (await ProgressDisplay.RunAsync(ProgressDisplay.Parse(r.GetValue(io.Progress)), quiet || json, stderr, run).ConfigureAwait(false) is not { } report) return Ok;
            if (json) await stdout.WriteLineAsync(JsonSerializer.Serialize(report, RunRecord.ReportJson)).ConfigureAwait(false);
            else if (!quiet)
            {
                ReportPrinter.Print(report, command, stdout);
                if (report.Output?.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) == true)
                {
                    await stdout.WriteLineAsync("\n" + Output.ChannelsFile.Snippet(Output.ChannelsFile.Build(report, report.Output))).ConfigureAwait(false);
                }
            }
            return Ok;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Whatever the cancellation surfaced as (OperationCanceledException, or an I/O error of an aborted upload), the
            // run unwound through its cleanup: staged files removed, uploads aborted, spill files deleted.
            string output = r.GetValue(io.Out) is { } o ? $" in {o}" : "";
            return Fail(stderr, $"the run was cancelled; nothing was published, its staging and temp files were removed, and an earlier run{output} is untouched.", Cancelled);
        }
        catch (PipelineValidationException e) { return Fail(stderr, e.Message, InvalidOptions); }
        catch (DataFormatException e) { return Fail(stderr, e.Message, BadInput); }
        catch (OutputException e) { return Fail(stderr, e.Message, OutputRefused); }
        catch (StorageException e) { return Fail(stderr, e.Message, StorageFailed); }
        catch (OperationCanceledException) { return Fail(stderr, "cancelled; nothing was written.", Cancelled); }
        catch (ChildFailedException e) { return Fail(stderr, e.Message, e.Code); }
        catch (Exception e) when (e is OutOfMemoryException || (e is AggregateException a && a.Flatten().InnerExceptions.Any(x => x is OutOfMemoryException)))
        {
            // Never reported as bad data (Throw.IsDecodeFailure): it says how much memory the process had, not what the input holds.
            string output = r.GetValue(io.Out) is { } o ? $" in {o}" : "";
            string where = (e as InsufficientMemoryException ?? (e as AggregateException)?.Flatten().InnerExceptions.OfType<InsufficientMemoryException>().FirstOrDefault())?.Message is { } m ? $" {m}" : "";
            return Fail(stderr, $"the process ran out of memory{where}. The machine or its container limit allowed less than this run needed. Nothing was published, and an earlier run{output} is untouched. Give the process more memory, or convert with a lower --memory so that the run spills to --temp sooner.", Failed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(stderr, $"{e.Message} Nothing was published: the output folder holds no new files.", Failed);
        }
    }

    private static int Fail(TextWriter stderr, string message, int code)
    {
        stderr.WriteLine($"error: {message}");
        return code;
    }
}
