using DataPrep.RecordIO;

namespace DataPrep.Inspect;

/// <summary>The format of a shard, as <see cref="ShardInspector.DetectFormat(string, Pipeline.InputFiles)"/> finds it from the content.</summary>
public enum ShardFormat
{
    /// <summary>An empty file (no records of any format).</summary>
    Empty,
    /// <summary>RecordIO framing with <c>aialgs.data.Record</c> payloads (<c>application/x-recordio-protobuf</c>).</summary>
    RecordIOProtobuf,
    /// <summary>LibSVM / SVMlight text (<c>label index:value …</c>).</summary>
    LibSvm,
    /// <summary>Label-first headerless CSV (<c>text/csv</c>), or features only with <see cref="InspectOptions.NoLabel"/>.</summary>
    Csv,
    /// <summary>Parquet (<c>application/x-parquet</c>), label first; read by the reader of the Parquet output format (DataPrep.Parquet).</summary>
    Parquet,
}

/// <summary>Names of <see cref="ShardFormat"/> for output and options.</summary>
public static class ShardFormats
{
    /// <summary>The name printed for a format: recordio-protobuf, libsvm, csv, parquet or empty (the output format's name).</summary>
    public static string Name(this ShardFormat format) => format switch
    {
        ShardFormat.RecordIOProtobuf => "recordio-protobuf",
        ShardFormat.LibSvm => "libsvm",
        ShardFormat.Csv => "csv",
        ShardFormat.Parquet => "parquet",
        _ => "empty",
    };

    /// <summary>Parses a format name (recordio, recordio-protobuf, protobuf, libsvm, svmlight, csv, parquet); null when unknown.</summary>
    public static ShardFormat? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "recordio" or "recordio-protobuf" or "protobuf" or "rec" => ShardFormat.RecordIOProtobuf,
        "libsvm" or "svmlight" or "svm" => ShardFormat.LibSvm,
        "csv" => ShardFormat.Csv,
        "parquet" or "parq" => ShardFormat.Parquet,
        _ => null,
    };
}

/// <summary>How <see cref="ShardInspector"/> reads shards.</summary>
public sealed record InspectOptions
{
    /// <summary>The format, overriding detection by content; null detects it.</summary>
    public ShardFormat? Format { get; init; }

    /// <summary>CSV shards hold features only (<c>text/csv;label_size=0</c>): no label column.</summary>
    public bool NoLabel { get; init; }

    /// <summary>LibSVM feature indexes start at 0 (default: at 1, as in LibSVM).</summary>
    public bool ZeroBased { get; init; }

    /// <summary>How shards are opened: local paths, and URIs through a registry's remote file systems.</summary>
    public Pipeline.InputFiles Files { get; init; } = Pipeline.InputFiles.Local;
}

/// <summary>
/// One record of a shard in a shape common to every format: the label, dense or sparse features (keys are 0-based
/// column indexes in every format, LibSVM included), and uid / metadata when the format carries them.
/// </summary>
public sealed record ShardRecord
{
    /// <summary>The dtype reported for text formats, whose numbers are decimal text.</summary>
    public const string TextDType = "text";

    /// <summary>The dtype reported for Parquet features whose columns are INT64 and DOUBLE both (each value is read exactly as a double when it fits 53 bits).</summary>
    public const string MixedDType = "int64+float64";

    /// <summary>The 0-based index of the record in its file.</summary>
    public long Index { get; init; }

    /// <summary>The byte offset of a RecordIO record; null for text formats.</summary>
    public long? ByteOffset { get; init; }

    /// <summary>The 1-based line of a CSV record; null otherwise.</summary>
    public long? Line { get; init; }

    /// <summary>The label value(s) (one for SageMaker's formats); null when the record has no label.</summary>
    public double[]? Label { get; init; }

    /// <summary>The label dtype: float32, float64, int32 for RecordIO-protobuf, <see cref="TextDType"/> for text, int64 or float64 for Parquet; null without a label.</summary>
    public string? LabelDType { get; init; }

    /// <summary>
    /// The feature dtype: float32, float64, int32, bytes for RecordIO-protobuf, <see cref="TextDType"/> for text; for
    /// Parquet the column type, int64 or float64, or <see cref="MixedDType"/> when the columns have both.
    /// </summary>
    public required string DType { get; init; }

    /// <summary>Dense feature values, or the stored values of sparse features.</summary>
    public double[] Values { get; init; } = [];

    /// <summary>The 0-based columns of sparse values; null for dense features.</summary>
    public ulong[]? Keys { get; init; }

    /// <summary>The shape of sparse features (<c>[n_columns]</c>); empty for dense features.</summary>
    public ulong[] Shape { get; init; } = [];

    /// <summary>The RecordIO-protobuf <c>uid</c>, when present.</summary>
    public string? Uid { get; init; }

    /// <summary>The RecordIO-protobuf <c>metadata</c>, when present.</summary>
    public string? Metadata { get; init; }

    /// <summary>Whether the features are sparse.</summary>
    public bool IsSparse => Keys is not null;

    /// <summary>The number of feature columns: the shape of sparse features (largest key + 1 without one), the count of dense values.</summary>
    public ulong Width
    {
        get
        {
            if (!IsSparse) return (ulong)Values.Length;
            if (Shape.Length > 0) return DecodedTensor.ShapeProduct(Shape);
            return Keys!.Length == 0 ? 0 : Keys.Max() + 1;
        }
    }
}
