using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Splits;

/// <summary>
/// A time split decided before the data is read: a first pass over the time column only (cheap where the
/// source is columnar, e.g. Parquet) finds the cut-offs. When the input is already in time order, every row's
/// split is then known from its position, so the split stage streams (read → tag → encode → write on all
/// cores) instead of holding all rows until the cut-offs are known.
/// </summary>
/// <remarks>
/// <para>The plan is only an optimisation: it exists only when it gives exactly the batches of the in-memory
/// path (same rows, order, tags and lineage), so output bytes do not depend on it. It is not made (and the
/// run takes the ordinary path, with its errors and messages) when the time column has a missing or invalid
/// value, when the input is not in time order, when shuffling or k-fold is asked for, or when rows could be
/// dropped before the split (a missing-value policy other than error).</para>
/// <para>While streaming, the split stage checks that every row's time and every source's row count match
/// the first pass, so a file that changes between the two passes is an error, not a wrong split.</para>
/// </remarks>
internal sealed class TimeSplitPlan
{
    private readonly long[][] _segments;
    private readonly int[] _lengths;
    private readonly long[] _segmentStart;

    private TimeSplitPlan(SplitTag[] tags, List<long[]> segments, List<int> lengths, long[] sourceRows, RunReport report)
    {
        Tags = tags;
        _segments = [.. segments];
        _lengths = [.. lengths];
        _segmentStart = new long[_segments.Length];
        for (int i = 1; i < _segments.Length; i++) _segmentStart[i] = _segmentStart[i - 1] + _lengths[i - 1];
        SourceRows = sourceRows;
        Report = report;
    }

    /// <summary>The split of the row at each input position (None: dropped inside a gap).</summary>
    public SplitTag[] Tags { get; }

    /// <summary>
    /// The times (UTC ticks) of rows [<paramref name="position"/>, +<paramref name="count"/>), for the lineage sidecar
    /// and the time column: the first pass's own array when it starts with exactly that range (no copy; it may be
    /// longer, as a column's arrays may), else a copy.
    /// </summary>
    public long[] Ticks(long position, int count)
    {
        if (count == 0) return [];
        int k = Array.BinarySearch(_segmentStart, position);
        if (k >= 0 && _lengths[k] == count) return _segments[k];
        if (k < 0) k = ~k - 1;
        var result = new long[count];
        for (int done = 0; done < count; k++)
        {
            if (k < 0 || k >= _segments.Length) throw new ArgumentOutOfRangeException(nameof(position), "Beyond the rows of the first pass.");
            int from = (int)(position + done - _segmentStart[k]);
            int n = Math.Min(count - done, _lengths[k] - from);
            _segments[k].AsSpan(from, n).CopyTo(result.AsSpan(done));
            done += n;
        }
        return result;
    }

    /// <summary>Rows of each source, as the first pass read them.</summary>
    public long[] SourceRows { get; }

    /// <summary>What the assigner reported (time ranges, gap drops, warnings), copied into the run's report.</summary>
    public RunReport Report { get; }

    /// <summary>Rows that reach the sink.</summary>
    public long ExpectedRows => Tags.Length - System.Runtime.InteropServices.MemoryMarshal.Cast<SplitTag, byte>(Tags).Count((byte)SplitTag.None);

    /// <summary>
    /// Whether the options allow a streamed time split: a time split in time order (no shuffle, no k-fold),
    /// and no row dropped before the split (missing values are errors, or there is no missing-value stage).
    /// </summary>
    public static bool Applies(ConvertOptions options, ISplitAssigner assigner, Pipeline.FormatTraits format)
        => assigner is TimeSplitAssigner
           && !options.EffectiveShuffle
           && options.Folds == 0
           && !format.NeedsSeries
           && (format.KeepsColumns || options.Missing == MissingPolicy.Error)
           // A row skipped for a bad value in another column would still be in a plan made from the time column alone.
           && options.Source.OnBadRow == Pipeline.BadRowPolicy.Fail;

    /// <summary>
    /// Reads the time column of <paramref name="timeOnly"/> (one source per input, each reading only that
    /// column) and tags the rows. Null when the plan cannot reproduce the ordinary path (see the remarks);
    /// any problem with the data also gives null, so the ordinary path reports it as it always did.
    /// </summary>
    public static async Task<TimeSplitPlan?> TryCreateAsync(TimeSplitAssigner assigner, IReadOnlyList<IRecordSource> timeOnly, RunContext context, CancellationToken cancellationToken)
    {
        try
        {
            // Each batch's times as UTC ticks (a timestamp column's own array, read in place and never written, of which
            // the first RowCount entries are the batch's; epoch numbers converted by the assigner's rule), checked on the
            // way: no missing time, times and row ids ascending with position.
            var segments = new List<long[]>();
            var lengths = new List<int>();
            var perSource = new long[timeOnly.Count];
            Schema? schema = null;
            long count = 0, lastTicks = long.MinValue, lastId = long.MinValue;
            for (int s = 0; s < timeOnly.Count; s++)
            {
                var own = await timeOnly[s].OpenAsync(cancellationToken).ConfigureAwait(false);
                if (own.IndexOf(assigner.TimeColumn) < 0) return null;
                schema ??= own;
                if (!own.Equals(schema)) return null;
                int index = schema.IndexOf(assigner.TimeColumn);
                await foreach (var b in timeOnly[s].ReadAsync(s, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    int n = b.RowCount;
                    if (n == 0) continue;
                    if (count == 0) RunTrace.Line("first time batch");
                    var column = b.Columns[index];
                    if (column.Nulls is { } nulls && nulls.AsSpan(0, n).Contains(true)) return null;
                    long[] ticks;
                    if (column is TimestampColumn stamps)
                    {
                        ticks = stamps.Values;
                        foreach (long t in ticks.AsSpan(0, n)) if ((ulong)t > (ulong)DateTime.MaxValue.Ticks) return null;
                    }
                    else
                    {
                        ticks = new long[n];
                        for (int i = 0; i < n; i++) if (!TimeSplitAssigner.TryGetUtcTicks(column, i, out ticks[i])) return null;
                    }
                    if (ticks[0] < lastTicks || !Ascending(ticks.AsSpan(0, n))) return null;
                    var ids = b.Rows.RowIds.AsSpan(0, n);
                    if (ids[0] <= lastId || !StrictlyAscending(ids)) return null;
                    lastTicks = ticks[n - 1];
                    lastId = ids[^1];
                    segments.Add(ticks);
                    lengths.Add(n);
                    perSource[s] += n;
                    count += n;
                }
            }
            if (schema is null || count == 0 || count > Array.MaxLength) return null;
            RunTrace.Line("time column read");
            // The batches' times are the sorted times, in parts: the assigner reads them where they are (no copy).
            var sorted = new SortedTimes([.. segments], [.. lengths]);
            // The assigner reports into a scratch context: nothing reaches the run unless the plan is used.
            var scratch = new RunContext();
            scratch.Inputs.AddRange(context.Inputs);
            var tags = assigner.AssignInTimeOrder(sorted, scratch);
            // Channels are emitted in split order; position order must agree (it does for rows in time order).
            byte last = 0;
            foreach (var t in tags)
            {
                if (t == SplitTag.None) continue;
                if ((byte)t < last) return null;
                last = (byte)t;
            }
            return new TimeSplitPlan(tags, segments, lengths, perSource, scratch.Report);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The ordinary path reads the same data and reports the problem with its usual message.
            return null;
        }
    }

    private static bool Ascending(ReadOnlySpan<long> values)
    {
        for (int i = 1; i < values.Length; i++) if (values[i] < values[i - 1]) return false;
        return true;
    }

    private static bool StrictlyAscending(ReadOnlySpan<long> values)
    {
        for (int i = 1; i < values.Length; i++) if (values[i] <= values[i - 1]) return false;
        return true;
    }

    /// <summary>
    /// Sources that read every column of <paramref name="schema"/> except the (timestamp) time column, which they
    /// fill from the first pass instead of decoding it a second time; null when that cannot give the same batches
    /// (a time column that is not a timestamp, no other column to read, or another schema).
    /// </summary>
    /// <param name="schema">The run's schema.</param>
    /// <param name="timeColumn">The time column.</param>
    /// <param name="withoutTime">One source per input, each reading every column of the schema but the time column.</param>
    /// <param name="cancellationToken">Cancels opening the sources.</param>
    public async Task<IReadOnlyList<IRecordSource>?> WithTimeFilledInAsync(Schema schema, string timeColumn, IReadOnlyList<IRecordSource> withoutTime, CancellationToken cancellationToken)
    {
        int index = schema.IndexOf(timeColumn);
        if (index < 0 || schema[index].Kind != ColumnKind.Timestamp || schema.Count < 2 || withoutTime.Count != SourceRows.Length) return null;
        var expected = schema.Fields.Where(f => f.Name != timeColumn).ToList();
        var first = new long[withoutTime.Count];
        for (int s = 0; s < withoutTime.Count; s++)
        {
            var own = await withoutTime[s].OpenAsync(cancellationToken).ConfigureAwait(false);
            if (!own.Fields.SequenceEqual(expected)) return null;
            if (s > 0) first[s] = first[s - 1] + SourceRows[s - 1];
        }
        return [.. withoutTime.Select((source, s) => new TimeFilledSource(source, schema, index, this, first[s]))];
    }

    /// <summary>A source's batches with the time column put back in, from the first pass's times.</summary>
    private sealed class TimeFilledSource(IRecordSource inner, Schema schema, int timeIndex, TimeSplitPlan plan, long firstPosition) : IRecordSource
    {
        public string Description => inner.Description;

        public bool ReadsColumnsSeparately => inner.ReadsColumnsSeparately;

        public ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(schema);

        public async IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            long at = firstPosition;
            await foreach (var b in inner.ReadAsync(sourceIndex, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                int n = b.RowCount;
                // More rows than the first pass saw: the file changed; the split stage's check reports it.
                long[] values = at + n <= plan.Tags.Length ? plan.Ticks(at, n) : new long[n];
                var columns = new Column[schema.Count];
                for (int c = 0, own = 0; c < columns.Length; c++) columns[c] = c == timeIndex ? new TimestampColumn(values, null, n) : b.Columns[own++];
                at += n;
                yield return new RecordBatch(schema, columns, n, b.Rows);
            }
        }
    }

    /// <summary>Copies what the assigner reported into the run's report.</summary>
    public void CopyReportTo(RunReport report)
    {
        foreach (var (name, split) in Report.Splits) report.Splits[name] = split;
        foreach (var (reason, n) in Report.Dropped) report.Drop(reason, n);
        report.Warnings.AddRange(Report.Warnings);
    }

    /// <summary>Checks, while streaming, that a batch holds the rows the plan was made from.</summary>
    /// <exception cref="DataFormatException">The input changed since the first pass.</exception>
    public void Check(RecordBatch batch, int timeIndex, long position, RunContext context)
    {
        var info = batch.Rows;
        var column = batch.Columns[timeIndex];
        int n = batch.RowCount;
        if (position + n > Tags.Length) throw Changed(context, info.Sources[0], info.SourceRows[0], batch.Schema[timeIndex].Name, $" (it has more than the {Tags.Length:N0} rows of the first pass)");
        var expected = Ticks(position, n);
        // Times filled in from the first pass are its own arrays: nothing to compare.
        if (column is TimestampColumn { Nulls: null } stamps && (ReferenceEquals(stamps.Values, expected) || stamps.Values.AsSpan(0, n).SequenceEqual(expected.AsSpan(0, n)))) return;
        for (int r = 0; r < n; r++)
        {
            if (!TimeSplitAssigner.TryGetUtcTicks(column, r, out long t) || t != expected[r]) throw Changed(context, info.Sources[r], info.SourceRows[r], batch.Schema[timeIndex].Name);
        }
    }

    /// <summary>Checks, at the end of the stream, that every source had as many rows as in the first pass.</summary>
    public void CheckCounts(long[] rowsPerSource, RunContext context)
    {
        for (int s = 0; s < SourceRows.Length; s++)
        {
            if (rowsPerSource[s] != SourceRows[s]) throw Changed(context, s, Math.Min(rowsPerSource[s], SourceRows[s]), null, $" (it had {SourceRows[s]:N0} rows, now {rowsPerSource[s]:N0})");
        }
    }

    private static DataFormatException Changed(RunContext context, int source, long row, string? column, string more = "")
    {
        string? file = source >= 0 && source < context.Inputs.Count ? context.Inputs[source] : null;
        return Throw.Format($"changed while being read{more}: the time split was planned from a first read of the time column, and the data read now differs; expected the input to stay the same during the run", file, row: row, column: column);
    }
}
