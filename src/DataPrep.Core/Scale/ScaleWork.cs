using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// The keys of a scaled-out run's work area and its completion markers. Every key starts with the run's
/// fingerprint (options, inputs, worker count, tool version), so work of another run in the same area is never
/// read; a task's objects are complete once its marker <c>FP/done/STEP/TASK.json</c> exists (written last).
/// </summary>
internal sealed class ScaleWork(IWorkArea area, string fingerprint)
{
    public IWorkArea Area => area;

    public string Fingerprint => fingerprint;

    public static string Task(int task) => task.ToString("D5", CultureInfo.InvariantCulture);

    public string Key(string step, int task, string name) => $"{fingerprint}/{step}/{Task(task)}/{name}";

    public string Done(string step, int task) => $"{fingerprint}/done/{step}/{Task(task)}.json";

    /// <summary>The run's fingerprint: what every task must agree on. Fills <paramref name="sizes"/> with each input's size.</summary>
    public static string FingerprintOf(ConvertOptions options, int workers, IReadOnlyList<string> inputs, InputFiles files, long[] sizes)
    {
        var hash = new XxHash3();
        hash.Append(Encoding.UTF8.GetBytes(ToolInfo.Current.Version));
        // What decides the bytes, not how a task runs: connection settings, memory, threads, batch size and --overwrite
        // may differ between tasks (an engine gives the plan task more memory; a retried commit adds --overwrite).
        var deciding = options with { S3 = new S3Options(), Overwrite = false, Threads = 0, Memory = new MemoryOptions(), Source = options.Source with { Threads = 0, BatchRows = 0 } };
        hash.Append(JsonSerializer.SerializeToUtf8Bytes(deciding, ScaleJsonContext.Default.ConvertOptions));
        hash.Append(BitConverter.GetBytes(workers));
        // How CSV inputs are divided among the scan tasks (not in run.json: it does not change the output, but every
        // scan task must divide them alike).
        hash.Append(BitConverter.GetBytes(options.Source.RangeBytes));
        var remoteFingerprints = files.RemoteFingerprints(inputs, _ => !options.FormatTraits.ReadsImages);
        for (int i = 0; i < inputs.Count; i++)
        {
            var path = inputs[i];
            hash.Append(Encoding.UTF8.GetBytes(path));
            // Size and time stamp (an S3 object's size and ETag): a changed input is another run, without reading it.
            if (files.FileSystemOf(path) is { } remote)
            {
                if (options.FormatTraits.ReadsImages && (path.EndsWith('/') || !remote.Exists(path)))
                {
                    // An image prefix is one input of many objects: every object's key, size, ETag and time stamp, from
                    // its listing (one LIST per 1,000 keys, no HEAD per image), so an image replaced under its key is seen.
                    var objects = remote.ListFingerprints(path.EndsWith('/') ? path : path + "/");
                    sizes[i] = objects.Count;
                    foreach (var o in objects) hash.Append(Encoding.UTF8.GetBytes($"{o.Path}/{o.Bytes}/{o.XxHash3}/{o.ModifiedUtc.Ticks}\n"));
                    continue;
                }
                var f = remoteFingerprints[i] ?? remote.Fingerprint(path);
                sizes[i] = f.Bytes;
                hash.Append(Encoding.UTF8.GetBytes($"{f.Bytes}/{f.XxHash3}/{f.ModifiedUtc.Ticks}"));
            }
            else if (Directory.Exists(path))
            {
                // An image folder is one input of many files: every file's path below it, size and time stamp.
                long total = 0;
                foreach (var file in new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
                {
                    total += file.Length;
                    hash.Append(Encoding.UTF8.GetBytes($"{Path.GetRelativePath(path, file.FullName)}/{file.Length}/{file.LastWriteTimeUtc.Ticks}\n"));
                }
                sizes[i] = total;
            }
            else
            {
                var info = new FileInfo(path);
                sizes[i] = info.Exists ? info.Length : 0;
                hash.Append(Encoding.UTF8.GetBytes(info.Exists ? $"{info.Length}/{info.LastWriteTimeUtc.Ticks}" : "missing"));
            }
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    public async Task PutReportAsync(string step, int task, TaskReport report, CancellationToken cancellationToken)
    {
        report.Fingerprint = fingerprint;
        report.Step = step;
        report.Task = task;
        await area.PutAsync(Done(step, task), JsonSerializer.SerializeToUtf8Bytes(report, ScaleJsonContext.Default.TaskReport), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The reports of every task of a finished step; stops (exit 2) naming the step, the task and the cause when one is
    /// missing: the step has not finished, or the work area holds another run's work.
    /// </summary>
    public async Task<List<TaskReport>> ReportsAsync(ScaleStep step, string who, CancellationToken cancellationToken)
    {
        var reports = new List<TaskReport>();
        for (int t = 0; t < step.Tasks; t++)
        {
            var bytes = await area.GetAsync(Done(step.Name, t), cancellationToken).ConfigureAwait(false);
            if (bytes is null) throw await MissingAsync(step, t, who, cancellationToken).ConfigureAwait(false);
            var report = JsonSerializer.Deserialize(bytes, ScaleJsonContext.Default.TaskReport)
                ?? throw new PipelineValidationException($"{who}: the report of step {step.Name} task {t} in {area.Location} is empty.");
            if (report.Fingerprint != fingerprint)
            {
                throw new PipelineValidationException($"{who}: step {step.Name} task {t} ran with other options or inputs (fingerprint {report.Fingerprint}, expected {fingerprint}); run every step with the same arguments.");
            }
            reports.Add(report);
        }
        return reports;
    }

    private async Task<PipelineValidationException> MissingAsync(ScaleStep step, int task, string who, CancellationToken cancellationToken)
    {
        var others = (await area.ListAsync("", cancellationToken).ConfigureAwait(false))
            .Select(k => k.Split('/')[0]).Where(f => f != fingerprint).Distinct(StringComparer.Ordinal).ToList();
        var hint = others.Count > 0
            ? $" The work area {area.Location} holds work of a run with other options or inputs (fingerprint {others[0]}): every step must get the same arguments and --workers."
            : $" Run the steps in order (dataprep convert … --workers N --steps lists them); each step starts only when every task of the one before has finished.";
        return new PipelineValidationException($"{who} cannot start: task {task} of step {step.Name} has not finished (no {Done(step.Name, task)} in {area.Location}).{hint}");
    }
}

/// <summary>What a task reports to the tasks after it (its completion marker).</summary>
internal sealed class TaskReport
{
    public string Fingerprint { get; set; } = "";

    /// <summary>A scan task's reads of inputs divided by byte range (<see cref="Sources.IRecordSource.PartsRead"/>), by input; null: none.</summary>
    public List<ScanRange>? Ranges { get; set; }

    public string Step { get; set; } = "";
    public int Task { get; set; }
    public long RowsRead { get; set; }
    public SortedDictionary<string, long> Dropped { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, long> Filled { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Rows the task skipped under <c>--on-bad-row</c>, by cause (scan tasks only).</summary>
    public SortedDictionary<string, long> BadRows { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether the task wrote a quarantine object (scan tasks under <c>--on-bad-row quarantine</c> that skipped rows).</summary>
    public bool Quarantined { get; set; }

    /// <summary>The items an encode task's stages left out under a quarantine policy (bad images), in its output order.</summary>
    public List<QuarantinedItem>? LeftOut { get; set; }
    public List<string> Warnings { get; set; } = [];
    public List<InputFingerprint> Inputs { get; set; } = [];
    public long[] BucketRows { get; set; } = [];

    /// <summary>A scan task's byte offsets of its <see cref="IdSections"/> in its <c>split-ids</c> object (null: it wrote key columns).</summary>
    public long[]? IdSections { get; set; }
    public EncodingRecord? Encoding { get; set; }
    public SortedDictionary<string, SplitReport> Splits { get; set; } = new(StringComparer.Ordinal);
    public long? ExpectedRows { get; set; }
    public string? ContentType { get; set; }
    public ChannelHints? Channel { get; set; }
    public SortedDictionary<string, SegmentInfo> Segments { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, List<ShardRecord>> Shards { get; set; } = new(StringComparer.Ordinal);
    public List<string> Steps { get; set; } = [];

    /// <summary>
    /// The plan's channels in the order one process hands their rows to the sink (k-fold: the folds, then test); in a
    /// DeepAR encode task's report, the splits that have rows in its bucket.
    /// </summary>
    public List<string> Channels { get; set; } = [];
    public bool ByRank { get; set; }

    /// <summary>How the plan decided the split (<see cref="ScaleRun.PlanOf"/>): every plan but routing writes no routing objects.</summary>
    public PlanKind Plan { get; set; }

    /// <summary>A random split planned by its cuts (<see cref="PlanKind.Cuts"/>): every encode task tags its rows by them.</summary>
    public List<SplitCut>? Cuts { get; set; }

    /// <summary>A time split planned by its cut-offs (<see cref="PlanKind.TimeCuts"/>): every encode task tags its rows by them.</summary>
    public TimeCuts? TimeCuts { get; set; }

    /// <summary>
    /// An unshuffled time split of inputs not in time order: bucket <c>j</c> takes the rows from the <c>j</c>-th of these
    /// rows (keys <see cref="TimeSplitAssigner.KeyOf"/> and row ids, <see cref="RandomSplitCuts.TagOf"/>) up to the next,
    /// from every scan task's rows.
    /// </summary>
    public List<SplitCut>? TimeBuckets { get; set; }

    /// <summary>
    /// A stratified random split planned by its cuts (<see cref="PlanKind.StratifiedCuts"/>): each class's cuts, by class key,
    /// in ordinal key order; a noisy/clean split without groups (<see cref="PlanKind.NoisyCuts"/>): each side's cuts.
    /// </summary>
    /// <remarks>
    /// Class keys are compared ordinally (a plain <see cref="Dictionary{TKey, TValue}"/>, which is what a deserialized one
    /// is): a culture's comparer ignores the NUL that starts the key of missing values.
    /// </remarks>
    public Dictionary<string, List<SplitCut>>? StratumCuts { get; set; }

    /// <summary>A group split or group folds decided by the plan (<see cref="PlanKind.Groups"/>, <see cref="PlanKind.GroupFolds"/>): its group table object's count and hash.</summary>
    public GroupSplitsInfo? GroupSplits { get; set; }

    /// <summary>
    /// A group split of many groups cut by hash ranges (<see cref="PlanKind.GroupRanges"/>), or group folds' test split cut so
    /// (<see cref="PlanKind.GroupFoldRanges"/>; null there when there is no test split): its cuts, in order.
    /// </summary>
    public List<GroupCut>? GroupCuts { get; set; }

    /// <summary>Group folds of many groups cut by hash ranges (<see cref="PlanKind.GroupFoldRanges"/>): the folds' cuts, in order.</summary>
    public List<GroupCut>? GroupFoldCuts { get; set; }

    /// <summary>
    /// A scan task's rows per class of <c>--stratify</c> (<see cref="PlanKind.StratifiedCuts"/>), by class key; a noisy/clean
    /// split's rows per side (<see cref="PlanKind.NoisyCuts"/>, by <see cref="NoisyCleanAssigner.CleanKey"/> and
    /// <see cref="NoisyCleanAssigner.NoisyKey"/>).
    /// </summary>
    public Dictionary<string, long>? StratumRows { get; set; }

    /// <summary>
    /// Scan, a noisy/clean split without groups (<see cref="PlanKind.NoisyCuts"/>): rows without a value in the noisy column,
    /// counted in neither side of <see cref="StratumRows"/>. The plan stops with one process's error when any task has one.
    /// </summary>
    public long? UnmarkedRows { get; set; }

    /// <summary>Random folds planned by their cuts (over the fold hashes of the rows the <see cref="Cuts"/> leave in train), or null.</summary>
    public List<SplitCut>? FoldCuts { get; set; }

    /// <summary>Stratified folds planned by their cuts: each class's fold cuts (over the fold hashes of its rows the <see cref="StratumCuts"/> leave in train), by class key, or null.</summary>
    public Dictionary<string, List<SplitCut>>? StratumFoldCuts { get; set; }

    /// <summary>Time folds planned by their starts (<see cref="PlanKind.TimeCuts"/>, with <see cref="TimeCuts"/> the time test split's cut-offs or null), or null.</summary>
    public List<TimeFoldCut>? TimeFoldCuts { get; set; }
    public List<Field>? Schema { get; set; }

    /// <summary>Scan: the widest mean row of the inputs as this task opened them, in bytes of text (see <see cref="ConvertOptions.RowBytes"/>).</summary>
    public long RowBytes { get; set; }
}

/// <summary>One channel's formatted records of one encode task.</summary>
internal sealed class SegmentInfo
{
    public long Records { get; set; }
    public long Bytes { get; set; }
    public long MaxRecord { get; set; }
    public long LastRecord { get; set; }
    public bool HasGroups { get; set; }
    public bool HasTimes { get; set; }
    public Dictionary<long, long>? Labels { get; set; }
    public Output.LabelSketch? LabelSketch { get; set; }
    public bool LabelIsFloat { get; set; }
    public FormatInfo? Format { get; set; }
    public byte[] Header { get; set; } = [];

    /// <summary>DeepAR: how many of the channel's series have <c>--deepar-cat</c> values that change over time, and the first by key.</summary>
    public long Varying { get; set; }
    public string? VaryingFirst { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(TaskReport))]
[JsonSerializable(typeof(ConvertOptions))]
internal sealed partial class ScaleJsonContext : JsonSerializerContext;

/// <summary>Plain little-endian arrays in work objects (the routing of rows to splits).</summary>
internal static class WorkArrays
{
    public static void Write<T>(Stream s, ReadOnlySpan<T> values) where T : unmanaged
    {
        Span<byte> n = stackalloc byte[8];
        BitConverter.TryWriteBytes(n, (long)values.Length);
        s.Write(n);
        s.Write(MemoryMarshal.AsBytes(values));
    }

    public static T[] Read<T>(Stream s) where T : unmanaged
    {
        Span<byte> n = stackalloc byte[8];
        s.ReadExactly(n);
        var values = new T[BitConverter.ToInt64(n)];
        s.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}

/// <summary>One bucket's rows as the plan decided them: split, fold and output rank of each, in the bucket's input order.</summary>
internal sealed record Routing(long[] RowIds, SplitTag[] Tags, short[]? Folds, long[] Ranks)
{
    public byte[] ToBytes()
    {
        using var s = new MemoryStream();
        WorkArrays.Write<long>(s, RowIds);
        WorkArrays.Write<SplitTag>(s, Tags);
        WorkArrays.Write<short>(s, Folds ?? []);
        s.WriteByte(Folds is null ? (byte)0 : (byte)1);
        WorkArrays.Write<long>(s, Ranks);
        return s.ToArray();
    }

    public static Routing From(byte[] bytes)
    {
        using var s = new MemoryStream(bytes);
        var ids = WorkArrays.Read<long>(s);
        var tags = WorkArrays.Read<SplitTag>(s);
        var folds = WorkArrays.Read<short>(s);
        bool hasFolds = s.ReadByte() == 1;
        var ranks = WorkArrays.Read<long>(s);
        return new Routing(ids, tags, hasFolds ? folds : null, ranks);
    }
}

/// <summary>
/// One read of a scan task of parts [First, End) of input Source (<see cref="Sources.PartRead"/>): Rows records, the first
/// at byte Start, up to the one at byte Stop it left to the next read (<see cref="long.MaxValue"/>: none, the end).
/// </summary>
internal sealed class ScanRange
{
    public int Source { get; set; }
    public int First { get; set; }
    public int End { get; set; }
    public long Start { get; set; }
    public long Stop { get; set; }
    public long Rows { get; set; }

    /// <summary>The line numbers the read gave its records at Start and Stop (<see cref="Sources.PartRead.StartLine"/>).</summary>
    public long StartLine { get; set; }

    public long StopLine { get; set; }

    /// <summary>Whether the input's format lets a quoted field hold a line break (CSV), so that reads that do not meet mean one did.</summary>
    public bool QuotedBreaks { get; set; }
}
