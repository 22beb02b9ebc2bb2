namespace DataPrep.Pipeline;

/// <summary>What a format asks of the pipeline; the defaults suit label-first numeric formats.</summary>
public sealed record FormatTraits
{
    /// <summary>Label-first, encoded rows; gzip allowed.</summary>
    public static FormatTraits Default { get; } = new();

    /// <summary>Every column as it is: no label, no encoding, no missing-value policy (list formats).</summary>
    public bool KeepsColumns { get; init; }

    /// <summary>Text sources keep each row's text, so rows whose numbers are already written as the format writes them are copied.</summary>
    public bool CopiesCsvText { get; init; }

    /// <summary>The input is an image folder or list (DataPrep.Images).</summary>
    public bool ReadsImages { get; init; }

    /// <summary>Whether the format stores IEEE floats, so NaN and ±infinity can be written as they are (<c>--non-finite keep</c>).</summary>
    public bool CarriesNonFinite { get; init; }

    /// <summary>Whether <c>--compress gzip</c> applies.</summary>
    public bool AllowsGzip { get; init; } = true;

    /// <summary>
    /// Rows carry a series key (the group key slot) and their timestamps into the sink, and need both present
    /// (DeepAR); a planned time split then does not stream.
    /// </summary>
    public bool NeedsSeries { get; init; }
}
