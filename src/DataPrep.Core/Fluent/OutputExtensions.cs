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
        => b.With(o => o with { Output = folder, Format = Formats.CsvFormatDefinition.FormatName, Overwrite = overwrite, Gzip = gzip, Shards = shards ?? o.Shards });

    /// <summary>Worker threads (0: all cores). The output bytes do not depend on it.</summary>
    public static DataPrepBuilder Threads(this DataPrepBuilder b, int threads) => b.With(o => o with { Threads = threads });

    /// <summary>
    /// Memory budget in bytes (e.g. <c>512L &lt;&lt; 20</c>) and optionally the folder for spill files. Beyond the
    /// budget the split spills to temp files; the output bytes do not depend on it.
    /// </summary>
    public static DataPrepBuilder Memory(this DataPrepBuilder b, long bytes, string? tempDirectory = null)
        => b.With(o => o with { Memory = new MemoryOptions(bytes, tempDirectory ?? o.Memory.TempDirectory) });

    /// <summary>Memory budget as text (<c>"512MB"</c>, <c>"4GB"</c>) and optionally the folder for spill files.</summary>
    public static DataPrepBuilder Memory(this DataPrepBuilder b, string size, string? tempDirectory = null)
        => b.Memory(MemoryOptions.ParseSize(size), tempDirectory);
}
