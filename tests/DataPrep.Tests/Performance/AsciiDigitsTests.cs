using System.Globalization;
using System.Text;
using DataPrep.Output;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Performance;

/// <summary>
/// The hand-written integer, hex and time formatters of the output paths must write exactly the bytes of
/// .NET's invariant formatting, for random values of the whole range and every edge.
/// </summary>
public class AsciiDigitsTests
{
    /// <summary>0, ±1, long.Min/Max, and every power of ten with its neighbours (9/10/11, 99/100/101, …), both signs.</summary>
    public static IEnumerable<long> EdgeLongs()
    {
        yield return 0;
        yield return long.MinValue;
        yield return long.MinValue + 1;
        yield return long.MaxValue;
        yield return long.MaxValue - 1;
        for (long p = 1; ; p *= 10)
        {
            foreach (long v in new[] { p - 1, p, p + 1 })
            {
                yield return v;
                yield return -v;
            }
            if (p > long.MaxValue / 10) break;
        }
    }

    private static string Int64Text(long value)
    {
        var buffer = new byte[AsciiDigits.MaxInt64Length + 3];
        buffer.AsSpan().Fill((byte)'#');
        int end = AsciiDigits.WriteInt64(buffer, 2, value);
        Assert.Equal("##", Encoding.ASCII.GetString(buffer, 0, 2)); // nothing written before the position
        Assert.All(buffer.Skip(end), b => Assert.Equal((byte)'#', b)); // nor after the returned end
        return Encoding.ASCII.GetString(buffer, 2, end - 2);
    }

    private static string UInt64Text(ulong value)
    {
        var buffer = new byte[AsciiDigits.MaxInt64Length + 1];
        int end = AsciiDigits.WriteUInt64(buffer, 1, value);
        return Encoding.ASCII.GetString(buffer, 1, end - 1);
    }

    [Fact]
    public void Edge_integers_match_long_ToString()
    {
        foreach (long v in EdgeLongs())
        {
            Assert.Equal(v.ToString(CultureInfo.InvariantCulture), Int64Text(v));
            if (v >= 0) Assert.Equal(v.ToString(CultureInfo.InvariantCulture).Length, AsciiDigits.CountDigits((ulong)v));
        }
        foreach (ulong v in new[] { 0UL, 9UL, 10UL, ulong.MaxValue, ulong.MaxValue - 1, 10_000_000_000_000_000_000UL, 9_999_999_999_999_999_999UL, (ulong)long.MaxValue + 1 })
        {
            Assert.Equal(v.ToString(CultureInfo.InvariantCulture), UInt64Text(v));
            Assert.Equal(v.ToString(CultureInfo.InvariantCulture).Length, AsciiDigits.CountDigits(v));
        }
    }

    /// <summary>Random 64-bit patterns cover the whole range (FsCheck's own longs stay small), shifted to hit every digit count.</summary>
    [Property(MaxTest = 5000)]
    public Property Random_integers_match_long_ToString(ulong seed, byte shift, long small)
    {
        ulong bits = Mix(seed) >> (shift % 64);
        long full = (long)bits;
        return (Int64Text(full) == full.ToString(CultureInfo.InvariantCulture)
                && Int64Text(-full) == (-full).ToString(CultureInfo.InvariantCulture)
                && Int64Text(small) == small.ToString(CultureInfo.InvariantCulture)
                && UInt64Text(bits) == bits.ToString(CultureInfo.InvariantCulture)
                && AsciiDigits.CountDigits(bits) == bits.ToString(CultureInfo.InvariantCulture).Length)
            .Label($"{full} / {small} / {bits}");
    }

    [Fact]
    public void Every_integer_up_to_five_digits_matches_long_ToString()
    {
        // The two- to four-digit fast path, and its borders with one and five digits.
        for (long v = -100_001; v <= 100_001; v++) Assert.Equal(v.ToString(CultureInfo.InvariantCulture), Int64Text(v));
    }

    /// <summary>
    /// The lineage counter writes the bytes of <c>long.ToString()</c> whatever the sequence: runs counting up across
    /// 9 → 10, 99 → 100, … (the text grows), jumps, repeats, zero and negatives; with little room left it copies exactly.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Decimal_counter_matches_long_ToString(ulong seed, byte shift, byte[] steps)
    {
        var counter = new DecimalCounter();
        long value = (long)(Mix(seed) >> (shift % 64 + 1)) - 50;
        var sequence = new List<long>();
        foreach (byte s in steps.Take(40))
        {
            // Mostly +1 (runs), sometimes a jump, a repeat, a negative or a power of ten minus a few.
            value = (s % 8) switch
            {
                < 5 => value == long.MaxValue ? 0 : value + 1,
                5 => value - s,
                6 => value,
                _ => (long)Math.Pow(10, s % 19) - 3,
            };
            for (int run = 0; run < (s % 8 == 0 ? 12 : 1); run++) sequence.Add(value == long.MaxValue ? value : value++);
        }
        foreach (long v in sequence)
        {
            var buffer = new byte[40];
            buffer.AsSpan().Fill((byte)'#');
            int end = counter.Write(buffer, 3, v);
            var again = new byte[3 + v.ToString(CultureInfo.InvariantCulture).Length]; // no room to spare: exact copy
            int end2 = counter.Repeat(again, 3);
            string expected = v.ToString(CultureInfo.InvariantCulture);
            if (Encoding.ASCII.GetString(buffer, 3, end - 3) != expected || Encoding.ASCII.GetString(again, 3, end2 - 3) != expected || buffer[2] != (byte)'#')
            {
                return false.Label($"{v} in {string.Join(",", sequence)}");
            }
        }
        return true.ToProperty();
    }

    [Fact]
    public void Decimal_counter_counts_across_every_digit_count()
    {
        var counter = new DecimalCounter();
        var buffer = new byte[40];
        foreach (long from in new[] { 0L, 7L, 95L, 995L, 99_990L, 999_999_990L, long.MaxValue - 12 })
        {
            for (long v = from; v <= from + 12 && v >= from; v++)
            {
                int end = counter.Write(buffer, 0, v);
                Assert.Equal(v.ToString(CultureInfo.InvariantCulture), Encoding.ASCII.GetString(buffer, 0, end));
                if (v == long.MaxValue) break;
            }
        }
    }

    [Property(MaxTest = 2000)]
    public Property Hex_matches_x16(ulong seed, byte shift)
    {
        ulong value = Mix(seed) >> (shift % 64);
        var buffer = new byte[18];
        int end = AsciiDigits.WriteHex16(buffer, 1, value);
        return (end == 17 && buffer[0] == 0 && buffer[17] == 0 && Encoding.ASCII.GetString(buffer, 1, 16) == value.ToString("x16", CultureInfo.InvariantCulture)).Label(value.ToString("x16", CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Edge_hex_matches_x16()
    {
        foreach (ulong v in new[] { 0UL, 1UL, 0xFUL, 0x10UL, 0xFFUL, 0x0123456789abcdefUL, 0xfedcba9876543210UL, ulong.MaxValue, 1UL << 63 })
        {
            var buffer = new byte[16];
            AsciiDigits.WriteHex16(buffer, 0, v);
            Assert.Equal(v.ToString("x16", CultureInfo.InvariantCulture), Encoding.ASCII.GetString(buffer));
        }
    }

    private static string Expected(long ticks) => new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);

    private static string Written(TimeTextWriter writer, long ticks)
    {
        var buffer = new byte[TimeTextWriter.MaxLength + 4];
        int end = writer.Write(buffer, 3, ticks);
        return Encoding.ASCII.GetString(buffer, 3, end - 3);
    }

    /// <summary>Day, month and year boundaries, leap days (2000, 2004, not 1900/2100), year 1 and 9999, fractions with and without trailing zeros.</summary>
    public static IEnumerable<DateTime> EdgeTimes()
    {
        yield return DateTime.MinValue;
        yield return DateTime.MaxValue;
        yield return new DateTime(9999, 12, 31);
        yield return new DateTime(1, 1, 1, 23, 59, 59);
        foreach (int year in new[] { 1, 4, 99, 100, 400, 999, 1000, 1899, 1900, 1970, 1999, 2000, 2001, 2004, 2023, 2024, 2100, 9998, 9999 })
        {
            foreach (var day in new[] { new DateTime(year, 1, 1), new DateTime(year, 2, 28), new DateTime(year, 3, 1), new DateTime(year, 12, 31) }
                         .Concat(DateTime.IsLeapYear(year) ? [new DateTime(year, 2, 29)] : []))
            {
                yield return day;
                if (day.Ticks > 0) yield return day.AddTicks(-1); // the last tick of the day before
                yield return day.AddTicks(1);
                yield return day.AddHours(23).AddMinutes(59).AddSeconds(59);
                yield return day.AddHours(12).AddTicks(5_000_000);
                yield return day.AddHours(9).AddMinutes(9).AddSeconds(9).AddTicks(1_230_000);
                yield return day.AddHours(10).AddMinutes(10).AddSeconds(10).AddTicks(9_999_999);
                yield return day.AddHours(1).AddTicks(10);
            }
        }
    }

    [Fact]
    public void Edge_times_match_the_custom_DateTime_format()
    {
        var shared = new TimeTextWriter(); // also checks the per-day cache across jumps back and forth
        foreach (var t in EdgeTimes())
        {
            Assert.Equal(Expected(t.Ticks), Written(new TimeTextWriter(), t.Ticks));
            Assert.Equal(Expected(t.Ticks), Written(shared, t.Ticks));
        }
    }

    /// <summary>
    /// A run of times from a random start with random steps (sorted like lineage times, or jumping), all through
    /// one writer: the cached date text must follow every day change.
    /// </summary>
    [Property(MaxTest = 500)]
    public Property Time_runs_through_one_writer_match(ulong seed, byte stepKind, bool jumpy)
    {
        var random = new Random((int)(seed ^ (seed >> 32)));
        long max = DateTime.MaxValue.Ticks;
        long step = (stepKind % 4) switch
        {
            0 => TimeSpan.TicksPerSecond,
            1 => TimeSpan.TicksPerHour,
            2 => TimeSpan.TicksPerDay / 3 + 7,
            _ => 1 + random.NextInt64(TimeSpan.TicksPerDay * 40),
        };
        long t = random.NextInt64(max);
        if (random.Next(3) == 0) t -= t % TimeSpan.TicksPerSecond; // whole seconds, the common case
        var writer = new TimeTextWriter();
        for (int i = 0; i < 200; i++)
        {
            long ticks = jumpy && i % 3 == 0 ? random.NextInt64(max + 1) : t;
            string expected = Expected(ticks), actual = Written(writer, ticks);
            if (expected != actual) return false.Label($"{ticks}: {actual} != {expected}");
            t = t > max - step ? t % step : t + step;
        }
        return true.ToProperty();
    }

    [Fact]
    public void Ticks_outside_the_DateTime_range_throw()
    {
        var writer = new TimeTextWriter();
        Written(writer, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => Written(writer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Written(writer, DateTime.MaxValue.Ticks + 1));
    }

    /// <summary>SplitMix64: spreads FsCheck's small seeds over all 64 bits.</summary>
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
