using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPrep.Data;

namespace DataPrep.Pipeline;

/// <summary>What a run does with a row it cannot read as its columns say (<c>--on-bad-row</c>).</summary>
public enum BadRowPolicy
{
    /// <summary>Stop the run at the first bad row, naming file, line or row, column and cause (the default).</summary>
    Fail,

    /// <summary>Leave the row out and count it by cause in the report and run.json.</summary>
    Skip,

    /// <summary>As <see cref="Skip"/>, and write each row with its file, line (or row group and row) and cause to <c>_dataprep/quarantine/</c>.</summary>
    Quarantine,
}

/// <summary>
/// The causes a row can be skipped for: one name each, used in the report, run.json and the quarantine file.
/// Damage after which row boundaries are unknown (malformed CSV quoting, a damaged gzip stream, invalid UTF-8) is no
/// row's fault: it stays fatal under every policy.
/// </summary>
public static class BadRowCause
{
    /// <summary>A CSV row with more or fewer fields than the header.</summary>
    public const string Ragged = "ragged row";

    /// <summary>A value that is not of its column's type (text in a number column, a bad date, an integer an inferred float column cannot hold).</summary>
    public const string NotOfType = "value of the wrong type";

    /// <summary>NaN, an infinity or an overflowing number under <c>--non-finite error</c>.</summary>
    public const string NonFinite = "non-finite number";

    /// <summary>A missing value in a used column under <c>--missing error</c> (the label under every policy is dropped, not skipped).</summary>
    public const string Missing = "missing value";

    /// <summary>A line of a line-based format (JSON Lines, LibSVM) that is not a record of it.</summary>
    public const string Malformed = "malformed record";
}

/// <summary>
/// The rows a run skipped (<see cref="BadRowPolicy.Skip"/>, <see cref="BadRowPolicy.Quarantine"/>): counted by cause
/// into the run's report, and under quarantine written as JSON Lines to a temp file that the commit step copies into
/// the output (<see cref="QuarantinePath"/>), staged and published with the run like every other file. One per run;
/// callers add rows in input order (a source adds a batch's bad rows when it emits the batch), so the file's bytes do
/// not depend on threads or batch size. Thread-safe.
/// </summary>
public sealed class BadRows : IDisposable
{
    /// <summary>Where a run's quarantined rows are published, relative to the output root.</summary>
    public const string QuarantinePath = "_dataprep/quarantine/part-00000.jsonl";

    /// <summary>The quarantine file's and <see cref="RowJson"/>'s JSON: non-ASCII and HTML characters as read, not as \uXXXX escapes.</summary>
    private static readonly JsonWriterOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly RunReport _report;
    private readonly string _tempDirectory;
    private readonly Lock _gate = new();
    private SpillFolder? _folder;
    private FileStream? _file;
    // The records since the last batch boundary (EndBatch), written to the file sorted by (source, row) at the next one.
    private readonly MemoryStream _pending = new();
    private Utf8JsonWriter? _json;
    private readonly List<(int Source, long Row, int Offset, int Length)> _pendingRecords = [];
    private long _atSource;

    /// <summary>Creates the log of one run.</summary>
    /// <param name="policy">What the run does with a bad row.</param>
    /// <param name="report">The run's report, which gets the counts.</param>
    /// <param name="tempDirectory">Where the quarantine file is kept until the commit (default: the system temp folder).</param>
    public BadRows(BadRowPolicy policy, RunReport report, string? tempDirectory = null)
    {
        Policy = policy;
        _report = report;
        _tempDirectory = string.IsNullOrEmpty(tempDirectory) ? Path.GetTempPath() : tempDirectory;
    }

    /// <summary>A log that tolerates nothing (<see cref="BadRowPolicy.Fail"/>), for code run without one.</summary>
    public static BadRows Failing(RunReport report) => new(BadRowPolicy.Fail, report);

    /// <summary>The run's policy.</summary>
    public BadRowPolicy Policy { get; }

    /// <summary>Whether a bad row is left out (skip or quarantine) instead of ending the run.</summary>
    public bool Tolerates => Policy != BadRowPolicy.Fail;

    /// <summary>Rows a source refused before they reached a batch: read, but in no batch (the run adds them to the rows read).</summary>
    public long RefusedAtSource => Interlocked.Read(ref _atSource);

    /// <summary>The temp file holding the quarantined rows so far (null: none yet).</summary>
    internal string? QuarantineFile { get; private set; }

    /// <summary>
    /// Logs a batch's bad rows in input order (a source's threads find them in any order) and returns the batch
    /// without them. The other rows keep their row ids: a skipped row is dropped, as <c>--missing drop</c> drops one.
    /// A source calls it as it hands the batch over, so every row of the batches before has been logged (a run's stages
    /// pull batches one at a time): the records so far are written first (<see cref="EndBatch"/>).
    /// </summary>
    internal RecordBatch Skip(RecordBatch batch, List<BadRow> bad)
    {
        EndBatch();
        bad.Sort((a, b) => a.At.CompareTo(b.At));
        var isBad = new bool[batch.RowCount];
        foreach (var b in bad)
        {
            isBad[b.At] = true;
            Add(b.Cause, b.Error, b.Text?.TrimEnd('\r', '\n'), source: batch.Rows.Sources[b.At]);
        }
        var keep = new int[batch.RowCount - bad.Count];
        for (int r = 0, k = 0; r < isBad.Length; r++) if (!isBad[r]) keep[k++] = r;
        return batch.Take(keep);
    }

    /// <summary>
    /// Records one skipped row, or throws <paramref name="error"/> when the policy is <see cref="BadRowPolicy.Fail"/>.
    /// </summary>
    /// <param name="cause">One of <see cref="BadRowCause"/>.</param>
    /// <param name="error">The error the row would have ended the run with (file, line, row, column, problem).</param>
    /// <param name="text">The row as it was read (its line, or its values), for the quarantine file; null when unknown.</param>
    /// <param name="atSource">True when the row never reached a batch (a source refused it), false when a stage dropped it from one.</param>
    /// <param name="source">The row's input (its batch's <c>Rows.Sources</c>): records are written in order of input, then row.</param>
    /// <exception cref="DataFormatException">The policy is to fail.</exception>
    public void Add(string cause, DataFormatException error, string? text, bool atSource = true, int source = 0)
    {
        if (!Tolerates) throw error;
        lock (_gate)
        {
            lock (_report.BadRows) _report.BadRows[cause] = _report.BadRows.GetValueOrDefault(cause) + 1;
            if (atSource) _atSource++;
            if (Policy != BadRowPolicy.Quarantine) return;
            var json = _json ??= new Utf8JsonWriter(_pending, s_json);
            int offset = (int)_pending.Length;
            WriteRecord(json, _pending, error.File, error.Line, error.Row, error.Within, error.Column, cause, error.Problem, text);
            _pendingRecords.Add((source, error.Row, offset, (int)_pending.Length - offset));
        }
    }

    /// <summary>
    /// Marks the end of a batch: every row of the batches handed over so far has been logged. The records since the last
    /// mark go to the quarantine file in order of input, then row. A source's rows and a stage's (a missing value) of one
    /// batch are found apart, and a stage finds its rows column by column, so only sorting makes the file list rows in
    /// input order whatever the batches: a scaled-out scan task's byte range starts batches elsewhere than one process.
    /// </summary>
    public void EndBatch()
    {
        lock (_gate)
        {
            if (_pendingRecords.Count == 0) return;
            if (_file is null) Open();
            var records = _pendingRecords.Select((r, i) => (r, i)).OrderBy(x => x.r.Source).ThenBy(x => x.r.Row).ThenBy(x => x.i);
            var bytes = _pending.GetBuffer();
            foreach (var (r, _) in records) _file!.Write(bytes, r.Offset, r.Length);
            _pendingRecords.Clear();
            _pending.SetLength(0);
        }
    }

    /// <summary>One quarantine record: a JSON object on a line of its own (the file's one format, written here only).</summary>
    private static void WriteRecord(Utf8JsonWriter json, Stream file, string? path, long line, long row, string? within, string? column, string? cause, string? problem, string? text)
    {
        json.WriteStartObject();
        json.WriteString("file", path);
        if (line > 0) json.WriteNumber("line", line);
        if (row > 0) json.WriteNumber("row", row);
        if (within is not null) json.WriteString("within", within);
        if (column is not null) json.WriteString("column", column);
        json.WriteString("cause", cause);
        json.WriteString("problem", problem);
        if (text is not null) json.WriteString("text", text);
        json.WriteEndObject();
        json.Flush();
        file.WriteByte((byte)'\n');
        json.Reset();
    }

    /// <summary>
    /// Copies quarantine records from <paramref name="source"/> to <paramref name="target"/>, adding
    /// <paramref name="lines"/> to the line and <paramref name="rows"/> to the row of each record of <paramref name="path"/>:
    /// a scaled-out scan task that read a byte range from the middle of an input numbered its lines and rows from the
    /// range's start, and the commit numbers them as one process does. Other records are copied as they are.
    /// </summary>
    internal static void Renumber(Stream source, Stream target, string path, long lines, long rows)
    {
        // A record is one line: the writer escapes every line break inside a string.
        using var reader = new StreamReader(source, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, 1 << 16, leaveOpen: true);
        using var json = new Utf8JsonWriter(target, s_json);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            var record = Encoding.UTF8.GetBytes(line);
            string? file = null, within = null, column = null, cause = null, problem = null, text = null;
            long number = 0, row = 0;
            var r = new Utf8JsonReader(record);
            r.Read();
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                string name = r.GetString()!;
                r.Read();
                switch (name)
                {
                    case "file": file = r.GetString(); break;
                    case "line": number = r.GetInt64(); break;
                    case "row": row = r.GetInt64(); break;
                    case "within": within = r.GetString(); break;
                    case "column": column = r.GetString(); break;
                    case "cause": cause = r.GetString(); break;
                    case "problem": problem = r.GetString(); break;
                    case "text": text = r.GetString(); break;
                    default: throw new InvalidDataException($"a quarantine record holds an unknown field '{name}'.");
                }
            }
            if (file == path)
            {
                if (number > 0) number += lines;
                if (row > 0) row += rows;
            }
            WriteRecord(json, target, file, number, row, within, column, cause, problem, text);
        }
    }

    private void Open()
    {
        _folder = new SpillFolder(_tempDirectory);
        QuarantineFile = _folder.NewFile("quarantine.jsonl");
        _file = new FileStream(QuarantineFile, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
    }

    /// <summary>Writes the last batch's records and closes the quarantine file, so it can be copied.</summary>
    internal void Close()
    {
        EndBatch();
        lock (_gate)
        {
            _json?.Dispose();
            _file?.Dispose();
            _json = null;
            _file = null;
        }
    }

    /// <summary>
    /// Writes the quarantined rows, if any, into the store at <see cref="QuarantinePath"/> (staged: published by the
    /// store's commit, removed by its abort) and names the file in the report.
    /// </summary>
    /// <param name="create">Creates a staged file in the run's store (the output layer's <c>IOutputStore.CreateAsync</c>).</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    public async Task WriteAsync(Func<string, CancellationToken, ValueTask<Stream>> create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        Close();
        if (QuarantineFile is not { } path) return;
        await using (var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
        await using (var target = await create(QuarantinePath, cancellationToken).ConfigureAwait(false))
        {
            await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
        }
        _report.Quarantine = QuarantinePath;
    }

    /// <summary>
    /// Row <paramref name="row"/> of a batch as a JSON object of its values, for the quarantine record of a row that has
    /// no input line (Parquet): numbers as numbers (a non-finite one as its text, "NaN" or "Infinity", which JSON numbers
    /// cannot hold), timestamps in ISO 8601, binary values in base64, a sparse vector as {"index": value}, missing as null.
    /// </summary>
    public static string RowJson(RecordBatch batch, int row)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, s_json))
        {
            json.WriteStartObject();
            for (int c = 0; c < batch.Columns.Count; c++)
            {
                json.WritePropertyName(batch.Schema[c].Name);
                WriteValue(json, batch.Columns[c], row);
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteValue(Utf8JsonWriter json, Column column, int row)
    {
        if (column.IsNull(row)) { json.WriteNullValue(); return; }
        switch (column)
        {
            case Float64Column f when double.IsFinite(f.Values[row]): json.WriteNumberValue(f.Values[row]); break;
            case Float64Column f: json.WriteStringValue(f.Values[row].ToString(CultureInfo.InvariantCulture)); break;
            case TimestampColumn t: json.WriteStringValue(new DateTime(t.Values[row], DateTimeKind.Utc).ToString("o", CultureInfo.InvariantCulture)); break;
            case Int64Column i: json.WriteNumberValue(i.Values[row]); break;
            case BooleanColumn b: json.WriteBooleanValue(b.Values[row]); break;
            case StringColumn s: json.WriteStringValue(s.Values[row]); break;
            case BinaryColumn b: json.WriteBase64StringValue(b.Values[row].Span); break;
            case SparseColumn sparse:
                json.WriteStartObject();
                for (int k = sparse.RowOffsets[row]; k < sparse.RowOffsets[row + 1]; k++)
                {
                    json.WritePropertyName(sparse.Indices[k].ToString(CultureInfo.InvariantCulture));
                    if (double.IsFinite(sparse.Values[k])) json.WriteNumberValue(sparse.Values[k]);
                    else json.WriteStringValue(sparse.Values[k].ToString(CultureInfo.InvariantCulture));
                }
                json.WriteEndObject();
                break;
            default: json.WriteNullValue(); break;
        }
    }

    /// <summary>The counts as text: "3 skipped (2: ragged row; 1: non-finite number)".</summary>
    public static string Describe(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        long n = report.BadRows.Values.Sum();
        return string.Create(CultureInfo.InvariantCulture, $"{n:N0} bad row{(n == 1 ? "" : "s")} skipped")
            + (n == 0 ? "" : " (" + string.Join("; ", report.BadRows.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Value:N0}: {kv.Key}"))) + ")");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Close();
        _folder?.Dispose();
        _folder = null;
    }
}

/// <summary>A row of a source's batch that failed to parse (at its index in the batch), with what it would have failed the run with.</summary>
internal readonly record struct BadRow(int At, string Cause, DataFormatException Error, string? Text);
