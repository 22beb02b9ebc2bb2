using CsvHelper;
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
    /// Numbers are written by CsvHelper's writer, whose Dragonbox formatter produces exactly the bytes of
    /// double.TryFormat (shortest round-trip, invariant) about twice as fast. Only numbers are written,
    /// so no field is ever quoted and every '\n' ends a record.
    /// </remarks>
    public FormattedChunk Format(RecordBatch batch, int start, int count)
    {
        var cols = batch.Columns;
        if (IntegersOnly(cols)) return FormatIntegers(cols, start, count);
        var stream = new MemoryStream(Math.Max(4096, count * cols.Count * 10));
        using (var writer = CsvWriter.Create(stream, s_options, leaveOpen: true))
        {
            for (int r = start; r < start + count; r++)
            {
                for (int c = 0; c < cols.Count; c++) WriteValue(writer, cols[c], r);
                writer.EndRecord();
            }
        }
        var data = stream.GetBuffer();
        int length = (int)stream.Length;
        var ends = new int[count];
        var hashes = new ulong[count];
        int pos = 0;
        for (int k = 0; k < count; k++)
        {
            int nl = data.AsSpan(pos, length - pos).IndexOf((byte)'\n');
            hashes[k] = XxHash3.HashToUInt64(data.AsSpan(pos, nl));
            pos += nl + 1;
            ends[k] = pos;
        }
        return new FormattedChunk(data, length, ends, hashes);
    }

    private static bool IntegersOnly(IReadOnlyList<Column> cols)
    {
        foreach (var c in cols)
        {
            if (c is not (Int64Column or BooleanColumn)) return false;
        }
        return true;
    }

    /// <summary>
    /// Only Int64 and Boolean columns: the same bytes as the CsvHelper path (invariant integers, "1"/"0"), written
    /// straight into the buffer by <see cref="AsciiDigits"/>, hashed as each record ends.
    /// </summary>
    private static FormattedChunk FormatIntegers(IReadOnlyList<Column> cols, int start, int count)
    {
        int maxRecord = cols.Count * (AsciiDigits.MaxInt64Length + 1) + 1;
        var data = GC.AllocateUninitializedArray<byte>(Math.Max(4096, Math.Max(maxRecord, count * cols.Count * 8))); // only [0, length) is read
        var ends = new int[count];
        var hashes = new ulong[count];
        var longs = new long[]?[cols.Count];
        var bools = new bool[]?[cols.Count];
        for (int c = 0; c < cols.Count; c++)
        {
            if (cols[c] is Int64Column l) longs[c] = l.Values;
            else bools[c] = ((BooleanColumn)cols[c]).Values;
        }
        int pos = 0;
        for (int k = 0; k < count; k++)
        {
            int r = start + k;
            if (data.Length - pos < maxRecord) Array.Resize(ref data, Math.Max(data.Length * 2, pos + maxRecord));
            var span = data.AsSpan();
            int p = pos;
            for (int c = 0; c < longs.Length; c++)
            {
                if (c > 0) span[p++] = (byte)',';
                if (longs[c] is { } values) p = AsciiDigits.WriteInt64(span, p, values[r]);
                else span[p++] = bools[c]![r] ? (byte)'1' : (byte)'0';
            }
            hashes[k] = XxHash3.HashToUInt64(span[pos..p]);
            span[p++] = (byte)'\n';
            ends[k] = pos = p;
        }
        return new FormattedChunk(data, pos, ends, hashes);
    }

    private static readonly CsvWriterOptions s_options = CsvWriterOptions.Default with { NewLine = "\n", Separator = ',' };

    private static void WriteValue(CsvWriter writer, Column column, int row)
    {
        switch (column)
        {
            case Float64Column d:
                writer.WriteField(d.Values[row], default);
                return;
            case Int64Column l:
                writer.WriteField(l.Values[row], default);
                return;
            case BooleanColumn b:
                writer.WriteField(b.Values[row] ? "1"u8 : "0"u8);
                return;
            case SparseColumn s:
            {
                int next = s.RowOffsets[row], end = s.RowOffsets[row + 1];
                for (int j = 0; j < s.Width; j++)
                {
                    if (next < end && s.Indices[next] == j) writer.WriteField(s.Values[next++], default);
                    else writer.WriteField("0"u8);
                }
                return;
            }
            default:
                throw new NotSupportedException($"CSV output cannot hold {column.Kind} columns.");
        }
    }
}
