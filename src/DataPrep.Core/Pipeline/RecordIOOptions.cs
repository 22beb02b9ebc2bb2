namespace DataPrep.Pipeline;

/// <summary>The tensor type of features or labels in RecordIO-protobuf.</summary>
public enum TensorType
{
    /// <summary>Float32Tensor (the default, as the SageMaker SDK writes).</summary>
    Float32,
    /// <summary>Float64Tensor.</summary>
    Float64,
    /// <summary>Int32Tensor: integral values in int32 range only.</summary>
    Int32,
}

/// <summary>Options of the RecordIO-protobuf encoder.</summary>
/// <param name="Features">Feature tensor type.</param>
/// <param name="Label">Label tensor type.</param>
/// <param name="Sparse">Write every row sparse (keys + shape), dropping zeros; rows with one-hot or other sparse columns are always sparse.</param>
/// <param name="Uid">Write the stable row id into <c>uid</c>.</param>
/// <param name="Metadata">Write lineage JSON (row id, source, source row) into <c>metadata</c>.</param>
/// <param name="Escape">Split payloads holding the magic word into cflag 1/2/3 parts (MXNet style); off: cflag 0 only, like the SageMaker SDK.</param>
public sealed record RecordIOOptions(
    TensorType Features = TensorType.Float32,
    TensorType Label = TensorType.Float32,
    bool Sparse = false,
    bool Uid = false,
    bool Metadata = false,
    bool Escape = false);
