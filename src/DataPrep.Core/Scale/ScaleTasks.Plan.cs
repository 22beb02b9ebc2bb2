using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>The plan step: decides every row's split from the scan tasks' key columns (<see cref="PlanKind"/>).</summary>
internal static partial class ScaleTasks
{
    /// <summary>
    /// Plan: loads the plan columns of every row (input order), lets the run's assigner decide splits, folds and the
    /// output order exactly as one process does, fits the encoders on train in output order, and writes each bucket's
    /// routing (split, fold, rank of each of its rows). Random, stable, group and noisy/clean splits and group folds
    /// (<see cref="ScaleRun.PlanOf"/>) and time splits (<see cref="ScaleRun.PlansTimeByCuts"/>) are planned without holding
    /// rows instead (<see cref="PlanBoundedAsync"/>, <see cref="TryPlanTimeByCutsAsync"/>).
    /// </summary>
    public static async Task PlanAsync(ScaleRun run, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var scans = await work.ReportsAsync(run.Step(ScaleStep.Scan), $"step {ScaleStep.Plan} task 0", cancellationToken).ConfigureAwait(false);
        run.UseScannedSchema(scans[0], $"step {ScaleStep.Plan} task 0");
        // The CSV byte ranges the scan tasks read met (a quoted line break at a range's start stops the run here).
        run.Ranges = ScanRanges.Check(scans, run.Context.Inputs, $"step {ScaleStep.Plan} task 0");
        var split = run.RunSplit();
        var (_, from, splitInput) = run.Stages(split, run.Earlier);
        var keys = run.KeyColumns(split, from, splitInput);
        var keySchema = new Schema(keys.Select(k => splitInput[k]));
        if (run.PlanOf(split) is var kind and not PlanKind.Routing)
        {
            await PlanBoundedAsync(run, scans, kind, split.Assigner, from, splitInput, keys, keySchema, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (run.PlansTimeByCuts(split)
            && await TryPlanTimeByCutsAsync(run, (TimeSplitAssigner)split.Assigner, from, splitInput, keys, keySchema, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        if (run.PlansTimeFoldsByCuts(split)
            && await TryPlanTimeFoldsByCutsAsync(run, (KFoldAssigner)split.Assigner, from, splitInput, keys, keySchema, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        var batches = new List<RecordBatch>();
        var taskOf = new List<int>();
        var temp = Path.GetDirectoryName(folder.NewFile("keys"))!;
        for (int i = 0; i < run.Workers; i++)
        {
            var path = await work.Area.GetFileAsync(work.Key(ScaleStep.Scan, i, "keys"), temp, cancellationToken).ConfigureAwait(false)
                ?? throw new PipelineValidationException($"step {ScaleStep.Plan} task 0: the key columns of scan task {i} are missing from {work.Area.Location}; run that task again.");
            using var reader = new BatchSpillReader(path, keySchema);
            while (!reader.AtEnd)
            {
                var b = run.Ranges.Fix(i, reader.Read());
                var cols = new Column[splitInput.Count];
                for (int c = 0; c < cols.Length; c++) cols[c] = new SpilledColumn(splitInput[c].Kind, b.RowCount);
                for (int k = 0; k < keys.Length; k++) cols[keys[k]] = b.Columns[k];
                batches.Add(new RecordBatch(splitInput, cols, b.RowCount, b.Rows));
                taskOf.Add(i);
            }
        }
        var all = new SplitInput(batches, splitInput);
        var context = run.Context;
        split.Bind(splitInput);
        var assignment = split.Assigner.Assign(all, context);
        var tags = assignment.Tags;
        var folds = assignment.Folds;
        var order = assignment.Order
            ?? (run.Options.EffectiveShuffle ? RandomSplitter.HashOrder(all.RowIds, new KeyedHash(run.Options.Seed, "shuffle")) : Enumerable.Range(0, all.Count).ToArray());
        var ranks = new long[all.Count];
        Array.Fill(ranks, long.MaxValue);
        for (int k = 0; k < order.Length; k++) ranks[order[k]] = k;

        // The bucket of every row, in input order.
        var bucket = new int[all.Count];
        var hash = new KeyedHash(run.Options.Seed, "shuffle");
        var seriesHash = run.SeriesHash();
        var series = run.BucketsBySeries ? all.Column(splitInput.IndexOf(run.Options.SeriesColumn!)) : null;
        for (int b = 0, at = 0; b < batches.Count; at += batches[b].RowCount, b++)
        {
            for (int r = 0; r < batches[b].RowCount; r++)
            {
                bucket[at + r] = series is not null ? run.SeriesBucketOf(seriesHash, series, at + r)
                    : run.BucketsByHash ? ScaleRun.BucketOfHash(hash.Hash(all.RowIds[at + r]), run.Workers) : taskOf[b];
            }
        }
        // Each channel must be its buckets' rows one after the other, in bucket order, for the segments to concatenate.
        // A shuffled run's hash buckets always are; an unshuffled run's buckets (the scan tasks' own rows) are when the
        // output order follows the input files (input order, or a time split of inputs in time order). Otherwise (a
        // time split of unsorted inputs) the rows are exchanged by output rank: bucket j takes the j-th N-th of the
        // order, and each encode task reads every scan task's rows and keeps its own. A format with one record per series
        // needs no such order: its commit merges the buckets' records by series key.
        var channels = SplitStage.Channels(tags, folds);
        bool byRank = !run.BucketsByHash && !run.BucketsBySeries && !FollowsBuckets(order, tags, folds, bucket);
        if (byRank)
        {
            for (int k = 0; k < order.Length; k++) bucket[order[k]] = (int)((long)k * run.Workers / order.Length);
        }

        // Routing of each bucket: its rows in the bucket's input order (scan task by scan task).
        var byBucket = new List<int>[run.Workers];
        for (int j = 0; j < byBucket.Length; j++) byBucket[j] = [];
        for (int p = 0; p < bucket.Length; p++) byBucket[bucket[p]].Add(p);
        for (int j = 0; j < run.Workers; j++)
        {
            var members = byBucket[j];
            var routing = new Routing(
                members.Select(p => all.RowIds[p]).ToArray(),
                members.Select(p => tags[p]).ToArray(),
                folds is null ? null : members.Select(p => folds[p]).ToArray(),
                members.Select(p => ranks[p]).ToArray());
            await work.Area.PutAsync(work.Key(ScaleStep.Plan, 0, RoutingKey(j)), routing.ToBytes(), cancellationToken).ConfigureAwait(false);
        }

        // The encoders learn from train rows in the order one process hands them over: channel by channel, in output order.
        var report = TaskReportOf(context.Report);
        if (from.OfType<EncodeStage>().FirstOrDefault() is { } encode)
        {
            var fit = new List<RecordBatch>();
            if (encode.Learns)
            {
                var sequence = new List<int>();
                foreach (var (s, f) in channels)
                {
                    foreach (int p in order) if (tags[p] == s && (folds is null || folds[p] == f)) sequence.Add(p);
                }
                var picked = sequence.ToArray();
                var cols = new Column[splitInput.Count];
                for (int c = 0; c < cols.Length; c++) cols[c] = new SpilledColumn(splitInput[c].Kind, picked.Length);
                foreach (int c in encode.FitColumnIndexes) cols[c] = all.Column(c).Take(picked);
                var rows = new RowInfo(picked.Select(p => all.RowIds[p]).ToArray(), new int[picked.Length], new long[picked.Length], picked.Select(p => tags[p]).ToArray());
                fit.Add(new RecordBatch(splitInput, cols, picked.Length, rows));
            }
            var (fitted, warnings) = encode.FitApart(fit);
            report.Encoding = fitted;
            report.Warnings.AddRange(warnings);
        }
        report.ExpectedRows = tags.Length - tags.Count(t => t == SplitTag.None);
        report.Channels = channels.Select(c => RunLayout.ChannelName(c.Split, c.Fold)).ToList();
        report.ByRank = byRank;
        await work.PutReportAsync(ScaleStep.Plan, 0, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Plan in bounded memory (<see cref="ScaleRun.PlanOf"/>); no routing is written, every encode task tags its own
    /// bucket's rows (<see cref="BoundedAssigner"/>). A random split: the exact counts from the scan tasks' row counts, the
    /// cuts from their histograms of split hashes and one more pass over their key columns that keeps only the rows of
    /// the bins holding a cut (<see cref="RandomSplitCuts.Find"/>). A stratified one: the same per class, from the scan
    /// tasks' rows per class (<see cref="RandomSplitCuts.FindStratified"/>). A noisy/clean split without groups: the same per
    /// side (clean rows, noisy rows), each at its own fractions, from the scan tasks' histograms of each side's split hashes
    /// (<see cref="RandomSplitCuts.FindPerClass"/>). Random folds: the folds' cuts over the fold
    /// hashes of the rows the split leaves in train, found the same way. A stable assignment needs nothing: a row's
    /// split follows from the row. A group split (or noisy/clean by group): the group table (<see cref="GroupTable"/>,
    /// memory by groups, not rows) from one pass, decided by the run's own assigner, written as the work object
    /// <see cref="GroupSplitsObject"/>. Group folds: the same table (with a group test split, that split's), each train group's
    /// fold decided by <see cref="KFoldAssigner.GroupFolds"/>, written with its fold into the same object. Encoders learn in one more pass (<see cref="FitApartFromKeys"/>): sets of values from
    /// one row per new (column, split, value), means (fill:mean) from exact sums over every train row
    /// (<see cref="ExactMean"/>); the fit is the same as over every train row in output order.
    /// </summary>
    private static async Task PlanBoundedAsync(ScaleRun run, List<TaskReport> scans, PlanKind kind, ISplitAssigner runAssigner, IReadOnlyList<IPipelineStage> from,
        Schema splitInput, int[] keys, Schema keySchema, CancellationToken cancellationToken)
    {
        var work = run.Work;
        const string who = "step plan task 0";
        long rows = 0;
        for (int i = 0; i < run.Workers; i++)
        {
            if (scans[i].BucketRows.Length != run.Workers) throw new PipelineValidationException($"{who}: scan task {i} reported {scans[i].BucketRows.Length} buckets, not {run.Workers}.");
            rows += scans[i].BucketRows.Sum();
        }
        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        string[]? paths = null;
        async Task<string[]> KeyPathsAsync() => paths ??= await KeyFilesAsync(run, who, folder, cancellationToken).ConfigureAwait(false);
        // Every pass reads the key columns again (strings too): under --memory, a collection once the heap passes ¾ of it,
        // so the garbage of earlier batches does not pile up to several times the live data (see MemoryGovernor).
        var governor = run.Options.Memory.Budget is { } memoryBudget ? new MemoryGovernor(memoryBudget) : null;
        IEnumerable<RecordBatch> Keys()
        {
            for (int i = 0; i < paths!.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var reader = new BatchSpillReader(paths[i], keySchema);
                while (!reader.AtEnd)
                {
                    governor?.Check();
                    yield return run.Ranges.Fix(i, reader.Read());
                }
            }
        }
        var splitHash = new KeyedHash(run.Options.Seed, "split");
        // Split hashes (and classes) of every row, pass after pass, in buffers reused from batch to batch.
        IEnumerable<HashedRows> Hashed(Dictionary<string, int>? classes, int column)
        {
            var hashes = Array.Empty<ulong>();
            var strata = Array.Empty<int>();
            foreach (var b in Keys())
            {
                if (hashes.Length < b.RowCount) { hashes = new ulong[b.RowCount]; strata = new int[b.RowCount]; }
                var ids = b.Rows.RowIds;
                for (int r = 0; r < b.RowCount; r++) hashes[r] = splitHash.Hash(ids[r]);
                if (classes is null) { yield return new HashedRows(hashes, ids, b.RowCount); continue; }
                var values = b.Columns[column];
                for (int r = 0; r < b.RowCount; r++)
                {
                    var key = RandomSplitAssigner.KeyOf(values, r);
                    strata[r] = classes.TryGetValue(key, out int c) ? c
                        : throw new PipelineValidationException($"{who}: a row of class '{key}' is not among the classes the scan tasks counted; the work area mixes runs. Run the scan step again.");
                }
                yield return new HashedRows(hashes, ids, b.RowCount, strata);
            }
        }
        // A cut's range is read whole when its rows (16 bytes each) take at most a quarter of the budget, else narrowed; a
        // pass over the key columns holds at most a quarter of the budget.
        long budget = run.Options.Memory.EffectiveBudget;
        long maxHeld = Math.Max(1 << 16, budget / 64);
        var context = run.Context;
        // A group split (or a noisy/clean split by group): the group table from one pass over the key columns, decided and
        // reported as one process does, written as a work object for the encode tasks.
        GroupSplitsTable? groupSplits = null;
        GroupSplitsInfo? groupInfo = null;
        long dropped = 0;
        short[]? groupFolds = null;
        List<(SplitTag Split, short Fold)>? foldChannels = null;
        List<GroupCut>? groupCuts = null;
        // The decisions of the first pass below when the groups were few, so the table is not built and decided twice.
        GroupSplitDecision? exactSplit = null;
        (GroupTable Table, SplitTag[] Splits, short[] Folds)? exactFolds = null;
        int partitionGroups = GroupRangeWalk.PartitionGroups(budget);
        if (kind is PlanKind.Groups && runAssigner is GroupSplitAssigner { Stratify: null } rangedAssigner)
        {
            // An unstratified group split: the exact table while the groups are few, else hash ranges (no table of every group).
            await KeyPathsAsync().ConfigureAwait(false);
            exactSplit = GroupTableOf(run, rangedAssigner, paths!, keys, keySchema, splitInput, cancellationToken, exactOnly: true);
            if (exactSplit is null)
            {
                groupCuts = GroupRangesOf(run, rangedAssigner, paths!, keys, keySchema, splitInput, rows, folder, partitionGroups, who, cancellationToken).Cuts();
                kind = PlanKind.GroupRanges;
            }
        }
        List<GroupCut>? groupFoldCuts = null;
        if (kind is PlanKind.GroupFolds && runAssigner is KFoldAssigner { MayUseFoldRanges: true } rangedFolds)
        {
            // Group folds (after an unstratified group test split, or none): the exact table while the groups are few, else
            // hash ranges for the test split and the folds (no table of every group).
            await KeyPathsAsync().ConfigureAwait(false);
            var exact = GroupFoldsTableOf(run, rangedFolds, paths!, keys, keySchema, splitInput, cancellationToken, exactOnly: true);
            if (exact is null)
            {
                long poolRows = rows;
                if (rangedFolds.TestCarver is GroupSplitAssigner carver)
                {
                    var splitWalk = GroupRangesOf(run, carver, paths!, keys, keySchema, splitInput, rows, folder, partitionGroups, who, cancellationToken);
                    groupCuts = splitWalk.Cuts();
                    poolRows = splitWalk.Rows[(int)SplitTag.Train];
                }
                var foldWalk = GroupFoldRangesOf(run, rangedFolds, paths!, keys, keySchema, splitInput, groupCuts, poolRows, folder, partitionGroups, who, cancellationToken);
                groupFoldCuts = foldWalk.Cuts();
                // As one process lists them: train's folds that hold rows, then test when it does.
                foldChannels = [.. Enumerable.Range(0, rangedFolds.K).Where(f => foldWalk.Rows[f] > 0).Select(f => (SplitTag.Train, (short)f))];
                if (rows > poolRows) foldChannels.Add((SplitTag.Test, -1));
                context.ForwardChainingFolds = false;
                kind = PlanKind.GroupFoldRanges;
            }
            else
            {
                exactFolds = exact;
            }
        }
        if (kind is PlanKind.Groups or PlanKind.NoisyGroups or PlanKind.GroupFolds)
        {
            await KeyPathsAsync().ConfigureAwait(false);
            GroupTable table;
            SplitTag[] clean, noisy;
            if (kind == PlanKind.GroupFolds)
            {
                var (foldTable, splits, folds) = exactFolds ?? GroupFoldsTableOf(run, (KFoldAssigner)runAssigner, paths!, keys, keySchema, splitInput, cancellationToken)!.Value;
                (table, clean, noisy, groupFolds) = (foldTable, splits, splits, folds);
                context.ForwardChainingFolds = false;
            }
            else if (runAssigner is GroupSplitAssigner groupAssigner)
            {
                var decision = exactSplit ?? GroupTableOf(run, groupAssigner, paths!, keys, keySchema, splitInput, cancellationToken)!;
                groupAssigner.Report(context, decision);
                (table, clean, noisy) = (decision.Table, decision.SplitArray, decision.SplitArray);
            }
            else
            {
                var noisyAssigner = (NoisyCleanAssigner)runAssigner;
                var decision = NoisyGroupTableOf(run, noisyAssigner, paths!, keys, keySchema, splitInput, cancellationToken);
                noisyAssigner.Report(context, decision);
                (table, clean, noisy, dropped) = (decision.Table, decision.CleanArray, decision.NoisyArray, decision.Dropped);
            }
            if (table.TotalRows != rows) throw new PipelineValidationException($"{who}: the key columns hold {table.TotalRows:N0} rows, not the {rows:N0} rows the scan tasks reported; the work area mixes runs. Run the scan step again.");
            var objectPath = folder.NewFile(GroupSplitsObject.Key);
            // The plan's fit pass looks rows up in the table's own keys, as encode tasks do in the object they read.
            groupSplits = new GroupSplitsTable(table.KeySet, clean, noisy, groupFolds);
            groupInfo = groupSplits.Write(objectPath);
            await work.Area.PutFileAsync(work.Key(ScaleStep.Plan, 0, GroupSplitsObject.Key), objectPath, cancellationToken).ConfigureAwait(false);
            if (groupFolds is not null)
            {
                // As one process lists them: train's folds that hold rows, then test when it does.
                var foldRows = new long[((KFoldAssigner)runAssigner).K];
                long testRows = 0;
                for (int g = 0; g < table.Count; g++)
                {
                    if (groupFolds[g] >= 0) foldRows[groupFolds[g]] += table.RowsArray[g];
                    else testRows += table.RowsArray[g];
                }
                foldChannels = [.. Enumerable.Range(0, foldRows.Length).Where(f => foldRows[f] > 0).Select(f => (SplitTag.Train, (short)f))];
                if (testRows > 0) foldChannels.Add((SplitTag.Test, -1));
            }
        }
        var report = TaskReportOf(context.Report);
        report.Plan = kind;
        report.GroupSplits = groupInfo;
        report.GroupCuts = groupCuts;
        report.GroupFoldCuts = groupFoldCuts;
        var channels = foldChannels ?? SplitStage.Channels([], null);
        if (kind == PlanKind.Cuts)
        {
            var histogram = new long[RandomSplitCuts.Bins];
            for (int i = 0; i < run.Workers; i++)
            {
                var bytes = await work.Area.GetAsync(work.Key(ScaleStep.Scan, i, SplitBinsKey), cancellationToken).ConfigureAwait(false)
                    ?? throw new PipelineValidationException($"{who}: the split histogram of scan task {i} is missing from {work.Area.Location}; run that task again.");
                using var s = new MemoryStream(bytes);
                var bins = WorkArrays.Read<long>(s);
                if (bins.Length != histogram.Length) throw new PipelineValidationException($"{who}: the split histogram of scan task {i} has {bins.Length} bins, not {histogram.Length}; run that task again.");
                for (int b = 0; b < bins.Length; b++) histogram[b] += bins[b];
            }
            // Random folds: the split cuts off test (or nothing), the folds cut the rest by their fold hashes.
            var kfold = runAssigner as KFoldAssigner;
            var fractions = ((RandomSplitAssigner?)(kfold is null ? runAssigner : kfold.TestCarver))?.Fractions ?? [1.0];
            Func<IEnumerable<HashedRows>> pass = () => Hashed(null, -1);
            if (ScaleRun.CutsFromIdSections(kind, runAssigner, keys))
            {
                // Only the sections of row ids that hold a cut's bin, of every scan task, by ranged reads.
                var needed = RandomSplitCuts.CutBins(rows, fractions, histogram).Select(b => b / IdSections.BinsPerSection).Distinct().Order().ToArray();
                var offsets = scans.Select((s, i) => s.IdSections is { Length: IdSections.Count + 1 } o ? o
                    : throw new PipelineValidationException($"{who}: scan task {i} reported no sections of row ids; the work area mixes runs. Run the scan step again.")).ToArray();
                pass = () => SectionRows(run, offsets, needed, splitHash, cancellationToken);
            }
            else await KeyPathsAsync().ConfigureAwait(false);
            var cuts = RandomSplitCuts.Find(rows, fractions, histogram, pass, maxHeld);
            report.Cuts = cuts;
            if (kfold is not null)
            {
                var foldHash = new KeyedHash(run.Options.Seed, "fold");
                IEnumerable<HashedRows> Pool()
                {
                    var hashes = Array.Empty<ulong>();
                    var ids = Array.Empty<long>();
                    foreach (var b in Keys())
                    {
                        if (hashes.Length < b.RowCount) { hashes = new ulong[b.RowCount]; ids = new long[b.RowCount]; }
                        int n = 0;
                        var rowIds = b.Rows.RowIds;
                        for (int r = 0; r < b.RowCount; r++)
                        {
                            long id = rowIds[r];
                            if (RandomSplitCuts.TagOf(cuts, splitHash.Hash(id), id) != SplitTag.Train) continue;
                            hashes[n] = foldHash.Hash(id);
                            ids[n++] = id;
                        }
                        yield return new HashedRows(hashes, ids, n);
                    }
                }
                var (foldBins, pool) = RandomSplitCuts.Histogram(Pool());
                var foldFractions = KFoldAssigner.FoldFractions(kfold.K);
                report.FoldCuts = RandomSplitCuts.Find(pool, foldFractions, foldBins, Pool, maxHeld);
                // As one process lists them: train's folds that hold rows, then test when it does.
                var counts = RandomSplitter.ExactCounts(pool, foldFractions);
                channels = [.. Enumerable.Range(0, kfold.K).Where(f => counts[f] > 0).Select(f => (SplitTag.Train, (short)f))];
                if (rows > pool) channels.Add((SplitTag.Test, -1));
            }
        }
        else if (kind == PlanKind.StratifiedCuts)
        {
            var classRows = new SortedDictionary<string, long>(StringComparer.Ordinal);
            for (int i = 0; i < run.Workers; i++)
            {
                var counted = scans[i].StratumRows ?? throw new PipelineValidationException($"{who}: scan task {i} reported no rows per class of --stratify; run that task again.");
                foreach (var (key, n) in counted) classRows[key] = classRows.GetValueOrDefault(key) + n;
            }
            if (classRows.Values.Sum() != rows) throw new PipelineValidationException($"{who}: the scan tasks counted {classRows.Values.Sum():N0} rows by class, not the {rows:N0} rows they reported; the work area mixes runs. Run the scan step again.");
            var names = classRows.Keys.ToArray();
            var classes = names.Select((k, c) => (k, c)).ToDictionary(x => x.k, x => x.c, StringComparer.Ordinal);
            await KeyPathsAsync().ConfigureAwait(false);
            int column = Array.IndexOf(keys, splitInput.IndexOf(run.Options.Stratify!));
            // Stratified folds: the stratified split cuts off test (or nothing), the folds cut each class's rest by fold hashes.
            var kfold = runAssigner as KFoldAssigner;
            var carver = (RandomSplitAssigner?)(kfold is null ? runAssigner : kfold.TestCarver);
            var cuts = carver is null ? names.Select(_ => new List<SplitCut>()).ToArray()
                : RandomSplitCuts.FindStratified(classRows.Values.ToArray(), carver.Fractions, () => Hashed(classes, column), maxHeld, budget / 4);
            report.StratumCuts = names.Select((k, c) => (k, c)).ToDictionary(x => x.k, x => cuts[x.c], StringComparer.Ordinal);
            if (kfold is not null)
            {
                var foldHash = new KeyedHash(run.Options.Seed, "fold");
                IEnumerable<HashedRows> Pool()
                {
                    var hashes = Array.Empty<ulong>();
                    var ids = Array.Empty<long>();
                    var strata = Array.Empty<int>();
                    foreach (var b in Hashed(classes, column))
                    {
                        if (hashes.Length < b.Count) { hashes = new ulong[b.Count]; ids = new long[b.Count]; strata = new int[b.Count]; }
                        int n = 0;
                        for (int r = 0; r < b.Count; r++)
                        {
                            long id = b.Ids[r];
                            int c = b.Strata![r];
                            if (RandomSplitCuts.TagOf(cuts[c], b.Hashes[r], id) != SplitTag.Train) continue;
                            hashes[n] = foldHash.Hash(id);
                            ids[n] = id;
                            strata[n++] = c;
                        }
                        yield return new HashedRows(hashes, ids, n, strata);
                    }
                }
                var poolRows = new long[names.Length];
                foreach (var b in Pool())
                {
                    for (int r = 0; r < b.Count; r++) poolRows[b.Strata![r]]++;
                }
                var foldCounts = KFoldAssigner.StratifiedFoldCounts(poolRows, kfold.K);
                var foldCuts = RandomSplitCuts.FindBlocks(foldCounts, Pool, maxHeld, budget / 4);
                report.StratumFoldCuts = names.Select((k, c) => (k, c)).ToDictionary(x => x.k, x => foldCuts[x.c], StringComparer.Ordinal);
                // As one process lists them: train's folds that hold rows, then test when it does.
                channels = [.. Enumerable.Range(0, kfold.K).Where(f => foldCounts.Any(c => c[f] > 0)).Select(f => (SplitTag.Train, (short)f))];
                if (rows > poolRows.Sum()) channels.Add((SplitTag.Test, -1));
            }
        }
        else if (kind == PlanKind.NoisyCuts)
        {
            var noisyAssigner = (NoisyCleanAssigner)runAssigner;
            await KeyPathsAsync().ConfigureAwait(false);
            // Each side's rows and histogram of split hashes (clean, then noisy), summed over the scan tasks.
            var sideRows = new long[2];
            var histograms = new[] { new long[RandomSplitCuts.Bins], new long[RandomSplitCuts.Bins] };
            long unmarked = 0;
            for (int i = 0; i < run.Workers; i++)
            {
                var counted = scans[i].StratumRows ?? throw new PipelineValidationException($"{who}: scan task {i} reported no clean and noisy rows; run that task again.");
                sideRows[0] += counted.GetValueOrDefault(NoisyCleanAssigner.CleanKey);
                sideRows[1] += counted.GetValueOrDefault(NoisyCleanAssigner.NoisyKey);
                unmarked += scans[i].UnmarkedRows ?? 0;
                var bytes = await work.Area.GetAsync(work.Key(ScaleStep.Scan, i, SplitBinsKey), cancellationToken).ConfigureAwait(false)
                    ?? throw new PipelineValidationException($"{who}: the split histogram of scan task {i} is missing from {work.Area.Location}; run that task again.");
                using var s = new MemoryStream(bytes);
                var bins = WorkArrays.Read<long>(s);
                if (bins.Length != 2 * RandomSplitCuts.Bins) throw new PipelineValidationException($"{who}: the split histogram of scan task {i} has {bins.Length} bins, not {2 * RandomSplitCuts.Bins}; run that task again.");
                for (int b = 0; b < RandomSplitCuts.Bins; b++)
                {
                    histograms[0][b] += bins[b];
                    histograms[1][b] += bins[RandomSplitCuts.Bins + b];
                }
            }
            if (sideRows[0] + sideRows[1] + unmarked != rows) throw new PipelineValidationException($"{who}: the scan tasks counted {sideRows[0] + sideRows[1] + unmarked:N0} clean and noisy rows, not the {rows:N0} rows they reported; the work area mixes runs. Run the scan step again.");
            // Every row's side, batch by batch (the noisy column, or the input it came from), by the run's own rule.
            IEnumerable<(RecordBatch Batch, bool[] Noisy)> Sides()
            {
                foreach (var b in Keys())
                {
                    var wide = new Column[splitInput.Count];
                    for (int c = 0; c < wide.Length; c++) wide[c] = new SpilledColumn(splitInput[c].Kind, b.RowCount);
                    for (int k = 0; k < keys.Length; k++) wide[keys[k]] = b.Columns[k];
                    yield return (b, noisyAssigner.NoisyRows(new SplitInput([new RecordBatch(splitInput, wide, b.RowCount, b.Rows)], splitInput), context));
                }
            }
            if (unmarked > 0)
            {
                // A row without a noisy value: one pass in task order (the input order) stops at the first one, with one
                // process's error naming its file, row and column.
                foreach (var _ in Sides()) { }
                throw new PipelineValidationException($"{who}: the scan tasks counted {unmarked:N0} rows without a noisy value, but the key columns have none; the work area mixes runs. Run the scan step again.");
            }
            noisyAssigner.ReportRows(context, sideRows[0], sideRows[1]);
            IEnumerable<HashedRows> SideHashed()
            {
                var hashes = Array.Empty<ulong>();
                var strata = Array.Empty<int>();
                foreach (var (b, noisy) in Sides())
                {
                    if (hashes.Length < b.RowCount) { hashes = new ulong[b.RowCount]; strata = new int[b.RowCount]; }
                    var ids = b.Rows.RowIds;
                    for (int r = 0; r < b.RowCount; r++)
                    {
                        hashes[r] = splitHash.Hash(ids[r]);
                        strata[r] = noisy[r] ? 1 : 0;
                    }
                    yield return new HashedRows(hashes, ids, b.RowCount, strata);
                }
            }
            var cuts = RandomSplitCuts.FindPerClass(sideRows, [noisyAssigner.SideFractions(false), noisyAssigner.SideFractions(true)], SideHashed, maxHeld, budget / 4, histograms);
            // The targets ReportRows set, which the report above was taken before.
            report.Splits = new SortedDictionary<string, SplitReport>(context.Report.Splits, StringComparer.Ordinal);
            report.StratumCuts = new Dictionary<string, List<SplitCut>>(StringComparer.Ordinal) { [NoisyCleanAssigner.CleanKey] = cuts[0], [NoisyCleanAssigner.NoisyKey] = cuts[1] };
        }

        await FitFromKeysAsync(run, report, from, async () =>
        {
            await KeyPathsAsync().ConfigureAwait(false);
            return Keys();
        }, keys, splitInput, context, groupSplits).ConfigureAwait(false);
        report.ExpectedRows = rows - dropped;
        report.Channels = channels.Select(c => RunLayout.ChannelName(c.Split, c.Fold)).ToList();
        await work.PutReportAsync(ScaleStep.Plan, 0, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The assigner that tags a bucket's rows under a plan that holds no rows (<see cref="ScaleRun.PlanOf"/>), or null
    /// for a plan that routes every row. The plan step tags with it too, so both decide alike.
    /// </summary>
    /// <remarks>A group split's assigner needs the plan's group table (<paramref name="groups"/>, <see cref="GroupSplitsObject"/>).</remarks>
    private static ISplitAssigner? BoundedAssigner(ScaleRun run, TaskReport plan, string bucket, GroupSplitsTable? groups = null) => plan.Plan switch
    {
        // A group split the plan decided: each row's split is its group's (a noisy/clean one's: its group's clean or noisy rows').
        PlanKind.Groups => new GroupAssigner(run.Options.GroupColumn!, groups ?? throw MissingFromPlan("group table"), null, bucket),
        PlanKind.NoisyGroups => new GroupAssigner(run.Options.GroupColumn!, groups ?? throw MissingFromPlan("group table"),
            (NoisyCleanAssigner)ConvertRunner.CreateAssigner(run.Options, run.Context), bucket),
        // Group folds of many groups cut by hash ranges: a row's split from the test split's cuts (none: train), its fold
        // from the folds' cuts; without a test split, a row without a key is in the group of such rows, as in one process.
        PlanKind.GroupFoldRanges => new GroupRangeAssigner(run.Options.GroupColumn!, plan.GroupCuts ?? [], run.Options.Seed, bucket,
            plan.GroupFoldCuts ?? throw MissingFromPlan("group folds' cuts"), missingIsGroup: plan.GroupCuts is null),
        // Group folds the plan decided: each row's split (train or test) and fold are its group's.
        PlanKind.GroupFolds => new GroupAssigner(run.Options.GroupColumn!, groups ?? throw MissingFromPlan("group table"), null, bucket, folds: true),
        // A group split of many groups cut by hash ranges: each row's split follows from its group key's hash and the cuts.
        PlanKind.GroupRanges => new GroupRangeAssigner(run.Options.GroupColumn!, plan.GroupCuts ?? throw MissingFromPlan("group cuts"), run.Options.Seed, bucket),
        // A random split the plan cut: the rows' tags follow from their hashes (and classes), the order from the split stage.
        PlanKind.Cuts => new CutAssigner(plan.Cuts ?? throw MissingFromPlan("cuts"), plan.FoldCuts, run.Options.Seed, bucket),
        PlanKind.NoisyCuts => new NoisyCutAssigner(plan.StratumCuts ?? throw MissingFromPlan("cuts of the clean and noisy rows"), (NoisyCleanAssigner)ConvertRunner.CreateAssigner(run.Options, run.Context), run.Options.Seed, bucket),
        PlanKind.StratifiedCuts => new StratifiedCutAssigner(plan.StratumCuts ?? throw MissingFromPlan("cuts per class"), run.Options.Stratify!, run.Options.Seed, bucket, plan.StratumFoldCuts),
        // A stable assignment decides each row from the row alone: the run's own assigner does, over any share of the rows.
        PlanKind.RowRule => ConvertRunner.CreateAssigner(run.Options, run.Context),
        // A time split the plan cut: the rows' tags follow from their times, the order from time order (or the shuffle).
        PlanKind.TimeCuts when plan.TimeFoldCuts is { } foldCuts => new TimeFoldCutAssigner(run.Options.TimeColumn!, plan.TimeCuts, foldCuts, bucket),
        PlanKind.TimeCuts => new TimeCutAssigner(run.Options.TimeColumn!, plan.TimeCuts ?? throw MissingFromPlan("time cut-offs"), run.Options.EffectiveShuffle, bucket),
        _ => null,
    };

    private static PipelineValidationException MissingFromPlan(string what) => new($"the plan step's report has no {what}; run step {ScaleStep.Plan} again.");

    /// <summary>
    /// Fits the run's encoder (when the stages after the split hold one) as a plan that holds no rows does, into the plan's
    /// <paramref name="report"/>: an encoder that learns reads the key columns (<paramref name="keyBatches"/>, fetched only
    /// then), each row tagged by the plan's own assigner (<see cref="BoundedAssigner"/>, as encode tasks tag), through
    /// <see cref="FitApartFromKeys"/>.
    /// </summary>
    private static async Task FitFromKeysAsync(ScaleRun run, TaskReport report, IReadOnlyList<IPipelineStage> from, Func<Task<IEnumerable<RecordBatch>>> keyBatches,
        int[] keys, Schema splitInput, RunContext context, GroupSplitsTable? groups = null)
    {
        if (from.OfType<EncodeStage>().FirstOrDefault() is not { } encode) return;
        var fit = new List<RecordBatch>();
        var means = new Dictionary<int, ExactMean>();
        if (encode.Learns)
        {
            var batches = await keyBatches().ConfigureAwait(false);
            var assigner = BoundedAssigner(run, report, "the plan", groups)!;
            assigner.Bind(splitInput);
            fit = FitApartFromKeys(encode, assigner, batches, keys, splitInput, means, context);
        }
        var (fitted, warnings) = encode.FitApart(fit, means);
        report.Encoding = fitted;
        report.Warnings.AddRange(warnings);
    }

    /// <summary>
    /// What an encoder fits on when the plan holds no rows, from the key columns (<paramref name="keyBatches"/>, of the
    /// input columns <paramref name="keys"/>), each row tagged by <paramref name="assigner"/>: for the columns whose fit is
    /// a set of values (label classes, vocabularies; unseen labels per split), one row for every new (column, split,
    /// value), which teaches the fit as much as every row; for the columns filled with their mean, every train value
    /// summed exactly into <paramref name="means"/> (whatever the order).
    /// </summary>
    private static List<RecordBatch> FitApartFromKeys(EncodeStage encode, ISplitAssigner assigner, IEnumerable<RecordBatch> keyBatches, int[] keys, Schema splitInput,
        Dictionary<int, ExactMean> means, RunContext context)
    {
        var fit = new List<RecordBatch>();
        var columns = encode.SetColumnIndexes.Select(c => (Input: c, Key: Array.IndexOf(keys, c))).ToArray();
        var averaged = encode.MeanColumnIndexes.Select(c => (Input: c, Key: Array.IndexOf(keys, c))).ToArray();
        foreach (var (c, _) in averaged) means[c] = new ExactMean();
        var seen = new HashSet<(int Column, SplitTag Split, string? Value)>();
        foreach (var b in keyBatches)
        {
            // The key columns in the split input's places (the assigner reads its own key columns there).
            var wide = new Column[splitInput.Count];
            for (int c = 0; c < wide.Length; c++) wide[c] = new SpilledColumn(splitInput[c].Kind, b.RowCount);
            for (int k = 0; k < keys.Length; k++) wide[keys[k]] = b.Columns[k];
            var tags = assigner.Assign(new SplitInput([new RecordBatch(splitInput, wide, b.RowCount, b.Rows)], splitInput), context).Tags;
            var ids = b.Rows.RowIds;
            var keep = new List<int>();
            for (int r = 0; r < b.RowCount; r++)
            {
                // A row dropped inside a time split's gap reaches no encoder in one process either.
                if (tags[r] == SplitTag.None) continue;
                if (tags[r] == SplitTag.Train)
                {
                    foreach (var (c, k) in averaged) EncodeStage.AddTrainValue(means[c], b.Columns[k], r);
                }
                bool added = false;
                foreach (var (c, k) in columns)
                {
                    var column = b.Columns[k];
                    added |= seen.Add((c, tags[r], column.IsNull(r) ? null : EncodeStage.TextOf(column, r)));
                }
                if (added) keep.Add(r);
            }
            if (keep.Count == 0) continue;
            var picked = keep.ToArray();
            var cols = new Column[splitInput.Count];
            for (int c = 0; c < cols.Length; c++) cols[c] = new SpilledColumn(splitInput[c].Kind, picked.Length);
            foreach (var (c, k) in columns) cols[c] = b.Columns[k].Take(picked);
            var info = new RowInfo(picked.Select(p => ids[p]).ToArray(), new int[picked.Length], new long[picked.Length], picked.Select(p => tags[p]).ToArray());
            fit.Add(new RecordBatch(splitInput, cols, picked.Length, info));
        }
        return fit;
    }

    /// <summary>
    /// The rows of <paramref name="sections"/> of every scan task's row ids (<see cref="IdSections"/>), task by task, each
    /// section one ranged read of the task's <c>split-ids</c> object.
    /// </summary>
    private static IEnumerable<HashedRows> SectionRows(ScaleRun run, long[][] offsets, int[] sections, KeyedHash splitHash, CancellationToken cancellationToken)
    {
        var work = run.Work;
        for (int i = 0; i < offsets.Length; i++)
        {
            foreach (int section in sections)
            {
                long from = offsets[i][section], bytes = offsets[i][section + 1] - from;
                if (bytes == 0) continue;
                cancellationToken.ThrowIfCancellationRequested();
                using var stream = work.Area.OpenRangeAsync(work.Key(ScaleStep.Scan, i, SplitIdsKey), from, bytes, cancellationToken).GetAwaiter().GetResult();
                foreach (var rows in IdSections.Read(stream, bytes, splitHash)) yield return rows;
            }
        }
    }

    /// <summary>Downloads (S3) or finds (local) every scan task's key columns.</summary>
    private static async Task<string[]> KeyFilesAsync(ScaleRun run, string who, SpillFolder folder, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var temp = Path.GetDirectoryName(folder.NewFile("keys"))!;
        var paths = new string[run.Workers];
        for (int i = 0; i < run.Workers; i++)
        {
            paths[i] = await work.Area.GetFileAsync(work.Key(ScaleStep.Scan, i, "keys"), temp, cancellationToken).ConfigureAwait(false)
                ?? throw new PipelineValidationException($"{who}: the key columns of scan task {i} are missing from {work.Area.Location}; run that task again.");
        }
        return paths;
    }

    /// <summary>One pass over the scan tasks' key columns, task by task, one batch at a time.</summary>
    /// <remarks>The rows of a CSV byte range are numbered from its input's start (<see cref="ScanRanges.Fix"/>).</remarks>
    private static IEnumerable<(int Task, RecordBatch Batch)> KeyBatches(ScaleRun run, string[] paths, Schema keySchema, CancellationToken cancellationToken)
    {
        for (int i = 0; i < paths.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var reader = new BatchSpillReader(paths[i], keySchema);
            while (!reader.AtEnd) yield return (i, run.Ranges.Fix(i, reader.Read()));
        }
    }
}
