using System.Buffers;
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

    private bool _pooled;

    public LineageBuffer(int capacity = 1 << 16) => _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(64, capacity)); // only [0, Length) is ever read

    /// <summary>A buffer whose array comes from <see cref="ArrayPool{T}.Shared"/>; give it back with <see cref="Release"/> once written.</summary>
    public static LineageBuffer Rent(int capacity) => new(ArrayPool<byte>.Shared.Rent(Math.Max(64, capacity)));

    private LineageBuffer(byte[] rented)
    {
        _buffer = rented;
        _pooled = true;
    }

    /// <summary>Returns a rented array to the pool (nothing for an allocated one); the buffer must not be used after.</summary>
    public void Release()
    {
        if (!_pooled) return;
        _pooled = false;
        var array = _buffer;
        _buffer = [];
        Length = 0;
        ArrayPool<byte>.Shared.Return(array);
    }

    public int Length { get; private set; }

    private TimeTextWriter? _times;

    /// <summary>Room for at least <paramref name="atLeast"/> more bytes: write into the span, then <see cref="Advance"/>.</summary>
    public Span<byte> Reserve(int atLeast)
    {
        if (_buffer.Length - Length < atLeast) Grow(atLeast);
        return _buffer.AsSpan(Length);
    }

    private void Grow(int atLeast)
    {
        int size = Math.Max(_buffer.Length * 2, Length + atLeast);
        if (!_pooled)
        {
            Array.Resize(ref _buffer, size);
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    /// <summary>Takes <paramref name="count"/> bytes written into the last <see cref="Reserve"/> span.</summary>
    public void Advance(int count) => Length += count;

    /// <summary>The time writer of this buffer (it remembers the last day's date text).</summary>
    public TimeTextWriter Times => _times ??= new TimeTextWriter();

    public LineageBuffer Append(long value)
    {
        Length += AsciiDigits.WriteInt64(Reserve(AsciiDigits.MaxInt64Length), 0, value);
        return this;
    }

    public LineageBuffer Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        Length += bytes.Length;
        return this;
    }

    public LineageBuffer Append(byte ascii)
    {
        Reserve(1)[0] = ascii;
        Length++;
        return this;
    }

    public LineageBuffer AppendHex16(ulong value)
    {
        AsciiDigits.WriteHex16(Reserve(16), 0, value);
        Length += 16;
        return this;
    }

    public LineageBuffer Append(string value)
    {
        int n = Encoding.UTF8.GetBytes(value, Reserve(Encoding.UTF8.GetMaxByteCount(value.Length)));
        Length += n;
        return this;
    }

    /// <summary>
    /// UTC ticks as <c>yyyy-MM-ddTHH:mm:ss.FFFFFFFZ</c> (fraction without trailing zeros, no period when it is
    /// zero), nothing for <see cref="long.MinValue"/> (no time). Hand-written (<see cref="TimeTextWriter"/>): the
    /// custom-format path of <c>DateTime.TryFormat</c> re-parses the pattern per call.
    /// </summary>
    public LineageBuffer AppendTime(long utcTicks)
    {
        if (utcTicks == long.MinValue) return this;
        Length += Times.Write(Reserve(TimeTextWriter.MaxLength), 0, utcTicks);
        return this;
    }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>The lineage sidecar's header line: <c>row_id,source,source_row,shard,record,content_hash[,group][,time]\n</c>.</summary>
    public static LineageBuffer Header(bool groups, bool times)
    {
        var header = new LineageBuffer(128).Append("row_id,source,source_row,shard,record,content_hash");
        if (groups) header.Append(",group");
        if (times) header.Append(",time");
        return header.Append((byte)'\n');
    }

    /// <summary>Appends a text field, quoted when it holds a comma, quote or line break (RFC 4180); nothing for null.</summary>
    public LineageBuffer AppendField(string? value)
        => value is null ? this : Append(value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"");
}
