using System.Diagnostics;
using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.Sources;
using DataPrep.Splits;
using DataPrep.Pipeline;

namespace DataPrep.Conversion;

/// <summary>
/// Runs <c>convert</c> and <c>apply</c>: sources → the output format's stages (by default missing values → split → encode) → the format's sink → commit.
/// Every option is checked (against the data's schema too) before any output is created; any failure
/// aborts the sink, so no partial output is left behind.
/// </summary>
public static class ConvertRunner
{
    /// <summary>Runs a conversion.</summary>
    /// <param name="options">What to convert and how.</param>
    /// <param name="registry">Sources, formats and stores (the built-ins by default).</param>
    /// <param name="progress">Progress.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <exception cref="PipelineValidationException">Options that do not fit the data.</exception>
    /// <exception cref="DataFormatException">Bad input (file, line, column, found, expected).</exception>
    /// <exception cref="OutputException">The output folder holds a run and overwriting was not asked for.</exception>
    public static async Task<RunReport> RunAsync(ConvertOptions options, DataPrepRegistry? registry = null, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        registry ??= new DataPrepRegistry();
        var (prepared, format, fitted) = Prepare(options, registry);
        options = prepared;
        var files = registry.Stores.Inputs(options.S3);
        var clock = Stopwatch.StartNew();
        var context = new RunContext(progress, registry.Diagnostics, files);
        using var badRows = context.BadRows = new BadRows(options.Source.OnBadRow, context.Report, options.Memory.TempDirectory);
        RunTrace.Line("open start");
        var (schema, sources, opened) = await OpenSourcesAsync(options, registry.Sources, context, cancellationToken, RowText.UnlessSplitSpills).ConfigureAwait(false);
        RunTrace.Line("open end");
        options = WithRowBytes(options, opened);
        if (fitted is not null) CheckCompatible(schema, fitted, options.Like!);
        SpillFolder.CheckSpace(options, context.EstimatedInputBytes);

        var traits = format.Traits;
        var split = CreateSplitStage(options, format, context);
        split.MaxChannelRows = registry.MaxChannelRows;
        bool warmingUp = false;
        if (registry.StreamTimeSplits && TimeSplitPlan.Applies(options, split.Assigner, traits) && sources.All(s => s.ReadsColumnsSeparately) && options.TimeColumn is { } timeColumn)
        {
            // Columnar input: read the time column alone first; in time order, the split then streams. A streamed
            // split keeps both cores busy to the end, so the JSON warm-up (see RunStagesAsync) starts now.
            warmingUp = true;
            _ = JsonWarmUp.Start(options, "convert");
            var timeOnly = options.ReadingSource with { Files = files, OnlyColumns = new HashSet<string>(StringComparer.Ordinal) { timeColumn } };
            var plan = await TimeSplitPlan.TryCreateAsync((TimeSplitAssigner)split.Assigner, context.Inputs.Select(p => registry.Sources.Create(p, timeOnly)).ToList(), context, cancellationToken).ConfigureAwait(false);
            plan?.CopyReportTo(context.Report);
            split.Plan = plan;
            if (plan is not null)
            {
                // The main read then skips the time column: the plan already holds every row's time.
                var rest = options.ReadingSource with
                {
                    Files = context.Files,
                    OnlyColumns = schema.Fields.Select(f => f.Name).Where(n => n != timeColumn).ToHashSet(StringComparer.Ordinal),
                };
                if (await plan.WithTimeFilledInAsync(schema, timeColumn, context.Inputs.Select(p => registry.Sources.Create(p, rest)).ToList(), cancellationToken).ConfigureAwait(false) is { } filled)
                {
                    sources = filled;
                }
            }
            RunTrace.Line($"time split planned: {(plan is null ? "no (ordinary path)" : "streaming")}");
        }
        // The format chooses the stages around the split (encoders for label-first formats, column selection for lists,
        // class ids, augmentation and decoding for images).
        var stages = format.CreateStages(new FormatStageContext(options, split, fitted, opened));
        await RunStagesAsync(options, format, registry, schema, sources, stages, context, "convert", cancellationToken, warmingUp).ConfigureAwait(false);
        SetTargetFractions(context.Report, options);
        context.Report.Phases = [.. context.Phases.Stop()];
        context.Report.Seconds = clock.Elapsed.TotalSeconds;
        return context.Report;
    }

    /// <summary>
    /// The options a run really uses: with <c>--like</c> the earlier run's seed, split and maps (returned as
    /// <c>Earlier</c>), checked against the registry's format, with the instance count's shard multiple.
    /// </summary>
    internal static (ConvertOptions Options, OutputFormatDefinition Format, EncodingRecord? Earlier) Prepare(ConvertOptions options, DataPrepRegistry registry)
    {
        EncodingRecord? fitted = null;
        if (options.Like is { } like)
        {
            // Incremental training: the earlier run's seed, thresholds and maps, so nothing moves or renumbers.
            var earlier = RunLayout.ReadEncodedRecord(like, registry.Stores.Inputs(options.S3), "--like");
            var o = earlier.Options!.WithoutUnreadSplitOptions();
            fitted = earlier.Encoding!;
            options = options with
            {
                Seed = earlier.Seed,
                Train = o.Train, Validation = o.Validation, Test = o.Test,
                SplitBy = o.SplitBy, GroupColumn = o.GroupColumn, TimeColumn = o.TimeColumn, Cutoffs = o.Cutoffs, Gap = o.Gap,
                Assignment = o.Assignment, Stratify = o.Stratify,
                Label = fitted.Label?.Name, NoLabel = fitted.Label is null,
                Features = fitted.Features.Select(f => f.Name).ToList(), Drop = [],
                Encodings = fitted.Features.Where(f => f.Encoding is "onehot" or "ordinal" or "epoch")
                    .ToDictionary(f => f.Name, f => Enum.Parse<FeatureEncoding>(f.Encoding, ignoreCase: true)),
                Missing = o.Missing, FillValue = o.FillValue,
            };
        }
        var (resolved, format) = registry.Resolve(options);
        options = resolved;
        if (options.Instances > 1) options = options with { Shards = options.Shards with { Multiple = options.Instances } };
        return (options, format, fitted);
    }

    /// <summary>The options with the widest mean row of the opened inputs (<see cref="ConvertOptions.RowBytes"/>).</summary>
    internal static ConvertOptions WithRowBytes(ConvertOptions options, IReadOnlyList<IRecordSource> opened)
        => opened.Count == 0 ? options : options with { RowBytes = opened.Max(s => s.RowBytes) };

    /// <summary>The split stage of a run (the same for one process and for each task of a scaled-out run).</summary>
    internal static SplitStage CreateSplitStage(ConvertOptions options, OutputFormatDefinition format, RunContext? context, ISplitAssigner? assigner = null)
        => new(assigner ?? CreateAssigner(options, context), options.Seed, options.EffectiveShuffle, options.EffectiveBatchRows,
            format.Traits.NeedsSeries ? options.SeriesColumn : options.SplitBy is SplitMethod.Group or SplitMethod.NoisyClean ? options.GroupColumn : null,
            options.SplitBy == SplitMethod.Time ? options.TimeColumn : null, options.Memory);

    /// <summary>
    /// Records the fraction each split was asked for, next to what it got, and keeps the label report that fits the
    /// label (<see cref="LabelKinds"/>). Random, stratified, stable, group and time splits by fractions aim at the
    /// fractions given; time splits by cutoffs and noisy/clean splits got theirs from their assigner (the share between
    /// the cutoffs; the clean and noisy row counts); k-fold: test as given, each fold an equal share of the rest; an
    /// image list channel (<c>train_lst</c>) has its split's target.
    /// </summary>
    public static void SetTargetFractions(RunReport report, ConvertOptions options)
    {
        bool fromAssigner = options.SplitBy == SplitMethod.NoisyClean || (options.SplitBy == SplitMethod.Time && options.Cutoffs.Count > 0);
        if (!fromAssigner)
        {
            foreach (var (tag, f) in SplitNames.All.Zip(options.Fractions))
            {
                if (report.Splits.TryGetValue(tag.Name(), out var s)) s.TargetFraction = f;
            }
        }
        if (options.Folds > 0)
        {
            double test = report.Splits.TryGetValue(SplitTag.Test.Name(), out var t) ? t.TargetFraction : options.Test;
            foreach (var (name, s) in report.Splits)
            {
                if (name.StartsWith("fold-", StringComparison.Ordinal) && !name.EndsWith("_lst", StringComparison.Ordinal)) s.TargetFraction = (1 - test) / options.Folds;
            }
        }
        foreach (var (name, s) in report.Splits)
        {
            if (name.EndsWith("_lst", StringComparison.Ordinal) && report.Splits.TryGetValue(name[..^4], out var data)) s.TargetFraction = data.TargetFraction;
        }
        LabelKinds.Apply(report, options);
    }

    /// <summary>
    /// The reading options of apply's new inputs: the earlier run's, less those none of the new inputs reads (reset to
    /// their defaults: the run's inputs may have been CSV and the new ones Parquet), then <paramref name="reading"/>'s.
    /// </summary>
    internal static SourceOptions ReadingOf(SourceRegistry sources, IReadOnlyList<string> inputs, SourceOptions earlier, Func<SourceOptions, SourceOptions>? reading)
    {
        var unread = new[] { TextOptions.Delimited, TextOptions.Encoding, TextOptions.NullValues }
            .Where(kind => !sources.MayRead(inputs, earlier.Format, kind))
            .Aggregate(TextOptions.None, (all, kind) => all | kind);
        var kept = earlier.Without(unread);
        return reading is null ? kept : reading(kept);
    }

    /// <summary>
    /// Encodes new data with the label classes, vocabularies, fills and column order of an earlier run
    /// (e.g. for Batch Transform). No split, no shuffle: rows keep input order under <c>data/</c>.
    /// </summary>
    /// <param name="runRecordPath">
    /// The earlier run: its <c>_dataprep/run.json</c>, its output folder or its <c>s3://</c> prefix (see
    /// <see cref="RunLayout.RecordPathOf"/>); <c>s3://</c> needs DataPrep.S3 in the registry.
    /// </param>
    /// <param name="inputs">New data with the same columns (the label may be absent); local or <c>s3://</c>.</param>
    /// <param name="output">The output folder or <c>s3://</c> prefix.</param>
    /// <param name="withLabel">Write the label first (it must be present); default: features only.</param>
    /// <param name="overwrite">Replace an earlier output.</param>
    /// <param name="s3">
    /// How this run reads and writes <c>s3://</c> (the run record, inputs, output); default settings when null. The
    /// earlier run's own settings are not reused: connection settings belong to where a run happens, not to the data.
    /// </param>
    /// <param name="registry">Sources, formats and stores (the built-ins by default).</param>
    /// <param name="progress">Progress.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <param name="onUnseen">
    /// Categories (and label classes) the earlier run's train split never had: the reserved code (default) or an error;
    /// counted per column in <see cref="RunReport.Unseen"/> and the run record either way.
    /// </param>
    /// <param name="onBadRow">Rows that cannot be read (<c>--on-bad-row</c>): fail (default), skip or quarantine, as in convert; not taken from the earlier run.</param>
    /// <param name="reading">
    /// How the new inputs are read where they differ from the earlier run's inputs (<c>--delimiter</c>, <c>--encoding</c>,
    /// <c>--null-values</c> … given to apply), applied to the run's reading options. Options the run had that none of the new
    /// inputs reads (the run's CSV delimiter, new inputs in Parquet) are let go first; options given here are checked as
    /// convert checks them.
    /// </param>
    /// <exception cref="DataFormatException">No run record where <paramref name="runRecordPath"/> points, or bad input (also an unseen value with <see cref="UnseenPolicy.Error"/>).</exception>
    public static async Task<RunReport> ApplyAsync(string runRecordPath, IReadOnlyList<string> inputs, string output, bool withLabel = false, bool overwrite = false,
        S3Options? s3 = null, DataPrepRegistry? registry = null, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default,
        UnseenPolicy onUnseen = UnseenPolicy.Reserve, BadRowPolicy onBadRow = BadRowPolicy.Fail, Func<SourceOptions, SourceOptions>? reading = null)
    {
        registry ??= new DataPrepRegistry();
        s3 ??= new S3Options();
        var clock = Stopwatch.StartNew();
        var record = RunLayout.ReadEncodedRecord(runRecordPath, registry.Stores.Inputs(s3), "apply");
        var earlier = record.Options!;
        var encoding = record.Encoding!;
        // Records written before --shard-rows replaced the size limit hold both (the 64 MiB default came along), which
        // options now refuse: such a run asked for rows, so apply keeps the rows.
        var shards = earlier.Shards is { MaxRows: > 0, MaxBytes: not null } both ? both with { MaxBytes = null } : earlier.Shards;
        // A record may hold split options its split did not read (accepted and ignored before they were refused): apply
        // splits nothing, and lets them go; and rotations, which only image formats read (apply refuses those).
        var options = earlier.WithoutUnreadSplitOptions() with
        {
            Images = earlier.Images with { Rotations = [] },
            Shards = shards,
            Inputs = inputs,
            Output = output,
            Overwrite = overwrite,
            S3 = s3,
            Label = withLabel ? encoding.Label?.Name : null,
            NoLabel = !withLabel,
            Features = encoding.Features.Select(f => f.Name).ToList(),
            Drop = [],
            Stratify = null,
            Train = 1, Validation = 0, Test = 0,
            Missing = earlier.Missing == MissingPolicy.Fill ? MissingPolicy.Fill : earlier.Missing,
            Source = ReadingOf(registry.Sources, inputs, earlier.Source, reading) with { OnBadRow = onBadRow },
        };
        if (withLabel && encoding.Label is null) throw new PipelineValidationException($"--with-label: the run {runRecordPath} was unsupervised (no label).");
        var (resolved, format) = registry.Resolve(options);
        options = resolved;
        if (format.Traits.ReadsImages)
        {
            throw new PipelineValidationException($"dataprep apply encodes tables with an earlier run's maps; the run {runRecordPath} wrote --format {format.Name} (images). Convert new images with --like {runRecordPath} instead, which keeps the class ids.");
        }
        var context = new RunContext(progress, registry.Diagnostics, registry.Stores.Inputs(options.S3));
        using var badRows = context.BadRows = new BadRows(options.Source.OnBadRow, context.Report, options.Memory.TempDirectory);
        var (schema, sources, opened) = await OpenSourcesAsync(options, registry.Sources, context, cancellationToken).ConfigureAwait(false);
        options = WithRowBytes(options, opened);
        CheckCompatible(schema, encoding, runRecordPath);
        var fitted = withLabel ? encoding : new EncodingRecord { Features = encoding.Features, FeatureWidth = encoding.FeatureWidth, Missing = encoding.Missing };
        IPipelineStage[] stages = [new MissingValuesStage(options), new EncodeStage(options, fitted, onUnseen)];
        await RunStagesAsync(options, format, registry, schema, sources, stages, context, "apply", cancellationToken).ConfigureAwait(false);
        context.Report.Phases = [.. context.Phases.Stop()];
        context.Report.Seconds = clock.Elapsed.TotalSeconds;
        return context.Report;
    }

    /// <summary>Checks that new data has the columns an earlier run encoded, with compatible kinds.</summary>
    internal static void CheckCompatible(Schema schema, EncodingRecord encoding, string runRecordPath)
    {
        var problems = new List<string>();
        foreach (var f in encoding.Features)
        {
            int i = schema.IndexOf(f.Name);
            if (i < 0) problems.Add($"The input has no column '{f.Name}', which the run {runRecordPath} encoded as a feature; expected the columns {string.Join(", ", encoding.Features.Select(x => x.Name))}.");
            else if (schema[i].Kind != f.Kind && !(f.Kind == ColumnKind.Float64 && schema[i].Kind == ColumnKind.Int64))
            {
                // Inferred as text here: the value that made it so (file, line, row), as convert names it.
                string why = schema[i].KindEvidence is { } evidence ? $" ({evidence})" : "";
                problems.Add($"Column '{f.Name}' is {schema[i].Kind} here{why} but was {f.Kind} in the run {runRecordPath}; pass --column-type {f.Name}={f.Kind.ToString().ToLowerInvariant()}.");
            }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
    }

    private static async Task RunStagesAsync(ConvertOptions options, OutputFormatDefinition format, DataPrepRegistry registry, Schema schema, IReadOnlyList<IRecordSource> sources,
        IReadOnlyList<IPipelineStage> stages, RunContext context, string command, CancellationToken cancellationToken, bool warmingUp = false)
    {
        var bound = schema;
        Schema? splitInput = null;
        foreach (var stage in stages)
        {
            if (stage is SplitStage) splitInput = bound;
            bound = stage.Bind(bound);
        }
        // Columns only a float32 writer reads after the split are spilled as float32 (the rule: SpillNarrowing).
        if (splitInput is not null) SpillNarrowing.Apply(options, format, stages, splitInput, bound);
        // The same columns are read only as float32 before the split too, so a source keeping float32 values keeps no text
        // for rows it holds as float32 (no source reads a row before this).
        context.Float32Only.Names = SpillNarrowing.Float32OnlyNames(stages, splitInput);
        bool hasLabel = !options.NoLabel && !options.KeepsColumns;
        var store = registry.Stores.CreateOutput(options);
        var layout = new RunLayout(store, ctx =>
        {
            // Each split's target next to what it got, in run.json too (it used to be set after the commit, so run.json had 0).
            if (command == "convert") SetTargetFractions(ctx.Report, options);
            return RunRecord.From(options, ctx, command).ToJson();
        }, report => EmptyRun.Check(report, options, command));
        context.Report.Channel = format.Channel(options);
        var sink = format.CreateSink(new FormatSinkContext(options, store, hasLabel, layout) { Stages = stages });
        await using var disposeSink = sink;
        // The sink checks the schema before the store touches the output, so a refused format leaves nothing behind.
        await sink.OpenAsync(bound, context, cancellationToken).ConfigureAwait(false);
        await store.PrepareAsync(options.Overwrite, cancellationToken).ConfigureAwait(false);
        try
        {
            var trace = RunTrace.On ? new StageTimer() : null;
            RunTrace.Line("stages start");
            // The JSON warm-up runs once the input is read: while parsing, both cores are busy; the split that follows
            // (hash order, cut-offs) runs on one. A planned time split started it before its first pass instead.
            IAsyncEnumerable<RecordBatch> stream = ReadAllAsync(sources, context, warmingUp ? null : () => JsonWarmUp.Start(options, command), cancellationToken);
            if (trace is not null) stream = trace.Wrap("read", stream);
            foreach (var stage in stages)
            {
                stream = stage.RunAsync(stream, context, cancellationToken);
                if (trace is not null) stream = trace.Wrap(stage.GetType().Name, stream);
            }
            var write = Stopwatch.StartNew();
            write.Stop();
            await foreach (var batch in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                write.Start();
                await sink.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                write.Stop();
            }
            context.Diagnostics.CountRowsWithoutText(context.Float32Only.RowsWithoutText);
            var commit = Stopwatch.StartNew();
            RunTrace.Line("last batch written");
            // Data files are finished and published now: an s3:// output completes its uploads here.
            context.BeginPhase(Pipeline.InputFiles.IsUri(options.Output) ? "upload" : "commit");
            await sink.CommitAsync(cancellationToken).ConfigureAwait(false);
            if (trace is not null)
            {
                trace.Print();
                Console.Error.WriteLine($"trace: sink format {write.Elapsed.TotalSeconds:0.000} s, commit {commit.Elapsed.TotalSeconds:0.000} s");
                Console.Error.WriteLine($"trace: GCs gen0 {GC.CollectionCount(0)} gen1 {GC.CollectionCount(1)} gen2 {GC.CollectionCount(2)}, pause {GC.GetTotalPauseDuration().TotalSeconds:0.000} s, allocated {GC.GetTotalAllocatedBytes() >> 20} MiB");
            }
        }
        catch
        {
            await sink.AbortAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The split assigner of the options.</summary>
    public static ISplitAssigner CreateAssigner(ConvertOptions options, RunContext? context = null) => (options.Assignment, options.SplitBy) switch
    {
        _ when options.Folds > 0 => new KFoldAssigner(options.Folds,
            options.SplitBy switch
            {
                SplitMethod.Time => FoldMethod.Time,
                SplitMethod.Group => FoldMethod.Group,
                _ when options.Stratify is not null => FoldMethod.Stratified,
                _ => FoldMethod.Random,
            },
            options.Seed,
            options.Test > 0 ? CreateExactAssigner(options with { Train = 1 - options.Test, Validation = 0 }, context) : null,
            options.SplitBy switch { SplitMethod.Time => options.TimeColumn, SplitMethod.Group => options.GroupColumn, _ => options.Stratify }),
        (Assignment.Stable, SplitMethod.Group) => new StableSplitAssigner(options.Fractions, options.Seed, options.GroupColumn),
        (Assignment.Stable, _) => new StableSplitAssigner(options.Fractions, options.Seed, options.KeyColumn),
        _ => CreateExactAssigner(options, context),
    };

    private static ISplitAssigner CreateExactAssigner(ConvertOptions options, RunContext? context) => options.SplitBy switch
    {
        SplitMethod.Time => new TimeSplitAssigner(options.TimeColumn!, options.Fractions, options.Cutoffs.Count > 0 ? options.Cutoffs : null, options.Gap, options.EffectiveShuffle),
        SplitMethod.Group => new GroupSplitAssigner(options.GroupColumn!, options.Fractions, options.Seed, options.Stratify),
        SplitMethod.NoisyClean => new NoisyCleanAssigner(options.NoisyApproach, options.Fractions, options.NoisyValidation, options.Seed,
            options.NoisyColumn, context?.NoisySources, options.GroupColumn),
        _ => new RandomSplitAssigner(options.Fractions, options.Seed, options.Stratify),
    };

    /// <summary>The columns whose values the run reads besides writing them (see <see cref="SourceOptions.ValueColumns"/>).</summary>
    private static string[] ValueColumns(ConvertOptions options)
        => new[] { options.NoLabel ? null : options.Label, options.TimeColumn, options.GroupColumn, options.Stratify, options.NoisyColumn, options.SeriesColumn, options.KeyColumn }
            .Concat(options.DeepArCat).Concat(options.Encodings.Keys).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Expands inputs, opens every source and checks they share one schema. Returns the unified schema, the sources
    /// reading in it, and the sources as opened (both in source-index order).
    /// </summary>
    /// <summary>The run's inputs, one path each (patterns and prefixes expanded): the clean inputs, then the noisy ones.</summary>
    internal static (IReadOnlyList<string> Paths, int CleanCount) InputPaths(ConvertOptions options, InputFiles files)
    {
        // An image folder (or s3:// prefix) is one input of many files, not a list of inputs: image inputs are not expanded.
        IReadOnlyList<string> Expand(IReadOnlyList<string> inputs) => options.FormatTraits.ReadsImages ? inputs : files.Expand(inputs);
        var clean = Expand(options.Inputs);
        IReadOnlyList<string> all = options.NoisyInputs.Count == 0 ? clean : [.. clean, .. Expand(options.NoisyInputs)];
        RefuseRepeats(all, clean.Count);
        return (all, clean.Count);
    }

    /// <summary>
    /// Refuses a file named twice among the inputs (by two arguments, a pattern or folder and the file itself, or as a clean
    /// and a --noisy input): it was read twice, so its rows could land in two splits, a leak no split rule can see.
    /// </summary>
    /// <exception cref="PipelineValidationException">A repeated file, one problem each.</exception>
    private static void RefuseRepeats(IReadOnlyList<string> paths, int cleanCount)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<string>();
        var named = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < paths.Count; i++)
        {
            string key = InputFiles.IsUri(paths[i]) ? paths[i] : Path.GetFullPath(paths[i]);
            if (!first.TryAdd(key, i) && named.Add(key))
            {
                int j = first[key];
                problems.Add(j < cleanCount && i >= cleanCount
                    ? $"The input '{paths[i]}' is both a clean input and a --noisy one; a file is one or the other, read once."
                    : $"The input '{paths[i]}' is named more than once (a pattern or folder may hold it already); each file is read once, so its rows cannot land in two splits: leave out the repeat.");
            }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
    }

    internal static async Task<(Schema Schema, IReadOnlyList<IRecordSource> Sources, IReadOnlyList<IRecordSource> Opened)> OpenSourcesAsync(ConvertOptions options, SourceRegistry registry, RunContext context, CancellationToken cancellationToken, RowText rowText = RowText.Keep, bool fingerprints = true,
        Func<IReadOnlyList<string>, IReadOnlyList<IRecordSource>, CancellationToken, Task>? beforeOpening = null)
    {
        var (paths, cleanCount) = InputPaths(options, context.Files);
        context.NoisySources = Enumerable.Range(cleanCount, paths.Count - cleanCount).ToHashSet();
        var needed = ColumnPruning.Needed(options);
        // A row's text is kept so the writer copies it instead of formatting its values (or, for float32 RecordIO, with
        // its values as float32). A split that spills writes values, so a run whose split is expected to spill, and a
        // scaled-out scan task (its work objects hold values), parse each field once, into its value, with two exceptions.
        if (rowText == RowText.UnlessSplitSpills) context.EstimatedInputBytes = SpillFolder.EstimatedBytes(paths, context.Files);
        bool expectsSpill = rowText == RowText.UnlessSplitSpills && SpillFolder.ExpectsSplitSpill(options.Memory, context.EstimatedInputBytes);
        // A writer that copies rows' text (label-first CSV) keeps it: the split spills the text in place of the columns it
        // carries (SplitStage.SpillText), and the writer copies it instead of formatting every number read back.
        bool keepText = options.FormatTraits.KeepsRowText && rowText is not (RowText.Drop or RowText.Float32Alone) && (!expectsSpill || options.FormatTraits.CopiesCsvText);
        // A float32 writer keeps each row's values as float32 alone where nothing reads the text (the spill writes them as
        // they are: no double parsed, widened or narrowed on the way).
        // A scaled-out scan task of such a writer (RowText.Float32Alone) does the same: its rows objects hold float32 values.
        bool float32Alone = options.FormatTraits.KeepsRowText && (expectsSpill || rowText == RowText.Float32Alone) && options.Source.KeepFloat32;
        if (keepText) context.Diagnostics.CountRowTextKept();
        var sourceOptions = options.ReadingSource with { OnlyColumns = needed, Dropped = options.Drop.Count == 0 ? null : options.Drop.ToHashSet(StringComparer.Ordinal), KeepRawRecords = keepText || float32Alone, Float32AloneOnly = float32Alone, ValueColumns = ValueColumns(options), Float32Only = context.Float32Only, Files = context.Files, BadRows = context.BadRows };
        var sources = paths.Select(p => registry.Create(p, sourceOptions)).ToList();
        // A scaled-out scan task gives sources what other tasks learned opening them (ISharedOpen); they then open in order.
        if (beforeOpening is not null) await beforeOpening(paths, sources, cancellationToken).ConfigureAwait(false);
        var schemas = new List<Schema>();
        var opened = new List<Schema>();
        foreach (var s in sources)
        {
            opened.Add(await s.OpenAsync(cancellationToken).ConfigureAwait(false));
            schemas.Add(ColumnPruning.Prune(opened[^1], needed));
            if (s is LibSvmSource { QidTokensIgnored: > 0 } libsvm)
            {
                context.Report.Warnings.Add($"{libsvm.Description}: ignored {libsvm.QidTokensIgnored:N0} qid: tokens (query groups of ranking data are not used).");
            }
        }
        context.Inputs.AddRange(paths);
        context.RowLocators.AddRange(sources.Select(s => (Func<long, (long, string?)>)s.LocateRow));
        if (fingerprints)
        {
            context.Fingerprints = Task.Run(() =>
            {
                var remote = context.Files.RemoteFingerprints(paths, i => sources[i].IsSingleFile);
                return paths.Select((p, i) => (p, i)).Where(x => sources[x.i].IsSingleFile).Select(x => remote[x.i] ?? InputFingerprint.Of(x.p, context.Files)).ToList();
            }, cancellationToken);
        }
        var unified = Unify(schemas, paths, options.Drop.ToHashSet(StringComparer.Ordinal));
        // Where a column widens from integers to floats, the first input whose own column is float: the refusal of an
        // integer a double cannot hold names it.
        var floatIn = unified.Fields.Where(f => f.Kind == ColumnKind.Float64)
            .Select(f => (f.Name, Path: paths.Where((_, i) => schemas[i].IndexOf(f.Name) is int c && c >= 0 && schemas[i][c].Kind == ColumnKind.Float64).FirstOrDefault()))
            .Where(x => x.Path is not null).ToDictionary(x => x.Name, x => x.Path!, StringComparer.Ordinal);
        var widened = sources.Select((s, i) => opened[i].Equals(unified) ? s : new WidenedSource(s, unified, floatIn)).ToList();
        return (unified, widened, sources);
    }

    /// <summary>
    /// One schema for all inputs, matched by column name: integers widen to floats (and anything to text)
    /// where files disagree, sparse columns take the widest width. A column that only some inputs have is
    /// accepted when it is dropped (--drop), and reads as missing in the others; otherwise it is an error.
    /// </summary>
    internal static Schema Unify(IReadOnlyList<Schema> schemas, IReadOnlyList<string> paths, IReadOnlyCollection<string>? dropped = null)
    {
        var fields = schemas[0].Fields.ToList();
        var index = fields.Select((f, i) => (f.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        for (int s = 1; s < schemas.Count; s++)
        {
            foreach (var f in schemas[s].Fields)
            {
                if (!index.TryGetValue(f.Name, out int i)) { index[f.Name] = fields.Count; fields.Add(f); continue; }
                var a = fields[i].Kind;
                var b = f.Kind;
                // Sparse inputs (LibSVM) are as wide as their largest index: the widest file sets the width.
                if (a == ColumnKind.Sparse && b == ColumnKind.Sparse) { fields[i] = fields[i] with { Width = Math.Max(fields[i].Width, f.Width) }; continue; }
                if (a == b) continue;
                if (a is ColumnKind.Int64 or ColumnKind.Float64 && b is ColumnKind.Int64 or ColumnKind.Float64) fields[i] = fields[i] with { Kind = ColumnKind.Float64 };
                else if (a is ColumnKind.String || b is ColumnKind.String) fields[i] = fields[i] with { Kind = ColumnKind.String, KindEvidence = a is ColumnKind.String ? fields[i].KindEvidence : f.KindEvidence };
                else
                {
                    throw new PipelineValidationException(
                        $"Column '{fields[i].Name}' is {a} in {paths[0]} but {b} in {paths[s]}; set one type for all inputs with --column-type {fields[i].Name}=float|int|string|bool|timestamp.");
                }
            }
        }
        var problems = new List<string>();
        for (int s = 0; s < schemas.Count; s++)
        {
            var missing = fields.Where(f => schemas[s].IndexOf(f.Name) < 0 && !(dropped?.Contains(f.Name) ?? false)).Select(f => f.Name).ToList();
            if (missing.Count > 0)
            {
                problems.Add($"The inputs do not share one schema: {paths[s]} has no column {string.Join(", ", missing.Select(m => $"'{m}'"))}, which other inputs have; expected the same columns in every input (add --drop {string.Join(",", missing)} to leave such columns out).");
            }
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        return new Schema(fields);
    }

    private static async IAsyncEnumerable<RecordBatch> ReadAllAsync(IReadOnlyList<IRecordSource> sources, RunContext context, Action? whenRead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long rows = 0;
        context.BeginPhase("read");
        for (int i = 0; i < sources.Count; i++)
        {
            await foreach (var batch in sources[i].ReadAsync(i, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                rows += batch.RowCount;
                // Rows a source skipped were read too (--on-bad-row): they count, though no batch holds them.
                context.Report.RowsRead = rows + context.BadRows.RefusedAtSource;
                context.OnRead(rows);
                yield return batch;
            }
        }
        context.Report.RowsRead = rows + context.BadRows.RefusedAtSource;
        whenRead?.Invoke();
    }

    /// <summary>Inclusive time spent producing each stage's batches (DATAPREP_TRACE=1), for profiling.</summary>
    private sealed class StageTimer
    {
        private readonly List<(string Name, Stopwatch Clock)> _clocks = [];

        public async IAsyncEnumerable<RecordBatch> Wrap(string name, IAsyncEnumerable<RecordBatch> inner)
        {
            var clock = new Stopwatch();
            _clocks.Add((name, clock));
            await using var e = inner.GetAsyncEnumerator();
            while (true)
            {
                clock.Start();
                bool more = await e.MoveNextAsync().ConfigureAwait(false);
                clock.Stop();
                if (!more) yield break;
                yield return e.Current;
            }
        }

        public void Print()
        {
            foreach (var (name, clock) in _clocks) Console.Error.WriteLine($"trace: up to {name} {clock.Elapsed.TotalSeconds:0.000} s (inclusive)");
        }
    }

    /// <summary>Converts a source's batches to the unified schema (integers to floats, values to text).</summary>
    /// <remarks>
    /// An integer a double cannot hold (beyond 2^53, and not one of the few it does) is refused, as a float column whose
    /// kind was inferred refuses it in text (<see cref="ValueParser.IsInexactInteger"/>): it would become another integer.
    /// <paramref name="floatIn"/> names, by column, the input whose column is float.
    /// </remarks>
    private sealed class WidenedSource(IRecordSource inner, Schema unified, IReadOnlyDictionary<string, string> floatIn) : IRecordSource
    {
        public string Description => inner.Description;
        public ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(unified);

        public IReadOnlyList<long> Parts => inner.Parts;

        public IReadOnlyList<PartRead> PartsRead => inner.PartsRead;

        public DataFormatException InWholeInput(DataFormatException error) => inner.InWholeInput(error);

        public IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, CancellationToken cancellationToken = default)
            => ReadPartsAsync(sourceIndex, 0, Parts.Count, cancellationToken);

        public async IAsyncEnumerable<RecordBatch> ReadPartsAsync(int sourceIndex, int first, int end, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var b in inner.ReadPartsAsync(sourceIndex, first, end, cancellationToken).ConfigureAwait(false))
            {
                var cols = new Column[unified.Count];
                for (int c = 0; c < cols.Length; c++)
                {
                    // Columns are matched by name; a column this input lacks (a dropped one) reads as missing.
                    int own = b.Schema.IndexOf(unified[c].Name);
                    cols[c] = own >= 0 ? Convert(b.Columns[own], unified[c], b.Rows) : Missing(unified[c], b.RowCount);
                }
                yield return new RecordBatch(unified, cols, b.RowCount, b.Rows);
            }
        }

        private DataFormatException Inexact(string column, long value, double becomes, long row)
            => Throw.Format(
                ValueParser.InexactIntegerMessage(value.ToString(System.Globalization.CultureInfo.InvariantCulture), $"the column is integer here but float in {floatIn.GetValueOrDefault(column, "another input")}", becomes, column),
                inner.Description, row: row, column: column);

        private static Column Missing(Field field, int rows)
        {
            var nulls = new bool[rows];
            Array.Fill(nulls, true);
            return field.Kind switch
            {
                ColumnKind.Float64 => new Float64Column(new double[rows], nulls, rows),
                ColumnKind.Int64 => new Int64Column(new long[rows], nulls, rows),
                ColumnKind.Boolean => new BooleanColumn(new bool[rows], nulls, rows),
                ColumnKind.Timestamp => new TimestampColumn(new long[rows], nulls, rows),
                ColumnKind.Sparse => new SparseColumn(field.Width, new int[rows + 1], [], [], rows),
                ColumnKind.Binary => new BinaryColumn(new ReadOnlyMemory<byte>[rows], nulls, rows),
                _ => new StringColumn(new string?[rows]),
            };
        }

        private Column Convert(Column col, Field field, RowInfo rows)
        {
            var kind = field.Kind;
            if (col is SparseColumn s && kind == ColumnKind.Sparse) return s.Width == field.Width ? s : new SparseColumn(field.Width, s.RowOffsets, s.Indices, s.Values, s.Length);
            if (col.Kind == kind) return col;
            if (kind == ColumnKind.Float64 && col is Int64Column l)
            {
                var v = new double[l.Length];
                for (int i = 0; i < v.Length; i++)
                {
                    long x = l.Values[i];
                    v[i] = x;
                    if (!ValueParser.DoubleHolds(x, v[i]) && !l.IsNull(i)) throw Inexact(field.Name, x, v[i], rows.SourceRows[i]);
                }
                return new Float64Column(v, l.Nulls, l.Length);
            }
            if (kind == ColumnKind.String)
            {
                var v = new string?[col.Length];
                for (int i = 0; i < v.Length; i++)
                {
                    v[i] = col.IsNull(i) ? null : col switch
                    {
                        Int64Column x => x.Values[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Float64Column x => x.Values[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                        BooleanColumn x => x.Values[i] ? "true" : "false",
                        TimestampColumn x => new DateTime(x.Values[i], DateTimeKind.Utc).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                        _ => throw new NotSupportedException(col.Kind.ToString()),
                    };
                }
                return new StringColumn(v);
            }
            throw new NotSupportedException($"{col.Kind} → {kind}");
        }
    }
}

/// <summary>Whether a run's sources keep each row's text for the writer (<see cref="SourceOptions.KeepRawRecords"/>, for formats that copy it).</summary>
internal enum RowText
{
    /// <summary>Keep it: nothing spills (<c>dataprep apply</c>), or a scaled-out scan task's rows objects carry it (label-first CSV: <c>ScaleRun.RowTextColumns</c>).</summary>
    Keep,

    /// <summary>Keep it unless the split is expected to spill the inputs (<see cref="SpillFolder.ExpectsSplitSpill"/>), which writes values.</summary>
    UnlessSplitSpills,

    /// <summary>Never: the rows go to work objects of values (a scaled-out scan task of any other format).</summary>
    Drop,

    /// <summary>
    /// Never, but a float32 writer's rows are kept as float32 values alone where the run's rule allows it (a scaled-out
    /// scan task of RecordIO-protobuf, whose rows objects hold those columns as float32: <c>ScaleRun.RowFloat32Columns</c>).
    /// </summary>
    Float32Alone,
}
