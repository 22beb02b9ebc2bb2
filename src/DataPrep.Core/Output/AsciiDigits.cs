using System.Buffers.Binary;
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

    // "00" "01" … "99" and "00" … "ff": two characters per 16-bit load and store (byte order kept as is).
    // Constant data (no static constructor): with tiered compilation off, a static readonly array would cost a
    // class-initialization check per call.
    private static ReadOnlySpan<byte> DigitPairs => "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"u8;

    private static ReadOnlySpan<byte> HexPairs =>
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"u8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Pair(ReadOnlySpan<byte> table, nint index) => Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref MemoryMarshal.GetReference(table), index * 2));

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
        // Up to four digits (W2's labels and features): one or two table loads, no digit count. Negative values
        // come here with any magnitude.
        if (value < 10)
        {
            span[pos] = (byte)('0' + value);
            return pos + 1;
        }
        if (value < 100)
        {
            Unsafe.WriteUnaligned(ref span.Slice(pos, 2)[0], Pair(DigitPairs, (nint)value));
            return pos + 2;
        }
        if (value < 10000)
        {
            uint v4 = (uint)value, high = v4 / 100, low = v4 - high * 100;
            if (high < 10)
            {
                ref byte three = ref span.Slice(pos, 3)[0];
                three = (byte)('0' + high);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref three, 1), Pair(DigitPairs, (nint)low));
                return pos + 3;
            }
            ref byte four = ref span.Slice(pos, 4)[0];
            Unsafe.WriteUnaligned(ref four, Pair(DigitPairs, (nint)high));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref four, 2), Pair(DigitPairs, (nint)low));
            return pos + 4;
        }
        int end = pos + CountDigits(value);
        // One range check, then unchecked stores from the end backwards, two digits per table load.
        ref byte first = ref span[pos..end][0];
        ref byte at = ref Unsafe.Add(ref first, end - pos);
        var pairs = DigitPairs;
        while (value > uint.MaxValue)
        {
            ulong q = value / 100;
            at = ref Unsafe.Subtract(ref at, 2);
            Unsafe.WriteUnaligned(ref at, Pair(pairs, (nint)(value - q * 100)));
            value = q;
        }
        uint v = (uint)value;
        while (v >= 100)
        {
            uint q = v / 100;
            at = ref Unsafe.Subtract(ref at, 2);
            Unsafe.WriteUnaligned(ref at, Pair(pairs, (nint)(v - q * 100)));
            v = q;
        }
        if (v >= 10) Unsafe.WriteUnaligned(ref first, Pair(pairs, (nint)v));
        else first = (byte)('0' + v);
        return end;
    }

    /// <summary>Writes exactly two digits of <paramref name="value"/> (0–99) at <paramref name="pos"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteTwoDigits(Span<byte> span, int pos, int value)
        => Unsafe.WriteUnaligned(ref span.Slice(pos, 2)[0], Pair(DigitPairs, (uint)value < 100 ? value : throw new ArgumentOutOfRangeException(nameof(value))));

    /// <summary>Writes <paramref name="value"/> as 16 lower-case hex digits at <paramref name="pos"/>; returns the position after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteHex16(Span<byte> span, int pos, ulong value)
    {
        ref byte target = ref span.Slice(pos, 16)[0];
        var pairs = HexPairs;
        for (int i = 14; i >= 0; i -= 2, value >>= 8)
        {
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, i), Pair(pairs, (nint)(value & 0xFF)));
        }
        return pos + 16;
    }
}

/// <summary>
/// Writes integers that mostly count up by one (the row ids and record numbers of lineage lines): the text of the last
/// value is kept and incremented in place when the next value is one more, else formatted by
/// <see cref="AsciiDigits.WriteInt64"/>, so the bytes are always those of invariant <c>long.ToString()</c>.
/// </summary>
internal struct DecimalCounter
{
    // The text's bytes 0–7 and 8–15 as little-endian words, zero past its end: incremented and stored as whole words
    // (bytes written one at a time and then loaded as a vector stall the load: that was slower than formatting anew).
    private ulong _low;
    private ulong _high;
    private int _length;
    private long _last;

    /// <summary>Writes <paramref name="value"/> at <paramref name="pos"/>; returns the position after it. May write up to 16 bytes from <paramref name="pos"/> (the caller's room for 20 covers them).</summary>
    public int Write(Span<byte> span, int pos, long value)
    {
        if (_length == 0 || value <= 0 || value != _last + 1 || !TryIncrement()) Set(value);
        _last = value;
        return Repeat(span, pos);
    }

    /// <summary>Writes the last value's text again at <paramref name="pos"/>; returns the position after it.</summary>
    public int Repeat(Span<byte> span, int pos)
    {
        int n = _length;
        if (n > 16) return AsciiDigits.WriteInt64(span, pos, _last);
        if (span.Length - pos >= 16)
        {
            ref byte at = ref span[pos];
            Unsafe.WriteUnaligned(ref at, _low);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, 8), _high);
        }
        else
        {
            var target = span.Slice(pos, n);
            for (int i = 0; i < n; i++) target[i] = (byte)((i < 8 ? _low : _high) >> (i % 8 * 8));
        }
        return pos + n;
    }

    /// <summary>Adds one to the text when its last digit is not 9 (nine times in ten); false otherwise, and for text beyond 16 bytes.</summary>
    private bool TryIncrement()
    {
        int last = _length - 1;
        if (last >= 16) return false;
        int shift = last % 8 * 8;
        ref ulong word = ref last < 8 ? ref _low : ref _high;
        if ((byte)(word >> shift) == (byte)'9') return false;
        word += 1UL << shift;
        return true;
    }

    private void Set(long value)
    {
        Span<byte> text = stackalloc byte[AsciiDigits.MaxInt64Length + 4];
        text.Clear();
        _length = AsciiDigits.WriteInt64(text, 0, value);
        _low = BinaryPrimitives.ReadUInt64LittleEndian(text);
        _high = BinaryPrimitives.ReadUInt64LittleEndian(text[8..]);
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

    private const long MaxTicks = 3_155_378_975_999_999_999; // DateTime.MaxValue.Ticks
    private long _day = -1, _minute = -1;
    private readonly byte[] _text = new byte[16]; // "yyyy-MM-ddTHH:mm"

    /// <summary>Writes the text of <paramref name="utcTicks"/> at <paramref name="pos"/>; returns the position after it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The ticks are not a valid <see cref="DateTime"/>.</exception>
    public int Write(Span<byte> span, int pos, long utcTicks)
    {
        if ((ulong)utcTicks > MaxTicks) throw new ArgumentOutOfRangeException(nameof(utcTicks), utcTicks, "Ticks out of the DateTime range.");
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
