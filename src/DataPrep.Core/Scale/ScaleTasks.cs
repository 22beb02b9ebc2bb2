using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>The five steps of a scaled-out run, one method per step; each runs one task and writes its marker last.</summary>
internal static class ScaleTasks
{
    private static string RowsKey(int bucket) => $"rows-{ScaleWork.Task(bucket)}";

    private static string RoutingKey(int bucket) => $"routing-{ScaleWork.Task(bucket)}";

    /// <summary>A scan task's histogram of split hashes (<see cref="RandomSplitCuts.BinOf"/>), when the plan cuts the split.</summary>
    private const string SplitBinsKey = "split-bins";

    /// <summary>A scan task's rows skipped under <c>--on-bad-row quarantine</c>: JSON Lines, as <see cref="BadRows"/> writes them.</summary>
    private const string QuarantineKey = "quarantine.jsonl";

    /// <summary>
    /// Scan: reads the task's share of the inputs, runs the stages before the split (missing values), and writes the
    /// rows into one object per bucket (by shuffle hash, or the task's own bucket in input order), plus the columns the
    /// plan needs (row ids, split keys, lineage group and time, what the encoders fit on). Rows skipped under
    /// <c>--on-bad-row</c> are counted by cause in the task's report and, under quarantine, written to the task's
    /// <c>quarantine</c> object: every row is skipped in the scan (by a source or the missing-values stage), so the
    /// scan tasks' objects in task order are the one process's quarantine file.
    /// </summary>
    public static async Task ScanAsync(ScaleRun run, int task, CancellationToken cancellationToken)
    {
        using var badRows = run.Context.BadRows;
        var split = run.RunSplit();
        var (before, from, splitInput) = run.Stages(split, run.Earlier);
        var keys = run.KeyColumns(split, from, splitInput);
        var keySchema = new Schema(keys.Select(k => splitInput[k]));
        var units = run.Units();
        var (first, end) = ScaleRun.ShareOf(units.Select(u => u.Weight).ToList(), run.Workers, task);
        long rowsRead = 0;
        IAsyncEnumerable<RecordBatch> stream = run.ReadAsync(units, first, end, n => rowsRead = n, cancellationToken);
        foreach (var stage in before) stream = stage.RunAsync(stream, run.Context, cancellationToken);

        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        var writers = new BatchSpillWriter?[run.Workers];
        var bucketRows = new long[run.Workers];
        var keyPath = folder.NewFile("keys");
        // For a plan that only cuts the split: every row counted by the top bits of its split hash, or by its class.
        var plan = run.PlanOf(split);
        var bins = plan == PlanKind.Cuts ? new long[RandomSplitCuts.Bins] : null;
        var classRows = plan == PlanKind.StratifiedCuts ? new Dictionary<string, long>(StringComparer.Ordinal) : null;
        int stratify = classRows is null ? -1 : splitInput.IndexOf(run.Options.Stratify!);
        var splitHash = new KeyedHash(run.Options.Seed, "split");
        using (var keyWriter = new BatchSpillWriter(keyPath))
        {
            var hash = run.BucketsBySeries ? run.SeriesHash() : new KeyedHash(run.Options.Seed, "shuffle");
            int series = run.BucketsBySeries ? splitInput.IndexOf(run.Options.SeriesColumn!) : -1;
            var members = new List<int>[run.Workers];
            await foreach (var batch in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                keyWriter.Write(new RecordBatch(keySchema, keys.Select(k => batch.Columns[k]).ToArray(), batch.RowCount, batch.Rows));
                if (bins is not null)
                {
                    var rowIds = batch.Rows.RowIds;
                    for (int r = 0; r < batch.RowCount; r++) bins[RandomSplitCuts.BinOf(splitHash.Hash(rowIds[r]))]++;
                }
                if (classRows is not null)
                {
                    var column = batch.Columns[stratify];
                    for (int r = 0; r < batch.RowCount; r++)
                    {
                        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(classRows, RandomSplitAssigner.KeyOf(column, r), out _)++;
                    }
                }
                if (!run.BucketsByHash && !run.BucketsBySeries)
                {
                    Write(task, batch);
                    continue;
                }
                for (int j = 0; j < members.Length; j++) members[j]?.Clear();
                var ids = batch.Rows.RowIds;
                for (int r = 0; r < batch.RowCount; r++)
                {
                    int bucket = series >= 0 ? run.SeriesBucketOf(hash, batch.Columns[series], r) : ScaleRun.BucketOfHash(hash.Hash(ids[r]), run.Workers);
                    (members[bucket] ??= []).Add(r);
                }
                for (int j = 0; j < members.Length; j++)
                {
                    if (members[j] is not { Count: > 0 } m) continue;
                    Write(j, m.Count == batch.RowCount ? batch : batch.Take(m.ToArray()));
                }
            }
        }
        foreach (var w in writers) w?.Dispose();

        void Write(int bucket, RecordBatch rows)
        {
            (writers[bucket] ??= new BatchSpillWriter(folder.NewFile(RowsKey(bucket)))).Write(rows);
            bucketRows[bucket] += rows.RowCount;
        }

        var work = run.Work;
        await work.Area.PutFileAsync(work.Key(ScaleStep.Scan, task, "keys"), keyPath, cancellationToken).ConfigureAwait(false);
        if (bins is not null)
        {
            using var binBytes = new MemoryStream();
            WorkArrays.Write<long>(binBytes, bins);
            await work.Area.PutAsync(work.Key(ScaleStep.Scan, task, SplitBinsKey), binBytes.ToArray(), cancellationToken).ConfigureAwait(false);
        }
        for (int j = 0; j < writers.Length; j++)
        {
            if (writers[j] is { } w) await work.Area.PutFileAsync(work.Key(ScaleStep.Scan, task, RowsKey(j)), w.Path, cancellationToken).ConfigureAwait(false);
        }
        // Under quarantine, the task's skipped rows (in its input order) are a work object like its rows.
        badRows.Close();
        if (badRows.QuarantineFile is { } quarantined)
        {
            await work.Area.PutFileAsync(work.Key(ScaleStep.Scan, task, QuarantineKey), quarantined, cancellationToken).ConfigureAwait(false);
        }
        var report = TaskReportOf(run.Context.Report);
        // Rows a source skipped were read too, though no batch holds them (as ConvertRunner counts them).
        report.RowsRead = rowsRead + badRows.RefusedAtSource;
        report.Quarantined = badRows.QuarantineFile is not null;
        report.Warnings = run.Context.Report.Warnings.Skip(run.OpenWarnings).ToList();
        report.BucketRows = bucketRows;
        report.StratumRows = classRows?.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        report.Schema = [.. run.Schema.Fields];
        // What the stages before the split learned for the whole run (the image formats' class map), for run.json.
        report.Encoding = run.Context.Report.Encoding;
        // The task that reads an input's first part records its fingerprint in run.json.
        report.Inputs = Enumerable.Range(first, end - first).Where(u => units[u].Part == 0 && run.Opened[units[u].Source].IsSingleFile)
            .Select(u => InputFingerprint.Of(run.Context.Inputs[units[u].Source], run.Context.Files)).ToList();
        await work.PutReportAsync(ScaleStep.Scan, task, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Plan: loads the plan columns of every row (input order), lets the run's assigner decide splits, folds and the
    /// output order exactly as one process does, fits the encoders on train in output order, and writes each bucket's
    /// routing (split, fold, rank of each of its rows). Random, stable, group and noisy/clean-by-group splits
    /// (<see cref="ScaleRun.PlanOf"/>) and time splits (<see cref="ScaleRun.PlansTimeByCuts"/>) are planned without holding
    /// rows instead (<see cref="PlanBoundedAsync"/>, <see cref="TryPlanTimeByCutsAsync"/>).
    /// </summary>
    public static async Task PlanAsync(ScaleRun run, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var scans = await work.ReportsAsync(run.Step(ScaleStep.Scan), $"step {ScaleStep.Plan} task 0", cancellationToken).ConfigureAwait(false);
        run.UseScannedSchema(scans[0], $"step {ScaleStep.Plan} task 0");
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
                var b = reader.Read();
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
    /// tasks' rows per class (<see cref="RandomSplitCuts.FindStratified"/>). Random folds: the folds' cuts over the fold
    /// hashes of the rows the split leaves in train, found the same way. A stable assignment needs nothing: a row's
    /// split follows from the row. A group split (or noisy/clean by group): the group table (<see cref="GroupTable"/>,
    /// memory by groups, not rows) from one pass, decided by the run's own assigner, written as the work object
    /// <see cref="GroupSplitsObject"/>. Encoders learn in one more pass (<see cref="FitApartFromKeys"/>): sets of values from
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
            foreach (var path in paths!)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var reader = new BatchSpillReader(path, keySchema);
                while (!reader.AtEnd)
                {
                    governor?.Check();
                    yield return reader.Read();
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
        Dictionary<string, GroupSplits>? groupSplits = null;
        GroupSplitsInfo? groupInfo = null;
        long dropped = 0;
        if (kind is PlanKind.Groups or PlanKind.NoisyGroups)
        {
            await KeyPathsAsync().ConfigureAwait(false);
            GroupTable table;
            IReadOnlyList<SplitTag> clean, noisy;
            if (runAssigner is GroupSplitAssigner groupAssigner)
            {
                var decision = GroupTableOf(run, groupAssigner, paths!, keys, keySchema, splitInput, cancellationToken);
                groupAssigner.Report(context, decision);
                (table, clean, noisy) = (decision.Table, decision.Splits, decision.Splits);
            }
            else
            {
                var noisyAssigner = (NoisyCleanAssigner)runAssigner;
                var decision = NoisyGroupTableOf(run, noisyAssigner, paths!, keys, keySchema, splitInput, cancellationToken);
                noisyAssigner.Report(context, decision);
                (table, clean, noisy, dropped) = (decision.Table, decision.CleanTags, decision.NoisyTags, decision.Dropped);
            }
            if (table.TotalRows != rows) throw new PipelineValidationException($"{who}: the key columns hold {table.TotalRows:N0} rows, not the {rows:N0} rows the scan tasks reported; the work area mixes runs. Run the scan step again.");
            var objectPath = folder.NewFile(GroupSplitsObject.Key);
            groupInfo = GroupSplitsObject.Write(table, clean, noisy, objectPath);
            await work.Area.PutFileAsync(work.Key(ScaleStep.Plan, 0, GroupSplitsObject.Key), objectPath, cancellationToken).ConfigureAwait(false);
            groupSplits = GroupSplitsObject.ToDictionary(table, clean, noisy);
        }
        var report = TaskReportOf(context.Report);
        report.Plan = kind;
        report.GroupSplits = groupInfo;
        var channels = SplitStage.Channels([], null);
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
            await KeyPathsAsync().ConfigureAwait(false);
            // Random folds: the split cuts off test (or nothing), the folds cut the rest by their fold hashes.
            var kfold = runAssigner as KFoldAssigner;
            var fractions = ((RandomSplitAssigner?)(kfold is null ? runAssigner : kfold.TestCarver))?.Fractions ?? [1.0];
            var cuts = RandomSplitCuts.Find(rows, fractions, histogram, () => Hashed(null, -1), maxHeld);
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
    private static ISplitAssigner? BoundedAssigner(ScaleRun run, TaskReport plan, string bucket, IReadOnlyDictionary<string, GroupSplits>? groups = null) => plan.Plan switch
    {
        // A group split the plan decided: each row's split is its group's (a noisy/clean one's: its group's clean or noisy rows').
        PlanKind.Groups => new GroupAssigner(run.Options.GroupColumn!, groups ?? throw MissingFromPlan("group table"), null, bucket),
        PlanKind.NoisyGroups => new GroupAssigner(run.Options.GroupColumn!, groups ?? throw MissingFromPlan("group table"),
            (NoisyCleanAssigner)ConvertRunner.CreateAssigner(run.Options, run.Context), bucket),
        // A random split the plan cut: the rows' tags follow from their hashes (and classes), the order from the split stage.
        PlanKind.Cuts => new CutAssigner(plan.Cuts ?? throw MissingFromPlan("cuts"), plan.FoldCuts, run.Options.Seed, bucket),
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
        int[] keys, Schema splitInput, RunContext context, IReadOnlyDictionary<string, GroupSplits>? groups = null)
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
    /// A group split's table over every scan task's key columns (the group column, and the class column when stratified),
    /// one batch at a time, decided by the run's own assigner. A row without a group key stops
    /// the run (exit 3) with the error one process gives, naming its file and row: the key columns carry every row's origin,
    /// and the tasks' rows in task order are the input order, so the first such row is the one one process names.
    /// </summary>
    private static GroupSplitDecision GroupTableOf(ScaleRun run, GroupSplitAssigner assigner, string[] paths, int[] keys, Schema keySchema,
        Schema splitInput, CancellationToken cancellationToken)
    {
        int group = Array.IndexOf(keys, splitInput.IndexOf(assigner.GroupColumn));
        int stratify = assigner.Stratify is null ? -1 : Array.IndexOf(keys, splitInput.IndexOf(assigner.Stratify));
        if (group < 0 || (assigner.Stratify is not null && stratify < 0)) throw new InvalidOperationException("The scan's key columns lack the group split's columns.");
        var table = new GroupTable(stratify >= 0);
        foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
        {
            int missing = table.Add(b.Columns[group], stratify >= 0 ? b.Columns[stratify] : null, b.RowCount);
            if (missing >= 0)
            {
                int source = b.Rows.Sources[missing];
                throw assigner.MissingKey(source >= 0 && source < run.Context.Inputs.Count ? run.Context.Inputs[source] : null, b.Rows.SourceRows[missing]);
            }
        }
        return assigner.Decide(table);
    }

    /// <summary>
    /// A noisy/clean split's group table (clean and noisy rows per group) over every scan task's key columns, decided by the
    /// run's own assigner. Which rows are noisy is the assigner's own rule (<see cref="NoisyCleanAssigner.NoisyRows"/>: the
    /// noisy column, or the input a row came from), whose error for a row without a value names its file and row.
    /// </summary>
    private static NoisyGroupDecision NoisyGroupTableOf(ScaleRun run, NoisyCleanAssigner assigner, string[] paths, int[] keys, Schema keySchema,
        Schema splitInput, CancellationToken cancellationToken)
    {
        int group = Array.IndexOf(keys, splitInput.IndexOf(assigner.GroupColumn!));
        if (group < 0) throw new InvalidOperationException("The scan's key columns lack the noisy/clean split's group column.");
        var table = new GroupTable(stratified: true);
        foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
        {
            var wide = new Column[splitInput.Count];
            for (int c = 0; c < wide.Length; c++) wide[c] = new SpilledColumn(splitInput[c].Kind, b.RowCount);
            for (int k = 0; k < keys.Length; k++) wide[keys[k]] = b.Columns[k];
            var noisy = assigner.NoisyRows(new SplitInput([new RecordBatch(splitInput, wide, b.RowCount, b.Rows)], splitInput), run.Context);
            var groups = b.Columns[group];
            for (int r = 0; r < b.RowCount; r++) table.Add(RandomSplitAssigner.KeyOf(groups, r), noisy[r] ? NoisyCleanAssigner.NoisyKey : NoisyCleanAssigner.CleanKey);
        }
        return assigner.Decide(table);
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
    private static IEnumerable<(int Task, RecordBatch Batch)> KeyBatches(string[] paths, Schema keySchema, CancellationToken cancellationToken)
    {
        for (int i = 0; i < paths.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var reader = new BatchSpillReader(paths[i], keySchema);
            while (!reader.AtEnd) yield return (i, reader.Read());
        }
    }

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
    /// <para>Returns false, having reported nothing, when the full plan must decide: a missing or invalid time (whose
    /// error names its file and row), no rows, or a split with a non-zero fraction left empty (one process warns with the
    /// number of distinct times).</para>
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
        foreach (var (task, b) in KeyBatches(paths, keySchema, cancellationToken))
        {
            var column = b.Columns[timeKey];
            var ids = b.Rows.RowIds;
            for (int r = 0; r < b.RowCount; r++)
            {
                if (!TimeSplitAssigner.TryGetUtcTicks(column, r, out long t)) return false;
                histogram[TimeSplitCuts.BinOf(t)]++;
                minTime[task] = Math.Min(minTime[task], t);
                maxTime[task] = Math.Max(maxTime[task], t);
                minId[task] = Math.Min(minId[task], ids[r]);
                maxId[task] = Math.Max(maxId[task], ids[r]);
            }
            taskRows[task] += b.RowCount;
            rows += b.RowCount;
        }
        if (rows == 0) return false;

        IEnumerable<TimedRows> Timed()
        {
            // One buffer for the pass: every consumer is done with a batch's times before the next.
            var ticks = Array.Empty<long>();
            foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
            {
                if (ticks.Length < b.RowCount) ticks = new long[b.RowCount];
                for (int r = 0; r < b.RowCount; r++) ticks[r] = TicksOf(b, r);
                yield return new TimedRows(ticks, b.Rows.RowIds, b.RowCount);
            }
        }
        long TicksOf(RecordBatch b, int r)
            => TimeSplitAssigner.TryGetUtcTicks(b.Columns[timeKey], r, out long t) ? t
                : throw new PipelineValidationException($"{who}: the rows changed between two passes over the scan step's key columns (a time that was valid is not); run the scan step again.");
        // A row range is read whole when its rows (16 bytes each) take at most a quarter of the budget, else narrowed.
        long maxHeld = Math.Max(1 << 16, run.Options.Memory.EffectiveBudget / 64);
        var (cuts, parts, after) = TimeSplitCuts.Find(assigner, rows, histogram, Timed, maxHeld);
        if (assigner.LeavesASplitEmpty(parts)) return false;

        // Buckets of an unshuffled split: the scan tasks' own rows when their (time, row id) ranges follow one another.
        List<SplitCut>? buckets = null;
        if (!run.BucketsByHash)
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
    /// the full plan must decide: a missing or invalid time under a time test split, no rows, or a test split left empty.
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

        // First pass: the rows and the range of their fold times, and under a time test split every time valid and the
        // histogram of the split's keys.
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
                    if (!TimeSplitAssigner.TryGetUtcTicks(column, r, out long t)) return false;
                    histogram[TimeSplitCuts.BinOf(t)]++;
                }
            }
            rows += b.RowCount;
        }
        if (rows == 0) return false;
        long TicksOf(RecordBatch b, int r)
            => TimeSplitAssigner.TryGetUtcTicks(b.Columns[timeKey], r, out long t) ? t
                : throw new PipelineValidationException($"{who}: the rows changed between two passes over the scan step's key columns (a time that was valid is not); run the scan step again.");
        TimeCuts? cuts = null;
        TimeSplitPart[] parts = [];
        string?[] after = [];
        if (carver is not null)
        {
            IEnumerable<TimedRows> Timed()
            {
                var ticks = Array.Empty<long>();
                foreach (var (_, b) in KeyBatches(paths, keySchema, cancellationToken))
                {
                    if (ticks.Length < b.RowCount) ticks = new long[b.RowCount];
                    for (int r = 0; r < b.RowCount; r++) ticks[r] = TicksOf(b, r);
                    yield return new TimedRows(ticks, b.Rows.RowIds, b.RowCount);
                }
            }
            (cuts, parts, after) = TimeSplitCuts.Find(carver, rows, histogram, Timed, maxHeld);
            if (carver.LeavesASplitEmpty(parts)) return false;
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

    /// <summary>Whether, in every channel, the rows in output order come bucket after bucket (never back to an earlier one).</summary>
    private static bool FollowsBuckets(int[] order, SplitTag[] tags, short[]? folds, int[] bucket)
    {
        var lastBucket = new Dictionary<(SplitTag, short), int>();
        foreach (int p in order)
        {
            if (tags[p] == SplitTag.None) continue;
            var channel = (tags[p], folds?[p] ?? (short)-1);
            if (lastBucket.TryGetValue(channel, out int last) && bucket[p] < last) return false;
            lastBucket[channel] = bucket[p];
        }
        return true;
    }

    /// <summary>
    /// Encode: loads the task's bucket (its rows from every scan task), splits it as the plan routed it, encodes with the
    /// fitted maps and formats each channel into a segment.
    /// </summary>
    public static async Task EncodeAsync(ScaleRun run, int task, CancellationToken cancellationToken)
    {
        var work = run.Work;
        string who = $"step {ScaleStep.Encode} task {task}";
        var scans = await work.ReportsAsync(run.Step(ScaleStep.Scan), who, cancellationToken).ConfigureAwait(false);
        run.UseScannedSchema(scans[0], who);
        var plan = (await work.ReportsAsync(run.Step(ScaleStep.Plan), who, cancellationToken).ConfigureAwait(false))[0];
        Routing? routing = null;
        Dictionary<string, GroupSplits>? groups = null;
        if (plan.Plan is PlanKind.Groups or PlanKind.NoisyGroups)
        {
            var info = plan.GroupSplits ?? throw MissingFromPlan("group table");
            using var tableFolder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
            var tablePath = await work.Area.GetFileAsync(work.Key(ScaleStep.Plan, 0, GroupSplitsObject.Key), Path.GetDirectoryName(tableFolder.NewFile("groups"))!, cancellationToken).ConfigureAwait(false)
                ?? throw new PipelineValidationException($"{who}: the plan's group table is missing from {work.Area.Location}; run step {ScaleStep.Plan} again.");
            groups = GroupSplitsObject.Read(tablePath, info, who);
        }
        if (BoundedAssigner(run, plan, $"task {task}", groups) is not { } assigner)
        {
            var routingBytes = await work.Area.GetAsync(work.Key(ScaleStep.Plan, 0, RoutingKey(task)), cancellationToken).ConfigureAwait(false)
                ?? throw new PipelineValidationException($"{who}: the plan's routing of bucket {task} is missing from {work.Area.Location}; run step {ScaleStep.Plan} again.");
            routing = Routing.From(routingBytes);
            assigner = new PlannedAssigner(routing, $"task {task}");
        }
        var split = ConvertRunner.CreateSplitStage(run.Options, run.Format, run.Context, assigner);
        var (_, from, splitInput) = run.Stages(split, plan.Encoding ?? run.Earlier);
        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        var segmentFolder = Path.GetDirectoryName(folder.NewFile("segments"))!;

        // Exchanged by rank or by time, the bucket's rows are in every scan task's own rows: read them all, keep this bucket's.
        Func<RecordBatch, int, bool>? mine = null;
        if (plan.ByRank)
        {
            HashSet<long> ids = [.. routing!.RowIds];
            mine = (b, r) => ids.Contains(b.Rows.RowIds[r]);
        }
        else if (plan.TimeBuckets is { } starts)
        {
            int time = splitInput.IndexOf(run.Options.TimeColumn!);
            mine = (b, r) => TimeSplitAssigner.TryGetUtcTicks(b.Columns[time], r, out long t) && TimeSplitCuts.BucketOf(starts, t, b.Rows.RowIds[r]) == task;
        }

        async IAsyncEnumerable<RecordBatch> Bucket()
        {
            for (int i = 0; i < run.Workers; i++)
            {
                if (scans[i].BucketRows.Length != run.Workers) throw new PipelineValidationException($"{who}: scan task {i} reported {scans[i].BucketRows.Length} buckets, not {run.Workers}.");
                int bucket = mine is null ? task : i;
                if (scans[i].BucketRows[bucket] == 0) continue;
                var path = await work.Area.GetFileAsync(work.Key(ScaleStep.Scan, i, RowsKey(bucket)), segmentFolder, cancellationToken).ConfigureAwait(false)
                    ?? throw new PipelineValidationException($"{who}: the rows of scan task {i} for bucket {bucket} are missing from {work.Area.Location}; run scan task {i} again.");
                try
                {
                    using var reader = new BatchSpillReader(path, splitInput);
                    while (!reader.AtEnd)
                    {
                        var batch = reader.Read();
                        if (mine is null) { yield return batch; continue; }
                        var keep = new List<int>();
                        for (int r = 0; r < batch.RowCount; r++) if (mine(batch, r)) keep.Add(r);
                        if (keep.Count == batch.RowCount) yield return batch;
                        else if (keep.Count > 0) yield return batch.Take(keep.ToArray());
                    }
                }
                finally
                {
                    // A downloaded copy (S3) goes as soon as it is read; a local work area's file is the object itself.
                    if (!path.StartsWith(work.Area.Location, StringComparison.Ordinal)) File.Delete(path);
                }
            }
        }

        IAsyncEnumerable<RecordBatch> stream = Bucket();
        var bound = splitInput;
        foreach (var stage in from)
        {
            stream = stage.RunAsync(stream, run.Context, cancellationToken);
        }
        foreach (var stage in from.Skip(1)) bound = stage.Bind(bound);
        if (run.Format.WritesAtCommit)
        {
            await KeepRowsAsync(run, task, stream, from, segmentFolder, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (run.BucketsBySeries)
        {
            await WriteSeriesAsync(run, task, stream, bound, segmentFolder, cancellationToken).ConfigureAwait(false);
            return;
        }
        var format = run.Format.CreateWorkerFormat(run.Options, run.HasLabel, plan.Encoding ?? run.Earlier).Records;
        await using var sink = new SegmentSink(format, run.HasLabel, run.Options.Lineage, segmentFolder);
        await sink.OpenAsync(bound, run.Context, cancellationToken).ConfigureAwait(false);
        await foreach (var batch in stream.WithCancellation(cancellationToken).ConfigureAwait(false)) await sink.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        await sink.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (channel, segment) in sink.Segments)
        {
            await work.Area.PutFileAsync(work.Key(ScaleStep.Encode, task, channel + ".data"), segment.DataPath, cancellationToken).ConfigureAwait(false);
            await work.Area.PutFileAsync(work.Key(ScaleStep.Encode, task, channel + ".ends"), segment.EndsPath, cancellationToken).ConfigureAwait(false);
            if (segment.HasLineage) await work.Area.PutFileAsync(work.Key(ScaleStep.Encode, task, channel + ".lineage"), segment.LineagePath, cancellationToken).ConfigureAwait(false);
        }
        var report = TaskReportOf(run.Context.Report);
        report.Warnings = run.Context.Report.Warnings.Skip(run.OpenWarnings).ToList();
        report.Segments = sink.Infos();
        report.ContentType = run.Context.Report.ContentType;
        await work.PutReportAsync(ScaleStep.Encode, task, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Encode, for a format that writes at the commit (<see cref="OutputFormatDefinition.WritesAtCommit"/>): keeps the
    /// bucket's rows as the format's stages made them (the images encoded, augmented copies after their originals), one
    /// work object per channel, in the channel's output order.
    /// </summary>
    private static async Task KeepRowsAsync(ScaleRun run, int task, IAsyncEnumerable<RecordBatch> stream, IReadOnlyList<IPipelineStage> stages, string folder, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var writers = new Dictionary<string, BatchSpillWriter>(StringComparer.Ordinal);
        var segments = new SortedDictionary<string, SegmentInfo>(StringComparer.Ordinal);
        try
        {
            await foreach (var batch in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                // A batch from the split holds one channel's rows (the augmentation and image stages keep that).
                var rows = batch.Rows;
                var channel = RunLayout.ChannelName(rows.Splits?[0] ?? SplitTag.None, rows.Folds?[0] ?? (short)-1);
                if (!writers.TryGetValue(channel, out var writer))
                {
                    writers[channel] = writer = new BatchSpillWriter(Path.Combine(folder, channel + RowsSuffix));
                    segments[channel] = new SegmentInfo();
                }
                writer.Write(batch);
                segments[channel].Records += batch.RowCount;
            }
        }
        finally
        {
            foreach (var w in writers.Values) w.Dispose();
        }
        foreach (var (channel, writer) in writers)
        {
            segments[channel].Bytes = new FileInfo(writer.Path).Length;
            await work.Area.PutFileAsync(work.Key(ScaleStep.Encode, task, channel + RowsSuffix), writer.Path, cancellationToken).ConfigureAwait(false);
        }
        var report = TaskReportOf(run.Context.Report);
        report.Warnings = run.Context.Report.Warnings.Skip(run.OpenWarnings).ToList();
        report.Segments = segments;
        // Images left out under --on-bad-image quarantine: a few lines each, carried in the report to the commit.
        if (stages.OfType<IQuarantiningStage>().SingleOrDefault() is { QuarantinedItems.Count: > 0 } quarantining) report.LeftOut = [.. quarantining.QuarantinedItems];
        await work.PutReportAsync(ScaleStep.Encode, task, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Encode, for a format with one record per series (DeepAR): builds the records of the bucket's series (every point of
    /// a series is in this bucket, in the channel's output order as one process sees them) and writes each channel's
    /// records in series-key order, with a key index for the commit's merge. The report's <c>Channels</c> are the splits
    /// that have rows here (a channel exists when its own split has rows anywhere).
    /// </summary>
    private static async Task WriteSeriesAsync(ScaleRun run, int task, IAsyncEnumerable<RecordBatch> stream, Schema bound, string folder, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var series = DeepArSeries.Bind(bound, run.Options.DeepArCat);
        await foreach (var batch in stream.WithCancellation(cancellationToken).ConfigureAwait(false)) series.Add(batch);
        var segments = new SortedDictionary<string, SegmentInfo>(StringComparer.Ordinal);
        for (int c = 0; c < DeepArSeries.Channels.Count; c++)
        {
            var name = DeepArSeries.Channels[c].Name;
            string data = Path.Combine(folder, name + SeriesSuffix), keys = Path.Combine(folder, name + SeriesKeysSuffix);
            long records;
            await using (var d = new FileStream(data, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            await using (var k = new FileStream(keys, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                records = await series.WriteChannelAsync(c, d, k, cancellationToken).ConfigureAwait(false);
            }
            if (records == 0)
            {
                File.Delete(data);
                File.Delete(keys);
                continue;
            }
            var (varying, first) = series.VaryingIn(c);
            segments[name] = new SegmentInfo { Records = records, Bytes = new FileInfo(data).Length, Varying = varying, VaryingFirst = first };
            await work.Area.PutFileAsync(work.Key(ScaleStep.Encode, task, name + SeriesSuffix), data, cancellationToken).ConfigureAwait(false);
            await work.Area.PutFileAsync(work.Key(ScaleStep.Encode, task, name + SeriesKeysSuffix), keys, cancellationToken).ConfigureAwait(false);
        }
        var report = TaskReportOf(run.Context.Report);
        report.Warnings = run.Context.Report.Warnings.Skip(run.OpenWarnings).ToList();
        report.Segments = segments;
        report.Channels = DeepArSeries.Channels.Where(c => series.Has(c.Own)).Select(c => c.Name).ToList();
        report.ContentType = DeepArSink.ContentType;
        await work.PutReportAsync(ScaleStep.Encode, task, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The names of an encode task's DeepAR records of one channel and of their key index.</summary>
    private const string SeriesSuffix = ".series", SeriesKeysSuffix = ".series-keys";

    /// <summary>
    /// Commit, for a format with one record per series: merges every encode task's records of each channel by series key
    /// into the channel's file (one record in memory at a time), and commits the run as one process does.
    /// </summary>
    private static async Task MergeSeriesAsync(ScaleRun run, TaskReport plan, List<TaskReport> encodes, IOutputStore store, RunContext context, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var (_, from, splitInput) = run.Stages(run.RunSplit(), plan.Encoding ?? run.Earlier);
        var bound = splitInput;
        foreach (var stage in from.Skip(1)) bound = stage.Bind(bound);
        var dynamicCount = DeepArSeries.Bind(bound, run.Options.DeepArCat).DynamicCount;
        var present = encodes.SelectMany(e => e.Channels).ToHashSet(StringComparer.Ordinal);
        var layout = Layout(run, store);
        async Task<long> WriteAsync(int channel, Stream target, CancellationToken ct)
        {
            var name = DeepArSeries.Channels[channel].Name;
            var parts = new List<(Stream Data, Stream Keys)>();
            try
            {
                for (int j = 0; j < encodes.Count; j++)
                {
                    if (encodes[j].Segments.GetValueOrDefault(name) is not { Records: > 0 }) continue;
                    // Added before the key index opens, so that the finally below closes it if that fails.
                    parts.Add((await work.Area.OpenRangeAsync(work.Key(ScaleStep.Encode, j, name + SeriesSuffix), 0, long.MaxValue, ct).ConfigureAwait(false), Stream.Null));
                    parts[^1] = parts[^1] with { Keys = await work.Area.OpenRangeAsync(work.Key(ScaleStep.Encode, j, name + SeriesKeysSuffix), 0, long.MaxValue, ct).ConfigureAwait(false) };
                }
                long records = await DeepArSeries.MergeAsync(parts, target, ct).ConfigureAwait(false);
                long expected = encodes.Sum(e => e.Segments.GetValueOrDefault(name)?.Records ?? 0);
                if (records != expected) throw new PipelineValidationException($"step {ScaleStep.Commit} task 0: the encode tasks' {name} records add up to {expected}, but {records} were read from {work.Area.Location}; run step {ScaleStep.Encode} again.");
                return records;
            }
            finally
            {
                foreach (var (d, k) in parts)
                {
                    await d.DisposeAsync().ConfigureAwait(false);
                    await k.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        (long, string?) Varying(int channel)
        {
            var segs = encodes.Select(e => e.Segments.GetValueOrDefault(DeepArSeries.Channels[channel].Name)).OfType<SegmentInfo>().Where(s => s.Varying > 0).ToList();
            return (segs.Sum(s => s.Varying), segs.Select(s => s.VaryingFirst!).Order(StringComparer.Ordinal).FirstOrDefault());
        }
        await DeepArSeries.PublishAsync(layout, context, dynamicCount, t => present.Contains(t.Name()), WriteAsync, Varying, run.Options.Shards.Multiple, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The name of an encode task's rows of one channel, for a format that writes at the commit.</summary>
    private const string RowsSuffix = ".rows";

    /// <summary>
    /// Write: for every channel, the shards that start in this task's segment, cut by the one shard rule from the
    /// records' global positions, written whole (header, bytes of this and following segments, gzip) with their lineage lines.
    /// </summary>
    public static async Task WriteAsync(ScaleRun run, int task, CancellationToken cancellationToken)
    {
        var work = run.Work;
        string who = $"step {ScaleStep.Write} task {task}";
        var encodes = await work.ReportsAsync(run.Step(ScaleStep.Encode), who, cancellationToken).ConfigureAwait(false);
        var format = run.Format;
        if (format.WritesAtCommit || run.BucketsBySeries)
        {
            // The commit writes this format's files from the encode step's rows (see OutputFormatDefinition.WritesAtCommit),
            // or merges the encode step's records by series key (DeepAR).
            await work.PutReportAsync(ScaleStep.Write, task, new TaskReport(), cancellationToken).ConfigureAwait(false);
            return;
        }
        var writer = format.CreateWorkerFormat(run.Options, run.HasLabel, encoding: null);
        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        var temp = Path.GetDirectoryName(folder.NewFile("write"))!;
        var report = new TaskReport();
        foreach (var channel in encodes.SelectMany(e => e.Segments.Keys).Distinct().Order(RunLayout.ChannelOrder))
        {
            var segs = encodes.Select(e => e.Segments.GetValueOrDefault(channel) ?? new SegmentInfo()).ToArray();
            if (segs[task].Records == 0) continue;
            long records = segs.Sum(s => s.Records), bytes = segs.Sum(s => s.Bytes), maxRecord = segs.Max(s => s.MaxRecord);
            var rule = writer.RuleFor(run.Options, channel, records, bytes, maxRecord, segs[task].Header);
            long r0 = segs.Take(task).Sum(s => s.Records), o0 = segs.Take(task).Sum(s => s.Bytes);
            int previous = -1;
            if (r0 > 0)
            {
                long last = segs.Take(task).Last(s => s.Records > 0).LastRecord;
                previous = rule.ShardOf(r0 - 1, o0 - last, o0);
            }
            var reader = new SegmentReader(work, segs, channel, task, r0, o0);
            var shards = new List<ShardRecord>();
            var lineagePath = Path.Combine(temp, channel + ".lineage");
            await using (var lineage = run.Options.Lineage ? new FileStream(lineagePath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16) : null)
            {
                // Skip this segment's first records while they belong to the shard of the task before.
                while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } rec && rule.ShardOf(rec.Index, rec.Start, rec.End) == previous) { }
                while (reader.Current is { } first && first.Segment == task)
                {
                    int shard = rule.ShardOf(first.Index, first.Start, first.End);
                    var path = RunLayout.ShardPath(channel, shard, format.Extension, run.Options.Gzip);
                    var local = Path.Combine(temp, $"{channel}-{shard}.part");
                    long rows = 0;
                    await using (var target = new FileStream(local, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                    {
                        var hashing = new Sha256WriteStream(target);
                        var file = await writer.OpenShardAsync(hashing, segs[task].Header, run.Options.Gzip, cancellationToken).ConfigureAwait(false);
                        var rec = first;
                        do
                        {
                            await reader.CopyRecordAsync(file, cancellationToken).ConfigureAwait(false);
                            if (lineage is not null) await reader.CopyLineageAsync(lineage, shard, rows, cancellationToken).ConfigureAwait(false);
                            rows++;
                        }
                        while ((rec = await reader.NextAsync(cancellationToken).ConfigureAwait(false)) is not null && rule.ShardOf(rec.Index, rec.Start, rec.End) == shard);
                        await file.DisposeAsync().ConfigureAwait(false);
                        shards.Add(new ShardRecord(path, rows, hashing.Length, hashing.HashHex()));
                        await hashing.DisposeAsync().ConfigureAwait(false);
                    }
                    await work.Area.PutFileAsync(work.Key(ScaleStep.Write, task, "shards/" + path), local, cancellationToken).ConfigureAwait(false);
                }
                await reader.DisposeAsync().ConfigureAwait(false);
            }
            if (run.Options.Lineage) await work.Area.PutFileAsync(work.Key(ScaleStep.Write, task, channel + ".lineage"), lineagePath, cancellationToken).ConfigureAwait(false);
            report.Shards[channel] = shards;
        }
        await work.PutReportAsync(ScaleStep.Write, task, report, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Commit: publishes the shards and lineage sidecars into the output, builds the run's report from the tasks'
    /// reports as one process would have, and commits (ManifestFiles, channels.json, run.json last); then removes the
    /// work area unless it is to be kept.
    /// </summary>
    public static async Task<RunReport> CommitAsync(ScaleRun run, CancellationToken cancellationToken)
    {
        var work = run.Work;
        const string who = "step commit task 0";
        if (await CommittedAsync(run).ConfigureAwait(false) is { } done)
        {
            // A retried commit whose first attempt finished (the engine lost its success): the run is there already.
            if (!run.Scale.KeepWork) await RemoveWorkAsync(run, cancellationToken).ConfigureAwait(false);
            return done;
        }
        var scans = await work.ReportsAsync(run.Step(ScaleStep.Scan), who, cancellationToken).ConfigureAwait(false);
        var plan = (await work.ReportsAsync(run.Step(ScaleStep.Plan), who, cancellationToken).ConfigureAwait(false))[0];
        var encodes = await work.ReportsAsync(run.Step(ScaleStep.Encode), who, cancellationToken).ConfigureAwait(false);
        var writes = await work.ReportsAsync(run.Step(ScaleStep.Write), who, cancellationToken).ConfigureAwait(false);
        var options = run.Options;
        var context = new RunContext(run.Context.Progress, run.Context.Diagnostics, run.Context.Files);
        context.Inputs.AddRange(run.Context.Inputs);
        var report = context.Report;
        // Time folds train each fold on the earlier folds only (forward chaining), as one process's assigner tells its sink.
        context.ForwardChainingFolds = options.Folds > 0 && options.SplitBy == SplitMethod.Time;
        report.RowsRead = scans.Sum(s => s.RowsRead);
        foreach (var t in scans.Append(plan).Concat(encodes))
        {
            foreach (var (reason, n) in t.Dropped) report.Drop(reason, n);
            foreach (var (column, n) in t.Filled) report.Filled[column] = report.Filled.GetValueOrDefault(column) + n;
        }
        // Rows skipped under --on-bad-row: all in the scan (sources and the missing-values stage run there).
        foreach (var t in scans)
        {
            foreach (var (cause, n) in t.BadRows) report.BadRows[cause] = report.BadRows.GetValueOrDefault(cause) + n;
        }
        report.Warnings.AddRange(plan.Warnings);
        foreach (var t in scans.Concat(encodes)) report.Warnings.AddRange(t.Warnings);
        report.Encoding = plan.Encoding ?? scans[0].Encoding;
        foreach (var (name, s) in plan.Splits) report.Splits[name] = s;
        report.ContentType = encodes.Select(e => e.ContentType).FirstOrDefault(c => c is not null) ?? run.Format.ContentTypes[0];
        report.Channel = run.Format.Channel(options);
        context.Fingerprints = Task.FromResult(scans.SelectMany(s => s.Inputs).ToList());

        var store = run.Registry.Stores.CreateOutput(options);
        await using var disposeStore = store;
        report.Output = store.Location;
        // An earlier attempt of this commit that died part-way left what it had published (S3 shards copied in place,
        // local channels half moved) and no run.json: this attempt replaces it, which scan task 0 already allowed.
        var started = work.Key(ScaleStep.Commit, 0, "started");
        bool again = await work.Area.GetAsync(started, cancellationToken).ConfigureAwait(false) is not null;
        await work.Area.PutAsync(started, "1"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await store.PrepareAsync(options.Overwrite || again, cancellationToken).ConfigureAwait(false);
        try
        {
            if (run.Format.WritesAtCommit || run.BucketsBySeries)
            {
                if (run.BucketsBySeries)
                {
                    run.UseScannedSchema(scans[0], who);
                    await MergeSeriesAsync(run, plan, encodes, store, context, cancellationToken).ConfigureAwait(false);
                }
                else await WriteWithSinkAsync(run, plan, encodes, store, context, cancellationToken).ConfigureAwait(false);
                if (!run.Scale.KeepWork) await RemoveWorkAsync(run, cancellationToken).ConfigureAwait(false);
                return report;
            }
            var channels = new List<(string Name, SplitReport Report)>();
            foreach (var channel in encodes.SelectMany(e => e.Segments.Keys).Distinct().Order(RunLayout.ChannelOrder))
            {
                var segs = encodes.Select(e => e.Segments.GetValueOrDefault(channel)).Where(s => s is { Records: > 0 }).Select(s => s!).ToList();
                var split = new SplitReport { Rows = segs.Sum(s => s.Records), Format = segs.FirstOrDefault()?.Format };
                if (run.HasLabel)
                {
                    var tally = LabelTally.Merge(segs.Select(s => (s.Labels, s.LabelSketch)));
                    bool floats = segs.FirstOrDefault()?.LabelIsFloat ?? false;
                    split.LabelDistribution = tally.Distribution(floats);
                    split.LabelSummary = tally.Summary(floats);
                }
                var adopt = new List<(int Task, ShardRecord Shard)>();
                for (int j = 0; j < writes.Count; j++)
                {
                    foreach (var shard in writes[j].Shards.GetValueOrDefault(channel) ?? []) adopt.Add((j, shard));
                }
                // Server-side copies (S3) or links (local), several at a time; the report lists the shards in order.
                await Parallel.ForEachAsync(adopt, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.S3.Concurrency), CancellationToken = cancellationToken },
                    async (a, ct) => await work.Area.AdoptAsync(work.Key(ScaleStep.Write, a.Task, "shards/" + a.Shard.Path), store, a.Shard.Path, ct).ConfigureAwait(false)).ConfigureAwait(false);
                split.Shards.AddRange(adopt.Select(a => a.Shard));
                if (options.Lineage)
                {
                    // The write tasks' parts after the header, composed on the server when both are S3.
                    var header = LineageBuffer.Header(segs.Any(s => s.HasGroups), segs.Any(s => s.HasTimes));
                    var parts = Enumerable.Range(0, writes.Count).Where(j => writes[j].Shards.ContainsKey(channel)).Select(j => work.Key(ScaleStep.Write, j, channel + ".lineage")).ToList();
                    await work.Area.ComposeAsync(header.Memory, parts, store, RunLayout.LineagePath(channel), cancellationToken).ConfigureAwait(false);
                    split.Lineage = RunLayout.LineagePath(channel);
                }
                channels.Add((channel, split));
            }
            RunLayout.AddChannels(report, channels);
            ConvertRunner.SetTargetFractions(report, options);
            // The scan tasks' quarantined rows, in task order: contiguous shares in input order, so the one process's file.
            var quarantine = Enumerable.Range(0, scans.Count).Where(i => scans[i].Quarantined).Select(i => work.Key(ScaleStep.Scan, i, QuarantineKey)).ToList();
            if (quarantine.Count > 0)
            {
                await work.Area.ComposeAsync(ReadOnlyMemory<byte>.Empty, quarantine, store, BadRows.QuarantinePath, cancellationToken).ConfigureAwait(false);
                report.Quarantine = BadRows.QuarantinePath;
            }
            var steps = run.Steps.Select(s => s.ToString()).ToList();
            var layout = new RunLayout(store, ctx =>
            {
                var record = RunRecord.From(options, ctx, "convert");
                record.Workers = new RunWorkers { Count = run.Workers, Steps = steps, Fingerprint = work.Fingerprint };
                return record.ToJson();
            }, r => EmptyRun.Check(r, options, "convert"));
            await layout.CommitAsync(context, options.Shards.Multiple, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await store.AbortAsync().ConfigureAwait(false);
            throw;
        }
        if (!run.Scale.KeepWork) await RemoveWorkAsync(run, cancellationToken).ConfigureAwait(false);
        return report;
    }

    /// <summary>
    /// Commit, for a format that writes at the commit: runs the format's own sink over the encode tasks' rows, channel by
    /// channel in the plan's order and bucket by bucket, which is the order one process hands them over; the sink writes
    /// the files and commits the run (run.json last) as in one process.
    /// </summary>
    private static async Task WriteWithSinkAsync(ScaleRun run, TaskReport plan, List<TaskReport> encodes, IOutputStore store, RunContext context, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var options = run.Options;
        var (before, from, splitInput) = run.Stages(run.RunSplit(), plan.Encoding ?? run.Earlier);
        var bound = splitInput;
        foreach (var stage in from.Skip(1)) bound = stage.Bind(bound);
        var layout = Layout(run, store);
        // The encode tasks' lists of items left out, in the order one process lists them: channel by channel, bucket by bucket.
        if (from.OfType<IQuarantiningStage>().SingleOrDefault() is { } quarantining)
        {
            foreach (var channel in plan.Channels)
            {
                foreach (var e in encodes) quarantining.AddQuarantined((e.LeftOut ?? []).Where(q => q.Channel == channel));
            }
        }
        var sink = run.Format.CreateSink(new FormatSinkContext(options, store, run.HasLabel, layout) { Stages = [.. before, .. from] });
        await using var disposeSink = sink;
        await sink.OpenAsync(bound, context, cancellationToken).ConfigureAwait(false);
        using var folder = new SpillFolder(options.Memory.EffectiveTempDirectory);
        var temp = Path.GetDirectoryName(folder.NewFile("rows"))!;
        try
        {
            foreach (var channel in plan.Channels)
            {
                for (int j = 0; j < encodes.Count; j++)
                {
                    if (encodes[j].Segments.GetValueOrDefault(channel) is not { Records: > 0 }) continue;
                    var path = await work.Area.GetFileAsync(work.Key(ScaleStep.Encode, j, channel + RowsSuffix), temp, cancellationToken).ConfigureAwait(false)
                        ?? throw new PipelineValidationException($"step {ScaleStep.Commit} task 0: the {channel} rows of encode task {j} are missing from {work.Area.Location}; run that task again.");
                    try
                    {
                        using var reader = new BatchSpillReader(path, bound);
                        while (!reader.AtEnd) await sink.WriteAsync(reader.Read(), cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        // A downloaded copy (S3) goes as soon as it is read; a local work area's file is the object itself.
                        if (!path.StartsWith(work.Area.Location, StringComparison.Ordinal)) File.Delete(path);
                    }
                }
            }
            await sink.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await sink.AbortAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The layout a format's own commit goes through: run.json as one process writes it, with the record of the workers.</summary>
    private static RunLayout Layout(ScaleRun run, IOutputStore store)
    {
        var options = run.Options;
        var steps = run.Steps.Select(s => s.ToString()).ToList();
        return new RunLayout(store, ctx =>
        {
            ConvertRunner.SetTargetFractions(ctx.Report, options);
            var record = RunRecord.From(options, ctx, "convert");
            record.Workers = new RunWorkers { Count = run.Workers, Steps = steps, Fingerprint = run.Work.Fingerprint };
            return record.ToJson();
        }, r => EmptyRun.Check(r, options, "convert"));
    }

    /// <summary>The report of this very run when the output already holds it (same fingerprint), else null.</summary>
    private static Task<RunReport?> CommittedAsync(ScaleRun run)
    {
        var path = RunLayout.RecordPathOf(run.Options.Output);
        if (!run.Context.Files.Exists(path)) return Task.FromResult<RunReport?>(null);
        var record = RunRecord.Load(path, run.Context.Files);
        if (record.Workers?.Fingerprint != run.Work.Fingerprint) return Task.FromResult<RunReport?>(null);
        var report = new RunReport { RowsRead = record.Summary.RowsRead, Encoding = record.Encoding, ContentType = record.ContentType, Output = run.Options.Output };
        foreach (var (name, split) in record.Splits) report.Splits[name] = split;
        foreach (var (reason, n) in record.Summary.Dropped) report.Drop(reason, n);
        foreach (var (cause, n) in record.Summary.BadRows) report.BadRows[cause] = n;
        report.Quarantine = record.Summary.Quarantine;
        report.Warnings.AddRange(record.Summary.Warnings);
        report.Warnings.Add($"step commit: {path} already holds this run (fingerprint {run.Work.Fingerprint}); nothing was written again.");
        return Task.FromResult<RunReport?>(report);
    }

    /// <summary>Removes the run's work; the default work area folder under the output goes with it once empty.</summary>
    /// <remarks>
    /// The default area (<c>OUT/_dataprep/work/</c>) belongs to the output: work left there by failed attempts with other
    /// options (other fingerprints) goes too. A shared <c>--work</c> area keeps other runs' work.
    /// </remarks>
    public static async Task RemoveWorkAsync(ScaleRun run, CancellationToken cancellationToken)
    {
        var area = run.Work.Area;
        if (run.Scale.Work is null)
        {
            await area.DeleteAsync("", cancellationToken).ConfigureAwait(false);
            return;
        }
        await area.DeleteAsync(run.Work.Fingerprint + "/", cancellationToken).ConfigureAwait(false);
        if ((await area.ListAsync("", cancellationToken).ConfigureAwait(false)).Count == 0) await area.DeleteAsync("", cancellationToken).ConfigureAwait(false);
    }

    private static TaskReport TaskReportOf(RunReport r) => new()
    {
        RowsRead = r.RowsRead,
        Dropped = new SortedDictionary<string, long>(r.Dropped, StringComparer.Ordinal),
        Filled = new SortedDictionary<string, long>(r.Filled, StringComparer.Ordinal),
        BadRows = new SortedDictionary<string, long>(r.BadRows, StringComparer.Ordinal),
        Warnings = [.. r.Warnings],
        Splits = new SortedDictionary<string, SplitReport>(r.Splits, StringComparer.Ordinal),
    };
}

/// <summary>
/// Reads one channel's records from the segment of one encode task on, across the segments after it: each record's
/// global index and byte range, its bytes and its lineage line (completed with its shard and record numbers).
/// </summary>
internal sealed class SegmentReader(ScaleWork work, SegmentInfo[] segments, string channel, int first, long firstIndex, long firstOffset) : IAsyncDisposable
{
    private int _segment = first - 1;
    private long _left;
    private long _index = firstIndex - 1;
    private long _offset = firstOffset;
    private long _segmentOffset;
    private Stream? _data, _ends, _lineage;
    private bool _dataPending, _lineagePending;
    private readonly byte[] _eight = new byte[8];
    private readonly LineageBuffer _numbers = new(64);

    /// <summary>A record: its index in the channel, its global byte range, and the encode task whose segment holds it.</summary>
    public sealed record Record(long Index, long Start, long End, int Segment);

    public Record? Current { get; private set; }

    public async Task<Record?> NextAsync(CancellationToken cancellationToken)
    {
        if (Current is { } c)
        {
            if (_dataPending) await SkipAsync(_data!, c.End - c.Start, cancellationToken).ConfigureAwait(false);
            if (_lineagePending && _lineage is not null)
            {
                await _lineage.ReadExactlyAsync(_eight, cancellationToken).ConfigureAwait(false);
                await SkipAsync(_lineage, BitConverter.ToInt32(_eight, 0) + (long)BitConverter.ToInt32(_eight, 4), cancellationToken).ConfigureAwait(false);
            }
        }
        while (_left == 0)
        {
            await CloseAsync().ConfigureAwait(false);
            if (++_segment >= segments.Length) return Current = null;
            _left = segments[_segment].Records;
            if (_left == 0) continue;
            _segmentOffset = _offset;
            var area = work.Area;
            _data = await area.OpenRangeAsync(work.Key(ScaleStep.Encode, _segment, channel + ".data"), 0, long.MaxValue, cancellationToken).ConfigureAwait(false);
            _ends = await area.OpenRangeAsync(work.Key(ScaleStep.Encode, _segment, channel + ".ends"), 0, long.MaxValue, cancellationToken).ConfigureAwait(false);
            _lineage = (await area.ListAsync(work.Key(ScaleStep.Encode, _segment, channel + ".lineage"), cancellationToken).ConfigureAwait(false)).Count > 0
                ? await area.OpenRangeAsync(work.Key(ScaleStep.Encode, _segment, channel + ".lineage"), 0, long.MaxValue, cancellationToken).ConfigureAwait(false)
                : null;
        }
        await _ends!.ReadExactlyAsync(_eight, cancellationToken).ConfigureAwait(false);
        long end = _segmentOffset + BitConverter.ToInt64(_eight);
        _left--;
        _index++;
        Current = new Record(_index, _offset, end, _segment);
        _offset = end;
        _dataPending = true;
        _lineagePending = true;
        return Current;
    }

    public async Task CopyRecordAsync(Stream target, CancellationToken cancellationToken)
    {
        var c = Current ?? throw new InvalidOperationException("No record.");
        long n = c.End - c.Start;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(n, 1 << 20));
        try
        {
            while (n > 0)
            {
                int k = (int)Math.Min(n, buffer.Length);
                await _data!.ReadExactlyAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
                await target.WriteAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
                n -= k;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        _dataPending = false;
    }

    /// <summary>Writes the record's lineage line with its shard and its record number in that shard.</summary>
    public async Task CopyLineageAsync(Stream target, int shard, long record, CancellationToken cancellationToken)
    {
        if (_lineage is null) return;
        await _lineage.ReadExactlyAsync(_eight, cancellationToken).ConfigureAwait(false);
        int prefix = BitConverter.ToInt32(_eight, 0), suffix = BitConverter.ToInt32(_eight, 4);
        var bytes = new byte[prefix + suffix];
        await _lineage.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        _numbers.Clear();
        _numbers.Append(shard).Append((byte)',').Append(record);
        await target.WriteAsync(bytes.AsMemory(0, prefix), cancellationToken).ConfigureAwait(false);
        await target.WriteAsync(_numbers.Memory, cancellationToken).ConfigureAwait(false);
        await target.WriteAsync(bytes.AsMemory(prefix), cancellationToken).ConfigureAwait(false);
        _lineagePending = false;
    }

    private static async Task SkipAsync(Stream s, long n, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(Math.Max(n, 1), 1 << 16)];
        while (n > 0)
        {
            int k = (int)Math.Min(n, buffer.Length);
            await s.ReadExactlyAsync(buffer.AsMemory(0, k), cancellationToken).ConfigureAwait(false);
            n -= k;
        }
    }

    private async Task CloseAsync()
    {
        foreach (var s in new[] { _data, _ends, _lineage }) if (s is not null) await s.DisposeAsync().ConfigureAwait(false);
        _data = _ends = _lineage = null;
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);
}
