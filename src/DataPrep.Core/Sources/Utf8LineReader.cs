using System.Buffers;

namespace DataPrep.Sources;

/// <summary>Splits a UTF-8 stream into lines ('\n' or "\r\n") held in one pooled, growing buffer; skips a UTF-8 BOM. Shared by the line-based sources.</summary>
internal sealed class Utf8LineReader : IDisposable
{
    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start, _end, _scan;
    private bool _eof, _started;
    // Where _buffer[0] is in the text (the stream's bytes, after the prefix, counted from the stream's start plus the offset).
    private long _base;

    /// <summary>Reads lines from <paramref name="stream"/>, whose first bytes were read into <paramref name="prefix"/> already.</summary>
    /// <param name="stream">The text, UTF-8.</param>
    /// <param name="prefix">Bytes already read from the stream's start.</param>
    /// <param name="offset">Where the stream starts in its file (a byte range's first line): <see cref="LineStart"/> counts from the file's start, and no byte-order mark is looked for.</param>
    public Utf8LineReader(Stream stream, ReadOnlySpan<byte> prefix = default, long offset = 0)
    {
        _stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        prefix.CopyTo(_buffer);
        _end = prefix.Length;
        _base = offset;
        _started = offset > 0;
    }

    /// <summary>The 1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>The 0-based byte offset of the line last returned, in the text (a UTF-8 byte-order mark counts).</summary>
    public long LineStart { get; private set; }

    /// <summary>The next line without its terminator; the span is valid until the next call.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            if (_started || _eof)
            {
                int nl = _buffer.AsSpan(_scan, _end - _scan).IndexOf((byte)'\n');
                if (nl >= 0)
                {
                    int stop = _scan + nl;
                    line = TrimCr(_buffer.AsSpan(_start, stop - _start));
                    LineStart = _base + _start;
                    _start = _scan = stop + 1;
                    LineNumber++;
                    return true;
                }
                _scan = _end;
                if (_eof)
                {
                    if (_start == _end)
                    {
                        line = default;
                        return false;
                    }
                    line = TrimCr(_buffer.AsSpan(_start, _end - _start));
                    LineStart = _base + _start;
                    _start = _scan = _end;
                    LineNumber++;
                    return true;
                }
            }
            Fill();
        }
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private void Fill()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _base += _start;
            _end -= _start;
            _scan -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0) _eof = true;
        else _end += n;
        if (!_started && (_end >= 3 || _eof))
        {
            _started = true;
            if (_buffer.AsSpan(0, _end).StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) _start = _scan = 3;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
