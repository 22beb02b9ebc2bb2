using System.Runtime.CompilerServices;
using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// What every task of a scaled-out run sets up the same way: the checked options, the format, the sources and their
/// unified schema, the stages (split by the run's split stage into those before it, run by the scan step, and those
/// after it, run by the encode step), the work area and the run's fingerprint.
/// </summary>
internal sealed class ScaleRun
{
    private ScaleRun(ConvertOptions options, OutputFormatDefinition format, EncodingRecord? earlier, DataPrepRegistry registry, ScaleOptions scale, RunContext context)
    {
        Options = options;
        Format = format;
        Earlier = earlier;
        Registry = registry;
        Scale = scale;
        Context = context;
        Steps = ScaleStep.Of(scale.Workers);
    }

    public ConvertOptions Options { get; private set; }
    public OutputFormatDefinition Format { get; }
    public EncodingRecord? Earlier { get; }
    public DataPrepRegistry Registry { get; }
    public ScaleOptions Scale { get; }
    public RunContext Context { get; }
    public IReadOnlyList<ScaleStep> Steps { get; }
    public int Workers => Scale.Workers;
    public Schema Schema { get; private set; } = null!;
    public IReadOnlyList<IRecordSource> Sources { get; private set; } = [];
    public IReadOnlyList<IRecordSource> Opened { get; private set; } = [];
    public ScaleWork Work { get; private set; } = null!;

    /// <summary>The CSV byte ranges the scan tasks read, once a step after the scan has checked them (none before).</summary>
    public ScanRanges Ranges { get; set; } = ScanRanges.None;

    /// <summary>How many warnings opening the sources gave (every scan task opens them; scan task 0 reports them once).</summary>
    public int OpenWarnings { get; private set; }
    public bool HasLabel => !Options.NoLabel && !Options.KeepsColumns;

    /// <summary>
    /// Rows go to the bucket of their series (<see cref="BucketsBySeries"/>), else of their shuffle hash (a shuffled run),
    /// else to the bucket of the scan task that read them.
    /// </summary>
    public bool BucketsByHash => Options.EffectiveShuffle && !BucketsBySeries;

    /// <summary>
    /// A format with one record per series (DeepAR) buckets rows by <c>hash(seed, "series", series key)</c>, so that every
    /// point of a series meets in one encode task.
    /// </summary>
    public bool BucketsBySeries => Format.Traits.NeedsSeries;

    /// <summary>The bucket of the series of row <paramref name="row"/> of <paramref name="series"/> (the series column).</summary>
    /// <remarks>The key is the one the split stage gives the sink (<c>RowInfo.GroupKeys</c>; a missing key is the series "").</remarks>
    public int SeriesBucketOf(KeyedHash hash, Column series, int row)
        => BucketOfHash(hash.Hash(series.IsNull(row) ? "" : RandomSplitAssigner.KeyOf(series, row)), Workers);

    /// <summary>The hash that <see cref="SeriesBucketOf"/> takes.</summary>
    public KeyedHash SeriesHash() => new(Options.Seed, "series");

    /// <summary>
    /// Whether the plan needs nothing from the scan tasks but the rows at its cuts: an unstratified random split without
    /// folds whose plan reads no key column (no encoder to fit, no lineage group or time). Its scan tasks write their row
    /// ids in sections by split hash (<see cref="IdSections"/>) instead of their key columns, and the plan reads only the
    /// sections that hold a cut. The scan and the plan decide it from the same options.
    /// </summary>
    public static bool CutsFromIdSections(PlanKind plan, ISplitAssigner assigner, int[] keys) => plan == PlanKind.Cuts && assigner is RandomSplitAssigner && keys.Length == 0;

    /// <summary>
    /// How the plan step decides the split (<see cref="PlanKind"/>). Every plan but <see cref="PlanKind.Routing"/> holds no
    /// rows: what the encoders learn needs no row order (sets of values, learned from one row per new (column, split,
    /// value), and exact means for <c>--missing fill:mean</c>, <see cref="ExactMean"/>). Such a plan works for shuffled
    /// runs (a bucket holds one range of shuffle hashes, so ordering it by them gives the output order restricted to the
    /// bucket) and unshuffled ones (a bucket is one scan task's rows in input order, and the buckets in task order are the
    /// input order); not for the series formats (DeepAR), which bucket by series. Random folds (after a random test split,
    /// or none) are cut too, shuffled or not (a fold is one more channel, in the same order); stratified folds (after a
    /// stratified test split, or none) by cuts per class. A group split (without folds), and a noisy/clean split by group,
    /// is decided from its group table, whose memory grows with the groups, not the rows; so are group folds (after a group
    /// test split, or none). A noisy/clean split without groups is cut per side (clean rows, noisy rows), as a stratified
    /// split is per class.
    /// </summary>
    public PlanKind PlanOf(SplitStage split) => BucketsBySeries ? PlanKind.Routing : split.Assigner switch
    {
        StableSplitAssigner => PlanKind.RowRule,
        RandomSplitAssigner { Stratified: false } => PlanKind.Cuts,
        RandomSplitAssigner => PlanKind.StratifiedCuts,
        GroupSplitAssigner => PlanKind.Groups,
        NoisyCleanAssigner { GroupColumn: not null } => PlanKind.NoisyGroups,
        NoisyCleanAssigner => PlanKind.NoisyCuts,
        KFoldAssigner { Method: FoldMethod.Random, TestCarver: null or RandomSplitAssigner { Stratified: false } } => PlanKind.Cuts,
        KFoldAssigner { Method: FoldMethod.Stratified, TestCarver: null or RandomSplitAssigner { Stratified: true } } => PlanKind.StratifiedCuts,
        // Group folds after a group test split (stratified or not), or none: the CLI builds only these. Another carver (a
        // random or time split, only through the library) decides its pool row by row and keeps the routing plan.
        KFoldAssigner { Method: FoldMethod.Group, TestCarver: null or GroupSplitAssigner } => PlanKind.GroupFolds,
        _ => PlanKind.Routing,
    };

    /// <summary>
    /// Whether the plan step only finds the cut-offs of a time split (<see cref="TimeCuts"/>) instead of holding every
    /// row: a time split without folds, for tables and for series formats (DeepAR: a bucket holds whole series, and the
    /// cut-offs tag each point as one process does). Its encoders learn sets of values and exact means, as the other bounded
    /// plans' do. The time order within a bucket is the output order restricted to it (see <see cref="TimeCutAssigner"/>).
    /// </summary>
    public bool PlansTimeByCuts(SplitStage split)
        => split.Assigner is TimeSplitAssigner && Options.Folds == 0;

    /// <summary>
    /// Whether the plan step finds time folds' starts (<see cref="TimeFoldCut"/>) and the time test split's cut-offs, if
    /// any, instead of holding every row: time folds without series. The order is the split stage's, as for random folds.
    /// </summary>
    public bool PlansTimeFoldsByCuts(SplitStage split)
        => split.Assigner is KFoldAssigner { Method: FoldMethod.Time, TestCarver: null or TimeSplitAssigner } && !BucketsBySeries;

    public ScaleStep Step(string name) => Steps.First(s => s.Name == name);

    /// <summary>Checks the options for a scaled-out run without touching the data (for <c>--steps</c>).</summary>
    public static (ConvertOptions Options, OutputFormatDefinition Format, EncodingRecord? Earlier) Check(ConvertOptions options, ScaleOptions scale, DataPrepRegistry registry)
    {
        if (scale.Workers < 1 || scale.Workers > ScaleOptions.MaxWorkers)
        {
            throw new PipelineValidationException($"--workers {scale.Workers}: expected a number from 1 to {ScaleOptions.MaxWorkers}.");
        }
        var (prepared, format, earlier) = ConvertRunner.Prepare(options, registry);
        if (!format.RunsAsWorkers)
        {
            throw new PipelineValidationException(
                $"--workers: --format {format.Name} cannot run as workers yet; formats that can: {string.Join(", ", registry.Formats.All.Where(f => f.RunsAsWorkers).Select(f => f.Name))}. Run without --workers for this format.");
        }
        return (prepared, format, earlier);
    }

    /// <summary>
    /// Sets a task up. Only the scan step opens the inputs (a sample of each, for the schema); the steps after it take the
    /// schema from scan task 0's report (<see cref="UseScannedSchema"/>), and the scan tasks share what opening each input
    /// learned (<see cref="SharedOpens"/>), so a run samples each input about once, not 5N times.
    /// The image formats' encode and commit steps open them too (their stages read the images through them).
    /// </summary>
    public static async Task<ScaleRun> OpenAsync(ConvertOptions options, ScaleOptions scale, DataPrepRegistry registry, IProgress<RunProgress>? progress, string step, int task, CancellationToken cancellationToken)
    {
        var (prepared, format, earlier) = Check(options, scale, registry);
        // The image stages after the split read the image files through their sources (encode), and the image sink needs
        // the class map they decide (commit): those steps of an image format open the inputs too.
        bool openSources = step == ScaleStep.Scan || (format.Traits.ReadsImages && step is ScaleStep.Encode or ScaleStep.Commit);
        var context = new RunContext(progress, registry.Diagnostics, registry.Stores.Inputs(prepared.S3));
        var run = new ScaleRun(prepared, format, earlier, registry, scale, context);
        var area = registry.Stores.CreateWorkArea(scale.WorkLocation(prepared.Output), prepared);
        // The fingerprint needs the inputs' names and sizes, not their content: a scan task takes it before it opens them,
        // so that the scan tasks can share what opening each input learned through the work area (SharedOpens).
        void UseWork(IReadOnlyList<string> paths)
        {
            if (run.Work is not null) return;
            var sizes = new long[paths.Count];
            run.Work = new ScaleWork(area, ScaleWork.FingerprintOf(prepared, scale.Workers, paths, context.Files, sizes));
            run.Sizes = sizes;
        }
        if (openSources)
        {
            // The scan task's log of skipped rows (--on-bad-row): its counts go into the task's report, its quarantined
            // rows into a work object, both joined by the commit in task order (ScaleTasks.ScanAsync disposes it).
            context.BadRows = new BadRows(prepared.Source.OnBadRow, context.Report, prepared.Memory.TempDirectory);
            // A writer that copies rows' text (label-first CSV) keeps it: the scan tasks' rows objects may carry it (RowTextColumns).
            // A float32 writer (RecordIO-protobuf) keeps rows as float32 values alone: its rows objects hold them (RowFloat32Columns).
            var rowText = format.Traits.CopiesCsvText ? RowText.Keep : prepared.Source.KeepFloat32 ? RowText.Float32Alone : RowText.Drop;
            var (schema, sources, opened) = await ConvertRunner.OpenSourcesAsync(prepared, registry.Sources, context, cancellationToken, rowText, fingerprints: false,
                beforeOpening: step != ScaleStep.Scan ? null : async (paths, created, ct) =>
                {
                    UseWork(paths);
                    await SharedOpens.AdoptAsync(run.Work, run.Sizes, created, task, scale.Workers, prepared.Memory.EffectiveBudget, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
            if (earlier is not null) ConvertRunner.CheckCompatible(schema, earlier, prepared.Like!);
            run.Schema = schema;
            run.Options = ConvertRunner.WithRowBytes(prepared, opened);
            run.OpenWarnings = context.Report.Warnings.Count;
            run.Sources = sources;
            run.Opened = opened;
        }
        else
        {
            // The inputs as OpenSourcesAsync expands them (clean, then noisy), without opening them.
            var (paths, cleanCount) = ConvertRunner.InputPaths(prepared, context.Files);
            context.NoisySources = Enumerable.Range(cleanCount, paths.Count - cleanCount).ToHashSet();
            context.Inputs.AddRange(paths);
        }
        UseWork(context.Inputs);
        return run;
    }

    /// <summary>The schema scan task 0 learned (every scan task learns the same one), for the steps that do not open the inputs.</summary>
    public void UseScannedSchema(TaskReport scan0, string who)
    {
        if (Schema is not null) return;
        // Batches the split stage and the writer make hold as much text as the scan's (see ConvertOptions.RowBytes).
        Options = Options with { RowBytes = scan0.RowBytes };
        Schema = new Schema(scan0.Schema ?? throw new PipelineValidationException($"{who}: scan task 0's report has no schema; run the scan step again with this version."));
    }

    /// <summary>The run's stages around a split stage: those before it, and it with those after it; all bound.</summary>
    public (IReadOnlyList<IPipelineStage> Before, IReadOnlyList<IPipelineStage> From, Schema SplitInput) Stages(SplitStage split, EncodingRecord? fitted)
    {
        var stages = Format.CreateStages(new FormatStageContext(Options, split, fitted, Opened));
        int at = stages.ToList().IndexOf(split);
        if (at < 0) throw new InvalidOperationException($"The stages of --format {Format.Name} have no split stage.");
        var bound = Schema;
        Schema? splitInput = null;
        for (int i = 0; i < stages.Count; i++)
        {
            if (i == at) splitInput = bound;
            bound = stages[i].Bind(bound);
        }
        return (stages.Take(at).ToList(), stages.Skip(at).ToList(), splitInput!);
    }

    /// <summary>
    /// The columns a scan task's rows objects leave to the rows' text, with the writer's records of rows without text and
    /// the text's field names (null: the objects hold values): <c>SpillNarrowing.TextColumns</c> for the run's own stages
    /// and maps given (<c>--like</c>), less every column the plan step reads (<see cref="KeyColumns"/>), which the encode
    /// tasks' assigners may read too. Options, format and schema decide it, so the scan tasks that write the objects and
    /// the encode tasks that read them agree. The encode tasks then copy each row's text, as one process does, instead
    /// of formatting every number.
    /// </summary>
    public (bool[] Columns, RowRecords Records, string[] Names)? RowTextColumns()
    {
        var split = RunSplit();
        var (_, from, splitInput) = Stages(split, Earlier);
        return RowTextColumns(split, from, splitInput);
    }

    /// <summary>
    /// <see cref="RowTextColumns()"/> from the run's own split stage and the stages from it, as <see cref="Stages"/> gives them
    /// with the maps given (a scan task has them already).
    /// </summary>
    public (bool[] Columns, RowRecords Records, string[] Names)? RowTextColumns(SplitStage split, IReadOnlyList<IPipelineStage> from, Schema splitInput)
        => SpillNarrowing.TextColumns(Options, Format, from, splitInput, OutputOf(from, splitInput)) is var (columns, records) && LessKeyColumns(columns, split, from, splitInput) is { } left
            ? (left, records, splitInput.Fields.Select(f => f.Name).ToArray())
            : null;

    /// <summary>
    /// The columns a scan task's rows objects hold as float32 (null: none): <c>SpillNarrowing.Float32Columns</c> for the
    /// run's own stages and maps given, less every column the plan step reads (<see cref="KeyColumns"/>), as
    /// <see cref="RowTextColumns()"/> for text. Options, format and schema decide it, so scan and encode tasks agree; the
    /// output does not change (a float32 writer reads those columns only as float32).
    /// </summary>
    public bool[]? RowFloat32Columns()
    {
        var split = RunSplit();
        var (_, from, splitInput) = Stages(split, Earlier);
        return RowFloat32Columns(split, from, splitInput);
    }

    /// <summary><see cref="RowFloat32Columns()"/> from the run's own split stage and the stages from it (a scan task has them already).</summary>
    public bool[]? RowFloat32Columns(SplitStage split, IReadOnlyList<IPipelineStage> from, Schema splitInput)
        => SpillNarrowing.Float32Columns(Options, Format, from, splitInput, OutputOf(from, splitInput)) is { } narrow ? LessKeyColumns(narrow, split, from, splitInput) : null;

    /// <summary>The schema the stages after the split stage (the first of <paramref name="from"/>) hand the sink.</summary>
    private static Schema OutputOf(IReadOnlyList<IPipelineStage> from, Schema splitInput)
    {
        var output = splitInput;
        foreach (var stage in from.Skip(1)) output = stage.Bind(output);
        return output;
    }

    /// <summary>A rows objects' rule's columns less every column the plan step reads (<see cref="KeyColumns"/>); null when none is left.</summary>
    private bool[]? LessKeyColumns(bool[] columns, SplitStage split, IReadOnlyList<IPipelineStage> from, Schema splitInput)
    {
        foreach (int k in KeyColumns(split, from, splitInput)) columns[k] = false;
        return columns.Any(x => x) ? columns : null;
    }

    /// <summary>The run's own split stage (its assigner decides in the plan step).</summary>
    public SplitStage RunSplit() => ConvertRunner.CreateSplitStage(Options, Format, Context);

    /// <summary>The input columns the plan step needs: the assigner's keys, lineage group and time, and what the encoders fit on.</summary>
    public int[] KeyColumns(SplitStage split, IReadOnlyList<IPipelineStage> from, Schema splitInput)
    {
        var keys = new SortedSet<int>();
        if (split.Assigner.KeyColumns is { } k) keys.UnionWith(k);
        else keys.UnionWith(Enumerable.Range(0, splitInput.Count));
        foreach (var name in new[] { split.LineageGroup, split.LineageTime })
        {
            if (name is not null && splitInput.IndexOf(name) is var i and >= 0) keys.Add(i);
        }
        foreach (var encode in from.OfType<EncodeStage>()) keys.UnionWith(encode.FitColumnIndexes);
        return [.. keys];
    }

    /// <summary>Each input's size in bytes (as the fingerprint saw it).</summary>
    public long[] Sizes { get; private set; } = [];

    /// <summary>
    /// Units [First, End) of scan task <paramref name="task"/> (see <see cref="Units"/>): a contiguous share in input
    /// order, balanced by weight (a unit goes to the task in whose N-th of the total weight its middle lies), so tasks
    /// read about as much whatever the files' sizes. Every task computes the same shares from the same sizes.
    /// </summary>
    public static (int First, int End) ShareOf(IReadOnlyList<long> sizes, int workers, int task) => (FirstOf(sizes, workers, task), FirstOf(sizes, workers, task + 1));

    private static int FirstOf(IReadOnlyList<long> sizes, int workers, int task)
    {
        if (task <= 0) return 0;
        if (task >= workers) return sizes.Count;
        long total = sizes.Sum();
        if (total == 0) return (int)((long)task * sizes.Count / workers);
        // The first input whose middle lies at or past task/N of the bytes.
        long before = 0;
        for (int i = 0; i < sizes.Count; i++)
        {
            if ((UInt128)(ulong)(before * 2 + sizes[i]) * (ulong)workers >= (UInt128)(ulong)(total * 2) * (ulong)task) return i;
            before += sizes[i];
        }
        return sizes.Count;
    }

    /// <summary>
    /// The parts of the inputs, in input order, each with its weight: a file's size, or its share of it for a part
    /// (a Parquet row group's share of the file's rows). The scan step divides these among its tasks.
    /// </summary>
    public List<(int Source, int Part, long Weight)> Units()
    {
        var units = new List<(int, int, long)>();
        for (int i = 0; i < Sources.Count; i++)
        {
            var parts = Sources[i].Parts;
            long rows = parts.Sum();
            for (int p = 0; p < parts.Count; p++)
            {
                long weight = parts.Count == 1 || rows == 0 ? Sizes[i] : (long)((UInt128)(ulong)Sizes[i] * (ulong)parts[p] / (ulong)rows);
                units.Add((i, p, weight));
            }
        }
        return units;
    }

    /// <summary>
    /// Reads the scan task's units [first, end) of <see cref="Units"/> with their run-wide source indexes (so row ids are
    /// those of one process); consecutive parts of one input are one read.
    /// </summary>
    public async IAsyncEnumerable<RecordBatch> ReadAsync(IReadOnlyList<(int Source, int Part, long Weight)> units, int first, int end, Action<long> rowsRead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long rows = 0;
        for (int u = first; u < end;)
        {
            int i = units[u].Source, from = units[u].Part, to = from + 1;
            while (u + (to - from) < end && units[u + (to - from)].Source == i) to++;
            u += to - from;
            await foreach (var batch in Sources[i].ReadPartsAsync(i, from, to, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                rows += batch.RowCount;
                rowsRead(rows);
                Context.OnProgress("read", rows);
                yield return batch;
            }
        }
    }

    /// <summary>The bucket (encode task) of a row.</summary>
    public static int BucketOfHash(ulong hash, int workers) => (int)(((UInt128)hash * (ulong)workers) >> 64);
}

/// <summary>How a scaled-out run's plan step decides each row's split (<see cref="ScaleRun.PlanOf"/>).</summary>
internal enum PlanKind
{
    /// <summary>The plan loads the key columns of every row, lets the run's assigner decide, and routes every row.</summary>
    Routing,

    /// <summary>An unstratified random split: the plan finds its cuts (<see cref="RandomSplitCuts.Find"/>); encode tasks tag by them.</summary>
    Cuts,

    /// <summary>A stratified random split: the plan finds each class's cuts (<see cref="RandomSplitCuts.FindStratified"/>).</summary>
    StratifiedCuts,

    /// <summary>A split decided row by row from the row alone (stable assignment): encode tasks run the run's own assigner.</summary>
    RowRule,

    /// <summary>A time split: the plan finds its cut-offs (<see cref="TimeSplitCuts"/>); encode tasks tag by them (<see cref="TimeCutAssigner"/>).</summary>
    TimeCuts,

    /// <summary>
    /// A group split (not k-fold): the plan builds the group table (<see cref="GroupTable"/>: rows per group, per class when
    /// stratified) over the scan tasks' key columns, decides every group's split and writes the group → split table as a
    /// work object; encode tasks tag by it (<see cref="GroupAssigner"/>).
    /// </summary>
    Groups,

    /// <summary>
    /// A noisy/clean split by group: as <see cref="Groups"/>, the table counting each group's clean and noisy rows
    /// (<see cref="NoisyCleanAssigner.Decide"/>); encode tasks tag a row by its group and its side.
    /// </summary>
    NoisyGroups,

    /// <summary>
    /// A noisy/clean split without groups: each side (clean rows, noisy rows) is cut at its own fractions as a stratified
    /// split's classes are (<see cref="RandomSplitCuts.FindPerClass"/>,
    /// from the scan tasks' histograms of each side's split hashes); encode tasks tag a row by its side and its side's cuts
    /// (<see cref="NoisyCutAssigner"/>).
    /// </summary>
    NoisyCuts,

    /// <summary>
    /// Group k-fold (after a group test split, or none): as <see cref="Groups"/>, the test split decided from the group table,
    /// then each train group's fold from the table of train groups (<see cref="KFoldAssigner.GroupFolds"/>); the group table
    /// object carries each group's split and fold, and encode tasks tag a row's split and fold by its group.
    /// </summary>
    GroupFolds,

    /// <summary>
    /// An unstratified group split of more than <see cref="GroupSplitAssigner.ExactGroups"/> groups (decided at plan time, from
    /// <see cref="Groups"/>): the groups in hash order cut into ranges by rows (<see cref="GroupRangeWalk"/>), found without a
    /// table of every group; encode tasks tag a row by its group key's hash and the cuts (<see cref="GroupRangeAssigner"/>).
    /// </summary>
    GroupRanges,

    /// <summary>
    /// Group k-fold over more than 2^20 groups (<see cref="KFoldAssigner.UsesFoldRanges"/>, decided at plan time, from
    /// <see cref="GroupFolds"/>): the test split, if any, cut into hash ranges as <see cref="GroupRanges"/>, then the train
    /// groups in fold-hash order cut into K ranges by rows (<see cref="GroupRangeWalk"/>); no table of every group. Encode
    /// tasks tag a row's split and fold by its group key's hashes and the cuts (<see cref="GroupRangeAssigner"/>).
    /// </summary>
    GroupFoldRanges,
}
