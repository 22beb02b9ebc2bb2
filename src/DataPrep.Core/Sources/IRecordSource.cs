using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Sources;

/// <summary>
/// A source of record batches: a file, several files, an object store prefix. Opening reads just enough
/// to know the schema (a header, a footer, a sample for type inference); reading streams batches.
/// </summary>
public interface IRecordSource
{
    /// <summary>What the user named (a path or URI), for messages and the run record.</summary>
    string Description { get; }

    /// <summary>Learns the schema without reading the whole input.</summary>
    /// <exception cref="DataFormatException">The input is empty, corrupt or not of this format.</exception>
    ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>Streams the rows as batches of the schema that <see cref="OpenAsync"/> returned.</summary>
    /// <param name="sourceIndex">The ordinal of this source in the run, folded into stable row ids.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether reading only some columns (<see cref="SourceOptions.OnlyColumns"/>) costs only those columns, as
    /// in a columnar file. A time split then reads the time column alone first to find its cut-offs, and streams
    /// the rest (see <c>TimeSplitPlan</c>). Default: false (text formats parse every field of every row).
    /// </summary>
    bool ReadsColumnsSeparately => false;

    /// <summary>
    /// After <see cref="OpenAsync"/>: a row's mean bytes (0: not measured), of text for a text source's sampled rows,
    /// decoded for a columnar file, which sets how many rows a batch holds under a memory budget
    /// (<see cref="SourceOptions.BatchRowsFor"/>, <see cref="ConvertOptions.RowBytes"/>).
    /// </summary>
    long RowBytes => 0;

    /// <summary>
    /// Whether the input is one file or object, whose content the run record fingerprints (default true). A source
    /// over a folder or prefix of many files (an image class folder) says false; the run record lists no
    /// fingerprint for it.
    /// </summary>
    bool IsSingleFile => true;

    /// <summary>
    /// Where data row <paramref name="row"/> (1-based, as in <see cref="Data.RowInfo"/>) sits in the input, for an error
    /// found after reading (a missing value): the line of a text file, or the row group and its row in a Parquet file.
    /// Best effort and only called on an error path (a text source may read its input again); (0, null) when unknown.
    /// </summary>
    (long Line, string? Within) LocateRow(long row) => (0, null);

    /// <summary>
    /// After <see cref="OpenAsync"/>: the parts a scaled-out run may give to different scan tasks, as each part's row
    /// count (a Parquet file's row groups); one part, the whole input, by default.
    /// </summary>
    IReadOnlyList<long> Parts => [1];

    /// <summary>
    /// After a <see cref="ReadPartsAsync"/> of less than every part has ended: where each such read started and stopped in
    /// the input (a CSV file's byte ranges), so a scaled-out run can check that the reads met and number the rows of each
    /// from the rows before it. Empty for a source whose parts need no such check (Parquet row groups).
    /// </summary>
    IReadOnlyList<PartRead> PartsRead => [];

    /// <summary>
    /// An error found while this source read a part from the middle of its input (a CSV byte range), whose line and row
    /// count from the part's start, as the whole input numbers them; any other error as it is. Reads the input again up
    /// to the part: an error path only.
    /// </summary>
    DataFormatException InWholeInput(DataFormatException error) => error;

    /// <summary>
    /// Streams parts [<paramref name="first"/>, <paramref name="end"/>) of <see cref="Parts"/>, with the row ids a whole
    /// read gives them (so the tasks of a scaled-out run read exactly the rows, and ids, of one process).
    /// </summary>
    /// <exception cref="NotSupportedException">A source of one part asked for less than all of it.</exception>
    IAsyncEnumerable<RecordBatch> ReadPartsAsync(int sourceIndex, int first, int end, CancellationToken cancellationToken = default)
        => first == 0 && end == Parts.Count ? ReadAsync(sourceIndex, cancellationToken) : throw new NotSupportedException($"{Description} is read whole; it has {Parts.Count} part(s).");
}

/// <summary>
/// A source that can give what <see cref="IRecordSource.OpenAsync"/> learned to another source of the same input and
/// options, so that the other opens without reading: LibSVM, whose opening reads the whole input (the feature width is
/// the largest index, and the labels' type needs every label), and CSV and JSON Lines, whose opening reads a sample
/// (10,000 rows) for the columns' types. A scaled-out run's scan tasks share it through the work area, so that each opens
/// about its own share of the inputs instead of every one of them.
/// </summary>
public interface ISharedOpen
{
    /// <summary>After <see cref="IRecordSource.OpenAsync"/>: what it learned, as the bytes <see cref="TryAdopt"/> takes.</summary>
    /// <exception cref="InvalidOperationException">The source is not open.</exception>
    byte[] OpenedState { get; }

    /// <summary>
    /// Before <see cref="IRecordSource.OpenAsync"/>: takes what a source of the same input and options learned, so that
    /// opening reads nothing; false (and nothing taken) when <paramref name="state"/> is not such a state, and the source
    /// then opens as usual.
    /// </summary>
    bool TryAdopt(ReadOnlySpan<byte> state);
}

/// <summary>Creates the source for one input path; formats register here by file extension.</summary>
public interface ISourceFactory
{
    /// <summary>Whether this factory reads the given path (by extension or explicit format).</summary>
    bool CanRead(string path, string? format);

    /// <summary>Creates the source.</summary>
    IRecordSource Create(string path, SourceOptions options);

    /// <summary>
    /// The column every input of this format holds as its label (LibSVM's first token), so a run over such inputs needs
    /// no --label; null for formats whose label is the user's choice.
    /// </summary>
    string? Label => null;

    /// <summary>
    /// The reading options of text this format honours (<see cref="TextOptions"/>): CSV and TSV all of them, JSON Lines
    /// the encoding and the null values. A run that sets one that none of its inputs reads is refused, not run without it.
    /// </summary>
    TextOptions Reads => TextOptions.None;
}


/// <summary>
/// One read of parts [<paramref name="First"/>, <paramref name="End"/>) of a text input divided by byte ranges: it read the
/// records starting at bytes [<paramref name="Start"/>, <paramref name="Stop"/>), <paramref name="Rows"/> of them. Start is
/// the first record it found, Stop the first one it left to the next read (<see cref="long.MaxValue"/>: none, the end).
/// Reads of consecutive parts meet when one's stop is the next one's start. <paramref name="StartLine"/> and
/// <paramref name="StopLine"/> are the line numbers the read gave the records at Start and Stop, counted from where it
/// opened the input as its messages count them (0: none), so that a scaled-out run can number the lines of a read from
/// the middle as one process numbers them (<c>ScanRanges</c>).
/// </summary>
public sealed record PartRead(int First, int End, long Start, long Stop, long Rows, long StartLine = 0, long StopLine = 0);
