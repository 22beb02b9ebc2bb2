using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>The plan step's time cuts: time splits and time folds planned by cut-off times.</summary>
internal static partial class ScaleTasks
{
    /// <summary>
    /// Plan of a time split in bounded memory (issue 16): passes over the scan tasks' key columns, never holding them. The
    /// first checks every time, counts the rows by <see cref="TimeSplitCuts.BinOf"/> and notes each task's range of times
    /// and row ids; <see cref="TimeSplitCuts.Find"/> then finds the cut-offs and gaps (two to four more passes). The report
    /// is the one process's
    /// (<see cref="TimeSplitAssigner.Report"/>), the encoders fit as in <see cref="FitApartFromKeys"/>, each row tagged by the encode tasks' <see cref="TimeCutAssigner"/>.
    /// </summary>
    /// <remarks>
    /// <para>Buckets: a shuffled split buckets by shuffle hash (as the scan wrote them). An unshuffled split keeps each scan
    /// task's rows in its bucket when the tasks' (time, row id) ranges follow one another; else the plan publishes the rows at
    /// every N-th position of the (time, row id) order (<see cref="TaskReport.TimeBuckets"/>) and encode task j takes, from
    /// every scan task's rows, those from the j-th to the next: each encode task reads all rows, as the routing plan's
    /// exchange by rank did.</para>
    /// <para>A missing or invalid time stops the plan with one process's error (<see cref="TimeSplitAssigner.TimeProblems"/>:
    /// the key columns carry every row's origin and are read in input order). Returns false, having reported nothing,
    /// when the full plan must decide: no rows. A split with a non-zero fraction left empty gets one process's warning,
    /// whose count of distinct times takes more passes (<see cref="TimeSplitCuts.DistinctTimes"/>).</para>
    /// </remarks>
    private static async Task<bool> TryPlanTimeByCutsAsync(ScaleRun run, TimeSplitAssigner assigner, IReadOnlyList<IPipelineStage> from,
        Schema splitInput, int[] keys, Schema keySchema, CancellationToken cancellationToken)
    {
        const string who = "step plan task 0";
        int timeKey = keySchema.IndexOf(assigner.TimeColumn);
        if (timeKey < 0) return false;
        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        var paths = await KeyFilesAsync(run, who, folder, cancellationToken).ConfigureAwait(false);
        int workers = run.Workers;

        // First pass: every time valid, the histogram of keys, each task's ranges.
        long rows = 0;
        var histogram = new long[RandomSplitCuts.Bins];
        var taskRows = new long[workers];
        var minTime = new long[workers];
        var maxTime = new long[workers];
        var minId = new long[workers];
        var maxId = new long[workers];
        Array.Fill(minTime, long.MaxValue);
        Array.Fill(maxTime, long.MinValue);
        Array.Fill(minId, long.MaxValue);
        Array.Fill(maxId, long.MinValue);
        var problems = new TimeSplitAssigner.TimeProblems(assigner);
        foreach (var (task, b) in KeyBatches(paths, keySchema, cancellationToken))
        {
            var column = b.Columns[timeKey];
            var ids = b.Rows.RowIds;
            for (int r = 0; r < b.RowCount; r++)
            {
                if (!TimeSplitAssigner.TryGetUtcTicks(column, r, out long t))
                {
                    problems.Add(column, r, b.Rows);
                    continue;
                }
                histogram[TimeSplitCuts.BinOf(t)]++;
                minTime[task] = Math.Min(minTime[task], t);
                maxTime[task] = Math.Max(maxTime[task], t);
                minId[task] = Math.Min(minId[task], ids[r]);
                maxId[task] = Math.Max(maxId[task], ids[r]);
            }
            taskRows[task] += b.RowCount;
            rows += b.RowCount;
        }
        if (problems.Error(run.Context) is { } error) throw error;
        if (rows == 0) return false;

        IEnumerable<TimedRows> Timed() => TimedPass(paths, keySchema, timeKey, who, cancellationToken);
        // A row range is read whole when its rows (16 bytes each) take at most a quarter of the budget, else narrowed.
        long maxHeld = Math.Max(1 << 16, run.Options.Memory.EffectiveBudget / 64);
        var (cuts, parts, after) = TimeSplitCuts.Find(assigner, rows, histogram, Timed, maxHeld);

        // Buckets of an unshuffled split: the scan tasks' own rows when their (time, row id) ranges follow one another.
        // A series format's buckets (by series) need no such order: the commit merges their records by series key.
        List<SplitCut>? buckets = null;
        if (!run.BucketsByHash && !run.BucketsBySeries)
        {
            bool follows = true;
            int last = -1;
            for (int i = 0; i < workers && follows; i++)
            {
                if (taskRows[i] == 0) continue;
                if (last >= 0) follows = maxTime[last] < minTime[i] || (maxTime[last] == minTime[i] && maxId[last] < minId[i]);
                last = i;
            }
            if (!follows)
            {
                var positions = Enumerable.Range(1, workers - 1).Select(j => (long)((Int128)j * rows / workers)).ToList();
                var found = TimeSplitCuts.Locate(rows, positions, histogram, Timed, maxHeld);
                buckets = found.Select((f, i) => new SplitCut { Split = i + 1, Hash = TimeSplitAssigner.KeyOf(f.Ticks), Id = f.Id }).ToList();
            }
        }

        var context = run.Context;
        assigner.Report(context, parts, after, rows);
        assigner.WarnAboutEmptySplits(context, rows, parts, () => TimeSplitCuts.DistinctTimes(histogram, Timed, maxHeld));
        var report = TaskReportOf(context.Report);
        report.Plan = PlanKind.TimeCuts;
        report.TimeCuts = cuts;
        await FitFromKeysAsync(run, report, from, () => Task.FromResult(KeyBatches(paths, keySchema, cancellationToken).Select(k => k.Batch)), keys, splitInput, context).ConfigureAwait(false);
        report.ExpectedRows = rows - parts.Sum(p => p.Dropped);
        report.Channels = SplitStage.Channels([], null).Select(c => RunLayout.ChannelName(c.Split, c.Fold)).ToList();
        report.TimeBuckets = buckets;
        await run.Work.PutReportAsync(ScaleStep.Plan, 0, report, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Plan of time folds in bounded memory (issue 16), in passes over the scan tasks' key columns: with a time test
    /// split, its cut-offs as <see cref="TryPlanTimeByCutsAsync"/> finds them (<see cref="TimeSplitCuts.Find"/>); then a
    /// pass counts the pool (the rows left in train) by the top 16 bits of an order-preserving key of their fold time
    /// (<see cref="KFoldAssigner.FoldTimeOf"/>), and <see cref="RandomSplitCuts.Locate"/> finds the rows at each fold's
    /// exact count position and just before it: a fold starts at that row's time, or just after it when the row before
    /// has the same time (ties stay in the earlier fold, <see cref="TimeFoldCut"/>). One more pass counts the rows of
    /// each fold and of test (a fold that ties left empty has no channel). Returns false, having reported nothing, when
    /// the full plan must decide: no rows (a missing or invalid time under a time test split stops with one process's
    /// error; a test split left empty gets its warning).
    /// </summary>
    private static async Task<bool> TryPlanTimeFoldsByCutsAsync(ScaleRun run, KFoldAssigner kfold, IReadOnlyList<IPipelineStage> from,
        Schema splitInput, int[] keys, Schema keySchema, CancellationToken cancellationToken)
    {
        const string who = "step plan task 0";
        var carver = (TimeSplitAssigner?)kfold.TestCarver;
        int timeKey = keySchema.IndexOf(run.Options.TimeColumn!);
        if (timeKey < 0) return false;
        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        var paths = await KeyFilesAsync(run, who, folder, cancellationToken).ConfigureAwait(false);
        long maxHeld = Math.Max(1 << 16, run.Options.Memory.EffectiveBudget / 64);

        // First pass: the rows and the range of their fold times, and under a time test split every time valid (else one
        // process's error) and the histogram of the split's keys.
        var problems = carver is null ? null : new TimeSplitAssigner.TimeProblems(carver);
        long rows = 0, minTime = long.MaxValue, maxTime = long.MinValue;
        var histogram = new long[RandomSplitCuts.Bins];
        foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
        {
            for (int r = 0; r < b.RowCount; r++)
            {
                long t = KFoldAssigner.FoldTimeOf(b.Columns[timeKey], r);
                minTime = Math.Min(minTime, t);
                maxTime = Math.Max(maxTime, t);
            }
            if (carver is not null)
            {
                var column = b.Columns[timeKey];
                for (int r = 0; r < b.RowCount; r++)
                {
                    if (TimeSplitAssigner.TryGetUtcTicks(column, r, out long t)) histogram[TimeSplitCuts.BinOf(t)]++;
                    else problems!.Add(column, r, b.Rows);
                }
            }
            rows += b.RowCount;
        }
        if (problems?.Error(run.Context) is { } error) throw error;
        if (rows == 0) return false;
        long TicksOf(RecordBatch b, int r) => ValidTicks(b, timeKey, r, who);
        TimeCuts? cuts = null;
        Func<long>? distinctTimes = null;
        TimeSplitPart[] parts = [];
        string?[] after = [];
        if (carver is not null)
        {
            IEnumerable<TimedRows> Timed() => TimedPass(paths, keySchema, timeKey, who, cancellationToken);
            (cuts, parts, after) = TimeSplitCuts.Find(carver, rows, histogram, Timed, maxHeld);
            distinctTimes = () => TimeSplitCuts.DistinctTimes(histogram, Timed, maxHeld);
        }

        // The pool's fold times as order-preserving keys, with their row ids: the time after the earliest, scaled to fill
        // 64 bits, so that the histogram's 65,536 bins cover the run's range of times (not a few bins of all of long's).
        int shift = maxTime == minTime ? 0 : System.Numerics.BitOperations.LeadingZeroCount(unchecked((ulong)(maxTime - minTime)));
        ulong FoldKeyOf(long time) => unchecked((ulong)(time - minTime)) << shift;
        long TimeOfFoldKey(ulong key) => unchecked(minTime + (long)(key >> shift));
        IEnumerable<HashedRows> Pool()
        {
            var foldKeys = Array.Empty<ulong>();
            var ids = Array.Empty<long>();
            foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
            {
                if (foldKeys.Length < b.RowCount) { foldKeys = new ulong[b.RowCount]; ids = new long[b.RowCount]; }
                var column = b.Columns[timeKey];
                int n = 0;
                for (int r = 0; r < b.RowCount; r++)
                {
                    if (cuts is not null && TimeSplitAssigner.TagOf(TicksOf(b, r), cuts) != SplitTag.Train) continue;
                    foldKeys[n] = FoldKeyOf(KFoldAssigner.FoldTimeOf(column, r));
                    ids[n++] = b.Rows.RowIds[r];
                }
                yield return new HashedRows(foldKeys, ids, n);
            }
        }
        var (foldBins, pool) = RandomSplitCuts.Histogram(Pool());
        var counts = RandomSplitter.ExactCounts(pool, KFoldAssigner.FoldFractions(kfold.K));
        var starts = new List<(int Fold, long Position)>();
        long position = 0;
        for (int f = 1; f < kfold.K; f++)
        {
            position += counts[f - 1];
            if (position < pool) starts.Add((f, position));
        }
        var foldCuts = new List<TimeFoldCut>();
        if (starts.Count > 0)
        {
            // Each start's row and the row before it (a start is never at position 0: fold 0 holds a row first).
            var found = RandomSplitCuts.Locate(pool, [.. starts.SelectMany(s => new[] { s.Position - 1, s.Position })], foldBins, Pool, maxHeld);
            for (int i = 0; i < starts.Count; i++)
            {
                long before = TimeOfFoldKey(found[2 * i].Hash), at = TimeOfFoldKey(found[2 * i + 1].Hash);
                foldCuts.Add(new TimeFoldCut { Fold = starts[i].Fold, Time = at, After = before == at });
            }
        }

        // The folds that hold rows after the ties, and whether test does, for the channels one process lists.
        var foldRows = new long[kfold.K];
        long test = 0;
        foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
        {
            var column = b.Columns[timeKey];
            for (int r = 0; r < b.RowCount; r++)
            {
                var tag = cuts is null ? SplitTag.Train : TimeSplitAssigner.TagOf(TicksOf(b, r), cuts);
                if (tag == SplitTag.Train) foldRows[KFoldAssigner.FoldOfTime(foldCuts, KFoldAssigner.FoldTimeOf(column, r))]++;
                else if (tag == SplitTag.Test) test++;
            }
        }

        var context = run.Context;
        carver?.Report(context, parts, after, rows);
        carver?.WarnAboutEmptySplits(context, rows, parts, distinctTimes!);
        context.ForwardChainingFolds = true;
        var report = TaskReportOf(context.Report);
        report.Plan = PlanKind.TimeCuts;
        report.TimeCuts = cuts;
        report.TimeFoldCuts = foldCuts;
        await FitFromKeysAsync(run, report, from, () => Task.FromResult(KeyBatches(paths, keySchema, cancellationToken).Select(k => k.Batch)), keys, splitInput, context).ConfigureAwait(false);
        report.ExpectedRows = foldRows.Sum() + test;
        List<(SplitTag Split, short Fold)> channels = [.. Enumerable.Range(0, kfold.K).Where(f => foldRows[f] > 0).Select(f => (SplitTag.Train, (short)f))];
        if (test > 0) channels.Add((SplitTag.Test, -1));
        report.Channels = channels.Select(c => RunLayout.ChannelName(c.Split, c.Fold)).ToList();
        await run.Work.PutReportAsync(ScaleStep.Plan, 0, report, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A pass over the scan tasks' key columns as (time, row id) rows, for <see cref="TimeSplitCuts"/>: one buffer for the
    /// pass, since every consumer is done with a batch's times before the next. Every time was checked by the first pass.
    /// </summary>
    private static IEnumerable<TimedRows> TimedPass(string[] paths, Schema keySchema, int timeKey, string who, CancellationToken cancellationToken)
    {
        var ticks = Array.Empty<long>();
        foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
        {
            if (ticks.Length < b.RowCount) ticks = new long[b.RowCount];
            for (int r = 0; r < b.RowCount; r++) ticks[r] = ValidTicks(b, timeKey, r, who);
            yield return new TimedRows(ticks, b.Rows.RowIds, b.RowCount);
        }
    }

    /// <summary>The time of row <paramref name="r"/>, which the first pass found valid (else the key columns changed).</summary>
    private static long ValidTicks(RecordBatch b, int timeKey, int r, string who)
        => TimeSplitAssigner.TryGetUtcTicks(b.Columns[timeKey], r, out long t) ? t
            : throw new PipelineValidationException($"{who}: the rows changed between two passes over the scan step's key columns (a time that was valid is not); run the scan step again.");
}
