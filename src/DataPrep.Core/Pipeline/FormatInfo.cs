namespace DataPrep.Pipeline;

/// <summary>The facts about a split's files that the run record keeps.</summary>
/// <param name="ContentType">The SageMaker content type.</param>
/// <param name="FeatureWidth">Feature columns per row (one-hot columns counted individually).</param>
/// <param name="Sparse">Whether rows are written sparse.</param>
/// <param name="Dtype">The feature tensor type (binary formats), e.g. "float32".</param>
/// <param name="LabelDtype">The label tensor type (binary formats).</param>
public sealed record FormatInfo(string ContentType, int FeatureWidth, bool Sparse, string? Dtype, string? LabelDtype);
