using System.Globalization;
using System.IO.Hashing;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Output;

namespace DataPrep.Formats;

/// <summary>
/// LibSVM text (SageMaker content type <c>text/libsvm</c>, as XGBoost reads it): one line per record,
/// <c>label index:value index:value …</c>, UTF-8 without BOM, LF, every line ending in a newline.
/// </summary>
/// <remarks>
/// <para>
/// Column 0 of a batch is the label. Every other column is a feature, and the features are flattened into
/// one index space in schema order: a dense Float64, Int64 or Boolean column takes one index, a
/// <see cref="SparseColumn"/> of width W takes W indexes (its entries at their offset). Indexes are 1-based
/// unless the format is created zero-based. Zeros are omitted, dense or sparse, as LibSVM is sparse, so a
/// reader sees the same matrix whether or not a zero was stored.
/// </para>
/// <para>
/// Numbers are written as <c>double.ToString(CultureInfo.InvariantCulture)</c> writes them (shortest text that
/// parses back to the same bits; integers without ".0"), the same text <see cref="LabelFirstCsvFormat"/> writes.
/// </para>
/// </remarks>
public sealed class LibSvmFormat : IRecordFormat
{
    private const string NeedsLabel =
        "LibSVM output needs a label: every line starts with one. Name the label column (--label), or write CSV, whose content type text/csv;label_size=0 allows data without a label.";

    /// <summary>Room for the longest token: a space, a 20-digit index, ':', a 24-character double, a newline.</summary>
    private const int MaxToken = 64;

    private readonly bool _zeroBased;

    /// <summary>Creates the format.</summary>
    /// <param name="hasLabel">Whether column 0 of the batches is the label; LibSVM cannot do without one.</param>
    /// <param name="zeroBased">Whether to number features from 0 instead of LibSVM's usual 1.</param>
    /// <exception cref="PipelineValidationException"><paramref name="hasLabel"/> is false.</exception>
    public LibSvmFormat(bool hasLabel, bool zeroBased = false)
    {
        if (!hasLabel) throw new PipelineValidationException(NeedsLabel);
        _zeroBased = zeroBased;
    }

    /// <inheritdoc />
    public string Extension => "libsvm";

    /// <inheritdoc />
    public string ContentType => "text/libsvm";

    /// <summary>Whether features are numbered from 0.</summary>
    public bool ZeroBased => _zeroBased;

    /// <inheritdoc />
    public void Validate(Schema schema, bool hasLabel)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (!hasLabel) throw new PipelineValidationException(NeedsLabel);
        if (schema.Count == 0) throw new PipelineValidationException("LibSVM output needs a label column; the data has no columns.");
        var problems = new List<string>();
        var label = schema[0];
        if (label.Kind is not (ColumnKind.Float64 or ColumnKind.Int64 or ColumnKind.Boolean))
        {
            problems.Add($"LibSVM output needs a numeric label in the first column, but '{label.Name}' is {label.Kind}.");
        }
        long width = 0;
        for (int i = 1; i < schema.Count; i++)
        {
            var f = schema[i];
            if (!f.IsNumeric) problems.Add($"LibSVM output needs numeric feature columns, but '{f.Name}' is {f.Kind}.");
            width += f.Kind == ColumnKind.Sparse ? f.Width : 1;
        }
        if (width > int.MaxValue) problems.Add($"LibSVM output holds at most {int.MaxValue} features, but the columns add up to {width}.");
        if (problems.Count > 0) throw new PipelineValidationException(problems);
    }

    /// <inheritdoc />
    /// <remarks>LibSVM rows are sparse (zeros omitted); the width is the size of the flattened index space.</remarks>
    public FormatInfo Describe(Schema schema, bool hasLabel)
    {
        ArgumentNullException.ThrowIfNull(schema);
        long width = 0;
        for (int i = hasLabel ? 1 : 0; i < schema.Count; i++) width += schema[i].Kind == ColumnKind.Sparse ? schema[i].Width : 1;
        return new FormatInfo(ContentType, (int)Math.Min(width, int.MaxValue), Sparse: true, Dtype: null, LabelDtype: null);
    }

    /// <inheritdoc />
    public FormattedChunk Format(RecordBatch batch, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var cols = batch.Columns;
        // The first index of each feature column: dense columns take one, sparse ones their width.
        var first = new long[cols.Count];
        long next = _zeroBased ? 0 : 1;
        for (int c = 1; c < cols.Count; c++)
        {
            first[c] = next;
            next += cols[c] is SparseColumn s ? s.Width : 1;
        }

        var writer = new Writer(Math.Max(4096, count * (8 + 12 * Math.Max(1, cols.Count - 1))));
        var ends = new int[count];
        var hashes = new ulong[count];
        for (int k = 0; k < count; k++)
        {
            int r = start + k;
            int lineStart = writer.Length;
            WriteLabel(ref writer, cols[0], r);
            for (int c = 1; c < cols.Count; c++) WriteFeature(ref writer, cols[c], r, first[c]);
            hashes[k] = XxHash3.HashToUInt64(writer.Buffer.AsSpan(lineStart, writer.Length - lineStart));
            writer.Byte((byte)'\n');
            ends[k] = writer.Length;
        }
        return new FormattedChunk(writer.Buffer, writer.Length, ends, hashes);
    }

    private static void WriteLabel(ref Writer writer, Column column, int row)
    {
        writer.Reserve();
        switch (column)
        {
            case Float64Column d:
                writer.Number(d.Values[row]);
                return;
            case Int64Column l:
                writer.Number(l.Values[row]);
                return;
            case BooleanColumn b:
                writer.Byte(b.Values[row] ? (byte)'1' : (byte)'0');
                return;
            default:
                throw new NotSupportedException($"LibSVM output cannot hold a {column.Kind} label.");
        }
    }

    private static void WriteFeature(ref Writer writer, Column column, int row, long index)
    {
        switch (column)
        {
            case Float64Column d:
            {
                double v = d.Values[row];
                if (v != 0) writer.Pair(index, v);
                return;
            }
            case Int64Column l:
            {
                long v = l.Values[row];
                if (v != 0) writer.Pair(index, v);
                return;
            }
            case BooleanColumn b:
                if (b.Values[row]) writer.Pair(index, 1L);
                return;
            case SparseColumn s:
            {
                for (int j = s.RowOffsets[row], end = s.RowOffsets[row + 1]; j < end; j++)
                {
                    double v = s.Values[j];
                    if (v != 0) writer.Pair(index + s.Indices[j], v);
                }
                return;
            }
            default:
                throw new NotSupportedException($"LibSVM output cannot hold {column.Kind} columns.");
        }
    }

    /// <summary>Appends ASCII to a growing byte array.</summary>
    private struct Writer(int capacity)
    {
        public byte[] Buffer = new byte[capacity];
        public int Length;

        /// <summary>Makes room for one more token.</summary>
        public void Reserve()
        {
            if (Buffer.Length - Length >= MaxToken) return;
            Array.Resize(ref Buffer, (int)Math.Min(Array.MaxLength, Math.Max(2L * Buffer.Length, Length + (long)MaxToken)));
        }

        public void Byte(byte b)
        {
            Reserve();
            Buffer[Length++] = b;
        }

        public void Number(double value)
        {
            if (!value.TryFormat(Buffer.AsSpan(Length), out int written, default, CultureInfo.InvariantCulture)) throw new InvalidOperationException("Token buffer too small.");
            Length += written;
        }

        public void Number(long value)
        {
            if (!value.TryFormat(Buffer.AsSpan(Length), out int written, default, CultureInfo.InvariantCulture)) throw new InvalidOperationException("Token buffer too small.");
            Length += written;
        }

        public void Pair(long index, double value)
        {
            Reserve();
            Buffer[Length++] = (byte)' ';
            Number(index);
            Buffer[Length++] = (byte)':';
            Number(value);
        }

        public void Pair(long index, long value)
        {
            Reserve();
            Buffer[Length++] = (byte)' ';
            Number(index);
            Buffer[Length++] = (byte)':';
            Number(value);
        }
    }
}
