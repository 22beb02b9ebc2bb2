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
internal static partial class ScaleTasks
{
    private static string RowsKey(int bucket) => $"rows-{ScaleWork.Task(bucket)}";

    private static string RoutingKey(int bucket) => $"routing-{ScaleWork.Task(bucket)}";

    /// <summary>
    /// A scan task's histogram of split hashes (<see cref="RandomSplitCuts.BinOf"/>), when the plan cuts the split; for a
    /// noisy/clean split without groups, the clean rows' histogram then the noisy rows'.
    /// </summary>
    private const string SplitBinsKey = "split-bins";

    /// <summary>A scan task's rows skipped under <c>--on-bad-row quarantine</c>: JSON Lines, as <see cref="BadRows"/> writes them.</summary>
    private const string QuarantineKey = "quarantine.jsonl";

    /// <summary>A scan task's row ids in sections by split hash (<see cref="IdSections"/>), for a plan that needs only its cuts.</summary>
    private const string SplitIdsKey = "split-ids";

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
        // A CSV byte range numbers its rows and lines from its start: an error names them as the whole file does.
        stream = ScanRanges.InWholeInputs(stream, run.Sources, cancellationToken);

        using var folder = new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
        // Label-first CSV: the rows objects hold each row's text in place of the columns it carries (ScaleRun.RowTextColumns).
        var text = run.RowTextColumns(split, from, splitInput);
        // RecordIO-protobuf: the rows objects hold the features only a float32 writer reads as float32 (ScaleRun.RowFloat32Columns),
        // and the sources keep those rows' values as float32 alone, parsed once (nothing reads their doubles).
        var float32 = text is null ? run.RowFloat32Columns(split, from, splitInput) : null;
        if (float32 is not null) run.Context.Float32Only.Names = SpillNarrowing.Float32OnlyNames(before, float32, splitInput);
        var writers = new BatchSpillWriter?[run.Workers];
        var bucketRows = new long[run.Workers];
        var keyPath = folder.NewFile("keys");
        // For a plan that only cuts the split: every row counted by the top bits of its split hash, or by its class.
        var plan = run.PlanOf(split);
        var bins = plan == PlanKind.Cuts ? new long[RandomSplitCuts.Bins] : null;
        // A plan that needs only its cuts' rows reads sections of row ids by split hash, not every row's key columns.
        using var sections = ScaleRun.CutsFromIdSections(plan, split.Assigner, keys) ? new IdSections(folder) : null;
        // A noisy/clean split without groups: each side's rows counted by the top bits of their split hashes (clean, then
        // noisy), by the run's own rule for which rows are noisy; a row without a noisy value is counted, not an error here.
        var noisyAssigner = plan == PlanKind.NoisyCuts ? (NoisyCleanAssigner)split.Assigner : null;
        var sideBins = noisyAssigner is null ? null : new long[2 * RandomSplitCuts.Bins];
        long clean = 0, noisy = 0, unmarked = 0;
        var classRows = plan == PlanKind.StratifiedCuts ? new Dictionary<string, long>(StringComparer.Ordinal) : null;
        int stratify = classRows is null ? -1 : splitInput.IndexOf(run.Options.Stratify!);
        var splitHash = new KeyedHash(run.Options.Seed, "split");
        using (var keyWriter = sections is null ? new BatchSpillWriter(keyPath) : null)
        {
            var hash = run.BucketsBySeries ? run.SeriesHash() : new KeyedHash(run.Options.Seed, "shuffle");
            int series = run.BucketsBySeries ? splitInput.IndexOf(run.Options.SeriesColumn!) : -1;
            var members = new List<int>[run.Workers];
            // Under --memory the heap is kept near the budget, as the split keeps it (see MemoryGovernor): each batch is
            // garbage once written, and without forced collections a task that read a large Parquet row group peaked
            // at 279 MiB at --memory 128MB.
            var governor = run.Options.Memory.Budget is { } budget ? new MemoryGovernor(budget) : null;
            await foreach (var batch in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                governor?.Check();
                keyWriter?.Write(new RecordBatch(keySchema, keys.Select(k => batch.Columns[k]).ToArray(), batch.RowCount, batch.Rows));
                if (bins is not null)
                {
                    var rowIds = batch.Rows.RowIds;
                    for (int r = 0; r < batch.RowCount; r++)
                    {
                        ulong h = splitHash.Hash(rowIds[r]);
                        bins[RandomSplitCuts.BinOf(h)]++;
                        sections?.Add(h, rowIds[r]);
                    }
                }
                if (noisyAssigner is not null)
                {
                    var missing = new bool[batch.RowCount];
                    var sides = noisyAssigner.NoisyRowsOrMissing(new SplitInput([batch], splitInput), run.Context, missing);
                    var rowIds = batch.Rows.RowIds;
                    for (int r = 0; r < batch.RowCount; r++)
                    {
                        if (missing[r]) { unmarked++; continue; }
                        if (sides[r]) noisy++; else clean++;
                        sideBins![(sides[r] ? RandomSplitCuts.Bins : 0) + RandomSplitCuts.BinOf(splitHash.Hash(rowIds[r]))]++;
                    }
                }
                if (classRows is not null)
                {
                    var column = batch.Columns[stratify];
                    for (int r = 0; r < batch.RowCount; r++)
                    {
                        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(classRows, RandomSplitAssigner.KeyOf(column, r), out _)++;
                    }
                }
                var rows = text is var (_, records, names) ? SplitSpill.WithEveryRowText(batch, records, names) : batch;
                if (!run.BucketsByHash && !run.BucketsBySeries)
                {
                    Write(task, rows, null);
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
                    // The bucket's rows picked as they are written: a Take would parse every column the text carries.
                    Write(j, rows, m.Count == rows.RowCount ? null : m.ToArray());
                }
            }
        }
        foreach (var w in writers) w?.Dispose();
        run.Context.Diagnostics.CountRowsWithoutText(run.Context.Float32Only.RowsWithoutText);

        void Write(int bucket, RecordBatch rows, int[]? picked)
        {
            var writer = writers[bucket] ??= new BatchSpillWriter(folder.NewFile(RowsKey(bucket)), float32Columns: float32, textColumns: text?.Columns);
            if (picked is null) writer.Write(rows);
            else writer.Write(rows, picked);
            bucketRows[bucket] += picked?.Length ?? rows.RowCount;
        }

        var work = run.Work;
        long[]? sectionOffsets = null;
        if (sections is null) await work.Area.PutFileAsync(work.Key(ScaleStep.Scan, task, "keys"), keyPath, cancellationToken).ConfigureAwait(false);
        else
        {
            var idsPath = folder.NewFile(SplitIdsKey);
            sectionOffsets = sections.Finish(idsPath);
            await work.Area.PutFileAsync(work.Key(ScaleStep.Scan, task, SplitIdsKey), idsPath, cancellationToken).ConfigureAwait(false);
        }
        if ((bins ?? sideBins) is { } histogram)
        {
            using var binBytes = new MemoryStream();
            WorkArrays.Write<long>(binBytes, histogram);
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
        // Where the task's reads of inputs divided by byte range started and stopped, for the plan to check and the
        // steps after it to number their rows by.
        report.Ranges = ScanRanges.Of(run.Sources);
        report.Quarantined = badRows.QuarantineFile is not null;
        // Every scan task opens the inputs and learns the same warnings there (a LibSVM file's qid tokens): task 0 reports
        // them, first, as one process does, and every task the warnings of its own reading.
        report.Warnings = run.Context.Report.Warnings.Skip(task == 0 ? 0 : run.OpenWarnings).ToList();
        report.BucketRows = bucketRows;
        report.IdSections = sectionOffsets;
        report.StratumRows = classRows?.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        if (noisyAssigner is not null)
        {
            report.StratumRows = new Dictionary<string, long>(StringComparer.Ordinal) { [NoisyCleanAssigner.CleanKey] = clean, [NoisyCleanAssigner.NoisyKey] = noisy };
            report.UnmarkedRows = unmarked;
        }
        report.Schema = [.. run.Schema.Fields];
        report.RowBytes = run.Options.RowBytes;
        // What the stages before the split learned for the whole run (the image formats' class map), for run.json.
        report.Encoding = run.Context.Report.Encoding;
        // The task that reads an input's first part records its fingerprint in run.json.
        report.Inputs = Enumerable.Range(first, end - first).Where(u => units[u].Part == 0 && run.Opened[units[u].Source].IsSingleFile)
            .Select(u => InputFingerprint.Of(run.Context.Inputs[units[u].Source], run.Context.Files)).ToList();
        await work.PutReportAsync(ScaleStep.Scan, task, report, cancellationToken).ConfigureAwait(false);
    }
}
