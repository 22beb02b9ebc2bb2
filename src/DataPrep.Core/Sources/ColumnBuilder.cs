using System.Buffers.Text;
using System.Globalization;
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

    /// <summary>The column of the first <paramref name="length"/> rows.</summary>
    public abstract Column Build(int length);

    /// <summary>What a value of this kind looks like, for error messages.</summary>
    public abstract string Expected { get; }

    public static ColumnBuilder Create(ColumnKind kind, int capacity) => kind switch
    {
        ColumnKind.Float64 => new Float64Builder(capacity),
        ColumnKind.Int64 => new Int64Builder(capacity),
        ColumnKind.Boolean => new BooleanBuilder(capacity),
        ColumnKind.String => new StringBuilder(capacity),
        ColumnKind.Timestamp => new TimestampBuilder(capacity),
        _ => throw new NotSupportedException($"Columns of kind {kind} cannot be read from text."),
    };

    private sealed class Float64Builder(int capacity) : ColumnBuilder(capacity)
    {
        private readonly double[] _values = new double[capacity];
        public override string Expected => "a number (invariant culture, '.' as decimal point)";
        public override bool TrySet(int row, ReadOnlySpan<byte> utf8) => ValueParser.TryParseDouble(utf8, out _values[row]);
        public override bool TrySet(int row, CsvHelper.CsvReader reader, int column) => reader.TryParse(column, out _values[row]);
        public override bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length) => CanonicalNumber.TryParseCopyableDouble(utf8, out _values[row], out length);
        public override Column Build(int length) => new Float64Column(_values, _nulls, length);
    }

    private sealed class Int64Builder(int capacity) : ColumnBuilder(capacity)
    {
        private readonly long[] _values = new long[capacity];
        public override string Expected => "an integer";
        public override bool TrySet(int row, ReadOnlySpan<byte> utf8) => ValueParser.TryParseInt64(utf8, out _values[row]);
        public override bool TrySet(int row, CsvHelper.CsvReader reader, int column)
        {
            var span = reader.GetSpan(column);
            return span[0] != (byte)'+' && reader.TryParse(column, out _values[row]);
        }
        public override bool TrySetCopyable(int row, ReadOnlySpan<byte> utf8, out int length)
        {
            length = utf8.Length;
            return CanonicalNumber.IsCanonicalInteger(utf8) && ValueParser.TryParseInt64(utf8, out _values[row]);
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

/// <summary>Invariant-culture parsing of field text, shared by every text source.</summary>
internal static class ValueParser
{
    public static bool TryParseDouble(ReadOnlySpan<byte> utf8, out double value)
    {
        if (Utf8Parser.TryParse(utf8, out value, out int consumed) && consumed == utf8.Length) return true;
        return double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
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
        foreach (var s in samples) inference.Observe(s);
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

    public void Observe(ReadOnlySpan<byte> value)
    {
        _seen = true;
        if (_notBool && _notInt && _notFloat && _notTime) return;
        if (!_notBool && !ValueParser.TryParseBoolean(value, lenient: false, out _)) _notBool = true;
        bool isInt = !_notInt && ValueParser.TryParseInt64(value, out _);
        if (!isInt) _notInt = true;
        if (!_notFloat && !isInt && !ValueParser.TryParseDouble(value, out _)) _notFloat = true;
        // Integers are never timestamps by inference (epoch values need --column-type COL=timestamp).
        if (!_notTime && (isInt || !ValueParser.TryParseTimestamp(value, out _))) _notTime = true;
    }

    public readonly ColumnKind Result =>
        !_seen ? ColumnKind.Float64
        : !_notBool ? ColumnKind.Boolean
        : !_notInt ? ColumnKind.Int64
        : !_notFloat ? ColumnKind.Float64
        : !_notTime ? ColumnKind.Timestamp
        : ColumnKind.String;
}
