using System.Buffers;
using System.IO.Hashing;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DataPrep.Pipeline;

/// <summary>
/// run.json: what was run (tool version, options, seed, input fingerprints), what was learned and what
/// was written (shards with sizes and SHA-256). Written last: its presence means the data is complete.
/// </summary>
public sealed class RunRecord
{
    /// <summary>The format version of this file.</summary>
    public int FormatVersion { get; set; } = 1;

    /// <summary>"dataprep" and its version.</summary>
    public ToolInfo Tool { get; set; } = ToolInfo.Current;

    /// <summary>"convert" or "apply".</summary>
    public string Command { get; set; } = "convert";

    /// <summary>When the run finished (UTC).</summary>
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The seed of every random decision.</summary>
    public ulong Seed { get; set; }

    /// <summary>The options as given (with defaults filled in).</summary>
    public ConvertOptions? Options { get; set; }

    /// <summary>The inputs in source-index order.</summary>
    public List<InputFingerprint> Inputs { get; set; } = [];

    /// <summary>The output content type.</summary>
    public string? ContentType { get; set; }

    /// <summary>Label classes, vocabularies, fills and the output column layout.</summary>
    public EncodingRecord? Encoding { get; set; }

    /// <summary>Rows read, dropped, filled; warnings.</summary>
    public RunSummary Summary { get; set; } = new();

    /// <summary>Per split: rows, fraction, label distribution, shards, lineage file.</summary>
    public SortedDictionary<string, SplitReport> Splits { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A scaled-out run's workers and steps (absent for a run in one process).</summary>
    public RunWorkers? Workers { get; set; }

    /// <summary>How a run report is written (<c>--json</c>): source-generated, no reflection (the CLI is compiled with Native AOT).</summary>
    public static JsonTypeInfo<RunReport> ReportJson => RunRecordJsonContext.Default.RunReport;

    /// <summary>Builds the record of a finished run.</summary>
    public static RunRecord From(ConvertOptions options, RunContext context, string command = "convert")
    {
        var r = new RunRecord
        {
            Command = command,
            Seed = options.Seed,
            Options = options,
            ContentType = context.Report.ContentType,
            Encoding = context.Report.Encoding,
            Splits = context.Report.Splits,
            Inputs = context.Fingerprints?.GetAwaiter().GetResult() ?? context.Inputs.Select(p => InputFingerprint.Of(p, context.Files)).ToList(),
        };
        r.Summary.RowsRead = context.Report.RowsRead;
        r.Summary.Dropped = context.Report.Dropped;
        r.Summary.Filled = context.Report.Filled;
        r.Summary.BadRows = context.Report.BadRows;
        r.Summary.Quarantine = context.Report.Quarantine;
        r.Summary.Skipped = context.Report.Skipped;
        r.Summary.Warnings = context.Report.Warnings;
        r.Summary.Unseen = context.Report.Unseen;
        return r;
    }

    /// <summary>The UTF-8 JSON of this record, ending with a newline.</summary>
    public byte[] ToJson() => [.. JsonSerializer.SerializeToUtf8Bytes(this, RunRecordWriteJsonContext.Default.RunRecord), (byte)'\n'];

    /// <summary>The UTF-8 JSON of this record through the metadata-based serialiser (what <see cref="ToJson"/> wrote before it used the fast path); for tests.</summary>
    internal byte[] ToJsonByMetadata() => [.. JsonSerializer.SerializeToUtf8Bytes(this, RunRecordJsonContext.Default.RunRecord), (byte)'\n'];

    /// <summary>Reads a local run record.</summary>
    /// <exception cref="DataFormatException">The file does not exist, cannot be read, or is not a DataPrep run record.</exception>
    public static RunRecord Load(string path) => Load(path, InputFiles.Local);

    /// <summary>Reads a run record through a run's input file systems: a local file, or an <c>s3://</c> object when the registry has DataPrep.S3.</summary>
    /// <param name="path">The record itself (<c>OUT/_dataprep/run.json</c>); <c>Output.RunLayout.RecordPathOf</c> finds it from the run's folder.</param>
    /// <param name="files">How to open it (a registry's <c>Stores.Inputs(settings)</c>).</param>
    /// <exception cref="DataFormatException">The file does not exist, cannot be read, or is not a DataPrep run record.</exception>
    /// <exception cref="PipelineValidationException">A URI whose scheme no plug-in reads, or a remote location that cannot be reached.</exception>
    public static RunRecord Load(string path, InputFiles files)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(files);
        // One check for local files and objects alike, so a missing record is the same error wherever the run is.
        if (!files.Exists(path))
        {
            throw Throw.Format("no DataPrep run record here; expected a finished run (its folder or s3:// prefix, or its _dataprep/run.json, which a run writes last)", path);
        }
        try
        {
            using var s = files.Open(path);
            var r = JsonSerializer.Deserialize(s, RunRecordJsonContext.Default.RunRecord);
            // A run that keeps its columns as they are (--format jsonl) records no encoding: only the options are required.
            if (r?.Options is null) throw Throw.Format("is not a DataPrep run record (no options); expected OUT/_dataprep/run.json of a convert run", path);
            return r;
        }
        catch (JsonException e)
        {
            throw Throw.Format($"is not valid JSON ({e.Message}); expected a DataPrep run record", path, e.LineNumber is { } l ? l + 1 : 0, inner: e);
        }
        catch (IOException e)
        {
            throw Throw.Format($"cannot be read: {e.Message}", path, inner: e);
        }
    }
}

/// <summary>How a scaled-out run (<c>--workers N</c>) ran: N and its steps as <c>STEP TASKS</c>.</summary>
public sealed class RunWorkers
{
    /// <summary>N.</summary>
    public int Count { get; set; }

    /// <summary>The steps in order, e.g. "scan 3".</summary>
    public List<string> Steps { get; set; } = [];

    /// <summary>The run's fingerprint (options, inputs, N, version): a retried commit that finds it here has nothing left to do.</summary>
    public string? Fingerprint { get; set; }
}

/// <summary>Counts of a run.</summary>
public sealed class RunSummary
{
    /// <summary>Rows read from all inputs.</summary>
    public long RowsRead { get; set; }

    /// <summary>Rows dropped, by reason.</summary>
    public SortedDictionary<string, long> Dropped { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Rows skipped under <c>--on-bad-row skip|quarantine</c>, by cause (see <see cref="RunReport.BadRows"/>).</summary>
    public SortedDictionary<string, long> BadRows { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The quarantine file of the skipped rows, relative to the output root (see <see cref="RunReport.Quarantine"/>).</summary>
    public string? Quarantine { get; set; }

    /// <summary>Values filled, by column.</summary>
    public SortedDictionary<string, long> Filled { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Input files not read, by reason, with the first few paths (image folders: files that are not images, nested subfolders).</summary>
    public SortedDictionary<string, SkippedFiles> Skipped { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Warnings.</summary>
    public List<string> Warnings { get; set; } = [];

    /// <summary><c>dataprep apply</c>: values unseen in the earlier run's train split, per column (see <see cref="RunReport.Unseen"/>).</summary>
    public SortedDictionary<string, long>? Unseen { get; set; }
}

/// <summary>The tool that wrote a record.</summary>
/// <param name="Name">"dataprep".</param>
/// <param name="Version">The informational version.</param>
public sealed record ToolInfo(string Name, string Version)
{
    /// <summary>This build.</summary>
    public static ToolInfo Current { get; } = new("dataprep",
        typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0");
}

/// <summary>Identifies an input's content: size, modification time and a 64-bit content hash.</summary>
/// <param name="Path">As given.</param>
/// <param name="Bytes">Size.</param>
/// <param name="ModifiedUtc">Last write time.</param>
/// <param name="XxHash3">XxHash3-64 of the whole file, hex.</param>
public sealed record InputFingerprint(string Path, long Bytes, DateTime ModifiedUtc, string XxHash3)
{
    /// <summary>Fingerprints an input: a local file, or a remote object through <paramref name="files"/> (local only by default).</summary>
    public static InputFingerprint Of(string path, Pipeline.InputFiles? files = null)
    {
        if ((files ?? Pipeline.InputFiles.Local).FileSystemOf(path) is { } remote) return remote.Fingerprint(path);
        var info = new FileInfo(path);
        if (!info.Exists) return new InputFingerprint(path, 0, default, "");
        var hash = new XxHash3();
        // Read straight into a pooled buffer and hash it there: through a buffered FileStream (hash.Append(stream)) every
        // byte was also copied from the stream's buffer into the copy loop's, a fresh 1 MiB buffer every run.
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            for (long at = 0; ;)
            {
                int n = RandomAccess.Read(file, buffer, at);
                if (n == 0) break;
                hash.Append(buffer.AsSpan(0, n));
                at += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new InputFingerprint(path, info.Length, info.LastWriteTimeUtc, Convert.ToHexStringLower(hash.GetCurrentHash()));
    }
}

/// <summary>Source-generated serialisation of run records and reports.</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(RunReport))]
internal sealed partial class RunRecordJsonContext : JsonSerializerContext;

/// <summary>
/// Source-generated writing of run records: only the fast-path serialiser, no property metadata. With
/// tiered compilation off, creating the metadata of every property JIT-compiled generic code (~0.3 s CPU);
/// the fast path writes the same bytes with plain generated code. Reading uses <see cref="RunRecordJsonContext"/>.
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(RunRecord))]
internal sealed partial class RunRecordWriteJsonContext : JsonSerializerContext;
