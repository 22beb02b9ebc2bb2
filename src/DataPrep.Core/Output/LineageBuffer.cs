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
    private byte[] _buffer = new byte[1 << 16];

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

    public LineageBuffer Append(byte ascii)
    {
        Free(1)[0] = ascii;
        Length++;
        return this;
    }

    public LineageBuffer AppendHex16(ulong value)
    {
        value.TryFormat(Free(16), out int n, "x16", CultureInfo.InvariantCulture);
        Length += n;
        return this;
    }

    public LineageBuffer Append(string value)
    {
        int n = Encoding.UTF8.GetBytes(value, Free(Encoding.UTF8.GetMaxByteCount(value.Length)));
        Length += n;
        return this;
    }

    /// <summary>UTC ticks as <c>yyyy-MM-ddTHH:mm:ss.FFFFFFFZ</c>, nothing for <see cref="long.MinValue"/> (no time).</summary>
    public LineageBuffer AppendTime(long utcTicks)
    {
        if (utcTicks == long.MinValue) return this;
        new DateTime(utcTicks, DateTimeKind.Utc).TryFormat(Free(64), out int n, "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);
        Length += n;
        return this;
    }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public void Clear() => Length = 0;
}
