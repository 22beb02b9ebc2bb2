using DataPrep.Data;

namespace DataPrep.Pipeline;

/// <summary>
/// A stage between a source and a sink: it binds its input schema to an output schema (validating
/// options against the data's columns before anything runs) and transforms batches.
/// </summary>
public interface IPipelineStage
{
    /// <summary>A short description for <c>Describe()</c>, logs and the run record.</summary>
    string Describe();

    /// <summary>Validates the stage against the input schema and returns the output schema.</summary>
    /// <exception cref="PipelineValidationException">The options do not fit the data.</exception>
    Schema Bind(Schema input);

    /// <summary>Transforms the batches. Blocking stages (shuffle, split, fit) may read all input first.</summary>
    IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, CancellationToken cancellationToken);
}

/// <summary>
/// A sink writes batches and makes them visible only in <see cref="CommitAsync"/>; <see cref="AbortAsync"/>
/// removes everything written so far. Nothing a sink writes is visible before a successful commit.
/// </summary>
public interface IRecordSink : IAsyncDisposable
{
    /// <summary>Prepares the output for data of the given schema (refusing an existing run unless overwriting).</summary>
    ValueTask OpenAsync(Schema schema, RunContext context, CancellationToken cancellationToken);

    /// <summary>Writes one batch; rows carry their split tags.</summary>
    ValueTask WriteAsync(RecordBatch batch, CancellationToken cancellationToken);

    /// <summary>Finishes the data files and publishes the output; the run record is written last.</summary>
    ValueTask CommitAsync(CancellationToken cancellationToken);

    /// <summary>Removes everything this run wrote. Safe to call after a failed commit.</summary>
    ValueTask AbortAsync();
}

/// <summary>Progress of a run, for progress bars and notebook displays.</summary>
/// <param name="Stage">What is running ("read", "split", "encode", "write").</param>
/// <param name="Rows">Rows done in this stage so far.</param>
/// <param name="TotalRows">Rows expected in this stage, when known.</param>
public readonly record struct RunProgress(string Stage, long Rows, long? TotalRows)
{
    /// <summary>Input bytes read so far ("read" only; 0 when not measured).</summary>
    public long Bytes { get; init; }

    /// <summary>Input bytes in all, when every input's size is known ("read" only): progress by bytes.</summary>
    public long? TotalBytes { get; init; }
}

/// <summary>
/// What stages share during a run: the report being built (counts, learned maps) and progress.
/// </summary>
public sealed class RunContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="progress">Where progress goes (may be null).</param>
    /// <param name="diagnostics">Counts which internal paths runs took (shared by the runs of one <c>DataPrepRegistry</c>); a new one by default.</param>
    /// <param name="files">How the run opens its inputs (local only by default).</param>
    public RunContext(IProgress<RunProgress>? progress = null, RunDiagnostics? diagnostics = null, Pipeline.InputFiles? files = null)
    {
        Progress = progress;
        Diagnostics = diagnostics ?? new RunDiagnostics();
        Files = (files ?? Pipeline.InputFiles.Local).Metered(Meter);
    }

    /// <summary>The phases of the run so far, each with its own wall time (see <see cref="RunPhases"/>).</summary>
    public RunPhases Phases { get; } = new();

    /// <summary>Counts the input bytes read through <see cref="Files"/>.</summary>
    public InputMeter Meter { get; } = new();

    private Dictionary<string, long>? _inputSizes;
    private bool _sizesComplete;

    /// <summary>Counts which internal paths the run took (spill, streamed time split).</summary>
    public RunDiagnostics Diagnostics { get; }

    /// <summary>The inputs' bytes as the spill estimates count them (<see cref="SpillFolder.EstimatedBytes"/>), once a convert run has opened them.</summary>
    internal long EstimatedInputBytes { get; set; }

    /// <summary>How the run opens its inputs: local paths, and URIs with the run's own connection settings.</summary>
    public Pipeline.InputFiles Files { get; }

    /// <summary>Where progress goes (may be null).</summary>
    public IProgress<RunProgress>? Progress { get; }

    /// <summary>The report the stages fill in.</summary>
    public RunReport Report { get; } = new();

    /// <summary>The rows the run skips (<c>--on-bad-row</c>): counted into <see cref="Report"/>; fail at the first by default.</summary>
    public BadRows BadRows
    {
        get => _badRows ??= BadRows.Failing(Report);
        set => _badRows = value;
    }

    private BadRows? _badRows;

    /// <summary>Input paths in order; a row's source index points here.</summary>
    public List<string> Inputs { get; } = [];

    /// <summary>
    /// Per input of <see cref="Inputs"/>, in the same order, when the run opened them: where a data row (1-based) is in
    /// it, the line or a part such as a Parquet row group (the sources' <c>LocateRow</c>), for an error found after
    /// reading. May be empty.
    /// </summary>
    public List<Func<long, (long Line, string? Within)>> RowLocators { get; } = [];

    /// <summary>
    /// Where row <paramref name="r"/> of a batch came from, for an error found after reading: its input, its line (one
    /// a text source kept for the row, or the source's <see cref="RowLocators"/>) or part, and its data row. Without
    /// <paramref name="withLine"/> the line is not looked for (a locator may read the input again).
    /// </summary>
    public (string File, long Line, long Row, string? Within) Locate(RowInfo rows, int r, bool withLine = true)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int src = rows.Sources[r];
        string file = src < Inputs.Count ? Inputs[src] : $"input {src}";
        var (line, within) = !withLine ? (0, null)
            : rows.Lines is { } lines ? (lines[r], null)
            : src < RowLocators.Count ? RowLocators[src](rows.SourceRows[r]) : (0, null);
        return (file, line, rows.SourceRows[r], within);
    }

    /// <summary>
    /// A format's error about a row of <paramref name="batch"/> (1-based, and no file: a record format's contract),
    /// naming instead the input, line and row that row came from; null when the error names no row of the batch.
    /// </summary>
    public DataFormatException? AtSource(DataFormatException e, RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(batch);
        if (e is not { File: null, Row: > 0 } || e.Row > batch.RowCount) return null;
        var (file, line, row, within) = Locate(batch.Rows, (int)e.Row - 1);
        return Throw.Format(e.Problem, file, line, row, e.Column, inner: e.InnerException, within: within);
    }

    /// <summary>Input fingerprints, computed alongside the run (the run record awaits them).</summary>
    public Task<List<InputFingerprint>>? Fingerprints { get; set; }

    /// <summary>Indexes of inputs whose rows are noisy (noisy/clean splits).</summary>
    public IReadOnlySet<int> NoisySources { get; set; } = new HashSet<int>();

    /// <summary>k-fold over time: fold k trains on the earlier folds only (set by the k-fold assigner).</summary>
    public bool ForwardChainingFolds { get; set; }

    /// <summary>The columns whose doubles nothing in the run reads, only their float32; set once the stages are bound (<see cref="Float32OnlyColumns"/>).</summary>
    public Float32OnlyColumns Float32Only { get; } = new();

    /// <summary>Rows the sink will receive, once a stage knows it (the split stage does).</summary>
    public long? ExpectedRows { get; set; }

    /// <summary>Reports progress if anyone listens; a later phase's first report begins that phase (<see cref="Phases"/>).</summary>
    public void OnProgress(string stage, long rows, long? total = null)
    {
        Phases.Enter(stage);
        Progress?.Report(new RunProgress(stage, rows, total));
    }

    /// <summary>Begins a phase (see <see cref="RunPhases"/>) and tells the listener, with no rows done yet.</summary>
    public void BeginPhase(string phase)
    {
        if (Phases.Enter(phase)) Progress?.Report(new RunProgress(phase, 0, null));
    }

    /// <summary>Reports the read phase: rows so far, and the input bytes read of the total when every input's size is known.</summary>
    public void OnRead(long rows)
    {
        Phases.Enter("read");
        if (Progress is null) return;
        // Remote sizes come with the fingerprints, which finish alongside the read: look again once they have.
        if (_inputSizes is null || (_inputSizes.Count < Inputs.Count && Fingerprints is { IsCompleted: true } && !_sizesComplete)) _inputSizes = InputSizes();
        var sizes = _inputSizes;
        long? total = sizes.Count == Inputs.Count && sizes.Count > 0 ? sizes.Values.Sum() : null;
        Progress.Report(new RunProgress("read", rows, null) { Bytes = Meter.Done(sizes), TotalBytes = total });
    }

    /// <summary>The size of each input that is one local file, or whose fingerprint (a remote object's size) is already known.</summary>
    private Dictionary<string, long> InputSizes()
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        if (Fingerprints is { IsCompletedSuccessfully: true } known)
        {
            _sizesComplete = true;
            foreach (var f in known.Result) sizes[f.Path] = f.Bytes;
        }
        foreach (var path in Inputs)
        {
            if (sizes.ContainsKey(path) || Pipeline.InputFiles.IsUri(path)) continue;
            var info = new FileInfo(path);
            if (info.Exists) sizes[path] = info.Length;
        }
        return sizes;
    }
}

/// <summary>
/// Counts which internal paths runs took, so tests can be sure the path they mean to cover ran (a spill under
/// <c>--memory</c>, a streamed time split) without reaching into static state. Thread-safe.
/// </summary>
public sealed class RunDiagnostics
{
    private int _spills;
    private int _streamedTimeSplits;
    private int _spillRepartitions;
    private int _rowTextKept;
    private int _spillsPlaced;
    private int _spillsPlacedAsFloat32;
    private int _textSpills;
    private int _spillsRanked;
    private int _spillResplits;
    private int _spillGroupRanges;

    /// <summary>Split stages that spilled to temp files.</summary>
    public int Spills => Volatile.Read(ref _spills);

    /// <summary>Time splits that streamed from a plan (instead of collecting the rows).</summary>
    public int StreamedTimeSplits => Volatile.Read(ref _streamedTimeSplits);

    /// <summary>Spilled split stages whose rows had to be partitioned again by output position (a second write of the data).</summary>
    public int SpillRepartitions => Volatile.Read(ref _spillRepartitions);

    /// <summary>Runs (and scaled-out tasks) whose sources kept each row's text for the writer (<see cref="SourceOptions.KeepRawRecords"/>).</summary>
    public int RowTextKept => Volatile.Read(ref _rowTextKept);

    /// <summary>Rows whose values a CSV source kept as float32 alone, without their text (<see cref="Float32OnlyColumns"/>), run after run.</summary>
    public long RowsWithoutText => Interlocked.Read(ref _rowsWithoutText);

    private long _rowsWithoutText;

    internal void CountRowsWithoutText(long rows) => Interlocked.Add(ref _rowsWithoutText, rows);

    /// <summary>Spilled split stages that read their files' rows straight into the output batches (no gather; <c>SplitSpill</c>).</summary>
    public int SpillsPlaced => Volatile.Read(ref _spillsPlaced);

    /// <summary>Placed spills (<see cref="SpillsPlaced"/>) whose float32 columns were placed as the rows' float32 values, not as doubles.</summary>
    public int SpillsPlacedAsFloat32 => Volatile.Read(ref _spillsPlacedAsFloat32);

    /// <summary>Spilled split stages that wrote each row's text in place of the columns it carries (<c>SplitStage.SpillText</c>).</summary>
    public int TextSpills => Volatile.Read(ref _textSpills);

    /// <summary>Spilled split stages that kept nothing per row in memory, ranking their files one at a time (<c>SplitSpill.EmitBounded</c>).</summary>
    public int SpillsRanked => Volatile.Read(ref _spillsRanked);

    /// <summary>Spilled group splits (or group folds) that let their table of groups go past <c>RangeGroups</c> and kept each row's key hashes and a file of key runs instead (<c>SplitSpill</c>).</summary>
    public int SpillGroupRanges => Volatile.Read(ref _spillGroupRanges);

    /// <summary>The most rows a spilled time split's search for its bucket starts held at once (<c>RandomSplitCuts.Locate</c>), run after run.</summary>
    public long SpillLargestHeld => Volatile.Read(ref _spillLargestHeld);

    private long _spillLargestHeld;

    internal void RecordSpillHeld(long rows) => RaiseTo(ref _spillLargestHeld, rows);

    /// <summary>Raises <paramref name="target"/> to <paramref name="value"/> if it is lower, from any thread.</summary>
    private static void RaiseTo(ref long target, long value)
    {
        long seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    /// <summary>The most rows of one batch that reached a run's writer (<c>ShardedSink</c>, or an encode task's <c>SegmentSink</c>), run after run.</summary>
    public int LargestBatchWritten => (int)Volatile.Read(ref _largestBatchWritten);

    private long _largestBatchWritten;

    internal void RecordBatchWritten(int rows) => RaiseTo(ref _largestBatchWritten, rows);

    /// <summary>Spill files split again by the next shuffle-hash bits because they were too large to load or rank within the budget.</summary>
    public int SpillResplits => Volatile.Read(ref _spillResplits);

    /// <summary>The names of the columns spilled split stages kept as float32 (<c>SpillNarrowing</c>), in column order, run after run.</summary>
    public IReadOnlyList<string> SpillFloat32Columns
    {
        get { lock (_float32Columns) return [.. _float32Columns]; }
    }

    private readonly List<string> _float32Columns = [];

    /// <summary>The names of the columns spilled split stages did not write, since nothing after the split reads them (<c>SpillNarrowing</c>), run after run.</summary>
    public IReadOnlyList<string> SpillUnreadColumns
    {
        get { lock (_unreadColumns) return [.. _unreadColumns]; }
    }

    private readonly List<string> _unreadColumns = [];

    internal void RecordSpillUnread(IEnumerable<string> columns)
    {
        lock (_unreadColumns) _unreadColumns.AddRange(columns);
    }

    internal void CountSpill() => Interlocked.Increment(ref _spills);

    internal void CountRowTextKept() => Interlocked.Increment(ref _rowTextKept);

    internal void RecordSpillFloat32(IEnumerable<string> columns)
    {
        lock (_float32Columns) _float32Columns.AddRange(columns);
    }

    internal void CountSpillRepartition() => Interlocked.Increment(ref _spillRepartitions);

    internal void CountSpillPlaced() => Interlocked.Increment(ref _spillsPlaced);

    internal void CountSpillPlacedAsFloat32() => Interlocked.Increment(ref _spillsPlacedAsFloat32);

    internal void CountTextSpill() => Interlocked.Increment(ref _textSpills);

    internal void CountSpillRanked() => Interlocked.Increment(ref _spillsRanked);

    internal void CountSpillResplit() => Interlocked.Increment(ref _spillResplits);

    internal void CountSpillGroupRanges() => Interlocked.Increment(ref _spillGroupRanges);

    internal void CountStreamedTimeSplit() => Interlocked.Increment(ref _streamedTimeSplits);
}
