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

    /// <inheritdoc />
    /// <remarks>The encode step's tasks decode, rotate, resize and encode the images; the commit writes them with <see cref="ImageSink"/>.</remarks>
    public override bool RunsAsWorkers => true;

    /// <inheritdoc />
    public override bool WritesAtCommit => true;
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

    /// <inheritdoc />
    /// <remarks>The lineage hashes an image's bytes, so the audit hashes each record's payload after the im2rec header and labels.</remarks>
    public override IRecordHasher RecordHasher => ImageRecordHasher.Instance;
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

/// <summary>
/// The records of an image RecordIO file as the lineage hashes them: XxHash3-64 of the image bytes, i.e. each payload after
/// its 24-byte im2rec header (<c>u32 flag, f32 label, u64 id, u64 id2</c>) and, for multi-label records, the flag's
/// float32 labels.
/// </summary>
internal sealed class ImageRecordHasher : IRecordHasher
{
    public static ImageRecordHasher Instance { get; } = new();

    private ImageRecordHasher()
    {
    }

    public ValueTask HashAsync(Stream content, string path, Action<ulong> onRecord, CancellationToken cancellationToken)
    {
        using var reader = new RecordIO.RecordIOReader(content, path, leaveOpen: true);
        while (reader.TryRead(out var r))
        {
            var payload = r.Payload.AsSpan();
            if (payload.Length < 24) throw new DataFormatException($"has a record of {payload.Length} bytes at offset {r.Offset}; expected at least the 24-byte im2rec header", path);
            long skip = 24 + 4L * System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(payload);
            onRecord(System.IO.Hashing.XxHash3.HashToUInt64(skip <= payload.Length ? payload[(int)skip..] : []));
            cancellationToken.ThrowIfCancellationRequested();
        }
        return ValueTask.CompletedTask;
    }
}
