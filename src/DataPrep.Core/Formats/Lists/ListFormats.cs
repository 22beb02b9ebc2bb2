using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using DataPrep.Data;

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
        var output = new ArrayBufferWriter<byte>(Math.Max(4096, count * batch.Schema.Count * 12));
        var ends = new int[count];
        var hashes = new ulong[count];
        for (int k = 0; k < count; k++)
        {
            int from = output.WrittenCount;
            WriteRow(batch, start + k, output);
            hashes[k] = XxHash3.HashToUInt64(output.WrittenSpan[from..]);
            output.GetSpan(1)[0] = (byte)'\n';
            output.Advance(1);
            ends[k] = output.WrittenCount;
        }
        return new FormattedChunk(output.WrittenMemory.ToArray(), output.WrittenCount, ends, hashes);
    }

    /// <summary>Writes one row without its line break.</summary>
    protected abstract void WriteRow(RecordBatch batch, int row, ArrayBufferWriter<byte> output);

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

    /// <inheritdoc />
    public override byte[] FileHeader(Schema schema) => Encoding.UTF8.GetBytes(string.Join(",", schema.Fields.Select(f => Quote(f.Name))) + "\n");

    /// <inheritdoc />
    protected override void WriteRow(RecordBatch batch, int row, ArrayBufferWriter<byte> output)
    {
        var sb = new StringBuilder();
        for (int c = 0; c < batch.Columns.Count; c++)
        {
            if (c > 0) sb.Append(',');
            sb.Append(Quote(Text(batch.Columns[c], row) ?? ""));
        }
        output.Write(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    private static string Quote(string value)
        => value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
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
    protected override void WriteRow(RecordBatch batch, int row, ArrayBufferWriter<byte> output)
    {
        using var w = new Utf8JsonWriter(output);
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
    }
}
