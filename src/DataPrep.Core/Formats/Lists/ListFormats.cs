using System.Globalization;
using System.IO.Hashing;
using System.Text.Json;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.Formats;

/// <summary>
/// Formats that keep every column as it is (no label-first layout, no encoding), so input lists — audio
/// paths, speaker ids, transcripts — stay lists after splitting: CSV with a header, or JSON Lines.
/// </summary>
public abstract class ListFormat : IRecordFormat
{
    /// <inheritdoc />
    public abstract string Extension { get; }

    /// <inheritdoc />
    public abstract string ContentType { get; }

    /// <inheritdoc />
    public void Validate(Schema schema, bool hasLabel)
    {
        foreach (var f in schema.Fields)
        {
            if (f.Kind is ColumnKind.Sparse or ColumnKind.Binary) throw new PipelineValidationException($"{Extension} list output cannot hold {f.Kind} column '{f.Name}'.");
        }
    }

    /// <inheritdoc />
    public FormatInfo Describe(Schema schema, bool hasLabel) => new(ContentType, schema.Count, false, null, null);

    /// <inheritdoc />
    public abstract byte[] FileHeader(Schema schema);

    /// <inheritdoc />
    public FormattedChunk Format(RecordBatch batch, int start, int count)
    {
        var output = new MemoryStream(Math.Max(4096, count * batch.Schema.Count * 12));
        var ends = new int[count];
        var hashes = new ulong[count];
        using (var rows = CreateRowWriter(output))
        {
            for (int k = 0; k < count; k++)
            {
                int from = (int)output.Length;
                rows.Write(batch, start + k);
                int end = (int)output.Length;
                hashes[k] = XxHash3.HashToUInt64(output.GetBuffer().AsSpan(from, end - 1 - from));
                ends[k] = end;
            }
        }
        return new FormattedChunk(output.GetBuffer(), (int)output.Length, ends, hashes);
    }

    /// <summary>A writer of this format's rows into one chunk's <paramref name="output"/>.</summary>
    protected abstract RowWriter CreateRowWriter(Stream output);

    /// <summary>Writes rows one at a time: each row and its line break are in the stream when <see cref="Write"/> returns.</summary>
    protected abstract class RowWriter : IDisposable
    {
        /// <summary>Writes row <paramref name="row"/> of <paramref name="batch"/> and a '\n'.</summary>
        public abstract void Write(RecordBatch batch, int row);

        /// <inheritdoc />
        public abstract void Dispose();
    }

    /// <summary>The invariant text of a value (numbers shortest round-trip, timestamps ISO 8601 UTC); null when missing.</summary>
    protected static string? Text(Column column, int row) => column.IsNull(row) ? null : column switch
    {
        StringColumn s => s.Values[row],
        Int64Column l => l.Values[row].ToString(CultureInfo.InvariantCulture),
        Float64Column d => double.IsNaN(d.Values[row]) ? null : d.Values[row].ToString(CultureInfo.InvariantCulture),
        BooleanColumn b => b.Values[row] ? "true" : "false",
        TimestampColumn t => new DateTime(t.Values[row], DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException(column.Kind.ToString()),
    };
}

/// <summary>CSV with a header row in every file (RFC 4180 quoting, UTF-8 without BOM, LF).</summary>
public sealed class HeaderCsvFormat : ListFormat
{
    /// <inheritdoc />
    public override string Extension => "csv";

    /// <inheritdoc />
    public override string ContentType => "text/csv;header=present";

    /// <summary>RFC 4180 (quotes only where a value holds ',', '"', CR or LF), LF line endings.</summary>
    private static readonly CsvWriterOptions s_options = CsvWriterOptions.Default with { NewLine = "\n" };

    /// <inheritdoc />
    public override byte[] FileHeader(Schema schema)
    {
        var output = new MemoryStream();
        using (var csv = CsvWriter.Create(output, s_options, leaveOpen: true)) csv.WriteRecord([.. schema.Fields.Select(f => f.Name)]);
        return output.ToArray();
    }

    /// <inheritdoc />
    protected override RowWriter CreateRowWriter(Stream output) => new CsvRows(output);

    private sealed class CsvRows(Stream output) : RowWriter
    {
        private readonly CsvWriter _csv = CsvWriter.Create(output, s_options, leaveOpen: true);

        public override void Write(RecordBatch batch, int row)
        {
            if (batch.Columns.Count == 0)
            {
                output.WriteByte((byte)'\n'); // CsvHelper refuses a record without fields
                return;
            }
            for (int c = 0; c < batch.Columns.Count; c++) _csv.WriteField(Text(batch.Columns[c], row) ?? "");
            _csv.EndRecord();
            _csv.Flush();
        }

        public override void Dispose() => _csv.Dispose();
    }
}

/// <summary>JSON Lines: one object per row with the input's column names and JSON types.</summary>
public sealed class JsonLinesFormat : ListFormat
{
    /// <inheritdoc />
    public override string Extension => "jsonl";

    /// <inheritdoc />
    public override string ContentType => "application/jsonlines";

    /// <inheritdoc />
    public override byte[] FileHeader(Schema schema) => [];

    /// <inheritdoc />
    protected override RowWriter CreateRowWriter(Stream output) => new JsonRows(output);

    private sealed class JsonRows(Stream output) : RowWriter
    {
        private readonly Utf8JsonWriter _json = new(output);

        public override void Write(RecordBatch batch, int row)
        {
            var w = _json;
            w.Reset(); // one top-level object per line
            w.WriteStartObject();
            for (int c = 0; c < batch.Columns.Count; c++)
            {
                var col = batch.Columns[c];
                w.WritePropertyName(batch.Schema[c].Name);
                if (col.IsNull(row)) { w.WriteNullValue(); continue; }
                switch (col)
                {
                    case Int64Column l: w.WriteNumberValue(l.Values[row]); break;
                    case Float64Column d when double.IsFinite(d.Values[row]): w.WriteNumberValue(d.Values[row]); break;
                    case BooleanColumn b: w.WriteBooleanValue(b.Values[row]); break;
                    default: w.WriteStringValue(Text(col, row)); break;
                }
            }
            w.WriteEndObject();
            w.Flush();
            output.WriteByte((byte)'\n');
        }

        public override void Dispose() => _json.Dispose();
    }
}
