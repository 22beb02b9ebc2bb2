using System.Text;
using DataPrep.RecordIO.Protobuf;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace DataPrep.RecordIO;

/// <summary>The names of the tensor types of RecordIO-protobuf, as <see cref="DecodedTensor.DType"/> reports them.</summary>
public static class TensorDTypes
{
    /// <summary>Float32Tensor.</summary>
    public const string Float32 = "float32";
    /// <summary>Float64Tensor.</summary>
    public const string Float64 = "float64";
    /// <summary>Int32Tensor.</summary>
    public const string Int32 = "int32";
    /// <summary>Bytes.</summary>
    public const string Bytes = "bytes";
    /// <summary>A Value with no tensor set.</summary>
    public const string None = "none";
}

/// <summary>One tensor of a decoded record, in a plain model independent of the generated protobuf classes.</summary>
public sealed record DecodedTensor
{
    /// <summary>The tensor type: float32, float64, int32, bytes (see <see cref="TensorDTypes"/>), or none.</summary>
    public required string DType { get; init; }

    /// <summary>Dense values, or the stored (non-zero) values of a sparse tensor. Float32 and int32 values convert exactly.</summary>
    public double[] Values { get; init; } = [];

    /// <summary>The 0-based column of each value of a sparse tensor; <see langword="null"/> for dense tensors.</summary>
    public ulong[]? Keys { get; init; }

    /// <summary>The shape as written (<c>[n_columns]</c> for SageMaker's sparse rows); empty when absent.</summary>
    public ulong[] Shape { get; init; } = [];

    /// <summary>The byte strings of a Bytes value.</summary>
    public byte[][]? Bytes { get; init; }

    /// <summary>The content type of a Bytes value, when written.</summary>
    public string? ContentType { get; init; }

    /// <summary>Whether the tensor is sparse (keys, or a shape with no values).</summary>
    public bool IsSparse => Keys is not null;

    /// <summary>
    /// The number of columns: the product of the shape of a sparse tensor (or the largest key + 1 without a
    /// shape), the number of values of a dense one.
    /// </summary>
    public ulong Width
    {
        get
        {
            if (!IsSparse) return (ulong)Values.Length;
            if (Shape.Length > 0) return ShapeProduct(Shape);
            return Keys!.Length == 0 ? 0 : Keys.Max() + 1;
        }
    }

    internal static ulong ShapeProduct(ulong[] shape)
    {
        UInt128 product = 1;
        foreach (var d in shape)
        {
            product *= d;
            if (product > ulong.MaxValue) return ulong.MaxValue;
        }
        return (ulong)product;
    }
}

/// <summary>A decoded <c>aialgs.data.Record</c>.</summary>
public sealed record DecodedRecord
{
    /// <summary>The 0-based index of the record in its file.</summary>
    public long Index { get; init; }

    /// <summary>The byte offset of the record in its file.</summary>
    public long Offset { get; init; }

    /// <summary><c>features["values"]</c>, or <see langword="null"/> when the record has no such entry.</summary>
    public DecodedTensor? Features => FeatureMap.GetValueOrDefault("values");

    /// <summary><c>label["values"]</c>, or <see langword="null"/> when the record has no label.</summary>
    public DecodedTensor? Label => LabelMap.GetValueOrDefault("values");

    /// <summary>Every entry of the <c>features</c> map (SageMaker writers use only "values").</summary>
    public IReadOnlyDictionary<string, DecodedTensor> FeatureMap { get; init; } = new Dictionary<string, DecodedTensor>();

    /// <summary>Every entry of the <c>label</c> map.</summary>
    public IReadOnlyDictionary<string, DecodedTensor> LabelMap { get; init; } = new Dictionary<string, DecodedTensor>();

    /// <summary>The <c>uid</c> field, when present.</summary>
    public string? Uid { get; init; }

    /// <summary>The <c>metadata</c> field, when present.</summary>
    public string? Metadata { get; init; }

    /// <summary>The <c>configuration</c> field, when present.</summary>
    public string? Configuration { get; init; }
}

/// <summary>Decodes RecordIO-protobuf payloads into <see cref="DecodedRecord"/>s.</summary>
public static class RecordDecoder
{
    /// <summary>Decodes the payload of a record read by <see cref="RecordIOReader"/>.</summary>
    /// <exception cref="DataFormatException">The payload is not a valid <c>aialgs.data.Record</c>.</exception>
    public static DecodedRecord Decode(RecordIORecord record, string? file = null) => Decode(record.Payload, record.Index, record.Offset, file);

    /// <summary>Decodes one payload.</summary>
    /// <param name="payload">The protobuf bytes.</param>
    /// <param name="index">The 0-based record index, for messages.</param>
    /// <param name="offset">The byte offset of the record, for messages.</param>
    /// <param name="file">The file, for messages.</param>
    /// <exception cref="DataFormatException">The payload is not a valid <c>aialgs.data.Record</c>, or a sparse tensor is inconsistent.</exception>
    public static DecodedRecord Decode(ReadOnlySpan<byte> payload, long index, long offset, string? file = null)
    {
        Record message;
        try
        {
            message = Record.Parser.ParseFrom(payload);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or DecoderFallbackException)
        {
            string why = e is DecoderFallbackException ? "a string field is not valid UTF-8" : e.Message.TrimEnd('.');
            throw Throw.Format($"record {index} at byte offset {offset} is not a valid aialgs.data.Record protobuf ({why}); expected a RecordIO-protobuf record as SageMaker writes it", file, inner: e);
        }
        return new DecodedRecord
        {
            Index = index,
            Offset = offset,
            FeatureMap = Map(message.Features, "features", index, offset, file),
            LabelMap = Map(message.Label, "label", index, offset, file),
            Uid = message.HasUid ? message.Uid : null,
            Metadata = message.HasMetadata ? message.Metadata : null,
            Configuration = message.HasConfiguration ? message.Configuration : null,
        };
    }

    private static Dictionary<string, DecodedTensor> Map(MapField<string, Value> map, string field, long index, long offset, string? file)
    {
        var result = new Dictionary<string, DecodedTensor>(map.Count, StringComparer.Ordinal);
        foreach (var (key, value) in map) result[key] = Tensor(value, $"{field}[\"{key}\"]", index, offset, file);
        return result;
    }

    private static DecodedTensor Tensor(Value? value, string where, long index, long offset, string? file)
    {
        switch (value?.ValueCase ?? Value.ValueOneofCase.None)
        {
            case Value.ValueOneofCase.Float32Tensor:
            {
                var t = value!.Float32Tensor;
                var values = new double[t.Values.Count];
                for (int i = 0; i < values.Length; i++) values[i] = t.Values[i];
                return Numeric(TensorDTypes.Float32, values, t.Keys, t.Shape, where, index, offset, file);
            }
            case Value.ValueOneofCase.Float64Tensor:
            {
                var t = value!.Float64Tensor;
                return Numeric(TensorDTypes.Float64, t.Values.ToArray(), t.Keys, t.Shape, where, index, offset, file);
            }
            case Value.ValueOneofCase.Int32Tensor:
            {
                var t = value!.Int32Tensor;
                var values = new double[t.Values.Count];
                for (int i = 0; i < values.Length; i++) values[i] = t.Values[i];
                return Numeric(TensorDTypes.Int32, values, t.Keys, t.Shape, where, index, offset, file);
            }
            case Value.ValueOneofCase.Bytes:
            {
                var b = value!.Bytes;
                return new DecodedTensor
                {
                    DType = TensorDTypes.Bytes,
                    Bytes = b.Value.Select(v => v.ToByteArray()).ToArray(),
                    ContentType = b.HasContentType ? b.ContentType : null,
                };
            }
            default:
                return new DecodedTensor { DType = TensorDTypes.None };
        }
    }

    private static DecodedTensor Numeric(string dtype, double[] values, RepeatedField<ulong> keys, RepeatedField<ulong> shape, string where, long index, long offset, string? file)
    {
        // SageMaker's sparse rows always carry keys, or at least a shape when the row has no non-zero.
        bool sparse = keys.Count > 0 || (shape.Count > 0 && values.Length == 0);
        if (!sparse)
        {
            return new DecodedTensor { DType = dtype, Values = values, Shape = shape.ToArray() };
        }
        if (keys.Count != values.Length)
        {
            throw Throw.Format($"record {index} at byte offset {offset}: {where} holds {values.Length} values but {keys.Count} keys; expected one key per value in a sparse {dtype} tensor", file);
        }
        var keyArray = keys.ToArray();
        var shapeArray = shape.ToArray();
        if (shapeArray.Length > 0)
        {
            ulong width = DecodedTensor.ShapeProduct(shapeArray);
            for (int i = 0; i < keyArray.Length; i++)
            {
                if (keyArray[i] >= width)
                {
                    string expected = width == 0 ? "no keys in a tensor of no columns" : $"keys from 0 to {width - 1}";
                    throw Throw.Format($"record {index} at byte offset {offset}: {where} has key {keyArray[i]} but shape [{string.Join(", ", shapeArray)}]; expected {expected}", file);
                }
            }
        }
        return new DecodedTensor { DType = dtype, Values = values, Keys = keyArray, Shape = shapeArray };
    }
}
