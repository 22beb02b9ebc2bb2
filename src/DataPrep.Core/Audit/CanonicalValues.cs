using System.Globalization;
using System.IO.Hashing;
using System.Text;
using DataPrep.Data;
using DataPrep.Sources;

namespace DataPrep.Audit;

/// <summary>
/// One text form per value, whatever the file format and whatever type a source inferred, so the same row
/// read from CSV, JSON Lines and Parquet hashes alike and the same group key matches across files:
/// integers and integral floats as integers (<c>3</c>, never <c>3.0</c>), other floats as the shortest
/// round-trip text, booleans as <c>true</c>/<c>false</c>, instants as ISO 8601 UTC, and text that reads as
/// one of those in the same form (a CSV holding <c>1.50</c> as text matches a Parquet double 1.5).
/// </summary>
public static class CanonicalValues
{
    /// <summary>The separator between the values of a row in its hashed form (ASCII unit separator).</summary>
    private const byte Separator = 0x1F;

    /// <summary>Stands for a missing value in the hashed form (ASCII NUL; text values never start with it after reading).</summary>
    private const byte Missing = 0x00;

    /// <summary>The text form of row <paramref name="row"/> of <paramref name="column"/>; null when missing.</summary>
    public static string? Text(Column column, int row)
    {
        if (column.IsNull(row)) return null;
        return column switch
        {
            StringColumn s => OfText(s.Values[row]!),
            Int64Column l => l.Values[row].ToString(CultureInfo.InvariantCulture),
            Float64Column d => OfDouble(d.Values[row]),
            BooleanColumn b => b.Values[row] ? "true" : "false",
            TimestampColumn t => Iso(t.Values[row]),
            SparseColumn sp => OfSparse(sp, row),
            BinaryColumn bin => "bytes:" + Convert.ToHexStringLower(XxHash128.Hash(bin.Values[row].Span)),
            _ => throw new NotSupportedException(column.GetType().Name),
        };
    }

    /// <summary>Text that reads as a number, boolean or instant in that value's form; other text as it is.</summary>
    public static string OfText(string text)
    {
        if (text.Length is 0 or > 64) return text;
        char c = text[0];
        if (char.IsAsciiDigit(c) || c is '-' or '+' or '.' || char.IsAsciiLetter(c))
        {
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) && c != '+') return l.ToString(CultureInfo.InvariantCulture);
            if (char.IsAsciiDigit(c) || c is '-' or '.' || text is "NaN" or "Infinity")
            {
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return OfDouble(d);
            }
            if (text.Length is 4 or 5 && (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase)))
            {
                return text.ToLowerInvariant();
            }
            if (char.IsAsciiDigit(c) && TryParseInstant(text, out long ticks)) return Iso(ticks);
        }
        return text;
    }

    /// <summary>An integral double as an integer, others as the shortest round-trip text; −0 as 0.</summary>
    public static string OfDouble(double d)
    {
        if (d == Math.Floor(d) && Math.Abs(d) < 1e15) return ((long)d).ToString(CultureInfo.InvariantCulture);
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string OfSparse(SparseColumn s, int row)
    {
        var sb = new StringBuilder("sparse:");
        for (int k = s.RowOffsets[row]; k < s.RowOffsets[row + 1]; k++)
        {
            if (k > s.RowOffsets[row]) sb.Append(' ');
            sb.Append(s.Indices[k].ToString(CultureInfo.InvariantCulture)).Append(':').Append(OfDouble(s.Values[k]));
        }
        return sb.ToString();
    }

    /// <summary>UTC ticks as ISO 8601 (<c>2024-03-01T12:00:00Z</c>, with a fraction of a second only when there is one).</summary>
    public static string Iso(long utcTicks) => new DateTime(utcTicks, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);

    /// <summary>ISO 8601 text (offsets normalised to UTC, none means UTC) or epoch seconds/milliseconds, as the text sources read timestamps.</summary>
    public static bool TryParseInstant(string text, out long utcTicks)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> utf8 = max <= 256 ? stackalloc byte[max] : new byte[max];
        int n = Encoding.UTF8.GetBytes(text, utf8);
        return ValueParser.TryParseTimestamp(utf8[..n], out utcTicks);
    }

    /// <summary>How a time value was read.</summary>
    public enum TimeRead
    {
        /// <summary>Read.</summary>
        Ok,
        /// <summary>The value is missing.</summary>
        Missing,
        /// <summary>The value is not a time.</summary>
        Invalid,
    }

    /// <summary>
    /// The instant of row <paramref name="row"/>: timestamps as they are, numbers as Unix epoch time
    /// (|v| ≥ 10¹¹ milliseconds, else seconds, as the time split reads them), text as ISO 8601 or epoch digits.
    /// </summary>
    public static TimeRead Time(Column column, int row, out long utcTicks)
    {
        utcTicks = 0;
        if (column.IsNull(row)) return TimeRead.Missing;
        switch (column)
        {
            case TimestampColumn t:
                utcTicks = t.Values[row];
                return TimeRead.Ok;
            case Int64Column l:
                return FromEpoch(l.Values[row], out utcTicks);
            case Float64Column d:
            {
                double v = d.Values[row];
                if (!double.IsFinite(v)) return TimeRead.Invalid;
                long unit = Math.Abs(v) >= 1e11 ? TimeSpan.TicksPerMillisecond : TimeSpan.TicksPerSecond;
                double whole = Math.Floor(v);
                if (Math.Abs(whole) * unit > DateTime.MaxValue.Ticks) return TimeRead.Invalid;
                // Whole units exactly, the fraction rounded to the nearest tick (v·10⁷ as a double would lose ticks).
                long ticks = DateTime.UnixEpoch.Ticks + (long)whole * unit + (long)Math.Round((v - whole) * unit);
                if (ticks < 0 || ticks > DateTime.MaxValue.Ticks) return TimeRead.Invalid;
                utcTicks = ticks;
                return TimeRead.Ok;
            }
            case StringColumn s:
                return TryParseInstant(s.Values[row]!.Trim(), out utcTicks) ? TimeRead.Ok : TimeRead.Invalid;
            default:
                return TimeRead.Invalid;
        }
    }

    private static TimeRead FromEpoch(long v, out long utcTicks)
    {
        utcTicks = 0;
        // |v| < 10¹¹ seconds or |v| ≤ DateTime's range in milliseconds (~3·10¹⁴): the products below cannot overflow.
        if (v is > 400_000_000_000_000 or < -400_000_000_000_000) return TimeRead.Invalid;
        long ms = Math.Abs(v) >= 100_000_000_000 ? v : v * 1000;
        long ticks = DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond;
        if (ticks < 0 || ticks > DateTime.MaxValue.Ticks) return TimeRead.Invalid;
        utcTicks = ticks;
        return TimeRead.Ok;
    }

    /// <summary>
    /// Hashes rows by their values in canonical text form, in a fixed column order, so the same row hashes
    /// alike in every file that has those columns.
    /// </summary>
    public sealed class RowHasher
    {
        private byte[] _buffer = new byte[1024];

        /// <summary>XxHash3-64 of the canonical text of the given columns of row <paramref name="row"/>.</summary>
        public ulong Hash(IReadOnlyList<Column> columns, int row)
        {
            int at = 0;
            for (int c = 0; c < columns.Count; c++)
            {
                string? text = Text(columns[c], row);
                int need = text is null ? 2 : Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
                if (at + need > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, at + need));
                if (text is null) _buffer[at++] = Missing;
                else at += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(at));
                _buffer[at++] = Separator;
            }
            return XxHash3.HashToUInt64(_buffer.AsSpan(0, at));
        }
    }
}
