using DataPrep.Encoders;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Splits;

namespace DataPrep.Formats;

/// <summary>
/// Everything DataPrep knows about one output format, in one place: its names, file extension and content
/// types, the SageMaker channel layout it needs, what it asks of the pipeline (<see cref="FormatTraits"/>), its
/// own option checks, and the writer (an <see cref="IRecordSink"/> whose <see cref="IRecordSink.CommitAsync"/> is
/// the explicit finish step, so footer-based formats fit). Registered once on a <see cref="FormatRegistry"/>;
/// <c>--format</c>'s list and help, the fluent API, ManifestFiles and run.json all read it from there.
/// </summary>
/// <remarks>
/// Record formats whose rows are independent byte strings (CSV, LibSVM, RecordIO-protobuf) derive from
/// <see cref="RecordFormatDefinition"/> and get sharding, gzip, parallel formatting and lineage from the shared
/// <see cref="ShardedSink"/>; other formats (DeepAR's one record per series, Parquet's row groups and footer)
/// create their own sink and commit through <see cref="RunLayout"/>.
/// </remarks>
public abstract class OutputFormatDefinition
{
    /// <summary>The canonical name, as <c>--format</c> takes it and run.json records it (e.g. <c>recordio-protobuf</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Other names <c>--format</c> accepts (e.g. <c>pbr</c>); matched case-insensitively, '-' and '_' ignored.</summary>
    public virtual IReadOnlyList<string> Aliases => [];

    /// <summary>A short name for people, as the fluent API's <c>Describe()</c> shows it (e.g. "label-first CSV").</summary>
    public virtual string DisplayName => Name;

    /// <summary>One line for <c>--help</c>: what the format is and what it needs.</summary>
    public abstract string Summary { get; }

    /// <summary>The data files' extension without dot (e.g. <c>csv</c>, <c>pbr</c>).</summary>
    public abstract string Extension { get; }

    /// <summary>The content types the format's channels may carry (the first is the usual one).</summary>
    public abstract IReadOnlyList<string> ContentTypes { get; }

    /// <summary>What the format asks of the pipeline.</summary>
    public virtual FormatTraits Traits => FormatTraits.Default;

    /// <summary>
    /// Whether the writer reads every feature column of <paramref name="output"/> (the schema its stages hand it) only
    /// as float32, each value as <see cref="Data.Float32Rule"/> says, and no other way (not as double, not compared with
    /// zero); the label is not a feature. Then a split spill may keep such columns as float32 (<see cref="Conversion.SpillNarrowing"/>).
    /// False by default: CSV, LibSVM, JSON Lines, Parquet and the others read doubles.
    /// </summary>
    public virtual bool ReadsFeaturesOnlyAsFloat32(ConvertOptions options, Data.Schema output) => false;

    /// <summary>How SageMaker should read the format's channels (distribution, input mode, S3 data type).</summary>
    public virtual ChannelHints Channel(ConvertOptions options) => new();

    /// <summary>Adds the format's own option problems (e.g. DeepAR needs a time split) to <paramref name="problems"/>.</summary>
    public virtual void Validate(ConvertOptions options, List<string> problems)
    {
    }

    /// <summary>The options as the run uses them (e.g. DeepAR leaves its series and time columns out of the features).</summary>
    public virtual ConvertOptions Prepare(ConvertOptions options) => options;

    /// <summary>
    /// The stages between the sources and the sink, in order, given the run's split stage. By default: label-first
    /// formats drop or fill missing values, split, then fit and apply the encoders (on train only); formats that
    /// keep every column (<see cref="FormatTraits.KeepsColumns"/>) split and select columns. A format whose rows
    /// need other work (the image formats: class ids, augmentation, decoding) supplies its own stages here.
    /// </summary>
    public virtual IReadOnlyList<IPipelineStage> CreateStages(FormatStageContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        // List formats keep rows as they are: no missing-value policy, no encoding, only --drop/--features.
        return options.KeepsColumns
            ? [context.Split, new SelectColumnsStage(options)]
            : [new MissingValuesStage(options), context.Split, context.Earlier is null ? new EncodeStage(options) : new EncodeStage(options, context.Earlier)];
    }

    /// <summary>Creates the writer of one run.</summary>
    public abstract IRecordSink CreateSink(FormatSinkContext context);

    /// <summary>
    /// Reads the format's data files back as training records, for <c>dataprep inspect</c> and the format contract
    /// tests; null when the format has no such reader (the list formats are read back as inputs, by their sources).
    /// </summary>
    public virtual Inspect.IShardReader? Reader => null;

    /// <summary>
    /// How <c>dataprep audit</c> hashes the records of the format's data files, to compare each with its lineage
    /// <c>content_hash</c>: by default a record per line, hashed without its '\n' (<see cref="LineRecordHasher"/>).
    /// A format whose records are not lines (RecordIO framing, Parquet row groups) supplies its own.
    /// </summary>
    public virtual IRecordHasher RecordHasher => LineRecordHasher.Instance;

    /// <summary>Whether a run of this format can be scaled out (<c>--workers</c>): see <see cref="CreateWorkerFormat"/>.</summary>
    public virtual bool RunsAsWorkers => false;

    /// <summary>
    /// The format's part in a scaled-out run, whose shards must be byte for byte those of <see cref="CreateSink"/>;
    /// only called when <see cref="RunsAsWorkers"/>.
    /// </summary>
    /// <param name="options">The run's options.</param>
    /// <param name="hasLabel">Whether column 0 of the batches is the label.</param>
    /// <param name="encoding">What the run's encoders learned (one-hot vocabularies name Parquet's columns); null when none.</param>
    public virtual WorkerFormat CreateWorkerFormat(ConvertOptions options, bool hasLabel, EncodingRecord? encoding)
        => throw new NotSupportedException($"--format {Name} cannot run as workers.");

    /// <summary>
    /// Whether a scaled-out run of this format writes its files in the commit step, with the format's own sink
    /// (<see cref="CreateSink"/>) over the rows the encode step made (after every stage of the format), channel by channel
    /// in the order one process hands them over; its write step has nothing to do and <see cref="CreateWorkerFormat"/> is
    /// not called. For formats whose files are not independent records cut into shards (the image formats: one
    /// <c>.rec</c> per channel whose ids and <c>.idx</c> offsets count every image before, files named by their input
    /// path, fold lists), so their bytes are those of one process by construction; the work that scales (decoding,
    /// rotating, resizing, encoding images) is done by the encode step's N tasks. See docs/decisions.md, "Image formats
    /// as workers".
    /// </summary>
    public virtual bool WritesAtCommit => false;

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>What a format's writer gets for one run.</summary>
/// <param name="Options">The run's options.</param>
/// <param name="Store">Where files go (staged until the commit).</param>
/// <param name="HasLabel">Whether column 0 of the batches is the label.</param>
/// <param name="Layout">Paths and the commit step shared by every format.</param>
public sealed record FormatSinkContext(ConvertOptions Options, IOutputStore Store, bool HasLabel, RunLayout Layout)
{
    /// <summary>
    /// The stages that feed the sink (those of <see cref="OutputFormatDefinition.CreateStages"/>), so a sink can read
    /// what its format's stages decided for the whole run (the image sinks: the class map, quarantined images).
    /// </summary>
    public IReadOnlyList<IPipelineStage> Stages { get; init; } = [];
}

/// <summary>What a format's stages get for one run.</summary>
/// <param name="Options">The run's options.</param>
/// <param name="Split">The run's split stage (random, stratified, group, time, noisy/clean, stable or k-fold).</param>
/// <param name="Earlier">With <c>--like</c>: what the earlier run learned (label classes, vocabularies, fills), to reuse; else null.</param>
/// <param name="Sources">The opened sources in source-index order (a row's <see cref="Data.RowInfo.Sources"/> points here).</param>
public sealed record FormatStageContext(ConvertOptions Options, SplitStage Split, EncodingRecord? Earlier, IReadOnlyList<IRecordSource> Sources);

/// <summary>
/// A format whose rows are independent byte strings concatenated into shards (CSV, LibSVM, RecordIO-protobuf,
/// JSON Lines): it supplies an <see cref="IRecordFormat"/>, the shared <see cref="ShardedSink"/> does the rest.
/// </summary>
public abstract class RecordFormatDefinition : OutputFormatDefinition
{
    /// <summary>The row encoder of one run.</summary>
    public abstract IRecordFormat CreateFormat(ConvertOptions options, bool hasLabel);

    /// <inheritdoc />
    public override IReadOnlyList<string> ContentTypes => [CreateFormat(new ConvertOptions(), true).ContentType];

    /// <inheritdoc />
    public override IRecordSink CreateSink(FormatSinkContext context)
        => new ShardedSink(CreateFormat(context.Options, context.HasLabel), context.Store, context.Options, context.HasLabel, context.Layout);

    /// <inheritdoc />
    /// <remarks>Records are independent byte strings, so every record format can, except those that read images or write one record per series.</remarks>
    public override bool RunsAsWorkers => !Traits.ReadsImages && !Traits.NeedsSeries;

    /// <inheritdoc />
    public override WorkerFormat CreateWorkerFormat(ConvertOptions options, bool hasLabel, EncodingRecord? encoding) => new(CreateFormat(options, hasLabel));
}
