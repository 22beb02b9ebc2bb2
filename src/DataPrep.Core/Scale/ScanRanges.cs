using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Sources;

namespace DataPrep.Scale;

/// <summary>
/// The byte ranges of text inputs (CSV, JSON Lines) that scan tasks read apart (<see cref="IRecordSource.Parts"/>): each task's reads are
/// in its report (<see cref="TaskReport.Ranges"/>); the plan checks that consecutive ranges met (a CSV quoted field holding
/// a range's first line break breaks that), and the steps after the scan number a range's rows from the rows before
/// it, which its scan task did not know, and the commit numbers the lines and rows of its quarantined rows alike. Row ids
/// need nothing: a text row's id is its record's byte position.
/// </summary>
internal sealed class ScanRanges
{
    // By scan task: the input it read from the middle (at most one: a task's units follow one another, so only its first
    // can start in the middle of an input), the rows of that input before the range, and the line breaks before where
    // the range's read opened the input (its line 1).
    private readonly (int Source, long Before, long Lines)?[] _byTask;

    private ScanRanges((int Source, long Before, long Lines)?[] byTask) => _byTask = byTask;

    /// <summary>No range read from the middle of an input.</summary>
    public static ScanRanges None { get; } = new([]);

    /// <summary>The reads of the sources that read parts of their input, for a task's report; null when none did.</summary>
    public static List<ScanRange>? Of(IReadOnlyList<IRecordSource> sources)
    {
        var ranges = new List<ScanRange>();
        for (int i = 0; i < sources.Count; i++)
        {
            foreach (var read in sources[i].PartsRead)
            {
                ranges.Add(new ScanRange { Source = i, First = read.First, End = read.End, Start = read.Start, Stop = read.Stop, Rows = read.Rows, StartLine = read.StartLine, StopLine = read.StopLine, QuotedBreaks = sources[i] is CsvSource });
            }
        }
        return ranges.Count > 0 ? ranges : null;
    }

    /// <summary>
    /// The scan tasks' ranges, checked: every input's ranges follow one another from its start to its end, each starting
    /// where the one before it stopped. A range that started elsewhere started inside a quoted field (exit 3, naming the
    /// file and the byte).
    /// </summary>
    /// <param name="scans">The scan tasks' reports, in task order.</param>
    /// <param name="inputs">The run's inputs, for messages.</param>
    /// <param name="who">The task checking, for messages.</param>
    public static ScanRanges Check(IReadOnlyList<TaskReport> scans, IReadOnlyList<string> inputs, string who)
    {
        var bySource = new SortedDictionary<int, List<(int Task, ScanRange Range)>>();
        for (int t = 0; t < scans.Count; t++)
        {
            foreach (var r in scans[t].Ranges ?? []) (bySource.TryGetValue(r.Source, out var list) ? list : bySource[r.Source] = []).Add((t, r));
        }
        var byTask = new (int Source, long Before, long Lines)?[scans.Count];
        foreach (var (source, reads) in bySource)
        {
            reads.Sort((a, b) => a.Range.First.CompareTo(b.Range.First));
            string file = source < inputs.Count ? inputs[source] : $"input {source}";
            if (reads[0].Range.First != 0 || reads[^1].Range.Stop != long.MaxValue)
            {
                throw new PipelineValidationException($"{who}: the scan tasks read parts {reads[0].Range.First}…{reads[^1].Range.End} of {file}, not all of it; run the scan step again.");
            }
            long before = 0, lines = 0;
            for (int k = 0; k < reads.Count; k++)
            {
                var (task, r) = reads[k];
                if (k > 0)
                {
                    var previous = reads[k - 1].Range;
                    if (previous.End != r.First) throw new PipelineValidationException($"{who}: the scan tasks read parts …{previous.End} and {r.First}… of {file}, which do not meet; run the scan step again.");
                    // The range before stopped at the first record it did not read, found by reading on from a record's
                    // start; this range guessed its first record at a line break. They differ when a quoted field held it.
                    // Only a CSV quoted field can hold a line break (JSON strings cannot): anything else is a changed input.
                    if (previous.Stop != r.Start)
                    {
                        throw r.QuotedBreaks
                            ? CsvSource.QuotedLineBreak(file, r.Start)
                            : Throw.Format($"the scan tasks' reads do not meet at byte {r.Start:N0} (the read before stopped at byte {previous.Stop:N0}): did the file change during the run? Run the scan step again", file);
                    }
                    // Both reads numbered the record where they meet, each from where it opened the input: the difference is
                    // the line breaks between the two openings (whatever line of a record its number names).
                    lines += previous.StopLine - r.StartLine;
                }
                if (r.First > 0) byTask[task] = (source, before, lines);
                before += r.Rows;
            }
        }
        return new ScanRanges(byTask);
    }

    /// <summary>Whether any scan task read an input from its middle (then <see cref="Fix"/> changes rows).</summary>
    public bool Any => Array.Exists(_byTask, x => x is not null);

    /// <summary>
    /// A batch read from scan task <paramref name="task"/>'s objects, with the source rows of the input it read from the
    /// middle counted from that input's start (a new array: row info is never written in place).
    /// </summary>
    public RecordBatch Fix(int task, RecordBatch batch)
    {
        if (task >= _byTask.Length || _byTask[task] is not var (source, before, _) || before == 0) return batch;
        var rows = batch.Rows;
        var sourceRows = new long[batch.RowCount];
        bool any = false;
        for (int r = 0; r < sourceRows.Length; r++)
        {
            bool mine = rows.Sources[r] == source;
            any |= mine;
            sourceRows[r] = mine ? rows.SourceRows[r] + before : rows.SourceRows[r];
        }
        return any ? batch.WithRows(rows with { SourceRows = sourceRows }) : batch;
    }

    /// <summary>
    /// The input scan task <paramref name="task"/> read from its middle, with the rows and line breaks of that input before
    /// the lines and rows the task numbered from 1; null when it read none.
    /// </summary>
    public (int Source, long Rows, long Lines)? Before(int task) => task < _byTask.Length ? _byTask[task] : null;

    /// <summary>The batches, with an error that names a row of a byte range as its whole input names it (<see cref="IRecordSource.InWholeInput"/>).</summary>
    public static async IAsyncEnumerable<RecordBatch> InWholeInputs(IAsyncEnumerable<RecordBatch> batches, IReadOnlyList<IRecordSource> sources, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var e = batches.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await e.MoveNextAsync().ConfigureAwait(false);
                }
                catch (DataFormatException error)
                {
                    foreach (var source in sources)
                    {
                        var whole = source.InWholeInput(error);
                        if (!ReferenceEquals(whole, error)) throw whole;
                    }
                    throw;
                }
                if (!more) yield break;
                yield return e.Current;
            }
        }
        finally
        {
            await e.DisposeAsync().ConfigureAwait(false);
        }
    }
}
