using DataPrep.Pipeline;

namespace DataPrep.Fluent;

/// <summary>Label, features and their encodings.</summary>
public static class ColumnExtensions
{
    /// <summary>The label column: a name, a 0-based index, "first" or "last". Text labels become class ids fitted on train.</summary>
    public static DataPrepBuilder Label(this DataPrepBuilder b, string column)
        => b.With(o => o with { Label = column, NoLabel = false }, $"label '{column}'");

    /// <summary>Unsupervised output: features only (text/csv;label_size=0).</summary>
    public static DataPrepBuilder NoLabel(this DataPrepBuilder b) => b.With(o => o with { Label = null, NoLabel = true }, "no label");

    /// <summary>The features in output order.</summary>
    public static DataPrepBuilder Features(this DataPrepBuilder b, params string[] columns)
        => b.With(o => o with { Features = columns }, $"features {string.Join(", ", columns)}");

    /// <summary>Columns to leave out.</summary>
    public static DataPrepBuilder Drop(this DataPrepBuilder b, params string[] columns)
        => b.With(o => o with { Drop = [.. o.Drop, .. columns] }, $"drop {string.Join(", ", columns)}");

    /// <summary>Encodes a text or timestamp feature (fitted on train; unseen values get the reserved code).</summary>
    public static DataPrepBuilder Encode(this DataPrepBuilder b, string column, FeatureEncoding encoding)
        => b.With(o => o with { Encodings = new Dictionary<string, FeatureEncoding>(o.Encodings) { [column] = encoding } }, $"encode {column} {encoding.ToString().ToLowerInvariant()}");

    /// <summary>Encodes every text feature without its own encoding.</summary>
    public static DataPrepBuilder EncodeText(this DataPrepBuilder b, FeatureEncoding encoding)
        => b.With(o => o with { CategoricalEncoding = encoding }, $"encode text columns {encoding.ToString().ToLowerInvariant()}");

    /// <summary>Encodes every timestamp feature as seconds since 1970 (UTC).</summary>
    public static DataPrepBuilder EncodeTimestampsAsEpoch(this DataPrepBuilder b)
        => b.With(o => o with { TimestampEncoding = FeatureEncoding.Epoch }, "encode timestamps epoch");

    /// <summary>Drops rows with a missing value in a used column (before splitting; counted).</summary>
    public static DataPrepBuilder DropMissing(this DataPrepBuilder b) => b.With(o => o with { Missing = MissingPolicy.Drop, FillValue = null });

    /// <summary>Fills missing values with a number, a category, or "mean" (the train mean).</summary>
    public static DataPrepBuilder FillMissing(this DataPrepBuilder b, string fill) => b.With(o => o with { Missing = MissingPolicy.Fill, FillValue = fill });
}
