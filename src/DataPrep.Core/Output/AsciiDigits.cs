using System.Numerics;
using System.Runtime.CompilerServices;

namespace DataPrep.Output;

/// <summary>
/// Hand-written ASCII formatting for the hot output paths (lineage lines, integer CSV fields): the same bytes
/// as .NET's invariant formatting (<c>long.ToString()</c>, <c>ulong.ToString("x16")</c>), written straight
/// into a span at a position the caller tracks. The caller guarantees room: at most 20 bytes per integer,
/// 16 per hex value. Property tests hold every method to the .NET formatter.
/// </summary>
internal static class AsciiDigits
{
    /// <summary>Longest integer text: "-9223372036854775808".</summary>
    public const int MaxInt64Length = 20;

    // "00" "01" … "99": two digits per lookup.
    private static ReadOnlySpan<byte> TwoDigits =>
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"u8;

    // Lower-case hex of every byte value: two characters per lookup.
    private static readonly ushort[] s_hexPairs = HexPairs();

    private static ushort[] HexPairs()
    {
        var pairs = new ushort[256];
        const string digits = "0123456789abcdef";
        for (int b = 0; b < 256; b++) pairs[b] = BitConverter.IsLittleEndian ? (ushort)(digits[b >> 4] | (digits[b & 0xF] << 8)) : (ushort)((digits[b >> 4] << 8) | digits[b & 0xF]);
        return pairs;
    }

    /// <summary>The number of decimal digits of <paramref name="value"/> (1 for 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CountDigits(ulong value)
    {
        // log2 → the digit count of the largest value with that log2; one compare fixes it up (as .NET does).
        ReadOnlySpan<byte> log2ToDigits =
        [
            1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5,
            6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10, 10,
            10, 11, 11, 11, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 15, 15,
            15, 16, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19, 19, 19, 19, 20,
        ];
        ReadOnlySpan<ulong> smallestWithDigits =
        [
            0, 0, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
            10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
            1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000, 10000000000000000000,
        ];
        int digits = log2ToDigits[BitOperations.Log2(value)];
        return digits - (value < smallestWithDigits[digits] ? 1 : 0);
    }

    /// <summary>Writes <paramref name="value"/> in decimal at <paramref name="pos"/>; returns the position after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteUInt64(Span<byte> span, int pos, ulong value)
    {
        if (value < 10)
        {
            span[pos] = (byte)('0' + value);
            return pos + 1;
        }
        return WriteMultiDigit(span, pos, value);
    }

    /// <summary>Writes <paramref name="value"/> in invariant decimal ('-' for negatives) at <paramref name="pos"/>; returns the position after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteInt64(Span<byte> span, int pos, long value)
    {
        if (value >= 0) return WriteUInt64(span, pos, (ulong)value);
        span[pos] = (byte)'-';
        return WriteMultiDigit(span, pos + 1, 0UL - (ulong)value); // also right for long.MinValue
    }

    private static int WriteMultiDigit(Span<byte> span, int pos, ulong value)
    {
        int end = pos + CountDigits(value);
        var digits = span[pos..end];
        var pairs = TwoDigits;
        int i = digits.Length;
        while (value >= 100)
        {
            ulong q = value / 100;
            int r = (int)(value - q * 100) * 2;
            value = q;
            digits[--i] = pairs[r + 1];
            digits[--i] = pairs[r];
        }
        if (value >= 10)
        {
            int r = (int)value * 2;
            digits[1] = pairs[r + 1];
            digits[0] = pairs[r];
        }
        else
        {
            digits[0] = (byte)('0' + value);
        }
        return end;
    }

    /// <summary>Writes exactly two digits of <paramref name="value"/> (0–99) at <paramref name="pos"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteTwoDigits(Span<byte> span, int pos, int value)
    {
        var pairs = TwoDigits;
        span[pos] = pairs[value * 2];
        span[pos + 1] = pairs[value * 2 + 1];
    }

    /// <summary>Writes <paramref name="value"/> as 16 lower-case hex digits at <paramref name="pos"/>; returns the position after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteHex16(Span<byte> span, int pos, ulong value)
    {
        var target = span.Slice(pos, 16);
        var pairs = s_hexPairs;
        for (int i = 14; i >= 0; i -= 2, value >>= 8)
        {
            Unsafe.WriteUnaligned(ref target[i], pairs[(int)(value & 0xFF)]);
        }
        return pos + 16;
    }
}

/// <summary>
/// Formats UTC ticks as <c>yyyy-MM-ddTHH:mm:ss.FFFFFFFZ</c> (fraction without trailing zeros, no period when it
/// is zero), the bytes of <c>DateTime.ToString</c> with that invariant custom format. The date part is computed
/// once per day and reused (lineage times come sorted, so almost every row hits); the time of day is plain
/// arithmetic on the ticks. One instance per thread.
/// </summary>
internal sealed class TimeTextWriter
{
    /// <summary>Longest text: "9999-12-31T23:59:59.9999999Z".</summary>
    public const int MaxLength = 28;

    private static readonly long s_maxTicks = DateTime.MaxValue.Ticks;
    private long _day = -1;
    private readonly byte[] _prefix = new byte[11]; // "yyyy-MM-ddT"

    /// <summary>Writes the text of <paramref name="utcTicks"/> at <paramref name="pos"/>; returns the position after it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The ticks are not a valid <see cref="DateTime"/>.</exception>
    public int Write(Span<byte> span, int pos, long utcTicks)
    {
        if ((ulong)utcTicks > (ulong)s_maxTicks) throw new ArgumentOutOfRangeException(nameof(utcTicks), utcTicks, "Ticks out of the DateTime range.");
        long day = utcTicks / TimeSpan.TicksPerDay;
        if (day != _day) SetDay(day);
        _prefix.CopyTo(span.Slice(pos, 11));
        long ofDay = utcTicks - day * TimeSpan.TicksPerDay;
        int seconds = (int)(ofDay / TimeSpan.TicksPerSecond);
        int fraction = (int)(ofDay - seconds * TimeSpan.TicksPerSecond);
        int hour = seconds / 3600;
        int rest = seconds - hour * 3600;
        int minute = rest / 60;
        int second = rest - minute * 60;
        var text = span.Slice(pos, MaxLength);
        AsciiDigits.WriteTwoDigits(text, 11, hour);
        text[13] = (byte)':';
        AsciiDigits.WriteTwoDigits(text, 14, minute);
        text[16] = (byte)':';
        AsciiDigits.WriteTwoDigits(text, 17, second);
        int n = 19;
        if (fraction != 0)
        {
            int digits = 7;
            while (fraction % 10 == 0) { fraction /= 10; digits--; }
            text[n++] = (byte)'.';
            for (int i = n + digits - 1; i >= n; i--) { text[i] = (byte)('0' + fraction % 10); fraction /= 10; }
            n += digits;
        }
        text[n++] = (byte)'Z';
        return pos + n;
    }

    private void SetDay(long day)
    {
        new DateTime(day * TimeSpan.TicksPerDay, DateTimeKind.Utc).Deconstruct(out int year, out int month, out int dayOfMonth);
        var p = _prefix.AsSpan();
        AsciiDigits.WriteTwoDigits(p, 0, year / 100);
        AsciiDigits.WriteTwoDigits(p, 2, year % 100);
        p[4] = (byte)'-';
        AsciiDigits.WriteTwoDigits(p, 5, month);
        p[7] = (byte)'-';
        AsciiDigits.WriteTwoDigits(p, 8, dayOfMonth);
        p[10] = (byte)'T';
        _day = day;
    }
}
