using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.RecordIO;
using DataPrep.Sources;
using DataPrep.Pipeline;

namespace DataPrep.Conversion;

/// <summary>
/// The composition of a conversion: the sources it can read, the output formats it can write, the stores it can
/// read from and write to, and the settings of its runs. Plug-ins add themselves with extension methods, as in
/// <c>new DataPrepRegistry().AddParquet().AddS3().AddImages()</c>; nothing lives in static state, so several
/// conversions in one process (a notebook, a test host, a worker) never see each other's settings: each run
/// takes its connection settings, memory budget and format from its own <see cref="ConvertOptions"/>.
/// </summary>
/// <remarks>
/// Fill a registry before its first run and do not change it while runs use it. Runs may share a registry
/// concurrently: it hands every run its own <see cref="InputFiles"/>, store and sink.
/// </remarks>
public sealed class DataPrepRegistry
{
    /// <summary>A registry with the built-in sources (CSV, TSV, JSON Lines, LibSVM) and output formats (CSV, RecordIO-protobuf, LibSVM, DeepAR, csv-header, jsonl).</summary>
    public DataPrepRegistry()
    {
        Sources = new SourceRegistry().AddLibSvm();
        Formats = new FormatRegistry().AddCsv().AddRecordIOProtobuf().AddLibSvmOutput().AddDeepAr().AddListFormats();
    }

    /// <summary>Input formats, chosen per file by extension or <c>--input-format</c>.</summary>
    public SourceRegistry Sources { get; }

    /// <summary>Output formats, chosen by <see cref="ConvertOptions.Format"/>.</summary>
    public FormatRegistry Formats { get; }

    /// <summary>Output stores and remote input file systems by URI scheme (local paths are built in).</summary>
    public StoreRegistry Stores { get; } = new();

    /// <summary>Counts which internal paths this registry's runs took (spills, streamed time splits), for tests and traces.</summary>
    public RunDiagnostics Diagnostics { get; } = new();

    /// <summary>
    /// Whether a time split over columnar input may read the time column first and then stream (default true). Off,
    /// runs collect the rows as for any split; the output bytes are the same either way (tests compare both paths).
    /// </summary>
    public bool StreamTimeSplits { get; set; } = true;

    /// <summary>
    /// The most rows one channel of a spilled split may hold in one run (2^31 − 1, what 32-bit positions hold); tests set
    /// it lower to reach the refusal without billions of rows.
    /// </summary>
    internal int MaxChannelRows { get; set; } = int.MaxValue;

    /// <summary>
    /// The options as a run uses them, and their output format: the format's name made canonical, its traits set,
    /// every option checked (the format's own checks included, all problems in one exception), and the format's
    /// adjustments applied.
    /// </summary>
    /// <exception cref="PipelineValidationException">An unknown format or invalid options.</exception>
    public (ConvertOptions Options, OutputFormatDefinition Format) Resolve(ConvertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var format = Formats.Find(options.Format);
        if (format is null)
        {
            options.Validate([Formats.Unknown(options.Format)]);
            throw new PipelineValidationException(Formats.Unknown(options.Format));
        }
        options = options with { Format = format.Name, FormatTraits = format.Traits };
        // Inputs whose format holds the label (LibSVM) need no --label; with --no-label (features only) that label is no feature.
        if (options.Label is null && !options.KeepsColumns && Sources.LabelOf([.. options.Inputs, .. options.NoisyInputs], options.Source.Format) is { } label)
        {
            if (!options.NoLabel) options = options with { Label = label };
            else if (options.Features.Count == 0 && !options.Drop.Contains(label)) options = options with { Drop = [.. options.Drop, label] };
        }
        var problems = new List<string>();
        problems.AddRange(UnreadTextOptions(options));
        format.Validate(options, problems);
        options.Validate(problems);
        return (format.Prepare(options), format);
    }

    /// <summary>
    /// Reading options a run sets that none of its inputs reads (<see cref="ISourceFactory.Reads"/>: <c>--delimiter</c>,
    /// <c>--quote</c>, <c>--no-header</c> and <c>--decimal-comma</c> over JSON Lines, LibSVM or Parquet inputs alone;
    /// <c>--encoding</c> and <c>--null-values</c> over LibSVM or Parquet), one problem per kind. Run without them, such a
    /// run would not do what was asked. Inputs whose format cannot be told by name may read anything; image runs read a
    /// CSV list.
    /// </summary>
    private IEnumerable<string> UnreadTextOptions(ConvertOptions options)
    {
        var source = options.Source;
        string[] inputs = [.. options.Inputs, .. options.NoisyInputs];
        if (options.FormatTraits.ReadsImages || inputs.Length == 0) yield break;
        string names = string.Join(", ", inputs.Take(3).Select(Path.GetFileName)) + (inputs.Length > 3 ? $" and {inputs.Length - 3:N0} more" : "");
        var defaults = new SourceOptions();
        var delimited = new List<string>();
        if (source.Delimiter != defaults.Delimiter) delimited.Add($"--delimiter '{(source.Delimiter == '\t' ? "\\t" : source.Delimiter.ToString())}'");
        if (source.Quote != defaults.Quote) delimited.Add($"--quote '{source.Quote}'");
        if (source.HasHeader != defaults.HasHeader) delimited.Add("--no-header");
        if (source.DecimalComma != defaults.DecimalComma) delimited.Add("--decimal-comma");
        if (delimited.Count > 0 && !Sources.MayRead(inputs, source.Format, TextOptions.Delimited))
        {
            string listed = delimited.Count == 1 ? delimited[0] : string.Join(", ", delimited.Take(delimited.Count - 1)) + " and " + delimited[^1];
            yield return $"{listed} {(delimited.Count == 1 ? "applies" : "apply")} to CSV and TSV inputs, and none of the inputs is one ({names}); leave {(delimited.Count == 1 ? "it" : "them")} out.";
        }
        // UTF-8 is what every format reads anyway.
        if (source.Encoding is { } encoding && !TextInput.IsUtf8(encoding) && !Sources.MayRead(inputs, source.Format, TextOptions.Encoding))
        {
            yield return $"--encoding {encoding} applies to CSV, TSV and JSON Lines inputs, and none of the inputs is one ({names}); leave it out (LibSVM is read as UTF-8, Parquet holds UTF-8 strings).";
        }
        if (source.NullValues.Count > 0 && !Sources.MayRead(inputs, source.Format, TextOptions.NullValues))
        {
            yield return $"--null-values {string.Join(',', source.NullValues)} applies to CSV, TSV and JSON Lines inputs, and none of the inputs is one ({names}); leave it out (Parquet marks a missing value as null; LibSVM lines hold numbers only).";
        }
    }

    /// <summary>Runs a conversion (see <see cref="ConvertRunner.RunAsync"/>).</summary>
    public Task<RunReport> ConvertAsync(ConvertOptions options, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
        => ConvertRunner.RunAsync(options, this, progress, cancellationToken);
}
