using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Sources;

/// <summary>
/// Reads delimited text with CsvHelper's SIMD reader: a header or positional names, type inference over
/// the first <see cref="SourceOptions.InferRows"/> rows with per-column overrides, gzip inputs, and
/// parsing on several threads straight into column buffers (no object per row).
/// </summary>
public sealed class CsvSource : IRecordSource, ISharedOpen
{
    private readonly string _path;
    private readonly SourceOptions _options;
    private Schema? _schema;
    private readonly HashSet<string> _nullValues;

    /// <summary>Creates a source for one file (plain or .gz).</summary>
    public CsvSource(string path, SourceOptions? options = null)
    {
        _path = path;
        _options = options ?? new SourceOptions();
        _nullValues = new HashSet<string>(_options.NullValues, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public string Description => _path;

    private CsvReader CreateReader()
    {
        var stream = TextInput.Open(_options, _path, FormatName, Ranges.Seen);
        Encoding? encoding = null;
        if (_options.Encoding is { } name)
        {
            try { encoding = name.Equals("latin1", StringComparison.OrdinalIgnoreCase) ? Encoding.Latin1 : Encoding.GetEncoding(name); }
            catch (ArgumentException) { throw new PipelineValidationException($"Unknown encoding '{name}' (expected utf-8, utf-16, latin1, ascii or another .NET encoding name)."); }
        }
        return CsvReader.Create(stream, ReaderOptions(_options, encoding), leaveOpen: false);
    }

    /// <summary>A reader of the file's records from byte <paramref name="start"/> on, a record's first byte (no header there).</summary>
    private CsvReader CreateReaderAt(long start) => CreateReaderAt(TextInput.OpenAt(_options, _path, FormatName, start));

    /// <summary>A reader of <paramref name="stream"/>'s records (<see cref="TextInput.OpenAt"/>: from a record's first byte, no header there).</summary>
    private CsvReader CreateReaderAt(Stream stream) => CsvReader.Create(stream, ReaderOptions(_options, null) with { HasHeader = false }, leaveOpen: false);

    private string FormatName => _options.Delimiter == '\t' ? "TSV" : "CSV";

    private TextRangeReads? _rangeReads;

    private TextRangeReads Ranges => _rangeReads ??= new TextRangeReads(_options, _path, FormatName);

    /// <inheritdoc />
    /// <remarks>Byte ranges of <see cref="SourceOptions.RangeBytes"/> (<see cref="TextRanges.Of"/>; see <see cref="ReadPartsAsync"/>).</remarks>
    public IReadOnlyList<long> Parts => Ranges.Parts;

    /// <inheritdoc />
    public IReadOnlyList<PartRead> PartsRead => Ranges.Reads;

    /// <summary>
    /// Counts what lies before byte <paramref name="position"/> (a range's first record), for an error found in the range:
    /// the line breaks (so the range's line 1 is line <c>Lines + 1</c>), the data rows (as the reader counts them: not the
    /// header or empty lines), and whether a quoted field is still open there (the range's start ended no record).
    /// Reads the file from its start: an error path only.
    /// </summary>
    internal (long Lines, long Rows, bool InQuotes) CountBefore(long position)
    {
        using var raw = _options.Files.Open(_path);
        var buffer = new byte[1 << 16];
        byte quote = (byte)_options.Quote;
        long lines = 0, records = 0, read = 0;
        bool inQuotes = false, lineHasData = false;
        while (read < position)
        {
            int n = raw.Read(buffer.AsSpan(0, (int)Math.Min(buffer.Length, position - read)));
            if (n == 0) break;
            foreach (byte b in buffer.AsSpan(0, n))
            {
                if (b == quote) inQuotes = !inQuotes;
                if (b == (byte)'\n')
                {
                    lines++;
                    if (!inQuotes)
                    {
                        if (lineHasData) records++;
                        lineHasData = false;
                    }
                    continue;
                }
                if (b != (byte)'\r') lineHasData = true;
            }
            read += n;
        }
        long rows = records - (_options.HasHeader && records > 0 ? 1 : 0);
        return (lines, rows, inQuotes);
    }

    /// <inheritdoc />
    /// <remarks>
    /// When a quoted field is still open at the range's start, the range's first "record" was the middle of a field: the
    /// error then says that this file cannot be divided at line breaks, whatever the reader found.
    /// </remarks>
    public DataFormatException InWholeInput(DataFormatException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        long start = Ranges.Start;
        if (start <= 0 || error.File != _path) return error;
        var (lines, rows, inQuotes) = CountBefore(start);
        if (inQuotes) return QuotedLineBreak(_path, start, error);
        return new DataFormatException(error.Problem, error.File, error.Line > 0 ? error.Line + lines : 0, error.Row > 0 ? error.Row + rows : 0, error.Column, error, error.Within);
    }

    /// <summary>The error of a scaled-out run whose byte range of a CSV file started inside a quoted field.</summary>
    internal static DataFormatException QuotedLineBreak(string path, long start, Exception? inner = null)
        => Throw.Format(
            $"a quoted field holds the line break at byte {start - 1:N0}, where a scaled-out run divided the file among its scan tasks (it divides a CSV file larger than --input-split-size, {SourceOptions.DefaultRangeBytes >> 20} MB by default, at line breaks); pass --input-split-size 0 to read each CSV file whole in one scan task",
            path, inner: inner);

    /// <summary>The CsvHelper options every CSV input is read with (the plain-row path's property test reads with them too).</summary>
    internal static CsvReaderOptions ReaderOptions(SourceOptions options, Encoding? encoding) => CsvReaderOptions.Default with
    {
        Separator = options.Delimiter,
        Quote = options.Quote,
        HasHeader = options.HasHeader,
        Encoding = encoding,
        MalformedData = CsvMalformedDataHandling.Throw,
        FieldCountMismatch = CsvFieldCountHandling.Allow,
        TrackLineNumbers = true,
        DetectSeparatorHint = false,
    };

    /// <inheritdoc />
    public ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_schema is not null) return ValueTask.FromResult(_schema);
        using var reader = CreateReader();
        string[] names;
        KindInference[] inference = [];
        int rows = 0;
        long sampled = 0;
        try
        {
            if (_options.HasHeader)
            {
                reader.ReadHeader();
                names = reader.Headers.ToArray();
                if (names.Length == 0 || (names.Length == 1 && names[0].Length == 0))
                {
                    throw Throw.Format("is empty; expected a header row followed by data rows (or --no-header and data rows)", _path);
                }
            }
            else
            {
                names = [];
            }
            while (rows < _options.InferRows && reader.Read())
            {
                if (rows == 0 && !_options.HasHeader) names = Enumerable.Range(0, reader.FieldCount).Select(i => $"c{i}").ToArray();
                // Where a byte range that starts before it starts (see TextRanges.OpenAtFirstLine).
                if (rows == 0) Ranges.FirstRecord = reader.ByteOffset;
                sampled += reader.RawRecord.Length + 1;
                // A ragged row is skipped when read (--on-bad-row); its fields say nothing about the columns' types.
                if (_options.BadRows is { Tolerates: true } && reader.FieldCount != names.Length) { rows++; continue; }
                CheckFieldCount(reader, names.Length, names);
                if (inference.Length == 0) inference = Enumerable.Range(0, names.Length).Select(_ => new KindInference { DecimalComma = _options.DecimalComma }).ToArray();
                for (int i = 0; i < names.Length; i++)
                {
                    var span = reader.GetSpan(i);
                    if (!IsNull(span)) inference[i].Observe(span, reader.LineNumber, rows + 1);
                }
                rows++;
            }
        }
        catch (CsvFormatException e)
        {
            throw Translate(e);
        }
        if (rows == 0)
        {
            throw _options.HasHeader
                ? Throw.Format($"has a header ({names.Length} columns) but no data rows; expected at least one data row", _path, line: 2)
                : Throw.Format("is empty; expected data rows", _path);
        }
        CheckNames(names);
        var fields = new Field[names.Length];
        foreach (var key in _options.ColumnTypes.Keys)
        {
            if (Array.IndexOf(names, key) < 0 && !(key.Length > 0 && int.TryParse(key, out int ix) && ix < names.Length))
            {
                throw new PipelineValidationException($"--column-type names column '{key}', which {_path} does not have (its columns: {string.Join(", ", names)}).");
            }
        }
        for (int i = 0; i < names.Length; i++)
        {
            var kind = _options.ColumnTypes.TryGetValue(names[i], out var k) ? k
                : _options.ColumnTypes.TryGetValue(i.ToString(System.Globalization.CultureInfo.InvariantCulture), out k) ? k
                : inference[i].Result;
            fields[i] = new Field(names[i], kind) { KindEvidence = kind == ColumnKind.String && !TypeSet(names[i], i) ? inference[i].TextEvidence(_path) : null };
        }
        _rowBytes = sampled / rows;
        _schema = new Schema(fields);
        return ValueTask.FromResult(_schema);
    }

    private long _rowBytes;

    /// <summary>Whether --column-type sets column <paramref name="i"/>'s kind (by name or 0-based index), rather than the sample inferring it.</summary>
    private bool TypeSet(int i) => TypeSet(_schema![i].Name, i);

    private bool TypeSet(string name, int i) => _options.ColumnTypes.ContainsKey(name)
        || _options.ColumnTypes.ContainsKey(i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <inheritdoc />
    public long RowBytes => _rowBytes;

    private static ReadOnlySpan<byte> StateTag => "csv-open-2"u8;

    /// <inheritdoc />
    /// <remarks>
    /// What the sample decided and the reads after it use: the columns' names and kinds, the mean row bytes, the first
    /// record's byte, and what the first read saw (gzip, the first bytes) for the byte-range rule.
    /// </remarks>
    public byte[] OpenedState => _schema is not { } schema
        ? throw new InvalidOperationException($"{_path} is not open.")
        : OpenedStates.Write(StateTag, w =>
        {
            w.Write(_rowBytes);
            Ranges.WriteState(w);
            w.Write(schema.Count);
            foreach (var f in schema.Fields)
            {
                w.Write(f.Name);
                w.Write((byte)f.Kind);
                w.Write(f.KindEvidence ?? "");
            }
        });

    /// <inheritdoc />
    public bool TryAdopt(ReadOnlySpan<byte> state) => _schema is null && OpenedStates.TryRead(state, StateTag, r =>
    {
        long rowBytes = r.ReadInt64();
        var ranges = new TextRangeReads(_options, _path, FormatName);
        if (!ranges.ReadState(r)) return null;
        var fields = new Field[r.ReadInt32()];
        for (int i = 0; i < fields.Length; i++)
        {
            string name = r.ReadString();
            var kind = (ColumnKind)r.ReadByte();
            if (!Enum.IsDefined(kind)) return null;
            string evidence = r.ReadString();
            fields[i] = new Field(name, kind) { KindEvidence = evidence.Length == 0 ? null : evidence };
        }
        if (fields.Length == 0) return null;
        return () => (_rowBytes, _rangeReads, _schema) = (rowBytes, ranges, new Schema(fields));
    });

    /// <inheritdoc />
    /// <remarks>Reads the file again up to the row (an error path only): quoted fields may span lines, so only the reader knows.</remarks>
    public (long Line, string? Within) LocateRow(long row)
    {
        try
        {
            // A read of a byte range numbers its rows and lines from the range's start (a scaled-out scan task adds the rest).
            long rangeStart = Ranges.Start;
            using var reader = rangeStart > 0 ? CreateReaderAt(rangeStart) : CreateReader();
            if (_options.HasHeader && rangeStart == 0) reader.ReadHeader();
            while (reader.Read())
            {
                if (reader.RowNumber == row) return (reader.LineNumber, null);
            }
        }
        catch (Exception e) when (e is DataPrepException or CsvFormatException or IOException)
        {
            // The location is a courtesy; the error being reported is the one that matters.
        }
        return (0, null);
    }

    private void CheckNames(string[] names)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            if (names[i].Length == 0)
            {
                throw Throw.Format($"header column {i} (0-based) has an empty name; expected a name for every column (or --no-header)", _path, line: 1);
            }
            if (!seen.TryAdd(names[i], i))
            {
                throw Throw.Format($"the header names column '{names[i]}' twice (columns {seen[names[i]]} and {i}, 0-based); expected unique column names. Rename one, or use --no-header to name columns c0, c1, …", _path, line: 1);
            }
        }
    }

    private bool IsNull(ReadOnlySpan<byte> span)
    {
        if (span.IsEmpty) return true;
        if (_nullValues.Count == 0 || span.Length > 32) return false;
        return _nullValues.Contains(Encoding.UTF8.GetString(span));
    }

    private void CheckFieldCount(CsvReader reader, int expected, string[] names)
    {
        if (reader.FieldCount != expected)
        {
            string what = _options.HasHeader ? $"the header's {expected}" : $"the first row's {expected}";
            throw Throw.Format(
                $"found {reader.FieldCount} fields, expected {what} (ragged row: {Throw.Quote(reader.RawRecord, 60)})",
                _path, reader.LineNumber, reader.RowNumber, reader.FieldCount > expected ? null : names.ElementAtOrDefault(reader.FieldCount));
        }
    }

    private DataFormatException Translate(CsvFormatException e) => Translate(e, header: _options.HasHeader);

    private DataFormatException Translate(CsvFormatException e, bool header)
    {
        string problem = e.Message.Contains("quote", StringComparison.OrdinalIgnoreCase)
            ? $"malformed quoting ({e.Message.TrimEnd('.')}); expected every quoted field to be closed by a matching {_options.Quote}"
            : $"malformed CSV ({e.Message.TrimEnd('.')})";
        return Throw.Format(problem, _path, e.LineNumber, e.RecordNumber > 0 ? e.RecordNumber - (header ? 1 : 0) : 0, inner: e);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, CancellationToken cancellationToken = default)
        => ReadCoreAsync(sourceIndex, -1, -1, 0, long.MaxValue, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// A large plain UTF-8 file is divided into byte ranges of <see cref="SourceOptions.RangeBytes"/> (see <see cref="Parts"/>).
    /// Parts [<paramref name="first"/>, <paramref name="end"/>) are the records that start in their bytes: a read from
    /// the middle of the file starts after the first line break at or after the range's first byte, and reads on past its
    /// last byte to the end of the record that started in it. That takes a line break at a range's start to end a record,
    /// which a quoted field holding a line break there breaks: the run then stops, where the plan step finds that a
    /// range's start is not where the range before it stopped (<see cref="PartsRead"/>). The rows' ids are those of a
    /// whole read (their records' byte positions); their source rows and lines count from the range's start, and a
    /// scaled-out run adds the rows of the ranges before it.
    /// </remarks>
    public IAsyncEnumerable<RecordBatch> ReadPartsAsync(int sourceIndex, int first, int end, CancellationToken cancellationToken = default)
    {
        if (Ranges.Bounds(first, end) is not var (from, to)) return ReadAsync(sourceIndex, cancellationToken);
        return ReadCoreAsync(sourceIndex, first, end, from, to, cancellationToken);
    }

    /// <summary>
    /// Reads the records that start at bytes [<paramref name="from"/>, <paramref name="to"/>) of the file (all of it: 0 and
    /// <see cref="long.MaxValue"/>), as parts [<paramref name="first"/>, <paramref name="end"/>) (−1: a whole read).
    /// </summary>
    private async IAsyncEnumerable<RecordBatch> ReadCoreAsync(int sourceIndex, int first, int end, long from, long to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var schema = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Where the reader's input starts in the file: 0, or the first record that starts in the range.
        long start = 0;
        // A range from the middle of the file: open at its first record (the reader below owns the stream).
        using var rangeText = from > 0 ? Ranges.OpenAt(first, end, from, out start) : null;
        // No line break after the range's start: no record starts there; the read before it reached the end.
        if (from > 0 && rangeText is null) yield break;
        int batchRows = _options.BatchRowsFor(_rowBytes);
        var names = schema.Fields.Select(f => f.Name).ToArray();
        // The output text of rows whose numbers need no formatting is kept for label-first CSV (see RawRecords).
        // A decimal comma keeps no row's text: its numbers are not written as the output writes them.
        bool keepRaw = _options.KeepRawRecords && !_options.DecimalComma;
        // ...and, for a float32 writer, each kept row's values as float32 beside its text, so no field is parsed twice.
        bool keepFloat32 = keepRaw && _options.KeepFloat32;
        // --on-bad-row skip|quarantine: a row that fails is noted in its batch and left out when the batch is built.
        var badRows = _options.BadRows is { Tolerates: true } log ? log : null;
        bool keepLines = badRows?.Policy == BadRowPolicy.Quarantine;
        // The plain-row path (see ParsePlainFields) reads UTF-8 records whose separator cannot be part of a number; 0: not used.
        byte plainSeparator = PlainSeparator(_options);
        // Float columns whose values nothing reads (features copied as text) are only checked while reading.
        var valueColumns = _options.ValueColumns.Select(schema.IndexOfSpec).ToHashSet();
        // When nothing reads those columns' doubles but as float32 (Float32OnlyColumns), a row whose values are all kept as
        // float32 keeps no text: the text would be read by nothing, and its blocks were most of the run's fresh memory.
        var float32Only = keepFloat32 ? _options.Float32Only : null;
        bool imageOnly = float32Only?.Names is { } readAsFloat32
            && Enumerable.Range(0, schema.Count).All(i => schema[i].Kind != ColumnKind.Float64 || valueColumns.Contains(i) || readAsFloat32.Contains(schema[i].Name));
        // A run whose split is expected to spill keeps float32 values only as rows' sole values; when its columns do not
        // allow that, it keeps nothing and parses each field into its value.
        if (_options.Float32AloneOnly && !imageOnly) keepRaw = keepFloat32 = false;
        var buffers = new BatchBuffers(() => new BatchBuilders(schema.Fields.Select((f, i) => ColumnBuilder.Create(f.Kind, batchRows, _options.NonFinite, textOnly: keepRaw && !valueColumns.Contains(i), exactIntegers: !TypeSet(i), decimalComma: _options.DecimalComma)).ToArray(), keepRaw ? new ReadOnlyMemory<byte>[batchRows] : null)
        {
            Float32 = keepFloat32 ? new ReadOnlyMemory<byte>[batchRows] : null,
            Positions = new long[batchRows],
            Lines = keepLines ? new long[batchRows] : null,
            Texts = keepLines ? new string?[batchRows] : null,
        });

        long firstRecord = long.MaxValue;
        // The line numbers the read gives its first record and the next range's first (PartRead.StartLine, StopLine).
        long firstLine = 0, firstStopRow = long.MaxValue, stopLine = 0;
        var stopGate = new Lock();

        // Runs on parser threads: each row is written by exactly one thread into its batch's buffers.
        long ParseRow(CsvReader r)
        {
            long row = r.RowNumber;
            int batch = (int)((row - 1) / batchRows);
            int at = (int)((row - 1) % batchRows);
            var batchBuilders = buffers.For(batch);
            // The row's id is made from its record's byte position, which a reader of a byte range knows too (RowInfo.AtPositions).
            long position = start + r.ByteOffset + 1;
            // Where the read's first record starts (empty lines skipped), which the read before it must have stopped at.
            if (row == 1)
            {
                firstRecord = position - 1;
                firstLine = r.LineNumber;
            }
            if (position - 1 >= to)
            {
                // The first record of the next range: not read here (its errors are the next range's); where this one stops.
                batchBuilders.Positions![at] = position;
                lock (stopGate)
                {
                    // Parser threads may reach later records too: the earliest one is the next range's first.
                    if (row < firstStopRow) (firstStopRow, stopLine) = (row, r.LineNumber);
                }
                return -row;
            }
            if (position > RowInfo.MaxPosition) throw Throw.Format($"is larger than {RowInfo.MaxPosition + 1:N0} bytes (1 TiB) as text; DataPrep reads CSV files of at most 1 TiB: split the file", _path, r.LineNumber, row);
            batchBuilders.Positions![at] = position;
            if (batchBuilders.Lines is { } lines) lines[at] = r.LineNumber;
            if (badRows is not null)
            {
                try
                {
                    ParseFields(r, row, at, batchBuilders);
                    // A row with a missing value may be skipped later (--missing error): keep its text for the quarantine.
                    if (batchBuilders.Texts is { } texts && ColumnBuilder.AnyNull(batchBuilders.Columns, at)) texts[at] = Encoding.UTF8.GetString(r.RawRecord);
                    return row;
                }
                catch (DataFormatException e)
                {
                    int c = e.Column is null ? -1 : Array.IndexOf(names, e.Column);
                    string cause = r.FieldCount != names.Length ? BadRowCause.Ragged
                        : c >= 0 && ValueParser.NonFiniteProblem(r.GetSpan(c), schema[c].Kind) is not null ? BadRowCause.NonFinite
                        : BadRowCause.NotOfType;
                    batchBuilders.AddBad(at, cause, e, Encoding.UTF8.GetString(r.RawRecord));
                    return row;
                }
            }
            return ParseFields(r, row, at, batchBuilders);
        }

        // No zeroing of the row's stackalloc'd quotients: ParsePlainFields writes each before it reads it.
        [SkipLocalsInit]
        long ParseFields(CsvReader r, long row, int at, BatchBuilders batchBuilders)
        {
            CheckFieldCount(r, names.Length, names);
            var builders = batchBuilders.Columns;
            bool canonical = batchBuilders.Raw is not null;
            // The row's output text is copied field by field as each is checked, into this thread's block after its
            // used part; it only counts as used once the whole row is copyable (a failing field just stops the copy).
            byte[] block = canonical ? RawText.Block() : [];
            // With float32 values kept, the row's block space holds them first (4 bytes a field), then its text at start.
            int image = canonical && batchBuilders.Float32 is not null ? 4 * builders.Length : 0;
            int start = canonical ? RawText.Used + image : 0, pos = 0;
            if (start > block.Length)
            {
                block = RawText.Grow(block, RawText.Used, 0, image);
                start = image;
            }
            bool imageOk = image > 0;
            int c = 0;
            // Leading fields that are plain copyable numbers are found, checked and copied straight from the record's text.
            // With float32 values kept, each field's digits and power of ten wait here for one division pass (see ParsePlainFields).
            Span<double> quotients = image > 0 && builders.Length <= MaxDeferredColumns ? stackalloc double[2 * builders.Length] : default;
            if (canonical && plainSeparator != 0) c = ParsePlainFields(r.RawRecord, plainSeparator, at, builders, ref block, ref start, ref pos, image, ref imageOk, quotients);
            for (; c < builders.Length; c++)
            {
                var span = r.GetSpan(c);
                if (canonical)
                {
                    // Numbers written as we would write them are parsed and measured in one pass.
                    int length;
                    double value = 0;
                    if (image > 0 ? builders[c].TrySetCopyable(at, span, out length, out value) : builders[c].TrySetCopyable(at, span, out length))
                    {
                        if (image > 0) imageOk &= PutFloat32(block.AsSpan(start - image + 4 * c, 4), value);
                        if (start + pos + length + 1 > block.Length)
                        {
                            block = RawText.Grow(block, start - image, image + pos, length + 1);
                            start = image;
                        }
                        if (c > 0) block[start + pos++] = (byte)',';
                        RawText.CopySmall(span[..length], block.AsSpan(start + pos, length));
                        pos += length;
                        continue;
                    }
                }
                if (IsNull(span))
                {
                    builders[c].SetNull(at);
                    if (canonical) Backfill(r, at, builders, c);
                    canonical = false;
                }
                else if (!builders[c].TrySet(at, r, c))
                {
                    if (ValueParser.NonFiniteProblem(span, schema[c].Kind) is { } problem) throw Throw.Format(problem, _path, r.LineNumber, row, names[c]);
                    if (!TypeSet(c) && ValueParser.InexactIntegerProblem(span, schema[c].Kind, names[c]) is { } inexact) throw Throw.Format(inexact, _path, r.LineNumber, row, names[c]);
                    throw Throw.Format(
                        $"found {Throw.Quote(span)}, expected {builders[c].Expected} because "
                        + (TypeSet(c) ? $"--column-type sets the column to {schema[c].Kind}" : $"the column is {schema[c].Kind} (inferred from the first rows)")
                        + "; override with --column-type " + names[c] + "=string, or fix the value",
                        _path, r.LineNumber, row, names[c]);
                }
                else if (canonical)
                {
                    // Text the writer would write differently ("0.0000123" → "1.23E-05"): the value is written as the
                    // writer writes it, here, while the row is in cache, so the row still keeps its output text and
                    // the writer never gathers its values (a row with one such field was formatted whole before).
                    if (start + pos + ColumnBuilder.MaxTextLength + 1 > block.Length)
                    {
                        block = RawText.Grow(block, start - image, image + pos, ColumnBuilder.MaxTextLength + 1);
                        start = image;
                    }
                    int sep = c > 0 ? 1 : 0;
                    if (builders[c].TryWriteText(at, block.AsSpan(start + pos + sep, ColumnBuilder.MaxTextLength), out int written))
                    {
                        if (sep == 1) block[start + pos] = (byte)',';
                        pos += sep + written;
                        if (image > 0) imageOk &= builders[c].TryGetNumber(at, out double number) && PutFloat32(block.AsSpan(start - image + 4 * c, 4), number);
                    }
                    else
                    {
                        Backfill(r, at, builders, c);
                        canonical = false;
                    }
                }
            }
            if (canonical)
            {
                // A row kept as float32 alone gives its text's room to the next row.
                if (imageOk && imageOnly) batchBuilders.Float32![at] = RawText.Commit(block, start - image, image);
                else
                {
                    batchBuilders.Raw![at] = RawText.Commit(block, start, pos);
                    if (imageOk) batchBuilders.Float32![at] = block.AsMemory(start - image, image);
                }
            }
            return row;
        }

        // The row keeps no text after all: the fields before column c that were only checked get their values now.
        static void Backfill(CsvReader r, int at, ColumnBuilder[] builders, int c)
        {
            for (int j = 0; j < c; j++) builders[j].Backfill(at, r.GetSpan(j));
        }

        using var reader = rangeText is null ? CreateReader() : CreateReaderAt(rangeText);
        IEnumerable<long> rows;
        try
        {
            if (_options.HasHeader && start == 0) reader.ReadHeader();
        }
        catch (CsvFormatException e)
        {
            throw Translate(e);
        }
        int threads = _options.EffectiveThreads;
        rows = threads <= 1 ? Sequential(reader, ParseRow) : reader.ParallelEnumerate(ParseRow, threads);
        using var results = rows.GetEnumerator();
        long last = 0, stop = long.MaxValue;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool more;
            try
            {
                more = results.MoveNext();
            }
            catch (CsvFormatException ex)
            {
                throw Translate(ex, header: _options.HasHeader && start == 0);
            }
            if (more)
            {
                long got = results.Current;
                if (got < 0)
                {
                    // The next range's first record: this read stops before it, at its byte.
                    long stopRow = -got;
                    stop = buffers.For((int)((stopRow - 1) / batchRows)).Positions![(int)((stopRow - 1) % batchRows)] - 1;
                    more = false;
                }
                else
                {
                    last = got;
                }
            }
            // A batch is complete when its last row has come back (results arrive in input order).
            bool batchDone = more ? last % batchRows == 0 : last % batchRows != 0;
            if (!batchDone) { if (!more) break; continue; }
            int batch = (int)((last - 1) / batchRows);
            int count = (int)(last - (long)batch * batchRows);
            var builders = buffers.Take(batch);
            var raw = builders.Raw is { } kept && (Array.Exists(kept, m => !m.IsEmpty) || (builders.Float32 is { } image && Array.Exists(image, m => !m.IsEmpty))) ? kept : null;
            var float32 = raw is null ? null : builders.Float32;
            if (raw is not null && raw.Length != count) Array.Resize(ref raw, count);
            if (float32 is not null && float32.Length != count) Array.Resize(ref float32, count);
            if (imageOnly && float32 is not null) float32Only!.CountRowsWithoutText(CountWithoutText(raw!, float32));
            var built = Build(schema, builders.Columns, count, sourceIndex, (long)batch * batchRows, raw, float32, builders.Positions.AsSpan(0, count));
            if (builders.Lines is { } lineNumbers)
            {
                var texts = builders.Texts!;
                built = built.WithRows(built.Rows with { Lines = lineNumbers.Length == count ? lineNumbers : lineNumbers[..count], Texts = texts.Length == count ? texts : texts[..count] });
            }
            if (raw is not null) built = new RecordBatch(built.Schema, built.Columns, count, built.Rows) { Raw = new RawRecords(names, raw, float32) };
            if (builders.Bad is { Count: > 0 } bad) built = badRows!.Skip(built, bad);
            if (built.RowCount == 0) { if (!more) break; continue; }
            yield return built;
            if (!more) break;
        }
        if (first >= 0)
        {
            lock (stopGate) Ranges.Add(new PartRead(first, end, Volatile.Read(ref firstRecord), stop, last, Volatile.Read(ref firstLine), stop == long.MaxValue ? 0 : stopLine));
        }
    }

    /// <summary>The widest row whose float32 values are divided in one pass (two doubles a column on the stack: 4 KiB).</summary>
    private const int MaxDeferredColumns = 256;

    /// <summary>
    /// The value as a float32 writer writes it ((float) of the double, as RecordIOProtobufFormat's ToFloat32): false when
    /// that is not the value itself (beyond float32's range, or a non-zero rounded to zero), so the row is read from its text.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PutFloat32(Span<byte> slot, double value)
    {
        float f = (float)value;
        BinaryPrimitives.WriteSingleLittleEndian(slot, f);
        return !float.IsInfinity(f) && (f != 0 || value == 0);
    }

    /// <summary>
    /// The separator of the plain-row path as a byte, or 0 when the path is not used: it needs 16-byte vectors, input read as
    /// UTF-8 (no --encoding), and an ASCII separator that is neither the quote nor a character of a number.
    /// </summary>
    internal static byte PlainSeparator(SourceOptions options)
    {
        char d = options.Delimiter;
        if (!Ssse3.IsSupported || options.Encoding is not null || options.DecimalComma || d >= 0x80 || d == options.Quote || char.IsAsciiDigit(d) || d is '.' or '-' or '\r' or '\n' or '\0') return 0;
        return (byte)d;
    }

    /// <summary>
    /// The field of <paramref name="record"/> (a record's raw text, without its line break) that starts at byte
    /// <paramref name="at"/>, when it is plain: followed by <paramref name="separator"/> within 16 bytes, or, for the
    /// record's <paramref name="last"/> field, 1–16 bytes to the record's end without a separator. Gives its length and
    /// its bytes loaded in <paramref name="loaded"/> (then anything); false otherwise.
    /// </summary>
    /// <remarks>
    /// Only used on fields that are then accepted as copyable numbers (digits, at most one point, a leading minus), after
    /// fields that all were: such text holds no quote, escape, whitespace or line break, so CsvHelper reads the field as
    /// exactly these bytes (property-tested against <see cref="CsvReader.GetSpan(int)"/>). Anything else falls back to
    /// CsvHelper's own fields.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryPlainField(ReadOnlySpan<byte> record, int at, byte separator, bool last, out Vector128<byte> loaded, out int length)
    {
        loaded = PlainField(record, at, separator, last, out length);
        return length > 0;
    }

    /// <summary>
    /// <see cref="TryPlainField"/> with the loaded bytes returned and a <paramref name="length"/> of 0 for "not plain": the
    /// plain-row path's form, whose vector stays in a register (as an <c>out</c> argument it went through the stack, a
    /// store and a reload on every field).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> PlainField(ReadOnlySpan<byte> record, int at, byte separator, bool last, out int length)
        => PlainField(record, at, Vector128.Create(separator), last, out length);

    /// <summary><see cref="PlainField(ReadOnlySpan{byte}, int, byte, bool, out int)"/> with the separator in every byte, made once a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> PlainField(ReadOnlySpan<byte> record, int at, Vector128<byte> separator, bool last, out int length)
    {
        int remaining = record.Length - at;
        length = 0;
        if (remaining <= 0) return default;
        ref byte start = ref Unsafe.Add(ref MemoryMarshal.GetReference(record), at);
        // A full load stays inside the record; a shorter one reads only the bytes left (then zeros).
        var loaded = remaining >= 16 ? Vector128.LoadUnsafe(ref start) : CanonicalNumber.Load16(ref start, remaining);
        uint ends = Vector128.Equals(loaded, separator).ExtractMostSignificantBits();
        if (remaining < 16) ends &= (1u << remaining) - 1;
        if (last)
        {
            if (ends == 0 && remaining <= 16) length = remaining;
            return loaded;
        }
        // An empty field (separator first) gives 0 as well: not plain.
        if (ends != 0) length = BitOperations.TrailingZeroCount(ends);
        return loaded;
    }

    /// <summary>
    /// The plain-row path of the reader's row parse: the leading fields of <paramref name="record"/> that are plain
    /// (<see cref="TryPlainField"/>) and copyable are set, checked and appended to the row's kept text (and float32 image)
    /// from one 16-byte load each, without asking CsvHelper for the field; returns the first column it did not take
    /// (all of them for a row of plain numbers), from which the general loop goes on with CsvHelper's fields.
    /// </summary>
    /// <remarks>
    /// With <paramref name="quotients"/> (2 doubles a column), the float32 values of the fields taken are not computed one
    /// by one: each field leaves its digits and power of ten there, and one vectorised pass after the loop divides them all
    /// and rounds to float32 (<see cref="PutFloat32Quotients"/>). A division per field in the loop held each field's
    /// instructions until it finished (13 % of the RecordIO run's samples sat on it), so fewer fields were in flight.
    /// </remarks>
    private static int ParsePlainFields(ReadOnlySpan<byte> record, byte separator, int at, ColumnBuilder[] builders, ref byte[] block, ref int start, ref int pos, int image, ref bool imageOk, Span<double> quotients)
    {
        int last = builders.Length - 1, p = 0, c = 0;
        int columns = builders.Length;
        var separators = Vector128.Create(separator);
        bool deferred = image > 0 && quotients.Length >= 2 * columns;
        for (; c <= last; c++)
        {
            var loaded = PlainField(record, p, separators, c == last, out int n);
            if (n == 0) break;
            // A text-only float column (every feature of W1) is checked here, inlined, so the loaded bytes stay in a register;
            // other columns through their builder.
            int length;
            double value;
            bool copyable;
            bool textOnlyFloat = builders[c] is ColumnBuilder.Float64Builder { TextOnly: true };
            if (textOnlyFloat)
            {
                if (deferred)
                {
                    // Copyable text is 0 or at least 1e-4 in magnitude, and below 1e15: float32 holds it as itself, so the
                    // check of PutFloat32 cannot fail here and is left out.
                    copyable = CanonicalNumber.TryCopyableLoadedQuotient(loaded, n, out quotients[c], out quotients[columns + c], out length);
                    value = 0;
                }
                else
                {
                    copyable = image > 0
                        ? CanonicalNumber.TryCopyableLoaded(loaded, n, computeValue: true, out value, out length)
                        : CanonicalNumber.TryCopyableLoaded(loaded, n, computeValue: false, out value, out length);
                }
            }
            else
            {
                copyable = builders[c].TrySetCopyableLoaded(at, record.Slice(p, n), loaded, image > 0, out length, out value);
                if (deferred)
                {
                    // value / 1 is value: the pass after the loop writes the same float32 as PutFloat32 here.
                    quotients[c] = value;
                    quotients[columns + c] = 1;
                }
            }
            if (!copyable) break;
            // The 16 loaded bytes are stored whole: those past the kept length are overwritten by the next field or row.
            if (start + pos + 17 > block.Length)
            {
                block = RawText.Grow(block, start - image, image + pos, 17);
                start = image;
            }
            if (c > 0) block[start + pos++] = (byte)',';
            loaded.StoreUnsafe(ref block[start + pos]);
            pos += length;
            if (image > 0 && !(deferred && textOnlyFloat)) imageOk &= PutFloat32(block.AsSpan(start - image + 4 * c, 4), value);
            p += n + 1;
        }
        if (deferred && c > 0) PutFloat32Quotients(quotients[..c], quotients.Slice(columns, c), block.AsSpan(start - image, 4 * c));
        return c;
    }

    /// <summary>
    /// Writes <c>(float)(mantissas[i] / scales[i])</c> as little-endian float32 into <paramref name="destination"/>, two
    /// divisions and four roundings to float32 per vector instruction: IEEE division and rounding per lane, so the same
    /// bits as the scalar <c>(float)(m / s)</c> (property-tested).
    /// </summary>
    internal static void PutFloat32Quotients(ReadOnlySpan<double> mantissas, ReadOnlySpan<double> scales, Span<byte> destination)
    {
        int count = mantissas.Length, i = 0;
        if (count > scales.Length || 4 * count > destination.Length) throw new ArgumentOutOfRangeException(nameof(destination));
        ref double m = ref MemoryMarshal.GetReference(mantissas);
        ref double s = ref MemoryMarshal.GetReference(scales);
        ref byte d = ref MemoryMarshal.GetReference(destination);
        if (Vector128.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            for (; i + 4 <= count; i += 4)
            {
                var low = Vector128.LoadUnsafe(ref m, (nuint)i) / Vector128.LoadUnsafe(ref s, (nuint)i);
                var high = Vector128.LoadUnsafe(ref m, (nuint)i + 2) / Vector128.LoadUnsafe(ref s, (nuint)i + 2);
                Vector128.Narrow(low, high).AsByte().StoreUnsafe(ref d, (nuint)(4 * i));
            }
        }
        for (; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(destination.Slice(4 * i, 4), (float)(Unsafe.Add(ref m, i) / Unsafe.Add(ref s, i)));
    }

    /// <summary>
    /// The column buffers of the batches being parsed, by batch number. Parser threads look them up once per
    /// row: the lookup reads a published array without locking (a per-row lock was most of the parse time
    /// with two threads, spinning on each other); only creating a batch's buffers takes the lock.
    /// </summary>
    private sealed class BatchBuffers(Func<BatchBuilders> create)
    {
        private readonly Lock _gate = new();
        private BatchBuilders?[] _slots = new BatchBuilders?[16];

        public BatchBuilders For(int batch)
        {
            var slots = Volatile.Read(ref _slots);
            if (batch < slots.Length && Volatile.Read(ref slots[batch]) is { } found) return found;
            lock (_gate)
            {
                if (batch >= _slots.Length)
                {
                    var grown = new BatchBuilders?[Math.Max(batch + 1, _slots.Length * 2)];
                    _slots.CopyTo(grown, 0);
                    Volatile.Write(ref _slots, grown);
                }
                var slot = _slots[batch];
                if (slot is null) Volatile.Write(ref _slots[batch], slot = create());
                return slot;
            }
        }

        /// <summary>The finished batch's buffers, forgotten here so they can be collected once the batch is.</summary>
        public BatchBuilders Take(int batch)
        {
            var builders = For(batch);
            lock (_gate) _slots[batch] = null;
            return builders;
        }
    }

    /// <summary>A batch's column buffers, and its rows' text when it is kept.</summary>
    private sealed record BatchBuilders(ColumnBuilder[] Columns, ReadOnlyMemory<byte>[]? Raw)
    {
        /// <summary>Each kept row's values as float32 (<see cref="SourceOptions.KeepFloat32"/>), in its text's block; else null.</summary>
        public ReadOnlyMemory<byte>[]? Float32 { get; init; }

        /// <summary>Each row's record's 1-based byte position, from which its id is made (<see cref="RowInfo.AtPositions"/>).</summary>
        public long[]? Positions { get; init; }
        /// <summary>Each row's line (under --on-bad-row quarantine), so a stage that skips a row can name it.</summary>
        public long[]? Lines { get; init; }

        /// <summary>The text of each row with a missing value (under --on-bad-row quarantine), for a stage that skips it.</summary>
        public string?[]? Texts { get; init; }

        /// <summary>The rows that failed (--on-bad-row skip|quarantine), in the order parser threads found them.</summary>
        public List<BadRow>? Bad { get; private set; }

        public void AddBad(int at, string cause, DataFormatException error, string? text)
        {
            lock (this) (Bad ??= []).Add(new BadRow(at, cause, error, text));
        }
    }

    /// <summary>Holds rows' output text (their fields' copyable text joined by commas) in per-thread 1 MiB blocks.</summary>
    private static class RawText
    {
        private const int BlockSize = 1 << 20;

        [ThreadStatic] private static byte[]? t_block;
        [ThreadStatic] private static int t_used;

        /// <summary>This thread's current block; its bytes from <see cref="Used"/> on are free.</summary>
        public static byte[] Block() => t_block ??= GC.AllocateUninitializedArray<byte>(BlockSize);

        /// <summary>How many bytes of this thread's block hold rows' text.</summary>
        public static int Used => t_used;

        /// <summary>
        /// A new block for this thread holding the <paramref name="length"/> bytes of the row begun at <paramref name="start"/>
        /// of <paramref name="block"/>, with room for <paramref name="more"/> bytes after them; the row then starts at 0.
        /// </summary>
        public static byte[] Grow(byte[] block, int start, int length, int more)
        {
            var grown = GC.AllocateUninitializedArray<byte>(Math.Max(BlockSize, 2 * (length + more)));
            block.AsSpan(start, length).CopyTo(grown);
            t_block = grown;
            t_used = 0;
            return grown;
        }

        /// <summary>Marks the row's <paramref name="length"/> bytes at <paramref name="start"/> of this thread's block used, and gives them.</summary>
        public static ReadOnlyMemory<byte> Commit(byte[] block, int start, int length)
        {
            t_used = start + length;
            return block.AsMemory(start, length);
        }

        /// <summary>Copies a few bytes with two overlapping word moves instead of a memmove call (fields are short).</summary>
        public static void CopySmall(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            int n = source.Length;
            ref byte s = ref MemoryMarshal.GetReference(source);
            ref byte d = ref MemoryMarshal.GetReference(destination);
            if (n >= 8 && n <= 16)
            {
                Unsafe.WriteUnaligned(ref d, Unsafe.ReadUnaligned<ulong>(ref s));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, n - 8), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref s, n - 8)));
            }
            else if (n >= 4 && n < 8)
            {
                Unsafe.WriteUnaligned(ref d, Unsafe.ReadUnaligned<uint>(ref s));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, n - 4), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref s, n - 4)));
            }
            else if (n < 4)
            {
                for (int i = 0; i < n; i++) Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i);
            }
            else
            {
                source.CopyTo(destination);
            }
        }
    }

    private static IEnumerable<long> Sequential(CsvReader reader, Func<CsvReader, long> parse)
    {
        while (reader.Read()) yield return parse(reader);
    }

    /// <summary>Rows kept as float32 alone: a float32 image and no text.</summary>
    private static int CountWithoutText(ReadOnlyMemory<byte>[] raw, ReadOnlyMemory<byte>[] float32)
    {
        int rows = 0;
        for (int r = 0; r < raw.Length; r++) if (raw[r].IsEmpty && !float32[r].IsEmpty) rows++;
        return rows;
    }

    /// <summary>A batch of the builders' first <paramref name="count"/> rows; ids from <paramref name="positions"/> (CSV: <see cref="RowInfo.AtPositions"/>), else from row ordinals.</summary>
    internal static RecordBatch Build(Schema schema, ColumnBuilder[] builders, int count, int sourceIndex, long firstRowOrdinal, ReadOnlyMemory<byte>[]? raw = null, ReadOnlyMemory<byte>[]? float32 = null, ReadOnlySpan<long> positions = default)
    {
        var cols = new Column[builders.Length];
        var kept = raw is null ? null : new KeptTextValues(raw, float32, count);
        for (int c = 0; c < cols.Length; c++) cols[c] = builders[c].Build(count, kept, c);
        var rows = positions.Length == count && count > 0 ? RowInfo.AtPositions(sourceIndex, firstRowOrdinal, positions) : RowInfo.Sequential(sourceIndex, firstRowOrdinal, count);
        return new RecordBatch(schema, cols, count, rows);
    }
}
