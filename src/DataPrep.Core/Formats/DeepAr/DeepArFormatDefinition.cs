using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// SageMaker DeepAR's JSON Lines (<c>application/jsonlines</c>): one record per series; needs a time split and a
/// series column. See <see cref="DeepArSink"/>.
/// </summary>
public sealed class DeepArFormatDefinition : OutputFormatDefinition
{
    /// <summary>The data files' extension.</summary>
    public const string FileExtension = "json";

    /// <summary>The format's name.</summary>
    public const string FormatName = "deepar";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "DeepAR JSON Lines";

    /// <inheritdoc />
    public override string Summary => "DeepAR JSON Lines, one record per series (needs --split time and --series)";

    /// <inheritdoc />
    public override string Extension => FileExtension;

    /// <inheritdoc />
    public override IReadOnlyList<string> ContentTypes => [DeepArSink.ContentType];

    /// <inheritdoc />
    public override FormatTraits Traits { get; } = new() { NeedsSeries = true, AllowsGzip = false };

    /// <inheritdoc />
    public override void Validate(ConvertOptions options, List<string> problems)
    {
        if (options.SplitBy != SplitMethod.Time) problems.Add("--format deepar needs a time split: --split time --time COLUMN (the training channel is each series cut before the test window).");
        if (string.IsNullOrEmpty(options.SeriesColumn)) problems.Add("--format deepar needs the series column: --series COLUMN (e.g. product).");
        if (options.NoLabel) problems.Add("--format deepar needs the target as --label.");
        if (options.Folds > 0) problems.Add("--format deepar does not combine with --folds.");
    }

    /// <inheritdoc />
    /// <remarks>The series and time columns identify each point; they are not features of it.</remarks>
    public override ConvertOptions Prepare(ConvertOptions options)
        => options.Features.Count == 0
            ? options with { Drop = [.. options.Drop, .. new[] { options.SeriesColumn!, options.TimeColumn! }.Except(options.Drop)] }
            : options;

    /// <inheritdoc />
    /// <remarks>
    /// Rows are bucketed by series, each encode task writes its series' records in key order, and the commit merges them
    /// by key (docs/decisions.md, "DeepAR as workers"); no <see cref="OutputFormatDefinition.CreateWorkerFormat"/>.
    /// </remarks>
    public override bool RunsAsWorkers => true;

    /// <inheritdoc />
    public override IRecordSink CreateSink(FormatSinkContext context) => new DeepArSink(context.Layout, context.Options.DeepArCat, context.Options.Shards.Multiple);
}

/// <summary>Registers DeepAR output.</summary>
public static class DeepArFormatRegistration
{
    /// <summary>Adds <c>--format deepar</c>.</summary>
    public static FormatRegistry AddDeepAr(this FormatRegistry registry) => registry.Add(new DeepArFormatDefinition());
}
