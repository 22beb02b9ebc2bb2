using DataPrep.Pipeline;

namespace DataPrep.Sources;

/// <summary>
/// How a line-based text input (CSV, JSON Lines, LibSVM) is divided into byte ranges for a scaled-out run's scan tasks
/// (<see cref="IRecordSource.Parts"/>), and where a range's first record starts. A range reads the records that start in
/// its bytes: from the byte after the first line break at or after its first byte − 1, on past its last byte to the end
/// of the last record that started inside it.
/// </summary>
internal static class TextRanges
{
    /// <summary>
    /// The parts of <paramref name="path"/>, each one's weight its bytes, and the bytes of a range
    /// (<see cref="long.MaxValue"/> when the input is one part). A plain UTF-8 file larger than
    /// <see cref="SourceOptions.RangeBytes"/> is divided; a gzip file (by name or by content), another encoding (by option or
    /// by a UTF-16 or UTF-32 byte-order mark), or a smaller file is one part. (A range quarantines bad rows with its own
    /// line and row numbers; the commit adds the lines and rows before it: <c>ScanRanges.Before</c>.)
    /// </summary>
    /// <param name="options">The source's options (the split size, the encoding, the file system).</param>
    /// <param name="path">The input.</param>
    /// <param name="seen">Whether the file is gzip, and its first bytes, when the source has read them (its sample): then
    /// the file is not opened again (on S3, a GET of a megabyte per large input per scan task).</param>
    /// <param name="range">The bytes of a part; <see cref="long.MaxValue"/> when the input is one part.</param>
    public static long[] Of(SourceOptions options, string path, (bool Gzip, byte[] Head)? seen, out long range)
    {
        range = long.MaxValue;
        long size = options.RangeBytes;
        if (size <= 0 || !TextInput.IsUtf8(options.Encoding) || InputFiles.IsGzip(path)) return [1];
        // The size first (no request for an S3 object listed or opened before): most inputs are smaller than a range.
        long length = options.Files.FileSystemOf(path) is { } remote ? remote.SizeOf(path) : new FileInfo(path).Length;
        if (length <= size) return [1];
        if (seen is var (gzip, first))
        {
            if (gzip || IsWideUnicode(first)) return [1];
        }
        else using (var raw = options.Files.Open(path))
        {
            // Gzip content behind another name (its magic): read whole.
            if (raw is GzipInputStream || !raw.CanSeek || raw.Length != length) return [1];
            // UTF-16 or UTF-32 text (its byte-order mark): a line break byte there is half a character.
            Span<byte> head = stackalloc byte[4];
            int n = raw.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (IsWideUnicode(head[..n])) return [1];
        }
        long count = (length + size - 1) / size;
        if (count > int.MaxValue / 2) return [1];
        range = size;
        var parts = new long[count];
        for (long p = 0; p < count; p++) parts[p] = Math.Min(size, length - p * size);
        return parts;
    }

    /// <summary>Whether <paramref name="head"/> starts with a UTF-16 or UTF-32 byte-order mark.</summary>
    public static bool IsWideUnicode(ReadOnlySpan<byte> head)
        => head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || head.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF]);

    /// <summary>
    /// The bytes [from, to) of parts [<paramref name="first"/>, <paramref name="end"/>) of <paramref name="count"/> parts of
    /// <paramref name="range"/> bytes: <c>to</c> is <see cref="long.MaxValue"/> for the last part.
    /// </summary>
    public static (long From, long To) Bounds(int first, int end, int count, long range)
        => (first * range, end == count ? long.MaxValue : end * range);

    /// <summary>
    /// Opens <paramref name="path"/> at the first record of a range from byte <paramref name="from"/> (&gt; 0), returned in
    /// <paramref name="start"/>: the input's first record (<paramref name="firstRecord"/>, after a byte-order mark, a CSV
    /// header and blank lines) when the range starts at or before it; else the byte after the first line break at or after
    /// byte <paramref name="from"/> − 1, which starts a record unless a CSV quoted field holds that line break (blank lines
    /// there are skipped by the reader). Null, with <paramref name="start"/> <see cref="long.MaxValue"/>, when no line starts
    /// there (a read that reached the end stops there). One open serves the search and the read, so a range of an S3 object
    /// costs no extra GET.
    /// </summary>
    /// <returns>The text from <paramref name="start"/> on, checked as <see cref="TextInput.OpenAt"/> checks it.</returns>
    public static Stream? OpenAtFirstLine(SourceOptions options, string path, string format, long from, long firstRecord, out long start)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(from, 1);
        var raw = options.Files.Open(path);
        try
        {
            start = from <= firstRecord ? firstRecord : FirstLine(raw, from);
            if (start >= raw.Length)
            {
                raw.Dispose();
                start = long.MaxValue;
                return null;
            }
            raw.Position = start;
            return TextInput.At(raw, path, format);
        }
        catch
        {
            raw.Dispose();
            throw;
        }
    }

    private static long FirstLine(Stream raw, long from)
    {
        raw.Position = from - 1;
        var buffer = new byte[1 << 16];
        long at = from - 1;
        while (true)
        {
            int n = raw.Read(buffer);
            if (n == 0) return long.MaxValue;
            int k = buffer.AsSpan(0, n).IndexOf((byte)'\n');
            if (k >= 0) return at + k + 1;
            at += n;
        }
    }
}

/// <summary>
/// One line-based source's byte ranges (<see cref="TextRanges"/>): its parts, the reads of parts it made
/// (<see cref="IRecordSource.PartsRead"/>), where its input's first record starts, and where its read from the middle
/// started. CSV, JSON Lines and LibSVM sources hold one each, so the range rule's bookkeeping lives here once.
/// </summary>
internal sealed class TextRangeReads(SourceOptions options, string path, string format)
{
    private long[]? _parts;
    private long _range = long.MaxValue;
    private readonly List<PartRead> _reads = [];

    /// <summary>The parts (<see cref="TextRanges.Of"/>).</summary>
    public IReadOnlyList<long> Parts => _parts ??= TextRanges.Of(options, path, _seen, out _range);

    private (bool Gzip, byte[] Head)? _seen;

    /// <summary>What the source's first read of the input saw (<see cref="TextInput.Open"/>'s <c>seen</c>): gzip, and its first bytes.</summary>
    public void Seen(bool gzip, byte[] head) => _seen ??= (gzip, head);

    /// <summary>What <see cref="Seen"/> was told; null before the first read.</summary>
    public (bool Gzip, byte[] Head)? SeenFirst => _seen;

    /// <summary>The reads of parts made so far.</summary>
    public IReadOnlyList<PartRead> Reads
    {
        get { lock (_reads) return [.. _reads]; }
    }

    /// <summary>Notes a read of parts (its first record, where it stopped, its rows).</summary>
    public void Add(PartRead read)
    {
        lock (_reads) _reads.Add(read);
    }

    /// <summary>The input's first record's byte (0-based), noted while the source reads its sample.</summary>
    public long FirstRecord { get; set; }

    /// <summary>
    /// Writes what the sample learned for the range rule (<see cref="FirstRecord"/>, <see cref="SeenFirst"/>) into a
    /// source's opened state (<see cref="ISharedOpen.OpenedState"/>), so that a source that adopts it decides its byte
    /// ranges without opening the input.
    /// </summary>
    public void WriteState(BinaryWriter w)
    {
        w.Write(FirstRecord);
        w.Write(_seen is not null);
        w.Write(_seen?.Gzip ?? false);
        var head = _seen?.Head ?? [];
        w.Write((byte)head.Length);
        w.Write(head);
    }

    /// <summary>Reads what <see cref="WriteState"/> wrote; false (nothing taken) when it is not that.</summary>
    /// <exception cref="EndOfStreamException">The state ends early.</exception>
    public bool ReadState(BinaryReader r)
    {
        long firstRecord = r.ReadInt64();
        bool seen = r.ReadBoolean(), gzip = r.ReadBoolean();
        var head = r.ReadBytes(r.ReadByte());
        if (head.Length > 4 || firstRecord < 0) return false;
        FirstRecord = firstRecord;
        if (seen) Seen(gzip, head);
        return true;
    }

    /// <summary>Where this source's read from the middle of the input started (its first line's byte); 0: none did.</summary>
    public long Start { get; private set; }

    /// <summary>
    /// An error found by this source's read from the middle of the input (numbered from <see cref="Start"/>), numbered as
    /// the whole input numbers it: reads the input again up to <see cref="Start"/>, counting its lines and the lines that
    /// hold a row (<paramref name="holdsRow"/>). Any other error as it is. For sources whose records are single lines
    /// (JSON Lines, LibSVM); an error path only.
    /// </summary>
    public DataFormatException InWholeInput(DataFormatException error, LineHoldsRow holdsRow)
    {
        ArgumentNullException.ThrowIfNull(error);
        long start = Start;
        if (start <= 0 || error.File != path) return error;
        long lineCount = 0, rows = 0;
        using (var lines = new Utf8LineReader(options.Files.Open(path)))
        {
            while (lines.TryReadLine(out var line) && lines.LineStart < start)
            {
                lineCount = lines.LineNumber;
                if (holdsRow(line)) rows++;
            }
        }
        return new DataFormatException(error.Problem, error.File, error.Line > 0 ? error.Line + lineCount : 0, error.Row > 0 ? error.Row + rows : 0, error.Column, error, error.Within);
    }

    /// <summary>
    /// The bytes [from, to) of parts [<paramref name="first"/>, <paramref name="end"/>) (<see cref="TextRanges.Bounds"/>);
    /// null when they are the whole input.
    /// </summary>
    /// <exception cref="NotSupportedException">Parts that are not a non-empty run of the input's parts.</exception>
    public (long From, long To)? Bounds(int first, int end)
    {
        var parts = Parts;
        if (first == 0 && end == parts.Count) return null;
        if (parts.Count == 1 || first < 0 || end > parts.Count || first >= end)
        {
            throw new NotSupportedException($"{path} has {parts.Count} part(s); parts [{first}, {end}) were asked for.");
        }
        return TextRanges.Bounds(first, end, parts.Count, _range);
    }

    /// <summary>
    /// Opens the input at the first record of the read of parts [<paramref name="first"/>, <paramref name="end"/>) from byte
    /// <paramref name="from"/> (<see cref="TextRanges.OpenAtFirstLine"/>), noting where it started; null when no line starts
    /// there, the read then noted as empty.
    /// </summary>
    public Stream? OpenAt(int first, int end, long from, out long start)
    {
        var text = TextRanges.OpenAtFirstLine(options, path, format, from, FirstRecord, out start);
        if (text is null) Add(new PartRead(first, end, long.MaxValue, long.MaxValue, 0));
        else Start = start;
        return text;
    }
}

/// <summary>Whether a line of a line-based source holds a row (JSON Lines: not blank; LibSVM: neither blank nor only a comment).</summary>
internal delegate bool LineHoldsRow(ReadOnlySpan<byte> line);

/// <summary>Where a read found its first line, and where it stopped: the first line at or after <see cref="To"/>, left to the next read.</summary>
internal sealed class RangeRead(long to)
{
    public long To { get; } = to;

    public long FirstLine { get; set; } = long.MaxValue;

    public long Stop { get; set; } = long.MaxValue;

    /// <summary>The line numbers of the lines at <see cref="FirstLine"/> and <see cref="Stop"/> (<see cref="PartRead.StartLine"/>).</summary>
    public long StartLine { get; set; }

    public long StopLine { get; set; }

    public bool Stopped => Stop != long.MaxValue;
}
