using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Sources;

/// <summary>Options of the LibSVM / SVMlight reader.</summary>
/// <param name="ZeroBased">Whether feature indexes in the file start at 0 (default: they start at 1, as in LibSVM).</param>
/// <param name="NumFeatures">
/// The number of features, when known: it fixes the width of the <c>features</c> column (an index beyond it is an
/// error). Without it the width is the largest index in the file.
/// </param>
public sealed record LibSvmOptions(bool ZeroBased = false, int? NumFeatures = null);

/// <summary>
/// Reads LibSVM / SVMlight text (<c>label index:value index:value … # comment</c>, plain or .gz) into two
/// columns: <c>label</c> (Int64 when every label in the file is an integer, else Float64) and <c>features</c>,
/// one <see cref="SparseColumn"/> whose width is the number of features.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="OpenAsync"/> reads the whole file once: the width of the feature column is the largest index in
/// the file, and nothing short of a full pass finds it (unless <see cref="LibSvmOptions.NumFeatures"/> is
/// given; the pass still runs, to type the label and to report every malformed line before any output is
/// written). <see cref="ReadAsync"/> then streams the file a second time in batches.
/// </para>
/// <para>
/// Indexes are 1-based unless <see cref="LibSvmOptions.ZeroBased"/>; they must increase strictly within a
/// line. Values are kept as written, explicit zeros included. <c>qid:N</c> tokens are skipped and counted
/// (<see cref="QidTokensIgnored"/>); text after '#' is a comment; blank lines are skipped but counted for
/// line numbers. Parsing works on UTF-8 spans with no allocation per token. In both passes the reading thread gathers
/// a chunk of data lines and up to <see cref="SourceOptions.EffectiveThreads"/> parsers parse contiguous shares of it at
/// once (<see cref="RowShares"/>); the earliest bad line is reported, as one thread reports it.
/// </para>
/// </remarks>
public sealed class LibSvmSource : IRecordSource, ISharedOpen
{
    /// <summary>The name of the label column.</summary>
    public const string LabelColumn = "label";

    /// <summary>The name of the sparse feature column.</summary>
    public const string FeaturesColumn = "features";

    private readonly string _path;
    private readonly SourceOptions _options;
    private readonly LibSvmOptions _libsvm;
    private Schema? _schema;
    private int _width;
    private long _qidTokens;

    /// <summary>Creates a source for one file (plain or .gz).</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Shared source options; only <see cref="SourceOptions.BatchRows"/> matters here.</param>
    /// <param name="libsvm">LibSVM options (1-based indexes and a width from the data by default).</param>
    /// <exception cref="PipelineValidationException"><see cref="LibSvmOptions.NumFeatures"/> is negative.</exception>
    public LibSvmSource(string path, SourceOptions options, LibSvmOptions? libsvm = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        _path = path;
        _options = options;
        _libsvm = libsvm ?? new LibSvmOptions();
        if (_libsvm.NumFeatures is < 0)
        {
            throw new PipelineValidationException($"The number of LibSVM features is {_libsvm.NumFeatures}; expected 0 or more (--num-features).");
        }
    }

    /// <inheritdoc />
    public string Description => _path;

    /// <summary>The LibSVM options.</summary>
    public LibSvmOptions Options => _libsvm;

    /// <summary>How many <c>qid:N</c> tokens (SVMlight query ids) the file holds; they are skipped. Known after <see cref="OpenAsync"/>.</summary>
    public long QidTokensIgnored => _qidTokens;

    private long _rowBytes;

    /// <inheritdoc />
    public long RowBytes => _rowBytes;

    /// <inheritdoc />
    /// <remarks>Reads the whole file (see the class remarks) and reports the first malformed line.</remarks>
    public ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_schema is not null) return ValueTask.FromResult(_schema);
        // Each of up to --threads parsers learns from its shares of each chunk; what they learned is merged at the end
        // (no line depends on another in this pass).
        var parsers = new LineParser[Math.Max(1, _options.EffectiveThreads)];
        var chunk = new LineChunk(OpenChunkRows);
        var seen = new Seen();
        long rows = 0;
        bool tolerant = _options.BadRows is { Tolerates: true };
        using (var reader = new Utf8LineReader(TextInput.Open(_options, _path, "LibSVM", Ranges.Seen)))
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Gather(reader, chunk, seen);
                if (count == 0) break;
                long first = rows;
                RowShares.Run(count, RowShares.For(count, parsers.Length), (s, lo, hi) =>
                {
                    var parser = parsers[s] ??= new LineParser(_path, _libsvm.ZeroBased, _libsvm.NumFeatures ?? int.MaxValue, _libsvm.NumFeatures is not null, integerLabels: null);
                    for (int i = lo; i < hi; i++)
                    {
                        if (!tolerant)
                        {
                            parser.Parse(chunk.Line(i), chunk.Lines[i], first + i + 1, builder: null);
                            continue;
                        }
                        // --on-bad-row skip|quarantine: a malformed line says nothing about the width or the labels' type,
                        // but holds a row (the second pass skips it there, counted).
                        var before = parser.Save();
                        try
                        {
                            parser.Parse(chunk.Line(i), chunk.Lines[i], first + i + 1, builder: null);
                        }
                        catch (DataFormatException)
                        {
                            parser.Restore(before);
                        }
                    }
                });
                rows += count;
                if (seen.Ended) break;
            }
        }
        if (rows == 0)
        {
            throw seen.Lines == 0 || !seen.Comment
                ? Throw.Format("is empty; expected lines of the form 'label index:value …'", _path)
                : Throw.Format($"has no data lines (its {seen.Lines} lines are blank or comments); expected lines of the form 'label index:value …'", _path);
        }
        // Where a byte range that starts before it starts (see TextRanges.OpenAtFirstLine).
        Ranges.FirstRecord = seen.FirstData;
        var used = parsers.Where(p => p is not null).ToArray();
        _rowBytes = seen.Bytes / rows;
        _width = _libsvm.NumFeatures ?? used.Max(p => p.MaxWidth);
        _qidTokens = used.Sum(p => p.QidTokens);
        _schema = SchemaOf(used.All(p => p.AllLabelsInteger), _width);
        return ValueTask.FromResult(_schema);
    }

    /// <summary>The lines a chunk of the first pass holds at most (its bytes grow to hold them).</summary>
    private const int OpenChunkRows = 8192;

    /// <summary>What gathering saw of every line, data or not: the first pass's counts.</summary>
    private sealed class Seen
    {
        public long Lines;
        public long Bytes;
        /// <summary>Whether a comment was seen (else every line without data was blank).</summary>
        public bool Comment;
        /// <summary>Whether the reader reached the end of the text.</summary>
        public bool Ended;
        /// <summary>The byte the first data line starts at.</summary>
        public long FirstData = -1;
    }

    /// <summary>
    /// Gathers the next data lines (neither blank nor only a comment) into <paramref name="chunk"/>, up to its capacity, so
    /// that row <c>i</c> of the chunk is the <c>i</c>-th data row after those gathered before; counts every line in
    /// <paramref name="seen"/>. Returns how many were gathered. With <paramref name="read"/>, notes each line's byte
    /// position + 1 (its row id) in <paramref name="positions"/> and stops before the first data line that starts at or
    /// after the read's end (its rows are the next range's), noting it there.
    /// </summary>
    private int Gather(Utf8LineReader reader, LineChunk chunk, Seen seen, long[]? positions = null, RangeRead? read = null, long first = 0)
    {
        int count = 0;
        chunk.Error = null;
        while (count < chunk.Capacity)
        {
            if (!reader.TryReadLine(out var line))
            {
                seen.Ended = true;
                break;
            }
            seen.Lines++;
            seen.Bytes += line.Length + 1;
            if (!LineParser.HoldsData(line, out bool comment))
            {
                seen.Comment |= comment;
                continue;
            }
            long start = reader.LineStart;
            if (seen.FirstData < 0) seen.FirstData = start;
            if (read is not null)
            {
                if (first + count == 0) (read.FirstLine, read.StartLine) = (start, reader.LineNumber);
                if (start >= read.To)
                {
                    (read.Stop, read.StopLine) = (start, reader.LineNumber);
                    break;
                }
                if (start >= RowInfo.MaxPosition)
                {
                    chunk.Error = Throw.Format($"is larger than {RowInfo.MaxPosition + 1:N0} bytes (1 TiB) as text; DataPrep reads LibSVM files of at most 1 TiB: split the file", _path, reader.LineNumber, first + count + 1);
                    break;
                }
                positions![count] = start + 1;
            }
            chunk.Add(count++, line, reader.LineNumber);
        }
        return count;
    }

    private static Schema SchemaOf(bool integerLabels, int width) => new([
        new Field(LabelColumn, integerLabels ? ColumnKind.Int64 : ColumnKind.Float64),
        new Field(FeaturesColumn, ColumnKind.Sparse, width),
    ]);

    private static ReadOnlySpan<byte> StateTag => "libsvm-open-2"u8;

    /// <inheritdoc />
    /// <remarks>
    /// The width, whether every label is an integer, the qid tokens, the mean row bytes, and the range rule's first record
    /// and first bytes (so that an adopting source decides its byte ranges without opening the file).
    /// </remarks>
    public byte[] OpenedState => _schema is not { } schema
        ? throw new InvalidOperationException($"{_path} is not open.")
        : OpenedStates.Write(StateTag, w =>
        {
            w.Write(_width);
            w.Write(schema[0].Kind == ColumnKind.Int64);
            w.Write(_qidTokens);
            w.Write(_rowBytes);
            Ranges.WriteState(w);
        });

    /// <inheritdoc />
    public bool TryAdopt(ReadOnlySpan<byte> state) => _schema is null && OpenedStates.TryRead(state, StateTag, r =>
    {
        int width = r.ReadInt32();
        bool integerLabels = r.ReadBoolean();
        long qid = r.ReadInt64(), rowBytes = r.ReadInt64();
        var ranges = new TextRangeReads(_options, _path, "LibSVM");
        if (!ranges.ReadState(r) || width < 0 || qid < 0 || rowBytes < 0 || (_libsvm.NumFeatures is { } n && n != width)) return null;
        return () => (_width, _qidTokens, _rowBytes, _rangeReads, _schema) = (width, qid, rowBytes, ranges, SchemaOf(integerLabels, width));
    });

    private TextRangeReads? _rangeReads;

    private TextRangeReads Ranges => _rangeReads ??= new TextRangeReads(_options, _path, "LibSVM");

    /// <inheritdoc />
    /// <remarks>Byte ranges of <see cref="SourceOptions.RangeBytes"/> (<see cref="TextRanges.Of"/>; see <see cref="ReadPartsAsync"/>).</remarks>
    public IReadOnlyList<long> Parts => Ranges.Parts;

    /// <inheritdoc />
    public IReadOnlyList<PartRead> PartsRead => Ranges.Reads;

    /// <inheritdoc />
    /// <remarks>Each row's id is made from its line's byte position (<see cref="RowInfo.AtPositions"/>), which a read of a byte range knows too.</remarks>
    public IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, CancellationToken cancellationToken = default)
        => ReadCoreAsync(sourceIndex, -1, -1, 0, long.MaxValue, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// A large plain file is divided into byte ranges of <see cref="SourceOptions.RangeBytes"/> (see <see cref="Parts"/>), as
    /// JSON Lines is: parts [<paramref name="first"/>, <paramref name="end"/>) are the data lines that start in their bytes.
    /// A LibSVM line holds no line break, so every line break ends a row and consecutive reads always meet. The rows' ids are
    /// those of a whole read; their source rows and lines count from the range's start, and a scaled-out run adds the rows
    /// of the ranges before it. The width and the labels' type are the whole file's, from <see cref="OpenAsync"/>.
    /// </remarks>
    public IAsyncEnumerable<RecordBatch> ReadPartsAsync(int sourceIndex, int first, int end, CancellationToken cancellationToken = default)
    {
        if (Ranges.Bounds(first, end) is not var (from, to)) return ReadAsync(sourceIndex, cancellationToken);
        return ReadCoreAsync(sourceIndex, first, end, from, to, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Reads the file again up to the range's first line, counting lines and data rows: an error path only.</remarks>
    public DataFormatException InWholeInput(DataFormatException error) => Ranges.InWholeInput(error, static line => LineParser.HoldsData(line, out _));

    /// <summary>
    /// Reads the data lines that start at bytes [<paramref name="from"/>, <paramref name="to"/>) of the file (all of it: 0
    /// and <see cref="long.MaxValue"/>), as parts [<paramref name="first"/>, <paramref name="end"/>) (−1: a whole read).
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
        bool integerLabels = schema[0].Kind == ColumnKind.Int64;
        // The reading thread gathers a batch's data lines; up to --threads parsers then parse contiguous shares of them at
        // once, each into its own builder, joined in order. The width found by the first pass bounds this one: an index
        // beyond it means the file changed.
        var parsers = new LineParser[Math.Max(1, _options.EffectiveThreads)];
        var chunk = new LineChunk(batchRows);
        var seen = new Seen();
        var read = new RangeRead(to);
        using var reader = rangeText is null ? new Utf8LineReader(TextInput.Open(_options, _path, "LibSVM")) : new Utf8LineReader(rangeText, offset: start);
        long rowsRead = 0;
        var badRows = _options.BadRows is { Tolerates: true } log ? log : null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var positions = new long[batchRows];
            int count = Gather(reader, chunk, seen, positions, read, rowsRead);
            if (count == 0 && chunk.Error is null) break;
            int shares = RowShares.For(count, parsers.Length);
            var builders = new BatchBuilder[shares];
            var badOf = badRows is null ? null : new List<BadRow>[shares];
            long at = rowsRead;
            RowShares.Run(count, shares, (s, lo, hi) =>
            {
                var parser = parsers[s] ??= new LineParser(_path, _libsvm.ZeroBased, _width, _libsvm.NumFeatures is not null, integerLabels);
                var builder = builders[s] = new BatchBuilder(hi - lo, integerLabels);
                for (int i = lo; i < hi; i++)
                {
                    if (badOf is null)
                    {
                        parser.Parse(chunk.Line(i), chunk.Lines[i], at + i + 1, builder);
                    }
                    else
                    {
                        try
                        {
                            parser.Parse(chunk.Line(i), chunk.Lines[i], at + i + 1, builder);
                        }
                        catch (DataFormatException e)
                        {
                            // --on-bad-row skip|quarantine: the line keeps its slot (an empty row, left out when the batch
                            // is built), so the rows after it keep their row ids, as after a dropped row.
                            (badOf[s] ??= []).Add(new BadRow(i, parser.Cause, e, System.Text.Encoding.UTF8.GetString(chunk.Line(i))));
                            builder.AbandonRow();
                        }
                    }
                    if (((i - lo + 1) & 4095) == 0) cancellationToken.ThrowIfCancellationRequested();
                }
            });
            if (chunk.Error is { } gathered) throw gathered;
            var built = BatchBuilder.Build(builders, schema, _width, sourceIndex, rowsRead, positions.AsSpan(0, count));
            if (badOf is not null && badOf.Any(b => b is not null)) built = badRows!.Skip(built, [.. badOf.Where(b => b is not null).SelectMany(b => b)]);
            if (built.RowCount > 0) yield return built;
            rowsRead += count;
            if (seen.Ended || read.Stopped) break;
        }
        if (first >= 0) Ranges.Add(new PartRead(first, end, read.FirstLine, read.Stop, rowsRead, read.StartLine, read.StopLine));
    }

    /// <summary>Parses and checks lines; collects what the schema needs, and fills a batch when given one.</summary>
    private sealed class LineParser(string path, bool zeroBased, int limit, bool limitFromOption, bool? integerLabels)
    {
        private static ReadOnlySpan<byte> Separators => " \t"u8;

        /// <summary>The width the indexes seen so far need (largest 0-based key + 1).</summary>
        public int MaxWidth { get; private set; }

        /// <summary>Whether every label so far parsed as an integer.</summary>
        public bool AllLabelsInteger { get; private set; } = true;

        /// <summary>How many qid:N tokens were skipped.</summary>
        public long QidTokens { get; private set; }

        /// <summary>Whether a line holds a data row: it is neither blank nor only a comment.</summary>
        /// <param name="line">The line.</param>
        /// <param name="comment">Whether it holds a comment ('#').</param>
        public static bool HoldsData(ReadOnlySpan<byte> line, out bool comment) => TrimToData(ref line, out comment);

        /// <summary>Cuts the comment and leading blanks off <paramref name="line"/>; false when nothing is left.</summary>
        private static bool TrimToData(ref ReadOnlySpan<byte> line, out bool comment)
        {
            int hash = line.IndexOf((byte)'#');
            comment = hash >= 0;
            if (comment) line = line[..hash];
            int at = line.IndexOfAnyExcept(Separators);
            if (at < 0) return false;
            line = line[at..];
            return true;
        }

        /// <summary>Why the last line that failed did (see <see cref="BadRowCause"/>): a non-finite number, or the line's form.</summary>
        public string Cause { get; private set; } = BadRowCause.Malformed;

        /// <summary>What the first pass has learned so far, to forget a line that failed part-way.</summary>
        public (int MaxWidth, bool AllLabelsInteger, long QidTokens) Save() => (MaxWidth, AllLabelsInteger, QidTokens);

        /// <summary>Forgets what a line that failed part-way taught (see <see cref="Save"/>).</summary>
        public void Restore((int MaxWidth, bool AllLabelsInteger, long QidTokens) saved) => (MaxWidth, AllLabelsInteger, QidTokens) = saved;

        /// <summary>Parses one line; false when it is blank or only a comment (not a data row).</summary>
        public bool Parse(ReadOnlySpan<byte> line, long lineNumber, long row, BatchBuilder? builder)
        {
            Cause = BadRowCause.Malformed;
            if (!TrimToData(ref line, out _)) return false;

            var token = NextToken(ref line);
            ParseLabel(token, lineNumber, row, builder);

            long previous = -1;
            while (true)
            {
                int at = line.IndexOfAnyExcept(Separators);
                if (at < 0) break;
                line = line[at..];
                token = NextToken(ref line);
                int colon = token.IndexOf((byte)':');
                if (colon < 0)
                {
                    throw Throw.Format(
                        $"found {Throw.Quote(token)} without ':', expected index:value pairs after the label (lines have the form 'label index:value …')",
                        path, lineNumber, row, FeaturesColumn);
                }
                var indexText = token[..colon];
                var valueText = token[(colon + 1)..];
                if (indexText.SequenceEqual("qid"u8))
                {
                    QidTokens++;
                    continue;
                }
                long index = ParseIndex(indexText, token, lineNumber, row);
                if (index <= previous)
                {
                    throw index == previous
                        ? Throw.Format(
                            $"found index {index} twice, expected each index at most once per line, in strictly increasing order",
                            path, lineNumber, row, FeaturesColumn)
                        : Throw.Format(
                            $"found index {index} after index {previous}, expected indexes in strictly increasing order within a line",
                            path, lineNumber, row, FeaturesColumn);
                }
                previous = index;
                int key = (int)(zeroBased ? index : index - 1);
                // Plain decimals (nearly every LibSVM value) in one vectorised pass, exactly as the general parser reads them.
                if (!(CanonicalNumber.TryParseCopyableDouble(valueText, out double value, out _) || ValueParser.TryParseDouble(valueText, out value)) || !double.IsFinite(value))
                {
                    if (ValueParser.TryParseDouble(valueText, out _)) Cause = BadRowCause.NonFinite;
                    throw Throw.Format(
                        $"found value {Throw.Quote(valueText)} for index {Throw.Quote(indexText)}, expected a finite number (invariant culture, '.' as decimal point)",
                        path, lineNumber, row, FeaturesColumn);
                }
                if (key >= MaxWidth) MaxWidth = key + 1;
                builder?.AddFeature(key, value);
            }
            builder?.EndRow();
            return true;
        }

        private static ReadOnlySpan<byte> NextToken(ref ReadOnlySpan<byte> rest)
        {
            int end = rest.IndexOfAny(Separators);
            if (end < 0) end = rest.Length;
            var token = rest[..end];
            rest = rest[end..];
            return token;
        }

        private void ParseLabel(ReadOnlySpan<byte> token, long lineNumber, long row, BatchBuilder? builder)
        {
            if (token.IndexOf((byte)':') >= 0)
            {
                throw Throw.Format(
                    $"found {Throw.Quote(token)} where the label should be, expected a number first (lines have the form 'label index:value …')",
                    path, lineNumber, row, LabelColumn);
            }
            if (integerLabels is not false && Utf8Parser.TryParse(token, out long integer, out int used) && used == token.Length)
            {
                builder?.SetLabel(integer);
                return;
            }
            if (integerLabels is true)
            {
                throw Throw.Format(
                    $"found label {Throw.Quote(token)}, expected an integer like every label of the first pass over the file; expected the file not to change while it is read",
                    path, lineNumber, row, LabelColumn);
            }
            if (!ValueParser.TryParseDouble(token, out double value) || !double.IsFinite(value))
            {
                if (ValueParser.TryParseDouble(token, out _)) Cause = BadRowCause.NonFinite;
                string hint = token.IndexOf((byte)',') >= 0 ? "; multi-label lines ('1,3 index:value …') are not supported" : "";
                throw Throw.Format(
                    $"found label {Throw.Quote(token)}, expected a finite number (lines have the form 'label index:value …'){hint}",
                    path, lineNumber, row, LabelColumn);
            }
            AllLabelsInteger = false;
            builder?.SetLabel(value);
        }

        private long ParseIndex(ReadOnlySpan<byte> text, ReadOnlySpan<byte> token, long lineNumber, long row)
        {
            long index = 0;
            bool digits = text.Length > 0;
            foreach (byte b in text)
            {
                if ((uint)(b - '0') > 9) { digits = false; break; }
                // Past int.MaxValue the number is too large anyway: keep checking digits, stop growing.
                if (index <= int.MaxValue) index = index * 10 + (b - '0');
            }
            if (!digits)
            {
                string expected = zeroBased ? "a non-negative integer (indexes are 0-based with --zero-based)" : "a positive integer (indexes are 1-based)";
                throw Throw.Format(
                    $"found index {Throw.Quote(text)} in {Throw.Quote(token)}, expected {expected}",
                    path, lineNumber, row, FeaturesColumn);
            }
            if (index == 0 && !zeroBased)
            {
                throw Throw.Format(
                    $"found index 0 in {Throw.Quote(token)}, expected indexes from 1 because LibSVM indexes are 1-based; if this file numbers its features from 0, pass --zero-based",
                    path, lineNumber, row, FeaturesColumn);
            }
            // The 0-based key must stay below the width, which must fit an int.
            long key = zeroBased ? index : index - 1;
            if (key >= limit)
            {
                if (limit == 0)
                {
                    throw Throw.Format(
                        $"found {Throw.Quote(token)}, expected no index:value pairs because the number of features is set to 0 (--num-features)",
                        path, lineNumber, row, FeaturesColumn);
                }
                long highest = zeroBased ? (long)limit - 1 : limit;
                string why = limitFromOption
                    ? $"the number of features is set to {limit} (--num-features)"
                    : limit == int.MaxValue
                        ? "larger feature numbers do not fit"
                        : $"the first pass over the file found {limit} features; expected the file not to change while it is read";
                throw Throw.Format(
                    $"found index {Throw.Quote(text)} in {Throw.Quote(token)}, expected at most {highest.ToString(CultureInfo.InvariantCulture)} because {why}",
                    path, lineNumber, row, FeaturesColumn);
            }
            return index;
        }
    }

    /// <summary>Collects one batch: labels plus CSR offsets, indices and values that grow as needed.</summary>
    private sealed class BatchBuilder
    {
        private readonly long[]? _intLabels;
        private readonly double[]? _floatLabels;
        private readonly int[] _offsets;
        private int[] _indices;
        private double[] _values;
        private int _nnz;

        public BatchBuilder(int capacity, bool integerLabels)
        {
            if (integerLabels) _intLabels = new long[capacity];
            else _floatLabels = new double[capacity];
            _offsets = new int[capacity + 1];
            int initial = Math.Min(capacity, 4096) * 8;
            _indices = new int[initial];
            _values = new double[initial];
        }

        public int Count { get; private set; }

        public void SetLabel(long label)
        {
            if (_intLabels is not null) _intLabels[Count] = label;
            else _floatLabels![Count] = label;
        }

        public void SetLabel(double label) => _floatLabels![Count] = label;

        public void AddFeature(int key, double value)
        {
            if (_nnz == _indices.Length)
            {
                if (_nnz == Array.MaxLength) throw new InvalidOperationException("More non-zeros in one batch than an array holds; use smaller batches.");
                int grown = (int)Math.Min(Array.MaxLength, Math.Max(16L, 2L * _nnz));
                Array.Resize(ref _indices, grown);
                Array.Resize(ref _values, grown);
            }
            _indices[_nnz] = key;
            _values[_nnz] = value;
            _nnz++;
        }

        public void EndRow() => _offsets[++Count] = _nnz;

        /// <summary>Ends the current row empty: a line that failed part-way leaves none of its features behind.</summary>
        public void AbandonRow()
        {
            _nnz = _offsets[Count];
            EndRow();
        }

        /// <summary>
        /// One batch of the rows of <paramref name="parts"/>, in order (each parsed a contiguous share of the lines), copied
        /// once from the builders' arrays. (Building each part's batch and joining them with <see cref="RecordBatch.Concat"/>
        /// copies the sparse values twice, trimming then joining: 3 % slower and 100 MiB more at peak on 400,000 rows.)
        /// </summary>
        public static RecordBatch Build(BatchBuilder[] parts, Schema schema, int width, int sourceIndex, long firstRowOrdinal, ReadOnlySpan<long> positions)
        {
            if (parts.Length == 1) return parts[0].Build(schema, width, sourceIndex, firstRowOrdinal, positions);
            int count = parts.Sum(p => p.Count);
            long nnz = parts.Sum(p => (long)p._nnz);
            if (nnz > Array.MaxLength) throw new InvalidOperationException("More non-zeros in one batch than an array holds; use smaller batches.");
            var intLabels = parts[0]._intLabels is not null ? new long[count] : null;
            var floatLabels = intLabels is null ? new double[count] : null;
            var offsets = new int[count + 1];
            var indices = new int[nnz];
            var values = new double[nnz];
            int row = 0, at = 0;
            foreach (var p in parts)
            {
                if (intLabels is not null) p._intLabels.AsSpan(0, p.Count).CopyTo(intLabels.AsSpan(row));
                else p._floatLabels.AsSpan(0, p.Count).CopyTo(floatLabels.AsSpan(row));
                for (int r = 1; r <= p.Count; r++) offsets[row + r] = at + p._offsets[r];
                p._indices.AsSpan(0, p._nnz).CopyTo(indices.AsSpan(at));
                p._values.AsSpan(0, p._nnz).CopyTo(values.AsSpan(at));
                row += p.Count;
                at += p._nnz;
            }
            Column label = intLabels is not null ? new Int64Column(intLabels, null, count) : new Float64Column(floatLabels!, null, count);
            var features = new SparseColumn(width, offsets, indices, values, count);
            return new RecordBatch(schema, [label, features], count, RowInfo.AtPositions(sourceIndex, firstRowOrdinal, positions));
        }

        public RecordBatch Build(Schema schema, int width, int sourceIndex, long firstRowOrdinal, ReadOnlySpan<long> positions)
        {
            int count = Count;
            Column label = _intLabels is not null ? new Int64Column(_intLabels, null, count) : new Float64Column(_floatLabels!, null, count);
            var offsets = _offsets.Length == count + 1 ? _offsets : _offsets.AsSpan(0, count + 1).ToArray();
            var indices = _indices.Length == _nnz ? _indices : _indices.AsSpan(0, _nnz).ToArray();
            var values = _values.Length == _nnz ? _values : _values.AsSpan(0, _nnz).ToArray();
            var features = new SparseColumn(width, offsets, indices, values, count);
            return new RecordBatch(schema, [label, features], count, RowInfo.AtPositions(sourceIndex, firstRowOrdinal, positions));
        }
    }

}

/// <summary>
/// Creates <see cref="LibSvmSource"/>s for .libsvm, .svm and .svmlight files (optionally .gz) and for an explicit
/// format "libsvm".
/// </summary>
/// <param name="options">The LibSVM options every created source gets (1-based, width from the data by default).</param>
public sealed class LibSvmSourceFactory(LibSvmOptions? options = null) : ISourceFactory
{
    private static readonly string[] Extensions = [".libsvm", ".svm", ".svmlight"];

    /// <summary>Creates a factory with the default options.</summary>
    public LibSvmSourceFactory() : this(null) { }

    /// <summary>The options every created source gets.</summary>
    public LibSvmOptions Options { get; } = options ?? new LibSvmOptions();

    /// <inheritdoc />
    public bool CanRead(string path, string? format)
    {
        if (format is not null) return format.Equals("libsvm", StringComparison.OrdinalIgnoreCase);
        string ext = Path.GetExtension(InputFiles.WithoutCompression(path));
        return Extensions.Contains(ext, StringComparer.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public IRecordSource Create(string path, SourceOptions options) => new LibSvmSource(path, options, Options);

    /// <summary>Every LibSVM line starts with its label: <see cref="LibSvmSource.LabelColumn"/>.</summary>
    public string? Label => LibSvmSource.LabelColumn;
}

/// <summary>Adds the LibSVM format to a <see cref="SourceRegistry"/>.</summary>
public static class LibSvmSourceRegistration
{
    /// <summary>Registers a <see cref="LibSvmSourceFactory"/> with the given options, so .libsvm/.svm/.svmlight inputs and --format libsvm are read with <see cref="LibSvmSource"/>.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public static SourceRegistry AddLibSvm(this SourceRegistry registry, LibSvmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.Register(new LibSvmSourceFactory(options));
    }
}
