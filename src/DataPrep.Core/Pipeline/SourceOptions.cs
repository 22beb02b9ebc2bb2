using DataPrep.Data;

namespace DataPrep.Pipeline;

/// <summary>Options shared by the tabular sources. Defaults suit most files.</summary>
public sealed record SourceOptions
{
    /// <summary>Whether CSV inputs start with a header row; without one, columns are named c0, c1, …</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The CSV field separator (default ',').</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>The CSV quote character (default '"').</summary>
    public char Quote { get; init; } = '"';

    /// <summary>The text encoding of CSV and JSON Lines inputs (a name such as "utf-8", "latin1"); null means UTF-8 (BOMs honoured).</summary>
    public string? Encoding { get; init; }

    /// <summary>Per-column type overrides, winning over inference.</summary>
    public IReadOnlyDictionary<string, ColumnKind> ColumnTypes { get; init; } = new Dictionary<string, ColumnKind>();

    /// <summary>Field values that mean "missing" besides the empty field.</summary>
    public IReadOnlyList<string> NullValues { get; init; } = [];

    /// <summary>
    /// CSV numbers use ',' as their decimal point (<c>1,5</c>), as many European exports do: read as 1.5, and a '.' in
    /// a number is refused then (it would be a thousands separator or a mistake, never silently a decimal point).
    /// </summary>
    public bool DecimalComma { get; init; }

    /// <summary>
    /// Non-finite numbers in float columns (NaN, ±Inf, ±Infinity in any case, numbers beyond ±1.8e308) and integers
    /// that overflow an integer column: refused by default, naming file, line or row and column.
    /// </summary>
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Error;

    /// <summary>
    /// A row that cannot be read as its columns say (CSV/TSV: ragged, a value of the wrong type, a non-finite number; a
    /// malformed JSON Lines or LibSVM line; a Parquet value that is non-finite or not of its requested type; a missing
    /// value under <c>--missing error</c> in any format): fail (the default), skip (counted by cause) or quarantine
    /// (counted, and written to <c>_dataprep/quarantine/</c>), in one process or as workers.
    /// </summary>
    public BadRowPolicy OnBadRow { get; init; } = BadRowPolicy.Fail;

    /// <summary>Where a source puts the rows it skips (the run's log); null: fail at the first.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public BadRows? BadRows { get; init; }

    /// <summary>
    /// A CSV, TSV or JSON Lines input larger than this, plain UTF-8 text (not gzip, not UTF-16/32, no other
    /// <see cref="Encoding"/>), is divided into parts of this many bytes, which a scaled-out run's scan tasks read apart
    /// (<see cref="Sources.IRecordSource.Parts"/>); 0: every input is one part. Default 32 MiB. The output does not depend
    /// on it: such a row's id is its record's byte position (<see cref="Data.RowInfo.AtPositions"/>).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long RangeBytes { get; init; } = DefaultRangeBytes;

    /// <summary>The default <see cref="RangeBytes"/>: 32 MiB.</summary>
    public const long DefaultRangeBytes = 32L << 20;

    /// <summary>How many rows type inference looks at (default 10,000).</summary>
    public int InferRows { get; init; } = 10_000;

    /// <summary>Rows per batch (default 65,536; a Parquet source reads a row group of up to 16 times as many rows as one batch).</summary>
    public int BatchRows { get; init; } = 65_536;

    /// <summary>
    /// The row text a batch may hold (the memory budget's <see cref="MemoryOptions.BatchBytes"/>); 0: rows alone decide.
    /// A text source measures its rows' width on the rows it samples when opened, and cuts batches of
    /// <see cref="BatchRowsFor"/> rows.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long BatchBytes { get; init; }

    /// <summary>Rows per batch for rows of <paramref name="rowBytes"/> bytes of text (see <see cref="MemoryOptions.RowsFor"/>).</summary>
    public int BatchRowsFor(long rowBytes) => BatchBytes > 0 ? MemoryOptions.RowsFor(BatchRows, BatchBytes, rowBytes) : Math.Max(1, BatchRows);

    /// <summary>
    /// Where a source may put temp files (the budget's <see cref="MemoryOptions.EffectiveTempDirectory"/>); null: it holds
    /// everything it reads in memory. A Parquet row group too large for <see cref="BatchBytes"/> is transposed there.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? TempDirectory { get; init; }

    /// <summary>
    /// The run's memory budget when one was given (<c>--memory</c>); 0: none. While a Parquet row group is transposed, its
    /// decoded columns' garbage is collected near it (<see cref="MemoryGovernor"/>), as the split's is while it spills.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long MemoryBudget { get; init; }

    /// <summary>Worker threads for parsing; 0 means all cores.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Keep the text of rows that label-first CSV output can copy unchanged (<see cref="Data.RawRecords"/>):
    /// set when that is the output format. Text sources only; others ignore it.
    /// </summary>
    public bool KeepRawRecords { get; init; }

    /// <summary>
    /// With <see cref="KeepRawRecords"/>: the columns whose values the run reads (the label and the split's columns, as
    /// names, 0-based indexes, "first" or "last"). A float column not named here is only checked while its row's text is
    /// kept, and its values are parsed from that text if something reads them after all (same values, later).
    /// </summary>
    public IReadOnlyList<string> ValueColumns { get; init; } = [];

    /// <summary>
    /// With <see cref="KeepRawRecords"/>: also keep, beside each kept row's text, its values as little-endian float32
    /// (<see cref="Data.RawRecords.Float32"/>), each rounded once from the double its field reads as, so a writer of float32
    /// tensors copies them instead of parsing the text again. Set by the output format that writes float32 (RecordIO-protobuf
    /// with float32 features and label; see <c>OutputFormatDefinition.Prepare</c>); costs 4 bytes per kept value.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool KeepFloat32 { get; init; }

    /// <summary>
    /// With <see cref="KeepFloat32"/>: the columns whose doubles nothing in the run reads, only their float32, once the run
    /// knows them (<see cref="Float32OnlyColumns"/>). When every float column outside <see cref="ValueColumns"/> is one of
    /// them, a row whose values are all kept as float32 keeps no text. Null or not yet known: the text is kept.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Float32OnlyColumns? Float32Only { get; init; }

    /// <summary>
    /// With <see cref="KeepFloat32"/>: keep a row's values as float32 only where the row can then keep no text
    /// (<see cref="Float32Only"/> allows it); otherwise keep nothing, as without <see cref="KeepRawRecords"/>. Set for a run
    /// whose split is expected to spill: its spill writes those float32 values as they are, and kept text would only be
    /// held against the budget and parsed a second time.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Float32AloneOnly { get; init; }

    /// <summary>An explicit format ("csv", "jsonl", "parquet", "images"), overriding the file extension.</summary>
    public string? Format { get; init; }

    /// <summary>
    /// Settings of one input format beyond the ones above, name → value, as Spark's <c>DataFrameReader.option</c>
    /// (e.g. the image source's <c>path-column</c> and <c>label-column</c>). Set by the output format that needs
    /// them (see <c>OutputFormatDefinition.Prepare</c>); sources ignore names that are not theirs. Empty by default.
    /// </summary>
    public IReadOnlyDictionary<string, string> FormatSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The columns the run uses (null: all). Columnar sources (Parquet) may leave the others out of their
    /// schema and never read them; the run ignores extra columns either way.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlySet<string>? OnlyColumns { get; init; }

    /// <summary>
    /// The columns the run leaves out (<c>--drop</c>), or null: a source may pass over values of them it could not read
    /// (JSON Lines: nested objects and arrays), as they reach no output.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlySet<string>? Dropped { get; init; }

    /// <summary>
    /// These options with those of <paramref name="kinds"/> back at their defaults (<see cref="TextOptions"/>:
    /// <see cref="TextOptions.Delimited"/> is <see cref="Delimiter"/>, <see cref="Quote"/>, <see cref="HasHeader"/>
    /// and <see cref="DecimalComma"/>).
    /// </summary>
    public SourceOptions Without(TextOptions kinds)
    {
        var defaults = new SourceOptions();
        var kept = this;
        if (kinds.HasFlag(TextOptions.Delimited)) kept = kept with { Delimiter = defaults.Delimiter, Quote = defaults.Quote, HasHeader = defaults.HasHeader, DecimalComma = defaults.DecimalComma };
        if (kinds.HasFlag(TextOptions.Encoding)) kept = kept with { Encoding = defaults.Encoding };
        if (kinds.HasFlag(TextOptions.NullValues)) kept = kept with { NullValues = defaults.NullValues };
        return kept;
    }

    /// <summary>Whether the run reads <paramref name="column"/>: not <see cref="Dropped"/>, and among <see cref="OnlyColumns"/> when those are given.</summary>
    public bool Reads(string column) => !(Dropped?.Contains(column) ?? false) && (OnlyColumns?.Contains(column) ?? true);

    /// <summary>How inputs are opened: local paths, and URIs through the run's remote file systems and settings.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public InputFiles Files { get; init; } = InputFiles.Local;

    /// <summary>The effective thread count.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}

/// <summary>What a source does with a number that is not finite (or overflows its column's type): one rule for every spelling.</summary>
public enum NonFinitePolicy
{
    /// <summary>Refuse it, naming file, line or row and column (the default).</summary>
    Error,

    /// <summary>Read it as a missing value; the missing-value policy (<c>--missing</c>) then decides.</summary>
    Missing,

    /// <summary>Keep NaN and ±infinity as they are; only for output formats that can carry them (RecordIO-protobuf, Parquet).</summary>
    Keep,
}

/// <summary>
/// The columns of a run whose doubles nothing reads, only their float32 (<c>SpillNarrowing</c> decides, from the run's
/// bound stages), given to its sources before they read a row: a CSV source keeping float32 values
/// (<see cref="SourceOptions.KeepFloat32"/>) then keeps no text for a row whose values it holds as float32, since nothing
/// would read the text. A value of such a column read after all (a spill) is its float32, widened: the same float32 for
/// every reader the rule allows.
/// </summary>
/// <remarks>
/// Set once, after the sources are opened (the stages bind to their schema) and before any is read; a source that starts
/// reading before it is set keeps the text.
/// </remarks>
public sealed class Float32OnlyColumns
{
    private IReadOnlySet<string>? _names;
    private long _rows;

    /// <summary>The columns, by name; null until known, or when there are none.</summary>
    public IReadOnlySet<string>? Names
    {
        get => Volatile.Read(ref _names);
        set => Volatile.Write(ref _names, value);
    }

    /// <summary>Rows whose values were kept as float32 alone, without their text (for tests and diagnostics).</summary>
    public long RowsWithoutText => Interlocked.Read(ref _rows);

    internal void CountRowsWithoutText(long rows) => Interlocked.Add(ref _rows, rows);
}

/// <summary>Reading options only some formats honour (<c>ISourceFactory.Reads</c>, in the sources' layer above this one).</summary>
[Flags]
public enum TextOptions
{
    /// <summary>None of them (LibSVM, Parquet).</summary>
    None = 0,

    /// <summary>
    /// The options of delimited text: <see cref="SourceOptions.Delimiter"/>, <see cref="SourceOptions.Quote"/>,
    /// <see cref="SourceOptions.HasHeader"/> and <see cref="SourceOptions.DecimalComma"/> (CSV and TSV).
    /// </summary>
    Delimited = 1,

    /// <summary><see cref="SourceOptions.Encoding"/> (CSV, TSV and JSON Lines).</summary>
    Encoding = 2,

    /// <summary><see cref="SourceOptions.NullValues"/> (CSV, TSV and JSON Lines).</summary>
    NullValues = 4,
}
