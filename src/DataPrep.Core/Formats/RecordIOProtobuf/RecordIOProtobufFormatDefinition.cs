using DataPrep.RecordIO;
using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.Formats;

/// <summary>SageMaker RecordIO-protobuf (<c>application/x-recordio-protobuf</c>, <c>.pbr</c>), byte-identical to the SageMaker Python SDK's writer.</summary>
public sealed class RecordIOProtobufFormatDefinition : RecordFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "recordio-protobuf";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "RecordIO-protobuf";

    /// <inheritdoc />
    public override IReadOnlyList<string> Aliases => ["recordio", "protobuf", "pbr"];

    /// <inheritdoc />
    public override string Summary => "SageMaker's binary aialgs.data.Record in RecordIO framing (.pbr; --dtype, --sparse, --uid, --metadata)";

    /// <inheritdoc />
    public override string Extension => "pbr";

    /// <inheritdoc />
    /// <remarks>
    /// Float32/Float64 tensors hold NaN and ±infinity (NaN written canonically). A CSV source keeps each row's text and
    /// the encoder reads the row's numbers from it (<see cref="RecordIOProtobufFormat"/>).
    /// </remarks>
    public override Pipeline.FormatTraits Traits { get; } = new() { CarriesNonFinite = true, ReadsKeptText = true };

    /// <inheritdoc />
    /// <remarks>
    /// With float32 features and label (the default), a CSV source also keeps each kept row's values as float32 beside its
    /// text (<see cref="SourceOptions.KeepFloat32"/>): parsed once while reading, copied when encoding.
    /// </remarks>
    public override ConvertOptions Prepare(ConvertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool float32 = options.RecordIO.Features == TensorType.Float32 && (options.NoLabel || options.RecordIO.Label == TensorType.Float32);
        return float32 ? options with { Source = options.Source with { KeepFloat32 = true } } : options;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Dense float32 features: each is written as <see cref="Data.Float32Rule"/> says. Not with float64 or int32 features
    /// (the double itself, or a whole-number check), nor sparse rows (<c>--sparse</c> or a one-hot column), which leave out
    /// features whose double is 0 (1e-50 is not 0, its float32 is).
    /// </remarks>
    public override bool ReadsFeaturesOnlyAsFloat32(ConvertOptions options, Data.Schema output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        return options.RecordIO.Features == TensorType.Float32 && !options.RecordIO.Sparse && output.Fields.All(f => f.Kind != Data.ColumnKind.Sparse);
    }

    /// <inheritdoc />
    public override Inspect.IShardReader Reader { get; } = new Inspect.ShardFormatReader(Inspect.ShardFormat.RecordIOProtobuf);

    /// <inheritdoc />
    /// <remarks>A record's content hash is its payload's, as <see cref="RecordIOProtobufFormat"/> writes it.</remarks>
    public override IRecordHasher RecordHasher => RecordIOPayloadHasher.Instance;

    /// <inheritdoc />
    public override IRecordFormat CreateFormat(ConvertOptions options, bool hasLabel) => new RecordIOProtobufFormat(hasLabel, options.RecordIO);
}

/// <summary>Registers RecordIO-protobuf output.</summary>
public static class RecordIOProtobufFormatRegistration
{
    /// <summary>Adds <c>--format recordio-protobuf</c>.</summary>
    public static FormatRegistry AddRecordIOProtobuf(this FormatRegistry registry) => registry.Add(new RecordIOProtobufFormatDefinition());
}
