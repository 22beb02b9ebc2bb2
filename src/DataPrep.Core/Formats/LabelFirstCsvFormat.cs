using System.Buffers.Text;
using System.Globalization;
using System.IO.Hashing;
using DataPrep.Data;

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
    public FormattedChunk Format(RecordBatch batch, int start, int count)
    {
        var cols = batch.Columns;
        int width = 0;
        foreach (var f in batch.Schema.Fields) width += f.Width;
        // The longest double is 24 bytes ("-2.2250738585072014E-308") plus a separator.
        int maxRow = Math.Max(1, width) * 25 + 1;
        var buffer = new byte[Math.Max(1024, count * Math.Min(maxRow, width * 12 + 8))];
        var ends = new int[count];
        var hashes = new ulong[count];
        int pos = 0;
        for (int k = 0; k < count; k++)
        {
            int r = start + k;
            if (buffer.Length - pos < maxRow) Array.Resize(ref buffer, Math.Max(buffer.Length * 2, pos + maxRow));
            int lineStart = pos;
            for (int c = 0; c < cols.Count; c++)
            {
                if (c > 0) buffer[pos++] = (byte)',';
                pos += WriteValue(cols[c], r, buffer.AsSpan(pos));
            }
            hashes[k] = XxHash3.HashToUInt64(buffer.AsSpan(lineStart, pos - lineStart));
            buffer[pos++] = (byte)'\n';
            ends[k] = pos;
        }
        return new FormattedChunk(buffer, pos, ends, hashes);
    }

    private static int WriteValue(Column column, int row, Span<byte> dest)
    {
        int n;
        switch (column)
        {
            case Float64Column d:
                WriteDouble(d.Values[row], dest, out n);
                return n;
            case Int64Column l:
                Utf8Formatter.TryFormat(l.Values[row], dest, out n);
                return n;
            case BooleanColumn b:
                dest[0] = b.Values[row] ? (byte)'1' : (byte)'0';
                return 1;
            case SparseColumn s:
            {
                int pos = 0;
                int next = s.RowOffsets[row], end = s.RowOffsets[row + 1];
                for (int j = 0; j < s.Width; j++)
                {
                    if (j > 0) dest[pos++] = (byte)',';
                    if (next < end && s.Indices[next] == j)
                    {
                        WriteDouble(s.Values[next++], dest[pos..], out n);
                        pos += n;
                    }
                    else
                    {
                        dest[pos++] = (byte)'0';
                    }
                }
                return pos;
            }
            default:
                throw new NotSupportedException($"CSV output cannot hold {column.Kind} columns.");
        }
    }

    /// <summary>Shortest round-trip text, integers without a fraction (3, not 3.0).</summary>
    internal static void WriteDouble(double value, Span<byte> dest, out int written)
    {
        // Integral values that fit a long print as integers: the fast path for counts and codes.
        if (value == Math.Floor(value) && Math.Abs(value) < 1e15 && !(value == 0 && double.IsNegative(value)))
        {
            Utf8Formatter.TryFormat((long)value, dest, out written);
            return;
        }
        value.TryFormat(dest, out written, default, CultureInfo.InvariantCulture);
    }
}
