using DataPrep.Formats;
using DataPrep.Pipeline;

namespace DataPrep.Fluent;

/// <summary>Parquet output in the fluent API (<c>--format parquet</c>).</summary>
public static class ParquetFluentExtensions
{
    /// <summary>
    /// Parquet shards (<c>application/x-parquet</c>, see <see cref="ParquetFormatDefinition"/>); adds the format to the
    /// builder's registry when it does not have it yet, so no separate <c>AddParquet()</c> is needed.
    /// </summary>
    /// <param name="b">The builder.</param>
    /// <param name="folder">The output folder or URI (<c>--out</c>).</param>
    /// <param name="overwrite">Replace an earlier run there (<c>--overwrite</c>).</param>
    /// <param name="shards">Shard limits (<c>--shard-size</c>, <c>--shard-rows</c>, <c>--shards</c>).</param>
    public static DataPrepBuilder WriteParquet(this DataPrepBuilder b, string folder, bool overwrite = false, ShardOptions? shards = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.Registry.Formats.Find(ParquetFormatDefinition.FormatName) is null) b.Registry.Formats.AddParquetOutput();
        return b.WriteTo(folder, ParquetFormatDefinition.FormatName, overwrite, gzip: false, shards);
    }
}
