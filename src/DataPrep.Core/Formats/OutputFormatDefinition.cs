using DataPrep.Output;
using DataPrep.Pipeline;

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

    /// <summary>How SageMaker should read the format's channels (distribution, input mode, S3 data type).</summary>
    public virtual ChannelHints Channel(ConvertOptions options) => new();

    /// <summary>Adds the format's own option problems (e.g. DeepAR needs a time split) to <paramref name="problems"/>.</summary>
    public virtual void Validate(ConvertOptions options, List<string> problems)
    {
    }

    /// <summary>The options as the run uses them (e.g. DeepAR leaves its series and time columns out of the features).</summary>
    public virtual ConvertOptions Prepare(ConvertOptions options) => options;

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

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>What a format asks of the pipeline; the defaults suit label-first numeric formats.</summary>
public sealed record FormatTraits
{
    /// <summary>Label-first, encoded rows; gzip allowed.</summary>
    public static FormatTraits Default { get; } = new();

    /// <summary>Every column as it is: no label, no encoding, no missing-value policy (list formats).</summary>
    public bool KeepsColumns { get; init; }

    /// <summary>Text sources keep each row's text, so rows whose numbers are already written as the format writes them are copied.</summary>
    public bool CopiesCsvText { get; init; }

    /// <summary>The input is an image folder or list (DataPrep.Images).</summary>
    public bool ReadsImages { get; init; }

    /// <summary>Whether <c>--compress gzip</c> applies.</summary>
    public bool AllowsGzip { get; init; } = true;

    /// <summary>
    /// Rows carry a series key (the group key slot) and their timestamps into the sink, and need both present
    /// (DeepAR); a planned time split then does not stream.
    /// </summary>
    public bool NeedsSeries { get; init; }
}

/// <summary>What a format's writer gets for one run.</summary>
/// <param name="Options">The run's options.</param>
/// <param name="Store">Where files go (staged until the commit).</param>
/// <param name="HasLabel">Whether column 0 of the batches is the label.</param>
/// <param name="Layout">Paths and the commit step shared by every format.</param>
public sealed record FormatSinkContext(ConvertOptions Options, IOutputStore Store, bool HasLabel, RunLayout Layout);

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
}
