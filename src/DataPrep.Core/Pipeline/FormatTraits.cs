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

    /// <summary>
    /// Text sources keep each row's text (as for <see cref="CopiesCsvText"/>) and the format reads a row's numbers from it
    /// when it writes the row: one pass over the row's contiguous text instead of a parse of every field while reading
    /// and a gather of every column after the shuffle. Rows without kept text are read from the columns.
    /// </summary>
    public bool ReadsKeptText { get; init; }

    /// <summary>Whether text sources keep each row's text for this format.</summary>
    public bool KeepsRowText => CopiesCsvText || ReadsKeptText;

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
