using System.Globalization;
using System.Text;

namespace DataPrep.Output;

/// <summary>
/// Builds lineage CSV text straight as UTF-8 bytes (numbers and times formatted into the buffer), which is
/// several times cheaper per row than a StringBuilder encoded afterwards. The bytes are the same:
/// invariant integers, lower-case 16-digit hex, and the same custom time format.
/// </summary>
internal sealed class LineageBuffer
{
    private byte[] _buffer;

    public LineageBuffer(int capacity = 1 << 16) => _buffer = new byte[Math.Max(64, capacity)];

    public int Length { get; private set; }

    private Span<byte> Free(int atLeast)
    {
        if (_buffer.Length - Length < atLeast) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + atLeast));
        return _buffer.AsSpan(Length);
    }

    public LineageBuffer Append(long value)
    {
        value.TryFormat(Free(20), out int n, default, CultureInfo.InvariantCulture);
        Length += n;
        return this;
    }

    public LineageBuffer Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Free(bytes.Length));
        Length += bytes.Length;
        return this;
    }

    public LineageBuffer Append(byte ascii)
    {
        Free(1)[0] = ascii;
        Length++;
        return this;
    }

    public LineageBuffer AppendHex16(ulong value)
    {
        var span = Free(16);
        for (int i = 15; i >= 0; i--, value >>= 4) span[i] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
        Length += 16;
        return this;
    }

    public LineageBuffer Append(string value)
    {
        int n = Encoding.UTF8.GetBytes(value, Free(Encoding.UTF8.GetMaxByteCount(value.Length)));
        Length += n;
        return this;
    }

    /// <summary>
    /// UTC ticks as <c>yyyy-MM-ddTHH:mm:ss.FFFFFFFZ</c> (fraction without trailing zeros, no period when it is
    /// zero), nothing for <see cref="long.MinValue"/> (no time). Hand-written: the custom-format path of
    /// <c>DateTime.TryFormat</c> re-parses the pattern per call and was most of the lineage writer's time.
    /// </summary>
    public LineageBuffer AppendTime(long utcTicks)
    {
        if (utcTicks == long.MinValue) return this;
        var t = new DateTime(utcTicks, DateTimeKind.Utc);
        var span = Free(28);
        t.Deconstruct(out int year, out int month, out int day);
        Digits(span, 0, year, 4);
        span[4] = (byte)'-';
        Digits(span, 5, month, 2);
        span[7] = (byte)'-';
        Digits(span, 8, day, 2);
        span[10] = (byte)'T';
        Digits(span, 11, t.Hour, 2);
        span[13] = (byte)':';
        Digits(span, 14, t.Minute, 2);
        span[16] = (byte)':';
        Digits(span, 17, t.Second, 2);
        int n = 19;
        int fraction = (int)(utcTicks % TimeSpan.TicksPerSecond);
        if (fraction != 0)
        {
            int digits = 7;
            while (fraction % 10 == 0) { fraction /= 10; digits--; }
            span[n++] = (byte)'.';
            Digits(span, n, fraction, digits);
            n += digits;
        }
        span[n++] = (byte)'Z';
        Length += n;
        return this;
    }

    private static void Digits(Span<byte> span, int at, int value, int width)
    {
        for (int i = at + width - 1; i >= at; i--) { span[i] = (byte)('0' + value % 10); value /= 10; }
    }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;
}
