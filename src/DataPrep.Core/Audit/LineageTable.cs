using System.Globalization;
using System.Text;

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

    /// <summary>Reads a sidecar.</summary>
    /// <exception cref="DataFormatException">It is not a lineage sidecar, or a value is malformed (names file, line and column).</exception>
    public static LineageTable Load(string path, CancellationToken ct)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var csv = new CsvLineReader(reader);
        var fields = new List<string>();
        if (!csv.Read(fields)) throw Throw.Format("is empty; expected a lineage header row_id,source,source_row,shard,record,content_hash", path);
        var header = fields.ToList();
        int Index(string name) => header.IndexOf(name);
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
        while (csv.Read(fields))
        {
            if (fields.Count == 1 && fields[0].Length == 0) continue; // blank line
            long line = csv.RecordLine;
            if (fields.Count < header.Count)
            {
                throw Throw.Format($"has {fields.Count} fields; expected {header.Count} ({string.Join(",", header)})", path, line);
            }
            t.RowIds.Add(Long(fields[iId], path, line, "row_id"));
            t.Sources.Add((int)Long(fields[iSrc], path, line, "source"));
            t.SourceRows.Add(Long(fields[iSrow], path, line, "source_row"));
            t.Shards.Add((int)Long(fields[iShard], path, line, "shard"));
            t.Records.Add(Long(fields[iRec], path, line, "record"));
            if (!ulong.TryParse(fields[iHash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hash) || fields[iHash].Length != 16)
            {
                throw Throw.Format($"content_hash {Throw.Quote(fields[iHash])} is not 16 hex digits", path, line, column: "content_hash");
            }
            t.Hashes.Add(hash);
            t.Groups?.Add(fields[iGroup].Length == 0 ? null : fields[iGroup]);
            if (t.Times is not null)
            {
                string text = fields[iTime];
                if (text.Length == 0) t.Times.Add(long.MinValue);
                else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto)) t.Times.Add(dto.UtcTicks);
                else throw Throw.Format($"time {Throw.Quote(text)} is not an ISO 8601 instant", path, line, column: "time");
            }
            if ((t.Count & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
        }
        return t;
    }

    private static long Long(string text, string path, long line, string column)
        => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= 0
            ? v
            : throw Throw.Format($"{column} {Throw.Quote(text)} is not a non-negative integer", path, line, column: column);

    /// <summary>RFC 4180 records from a text reader: quoted fields may hold commas, quotes ("") and line breaks.</summary>
    private sealed class CsvLineReader(TextReader reader)
    {
        private readonly StringBuilder _field = new();
        private long _line;

        /// <summary>The 1-based line where the last record started.</summary>
        public long RecordLine { get; private set; }

        public bool Read(List<string> fields)
        {
            fields.Clear();
            int c = reader.Read();
            if (c < 0) return false;
            _line++;
            RecordLine = _line;
            _field.Clear();
            bool quoted = false, wasQuoted = false;
            while (true)
            {
                if (c < 0)
                {
                    fields.Add(_field.ToString());
                    return true;
                }
                char ch = (char)c;
                if (quoted)
                {
                    if (ch == '"')
                    {
                        if (reader.Peek() == '"') { _field.Append('"'); reader.Read(); }
                        else quoted = false;
                    }
                    else
                    {
                        if (ch == '\n') _line++;
                        _field.Append(ch);
                    }
                }
                else if (ch == '"' && _field.Length == 0 && !wasQuoted)
                {
                    quoted = wasQuoted = true;
                }
                else if (ch == ',')
                {
                    fields.Add(_field.ToString());
                    _field.Clear();
                    wasQuoted = false;
                }
                else if (ch == '\n')
                {
                    fields.Add(_field.ToString());
                    return true;
                }
                else if (ch != '\r')
                {
                    _field.Append(ch);
                }
                c = reader.Read();
            }
        }
    }
}
