using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>
/// The image output formats (the core does not reference ImageSharp). Each reads an image folder (one subfolder per
/// class) or an input list, and for now runs its whole conversion through <see cref="ImageConvertRunner"/>.
/// </summary>
public abstract class ImageFormatDefinition : OutputFormatDefinition, IConvertsWholeRun
{
    /// <inheritdoc />
    public override FormatTraits Traits { get; } = new() { ReadsImages = true, AllowsGzip = false };

    /// <inheritdoc />
    public override IRecordSink CreateSink(FormatSinkContext context)
        => throw new NotSupportedException($"--format {Name} runs its whole conversion (IConvertsWholeRun); it has no batch sink.");

    /// <inheritdoc />
    public Task<RunReport> RunAsync(ConvertOptions options, DataPrepRegistry registry, IProgress<RunProgress>? progress, CancellationToken cancellationToken)
        => ImageConvertRunner.RunAsync(options, registry, progress, cancellationToken);
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

/// <summary>Registers the image formats.</summary>
public static class ImageSupport
{
    /// <summary>Adds <c>images</c>, <c>recordio-image</c> and <c>augmented-manifest</c>.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public static DataPrepRegistry AddImages(this DataPrepRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Formats.Add(new ImageFilesFormatDefinition()).Add(new RecordIOImageFormatDefinition()).Add(new AugmentedManifestFormatDefinition());
        return registry;
    }
}
