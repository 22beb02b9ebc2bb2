using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>The encode step: tags each bucket's rows by the plan and formats them into segments.</summary>
internal static partial class ScaleTasks
{
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
        run.Ranges = ScanRanges.Check(scans, run.Context.Inputs, who);
        var plan = (await work.ReportsAsync(run.Step(ScaleStep.Plan), who, cancellationToken).ConfigureAwait(false))[0];
        Routing? routing = null;
        GroupSplitsTable? groups = null;
        if (plan.Plan is PlanKind.Groups or PlanKind.NoisyGroups or PlanKind.GroupFolds)
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
        // The scan tasks' rows objects hold the rows' text in place of these columns (label-first CSV; null: values).
        var text = run.RowTextColumns();
        // ...or the features a float32 writer reads as float32 (RecordIO-protobuf), as float32.
        var float32 = text is null ? run.RowFloat32Columns() : null;
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
                    using var reader = new BatchSpillReader(path, splitInput, float32Columns: float32, textColumns: text?.Columns, textNames: text?.Names);
                    while (!reader.AtEnd)
                    {
                        // The rows of a CSV byte range numbered from its input's start (the lineage's source_row).
                        var batch = run.Ranges.Fix(i, reader.Read());
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
        // A bucket that spills keeps columns only a float32 writer reads as float32, by one process's rule.
        SpillNarrowing.Apply(run.Options, run.Format, from, splitInput, bound);
        // Columns the rows objects left to the text are placeholders here: a bucket that spills leaves them to the text too.
        if (text is var (columns, records, _)) split.SpillText = (columns, records);
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
}
