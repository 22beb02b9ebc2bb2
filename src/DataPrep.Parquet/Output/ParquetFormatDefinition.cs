using DataPrep.Output;
using DataPrep.Pipeline;
using Parquet;

namespace DataPrep.Formats;

/// <summary>
/// Parquet output (<c>--format parquet</c>, <c>application/x-parquet</c> as SageMaker XGBoost reads it): label-first
/// like label-first CSV, but columnar and typed. One file per shard, <c>&lt;channel&gt;/part-NNNNN.parquet</c>: the
/// label first (named as the label column; none with <c>--no-label</c>), then the features with the encoder's
/// column names, one-hot columns expanded into one column per category (see <see cref="ParquetColumns"/>).
/// </summary>
/// <remarks>
/// <para>
/// Compression: Snappy, inside the file (Parquet's usual codec, which pyarrow, DuckDB and Spark read and write by
/// default); <c>--compress gzip</c> does not apply. Snappy has no level or dictionary state, so it is deterministic.
/// Parquet.Net writes no time stamps or random ids; its footer names the writer and its version
/// (<c>created_by</c>), so the bytes of a run depend only on the input, the options, the seed and that version.
/// </para>
/// <para>
/// Row groups are written as rows stream, with at most one buffered per channel (see <see cref="RowGroupRows"/>);
/// <c>--shard-size</c> and <c>--shard-rows</c> cut shards between row groups; <c>--shards N</c> and <c>--instances</c>
/// spill the rows to the temp folder and cut balanced shards at the commit.
/// </para>
/// </remarks>
public sealed class ParquetFormatDefinition : OutputFormatDefinition
{
    /// <summary>The format's name.</summary>
    public const string FormatName = "parquet";

    /// <summary>The data files' extension.</summary>
    public const string FileExtension = "parquet";

    /// <summary>The content type SageMaker's XGBoost container accepts for Parquet channels.</summary>
    public const string ContentType = "application/x-parquet";

    /// <summary>Fewest rows per row group (a smaller budget still gets row groups this long).</summary>
    public const int MinRowGroupRows = 1024;

    /// <summary>Most rows per row group (pyarrow's default maximum row group length, 1 Mi rows).</summary>
    public const int MaxRowGroupRows = 1 << 20;

    /// <summary>
    /// The budget row groups are sized for when <c>--memory</c> is not given: a fixed size rather than the machine's
    /// default budget (half its memory), so the files of a run are the same on every machine.
    /// </summary>
    public const long DefaultRowGroupBudget = 1L << 30;

    /// <inheritdoc />
    public override string Name => FormatName;

    /// <inheritdoc />
    public override string DisplayName => "Parquet";

    /// <inheritdoc />
    public override string Summary => "Parquet, label first, a typed column per feature, one-hot expanded (SageMaker XGBoost's application/x-parquet; Snappy; row groups sized by --memory)";

    /// <inheritdoc />
    public override string Extension => FileExtension;

    /// <inheritdoc />
    public override IReadOnlyList<string> ContentTypes => [ContentType];

    /// <inheritdoc />
    /// <remarks>Parquet compresses inside the file, so no gzip.</remarks>
    public override FormatTraits Traits { get; } = new() { AllowsGzip = false, CarriesNonFinite = true };

    /// <inheritdoc />
    public override IRecordSink CreateSink(FormatSinkContext context) => new ParquetSink(context);

    /// <inheritdoc />
    /// <remarks>Label first, dense features; int64 or float64 as the columns are stored (see <see cref="ParquetShardReader"/>).</remarks>
    public override Inspect.IShardReader Reader { get; } = new ParquetShardReader();

    /// <inheritdoc />
    /// <remarks>Each row as label-first CSV writes it, as the sink hashes it for the lineage (see <see cref="ParquetContentHashes"/>).</remarks>
    public override IRecordHasher RecordHasher => ParquetRecordHasher.Instance;

    /// <summary>
    /// Rows per row group: <c>clamp(budget / (8 × channels × row bytes), 1,024, 1,048,576)</c>, then at most
    /// <c>--shard-rows</c> and at most <c>--shard-size</c> worth of uncompressed rows (at least 1).
    /// </summary>
    /// <param name="options">The run's options: <c>--memory</c> (or <see cref="DefaultRowGroupBudget"/>), the shard limits, k-fold, lineage.</param>
    /// <param name="columns">Output columns (one-hot positions counted individually).</param>
    /// <remarks>
    /// Each channel that receives rows holds one row group of 8-byte values (plus about 40 bytes of lineage facts
    /// per row); the channels fill at the same time (3 splits, or k folds and the test split). The sink takes at most
    /// a quarter of the budget (the split and the encoder's fit use the rest) and Parquet.Net encodes a column of a
    /// row group into a page buffer and a compressed copy of it, hence 8 rather than 4. Everything in the formula is
    /// an option or a count of columns, never the machine or the batch size, so the bytes written are too.
    /// </remarks>
    public static int RowGroupRows(ConvertOptions options, int columns)
    {
        ArgumentNullException.ThrowIfNull(options);
        long rowBytes = 8L * Math.Max(1, columns) + (options.Lineage ? 40 : 0);
        long budget = options.Memory.Budget ?? DefaultRowGroupBudget;
        long channels = options.Folds > 0 ? options.Folds + 1 : 3;
        long rows = Math.Clamp(budget / (8 * channels * rowBytes), MinRowGroupRows, MaxRowGroupRows);
        if (options.Shards.MaxRows > 0) rows = Math.Min(rows, options.Shards.MaxRows);
        rows = Math.Min(rows, Math.Max(1, options.Shards.EffectiveMaxBytes / (8L * Math.Max(1, columns))));
        return (int)rows;
    }

    /// <summary>
    /// The shard limits a Parquet channel is cut by, through <see cref="ShardRule"/> with every row counting its
    /// uncompressed width (<see cref="ParquetColumns.RowBytes"/>): the run's <see cref="ShardOptions"/>, except that a
    /// size limit (<c>--shard-size</c>, or the default 64 MiB, without <c>--shard-rows</c>) is lowered by what a file
    /// adds to its rows (magic, page headers, the footer with its statistics, Snappy's worst case), so that the file
    /// stays within the size. A pure rule: the one-process writer and the workers cut the same shards.
    /// </summary>
    /// <param name="options">The run's options.</param>
    /// <param name="columns">Output columns (one-hot positions counted individually).</param>
    /// <exception cref="PipelineValidationException">The size cannot hold a file of one row.</exception>
    public static ShardOptions ShardsFor(ConvertOptions options, int columns)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shards = options.Shards;
        if (shards.MaxRows > 0 || shards.Count > 0) return shards;
        long size = shards.EffectiveMaxBytes;
        long rowBytes = 8L * Math.Max(1, columns);
        long rowGroups = (size / rowBytes + 1 + RowGroupRows(options, columns) - 1) / RowGroupRows(options, columns);
        long overhead = FileOverhead(columns, rowGroups, size);
        if (size - overhead < rowBytes)
        {
            long needed = rowBytes + FileOverhead(columns, 1, rowBytes);
            throw new PipelineValidationException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--shard-size {size:N0} bytes cannot hold a Parquet file of one row of {columns} columns ({needed:N0} bytes or more with its footer); pass --shard-size {(needed + 1023) / 1024}KB or more, or --shard-rows N."));
        }
        return shards with { MaxBytes = size - overhead };
    }

    /// <summary>
    /// A generous bound on what a Parquet file of <paramref name="rowGroups"/> row groups adds to its rows' values:
    /// magic and footer length (12 bytes), the schema (about 32 bytes a column), per row group and column the column
    /// chunk's metadata with min/max statistics and a page header (about 144 bytes with Parquet.Net 6), and Snappy's
    /// worst case (a literal tag every 64 KiB).
    /// </summary>
    private static long FileOverhead(int columns, long rowGroups, long bytes) => 76 + 32L * columns + rowGroups * 144L * columns + bytes / 4096;

    /// <inheritdoc />
    public override bool RunsAsWorkers => true;

    /// <inheritdoc />
    public override WorkerFormat CreateWorkerFormat(ConvertOptions options, bool hasLabel, EncodingRecord? encoding) => new ParquetWorkerFormat(options, encoding);

    /// <summary>The Parquet.Net settings of every shard: Snappy, plain encodings (no dictionary for numbers).</summary>
    internal static ParquetOptions WriterOptions() => new() { CompressionMethod = CompressionMethod.Snappy };
}

/// <summary>Registers Parquet output.</summary>
public static class ParquetFormatRegistration
{
    /// <summary>Adds <c>--format parquet</c>.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public static FormatRegistry AddParquetOutput(this FormatRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.Add(new ParquetFormatDefinition());
    }
}
