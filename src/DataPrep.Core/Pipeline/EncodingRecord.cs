using DataPrep.Data;

namespace DataPrep.Pipeline;

/// <summary>
/// Everything learned from the train split and the column layout of the output: enough for
/// <c>dataprep apply</c> to encode new data exactly the same way. Saved in run.json.
/// </summary>
public sealed class EncodingRecord
{
    /// <summary>The label, or null for unsupervised output.</summary>
    public LabelRecord? Label { get; set; }

    /// <summary>The features in output order.</summary>
    public List<FeatureRecord> Features { get; set; } = [];

    /// <summary>Output columns after the label (one-hot columns counted individually).</summary>
    public int FeatureWidth { get; set; }

    /// <summary>The missing-value policy in force ("error", "drop", "fill").</summary>
    public string Missing { get; set; } = "error";
}

/// <summary>The label column and, for text labels, its classes.</summary>
public sealed class LabelRecord
{
    /// <summary>The input column name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The input column kind.</summary>
    public ColumnKind Kind { get; set; }

    /// <summary>Text labels: class names in id order (sorted, from train); class id = index. Unseen classes get id = Count.</summary>
    public List<string>? Classes { get; set; }
}

/// <summary>One feature: where it comes from, how it is encoded, what was learned.</summary>
public sealed class FeatureRecord
{
    /// <summary>The input column name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The input column kind.</summary>
    public ColumnKind Kind { get; set; }

    /// <summary>The encoding.</summary>
    public string Encoding { get; set; } = "none";

    /// <summary>Categories in code order (sorted, from train) for ordinal / one-hot; code = index, unseen = Count.</summary>
    public List<string>? Vocabulary { get; set; }

    /// <summary>The value that fills missing entries (text for categories), when filling.</summary>
    public string? Fill { get; set; }

    /// <summary>The first output column of this feature, 0-based after the label.</summary>
    public int Offset { get; set; }

    /// <summary>How many output columns this feature takes.</summary>
    public int Width { get; set; } = 1;
}
