using System.Globalization;
using CsvHelper;

namespace DataPrep.Audit;

/// <summary>
/// One split's lineage sidecar (<c>_dataprep/lineage/&lt;split&gt;.csv</c>) in columns:
/// <c>row_id,source,source_row,shard,record,content_hash[,group][,time]</c>. Unknown extra columns are ignored,
/// so sidecars of later versions still audit.
/// </summary>
internal sealed class LineageTable
{
    public required string Path { get; init; }
    public List<long> RowIds { get; } = [];
    public List<int> Sources { get; } = [];
    public List<long> SourceRows { get; } = [];
    public List<int> Shards { get; } = [];
    public List<long> Records { get; } = [];
    public List<ulong> Hashes { get; } = [];

    /// <summary>Group keys (null = missing), when the sidecar has a group column.</summary>
    public List<string?>? Groups { get; private set; }

    /// <summary>UTC ticks (<see cref="long.MinValue"/> = missing), when the sidecar has a time column.</summary>
    public List<long>? Times { get; private set; }

    public int Count => RowIds.Count;

    private static readonly string[] Required = ["row_id", "source", "source_row", "shard", "record", "content_hash"];

    /// <summary>RFC 4180 with a header; quoted fields (group keys) may hold commas, quotes and line breaks.</summary>
    private static readonly CsvReaderOptions s_options = CsvReaderOptions.Default with
    {
        Separator = ',',
        HasHeader = true,
        DetectSeparatorHint = false,
        SkipEmptyLines = true,
        FieldCountMismatch = CsvFieldCountHandling.Allow,
        TrackLineNumbers = true,
        PoolStrings = true, // group keys repeat and are kept
    };

    /// <summary>Reads a sidecar.</summary>
    /// <exception cref="DataFormatException">It is not a lineage sidecar, or a value is malformed (names file, line and column).</exception>
    public static LineageTable Load(string path, CancellationToken ct)
    {
        using var reader = CsvReader.Create(File.OpenRead(path), s_options, leaveOpen: false);
        string[] header;
        try
        {
            header = [.. reader.Headers];
        }
        catch (CsvFormatException e)
        {
            throw Malformed(e, path);
        }
        if (header.Length == 0 || (header.Length == 1 && header[0].Length == 0)) throw Throw.Format("is empty; expected a lineage header row_id,source,source_row,shard,record,content_hash", path);
        int Index(string name) => Array.IndexOf(header, name);
        var missing = Required.Where(n => Index(n) < 0).ToList();
        if (missing.Count > 0)
        {
            throw Throw.Format($"is not a DataPrep lineage sidecar: its header ({string.Join(",", header)}) lacks {string.Join(", ", missing)}", path, 1);
        }
        int iId = Index("row_id"), iSrc = Index("source"), iSrow = Index("source_row"), iShard = Index("shard"), iRec = Index("record"), iHash = Index("content_hash");
        int iGroup = Index("group"), iTime = Index("time");
        var t = new LineageTable { Path = path };
        if (iGroup >= 0) t.Groups = [];
        if (iTime >= 0) t.Times = [];
        while (Read(reader, path))
        {
            long line = reader.LineNumber;
            if (reader.FieldCount < header.Length)
            {
                throw Throw.Format($"has {reader.FieldCount} fields; expected {header.Length} ({string.Join(",", header)})", path, line);
            }
            t.RowIds.Add(Long(reader.GetSpan(iId), path, line, "row_id"));
            t.Sources.Add((int)Long(reader.GetSpan(iSrc), path, line, "source"));
            t.SourceRows.Add(Long(reader.GetSpan(iSrow), path, line, "source_row"));
            t.Shards.Add((int)Long(reader.GetSpan(iShard), path, line, "shard"));
            t.Records.Add(Long(reader.GetSpan(iRec), path, line, "record"));
            var hashText = reader.GetSpan(iHash);
            if (hashText.Length != 16 || !ulong.TryParse(hashText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hash))
            {
                throw Throw.Format($"content_hash {Throw.Quote(hashText)} is not 16 hex digits", path, line, column: "content_hash");
            }
            t.Hashes.Add(hash);
            t.Groups?.Add(reader.IsEmpty(iGroup) ? null : reader.GetString(iGroup));
            if (t.Times is not null)
            {
                if (reader.IsEmpty(iTime)) t.Times.Add(long.MinValue);
                else if (DateTimeOffset.TryParse(reader.GetString(iTime), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto)) t.Times.Add(dto.UtcTicks);
                else throw Throw.Format($"time {Throw.Quote(reader.GetSpan(iTime))} is not an ISO 8601 instant", path, line, column: "time");
            }
            if ((t.Count & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
        }
        return t;
    }

    private static bool Read(CsvReader reader, string path)
    {
        try
        {
            return reader.Read();
        }
        catch (CsvFormatException e)
        {
            throw Malformed(e, path);
        }
    }

    private static DataFormatException Malformed(CsvFormatException e, string path)
        => Throw.Format($"malformed CSV ({e.Message.TrimEnd('.')}); expected a lineage sidecar", path, e.LineNumber, inner: e);

    private static long Long(ReadOnlySpan<byte> text, string path, long line, string column)
        => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= 0
            ? v
            : throw Throw.Format($"{column} {Throw.Quote(text)} is not a non-negative integer", path, line, column: column);
}
