using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.Formats;

/// <summary>Every column as it is, CSV with a header: input lists (audio paths, speakers, transcripts) stay lists.</summary>
public sealed class HeaderCsvFormatDefinition : RecordFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "csv-header";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "CSV with header (columns as they are)";

    /// <inheritdoc />
    public override IReadOnlyList<string> Aliases => ["table", "csv-with-header"];

    /// <inheritdoc />
    public override string Summary => "every column kept as it is, CSV with a header (input lists stay lists)";

    /// <inheritdoc />
    public override string Extension => "csv";

    /// <inheritdoc />
    public override FormatTraits Traits { get; } = new() { KeepsColumns = true };

    /// <inheritdoc />
    public override IRecordFormat CreateFormat(ConvertOptions options, bool hasLabel) => new HeaderCsvFormat();
}

/// <summary>Every column as it is, JSON Lines: input lists stay lists.</summary>
public sealed class JsonLinesFormatDefinition : RecordFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "jsonl";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "JSON Lines (columns as they are)";

    /// <inheritdoc />
    public override IReadOnlyList<string> Aliases => ["jsonlines", "ndjson"];

    /// <inheritdoc />
    public override string Summary => "every column kept as it is, JSON Lines (input lists stay lists)";

    /// <inheritdoc />
    public override string Extension => "jsonl";

    /// <inheritdoc />
    public override FormatTraits Traits { get; } = new() { KeepsColumns = true };

    /// <inheritdoc />
    public override IRecordFormat CreateFormat(ConvertOptions options, bool hasLabel) => new JsonLinesFormat();
}

/// <summary>Registers the list formats.</summary>
public static class ListFormatRegistration
{
    /// <summary>Adds <c>--format csv-header</c> and <c>--format jsonl</c>.</summary>
    public static FormatRegistry AddListFormats(this FormatRegistry registry) => registry.Add(new HeaderCsvFormatDefinition()).Add(new JsonLinesFormatDefinition());
}
