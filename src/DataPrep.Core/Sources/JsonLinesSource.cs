using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DataPrep.Data;
using DataPrep.Pipeline;
using TextEncoding = System.Text.Encoding;

namespace DataPrep.Sources;

/// <summary>
/// Reads JSON Lines (one JSON object per line, plain or .gz) with <see cref="Utf8JsonReader"/> straight
/// into column buffers: the columns are the keys of the first object plus keys first seen later within
/// the first <see cref="SourceOptions.InferRows"/> objects, typed by inference over those objects with
/// per-column overrides. Missing keys and JSON null are missing values; nested objects and arrays are
/// rejected. Lines are read one at a time from a pooled buffer, so files of any size stream.
/// </summary>
/// <remarks>
/// Type inference: JSON numbers become Int64 when every sampled value is an integer, else Float64;
/// true/false become Boolean; strings are inferred like CSV text (ISO dates become Timestamp, digits
/// Int64, …, else String). A column whose samples mix kinds is inferred over the text of all of them
/// (so 1 and "abc" make a String column holding "1" and "abc"). The empty string and
/// <see cref="SourceOptions.NullValues"/> are missing values, as in CSV.
/// </remarks>
public sealed class JsonLinesSource : IRecordSource, ISharedOpen
{
    private readonly string _path;
    private readonly SourceOptions _options;
    private Schema? _schema;
    private bool[] _overridden = [];
    private long _inferredRows;

    /// <summary>Creates a source for one file (plain or .gz).</summary>
    public JsonLinesSource(string path, SourceOptions? options = null)
    {
        _path = path;
        _options = options ?? new SourceOptions();
    }

    /// <inheritdoc />
    public string Description => _path;

    /// <summary>The options.</summary>
    public SourceOptions Options => _options;

    private long _rowBytes;

    /// <inheritdoc />
    public long RowBytes => _rowBytes;

    /// <inheritdoc />
    public ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_schema is not null) return ValueTask.FromResult(_schema);
        var parser = new RowParser(this, schema: null);
        long rows = 0, lastLine = 0, sampled = 0;
        int limit = Math.Max(1, _options.InferRows);
        using (var lines = OpenLines())
        {
            while (rows < limit && lines.TryReadLine(out var line))
            {
                if (IsBlank(line)) continue;
                // Where a byte range that starts before it starts (see TextRanges.OpenAtFirstLine).
                if (rows == 0) Ranges.FirstRecord = lines.LineStart;
                rows++;
                sampled += line.Length + 1;
                lastLine = lines.LineNumber;
                try
                {
                    parser.Parse(line, lines.LineNumber, rows, builders: null, at: 0);
                }
                catch (DataFormatException) when (_options.BadRows is { Tolerates: true })
                {
                    // Skipped when read (--on-bad-row); the sample goes on without it.
                }
                if ((rows & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
            }
        }
        if (rows == 0) throw Throw.Format("is empty; expected JSON objects, one per line", _path);
        var names = parser.Names;
        if (names.Count == 0)
        {
            throw Throw.Format(
                $"has only empty objects in its first {rows} rows (through line {lastLine}); expected objects with at least one key, e.g. {{\"id\": 1, \"label\": \"a\"}}",
                _path);
        }
        foreach (var key in _options.ColumnTypes.Keys)
        {
            if (!names.Contains(key) && !(key.Length > 0 && int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int ix) && ix < names.Count))
            {
                throw new PipelineValidationException($"--column-type names column '{key}', which {_path} does not have (its keys: {ListNames(names, 50)}).");
            }
        }
        var fields = new Field[names.Count];
        _overridden = new bool[names.Count];
        for (int i = 0; i < fields.Length; i++)
        {
            ColumnKind kind;
            if (_options.ColumnTypes.TryGetValue(names[i], out var k) || _options.ColumnTypes.TryGetValue(i.ToString(CultureInfo.InvariantCulture), out k))
            {
                if (k is ColumnKind.Sparse or ColumnKind.Binary)
                {
                    throw new PipelineValidationException($"--column-type sets column '{names[i]}' of {_path} to {k}, which JSON Lines values cannot hold; expected float64, int64, boolean, string or timestamp.");
                }
                kind = k;
                _overridden[i] = true;
            }
            else
            {
                // A JSON string stays text ("02134" keeps its zero) unless every value is a date or time.
                var inferred = ValueParser.Infer(parser.Samples[i]);
                kind = parser.SawString(i) && inferred is not (ColumnKind.Timestamp or ColumnKind.String) ? ColumnKind.String : inferred;
                fields[i] = new Field(names[i], kind) { KindEvidence = kind == ColumnKind.String ? parser.TextEvidence(i, inferred) : null };
                continue;
            }
            fields[i] = new Field(names[i], kind);
        }
        _inferredRows = rows;
        _rowBytes = sampled / rows;
        _schema = new Schema(fields);
        return ValueTask.FromResult(_schema);
    }

    private TextRangeReads? _rangeReads;

    private TextRangeReads Ranges => _rangeReads ??= new TextRangeReads(_options, _path, "JSON Lines");

    private static ReadOnlySpan<byte> StateTag => "jsonl-open-2"u8;

    /// <inheritdoc />
    /// <remarks>
    /// What the sample decided and the reads after it use: the mean row bytes, the range rule's first record and first
    /// bytes, the rows inferred from (for messages), and each column's name, kind, whether --column-type set it and why
    /// it is text (<see cref="Field.KindEvidence"/>).
    /// </remarks>
    public byte[] OpenedState => _schema is not { } schema
        ? throw new InvalidOperationException($"{_path} is not open.")
        : OpenedStates.Write(StateTag, w =>
        {
            w.Write(_rowBytes);
            Ranges.WriteState(w);
            w.Write(_inferredRows);
            w.Write(schema.Count);
            for (int i = 0; i < schema.Count; i++)
            {
                w.Write(schema[i].Name);
                w.Write((byte)schema[i].Kind);
                w.Write(_overridden[i]);
                w.Write(schema[i].KindEvidence ?? "");
            }
        });

    /// <inheritdoc />
    public bool TryAdopt(ReadOnlySpan<byte> state) => _schema is null && OpenedStates.TryRead(state, StateTag, r =>
    {
        long rowBytes = r.ReadInt64();
        var ranges = new TextRangeReads(_options, _path, "JSON Lines");
        if (!ranges.ReadState(r)) return null;
        long inferredRows = r.ReadInt64();
        var fields = new Field[r.ReadInt32()];
        var overridden = new bool[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            string name = r.ReadString();
            var kind = (ColumnKind)r.ReadByte();
            if (!Enum.IsDefined(kind)) return null;
            overridden[i] = r.ReadBoolean();
            string evidence = r.ReadString();
            fields[i] = new Field(name, kind) { KindEvidence = evidence.Length == 0 ? null : evidence };
        }
        if (fields.Length == 0 || inferredRows < 1) return null;
        return () => (_rowBytes, _rangeReads, _inferredRows, _overridden, _schema) = (rowBytes, ranges, inferredRows, overridden, new Schema(fields));
    });

    /// <inheritdoc />
    /// <remarks>Byte ranges of <see cref="SourceOptions.RangeBytes"/> (<see cref="TextRanges.Of"/>; see <see cref="ReadPartsAsync"/>).</remarks>
    public IReadOnlyList<long> Parts => Ranges.Parts;

    /// <inheritdoc />
    public IReadOnlyList<PartRead> PartsRead => Ranges.Reads;

    /// <inheritdoc />
    public IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, CancellationToken cancellationToken = default)
        => ReadCoreAsync(sourceIndex, -1, -1, 0, long.MaxValue, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// A large plain UTF-8 file is divided into byte ranges of <see cref="SourceOptions.RangeBytes"/> (see <see cref="Parts"/>).
    /// Parts [<paramref name="first"/>, <paramref name="end"/>) are the lines that start in their bytes: a read from the
    /// middle of the file starts after the first line break at or after the range's first byte, and reads on past its last
    /// byte to the end of the line that started in it. A JSON string cannot hold a raw line break, so every line break
    /// ends a record and consecutive reads always meet. The rows' ids are those of a whole read (their lines' byte
    /// positions); their source rows and lines count from the range's start, and a scaled-out run adds the rows of the
    /// ranges before it.
    /// </remarks>
    public IAsyncEnumerable<RecordBatch> ReadPartsAsync(int sourceIndex, int first, int end, CancellationToken cancellationToken = default)
    {
        if (Ranges.Bounds(first, end) is not var (from, to)) return ReadAsync(sourceIndex, cancellationToken);
        return ReadCoreAsync(sourceIndex, first, end, from, to, cancellationToken);
    }

    /// <summary>
    /// Reads the lines that start at bytes [<paramref name="from"/>, <paramref name="to"/>) of the file (all of it: 0 and
    /// <see cref="long.MaxValue"/>), as parts [<paramref name="first"/>, <paramref name="end"/>) (−1: a whole read).
    /// </summary>
    private async IAsyncEnumerable<RecordBatch> ReadCoreAsync(int sourceIndex, int first, int end, long from, long to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var schema = await OpenAsync(cancellationToken).ConfigureAwait(false);
        long start = 0;
        // A range from the middle of the file: open at its first line (the line reader below owns the stream).
        using var rangeText = from > 0 ? Ranges.OpenAt(first, end, from, out start) : null;
        // No line break after the range's start: no line starts there; the read before it reached the end.
        if (from > 0 && rangeText is null) yield break;
        int batchRows = _options.BatchRowsFor(_rowBytes);
        // The reading thread gathers a batch's lines; up to --threads parsers then parse contiguous shares of them at once.
        var parsers = new RowParser[Math.Max(1, _options.EffectiveThreads)];
        var chunk = new LineChunk(batchRows);
        using var lines = rangeText is null ? OpenLines() : new Utf8LineReader(rangeText, offset: start);
        var read = new RangeRead(to);
        long rowsRead = 0;
        while (!read.Stopped)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var builders = new ColumnBuilder[schema.Count];
            for (int c = 0; c < builders.Length; c++) builders[c] = ColumnBuilder.Create(schema[c].Kind, batchRows, _options.NonFinite, exactIntegers: !_overridden[c]);
            var badRows = _options.BadRows is { Tolerates: true } log ? log : null;
            var lineNumbers = badRows?.Policy == BadRowPolicy.Quarantine ? new long[batchRows] : null;
            var texts = lineNumbers is null ? null : new string?[batchRows];
            var positions = new long[batchRows];
            List<BadRow>? bad = badRows is null ? null : [];
            int count = Gather(lines, chunk, rowsRead, batchRows, positions, read);
            if (count == 0 && chunk.Error is null) break;
            ParseChunk(chunk, parsers, schema, builders, rowsRead, count, bad, texts, cancellationToken);
            if (lineNumbers is not null) chunk.Lines.AsSpan(0, count).CopyTo(lineNumbers);
            // The row's id is made from its line's byte position, which a reader of a byte range knows too (RowInfo.AtPositions).
            var built = CsvSource.Build(schema, builders, count, sourceIndex, rowsRead, positions: positions.AsSpan(0, count));
            if (lineNumbers is not null) built = built.WithRows(built.Rows with { Lines = lineNumbers[..count], Texts = texts![..count] });
            if (bad is { Count: > 0 }) built = badRows!.Skip(built, bad);
            if (built.RowCount > 0) yield return built;
            rowsRead += count;
            if (count < batchRows) break;
        }
        if (first >= 0) Ranges.Add(new PartRead(first, end, read.FirstLine, read.Stop, rowsRead, read.StartLine, read.StopLine));
    }

    /// <summary>
    /// Gathers up to <paramref name="batchRows"/> non-blank lines into <paramref name="chunk"/> with their byte positions;
    /// returns how many. A line that starts at or after the read's end is not taken (its errors are the next range's): the
    /// read stops before it.
    /// </summary>
    private int Gather(Utf8LineReader lines, LineChunk chunk, long first, int batchRows, long[] positions, RangeRead read)
    {
        int count = 0;
        chunk.Error = null;
        while (count < batchRows && lines.TryReadLine(out var line))
        {
            if (IsBlank(line)) continue;
            long start = lines.LineStart;
            if (first + count == 0) (read.FirstLine, read.StartLine) = (start, lines.LineNumber);
            if (start >= read.To)
            {
                (read.Stop, read.StopLine) = (start, lines.LineNumber);
                break;
            }
            if (start >= RowInfo.MaxPosition)
            {
                chunk.Error = Throw.Format($"is larger than {RowInfo.MaxPosition + 1:N0} bytes (1 TiB) as text; DataPrep reads JSON Lines files of at most 1 TiB: split the file", _path, lines.LineNumber, first + count + 1);
                break;
            }
            positions[count] = start + 1;
            chunk.Add(count, line, lines.LineNumber);
            count++;
        }
        return count;
    }

    /// <summary>
    /// Parses the <paramref name="count"/> lines of <paramref name="chunk"/> into <paramref name="builders"/>, in contiguous
    /// shares on up to <paramref name="parsers"/>' count of threads (each row written by one thread, as ColumnBuilder
    /// allows). The error of the earliest failing row is thrown, as a sequential read throws it.
    /// </summary>
    /// <remarks>
    /// With <paramref name="bad"/> (--on-bad-row skip|quarantine), a line that fails is noted there, in row order, and keeps
    /// its slot (the batch drops it when built), so no later row inherits what it half set.
    /// </remarks>
    private void ParseChunk(LineChunk chunk, RowParser[] parsers, Schema schema, ColumnBuilder[] builders, long first, int count, List<BadRow>? bad, string?[]? texts, CancellationToken cancellationToken)
    {
        int shares = RowShares.For(count, parsers.Length);
        var badOf = bad is null ? null : new List<BadRow>[shares];
        RowShares.Run(count, shares, (s, lo, hi) =>
        {
            var parser = parsers[s] ??= new RowParser(this, schema);
            List<BadRow>? myBad = badOf is null ? null : badOf[s] = [];
            for (int row = lo; row < hi; row++)
            {
                var line = chunk.Line(row);
                long number = chunk.Lines[row];
                if (myBad is null)
                {
                    parser.Parse(line, number, first + row + 1, builders, row);
                }
                else
                {
                    try
                    {
                        parser.Parse(line, number, first + row + 1, builders, row);
                        // A line with a missing value may be skipped later (--missing error): keep its text for the quarantine.
                        if (texts is not null && ColumnBuilder.AnyNull(builders, row)) texts[row] = System.Text.Encoding.UTF8.GetString(line);
                    }
                    catch (DataFormatException e)
                    {
                        myBad.Add(new BadRow(row, parser.Cause, e, System.Text.Encoding.UTF8.GetString(line)));
                    }
                }
                if (((row - lo + 1) & 4095) == 0) cancellationToken.ThrowIfCancellationRequested();
            }
        });
        if (badOf is not null) foreach (var list in badOf) bad!.AddRange(list);
        if (chunk.Error is { } gathered) throw gathered;
    }

    /// <inheritdoc />
    /// <remarks>Reads the file again up to the range's first line, counting lines and rows (blank lines hold none): an error path only.</remarks>
    public DataFormatException InWholeInput(DataFormatException error) => Ranges.InWholeInput(error, static line => !IsBlank(line));

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r"u8) < 0;

    /// <inheritdoc />
    /// <remarks>
    /// Reads the file again up to the row (an error path only): blank lines hold no row, so only counting tells. A read of a
    /// byte range numbers its rows and lines from the range's start (a scaled-out scan task adds the rest), so it counts
    /// from there, as <see cref="CsvSource.LocateRow"/> does.
    /// </remarks>
    public (long Line, string? Within) LocateRow(long row)
    {
        try
        {
            long rangeStart = Ranges.Start;
            using var lines = rangeStart > 0 ? new Utf8LineReader(TextInput.OpenAt(_options, _path, "JSON Lines", rangeStart), offset: rangeStart) : OpenLines();
            long rows = 0;
            while (lines.TryReadLine(out var line))
            {
                if (!IsBlank(line) && ++rows == row) return (lines.LineNumber, null);
            }
        }
        catch (Exception e) when (e is DataPrepException or IOException)
        {
            // The location is a courtesy; the error being reported is the one that matters.
        }
        return (0, null);
    }

    private static string ListNames(IReadOnlyList<string> names, int max)
    {
        var shown = string.Join(", ", names.Take(max));
        return names.Count > max ? $"{shown}, … ({names.Count - max} more)" : shown;
    }

    private TextEncoding? ResolveEncoding()
    {
        if (_options.Encoding is not { } name) return null;
        try { return name.Equals("latin1", StringComparison.OrdinalIgnoreCase) ? TextEncoding.Latin1 : TextEncoding.GetEncoding(name); }
        catch (ArgumentException) { throw new PipelineValidationException($"Unknown encoding '{name}' (expected utf-8, utf-16, latin1, ascii or another .NET encoding name)."); }
    }

    /// <summary>Opens the file as UTF-8 lines: gzip per <see cref="InputFiles.Open"/>, other encodings transcoded, BOMs honoured.</summary>
    private Utf8LineReader OpenLines()
    {
        var encoding = ResolveEncoding();
        Stream stream = TextInput.Open(_options, _path, "JSON Lines", Ranges.Seen);
        try
        {
            if (encoding is null)
            {
                Span<byte> head = stackalloc byte[4];
                int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                encoding = DetectUnicodeBom(head[..n]);
                if (encoding is null) return new Utf8LineReader(stream, head[..n]);
                stream.Dispose();
                stream = TextInput.Open(_options, _path, "JSON Lines");
            }
            if (encoding.CodePage != TextEncoding.UTF8.CodePage)
            {
                stream = TextEncoding.CreateTranscodingStream(stream, encoding, new System.Text.UTF8Encoding(false), leaveOpen: false);
            }
            return new Utf8LineReader(stream, default);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static TextEncoding? DetectUnicodeBom(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0, 0])) return TextEncoding.UTF32;
        if (head.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF])) return new System.Text.UTF32Encoding(bigEndian: true, byteOrderMark: true);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return TextEncoding.Unicode;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return TextEncoding.BigEndianUnicode;
        return null;
    }

    /// <summary>
    /// Parses one line's object. Without a schema it discovers keys and collects inference samples;
    /// with one it writes the values into column builders. Keys are matched without allocating: first
    /// against the column after the previous key (keys usually come in the same order), then by lookup.
    /// </summary>
    private sealed class RowParser
    {
        private readonly JsonLinesSource _source;
        private readonly Schema? _schema;
        private readonly List<string> _names = [];
        private readonly List<byte[]> _keys = [];
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly byte[][] _nullValues;
        private long[] _seen = new long[16];
        private byte[] _scratch = new byte[256];

        public RowParser(JsonLinesSource source, Schema? schema)
        {
            _source = source;
            _schema = schema;
            _lookup = _index.GetAlternateLookup<ReadOnlySpan<char>>();
            _nullValues = source._options.NullValues.Select(v => TextEncoding.UTF8.GetBytes(v)).ToArray();
            if (schema is not null)
            {
                foreach (var f in schema.Fields) AddColumn(f.Name);
            }
        }

        /// <summary>The keys in column order.</summary>
        public IReadOnlyList<string> Names => _names;

        /// <summary>Per column, the non-missing sampled values as UTF-8 text (inference only).</summary>
        public List<List<byte[]>> Samples { get; } = [];

        /// <summary>Whether column <paramref name="col"/> held at least one JSON string in the sample.</summary>
        public bool SawString(int col) => _firstString[col] is not null;

        // Per column (inference only): the JSON numbers, the values, and the first JSON string with its line and row.
        private readonly List<long> _numberTokens = [], _valueCount = [];
        private readonly List<(string Text, long Line, long Row)?> _firstString = [];
        // The first JSON boolean (true or false), with its line and row: among numbers it makes the column text too.
        private readonly List<(string Text, long Line, long Row)?> _firstBoolean = [];

        /// <summary>
        /// Why column <paramref name="col"/>, inferred as text, is text: a JSON string or boolean among JSON numbers (named
        /// with its line and row, as CSV's evidence), or numbers every one written as a JSON string (<paramref name="inferred"/>
        /// says what their text would be), which --column-type reads as numbers. Null for a column of words.
        /// </summary>
        public string? TextEvidence(int col, ColumnKind inferred)
        {
            if (_firstString[col] is not { } first)
            {
                return _firstBoolean[col] is var (text, line, row) && _numberTokens[col] > 0
                    ? $"{Path}, line {line}, row {row} holds the boolean {text}, though {_numberTokens[col]:N0} of the {_valueCount[col]:N0} values of the first rows are JSON numbers"
                    : null;
            }
            if (_numberTokens[col] > 0) return KindInference.Evidence(Path, first, "the string ", _numberTokens[col], _valueCount[col], "JSON numbers");
            if (inferred is ColumnKind.Int64 or ColumnKind.Float64)
            {
                return $"{Path}, line {first.Line}, row {first.Row} holds the string {first.Text}: every value of the first rows is a number written as a JSON string; "
                    + $"--column-type {_names[col]}={(inferred == ColumnKind.Int64 ? "int" : "float")} reads them as numbers";
            }
            return null;
        }

        private string Path => _source._path;

        private void AddColumn(string name)
        {
            _index.Add(name, _names.Count);
            _names.Add(name);
            _keys.Add(TextEncoding.UTF8.GetBytes(name));
            Samples.Add([]);
            _numberTokens.Add(0);
            _valueCount.Add(0);
            _firstString.Add(null);
            _firstBoolean.Add(null);
            if (_seen.Length < _names.Count) Array.Resize(ref _seen, _seen.Length * 2);
        }

        /// <summary>Why the last line that failed did (see <see cref="BadRowCause"/>): a value, or the line itself.</summary>
        public string Cause { get; private set; } = BadRowCause.Malformed;

        public void Parse(ReadOnlySpan<byte> line, long lineNumber, long row, ColumnBuilder[]? builders, int at)
        {
            Cause = BadRowCause.Malformed;
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            try
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) throw NotAnObject(reader.TokenType, line, lineNumber, row);
                int col = -1;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    col = FindColumn(ref reader, col + 1, lineNumber, row);
                    if (_seen[col] == row)
                    {
                        throw Throw.Format(
                            $"found key '{_names[col]}' twice in one object; expected each key at most once per line",
                            Path, lineNumber, row, _names[col]);
                    }
                    _seen[col] = row;
                    reader.Read();
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.StartObject:
                        case JsonTokenType.StartArray:
                            // A key the run does not read (--drop, or outside --features) may hold anything: it reaches no output.
                            if (!_source._options.Reads(_names[col]))
                            {
                                reader.Skip();
                                builders?[col].SetNull(at);
                                break;
                            }
                            throw Throw.Format(
                                $"found a nested {(reader.TokenType == JsonTokenType.StartObject ? "object" : "array")} as the value of key '{_names[col]}'; nested values are not supported, expected a number, string, boolean or null. Flatten the data first (e.g. jq, or pandas.json_normalize) or leave the key out (--drop {_names[col]})",
                                Path, lineNumber, row, _names[col]);
                        case JsonTokenType.Null:
                            builders?[col].SetNull(at);
                            break;
                        case JsonTokenType.True:
                            Set(col, "true"u8, JsonTokenType.True, builders, at, lineNumber, row);
                            break;
                        case JsonTokenType.False:
                            Set(col, "false"u8, JsonTokenType.False, builders, at, lineNumber, row);
                            break;
                        case JsonTokenType.Number:
                            Set(col, reader.ValueSpan, JsonTokenType.Number, builders, at, lineNumber, row);
                            break;
                        default: // String
                            var text = reader.ValueIsEscaped ? Unescape(ref reader) : reader.ValueSpan;
                            if (IsNullText(text)) builders?[col].SetNull(at);
                            else Set(col, text, JsonTokenType.String, builders, at, lineNumber, row);
                            break;
                    }
                }
                // The reader throws on a truncated object; anything after the object makes Read throw too.
                if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                {
                    throw Throw.Format($"is not one complete JSON object ({Throw.Quote(line, 60)}); expected one JSON object per line", Path, lineNumber, row);
                }
            }
            catch (JsonException e)
            {
                throw InvalidJson(e, line, lineNumber, row);
            }
            catch (InvalidOperationException e)
            {
                // Utf8JsonReader checks text only where it transcodes (keys, escaped strings): bytes that are not UTF-8,
                // or a \uD800 escape without its other half, surface here rather than as a JsonException.
                string found = e.InnerException is System.Text.DecoderFallbackException ? "bytes that are not UTF-8" : $"text that is not valid Unicode ({e.Message.TrimEnd('.')})";
                throw Throw.Format(
                    $"found {found} in the key or string starting at byte {reader.TokenStartIndex + 1} of the line ({Throw.Quote(line, 60)}); expected UTF-8 text (pass --encoding for another encoding) with escapes that form whole characters",
                    Path, lineNumber, row, inner: e);
            }
            if (builders is not null)
            {
                for (int c = 0; c < builders.Length; c++)
                {
                    if (_seen[c] != row) builders[c].SetNull(at);
                }
            }
        }

        private bool IsNullText(ReadOnlySpan<byte> text)
        {
            if (text.IsEmpty) return true;
            foreach (var v in _nullValues)
            {
                if (text.SequenceEqual(v)) return true;
            }
            return false;
        }

        private void Set(int col, ReadOnlySpan<byte> value, JsonTokenType token, ColumnBuilder[]? builders, int at, long lineNumber, long row)
        {
            if (builders is null)
            {
                Samples[col].Add(value.ToArray());
                _valueCount[col]++;
                if (token == JsonTokenType.Number) _numberTokens[col]++;
                if (token == JsonTokenType.String) _firstString[col] ??= (Throw.Quote(value), lineNumber, row);
                if (token is JsonTokenType.True or JsonTokenType.False) _firstBoolean[col] ??= (token == JsonTokenType.True ? "true" : "false", lineNumber, row);
                return;
            }
            if (builders[col].TrySet(at, value)) return;
            var kind = _schema![col].Kind;
            Cause = BadRowCause.NonFinite;
            if (ValueParser.NonFiniteProblem(value, kind) is { } problem) throw Throw.Format(problem, Path, lineNumber, row, _names[col]);
            Cause = BadRowCause.NotOfType;
            if (!_source._overridden[col] && ValueParser.InexactIntegerProblem(value, kind, _names[col]) is { } inexact) throw Throw.Format(inexact, Path, lineNumber, row, _names[col]);
            string because = _source._overridden[col]
                ? $"--column-type sets the column to {kind}"
                : $"the column is {kind} (inferred from the first {_source._inferredRows} rows)";
            throw Throw.Format(
                $"found {Describe(token, value)}, expected {builders[col].Expected} because {because}; override with --column-type {_names[col]}=string, or fix the value",
                Path, lineNumber, row, _names[col]);
        }

        private static string Describe(JsonTokenType token, ReadOnlySpan<byte> value) => token switch
        {
            JsonTokenType.String => $"the string {Throw.Quote(value)}",
            JsonTokenType.Number => $"the number {Throw.Quote(value).Trim('\'')}",
            _ => $"the boolean {TextEncoding.UTF8.GetString(value)}",
        };

        private ReadOnlySpan<byte> Unescape(ref Utf8JsonReader reader)
        {
            if (_scratch.Length < reader.ValueSpan.Length) _scratch = new byte[Math.Max(reader.ValueSpan.Length, _scratch.Length * 2)];
            int n = reader.CopyString(_scratch);
            return _scratch.AsSpan(0, n);
        }

        private int FindColumn(ref Utf8JsonReader reader, int predicted, long lineNumber, long row)
        {
            var raw = reader.ValueSpan;
            if (!reader.ValueIsEscaped && predicted < _keys.Count && raw.SequenceEqual(_keys[predicted])) return predicted;
            char[]? rented = null;
            // UTF-8 never takes fewer bytes than UTF-16 chars, and unescaping only shrinks.
            Span<char> chars = raw.Length <= 128 ? stackalloc char[128] : (rented = ArrayPool<char>.Shared.Rent(raw.Length));
            try
            {
                int n = reader.CopyString(chars);
                var key = chars[..n];
                if (_lookup.TryGetValue(key, out int col)) return col;
                if (_schema is not null)
                {
                    throw Throw.Format(
                        $"found key '{key}', which is not among the columns inferred from the first {_source._inferredRows} rows; expected one of the schema's keys: {ListNames(_names, 30)}. Keys that first appear after the inference sample are not supported: read more rows for inference, or drop the key",
                        Path, lineNumber, row);
                }
                if (n == 0)
                {
                    throw Throw.Format("found an empty key \"\"; expected every key to be a non-empty column name", Path, lineNumber, row);
                }
                AddColumn(key.ToString());
                return _names.Count - 1;
            }
            finally
            {
                if (rented is not null) ArrayPool<char>.Shared.Return(rented);
            }
        }

        private DataFormatException NotAnObject(JsonTokenType token, ReadOnlySpan<byte> line, long lineNumber, long row)
        {
            string found = token switch
            {
                JsonTokenType.StartArray => "a JSON array",
                JsonTokenType.String => "a JSON string",
                JsonTokenType.Number => "a JSON number",
                JsonTokenType.True or JsonTokenType.False => "a JSON boolean",
                JsonTokenType.Null => "null",
                _ => token.ToString(),
            };
            string hint = token == JsonTokenType.StartArray && line.Trim(" \t\r"u8).SequenceEqual("["u8)
                ? ". The file looks like one JSON array; convert it to JSON Lines first, e.g. jq -c '.[]' in.json > out.jsonl"
                : "";
            return Throw.Format(
                $"found {found} ({Throw.Quote(line, 60)}), expected a JSON object such as {{\"id\": 1, \"label\": \"a\"}} (JSON Lines holds one object per line){hint}",
                Path, lineNumber, row);
        }

        private DataFormatException InvalidJson(JsonException e, ReadOnlySpan<byte> line, long lineNumber, long row)
        {
            long position = e.BytePositionInLine ?? 0;
            string reason = e.Message;
            int cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) reason = reason[..cut];
            reason = reason.TrimEnd('.', ' ');
            if (reason.Contains("after a single JSON value", StringComparison.Ordinal))
            {
                // System.Text.Json's "… is invalid after a single JSON value. Expected end of data.": the object was whole.
                reason = "more text follows the object on its line; each line must hold one JSON object and nothing after it";
            }
            else if (position >= line.Length
                || reason.Contains("end of data", StringComparison.Ordinal)
                || reason.StartsWith("Expected depth to be zero", StringComparison.Ordinal))
            {
                // The reader's wording for a cut-off object ("invalid end of a number", "depth") misleads.
                reason = "the line ends before the object is closed; every object must be complete on one line";
            }
            int from = (int)Math.Clamp(position - 20, 0, line.Length);
            int to = (int)Math.Clamp(position + 20, from, line.Length);
            string near = to > from ? $" near {Throw.Quote(line[from..to], 60)}" : " at the end of the line";
            return Throw.Format(
                $"is not valid JSON at byte {position + 1} of the line{near} ({reason}); expected one complete JSON object per line",
                Path, lineNumber, row, inner: e);
        }
    }

}
