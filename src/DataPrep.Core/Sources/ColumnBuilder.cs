using System.Buffers.Text;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using DataPrep.Data;

namespace DataPrep.Sources;

/// <summary>
/// Fills one column of one batch from UTF-8 field text. Builders for different rows of the same batch
/// may be used from several threads at once: each row index is written by exactly one thread.
/// </summary>
internal abstract class ColumnBuilder
{
    protected bool[]? _nulls;
    protected readonly int _capacity;

    protected ColumnBuilder(int capacity) => _capacity = capacity;

    /// <summary>Parses <paramref name="utf8"/> into row <paramref name="row"/>; false when it is not a value of this kind.</summary>
    public abstract bool TrySet(int row, ReadOnlySpan<byte> utf8);

    /// <summary>
    /// Parses field <paramref name="column"/> of the reader's current record into row <paramref name="row"/>.
    /// Numbers go through CsvHelper's exactly rounded fast_float port (bit-identical to double.Parse).
    /// </summary>
    public virtual bool TrySet(int row, CsvHelper.CsvReader reader, int column) => TrySet(row, reader.GetSpan(column));

    /// <summary>
    /// Sets row <paramref name="row"/> from text that label-first CSV output can copy (see <see cref="RawRecords"/>),
    /// giving the length to copy; false (nothing set) when the text is not such a number, and then
    /// <see cref="TrySet(int, CsvHelper.CsvReader, int)"/> reads it.
    /// </summary>
    public virtual bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length)
    {
        length = -1;
        return false;
    }

    /// <summary>
    /// <see cref="TrySetCopyable(int, ReadOnlySpan{byte}, out int)"/>, also giving the field's value as a double (a
    /// text-only column computes it without storing it): for rows that keep their values as float32 beside their text
    /// (<see cref="Pipeline.SourceOptions.KeepFloat32"/>), so the field is parsed once.
    /// </summary>
    public virtual bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length, out double value)
    {
        value = 0;
        length = -1;
        return false;
    }

    /// <summary>
    /// <see cref="TrySetCopyable(int, ReadOnlySpan{byte}, out int)"/> (or, with <paramref name="wantValue"/>, the overload
    /// that gives the value) of a field whose first bytes the CSV reader's plain-row path already holds in
    /// <paramref name="loaded"/> (the field's <c>utf8.Length</c> bytes, at most 16, then anything): same results, without
    /// loading the field again.
    /// </summary>
    public virtual bool TrySetCopyableLoaded(int row, ReadOnlySpan<byte> utf8, Vector128<byte> loaded, bool wantValue, out int length, out double value)
    {
        if (wantValue) return TrySetCopyable(row, utf8, out length, out value);
        value = 0;
        return TrySetCopyable(row, utf8, out length);
    }

    /// <summary>Row <paramref name="row"/>'s value (set by a <c>TrySet</c>) as a double; false for a kind that is not a number.</summary>
    public virtual bool TryGetNumber(int row, out double value)
    {
        value = 0;
        return false;
    }

    /// <summary>
    /// Writes row <paramref name="row"/>'s value (set by a <c>TrySet</c>) as label-first CSV output writes it (see
    /// <see cref="Formats.NumberText"/>: invariant <c>TryFormat</c>, shortest round-trip for doubles), so a row with a
    /// field that is not copyable text ("1e-05", "+3") still keeps its output text; false for a missing or non-finite
    /// value, or a kind written otherwise, and the row is then formatted by the writer.
    /// </summary>
    public virtual bool TryWriteText(int row, Span<byte> destination, out int written)
    {
        written = 0;
        return false;
    }

    /// <summary>The most bytes <see cref="TryWriteText"/> writes (a double's shortest round-trip text is at most 24).</summary>
    public const int MaxTextLength = 32;

    /// <summary>
    /// Sets row <paramref name="row"/> from text that <see cref="TrySetCopyable(int, ReadOnlySpan{byte}, out int)"/> accepted without setting it (a
    /// text-only column): called when the row's text is not kept after all, so its values must be there.
    /// </summary>
    public virtual void Backfill(int row, ReadOnlySpan<byte> utf8) { }

    /// <summary>
    /// The column of the first <paramref name="length"/> rows, given the batch's kept row text (<paramref name="raw"/>,
    /// empty where a row kept none) and this column's place in it; a text-only column parses its values from that
    /// text when they are first read (<see cref="KeptTextValues"/>).
    /// </summary>
    public virtual Column Build(int length, KeptTextValues? raw, int column) => Build(length);

    /// <summary>Marks row <paramref name="row"/> missing.</summary>
    public void SetNull(int row)
    {
        // Racy lazy creation is fine only under a lock: two threads may see null at once.
        if (_nulls is null)
        {
            lock (this) _nulls ??= new bool[_capacity];
        }
        _nulls[row] = true;
    }

    /// <summary>Whether row <paramref name="row"/> was marked missing (read by the thread that set the row).</summary>
    public bool IsNull(int row) => _nulls is { } nulls && nulls[row];

    /// <summary>Whether any of <paramref name="builders"/> marked row <paramref name="row"/> missing.</summary>
    public static bool AnyNull(ColumnBuilder[] builders, int row)
    {
        foreach (var b in builders) if (b.IsNull(row)) return true;
        return false;
    }

    /// <summary>The column of the first <paramref name="length"/> rows.</summary>
    public abstract Column Build(int length);

    /// <summary>What a value of this kind looks like, for error messages.</summary>
    public abstract string Expected { get; }

    /// <summary>A builder for a column of <paramref name="kind"/>; <paramref name="nonFinite"/> says what numbers that are not finite (or overflow) become.</summary>
    /// <remarks>
    /// A <paramref name="textOnly"/> float column is one whose row text is kept and whose values the run may never
    /// read (label-first CSV output copies the text): <see cref="TrySetCopyable(int, ReadOnlySpan{byte}, out int)"/> then only checks the text, and the
    /// values of rows that kept their text are parsed from it on first read, if any.
    /// </remarks>
    /// <remarks>
    /// An <paramref name="exactIntegers"/> float column (one whose kind was inferred, not set by --column-type) refuses an
    /// integer written out in full that a double cannot hold (<see cref="ValueParser.IsInexactInteger"/>): it would be
    /// read as another integer. A column set to float by the user reads it as the nearest double, as asked.
    /// </remarks>
    public static ColumnBuilder Create(ColumnKind kind, int capacity, Pipeline.NonFinitePolicy nonFinite = Pipeline.NonFinitePolicy.Error, bool textOnly = false, bool exactIntegers = false, bool decimalComma = false) => kind switch
    {
        ColumnKind.Float64 => new Float64Builder(capacity, nonFinite, textOnly, exactIntegers, decimalComma),
        ColumnKind.Int64 => new Int64Builder(capacity, nonFinite),
        ColumnKind.Boolean => new BooleanBuilder(capacity),
        ColumnKind.String => new StringBuilder(capacity),
        ColumnKind.Timestamp => new TimestampBuilder(capacity),
        _ => throw new NotSupportedException($"Columns of kind {kind} cannot be read from text."),
    };

    internal sealed class Float64Builder(int capacity, Pipeline.NonFinitePolicy nonFinite, bool textOnly, bool exactIntegers = false, bool decimalComma = false) : ColumnBuilder(capacity)
    {
        // A text-only column allocates its values only when a row needs them (rows that keep their text do not).
        private double[]? _values = textOnly ? null : new double[capacity];
        private bool _sawNaN;
        public override string Expected => decimalComma ? "a number with ',' as decimal point and no '.' (--decimal-comma)" : "a number (invariant culture, '.' as decimal point)";

        /// <summary>Whether the column only checks copyable text (see <see cref="Create"/>): its values are parsed from the kept text.</summary>
        internal bool TextOnly => textOnly;

        /// <summary>The values' array, created on first use (parser threads may race: one array wins).</summary>
        internal double[] Values => Volatile.Read(ref _values) ?? Allocate();

        private double[] Allocate()
        {
            Interlocked.CompareExchange(ref _values, new double[_capacity], null);
            return _values!;
        }

        public override bool TrySet(int row, ReadOnlySpan<byte> utf8)
            => (decimalComma ? ValueParser.TryParseDecimalComma(utf8, out Values[row]) : ValueParser.TryParseDouble(utf8, out Values[row])) && Admit(row) && Exact(utf8, row);

        // CsvHelper's parser first; the spellings it does not know ("Inf", "+Infinity") through ValueParser, so every spelling reads alike.
        public override bool TrySet(int row, CsvHelper.CsvReader reader, int column)
        {
            if (decimalComma) return TrySet(row, reader.GetSpan(column));
            var values = Values;
            return (reader.TryParse(column, out values[row]) || ValueParser.TryParseDouble(reader.GetSpan(column), out values[row])) && Admit(row)
                && (!exactIntegers || Exact(reader.GetSpan(column), row));
        }

        /// <summary>False when the column refuses inexact integers and the text is one (copyable text never is: it has at most 15 digits).</summary>
        private bool Exact(ReadOnlySpan<byte> utf8, int row) => !exactIntegers || !ValueParser.IsInexactInteger(utf8, Values[row]);

        public override bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length)
        {
            if (textOnly) return CanonicalNumber.IsCopyableDouble(utf8, out length);
            var values = Values;
            return CanonicalNumber.TryParseCopyableDouble(utf8, out values[row], out length) && double.IsFinite(values[row]);
        }

        public override bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length, out double value)
        {
            if (textOnly) return CanonicalNumber.TryParseCopyableDouble(utf8, out value, out length);
            var values = Values;
            bool ok = CanonicalNumber.TryParseCopyableDouble(utf8, out values[row], out length) && double.IsFinite(values[row]);
            value = values[row];
            return ok;
        }

        public override bool TrySetCopyableLoaded(int row, ReadOnlySpan<byte> utf8, Vector128<byte> loaded, bool wantValue, out int length, out double value)
        {
            // A text-only column's check is inlined in the plain-row path itself (CsvSource.ParsePlainFields); any other
            // caller gets the span overloads' results.
            if (textOnly) return base.TrySetCopyableLoaded(row, utf8, loaded, wantValue, out length, out value);
            var values = Values;
            bool ok = CanonicalNumber.TryCopyableLoaded(loaded, utf8.Length, computeValue: true, out values[row], out length) && double.IsFinite(values[row]);
            value = values[row];
            return ok;
        }

        public override bool TryGetNumber(int row, out double value)
        {
            value = Values[row];
            return true;
        }

        public override void Backfill(int row, ReadOnlySpan<byte> utf8)
        {
            // Only the fields TrySetCopyable accepted parse here; the others were set by TrySet.
            if (textOnly && CanonicalNumber.TryParseCopyableDouble(utf8, out double value, out _)) Values[row] = value;
        }

        public override bool TryWriteText(int row, Span<byte> destination, out int written)
        {
            written = 0;
            var values = Values;
            return _nulls?[row] != true && double.IsFinite(values[row])
                && values[row].TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
        }

        /// <summary>Applies the non-finite policy to the value just parsed: false (refused) only under Error.</summary>
        private bool Admit(int row)
        {
            var values = Values;
            if (double.IsFinite(values[row])) return true;
            if (nonFinite == Pipeline.NonFinitePolicy.Keep)
            {
                if (double.IsNaN(values[row])) Volatile.Write(ref _sawNaN, true);
                return true;
            }
            if (nonFinite == Pipeline.NonFinitePolicy.Error) return false;
            values[row] = 0;
            SetNull(row);
            return true;
        }

        public override Column Build(int length) => new Float64Column(Values, _nulls, length);

        public override Column Build(int length, KeptTextValues? raw, int column)
        {
            if (!textOnly || raw is null) return Build(length);
            raw.Add(column, this);
            // Rows that kept their text hold finite numbers; the others were parsed here, and NaN among them was seen.
            return new Float64Column(() => raw.ValuesOf(this), row => raw.ValueAt(column, this, row), _nulls, length, _capacity, noNaN: !_sawNaN);
        }
    }

    private sealed class Int64Builder(int capacity, Pipeline.NonFinitePolicy nonFinite) : ColumnBuilder(capacity)
    {
        private readonly long[] _values = new long[capacity];
        public override string Expected => "an integer";
        public override bool TrySet(int row, ReadOnlySpan<byte> utf8) => ValueParser.TryParseInt64(utf8, out _values[row]) || Overflowed(row, utf8);
        public override bool TrySet(int row, CsvHelper.CsvReader reader, int column)
        {
            var span = reader.GetSpan(column);
            return (span[0] != (byte)'+' && reader.TryParse(column, out _values[row])) || Overflowed(row, span);
        }

        /// <summary>An integer too large for the column is missing under <c>--non-finite missing</c>, refused otherwise.</summary>
        private bool Overflowed(int row, ReadOnlySpan<byte> utf8)
        {
            if (nonFinite != Pipeline.NonFinitePolicy.Missing || !ValueParser.IsIntegerOverflow(utf8)) return false;
            SetNull(row);
            return true;
        }
        public override bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length)
        {
            length = utf8.Length;
            return CanonicalNumber.IsCanonicalInteger(utf8) && ValueParser.TryParseInt64(utf8, out _values[row]);
        }

        public override bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length, out double value)
        {
            bool ok = TrySetCopyable(row, utf8, out length);
            value = _values[row];
            return ok;
        }

        public override bool TryGetNumber(int row, out double value)
        {
            value = _values[row];
            return true;
        }

        public override bool TryWriteText(int row, Span<byte> destination, out int written)
        {
            written = 0;
            return _nulls?[row] != true && _values[row].TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
        }
        public override Column Build(int length) => new Int64Column(_values, _nulls, length);
    }

    private sealed class BooleanBuilder(int capacity) : ColumnBuilder(capacity)
    {
        private readonly bool[] _values = new bool[capacity];
        public override string Expected => "a boolean (true/false, yes/no, 1/0)";
        public override bool TrySet(int row, ReadOnlySpan<byte> utf8) => ValueParser.TryParseBoolean(utf8, lenient: true, out _values[row]);
        public override Column Build(int length) => new BooleanColumn(_values, _nulls, length);
    }

    private sealed class StringBuilder(int capacity) : ColumnBuilder(capacity)
    {
        private readonly string?[] _values = new string?[capacity];
        public override string Expected => "text";
        public override bool TrySet(int row, ReadOnlySpan<byte> utf8)
        {
            _values[row] = Encoding.UTF8.GetString(utf8);
            return true;
        }
        public override Column Build(int length) => new StringColumn(_values, length);
    }

    private sealed class TimestampBuilder(int capacity) : ColumnBuilder(capacity)
    {
        private readonly long[] _values = new long[capacity];
        public override string Expected => "a date or date-time (ISO 8601, e.g. 2024-03-01 or 2024-03-01T12:00:00Z) or epoch seconds/milliseconds";
        public override bool TrySet(int row, ReadOnlySpan<byte> utf8) => ValueParser.TryParseTimestamp(utf8, out _values[row]);
        public override Column Build(int length) => new TimestampColumn(_values, _nulls, length);
    }
}

/// <summary>
/// The values of a batch's text-only float columns (see <see cref="ColumnBuilder.Create"/>), parsed from the rows' kept
/// text when first read: every such column of the batch in one pass over the rows, so a job that reads them all (a
/// spill, another output) pays one parse per field, as when they were parsed while reading. A row kept as float32 alone
/// (no text, an image: <see cref="Pipeline.Float32OnlyColumns"/>) gives its float32 values, widened; the other rows without
/// kept text had their values parsed while reading.
/// </summary>
/// <remarks>
/// The kept text is exactly what the CSV writer prints (<see cref="Data.RawRecords"/>): digits checked by
/// <see cref="CanonicalNumber"/>, or a value the reader formatted shortest round-trip, so parsing it gives the value
/// the field's own text gives. A widened float32 is not that value, but the run reads these columns only as float32,
/// and the float32 of the widened value is the float32 itself.
/// </remarks>
internal sealed class KeptTextValues(ReadOnlyMemory<byte>[] raw, ReadOnlyMemory<byte>[]? float32, int count)
{
    private readonly List<(int Column, ColumnBuilder.Float64Builder Builder)> _columns = [];
    private bool _parsed;

    /// <summary>Adds a column (in ascending column order), before any value is read.</summary>
    public void Add(int column, ColumnBuilder.Float64Builder builder) => _columns.Add((column, builder));

    /// <summary>All values of <paramref name="builder"/>'s column (parsing every text-only column of the batch once).</summary>
    public double[] ValuesOf(ColumnBuilder.Float64Builder builder)
    {
        lock (this)
        {
            if (!_parsed) ParseAll();
            _parsed = true;
        }
        return builder.Values;
    }

    /// <summary>One row's value, without parsing the others (a deferred gather reading a few rows).</summary>
    public double ValueAt(int column, ColumnBuilder.Float64Builder builder, int row)
    {
        if (raw[row].IsEmpty) return float32 is not null && !float32[row].IsEmpty ? Data.RawRecords.Float32At(float32[row].Span, column) : builder.Values[row];
        var text = raw[row].Span;
        for (int c = 0; c < column; c++) text = text[(text.IndexOf((byte)',') + 1)..];
        int end = text.IndexOf((byte)',');
        return Parse(end < 0 ? text : text[..end]);
    }

    private void ParseAll()
    {
        var columns = _columns.ToArray();
        var values = Array.ConvertAll(columns, c => c.Builder.Values);
        for (int r = 0; r < count; r++)
        {
            var text = raw[r].Span;
            if (text.IsEmpty)
            {
                if (float32 is not null && !float32[r].IsEmpty)
                {
                    var image = float32[r].Span;
                    for (int k2 = 0; k2 < columns.Length; k2++) values[k2][r] = Data.RawRecords.Float32At(image, columns[k2].Column);
                }
                continue;
            }
            int field = 0, k = 0;
            while (k < columns.Length)
            {
                int end = text.IndexOf((byte)',');
                if (field == columns[k].Column)
                {
                    values[k][r] = Parse(end < 0 ? text : text[..end]);
                    k++;
                }
                if (end < 0) break;
                text = text[(end + 1)..];
                field++;
            }
        }
    }

    /// <summary>
    /// The value of one field of kept row text (a float column's; an integer column's text reads as the same double its
    /// value converts to): the one parse of kept text, also used by RecordIO-protobuf output reading rows from it.
    /// </summary>
    internal static double Parse(ReadOnlySpan<byte> field)
    {
        if (CanonicalNumber.TryParseCopyableDouble(field, out double value, out _)) return value;
        if (ValueParser.TryParseDouble(field, out value)) return value;
        throw new InvalidOperationException($"Kept row text holds '{System.Text.Encoding.UTF8.GetString(field)}', which is not a number.");
    }
}

/// <summary>Invariant-culture parsing of field text, shared by every text source.</summary>
internal static class ValueParser
{
    /// <summary>
    /// A number in invariant culture; NaN and infinities in every spelling (NaN, nan, ±Inf, ±inf, ±Infinity, any case)
    /// and numbers beyond ±1.8e308 (which read as ±infinity) are numbers too: the column's non-finite policy decides.
    /// </summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> utf8, out double value)
    {
        if (Utf8Parser.TryParse(utf8, out value, out int consumed) && consumed == utf8.Length) return true;
        return double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || TryParseNonFinite(utf8, out value);
    }

    /// <summary>
    /// A number written with ',' as its decimal point (<c>-0,25</c>, <c>1,5e3</c>; at most one comma): the number
    /// <see cref="TryParseDouble"/> reads with a '.' there. Text holding a '.' is no such number.
    /// </summary>
    public static bool TryParseDecimalComma(ReadOnlySpan<byte> utf8, out double value)
    {
        value = 0;
        if (utf8.Contains((byte)'.')) return false;
        int comma = utf8.IndexOf((byte)',');
        if (comma < 0) return TryParseDouble(utf8, out value);
        if (utf8[(comma + 1)..].Contains((byte)',') || utf8.Length > 256) return false;
        Span<byte> dotted = stackalloc byte[utf8.Length];
        utf8.CopyTo(dotted);
        dotted[comma] = (byte)'.';
        return TryParseDouble(dotted, out value);
    }

    /// <summary>[+|-](nan|inf|infinity) in any case.</summary>
    public static bool TryParseNonFinite(ReadOnlySpan<byte> utf8, out double value)
    {
        value = 0;
        bool negative = utf8.Length > 0 && utf8[0] == (byte)'-';
        var word = utf8.Length > 0 && utf8[0] is (byte)'-' or (byte)'+' ? utf8[1..] : utf8;
        if (word.Length is not (3 or 8)) return false;
        Span<byte> lower = stackalloc byte[8];
        for (int i = 0; i < word.Length; i++) lower[i] = (byte)(word[i] | 0x20);
        var w = lower[..word.Length];
        if (w.SequenceEqual("nan"u8)) value = double.NaN;
        else if (w.SequenceEqual("inf"u8) || w.SequenceEqual("infinity"u8)) value = negative ? double.NegativeInfinity : double.PositiveInfinity;
        else return false;
        return true;
    }

    /// <summary>Whether the text is an integer (optional '-', digits) too large for a 64-bit integer.</summary>
    public static bool IsIntegerOverflow(ReadOnlySpan<byte> utf8)
    {
        var digits = utf8.Length > 0 && utf8[0] == (byte)'-' ? utf8[1..] : utf8;
        return digits.Length >= 19 && digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0 && !TryParseInt64(utf8, out _);
    }

    /// <summary>Integers of fewer significant digits than this are below 10^15 &lt; 2^53: a double holds each exactly.</summary>
    public const int ExactDigits = 16;

    /// <summary>
    /// Whether <paramref name="utf8"/> is an integer written out in full (optional sign, digits, optional surrounding
    /// spaces) whose value <paramref name="value"/>, the double it parsed to, is not: a double holds every integer up to
    /// 2^53 and only some beyond, so 9007199254740993 reads as 9007199254740992.
    /// </summary>
    public static bool IsInexactInteger(ReadOnlySpan<byte> utf8, double value)
    {
        if (utf8.Length < ExactDigits || !double.IsFinite(value)) return false;
        var text = utf8.Trim((byte)' ');
        if (text.Length > 0 && text[0] is (byte)'-' or (byte)'+') text = text[1..];
        if (text.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0) return false;
        int first = text.IndexOfAnyExcept((byte)'0');
        if (first < 0 || text.Length - first < ExactDigits) return false;
        Span<char> digits = text.Length - first <= 512 ? stackalloc char[text.Length - first] : new char[text.Length - first];
        for (int i = 0; i < digits.Length; i++) digits[i] = (char)text[first + i];
        return !System.Numerics.BigInteger.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var exact)
            || !DoubleHolds(exact, Math.Abs(value));
    }

    /// <summary>
    /// Whether <paramref name="value"/>, the double nearest <paramref name="integer"/>, is that integer: always when the
    /// double is below 2^53 in magnitude (no arithmetic then; 2^53 + 1 rounds to 2^53 itself), beyond only for some. The
    /// one test behind every refusal of an integer a double cannot hold (text, a widened integer column, a Parquet DECIMAL
    /// of scale 0).
    /// </summary>
    public static bool DoubleHolds(System.Numerics.BigInteger integer, double value)
        => Math.Abs(value) < ExactIntegerLimit || new System.Numerics.BigInteger(value) == integer;

    /// <inheritdoc cref="DoubleHolds(System.Numerics.BigInteger, double)"/>
    /// <remarks>The integer becomes a <see cref="System.Numerics.BigInteger"/> only beyond 2^53 (one allocation then).</remarks>
    public static bool DoubleHolds(long integer, double value)
        => Math.Abs(value) < ExactIntegerLimit || new System.Numerics.BigInteger(value) == integer;

    /// <summary>2^53: a double below it in magnitude is the integer it was read from (2^53 itself may be 2^53 + 1).</summary>
    public const double ExactIntegerLimit = 9007199254740992.0;

    /// <summary>
    /// The problem to report when a float column refused <paramref name="utf8"/> as an integer a double cannot hold
    /// (<see cref="IsInexactInteger"/>); null when that is not why. One wording for every source.
    /// </summary>
    public static string? InexactIntegerProblem(ReadOnlySpan<byte> utf8, ColumnKind kind, string column)
    {
        if (kind != ColumnKind.Float64 || !TryParseDouble(utf8, out double v) || !IsInexactInteger(utf8, v)) return null;
        return InexactIntegerMessage(Throw.Quote(utf8), "the column is float (inferred from its first rows)", v, column);
    }

    /// <summary>
    /// The one wording of an integer refused because a double holds it only as another (text, a widened integer column, a
    /// Parquet DECIMAL of integers): <paramref name="found"/> as written, <paramref name="why"/> the column is float, the
    /// integer it would become (<paramref name="becomes"/>), and the two ways out.
    /// </summary>
    public static string InexactIntegerMessage(string found, string why, double becomes, string column)
        => $"found the integer {found}, which a 64-bit float cannot hold: {why}, where it would read as {new System.Numerics.BigInteger(becomes).ToString(CultureInfo.InvariantCulture)}. "
            + $"Keep its digits with --column-type {column}=string, or accept the nearest float with --column-type {column}=float";

    /// <summary>
    /// The problem to report when <paramref name="utf8"/> was refused by a numeric column because it is not finite (or
    /// overflows an integer column); null when that is not why. One wording for every source.
    /// </summary>
    public static string? NonFiniteProblem(ReadOnlySpan<byte> utf8, ColumnKind kind)
    {
        string quoted = Throw.Quote(utf8);
        if (kind == ColumnKind.Float64 && TryParseDouble(utf8, out double v) && !double.IsFinite(v))
        {
            return $"found {quoted}, which is not a finite number ({(double.IsNaN(v) ? "NaN" : v > 0 ? "+infinity" : "-infinity")}); expected a finite number. "
                + "NaN and infinities, in any spelling, and numbers beyond ±1.8e308 are refused by default: pass --non-finite missing to read them as missing values (--missing then decides), or --non-finite keep to write them as they are (RecordIO-protobuf and Parquet)";
        }
        if (kind == ColumnKind.Int64 && IsIntegerOverflow(utf8))
        {
            return $"found {quoted}, which overflows the column's 64-bit integers; expected an integer from {long.MinValue} to {long.MaxValue}. "
                + "Read the column as float with --column-type COLUMN=float, or pass --non-finite missing to read such values as missing";
        }
        return null;
    }

    public static bool TryParseInt64(ReadOnlySpan<byte> utf8, out long value)
        => Utf8Parser.TryParse(utf8, out value, out int consumed) && consumed == utf8.Length && utf8[0] != (byte)'+';

    public static bool TryParseBoolean(ReadOnlySpan<byte> utf8, bool lenient, out bool value)
    {
        value = false;
        if (utf8.Length is < 1 or > 5) return false;
        Span<byte> lower = stackalloc byte[utf8.Length];
        for (int i = 0; i < utf8.Length; i++) lower[i] = (byte)(utf8[i] | 0x20);
        if (lower.SequenceEqual("true"u8)) { value = true; return true; }
        if (lower.SequenceEqual("false"u8)) return true;
        if (!lenient) return false;
        if (lower.SequenceEqual("yes"u8) || utf8.SequenceEqual("1"u8)) { value = true; return true; }
        return lower.SequenceEqual("no"u8) || utf8.SequenceEqual("0"u8);
    }

    /// <summary>ISO 8601 dates and date-times (offsets normalised to UTC; none means UTC), or epoch seconds/millis.</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> utf8, out long utcTicks)
    {
        utcTicks = 0;
        if (utf8.Length == 0 || utf8.Length > 64) return false;
        if (TryParseInt64(utf8, out long epoch))
        {
            // 12+ digits cannot be seconds of a sane date (year 5138+), so they are milliseconds.
            long ms = Math.Abs(epoch) >= 100_000_000_000 ? epoch : epoch * 1000;
            long ticks = DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond;
            if (ticks < 0 || ticks > DateTime.MaxValue.Ticks) return false;
            utcTicks = ticks;
            return true;
        }
        if (utf8.Length < 8 || !IsDigit(utf8[0]) || utf8[4] != (byte)'-') return false;
        Span<char> chars = stackalloc char[utf8.Length];
        for (int i = 0; i < utf8.Length; i++) chars[i] = (char)utf8[i];
        if (!DateTimeOffset.TryParse(chars, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var dto)) return false;
        utcTicks = dto.UtcTicks;
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    /// <summary>The narrowest kind every sample value fits: boolean, integer, float, timestamp, else string.</summary>
    public static ColumnKind Infer(IEnumerable<byte[]> samples)
    {
        var inference = new KindInference();
        foreach (var s in samples) _ = inference.Observe(s);
        return inference.Result;
    }
}

/// <summary>
/// Type inference for one column, one value at a time (no copies of the sample): the narrowest of
/// boolean, integer, float, timestamp that every value fits, else string; float when no value was seen.
/// </summary>
internal struct KindInference
{
    private bool _seen, _notBool, _notInt, _notFloat, _notTime;

    /// <summary>Numbers are written with ',' as decimal point (<see cref="Pipeline.SourceOptions.DecimalComma"/>).</summary>
    public bool DecimalComma { get; init; }
    private int _values, _numbers, _times, _commaNumbers, _pointNumbers;
    private (string Text, long Line, long Row)? _notNumber, _notTimestamp, _firstCommaNumber;

    /// <summary>What one sampled value is, as far as the evidence for a text column needs.</summary>
    public enum Sort
    {
        /// <summary>A number (integer or float).</summary>
        Number,

        /// <summary>A timestamp (and not a number).</summary>
        Time,

        /// <summary>Neither.</summary>
        Other,
    }

    /// <summary>
    /// <see cref="Observe(ReadOnlySpan{byte})"/>, noting the first value that is not a number and the first that is not a
    /// timestamp, where each is (<paramref name="line"/>, <paramref name="row"/>), and how many values are either: what
    /// <see cref="TextEvidence"/> tells a user whose column of numbers or dates was inferred as text.
    /// </summary>
    public void Observe(ReadOnlySpan<byte> value, long line, long row)
    {
        _values++;
        var sort = Observe(value);
        if (sort == Sort.Number)
        {
            _numbers++;
            if (value.Contains((byte)'.')) _pointNumbers++;
        }
        else _notNumber ??= (Throw.Quote(value), line, row);
        if (sort == Sort.Time) _times++;
        else _notTimestamp ??= (Throw.Quote(value), line, row);
        // A number written with a decimal comma, in a file read without --decimal-comma: the evidence names the option.
        if (sort == Sort.Other && !DecimalComma && value.Contains((byte)',') && ValueParser.TryParseDecimalComma(value, out _))
        {
            _commaNumbers++;
            _firstCommaNumber ??= (Throw.Quote(value), line, row);
        }
    }

    /// <summary>
    /// Why a column inferred as text is text, for the message that refuses it as a feature: its first value that is not
    /// a number (or, where timestamps outnumber numbers, not a timestamp), in <paramref name="path"/> at that line and
    /// row, and how many of the sampled values are numbers (timestamps). When most are and the value holds no digit, it
    /// may mark missing values, so --null-values is named. Null when no sampled value is a number or a timestamp (a
    /// column of words is text plainly).
    /// </summary>
    public readonly string? TextEvidence(string path)
    {
        if (Result != ColumnKind.String) return null;
        // Numbers with a decimal comma, and none with a point: the file's convention, which --decimal-comma reads.
        if (_firstCommaNumber is var (text, line, row) && _pointNumbers == 0 && 2 * (_commaNumbers + _numbers) >= _values)
        {
            return $"{path}, line {line}, row {row} holds {text}, and {_commaNumbers:N0} of the {_values:N0} values of the first rows are numbers with a decimal comma; --decimal-comma reads them as numbers";
        }
        var (count, first, what) = _times > _numbers ? (_times, _notTimestamp, "timestamps") : (_numbers, _notNumber, "numbers");
        return count == 0 || first is not { } found ? null : Evidence(path, found, "", count, _values, what);
    }

    /// <summary>
    /// The words of <see cref="TextEvidence"/>, for every source: <paramref name="found"/> (quoted, with its line and data
    /// row) in <paramref name="path"/>, though <paramref name="count"/> of the <paramref name="values"/> sampled values are
    /// <paramref name="what"/>; --null-values is named when most are and the value holds no digit (so it may mark a
    /// missing value, where a decimal comma or a mistyped date does not). <paramref name="kindOfValue"/> names what the
    /// value is where the format tells ("the string ").
    /// </summary>
    public static string Evidence(string path, (string Text, long Line, long Row) found, string kindOfValue, long count, long values, string what)
    {
        var (text, line, row) = found;
        string unquoted = text[1..^1];
        bool mayMarkMissing = 2 * count >= values && !unquoted.Any(char.IsAsciiDigit) && !unquoted.Contains(',') && !unquoted.EndsWith('…');
        return $"{path}, line {line}, row {row} holds {kindOfValue}{text}, though {count:N0} of the {values:N0} values of the first rows are {what}"
            + (mayMarkMissing ? $"; if {text} marks a missing value, add --null-values {unquoted}" : "");
    }

    /// <summary>
    /// Narrows the kind by one value and says what it is (parsed only as far as the kind needs, and once the column is
    /// text only to count numbers and timestamps).
    /// </summary>
    public Sort Observe(ReadOnlySpan<byte> value)
    {
        _seen = true;
        if (_notBool && _notInt && _notTime)
        {
            // Only "float?" is open (a float column after its first non-integer value): text the copyable check accepts is
            // a number, so the general parser runs only on the rest.
            if (!_notFloat && !DecimalComma && CanonicalNumber.IsCopyableDouble(value, out _)) return Sort.Number;
            if (IsNumber(value)) return Sort.Number;
            _notFloat = true;
            return ValueParser.TryParseTimestamp(value, out _) ? Sort.Time : Sort.Other;
        }
        if (!_notBool && !ValueParser.TryParseBoolean(value, lenient: false, out _)) _notBool = true;
        bool isInt = !_notInt && ValueParser.TryParseInt64(value, out _);
        if (!isInt) _notInt = true;
        bool number = isInt || IsNumber(value);
        if (!number) _notFloat = true;
        // Integers are never timestamps by inference (epoch values need --column-type COL=timestamp).
        bool time = !number && ValueParser.TryParseTimestamp(value, out _);
        if (!time) _notTime = true;
        return number ? Sort.Number : time ? Sort.Time : Sort.Other;
    }

    private readonly bool IsNumber(ReadOnlySpan<byte> value)
        => DecimalComma ? ValueParser.TryParseDecimalComma(value, out _) : ValueParser.TryParseDouble(value, out _);

    public readonly ColumnKind Result =>
        !_seen ? ColumnKind.Float64
        : !_notBool ? ColumnKind.Boolean
        : !_notInt ? ColumnKind.Int64
        : !_notFloat ? ColumnKind.Float64
        : !_notTime ? ColumnKind.Timestamp
        : ColumnKind.String;
}
