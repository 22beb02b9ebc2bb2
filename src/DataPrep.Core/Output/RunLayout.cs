using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Output;

/// <summary>
/// The one layout of a run's output, used by every format and every store: channel names and their order,
/// the paths of data files, lineage, ManifestFiles, channels.json and run.json, which top-level entries a run
/// owns, the ManifestFile JSON, and the commit step (fold manifests, ManifestFiles, channels.json, then the run
/// record last, through the store's atomic commit).
/// </summary>
/// <remarks>
/// <code>
/// OUT/&lt;channel&gt;/part-NNNNN.&lt;ext&gt;[.gz]     data only (train, validation, test, data, fold-k)
/// OUT/_dataprep/&lt;channel&gt;.manifest        SageMaker ManifestFile per channel
/// OUT/_dataprep/fold-k.train.manifest      k-fold training sets (other folds)
/// OUT/_dataprep/lineage/&lt;channel&gt;.csv    lineage sidecar
/// OUT/_dataprep/channels.json              channel settings for a training job
/// OUT/_dataprep/run.json                   the run record, written last
/// </code>
/// </remarks>
/// <param name="store">The store the run writes into.</param>
/// <param name="runRecord">Builds the run record at commit time.</param>
/// <param name="check">Runs first in <see cref="CommitAsync"/>, before anything is published (e.g. <see cref="EmptyRun.Check"/>); a throw aborts the commit.</param>
public sealed class RunLayout(IOutputStore store, Func<RunContext, byte[]> runRecord, Action<RunReport>? check = null)
{
    /// <summary>The folder of everything that is not training data.</summary>
    public const string MetaFolder = "_dataprep";

    /// <summary>The folder under <see cref="MetaFolder"/> that holds a scaled-out run's work area by default.</summary>
    public const string WorkFolder = "work";

    /// <summary>The run record's file name.</summary>
    public const string RunRecordName = "run.json";

    /// <summary>The run record, relative to the output root.</summary>
    public const string RunRecordPath = MetaFolder + "/" + RunRecordName;

    /// <summary>
    /// The run record of a run as a user names it (<c>--run</c>, <c>--like</c>, <c>inspect</c>): its output folder or
    /// <c>s3://</c> prefix (<c>OUT</c>, <c>OUT/</c>) → <c>OUT/_dataprep/run.json</c>; its <c>_dataprep</c> folder → the
    /// <c>run.json</c> in it; a name ending in <c>.json</c> is the record itself. One rule for local paths and URIs,
    /// decided by the name alone (no listing).
    /// </summary>
    public static string RecordPathOf(string run)
    {
        ArgumentException.ThrowIfNullOrEmpty(run);
        string name = InputFiles.NameOf(run);
        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return run;
        string folder = name.Length == 0 ? InputFiles.FolderOf(run) : run;
        return InputFiles.NameOf(folder) == MetaFolder ? InputFiles.Combine(folder, RunRecordName) : InputFiles.Combine(folder, RunRecordPath);
    }

    /// <summary>The output root of a run record at <c>ROOT/_dataprep/NAME.json</c>; null when the record is not in a <c>_dataprep</c> folder.</summary>
    public static string? RootOf(string recordPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(recordPath);
        string meta = InputFiles.FolderOf(recordPath);
        return InputFiles.NameOf(meta) == MetaFolder ? InputFiles.FolderOf(meta) : null;
    }

    /// <summary>Reads the run record of a run named as <see cref="RecordPathOf"/> takes it, through the run's input file systems (local, or <c>s3://</c> with DataPrep.S3).</summary>
    /// <exception cref="DataFormatException">No record there, or it cannot be read or is not a DataPrep run record (messages name the record's path).</exception>
    /// <exception cref="PipelineValidationException">A URI whose scheme no plug-in reads, or a remote location that cannot be reached.</exception>
    public static RunRecord ReadRecord(string run, InputFiles files) => RunRecord.Load(RecordPathOf(run), files);

    /// <summary>
    /// Reads the run record of a run whose maps are to be reused (<c>--like</c>, <c>apply</c>, named by
    /// <paramref name="who"/>): as <see cref="ReadRecord"/>, and the run must have encoded its columns.
    /// </summary>
    /// <exception cref="DataFormatException">As <see cref="ReadRecord"/>, or the run recorded no encoding (a format that keeps columns as they are).</exception>
    public static RunRecord ReadEncodedRecord(string run, InputFiles files, string who)
    {
        var path = RecordPathOf(run);
        var record = RunRecord.Load(path, files);
        if (record.Encoding is null)
        {
            throw Throw.Format(
                $"this run wrote --format {record.Options!.Format}, which keeps the columns as they are and records no encoding, so {who} has no maps to reuse; point it at a run of a format that encodes its columns (such as csv)",
                path);
        }
        return record;
    }

    /// <summary>
    /// The data files of a run record, as paths or URIs under <paramref name="root"/>: every split's (or fold's) shards
    /// in channel order (<see cref="ChannelOrder"/>), each split's in the order run.json lists them.
    /// </summary>
    public static IReadOnlyList<string> DataFiles(RunRecord record, string root)
    {
        ArgumentNullException.ThrowIfNull(record);
        return [.. record.Splits.OrderBy(kv => kv.Key, ChannelOrder).SelectMany(kv => kv.Value.Shards).Select(sh => InputFiles.Combine(root, sh.Path))];
    }

    /// <summary>channels.json, relative to the output root.</summary>
    public const string ChannelsPath = MetaFolder + "/channels.json";

    /// <summary>The channel of rows without a split (<c>dataprep apply</c>).</summary>
    public const string DataChannel = "data";

    /// <summary>The channels of the three splits, in output order.</summary>
    public static IReadOnlyList<string> SplitChannels { get; } = [.. SplitNames.All.Select(t => t.Name())];

    /// <summary>Orders channel names: train, validation, test, data, then fold-0, fold-1, … (numerically), then the rest (ordinal).</summary>
    public static IComparer<string> ChannelOrder { get; } = Comparer<string>.Create(CompareChannels);

    /// <summary>The channel of a split; rows without a split go to <see cref="DataChannel"/>.</summary>
    public static string ChannelName(SplitTag tag) => tag == SplitTag.None ? DataChannel : tag.Name();

    /// <summary>The channel of a split or of k-fold fold <paramref name="fold"/> (fold-0, fold-1, …).</summary>
    public static string ChannelName(SplitTag tag, short fold) => fold >= 0 ? FoldChannel(fold) : ChannelName(tag);

    /// <summary>The channel of k-fold fold <paramref name="fold"/>.</summary>
    public static string FoldChannel(int fold) => "fold-" + fold.ToString(CultureInfo.InvariantCulture);

    /// <summary>A data file: <c>&lt;channel&gt;/part-NNNNN.&lt;extension&gt;[.gz]</c>.</summary>
    public static string ShardPath(string channel, int shard, string extension, bool gzip)
        => $"{channel}/part-{shard.ToString("D5", CultureInfo.InvariantCulture)}.{extension}{(gzip ? ".gz" : "")}";

    /// <summary>The lineage sidecar of a channel.</summary>
    public static string LineagePath(string channel) => $"{MetaFolder}/lineage/{channel}.csv";

    /// <summary>The ManifestFile of a channel.</summary>
    public static string ManifestPath(string channel) => $"{MetaFolder}/{channel}.manifest";

    /// <summary>The ManifestFile of fold <paramref name="fold"/>'s training (<c>train</c>) or validation (<c>validation</c>) set.</summary>
    public static string FoldManifestPath(int fold, string role) => $"{MetaFolder}/{FoldChannel(fold)}.{role}.manifest";

    /// <summary>
    /// Whether a top-level entry of an output folder belongs to a run (replaced as a whole when overwriting): the
    /// split and fold channels, <c>data</c>, <c>_dataprep</c>, image list channels (<c>&lt;split&gt;_lst</c>) and
    /// the augmented manifest's <c>images</c>.
    /// </summary>
    public static bool IsRunOwned(string topLevelName)
        => topLevelName is DataChannel or MetaFolder or "images"
           || SplitChannels.Contains(topLevelName)
           || topLevelName.StartsWith("fold-", StringComparison.Ordinal)
           || topLevelName.EndsWith("_lst", StringComparison.Ordinal);

    /// <summary>A SageMaker ManifestFile: <c>[{"prefix": "ROOT/"},\n "train/part-00000.csv", …]\n</c>.</summary>
    public static string Manifest(string prefixUri, IEnumerable<string> relativePaths)
    {
        if (!prefixUri.EndsWith('/')) prefixUri += "/";
        var json = new StringBuilder("[{\"prefix\": ").Append(JsonSerializer.Serialize(prefixUri, LayoutJson.Default.String)).Append('}');
        foreach (var p in relativePaths) json.Append(",\n ").Append(JsonSerializer.Serialize(p, LayoutJson.Default.String));
        return json.Append("]\n").ToString();
    }

    /// <summary>The store the run writes into.</summary>
    public IOutputStore Store => store;

    /// <summary>
    /// The commit step every format ends with, once its data files are closed and listed in the report: k-fold
    /// ManifestFiles, the instance-count warnings, each channel's ManifestFile and channels.json, then the run
    /// record, written last by the store's commit (which publishes everything staged).
    /// </summary>
    public async Task CommitAsync(RunContext context, int instances, CancellationToken cancellationToken)
    {
        check?.Invoke(context.Report);
        // Rows skipped under --on-bad-row quarantine: staged with the data, so they are published (or removed) with it.
        await context.BadRows.WriteAsync(store.CreateAsync, cancellationToken).ConfigureAwait(false);
        await WriteFoldManifestsAsync(context, cancellationToken).ConfigureAwait(false);
        InstanceWarnings.Add(context.Report, instances);
        await ChannelsFile.WriteAsync(store, context.Report, cancellationToken).ConfigureAwait(false);
        RunTrace.Line("channels written");
        var record = runRecord(context);
        await store.CommitAsync(RunRecordPath, record, cancellationToken).ConfigureAwait(false);
        RunTrace.Line("store committed");
    }

    /// <summary>
    /// Adds the channels a sink wrote to the run's report: each channel's fraction of all rows written, merged into what
    /// the stages already reported for it (time ranges, groups), and splits that received no rows and have no files
    /// (k-fold's train pool) removed. The sink sets each channel's rows, shards, format, label distribution and lineage.
    /// </summary>
    public static void AddChannels(RunReport report, IReadOnlyList<(string Name, SplitReport Report)> channels)
    {
        long total = channels.Sum(c => c.Report.Rows);
        foreach (var (name, channel) in channels)
        {
            channel.Fraction = total == 0 ? 0 : (double)channel.Rows / total;
            if (report.Splits.TryGetValue(name, out var existing))
            {
                existing.Rows = channel.Rows;
                existing.Fraction = channel.Fraction;
                existing.Format = channel.Format;
                existing.LabelDistribution = channel.LabelDistribution;
                existing.LabelSummary = channel.LabelSummary;
                existing.Lineage = channel.Lineage;
                existing.Shards.AddRange(channel.Shards);
            }
            else
            {
                report.Splits[name] = channel;
            }
        }
        foreach (var empty in report.Splits.Where(kv => kv.Value.Rows == 0 && kv.Value.Shards.Count == 0).Select(kv => kv.Key).ToList())
        {
            report.Splits.Remove(empty);
        }
    }

    /// <summary>Writes a text file (UTF-8, no BOM) into the store.</summary>
    public async Task WriteTextAsync(string relativePath, string text, CancellationToken cancellationToken)
    {
        await using var stream = await store.CreateAsync(relativePath, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// k-fold: for each fold, a SageMaker ManifestFile of its training set (the other folds, or with forward
    /// chaining the earlier folds) and one of its validation set (the fold itself, without files of augmented copies):
    /// every fold is written once, the manifests only point at its files.
    /// </summary>
    private async Task WriteFoldManifestsAsync(RunContext context, CancellationToken cancellationToken)
    {
        // Only the folds' data channels (fold-0, fold-1, …): an image format's list channels (fold-0_lst) are not folds.
        var folds = context.Report.Splits.Keys
            .Select(k => k.StartsWith("fold-", StringComparison.Ordinal) && int.TryParse(k.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int f) ? f : -1)
            .Where(f => f >= 0).Order().ToList();
        if (folds.Count == 0) return;
        string prefix = store.UriOf("");
        foreach (int k in folds)
        {
            var train = folds.Where(j => context.ForwardChainingFolds ? j < k : j != k);
            await WriteTextAsync(FoldManifestPath(k, "train"), Manifest(prefix, train.SelectMany(j => context.Report.Splits[FoldChannel(j)].Shards).Select(s => s.Path)), cancellationToken).ConfigureAwait(false);
            // Augmented copies train, but are not validated on: a fold's validation set is its input rows only.
            var validation = context.Report.Splits[FoldChannel(k)].Shards.Where(s => s.Augmented != true).Select(s => s.Path);
            await WriteTextAsync(FoldManifestPath(k, "validation"), Manifest(prefix, validation), cancellationToken).ConfigureAwait(false);
        }
    }

    private static int CompareChannels(string? a, string? b)
    {
        if (a is null || b is null) return a is null ? (b is null ? 0 : -1) : 1;
        int ra = Rank(a, out int fa), rb = Rank(b, out int fb);
        if (ra != rb) return ra.CompareTo(rb);
        if (ra == 4 && fa != fb) return fa.CompareTo(fb);
        return string.CompareOrdinal(a, b);

        static int Rank(string channel, out int fold)
        {
            fold = -1;
            return channel switch
            {
                "train" => 0,
                "validation" => 1,
                "test" => 2,
                DataChannel => 3,
                _ when channel.StartsWith("fold-", StringComparison.Ordinal) && int.TryParse(channel.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out fold) => 4,
                _ => 5,
            };
        }
    }
}

/// <summary>Source-generated JSON for the layout's small documents (no reflection at run time).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class LayoutJson : System.Text.Json.Serialization.JsonSerializerContext;
