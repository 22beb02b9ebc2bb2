using DataPrep.Pipeline;

namespace DataPrep.Fluent;

/// <summary>Where and how output is written.</summary>
public static class OutputExtensions
{
    /// <summary>Label-first headerless CSV under <paramref name="folder"/>/train|validation|test, run record last.</summary>
    /// <param name="b">The builder.</param>
    /// <param name="folder">The output folder.</param>
    /// <param name="overwrite">Replace an earlier run there.</param>
    /// <param name="gzip">gzip the data files.</param>
    /// <param name="shards">Shard limits (default: 64 MiB per file).</param>
    public static DataPrepBuilder WriteCsv(this DataPrepBuilder b, string folder, bool overwrite = false, bool gzip = false, ShardOptions? shards = null)
        => b.With(o => o with { Output = folder, Format = OutputFormat.Csv, Overwrite = overwrite, Gzip = gzip, Shards = shards ?? o.Shards });

    /// <summary>Worker threads (0: all cores). The output bytes do not depend on it.</summary>
    public static DataPrepBuilder Threads(this DataPrepBuilder b, int threads) => b.With(o => o with { Threads = threads });
}
