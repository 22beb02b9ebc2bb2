using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Conversion;

namespace DataPrep.Images;

/// <summary>
/// The image output formats (the core does not reference ImageSharp). They read image folders (one subfolder per
/// class) and input lists through <see cref="ImageSource"/>, and run the ordinary pipeline with their own stages:
/// <see cref="ImageClassStage"/> (class ids over all inputs) → the run's split stage (any method, k-fold, stable,
/// noisy/clean) → <see cref="ImageAugmentStage"/> (rotated copies of the chosen splits) → <see cref="ImageTransformStage"/>
/// (decode, orient, rotate, resize, encode on all cores) → <see cref="ImageSink"/>. Images need no missing-value
/// policy and no encoders: their label is a class id and their features are pixels.
/// </summary>
public abstract class ImageFormatDefinition : OutputFormatDefinition
{
    /// <inheritdoc />
    public override FormatTraits Traits { get; } = new() { ReadsImages = true, AllowsGzip = false };

    /// <summary>Which of the three image outputs the sink writes.</summary>
    public abstract ImageOutputKind Kind { get; }

    /// <inheritdoc />
    /// <remarks>
    /// Inputs are read as images (<see cref="SourceOptions.Format"/> <c>images</c>, with the list columns of the
    /// options), and an image is identified by its path: stable assignment keys on it, so adding images to a folder
    /// never moves the ones already there.
    /// </remarks>
    public override ConvertOptions Prepare(ConvertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            KeyColumn = options.KeyColumn ?? ImageColumns.Path,
            Source = options.Source with { Format = ImageSourceSettings.Format, FormatSettings = ImageSourceSettings.Of(options) },
        };
    }

    /// <inheritdoc />
    public override IReadOnlyList<IPipelineStage> CreateStages(FormatStageContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var sources = context.Sources.Select(s => s as ImageSource
            ?? throw new PipelineValidationException($"--format {Name} reads image folders and input lists; {s.Description} was opened as another kind of input.")).ToList();
        var classes = ImageClasses.Create(sources.Select(s => s.Images).ToList(), options.Label ?? options.Images.LabelColumn, context.Earlier?.Label);
        return [new ImageClassStage(classes), context.Split, new ImageAugmentStage(options.Images, options.Seed), new ImageTransformStage(options, sources)];
    }

    /// <inheritdoc />
    public override IRecordSink CreateSink(FormatSinkContext context) => new ImageSink(Kind, context);
}

/// <summary>Image files per split plus im2rec <c>.lst</c> files: SageMaker Image Classification's image format.</summary>
public sealed class ImageFilesFormatDefinition : ImageFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "images";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "image files + .lst";

    /// <inheritdoc />
    public override IReadOnlyList<string> Aliases => ["image"];

    /// <inheritdoc />
    public override string Summary => "image files per split plus im2rec .lst lists (application/x-image)";

    /// <inheritdoc />
    public override string Extension => "lst";

    /// <inheritdoc />
    public override ImageOutputKind Kind => ImageOutputKind.Files;

    /// <inheritdoc />
    public override IReadOnlyList<string> ContentTypes => ["application/x-image"];

    /// <inheritdoc />
    public override ChannelHints Channel(ConvertOptions options) => new() { Distribution = "FullyReplicated", InputMode = "File", ManifestRelativeToSplit = true };
}

/// <summary>MXNet image RecordIO: one <c>.rec</c> per split plus <c>.idx</c>.</summary>
public sealed class RecordIOImageFormatDefinition : ImageFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "recordio-image";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "image RecordIO";

    /// <inheritdoc />
    public override IReadOnlyList<string> Aliases => ["rec", "im2rec"];

    /// <inheritdoc />
    public override string Summary => "MXNet image RecordIO, one .rec per split plus .idx (application/x-recordio)";

    /// <inheritdoc />
    public override string Extension => "rec";

    /// <inheritdoc />
    public override ImageOutputKind Kind => ImageOutputKind.RecordIO;

    /// <inheritdoc />
    public override IReadOnlyList<string> ContentTypes => ["application/x-recordio"];

    /// <inheritdoc />
    public override ChannelHints Channel(ConvertOptions options) => new() { Distribution = "FullyReplicated" };
}

/// <summary>Images plus a JSON Lines augmented manifest (<c>source-ref</c> + label) per split.</summary>
public sealed class AugmentedManifestFormatDefinition : ImageFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "augmented-manifest";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "augmented manifest";

    /// <inheritdoc />
    public override string Summary => "images plus a JSON Lines augmented manifest per split (source-ref + label; Pipe mode)";

    /// <inheritdoc />
    public override string Extension => "jsonl";

    /// <inheritdoc />
    public override ImageOutputKind Kind => ImageOutputKind.AugmentedManifest;

    /// <inheritdoc />
    public override IReadOnlyList<string> ContentTypes => ["application/x-recordio", "application/x-recordio; label-format=class-id"];

    /// <inheritdoc />
    public override ChannelHints Channel(ConvertOptions options) => new()
    {
        // Image Classification reads augmented manifests fully replicated, in Pipe mode, RecordIO-wrapped.
        Distribution = "FullyReplicated",
        RecordWrapperType = "RecordIO",
        InputMode = "Pipe",
        AttributeNames = ["source-ref", options.Images.LabelAttribute],
        S3DataType = "AugmentedManifestFile",
    };
}

/// <summary>Registers the image source and formats.</summary>
public static class ImageSupport
{
    /// <summary>Adds the input format <c>images</c> (class folders and input lists) and the outputs <c>images</c>, <c>recordio-image</c> and <c>augmented-manifest</c>.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public static DataPrepRegistry AddImages(this DataPrepRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Sources.Register(new ImageSourceFactory());
        registry.Formats.Add(new ImageFilesFormatDefinition()).Add(new RecordIOImageFormatDefinition()).Add(new AugmentedManifestFormatDefinition());
        return registry;
    }
}
