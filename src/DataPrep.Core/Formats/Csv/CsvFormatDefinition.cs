using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.Formats;

/// <summary>Label-first headerless CSV (<c>text/csv</c>, or <c>text/csv;label_size=0</c> without a label): the default.</summary>
public sealed class CsvFormatDefinition : RecordFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = ConvertOptions.DefaultFormat;

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "label-first CSV";

    /// <inheritdoc />
    public override string Summary => "label-first CSV, no header (SageMaker's text/csv)";

    /// <inheritdoc />
    public override string Extension => "csv";

    /// <inheritdoc />
    public override IReadOnlyList<string> ContentTypes => ["text/csv", "text/csv;label_size=0"];

    /// <inheritdoc />
    public override FormatTraits Traits { get; } = new() { CopiesCsvText = true };

    /// <inheritdoc />
    public override Inspect.IShardReader Reader { get; } = new Inspect.ShardFormatReader(Inspect.ShardFormat.Csv);

    /// <inheritdoc />
    public override IRecordFormat CreateFormat(ConvertOptions options, bool hasLabel) => new LabelFirstCsvFormat(hasLabel);
}

/// <summary>Registers label-first CSV.</summary>
public static class CsvFormatRegistration
{
    /// <summary>Adds <c>--format csv</c>.</summary>
    public static FormatRegistry AddCsv(this FormatRegistry registry) => registry.Add(new CsvFormatDefinition());
}
