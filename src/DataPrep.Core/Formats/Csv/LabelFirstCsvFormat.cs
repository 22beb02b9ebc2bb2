using System.IO.Hashing;
using DataPrep.Data;
using DataPrep.Output;

namespace DataPrep.Formats;

/// <summary>
/// SageMaker's CSV: label first, no header, UTF-8 without BOM, LF, every file ending in a newline,
/// invariant culture, shortest round-trip floats, integers as integers; sparse columns written out dense.
/// Without a label the content type is text/csv;label_size=0.
/// </summary>
public sealed class LabelFirstCsvFormat(bool hasLabel) : IRecordFormat
{
    /// <inheritdoc />
    public string Extension => "csv";

    /// <inheritdoc />
    public string ContentType => hasLabel ? "text/csv" : "text/csv;label_size=0";

    /// <inheritdoc />
    public void Validate(Schema schema, bool hasLabel)
    {
        foreach (var f in schema.Fields)
        {
            if (!f.IsNumeric) throw new PipelineValidationException($"CSV output needs numeric columns, but '{f.Name}' is {f.Kind}.");
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Records are written straight into one byte buffer: doubles by <see cref="NumberText"/> (shortest
    /// round-trip, invariant; CsvHelper's Dragonbox formatter), integers invariant (<see cref="AsciiDigits"/>), booleans 1/0, sparse columns
    /// dense. Only numbers are written, so no field is ever quoted and every '\n' ends a record. Each record's
    /// hash (lineage content_hash) is XxHash3 of its bytes without the '\n'.
    /// </remarks>
    public FormattedChunk Format(RecordBatch batch, int start, int count)
    {
        var cols = batch.Columns;
        int width = cols.Count;
        var kinds = new ColumnKind[width];
        var doubles = new double[]?[width];
        var longs = new long[]?[width];
        for (int c = 0; c < width; c++)
        {
            // Values are fetched when a row needs formatting; with copied rows around, row by row, so a deferred
            // gather (Column.GatherDeferred) is not done for the few rows that kept no text.
            switch (cols[c])
            {
                case Float64Column: kinds[c] = ColumnKind.Float64; break;
                case Int64Column: kinds[c] = ColumnKind.Int64; break;
                case BooleanColumn: kinds[c] = ColumnKind.Boolean; break;
                case SparseColumn: kinds[c] = ColumnKind.Sparse; break;
                default: throw new NotSupportedException($"CSV output cannot hold {cols[c].Kind} columns.");
            }
        }
        // Rows whose input text is already exactly what we would write are copied (see RawRecords).
        var raw = batch.Raw is { } text && text.Matches(batch.Schema) ? text.Records : null;
        var data = GC.AllocateUninitializedArray<byte>(Math.Max(4096, count * width * 12 + NumberText.MaxDoubleLength)); // only [0, pos) is read
        int pos = 0;
        var ends = new int[count];
        var hashes = new ulong[count];
        for (int k = 0; k < count; k++)
        {
            int r = start + k, recordStart = pos;
            if (raw is not null && raw[r].Length > 0)
            {
                var record = raw[r].Span;
                if (data.Length - pos < record.Length + 1) Array.Resize(ref data, Math.Max(data.Length * 2, pos + record.Length + 1));
                record.CopyTo(data.AsSpan(pos));
                pos += record.Length;
                hashes[k] = XxHash3.HashToUInt64(record);
                data[pos++] = (byte)'\n';
                ends[k] = pos;
                continue;
            }
            for (int c = 0; c < width; c++)
            {
                if (data.Length - pos < NumberText.MaxDoubleLength + 2) Array.Resize(ref data, data.Length * 2);
                if (kinds[c] != ColumnKind.Sparse && pos != recordStart) data[pos++] = (byte)',';
                switch (kinds[c])
                {
                    case ColumnKind.Float64:
                        pos += NumberText.Write(raw is null ? (doubles[c] ??= ((Float64Column)cols[c]).Values)[r] : ((Float64Column)cols[c]).ValueAt(r), data.AsSpan(pos));
                        break;
                    case ColumnKind.Int64:
                        pos = AsciiDigits.WriteInt64(data, pos, raw is null ? (longs[c] ??= ((Int64Column)cols[c]).Values)[r] : ((Int64Column)cols[c]).ValueAt(r));
                        break;
                    case ColumnKind.Boolean:
                        data[pos++] = ((BooleanColumn)cols[c]).Values[r] ? (byte)'1' : (byte)'0';
                        break;
                    default:
                        pos = WriteSparse(ref data, pos, recordStart, (SparseColumn)cols[c], r);
                        break;
                }
            }
            hashes[k] = XxHash3.HashToUInt64(data.AsSpan(recordStart, pos - recordStart));
            data[pos++] = (byte)'\n';
            ends[k] = pos;
        }
        return new FormattedChunk(data, pos, ends, hashes);
    }

    /// <summary>A sparse row written dense: its width of values, zeros where the row has none, comma-separated.</summary>
    private static int WriteSparse(ref byte[] data, int pos, int recordStart, SparseColumn s, int row)
    {
        int next = s.RowOffsets[row], end = s.RowOffsets[row + 1];
        for (int j = 0; j < s.Width; j++)
        {
            if (data.Length - pos < NumberText.MaxDoubleLength + 2) Array.Resize(ref data, data.Length * 2);
            if (pos != recordStart) data[pos++] = (byte)',';
            if (next < end && s.Indices[next] == j) pos += NumberText.Write(s.Values[next++], data.AsSpan(pos));
            else data[pos++] = (byte)'0';
        }
        return pos;
    }
}
