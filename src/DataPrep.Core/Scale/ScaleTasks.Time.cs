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
        foreach (var (task, b) in KeyBatches(run, paths, keySchema, cancellationToken))
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

        IEnumerable<TimedRows> Timed() => TimedPass(run, paths, keySchema, timeKey, who, cancellationToken);
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
        await FitFromKeysAsync(run, report, from, () => Task.FromResult(KeyBatches(run, paths, keySchema, cancellationToken).Select(k => k.Batch)), keys, splitInput, context).ConfigureAwait(false);
        report.ExpectedRows = rows - parts.Sum(p => p.Dropped);
        report.Channels = SplitStage.Channels([], null).Select(c => RunLayout.ChannelName(c.Split, c.Fold)).ToList();
        report.TimeBuckets = buckets;
        await run.Work.PutReportAsync(ScaleStep.Plan, 0, report, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Plan of time folds in bounded memory (issue 16), in passes over the scan tasks' key columns: with a time test
    /// split, its cut-offs as <see cref="TryPlanTimeByCutsAsync"/> finds them (<see cref="TimeSplitCuts.Find"/>); then the
    /// folds' starts over the pool (the rows left in train) by <see cref="TimeSplitCuts.FindFolds"/>, as one process finds
    /// them when it spills (<see cref="TimeFoldCut"/>). One more pass counts the rows of
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

        // First pass: the rows, and under a time test split every time valid (else one process's error) and the histogram
        // of the split's keys.
        var problems = carver is null ? null : new TimeSplitAssigner.TimeProblems(carver);
        long rows = 0;
        var histogram = new long[RandomSplitCuts.Bins];
        foreach (var (_, b) in KeyBatches(run, paths, keySchema, cancellationToken))
        {
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
            IEnumerable<TimedRows> Timed() => TimedPass(run, paths, keySchema, timeKey, who, cancellationToken);
            (cuts, parts, after) = TimeSplitCuts.Find(carver, rows, histogram, Timed, maxHeld);
            distinctTimes = () => TimeSplitCuts.DistinctTimes(histogram, Timed, maxHeld);
        }
        var foldCuts = TimeSplitCuts.FindFolds(kfold.K, cuts, () => TimedPass(run, paths, keySchema, timeKey, who, cancellationToken, ticks: carver is not null, foldTimes: true), maxHeld);

        // The folds that hold rows after the ties, and whether test does, for the channels one process lists.
        var foldRows = new long[kfold.K];
        long test = 0;
        foreach (var (_, b) in KeyBatches(run, paths, keySchema, cancellationToken))
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
        await FitFromKeysAsync(run, report, from, () => Task.FromResult(KeyBatches(run, paths, keySchema, cancellationToken).Select(k => k.Batch)), keys, splitInput, context).ConfigureAwait(false);
        report.ExpectedRows = foldRows.Sum() + test;
        List<(SplitTag Split, short Fold)> channels = [.. Enumerable.Range(0, kfold.K).Where(f => foldRows[f] > 0).Select(f => (SplitTag.Train, (short)f))];
        if (test > 0) channels.Add((SplitTag.Test, -1));
        report.Channels = channels.Select(c => RunLayout.ChannelName(c.Split, c.Fold)).ToList();
        await run.Work.PutReportAsync(ScaleStep.Plan, 0, report, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A pass over the scan tasks' key columns as (time, row id) rows, for <see cref="TimeSplitCuts"/>, with their
    /// <paramref name="ticks"/> (every one checked by the first pass) and their <paramref name="foldTimes"/>: one buffer
    /// each for the pass, since every consumer is done with a batch's times before the next.
    /// </summary>
    private static IEnumerable<TimedRows> TimedPass(ScaleRun run, string[] paths, Schema keySchema, int timeKey, string who, CancellationToken cancellationToken, bool ticks = true, bool foldTimes = false)
    {
        var times = Array.Empty<long>();
        var folds = Array.Empty<long>();
        foreach (var (_, b) in KeyBatches(run, paths, keySchema, cancellationToken))
        {
            if (ticks && times.Length < b.RowCount) times = new long[b.RowCount];
            if (foldTimes && folds.Length < b.RowCount) folds = new long[b.RowCount];
            var column = b.Columns[timeKey];
            for (int r = 0; r < b.RowCount; r++)
            {
                if (ticks) times[r] = ValidTicks(b, timeKey, r, who);
                if (foldTimes) folds[r] = KFoldAssigner.FoldTimeOf(column, r);
            }
            yield return new TimedRows(times, b.Rows.RowIds, b.RowCount, foldTimes ? folds : null);
        }
    }

    /// <summary>The time of row <paramref name="r"/>, which the first pass found valid (else the key columns changed).</summary>
    private static long ValidTicks(RecordBatch b, int timeKey, int r, string who)
        => TimeSplitAssigner.TryGetUtcTicks(b.Columns[timeKey], r, out long t) ? t
            : throw new PipelineValidationException($"{who}: the rows changed between two passes over the scan step's key columns (a time that was valid is not); run the scan step again.");
}
