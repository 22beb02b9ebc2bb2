using DataPrep.Data;

namespace DataPrep.Pipeline;

/// <summary>How a string or timestamp feature becomes numbers.</summary>
public enum FeatureEncoding
{
    /// <summary>Numbers as they are; booleans as 0/1.</summary>
    None,
    /// <summary>Categories → 0…K−1 in sorted order (fitted on train); unseen → K.</summary>
    Ordinal,
    /// <summary>Categories → K+1 indicator columns (sparse), the last for unseen values.</summary>
    OneHot,
    /// <summary>Timestamps → seconds since 1970-01-01T00:00:00Z.</summary>
    Epoch,
}

/// <summary>How rows are assigned to splits.</summary>
public enum SplitMethod
{
    /// <summary>Exact random counts by seed (optionally stratified).</summary>
    Random,
    /// <summary>Oldest rows → train, newest → test, by a timestamp column.</summary>
    Time,
    /// <summary>Every group (speaker, patient, user) wholly in one split, fractions met by rows.</summary>
    Group,
    /// <summary>Train on clean rows, test on noisy rows (DESIGN §3.4), optionally by group.</summary>
    NoisyClean,
}

/// <summary>How split membership is decided.</summary>
public enum Assignment
{
    /// <summary>Exact counts (hash order cut at exact row counts).</summary>
    Exact,
    /// <summary>Fixed hash thresholds: adding data later never moves an existing row or group; fractions approximate.</summary>
    Stable,
}

/// <summary>
/// What <c>dataprep apply</c> does with a category (or, with the label, a class) the earlier run never saw in train.
/// Either way each column's count of such values is in the report and the run record.
/// </summary>
public enum UnseenPolicy
{
    /// <summary>Map it to the reserved code K (one-hot: the last column), as validation and test rows are (default).</summary>
    Reserve,
    /// <summary>Stop with exit 3, naming the file, row, column and value.</summary>
    Error,
}

/// <summary>What to do with a missing value in a used column.</summary>
public enum MissingPolicy
{
    /// <summary>Stop with an error naming the file, row and column (default).</summary>
    Error,
    /// <summary>Drop the row before splitting; counted in the report.</summary>
    Drop,
    /// <summary>Fill with <see cref="ConvertOptions.FillValue"/> (or the train mean); counted.</summary>
    Fill,
}

/// <summary>How output is cut into files per split; <c>Output.ShardRule</c> turns these into each record's shard.</summary>
/// <param name="MaxBytes">
/// The shard size (<c>--shard-size</c>): shard k holds the records that end in bytes (k·size, (k+1)·size] of the split's
/// records (uncompressed, a file header aside). Null: <see cref="DefaultMaxBytes"/>, or no size limit when
/// <paramref name="MaxRows"/> is set; giving both is an error.
/// </param>
/// <param name="MaxRows">Shards of this many rows each, the last one possibly fewer (<c>--shard-rows</c>; 0: no row limit); replaces the size limit.</param>
/// <param name="Count">Exactly this many shards per split, balanced by bytes (0: decided by the limits).</param>
/// <param name="Multiple">The shard count of each split is rounded up to a multiple of this (training instances; 0 or 1: no rounding).</param>
public sealed record ShardOptions(long? MaxBytes = null, long MaxRows = 0, int Count = 0, int Multiple = 0)
{
    /// <summary>The shard size when neither a size nor a row limit is given: 64 MiB.</summary>
    public const long DefaultMaxBytes = 64L << 20;

    /// <summary>The size limit in force: <see cref="MaxBytes"/>, else none (<see cref="long.MaxValue"/>) with a row limit, else <see cref="DefaultMaxBytes"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long EffectiveMaxBytes => MaxBytes ?? (MaxRows > 0 ? long.MaxValue : DefaultMaxBytes);
}

/// <summary>
/// Every option of <c>dataprep convert</c>; the CLI maps its flags one-to-one onto these.
/// Defaults: seed 42, 80/10/10 split, shuffled, label-first CSV, error on missing values.
/// </summary>
public sealed record ConvertOptions
{
    /// <summary>Input files, folders or patterns (all of one schema).</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>The output folder.</summary>
    public string Output { get; init; } = "";

    /// <summary>How inputs are parsed.</summary>
    public SourceOptions Source { get; init; } = new();

    /// <summary>The label column: a name, a 0-based index, "first" or "last"; null with <see cref="NoLabel"/>.</summary>
    public string? Label { get; init; }

    /// <summary>Unsupervised output: features only, content type text/csv;label_size=0.</summary>
    public bool NoLabel { get; init; }

    /// <summary>The features in output order; empty means every column but the label and <see cref="Drop"/>.</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>Columns to leave out.</summary>
    public IReadOnlyList<string> Drop { get; init; } = [];

    /// <summary>Per-column encodings of string / timestamp features.</summary>
    public IReadOnlyDictionary<string, FeatureEncoding> Encodings { get; init; } = new Dictionary<string, FeatureEncoding>();

    /// <summary>Encoding for every string feature without its own entry (None means: an error names them).</summary>
    public FeatureEncoding CategoricalEncoding { get; init; } = FeatureEncoding.None;

    /// <summary>Encoding for every timestamp feature without its own entry.</summary>
    public FeatureEncoding TimestampEncoding { get; init; } = FeatureEncoding.None;

    /// <summary>Missing values in used columns.</summary>
    public MissingPolicy Missing { get; init; } = MissingPolicy.Error;

    /// <summary>The fill for <see cref="MissingPolicy.Fill"/>: a number, a category, or "mean" (numeric, from train).</summary>
    public string? FillValue { get; init; }

    /// <summary>The seed of every random decision.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>
    /// Whether rows are shuffled inside each split: false keeps input order (time order for time splits);
    /// null means the method's default (shuffled, except time splits).
    /// </summary>
    public bool? Shuffle { get; init; }

    /// <summary>How rows are assigned to splits.</summary>
    public SplitMethod SplitBy { get; init; } = SplitMethod.Random;

    /// <summary>Noisy/clean split: inputs whose rows are all noisy (the main inputs are then clean).</summary>
    public IReadOnlyList<string> NoisyInputs { get; init; } = [];

    /// <summary>Noisy/clean split: a column marking noisy rows (true/1/yes/"noisy").</summary>
    public string? NoisyColumn { get; init; }

    /// <summary>Noisy/clean split: approach 1 (train = clean, noisy → validation/test) or 2 (clean → train/validation, noisy → validation/test).</summary>
    public Pipeline.NoisyApproach NoisyApproach { get; init; } = Pipeline.NoisyApproach.TrainOnClean;

    /// <summary>Noisy/clean split: the share of noisy rows that goes to validation (the rest is test).</summary>
    public double NoisyValidation { get; init; } = 0.5;

    /// <summary>
    /// k-fold cross-validation with this many folds (0: none). The test fraction is held out first; the
    /// train and validation fractions together form the folds. Folds follow the split method: stratified
    /// with --stratify, whole groups with --split group, forward-chaining time blocks with --split time.
    /// </summary>
    public int Folds { get; init; }

    /// <summary>Exact counts (default) or stable thresholds for incremental training.</summary>
    public Assignment Assignment { get; init; } = Assignment.Exact;

    /// <summary>
    /// The column that identifies a row across runs (null: the row's position in its input). Stable assignment keys
    /// rows on it, so rows inserted before a row later do not move it; the image formats use the image's path.
    /// </summary>
    public string? KeyColumn { get; init; }

    /// <summary>An earlier run's run.json whose seed, fractions, split method, label classes and category maps are reused.</summary>
    public string? Like { get; init; }

    /// <summary>The timestamp column of a time split.</summary>
    public string? TimeColumn { get; init; }

    /// <summary>The group key column of a group split (speaker, patient, user).</summary>
    public string? GroupColumn { get; init; }

    /// <summary>Time splits: explicit cut-off instants instead of fractions (ascending).</summary>
    public IReadOnlyList<DateTimeOffset> Cutoffs { get; init; } = [];

    /// <summary>Time splits: rows within this duration after the previous split's last timestamp are dropped.</summary>
    public TimeSpan? Gap { get; init; }

    /// <summary>Whether output rows are shuffled inside each split, after the method's default.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool EffectiveShuffle => Shuffle ?? SplitBy != SplitMethod.Time;

    /// <summary>Train, validation and test fractions; they must sum to 1.</summary>
    public double Train { get; init; } = 0.8;

    /// <summary>See <see cref="Train"/>.</summary>
    public double Validation { get; init; } = 0.1;

    /// <summary>See <see cref="Train"/>.</summary>
    public double Test { get; init; } = 0.1;

    /// <summary>Keep each class's share per split (a column name).</summary>
    public string? Stratify { get; init; }

    /// <summary>How splits are cut into files.</summary>
    public ShardOptions Shards { get; init; } = new();

    /// <summary>
    /// The output format's name, as registered on the run's <see cref="Formats.FormatRegistry"/> (default <c>csv</c>,
    /// label-first CSV); any of its aliases works too.
    /// </summary>
    public string Format { get; init; } = DefaultFormat;

    /// <summary>The output format when none is named: label-first CSV.</summary>
    public const string DefaultFormat = "csv";

    /// <summary>
    /// What the output format asks of the pipeline; set from the format's definition when the registry resolves the
    /// options (<c>DataPrepRegistry.Resolve</c>), label-first CSV's until then.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Pipeline.FormatTraits FormatTraits { get; init; } = Pipeline.FormatTraits.Default;

    /// <summary>DeepAR: the column naming each time series (product, store, sensor).</summary>
    public string? SeriesColumn { get; init; }

    /// <summary>DeepAR: features written as the static <c>cat</c> codes of each series (ordinal-encoded); other features become <c>dynamic_feat</c>.</summary>
    public IReadOnlyList<string> DeepArCat { get; init; } = [];

    /// <summary>RecordIO-protobuf encoder options (dtypes, sparse, uid, metadata, escaping).</summary>
    public Pipeline.RecordIOOptions RecordIO { get; init; } = new();

    /// <summary>gzip-compress the data files.</summary>
    public bool Gzip { get; init; }

    /// <summary>Replace an existing run in <see cref="Output"/>.</summary>
    public bool Overwrite { get; init; }

    /// <summary>S3 connection and upload settings for <c>s3://</c> outputs and inputs (see <see cref="S3Options"/>).</summary>
    public S3Options S3 { get; init; } = new();

    /// <summary>
    /// Training instances that will read the data with ShardedByS3Key (0: not set): each split's shard count
    /// becomes a multiple of this, balanced by bytes, with a warning when a split has fewer shards than instances.
    /// </summary>
    public int Instances { get; init; }

    /// <summary>Worker threads for parsing and formatting; 0 means all cores.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Publish a split that ended up empty although its fraction is above zero (<c>--allow-empty-split</c>); by default
    /// that is an error (exit 3), as is a run that writes no row at all, which no option allows.
    /// </summary>
    public bool AllowEmptySplit { get; init; }

    /// <summary>Memory budget and temp folder (<c>--memory</c>, <c>--temp</c>); output bytes do not depend on them.</summary>
    public MemoryOptions Memory { get; init; } = new();

    /// <summary>Write lineage sidecars (on by default).</summary>
    public bool Lineage { get; init; } = true;

    /// <summary>Image formats: labels, augmentation, encoding, limits.</summary>
    public ImageOptions Images { get; init; } = new();

    /// <summary>Whether the input is an image folder or list (the format reads images; DataPrep.Images).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsImageFormat => FormatTraits.ReadsImages;

    /// <summary>Whether the output keeps every column as it is (no label, no encoding, no missing-value policy).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool KeepsColumns => FormatTraits.KeepsColumns;

    /// <summary>The fractions in split order.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double[] Fractions => [Train, Validation, Test];

    /// <summary>The effective worker count.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>
    /// Rows per batch as the run makes them: <see cref="SourceOptions.BatchRows"/> within the memory budget
    /// (<see cref="MemoryOptions.BatchRows"/>). The run record keeps the rows asked for, like the budget itself.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveBatchRows => Memory.BatchRows(Source.BatchRows, RowBytes);

    /// <summary>
    /// The widest mean row, in bytes of text, of the inputs as opened (<see cref="Sources.IRecordSource.RowBytes"/>; 0:
    /// not known yet, or not measured): set once the run has opened its inputs, so that batches the split stage and the
    /// writer make hold as much text as the sources' (<see cref="MemoryOptions.RowsFor"/>).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long RowBytes { get; init; }

    /// <summary>
    /// The source options a run reads with: <see cref="Source"/> with the run's threads, its batch rows and the budget's
    /// batch bytes (each text source then fits its batches to its own rows' width), and the temp folder (where a Parquet
    /// row group too large for the budget is transposed).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public SourceOptions ReadingSource => Source with { Threads = Threads, BatchRows = EffectiveBatchRows, BatchBytes = Memory.BatchBytes, TempDirectory = Memory.EffectiveTempDirectory, MemoryBudget = Memory.Budget ?? 0 };

    /// <summary>
    /// The S3 settings an output store uploads with: <see cref="S3"/> with its part size and parts in flight within the
    /// memory budget (<see cref="MemoryOptions.UploadBuffers"/>). The run record keeps what was asked.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public S3Options EffectiveS3 => Memory.UploadBuffers(S3);

    /// <summary>
    /// These options without the split options the recorded split does not read (a group or time column, class shares):
    /// what <c>apply</c> and <c>--like</c> take from an earlier run, whose record may come from a version that accepted
    /// such options and ignored them, and which <see cref="Validate"/> now refuses.
    /// </summary>
    public ConvertOptions WithoutUnreadSplitOptions() => this with
    {
        GroupColumn = ReadsGroup ? GroupColumn : null,
        TimeColumn = ReadsTime ? TimeColumn : null,
        Stratify = ReadsStratify ? Stratify : null,
    };

    /// <summary>Whether the split reads <see cref="GroupColumn"/>: a group split, or a noisy/clean split by group.</summary>
    private bool ReadsGroup => SplitBy is SplitMethod.Group or SplitMethod.NoisyClean;

    /// <summary>Whether the split reads <see cref="TimeColumn"/>: a time split.</summary>
    private bool ReadsTime => SplitBy == SplitMethod.Time;

    /// <summary>Whether the split reads <see cref="Stratify"/>: an exact random or group split (and folds after one).</summary>
    private bool ReadsStratify => (SplitBy is SplitMethod.Random or SplitMethod.Group) && Assignment == Assignment.Exact;

    /// <summary>Checks what can be checked without data; every problem is collected into one exception.</summary>
    /// <param name="more">Problems found elsewhere (the output format's own checks), reported together with these.</param>
    /// <exception cref="PipelineValidationException">Any option is invalid.</exception>
    public void Validate(IEnumerable<string>? more = null)
    {
        var problems = new List<string>();
        if (Inputs.Count == 0) problems.Add("No input given: name at least one CSV, JSON Lines or Parquet file, folder or pattern.");
        if (string.IsNullOrWhiteSpace(Output)) problems.Add("No output given: pass --out DIR.");
        foreach (var (name, f) in new[] { ("--train", Train), ("--validation", Validation), ("--test", Test) })
        {
            if (!(f >= 0 && f <= 1)) problems.Add($"{name} is {f}; expected a fraction between 0 and 1.");
        }
        double sum = Train + Validation + Test;
        if (Math.Abs(sum - 1) > 1e-9)
        {
            problems.Add($"The split fractions sum to {sum:0.######} (train {Train}, validation {Validation}, test {Test}); expected them to sum to 1.");
        }
        if (Train <= 0) problems.Add("--train is 0; expected a positive fraction, since encoders are fitted on train.");
        if (NoLabel && Label is not null) problems.Add("--label and --no-label were both given; choose one.");
        if (IsImageFormat) Images.Validate(problems);
        if (!NoLabel && Label is null && !KeepsColumns && !IsImageFormat) problems.Add("No label given: pass --label COLUMN (a name, a 0-based index, first or last), or --no-label for unsupervised data.");
        if (NoLabel && Stratify is not null && Stratify.Length == 0) problems.Add("--stratify needs a column.");
        if (Missing == MissingPolicy.Fill && string.IsNullOrEmpty(FillValue)) problems.Add("--missing fill needs a value: fill:0, fill:mean or fill:TEXT.");
        if (Shards.Count < 0 || Shards.MaxRows < 0 || Shards.MaxBytes <= 0) problems.Add("Shard limits must be positive.");
        if (Shards.MaxRows > 0 && Shards.MaxBytes is not null) problems.Add("--shard-rows and --shard-size were both given; choose one (--shard-rows replaces the size limit).");
        if (Source.BatchRows <= 0) problems.Add("--batch-rows must be positive.");
        if (Memory.Budget is <= 0) problems.Add($"--memory {Memory.Budget} is not positive; expected a size such as 512MB.");
        if (SplitBy == SplitMethod.Time && string.IsNullOrEmpty(TimeColumn)) problems.Add("--split time needs the timestamp column: --time COLUMN.");
        if (SplitBy == SplitMethod.Group && string.IsNullOrEmpty(GroupColumn)) problems.Add("--split group needs the group key column: --group COLUMN (e.g. speaker_id).");
        if (Source.NonFinite == NonFinitePolicy.Keep && !FormatTraits.CarriesNonFinite)
        {
            problems.Add($"--non-finite keep: --format {Format} cannot carry NaN or infinities (RecordIO-protobuf and Parquet can); use --non-finite missing to treat them as missing values, or error (the default) to refuse them.");
        }
        if (Source.NonFinite == NonFinitePolicy.Keep && Missing == MissingPolicy.Fill)
        {
            problems.Add("--non-finite keep and --missing fill were both given: the fill would replace the NaN values kept; choose one.");
        }
        if (Gzip && !FormatTraits.AllowsGzip) problems.Add($"--compress gzip does not apply to --format {Format}.");
        if (Instances < 0) problems.Add($"--instances {Instances}: expected a positive instance count.");
        S3.Validate(problems);
        if (S3.Resume && !Output.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)) problems.Add($"--resume continues an unfinished upload to s3://; --out {Output} is local (a failed local run leaves nothing to resume: run it again).");
        if (S3.Resume && Overwrite) problems.Add("--resume and --overwrite were both given; --resume continues an unfinished run, --overwrite replaces a finished one.");
        if (Folds is 1 or < 0) problems.Add($"--folds {Folds}: expected at least 2 folds (or 0 for none).");
        if (Folds > 0 && (SplitBy == SplitMethod.NoisyClean || Assignment == Assignment.Stable)) problems.Add("--folds combines with random, stratified, group and time splits (exact assignment) only.");
        if (SplitBy == SplitMethod.NoisyClean && NoisyInputs.Count == 0 && string.IsNullOrEmpty(NoisyColumn)) problems.Add("--split noisy needs the noisy rows: --noisy FILE… (noisy inputs; the main inputs are clean) or --noisy-column COLUMN.");
        if (SplitBy != SplitMethod.NoisyClean && (NoisyInputs.Count > 0 || NoisyColumn is not null)) problems.Add("--noisy and --noisy-column go with --split noisy.");
        if (Assignment == Assignment.Stable && SplitBy == SplitMethod.NoisyClean) problems.Add("--assignment stable is not available for noisy/clean splits.");
        if (Assignment == Assignment.Stable && SplitBy == SplitMethod.Time) problems.Add("--assignment stable does not apply to time splits: use --cutoffs, which never move a row either.");
        if (SplitBy != SplitMethod.Time && (Cutoffs.Count > 0 || Gap is not null)) problems.Add("--cutoffs and --gap apply to time splits only (--split time --time COLUMN).");
        // Split options that the run's split does not read were ignored without a word (a --group beside a random split
        // kept no group whole).
        string split = SplitBy switch { SplitMethod.Group => "group", SplitMethod.Time => "time", SplitMethod.NoisyClean => "noisy", _ => "random" };
        if (GroupColumn is not null && !ReadsGroup)
        {
            problems.Add($"--group {GroupColumn} keeps groups whole in a group or noisy/clean split, and this run's split is {split}: add --split group, or leave --group out.");
        }
        if (TimeColumn is not null && !ReadsTime) problems.Add($"--time {TimeColumn} orders a time split, and this run's split is {split}: add --split time, or leave --time out.");
        if (Stratify is not null && !ReadsStratify)
        {
            problems.Add($"--stratify {Stratify} keeps class shares in an exact random or group split, and this run's is {(Assignment == Assignment.Stable ? "--assignment stable" : $"--split {split}")}, which does not read it: leave --stratify out.");
        }
        if (Images.Rotations.Count > 0 && !IsImageFormat) problems.Add($"--augment rotates images, and --format {Format} writes none: leave --augment out.");
        if (Gap is { } gap && gap < TimeSpan.Zero) problems.Add($"--gap {gap} is negative; expected a duration such as 7d or 12h.");
        for (int i = 1; i < Cutoffs.Count; i++)
        {
            if (Cutoffs[i] <= Cutoffs[i - 1]) problems.Add($"--cutoffs must ascend, but {Cutoffs[i]:O} does not come after {Cutoffs[i - 1]:O}.");
        }
        if (more is not null) problems.AddRange(more);
        if (problems.Count > 0) throw new PipelineValidationException(problems);
    }
}
