using System.Diagnostics;
using System.Globalization;

namespace DataPrep.Pipeline;

/// <summary>
/// The memory budget of a run and where data that does not fit goes (<c>--memory</c>, <c>--temp</c>).
/// Output bytes never depend on these: a run that spills writes exactly what an in-memory run writes.
/// </summary>
/// <param name="Budget">Bytes the blocking stages (split, encoder fitting) may hold before spilling to disk;
/// null means half of the memory available to the process.</param>
/// <param name="TempDirectory">Where spill files go (a run folder inside it, removed at the end); null means the system temp folder.</param>
public sealed record MemoryOptions(long? Budget = null, string? TempDirectory = null)
{
    /// <summary>The budget in bytes.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long EffectiveBudget => Budget ?? DefaultBudget();

    /// <summary>The temp folder.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string EffectiveTempDirectory => string.IsNullOrEmpty(TempDirectory) ? Path.GetTempPath() : TempDirectory;

    /// <summary>What the split stage may buffer before it spills (half the budget).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long SplitThreshold => EffectiveBudget / 2;

    /// <summary>What the encoder may buffer while it fits on train before it spills (a quarter of the budget).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long EncodeThreshold => EffectiveBudget / 4;

    /// <summary>The row width the batch rule assumes when it knows none, or for narrower rows: 512 bytes of text.</summary>
    public const long NarrowRowBytes = 512;

    /// <summary>The least row text a batch holds (1,024 rows of <see cref="NarrowRowBytes"/>), or 16 rows of wider ones.</summary>
    public const long MinBatchBytes = 512L << 10;

    /// <summary>The row text a batch may hold under this budget: a 32nd of it (16 KiB of budget per 512-byte row).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long BatchBytes => EffectiveBudget / 32;

    /// <summary>
    /// Rows per batch under this budget, for rows of <paramref name="rowBytes"/> bytes of text (0: unknown); see
    /// <see cref="RowsFor"/>. With rows of 512 bytes or fewer: 4,096 at 64 MB, 8,192 at 128 MB, 32,768 at 512 MB,
    /// 65,536 from 1 GB. A run holds several batches at once in every stage between the reader and the writer, none of
    /// them counted against the budget, so their size has to follow it: at <c>--memory 128MB</c> a 280 MB CSV peaked at
    /// 200 MiB RSS with 65,536-row batches and 124 MiB with 8,192. Output bytes do not depend on batch sizes.
    /// </summary>
    public int BatchRows(int requested, long rowBytes = 0) => RowsFor(requested, BatchBytes, rowBytes);

    /// <summary>
    /// The one batch rule: <paramref name="requested"/> rows, but no more than <paramref name="batchBytes"/> of rows
    /// <paramref name="rowBytes"/> wide (each counted as at least <see cref="NarrowRowBytes"/>), rounded down to a power of
    /// two, and never fewer than <see cref="MinBatchBytes"/> of them or 16. Rows 9 KB wide (1,000 float columns) get
    /// 256-row batches at 128 MB where rows of W1's 0.5 KB get 8,192: a row count alone let 8,192 such rows, 74 MB of
    /// text, into each batch, and the run peaked at 475 MiB.
    /// </summary>
    public static int RowsFor(int requested, long batchBytes, long rowBytes)
    {
        long width = Math.Max(NarrowRowBytes, rowBytes);
        long rows = Math.Max(Math.Max(16, MinBatchBytes / width), batchBytes / width);
        rows = 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)rows));
        return (int)Math.Max(1, Math.Min(requested, rows));
    }

    /// <summary>
    /// An S3 output's upload buffers under this budget: parts of at most a 64th of the budget (S3's 5 MiB at least) and
    /// at most an eighth of the budget in flight, never more than <paramref name="asked"/> (the default 16 MiB parts, 8
    /// in flight, from 1 GB; 8 MiB and 8 at 512 MB; 5 MiB and 6 at 256 MB, 3 at 128 MB). Each open object (a split's
    /// shard and its lineage) buffers one part besides those in flight, so the buffers are about (in flight + open
    /// objects) × part size, a quarter of the budget or less with six open objects: at <c>--memory 128MB</c> a run to S3
    /// held 14 parts of 16 MiB, 224 MiB, before this. Object bytes and their full-object CRC-32C do not depend on parts.
    /// </summary>
    public S3Options UploadBuffers(S3Options asked)
    {
        ArgumentNullException.ThrowIfNull(asked);
        long part = Math.Min(asked.PartSize, Math.Max(S3Options.MinPartSize, EffectiveBudget / 64));
        int inFlight = (int)Math.Clamp(EffectiveBudget / 8 / part, 1, Math.Max(1, asked.Concurrency));
        return part == asked.PartSize && inFlight == asked.Concurrency ? asked : asked with { PartSize = part, Concurrency = inFlight };
    }

    /// <summary>Half the memory the GC says is available (physical RAM or the container limit).</summary>
    public static long DefaultBudget() => Math.Max(64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);

    /// <summary>Parses a size such as <c>512MB</c>, <c>4GB</c>, <c>1.5G</c> or a plain byte count.</summary>
    /// <exception cref="PipelineValidationException">Not a size.</exception>
    public static long ParseSize(string text, string option = "--memory")
    {
        var t = text.Trim();
        int end = t.Length;
        while (end > 0 && char.IsLetter(t[end - 1])) end--;
        var unit = t[end..].ToUpperInvariant();
        long scale = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => 0,
        };
        if (scale == 0 || !double.TryParse(t[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0)
        {
            throw new PipelineValidationException($"{option} {text} is not a size; expected e.g. 512MB, 4GB or a byte count.");
        }
        return (long)(value * scale);
    }
}

/// <summary>
/// A run's own folder of temp files (<c>TEMP/dataprep-spill-PID-GUID</c>): created on first use, deleted on
/// dispose (success, failure and cancellation alike); folders left by processes that no longer run are removed.
/// </summary>
internal sealed class SpillFolder : IDisposable
{
    private const string Prefix = "dataprep-spill-";
    private readonly string _parent;
    private string? _path;
    private int _files;

    public SpillFolder(string parent) => _parent = parent;

    /// <summary>A new file path inside the folder (the folder is created on first use).</summary>
    public string NewFile(string name)
    {
        if (_path is null)
        {
            RemoveStale(_parent);
            _path = Path.Combine(_parent, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_path);
        }
        return Path.Combine(_path, $"{Interlocked.Increment(ref _files):D5}-{name}");
    }

    public void Dispose()
    {
        if (_path is null) return;
        try { Directory.Delete(_path, recursive: true); }
        catch (IOException) { } // another process holds a file: the next run's stale sweep removes it
        catch (UnauthorizedAccessException) { }
        _path = null;
    }

    /// <summary>Deletes spill folders whose process has ended (a crash or a kill -9 left them).</summary>
    internal static void RemoveStale(string parent)
    {
        if (!Directory.Exists(parent)) return;
        foreach (var dir in Directory.EnumerateDirectories(parent, Prefix + "*"))
        {
            var name = Path.GetFileName(dir).AsSpan(Prefix.Length);
            int dash = name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(name[..dash], out int pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    internal static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>
    /// The bytes the inputs take once read, as the spill estimates count them: a local file's size, a remote object's
    /// size (asked through <paramref name="files"/>: known from the listing, or one HEAD, for S3), gzip and Parquet files 4× theirs; an input
    /// that cannot be found counts 0 (opening it reports why). Without <paramref name="files"/>, remote inputs count 0.
    /// </summary>
    internal static long EstimatedBytes(IReadOnlyList<string> inputs, InputFiles? files = null)
    {
        long input = 0;
        foreach (var path in inputs)
        {
            try
            {
                long size = InputFiles.IsUri(path)
                    ? files?.FileSystemOf(path)?.SizeOf(path) ?? 0
                    : new FileInfo(path).Length;
                bool compressed = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);
                input += compressed ? 4 * size : size;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            catch (ArgumentException) { }
            catch (NotSupportedException) { }
            catch (PipelineValidationException) { }
        }
        return input;
    }

    /// <summary>Whether the split stage is expected to spill inputs of this many bytes (<see cref="EstimatedBytes"/>) under this budget.</summary>
    internal static bool ExpectsSplitSpill(MemoryOptions memory, long estimatedBytes) => estimatedBytes > memory.SplitThreshold;

    /// <summary>
    /// Refuses a run whose spill files would not fit on the temp folder's disk, before anything starts.
    /// The estimate: inputs that exceed the split threshold spill about their own size twice (spill file +
    /// buckets; compressed inputs count 4x), plus the encoder's spill when it has to fit on train.
    /// </summary>
    /// <param name="options">The run's options (memory budget, temp folder).</param>
    /// <param name="input">The inputs' <see cref="EstimatedBytes"/>.</param>
    /// <exception cref="PipelineValidationException">Not enough free space.</exception>
    public static void CheckSpace(ConvertOptions options, long input)
    {
        if (input <= options.Memory.SplitThreshold) return; // no spill expected
        long needed = 2 * input + input / 2;
        var temp = options.Memory.EffectiveTempDirectory;
        long free;
        try { free = new DriveInfo(Path.GetFullPath(temp)).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return; }
        if (free < needed)
        {
            throw new PipelineValidationException(
                $"Not enough free disk space for spill files under {temp}: the inputs ({input / (1 << 20):N0} MiB) exceed the memory budget " +
                $"({options.Memory.EffectiveBudget / (1 << 20):N0} MiB), so about {needed / (1 << 20):N0} MiB of temp files are needed but only {free / (1 << 20):N0} MiB are free; " +
                "pass --temp DIR on a larger disk, or a larger --memory.");
        }
    }
}
