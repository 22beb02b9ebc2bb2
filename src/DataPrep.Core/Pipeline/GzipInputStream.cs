using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace DataPrep.Pipeline;

/// <summary>
/// Decompresses a gzip file member by member and checks every member's trailer (CRC-32 and length of its
/// data) before reporting the end, so a file cut short, one missing its trailer, or one whose data does not
/// match its checksum is refused instead of read as complete; concatenated members (pigz, bgzip,
/// <c>cat a.gz b.gz</c>) are read whole.
/// </summary>
/// <remarks>
/// .NET's <see cref="GZipStream"/> ends silently when its input ends early (the deflate data cut, or the
/// 8-byte trailer missing), and exposes no way to ask whether it saw the end of the last member. Here the
/// decompression is zlib's raw deflate (<see cref="DeflateStream"/>, same speed); only the gzip framing
/// (RFC 1952: a header of at most a few fields, an 8-byte trailer) is read here. The deflate stream stops
/// at the end of its data but keeps the bytes it read beyond it, which are always a suffix of the last chunk
/// it was handed; the trailer is found in that chunk by its value (the CRC-32 and length just computed: a
/// false match is a 2⁻⁶⁴ event). The extra cost is one vectorised CRC-32 pass over the output.
/// </remarks>
internal sealed class GzipInputStream : Data.ReadOnlyForwardStream
{
    private const int BufferSize = 1 << 17;
    private const int MaxHandOut = BufferSize / 2;

    private readonly Stream _file;
    private readonly string _path;
    private readonly byte[] _buf = new byte[BufferSize];
    private int _pos, _end, _lastStart;
    private bool _eof;
    private readonly Feed _feed;
    private DeflateStream? _deflate;
    private readonly Crc32 _crc = new();
    private long _memberLength;
    private int _member;
    private bool _done;

    public GzipInputStream(Stream file, string path)
    {
        _file = file;
        _path = path;
        _feed = new Feed(this);
        StartMember();
    }

    public override int Read(Span<byte> buffer)
    {
        if (_done || buffer.IsEmpty) return 0;
        while (true)
        {
            int n;
            try
            {
                n = _deflate!.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw Throw.Format($"is not a valid gzip file: the compressed data of member {_member} is corrupt ({e.Message.TrimEnd('.')}); expected gzip-compressed data", _path, inner: e);
            }
            if (n > 0)
            {
                _crc.Append(buffer[..n]);
                _memberLength += n;
                return n;
            }
            EndMember();
            if (!StartMember())
            {
                _done = true;
                return 0;
            }
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads the next member's header and starts decompressing it; false at the end of the file.</summary>
    private bool StartMember()
    {
        if (!TryByte(out byte id1))
        {
            return _member == 0 ? throw Throw.Format("is empty; expected gzip-compressed data because the name ends in .gz", _path) : false;
        }
        bool second = TryByte(out byte id2);
        if (!second && id1 == 0x1F) throw Throw.Format($"is truncated: the file ends inside the header of gzip member {_member + 1}; expected a complete gzip file", _path);
        if (!second || id1 != 0x1F || id2 != 0x8B)
        {
            if (_member == 0)
            {
                throw Throw.Format($"is not gzip data (it starts with {id1:X2} {id2:X2}, gzip with 1F 8B); expected gzip-compressed data because the name ends in .gz", _path);
            }
            // gzip(1) itself ignores zero padding after the last member; anything else is not ours to drop.
            bool zeros = id1 == 0 && id2 == 0;
            long extra = 2;
            while (TryByte(out byte b))
            {
                zeros &= b == 0;
                extra++;
            }
            if (zeros) return false;
            throw Throw.Format($"has {extra:N0} bytes after gzip member {_member} that are not another gzip member; expected the file to end there (was something appended to it?)", _path);
        }
        _member++;
        byte cm = Need(), flags = Need();
        if (cm != 8) throw Throw.Format($"gzip member {_member} uses compression method {cm}; expected 8 (deflate), the only one gzip defines", _path);
        if ((flags & 0xE0) != 0) throw Throw.Format($"gzip member {_member} has reserved header flags set ({flags:X2}); expected a gzip file as RFC 1952 defines it", _path);
        for (int i = 0; i < 6; i++) Need(); // MTIME, XFL, OS
        if ((flags & 0x04) != 0)
        {
            int xlen = Need() | (Need() << 8);
            for (int i = 0; i < xlen; i++) Need();
        }
        if ((flags & 0x08) != 0) while (Need() != 0) { } // file name
        if ((flags & 0x10) != 0) while (Need() != 0) { } // comment
        if ((flags & 0x02) != 0) { Need(); Need(); } // header CRC-16
        _crc.Reset();
        _memberLength = 0;
        _deflate = new DeflateStream(_feed, CompressionMode.Decompress, leaveOpen: true);
        return true;
    }

    /// <summary>Finds the member's trailer right after its deflate data and checks it against what was read.</summary>
    private void EndMember()
    {
        _deflate!.Dispose();
        _deflate = null;
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, _crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], unchecked((uint)_memberLength));
        // The deflate data ended somewhere in the chunk last handed to the decompressor, [_lastStart, _pos).
        Ensure(_pos + 8 - _lastStart);
        var window = _buf.AsSpan(_lastStart, Math.Min(_end, _pos + 8) - _lastStart);
        int at = window.IndexOf(trailer);
        if (at < 0)
        {
            // A trailer whose length matches but whose CRC-32 does not is corrupt data, not a short file.
            int length = window.Length >= 4 ? window[4..].IndexOf(trailer[4..]) : -1;
            throw _eof && length < 0
                ? Throw.Format($"is truncated: the file ends before the trailer of gzip member {_member} (the CRC-32 and length of its data) after {_memberLength:N0} bytes of data; expected a complete gzip file (was a download or copy cut short?)", _path)
                : Throw.Format($"is corrupt: gzip member {_member}'s trailer does not match its {_memberLength:N0} bytes of data (CRC-32 or length differ); expected an intact gzip file", _path);
        }
        _pos = _lastStart + at + 8;
        _lastStart = _pos;
    }

    private byte Need()
        => TryByte(out byte b) ? b : throw Throw.Format($"is truncated: the file ends inside the header of gzip member {_member}; expected a complete gzip file", _path);

    private bool TryByte(out byte b)
    {
        if (_pos == _end && !Refill())
        {
            b = 0;
            return false;
        }
        b = _buf[_pos++];
        _lastStart = _pos;
        return true;
    }

    /// <summary>Makes at least <paramref name="count"/> bytes from <see cref="_lastStart"/> on available, unless the file ends first.</summary>
    private void Ensure(int count)
    {
        if (_end - _lastStart >= count) return;
        int keep = _end - _lastStart;
        _buf.AsSpan(_lastStart, keep).CopyTo(_buf);
        _pos -= _lastStart;
        _end = keep;
        _lastStart = 0;
        while (_end < count && !_eof)
        {
            int n = _file.Read(_buf, _end, _buf.Length - _end);
            if (n == 0) _eof = true;
            _end += n;
        }
    }

    /// <summary>Reads the next chunk of the file once every byte read so far was handed out.</summary>
    private bool Refill()
    {
        if (_eof) return false;
        _pos = _end = _lastStart = 0;
        int n = _file.Read(_buf, 0, _buf.Length);
        if (n == 0)
        {
            _eof = true;
            return false;
        }
        _end = n;
        return true;
    }

    /// <summary>Hands the file's bytes to the decompressor and remembers where the last chunk began.</summary>
    private int HandOut(Span<byte> destination)
    {
        if (_pos == _end && !Refill()) return 0;
        int n = Math.Min(Math.Min(destination.Length, _end - _pos), MaxHandOut);
        _buf.AsSpan(_pos, n).CopyTo(destination);
        _lastStart = _pos;
        _pos += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _deflate?.Dispose();
            _file.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class Feed(GzipInputStream owner) : Data.ReadOnlyForwardStream
    {
        public override int Read(Span<byte> buffer) => owner.HandOut(buffer);
    }
}
