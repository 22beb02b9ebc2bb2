using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>The write and commit steps: shards from segments, then the atomic commit and the work area's removal.</summary>
internal static partial class ScaleTasks
{
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
                // Server-side copies (S3) or renames (local), --copy-concurrency at a time (no buffer each, so --memory does
                // not lower it); a copy of the bytes (S3 work area, local output, or the other way) is an upload each,
                // held to --upload-concurrency. The report lists the shards in order.
                int atOnce = work.Area.AdoptsInPlace(store) ? options.S3.CopyConcurrency : options.EffectiveS3.Concurrency;
                await Parallel.ForEachAsync(adopt, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, atOnce), CancellationToken = cancellationToken },
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
            var quarantine = await QuarantineKeysAsync(run, scans, who, cancellationToken).ConfigureAwait(false);
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
    /// The scan tasks' quarantine objects, in task order. A task that read a byte range from the middle of an input numbered
    /// that input's lines and rows from the range's start: its object is renumbered (<see cref="BadRows.Renumber"/>, the
    /// lines and rows before the range from the scan reports: <see cref="ScanRanges.Before"/>) into a commit object first.
    /// </summary>
    private static async Task<List<string>> QuarantineKeysAsync(ScaleRun run, List<TaskReport> scans, string who, CancellationToken cancellationToken)
    {
        var work = run.Work;
        var ranges = ScanRanges.Check(scans, run.Context.Inputs, who);
        var keys = new List<string>();
        SpillFolder? folder = null;
        try
        {
            for (int i = 0; i < scans.Count; i++)
            {
                if (!scans[i].Quarantined) continue;
                var key = work.Key(ScaleStep.Scan, i, QuarantineKey);
                if (ranges.Before(i) is var (source, rows, lines) && (rows > 0 || lines > 0))
                {
                    folder ??= new SpillFolder(run.Options.Memory.EffectiveTempDirectory);
                    var temp = Path.GetDirectoryName(folder.NewFile("quarantine"))!;
                    var path = await work.Area.GetFileAsync(key, temp, cancellationToken).ConfigureAwait(false)
                        ?? throw new PipelineValidationException($"{who}: the quarantined rows of scan task {i} are missing from {work.Area.Location}; run that task again.");
                    var renumbered = folder.NewFile("quarantine-renumbered.jsonl");
                    try
                    {
                        using (var from = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
                        using (var to = new FileStream(renumbered, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                        {
                            BadRows.Renumber(from, to, run.Context.Inputs[source], lines, rows);
                        }
                        key = work.Key(ScaleStep.Commit, 0, $"quarantine-{ScaleWork.Task(i)}.jsonl");
                        await work.Area.PutFileAsync(key, renumbered, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        // A downloaded copy (S3) goes once read; a local work area's file is the object itself.
                        if (!path.StartsWith(work.Area.Location, StringComparison.Ordinal)) File.Delete(path);
                    }
                }
                keys.Add(key);
            }
        }
        finally
        {
            folder?.Dispose();
        }
        return keys;
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
