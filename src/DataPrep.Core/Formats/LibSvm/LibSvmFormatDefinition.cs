using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.Formats;

/// <summary>LibSVM / SVMlight text (<c>text/libsvm</c>): label, then 1-based <c>index:value</c> pairs of the non-zero features.</summary>
public sealed class LibSvmFormatDefinition : RecordFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "libsvm";

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "LibSVM";

    /// <inheritdoc />
    public override IReadOnlyList<string> Aliases => ["svmlight"];

    /// <inheritdoc />
    public override string Summary => "LibSVM text: label, then 1-based index:value pairs (text/libsvm)";

    /// <inheritdoc />
    public override string Extension => "libsvm";

    /// <inheritdoc />
    public override Inspect.IShardReader Reader { get; } = new Inspect.ShardFormatReader(Inspect.ShardFormat.LibSvm);

    /// <inheritdoc />
    public override IRecordFormat CreateFormat(ConvertOptions options, bool hasLabel) => new LibSvmFormat(hasLabel);
}

/// <summary>Registers LibSVM output.</summary>
public static class LibSvmFormatRegistration
{
    /// <summary>Adds <c>--format libsvm</c>.</summary>
    public static FormatRegistry AddLibSvmOutput(this FormatRegistry registry) => registry.Add(new LibSvmFormatDefinition());
}
