using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    // "00" "01" … "99" as 16-bit stores (first digit at the lower address): two digits per table load.
    private static readonly ushort[] s_digitPairs = DigitPairs();

    private static ushort[] DigitPairs()
    {
        var pairs = new ushort[100];
        for (int i = 0; i < 100; i++) pairs[i] = BitConverter.IsLittleEndian ? (ushort)(('0' + i / 10) | (('0' + i % 10) << 8)) : (ushort)((('0' + i / 10) << 8) | ('0' + i % 10));
        return pairs;
    }

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
        // One range check, then unchecked stores from the end backwards, two digits per table load.
        ref byte first = ref span[pos..end][0];
        ref byte at = ref Unsafe.Add(ref first, end - pos);
        ref ushort pairs = ref MemoryMarshal.GetArrayDataReference(s_digitPairs);
        while (value > uint.MaxValue)
        {
            ulong q = value / 100;
            at = ref Unsafe.Subtract(ref at, 2);
            Unsafe.WriteUnaligned(ref at, Unsafe.Add(ref pairs, (nint)(value - q * 100)));
            value = q;
        }
        uint v = (uint)value;
        while (v >= 100)
        {
            uint q = v / 100;
            at = ref Unsafe.Subtract(ref at, 2);
            Unsafe.WriteUnaligned(ref at, Unsafe.Add(ref pairs, (nint)(v - q * 100)));
            v = q;
        }
        if (v >= 10) Unsafe.WriteUnaligned(ref first, Unsafe.Add(ref pairs, (nint)v));
        else first = (byte)('0' + v);
        return end;
    }

    /// <summary>Writes exactly two digits of <paramref name="value"/> (0–99) at <paramref name="pos"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteTwoDigits(Span<byte> span, int pos, int value)
        => Unsafe.WriteUnaligned(ref span.Slice(pos, 2)[0], s_digitPairs[value]);

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
/// Writes integers that mostly count up by one (row ids, source rows, record numbers in a lineage chunk): the
/// text of the last value is kept and incremented in place (a carry only every ten values) instead of being
/// formatted again; any other value is formatted with <see cref="AsciiDigits"/>. Same bytes as
/// <c>long.ToString()</c>. One instance per thread.
/// </summary>
internal sealed class CountingDecimal
{
    private readonly byte[] _text = new byte[32]; // the digits of _last at [0, _length) when _length > 0
    private int _length;
    private long _last;

    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="pos"/>; returns the position after it. With room, it
    /// stores 24 bytes at once: the bytes between the returned position and pos + 24 are then scratch, to be
    /// overwritten by what follows (or left beyond the text's end).
    /// </summary>
    public int Write(Span<byte> span, int pos, long value)
    {
        if (_length > 0 && value == _last + 1 && value > 0) Increment();
        else if (_length == 0 || value != _last)
        {
            if (value < 0)
            {
                _length = 0;
                return AsciiDigits.WriteInt64(span, pos, value);
            }
            _length = AsciiDigits.WriteUInt64(_text, 0, (ulong)value);
        }
        _last = value;
        if (span.Length - pos >= 24) Unsafe.CopyBlockUnaligned(ref span[pos], ref _text[0], 24); // fixed size: no call; the bytes after the digits are overwritten later or ignored
        else _text.AsSpan(0, _length).CopyTo(span.Slice(pos));
        return pos + _length;
    }

    private void Increment()
    {
        var text = _text;
        int i = _length - 1;
        while (text[i] == (byte)'9')
        {
            text[i] = (byte)'0';
            if (--i < 0)
            {
                // 9…9 + 1: one digit more, 1 followed by zeros.
                text[0] = (byte)'1';
                text[_length++] = (byte)'0';
                return;
            }
        }
        text[i]++;
    }
}

/// <summary>
/// Formats UTC ticks as <c>yyyy-MM-ddTHH:mm:ss.FFFFFFFZ</c> (fraction without trailing zeros, no period when it
/// is zero), the bytes of <c>DateTime.ToString</c> with that invariant custom format. The text up to the minute
/// is computed once per minute and reused (lineage times come sorted, so most rows hit); the seconds and the
/// fraction are plain arithmetic on the ticks. One instance per thread.
/// </summary>
internal sealed class TimeTextWriter
{
    /// <summary>Longest text: "9999-12-31T23:59:59.9999999Z".</summary>
    public const int MaxLength = 28;

    private static readonly long s_maxTicks = DateTime.MaxValue.Ticks;
    private long _day = -1, _minute = -1;
    private readonly byte[] _text = new byte[16]; // "yyyy-MM-ddTHH:mm"

    /// <summary>Writes the text of <paramref name="utcTicks"/> at <paramref name="pos"/>; returns the position after it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The ticks are not a valid <see cref="DateTime"/>.</exception>
    public int Write(Span<byte> span, int pos, long utcTicks)
    {
        if ((ulong)utcTicks > (ulong)s_maxTicks) throw new ArgumentOutOfRangeException(nameof(utcTicks), utcTicks, "Ticks out of the DateTime range.");
        long minute = utcTicks / TimeSpan.TicksPerMinute;
        if (minute != _minute) SetMinute(minute);
        var text = span.Slice(pos, MaxLength);
        Unsafe.CopyBlockUnaligned(ref text[0], ref _text[0], 16);
        int ofMinute = (int)(utcTicks - minute * TimeSpan.TicksPerMinute);
        int second = ofMinute / (int)TimeSpan.TicksPerSecond;
        int fraction = ofMinute - second * (int)TimeSpan.TicksPerSecond;
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

    private void SetMinute(long minute)
    {
        const long MinutesPerDay = 24 * 60;
        long day = minute / MinutesPerDay;
        var t = _text.AsSpan();
        if (day != _day)
        {
            new DateTime(day * TimeSpan.TicksPerDay, DateTimeKind.Utc).Deconstruct(out int year, out int month, out int dayOfMonth);
            AsciiDigits.WriteTwoDigits(t, 0, year / 100);
            AsciiDigits.WriteTwoDigits(t, 2, year % 100);
            t[4] = (byte)'-';
            AsciiDigits.WriteTwoDigits(t, 5, month);
            t[7] = (byte)'-';
            AsciiDigits.WriteTwoDigits(t, 8, dayOfMonth);
            t[10] = (byte)'T';
            t[13] = (byte)':';
            _day = day;
        }
        int ofDay = (int)(minute - day * MinutesPerDay);
        AsciiDigits.WriteTwoDigits(t, 11, ofDay / 60);
        AsciiDigits.WriteTwoDigits(t, 14, ofDay % 60);
        _minute = minute;
    }
}
