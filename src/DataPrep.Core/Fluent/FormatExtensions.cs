using DataPrep.Formats;
using DataPrep.Pipeline;
using DataPrep.RecordIO;

namespace DataPrep.Fluent;

/// <summary>
/// Output formats besides label-first CSV (<see cref="OutputExtensions.WriteCsv"/>); each sets the same
/// <see cref="ConvertOptions"/> fields as the CLI's <c>--out</c>, <c>--format</c> and format flags.
/// </summary>
public static class FormatExtensions
{
    /// <summary>Writes to a folder (or a URI a registered output store understands, e.g. s3://) in a format.</summary>
    /// <param name="b">The builder.</param>
    /// <param name="location">The output folder or URI (<c>--out</c>).</param>
    /// <param name="format">The output format's name or alias (<c>--format</c>), as registered on the run's <see cref="FormatRegistry"/>.</param>
    /// <param name="overwrite">Replace an earlier run there (<c>--overwrite</c>).</param>
    /// <param name="gzip">gzip the data files (<c>--compress gzip</c>).</param>
    /// <param name="shards">Shard limits (<c>--shard-size</c>, <c>--shard-rows</c>, <c>--shards</c>).</param>
    public static DataPrepBuilder WriteTo(this DataPrepBuilder b, string location, string format = CsvFormatDefinition.FormatName, bool overwrite = false, bool gzip = false, ShardOptions? shards = null)
        => b.With(o => o with { Output = location, Format = format, Overwrite = overwrite, Gzip = gzip, Shards = shards ?? o.Shards });

    /// <summary>SageMaker RecordIO-protobuf (<c>.pbr</c>, <c>application/x-recordio-protobuf</c>), byte-identical to the SageMaker Python SDK's writer by default.</summary>
    /// <param name="b">The builder.</param>
    /// <param name="folder">The output folder (<c>--out</c>).</param>
    /// <param name="options">Tensor dtypes, sparse, uid, metadata, escaping (<c>--dtype</c>, <c>--label-dtype</c>, <c>--sparse</c>, <c>--uid</c>, <c>--metadata</c>, <c>--recordio-escape</c>).</param>
    /// <param name="overwrite">Replace an earlier run there.</param>
    /// <param name="shards">Shard limits.</param>
    public static DataPrepBuilder WriteRecordIO(this DataPrepBuilder b, string folder, RecordIOOptions? options = null, bool overwrite = false, ShardOptions? shards = null)
        => b.With(o => o with { Output = folder, Format = RecordIOProtobufFormatDefinition.FormatName, RecordIO = options ?? o.RecordIO, Overwrite = overwrite, Shards = shards ?? o.Shards });

    /// <summary>LibSVM / SVMlight text (1-based <c>idx:val</c>).</summary>
    public static DataPrepBuilder WriteLibSvm(this DataPrepBuilder b, string folder, bool overwrite = false, bool gzip = false, ShardOptions? shards = null)
        => b.WriteTo(folder, LibSvmFormatDefinition.FormatName, overwrite, gzip, shards);

    /// <summary>
    /// SageMaker DeepAR JSON Lines: one record per series, the label as <c>target</c>. Needs a time split
    /// (<see cref="SplitMethodExtensions.SplitByTime(DataPrepBuilder, string, double, double, double, TimeSpan?)"/>):
    /// train is each series cut before the test window, validation runs to its end, test is the full series.
    /// </summary>
    /// <param name="b">The builder.</param>
    /// <param name="folder">The output folder.</param>
    /// <param name="series">The column naming each series (<c>--series</c>).</param>
    /// <param name="cat">Features written as the static <c>cat</c> codes (<c>--deepar-cat</c>); other features become <c>dynamic_feat</c>.</param>
    /// <param name="overwrite">Replace an earlier run there.</param>
    public static DataPrepBuilder WriteDeepAr(this DataPrepBuilder b, string folder, string series, IReadOnlyList<string>? cat = null, bool overwrite = false)
        => b.With(o => o with { Output = folder, Format = DeepArFormatDefinition.FormatName, SeriesColumn = series, DeepArCat = cat is null ? [] : [.. cat], Overwrite = overwrite },
            $"DeepAR series '{series}'{(cat is { Count: > 0 } ? $", cat {string.Join(", ", cat)}" : "")}");

    /// <summary>Every column kept as it is (CSV with a header, no label or encoding), so input lists stay lists after a split.</summary>
    public static DataPrepBuilder WriteTable(this DataPrepBuilder b, string folder, bool overwrite = false, bool gzip = false)
        => b.WriteTo(folder, HeaderCsvFormatDefinition.FormatName, overwrite, gzip);

    /// <summary>Every column kept as it is, as JSON Lines.</summary>
    public static DataPrepBuilder WriteJsonLines(this DataPrepBuilder b, string folder, bool overwrite = false, bool gzip = false)
        => b.WriteTo(folder, JsonLinesFormatDefinition.FormatName, overwrite, gzip);

    /// <summary>Skip the lineage sidecars (<c>--no-lineage</c>).</summary>
    public static DataPrepBuilder NoLineage(this DataPrepBuilder b) => b.With(o => o with { Lineage = false });
}
