using System.Buffers.Binary;
using System.Globalization;

namespace DataPrep.RecordIO;

/// <summary>One record read from a RecordIO file: its payload, reassembled when it was written in parts.</summary>
/// <param name="Index">The 0-based index of the record in the file (parts of one payload count once).</param>
/// <param name="Offset">The byte offset of the record's first header, from where reading started.</param>
/// <param name="Payload">The payload, with the magic words that escaping removed restored.</param>
public readonly record struct RecordIORecord(long Index, long Offset, byte[] Payload);

/// <summary>
/// Reads MXNet/dmlc RecordIO framing sequentially (see <see cref="RecordIOFraming"/>): checks the magic word,
/// decodes cflag and length, skips the padding and reassembles cflag 1/2/3 parts, putting back the magic word
/// the writer dropped between them. Accepts files with or without escaping.
/// </summary>
/// <remarks>
/// Corrupt input is always a <see cref="DataFormatException"/> naming the file, the record and its byte offset;
/// never a hang or a huge allocation. On a seekable stream a length is checked against the bytes left before
/// anything is allocated; on other streams (gzip) payloads are read in bounded chunks that grow only as data
/// arrives, so a corrupt length costs at most about twice the bytes actually present.
/// </remarks>
public sealed class RecordIOReader : IDisposable
{
    /// <summary>Payloads are read in chunks of at most this many bytes when the stream length is unknown.</summary>
    private const int ChunkBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly string? _file;
    private readonly long _length;   // bytes from the start position to the end, or -1 when unknown
    private readonly byte[] _header = new byte[8];
    private long _position;           // bytes consumed so far
    private long _index;
    private bool _done;

    /// <summary>Creates a reader over a stream positioned at the first record.</summary>
    /// <param name="stream">The stream; seekable streams get their lengths checked up front.</param>
    /// <param name="file">The file name for messages.</param>
    /// <param name="leaveOpen">Whether disposing the reader leaves the stream open.</param>
    public RecordIOReader(Stream stream, string? file = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _file = file;
        _leaveOpen = leaveOpen;
        _length = -1;
        if (stream.CanSeek)
        {
            try { _length = Math.Max(0, stream.Length - stream.Position); }
            catch (NotSupportedException) { _length = -1; }
        }
    }

    /// <summary>Opens a file (gzip decompressed transparently, as <see cref="Pipeline.InputFiles.Open"/> does).</summary>
    /// <exception cref="DataFormatException">The file cannot be opened.</exception>
    public static RecordIOReader Open(string path, Pipeline.InputFiles? files = null) => new((files ?? Pipeline.InputFiles.Local).Open(path), path);

    /// <summary>The number of whole records read so far.</summary>
    public long RecordsRead => _index;

    /// <summary>The number of bytes consumed so far.</summary>
    public long Position => _position;

    /// <summary>Reads every remaining record.</summary>
    /// <exception cref="DataFormatException">The framing is corrupt or truncated.</exception>
    public IEnumerable<RecordIORecord> ReadAll(CancellationToken cancellationToken = default)
    {
        while (TryRead(out var record))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return record;
        }
    }

    /// <summary>Reads the next record; false at the end of the file.</summary>
    /// <exception cref="DataFormatException">The framing is corrupt or truncated.</exception>
    public bool TryRead(out RecordIORecord record)
    {
        record = default;
        if (_done) return false;
        long start = _position;
        byte[]? assembled = null;   // parts so far (with restored magic words), null outside a part sequence
        int assembledLength = 0;
        long partOffset = start;
        while (true)
        {
            partOffset = _position;
            int got = ReadFully(_header);
            if (got == 0)
            {
                _done = true;
                if (assembled is null) return false;
                throw Fail($"the file ends inside record {_index} (begun at byte offset {start} with a first part, cflag 1) after {N(_position - start)} bytes; expected more parts up to a last part (cflag 3): the file is truncated");
            }
            uint magic = got >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(_header) : RecordIOFraming.Magic;
            if (magic != RecordIOFraming.Magic)
            {
                string hint = partOffset == 0
                    ? "; this is not a RecordIO file"
                    : "; the file is corrupt, or a length field before it is wrong";
                throw Fail($"record {_index} at byte offset {partOffset}: found bytes {_header[0]:X2} {_header[1]:X2} {_header[2]:X2} {_header[3]:X2} (0x{magic:X8}) where the RecordIO magic word should be; expected 0x{RecordIOFraming.Magic:X8} (bytes 0A 23 D7 CE){hint}");
            }
            if (got < 8)
            {
                throw Fail($"the file ends {got} bytes into the 8-byte header of record {_index} at byte offset {partOffset}; expected the magic word and the length (the file is truncated)");
            }
            uint lrec = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(4));
            uint cflag = lrec >> 29;
            int length = (int)(lrec & RecordIOFraming.MaxPayload);
            CheckSequence(cflag, assembled is not null, start, partOffset);

            int padded = RecordIOFraming.Padded(length);
            long remaining = _length >= 0 ? _length - _position : -1;
            if (remaining >= 0 && padded > remaining)
            {
                throw Fail(remaining >= length
                    ? $"record {_index} at byte offset {partOffset}: the file ends inside the padding after its {N(length)}-byte payload; expected zero padding to a multiple of 4 bytes (the file is truncated)"
                    : $"record {_index} at byte offset {partOffset}: its header (cflag {cflag}) claims {N(length)} payload bytes but only {N(remaining)} bytes remain in the file; expected a length within the file (the length field is corrupt or the file is truncated)");
            }

            if (cflag == 0)
            {
                var payload = ReadPayload(length, padded, partOffset);
                record = new RecordIORecord(_index++, start, payload);
                return true;
            }

            // A part: append it (after the magic word it replaced, unless it is the first part).
            int extra = (cflag == 1 ? 0 : 4) + length;
            long needed = (long)assembledLength + extra;
            if (needed > Array.MaxLength)
            {
                throw Fail($"record {_index} at byte offset {start} is {N(needed)} bytes long once its parts are joined; expected a record that fits in memory (at most {N(Array.MaxLength)} bytes)");
            }
            assembled ??= [];
            if (cflag != 1)
            {
                Grow(ref assembled, assembledLength + 4);
                BinaryPrimitives.WriteUInt32LittleEndian(assembled.AsSpan(assembledLength), RecordIOFraming.Magic);
                assembledLength += 4;
            }
            var part = ReadPayload(length, padded, partOffset);
            Grow(ref assembled, assembledLength + part.Length);
            part.CopyTo(assembled.AsSpan(assembledLength));
            assembledLength += part.Length;
            if (cflag == 3)
            {
                if (assembled.Length != assembledLength) Array.Resize(ref assembled, assembledLength);
                record = new RecordIORecord(_index++, start, assembled);
                return true;
            }
        }
    }

    private void CheckSequence(uint cflag, bool inSequence, long start, long partOffset)
    {
        string? problem = (cflag, inSequence) switch
        {
            ( > 3, _) => $"found cflag {cflag} in the header of record {_index} at byte offset {partOffset}; expected 0 (whole record) or 1, 2, 3 (first, middle, last part); the file is corrupt",
            (2 or 3, false) => $"found a {Part(cflag)} (cflag {cflag}) at byte offset {partOffset} where record {_index} should begin; expected cflag 0 (whole record) or 1 (first part) because no first part precedes it",
            (0 or 1, true) => $"found cflag {cflag} ({(cflag == 0 ? "a whole record" : "another first part")}) at byte offset {partOffset} inside record {_index}, which began at byte offset {start} with a first part (cflag 1); expected a middle (2) or last (3) part",
            _ => null,
        };
        if (problem is not null)
        {
            throw Fail(problem);
        }
    }

    private static string Part(uint cflag) => cflag == 2 ? "middle part" : "last part";

    /// <summary>Grows the part buffer geometrically, but never past the file size when it is known.</summary>
    private void Grow(ref byte[] buffer, int needed)
    {
        if (buffer.Length >= needed) return;
        long size = Math.Max(64L, 2L * buffer.Length);
        if (_length >= 0) size = Math.Min(size, _length);
        size = Math.Min(Array.MaxLength, Math.Max(needed, size));
        Array.Resize(ref buffer, (int)size);
    }

    /// <summary>Reads a payload and its padding; the caller has checked the length when the stream length is known.</summary>
    private byte[] ReadPayload(int length, int padded, long partOffset)
    {
        byte[] payload;
        int got;
        if (_length >= 0 || length <= ChunkBytes)
        {
            payload = length == 0 ? [] : new byte[length];
            got = ReadFully(payload);
        }
        else
        {
            // Unknown stream length: grow with the data actually read, so a corrupt length cannot allocate much.
            payload = new byte[ChunkBytes];
            got = 0;
            while (true)
            {
                got += ReadFully(payload.AsSpan(got));
                if (got == length || got < payload.Length) break;   // complete, or the stream ended
                Array.Resize(ref payload, (int)Math.Min(length, 2L * payload.Length));
            }
        }
        if (got < length)
        {
            throw Fail($"record {_index} at byte offset {partOffset} is truncated: its header claims {N(length)} payload bytes but the file ends after {N(got)}; expected the whole payload (the length field is corrupt or the file is truncated)");
        }
        int pad = padded - length;
        if (pad > 0)
        {
            Span<byte> padding = stackalloc byte[4];
            if (ReadFully(padding[..pad]) < pad)
            {
                throw Fail($"record {_index} at byte offset {partOffset}: the file ends inside the padding after its {N(length)}-byte payload; expected zero padding to a multiple of 4 bytes (the file is truncated)");
            }
        }
        return payload;
    }

    /// <summary>Reads until the span is full or the stream ends; returns the bytes read.</summary>
    private int ReadFully(Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = _stream.Read(buffer[total..]);
            if (n <= 0) break;
            total += n;
        }
        _position += total;
        return total;
    }

    private DataFormatException Fail(string problem)
    {
        _done = true;
        return Throw.Format(problem, _file);
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }
}
