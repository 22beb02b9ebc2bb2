using System.Text;
using System.Text.Unicode;
using DataPrep.Pipeline;

namespace DataPrep.Sources;

/// <summary>
/// Opens the input of a text source (CSV, JSON Lines, LibSVM) with the checks every text format shares: the
/// first bytes must not be another format's magic (a Parquet file or an image named .csv is refused, not
/// parsed as text), and UTF-8 input must be valid UTF-8 (refused with file, line and byte offset; never
/// replaced by U+FFFD, which would merge different values such as Latin-1 <c>café</c> and <c>cafè</c>).
/// </summary>
internal static class TextInput
{
    /// <summary>Opens <paramref name="path"/> (gzip decompressed per <see cref="InputFiles.Open"/>) for a text source.</summary>
    /// <param name="options">The source options: the file system and the <see cref="SourceOptions.Encoding"/>.</param>
    /// <param name="path">The input.</param>
    /// <param name="format">The format's name for messages ("CSV", "JSON Lines", "LibSVM").</param>
    /// <exception cref="DataFormatException">On reading: the input is another format, or not valid UTF-8.</exception>
    /// <param name="seen">Told, at the first read, whether the file is gzip and its first bytes (up to 4), so that a byte-range
    /// rule (<see cref="TextRanges.Of"/>) need not open the file again to know.</param>
    public static Stream Open(SourceOptions options, string path, string format, Action<bool, byte[]>? seen = null)
    {
        var stream = options.Files.Open(path);
        return new CheckedTextStream(stream, path, format, validateUtf8: IsUtf8(options.Encoding), seen: seen);
    }

    /// <summary>
    /// Opens a plain (not gzip) UTF-8 input at byte <paramref name="start"/>, which must be a character's first byte (a
    /// scaled-out run's byte range starts after a line break): its bytes are checked as by <see cref="Open"/>, with
    /// byte offsets in messages counted from the file's start, and no check of a binary format's magic there.
    /// </summary>
    public static Stream OpenAt(SourceOptions options, string path, string format, long start)
    {
        var stream = options.Files.Open(path);
        try
        {
            stream.Position = start;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return At(stream, path, format);
    }

    /// <summary>
    /// <paramref name="raw"/>, opened by <see cref="InputFiles.Open"/> and positioned at a character's first byte (see
    /// <see cref="OpenAt"/>), checked as <see cref="OpenAt"/> checks it; the result owns it.
    /// </summary>
    public static Stream At(Stream raw, string path, string format) => new CheckedTextStream(raw, path, format, validateUtf8: true, offset: raw.Position);

    /// <summary>Whether an encoding name (null: the default) means UTF-8, whose bytes are checked.</summary>
    public static bool IsUtf8(string? encoding)
        => encoding is null || encoding.Replace("-", "", StringComparison.Ordinal).Equals("utf8", StringComparison.OrdinalIgnoreCase);

    /// <summary>What a file that starts with <paramref name="head"/> is, when it is a binary format; null for anything else.</summary>
    public static string? BinaryFormatOf(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("PAR1"u8)) return "a Parquet file (it starts with the Parquet magic 'PAR1')";
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])) return "a PNG image";
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return "a JPEG image";
        if (head.StartsWith("GIF8"u8)) return "a GIF image";
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B])) return "gzip data inside gzip data (compressed twice)";
        if (head.StartsWith((ReadOnlySpan<byte>)[0x0A, 0x23, 0xD7, 0xCE])) return "a RecordIO file (it starts with the RecordIO magic 0xCED7230A)";
        if (head.StartsWith((ReadOnlySpan<byte>)[(byte)'P', (byte)'K', 3, 4])) return "a zip archive";
        return null;
    }

    private static string Suggestion(string what)
        => what.StartsWith("a Parquet", StringComparison.Ordinal) ? "; rename it to .parquet or pass --input-format parquet"
        : what.StartsWith("gzip", StringComparison.Ordinal) ? "; decompress it once (gunzip) and read the result"
        : "";

    /// <summary>
    /// Passes the bytes through unchanged, checking the first chunk's magic and, for UTF-8, every chunk with one
    /// vectorised <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/> pass. A sequence cut by the end of a chunk is
    /// held back (at most 3 bytes) and given with the next one, so the check never sees half a character.
    /// </summary>
    private sealed class CheckedTextStream(Stream inner, string path, string format, bool validateUtf8, long offset = 0, Action<bool, byte[]>? seen = null) : Data.ReadOnlyForwardStream
    {
        private readonly byte[] _carry = new byte[4];
        private int _carried;
        // A stream opened in the middle of the file (OpenAt) does not start with a magic or a byte-order mark.
        private bool _started = offset > 0;
        private bool _validate = validateUtf8;
        private long _offset = offset;
        private long _lines;

        private readonly byte[] _small = new byte[64];
        private int _smallPos, _smallEnd;

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty) return 0;
            if (_smallPos == _smallEnd && buffer.Length < _small.Length)
            {
                // A tiny read (a sniff of the first bytes) goes through a block of our own, so a held-back sequence always fits.
                _smallPos = 0;
                _smallEnd = ReadChecked(_small);
            }
            if (_smallPos < _smallEnd)
            {
                int k = Math.Min(buffer.Length, _smallEnd - _smallPos);
                _small.AsSpan(_smallPos, k).CopyTo(buffer);
                _smallPos += k;
                return k;
            }
            return ReadChecked(buffer);
        }

        private int ReadChecked(Span<byte> buffer)
        {
            _carry.AsSpan(0, _carried).CopyTo(buffer);
            int n = _carried + inner.Read(buffer[_carried..]);
            bool end = n == _carried;
            _carried = 0;
            if (!_started && n > 0)
            {
                _started = true;
                seen?.Invoke(inner is GzipInputStream, buffer[..Math.Min(n, 4)].ToArray());
                if (BinaryFormatOf(buffer[..n]) is { } what)
                {
                    throw Throw.Format($"is {what}, not {format} text; expected {format} text{Suggestion(what)}", path);
                }
                // UTF-16 and UTF-32 byte-order marks: the source transcodes (or not) as it always did.
                if (TextRanges.IsWideUnicode(buffer[..n])) _validate = false;
            }
            if (!_validate || n == 0) return n;
            int complete = end ? n : n - IncompleteTail(buffer[..n]);
            var text = buffer[..complete];
            if (!Utf8.IsValid(text) || (end && complete < n)) Invalid(buffer[..n]);
            _lines += text.Count((byte)'\n');
            _offset += complete;
            if (complete < n)
            {
                _carried = n - complete;
                buffer[complete..n].CopyTo(_carry);
                if (complete == 0) return ReadChecked(buffer); // all held back: read on
            }
            return complete;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>How many bytes at the end start a multi-byte sequence that the end cuts (0 to 3).</summary>
        private static int IncompleteTail(ReadOnlySpan<byte> s)
        {
            for (int k = 1; k <= Math.Min(3, s.Length); k++)
            {
                byte b = s[^k];
                if ((b & 0xC0) == 0x80) continue;
                int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                return need > k ? k : 0;
            }
            return 0;
        }

        /// <summary>Names the first invalid byte: its line, its offset in the (decompressed) text, and the bytes there.</summary>
        private void Invalid(ReadOnlySpan<byte> chunk)
        {
            int at = 0;
            while (at < chunk.Length && System.Text.Rune.DecodeFromUtf8(chunk[at..], out _, out int used) == System.Buffers.OperationStatus.Done) at += used;
            long line = _lines + chunk[..at].Count((byte)'\n') + 1;
            var bad = chunk.Slice(at, Math.Min(4, chunk.Length - at));
            int lineStart = chunk[..at].LastIndexOf((byte)'\n') + 1;
            var before = Encoding.UTF8.GetString(chunk[lineStart..at]);
            string context = before.Length > 0 ? $" after {Throw.Quote(before.Length > 30 ? before[^30..] : before)}" : " at the start of the line";
            throw Throw.Format(
                $"invalid UTF-8 at byte offset {_offset + at:N0}{(InputFiles.IsGzip(path) ? " of the decompressed text" : "")} (bytes {Convert.ToHexString(bad)}{context}); expected UTF-8 {format} text. If the file uses another encoding, pass it: --encoding latin1 (or windows-1252, utf-16, …)",
                path, line);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
