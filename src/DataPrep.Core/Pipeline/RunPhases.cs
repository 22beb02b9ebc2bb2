using System.Diagnostics;

namespace DataPrep.Pipeline;

/// <summary>How long one phase of a run took.</summary>
/// <param name="Name">open, read, split, write, then commit (local output) or upload (s3:// output).</param>
/// <param name="Seconds">Wall time of this phase alone.</param>
public sealed record PhaseTime(string Name, double Seconds);

/// <summary>
/// The phases of a run as consecutive stretches of wall time: a phase ends when the next one begins, so the phases
/// never overlap and add up to at most the run's wall time. Phases only move forward (open → read → split → write →
/// commit/upload): where they overlap in a streamed run (a time split planned ahead reads while it writes), the
/// overlap counts for the later phase. Thread-safe.
/// </summary>
public sealed class RunPhases
{
    private static readonly string[] s_order = ["open", "read", "split", "write", "commit", "upload"];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<PhaseTime> _done = [];
    private string? _current = "open";
    private TimeSpan _since;

    /// <summary>The phase running now (null once stopped).</summary>
    public string? Current
    {
        get { lock (_done) return _current; }
    }

    /// <summary>Whether a stage name is a phase (others, such as an image decoder's, do not move the clock).</summary>
    public static bool IsPhase(string stage) => Array.IndexOf(s_order, stage) >= 0;

    /// <summary>
    /// Begins <paramref name="phase"/>, ending the current one, if it comes later than the current one; otherwise
    /// nothing changes. Returns whether a new phase began.
    /// </summary>
    public bool Enter(string phase)
    {
        int rank = Array.IndexOf(s_order, phase);
        if (rank < 0) return false;
        lock (_done)
        {
            if (_current is null || rank <= Array.IndexOf(s_order, _current)) return false;
            Close();
            _current = phase;
            return true;
        }
    }

    /// <summary>Ends the current phase; returns every phase in order, each with its own wall time.</summary>
    public IReadOnlyList<PhaseTime> Stop()
    {
        lock (_done)
        {
            if (_current is not null) Close();
            _current = null;
            return [.. _done];
        }
    }

    private void Close()
    {
        var now = _clock.Elapsed;
        _done.Add(new PhaseTime(_current!, (now - _since).TotalSeconds));
        _since = now;
    }
}

/// <summary>
/// Counts the input bytes a run has read, for progress by bytes: every stream <see cref="InputFiles.Open"/> opens
/// is counted (before decompression, so a .gz input is measured against its own size). A file read more than once
/// (a schema sample, then the whole) counts as far as its furthest reader got, never beyond its size. Thread-safe.
/// </summary>
public sealed class InputMeter
{
    private readonly List<(string Path, MeteredStream Stream)> _streams = [];
    private readonly Dictionary<string, long> _finished = new(StringComparer.Ordinal);

    /// <summary>Bytes read so far of the given inputs, each capped at its size.</summary>
    /// <param name="sizes">The inputs and their sizes.</param>
    public long Done(IReadOnlyDictionary<string, long> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var furthest = new Dictionary<string, long>(StringComparer.Ordinal);
        lock (_streams)
        {
            foreach (var (path, n) in _finished) furthest[path] = n;
            foreach (var (path, s) in _streams) furthest[path] = Math.Max(furthest.GetValueOrDefault(path), s.BytesRead);
        }
        long done = 0;
        foreach (var (path, size) in sizes) done += Math.Min(size, furthest.GetValueOrDefault(path));
        return done;
    }

    /// <summary>Wraps a freshly opened input stream so its reads are counted.</summary>
    internal Stream Track(string path, Stream raw)
    {
        var s = new MeteredStream(raw, this, path);
        lock (_streams) _streams.Add((path, s));
        return s;
    }

    private void Closed(string path, MeteredStream s)
    {
        lock (_streams)
        {
            if (_streams.Remove((path, s))) _finished[path] = Math.Max(_finished.GetValueOrDefault(path), s.BytesRead);
        }
    }

    /// <summary>A pass-through stream (seekable when its inner stream is) that counts the bytes read through it.</summary>
    private sealed class MeteredStream(Stream inner, InputMeter meter, string path) : Stream
    {
        private long _read;

        public long BytesRead => Interlocked.Read(ref _read);

        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

        private int Count(int n)
        {
            Interlocked.Add(ref _read, n);
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                meter.Closed(path, this);
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            meter.Closed(path, this);
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
