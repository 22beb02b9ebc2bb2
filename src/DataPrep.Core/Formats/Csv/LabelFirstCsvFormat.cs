using System.IO.Hashing;
using System.Runtime.Intrinsics.X86;
using CsvHelper;
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
    /// Formatted records go through one CsvHelper <see cref="CsvHelper.CsvWriter"/> per chunk (see
    /// <see cref="NumberText"/>): doubles shortest round-trip and integers invariant, booleans 1/0, sparse columns
    /// dense. Only numbers are written, so no field is ever quoted and every '\n' ends a record. Rows whose input
    /// text is already exactly that (see RawRecords) are copied. Each record's hash (lineage content_hash) is XxHash3
    /// of its bytes without the '\n'.
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
            // gather (Column.GatherDeferred) is not done for the few rows that kept no text. By kind, not by type: a
            // column a text spill left to the rows' text is a placeholder, never read (every row has its text).
            kinds[c] = cols[c].Kind is ColumnKind.Float64 or ColumnKind.Int64 or ColumnKind.Boolean or ColumnKind.Sparse
                ? cols[c].Kind
                : throw new NotSupportedException($"CSV output cannot hold {cols[c].Kind} columns.");
        }
        // Rows whose input text is already exactly what we would write are copied (see RawRecords).
        var raw = batch.Raw is { } text && text.Matches(batch.Schema) ? text.Records : null;
        if (Array.TrueForAll(kinds, k => k is ColumnKind.Int64 or ColumnKind.Boolean)) return FormatIntegral(batch, start, count, raw);
        // Records go straight into a pooled buffer (the writer gives it back once written); a record without kept text is
        // formatted by the CsvHelper writer into a small scratch stream and copied after it.
        var output = new PooledBufferWriter(count * width * 12);
        var ends = new int[count];
        var hashes = new ulong[count];
        MemoryStream? scratch = null;
        CsvWriter? writer = null;
        try
        {
            for (int k = 0; k < count; k++)
            {
                int r = start + k, recordStart = output.Length;
                if (raw is not null && raw[r].Length > 0)
                {
                    if (k + PrefetchAhead < count) Prefetch(raw[r + PrefetchAhead].Span);
                    var kept = raw[r].Span;
                    var buffer = output.Reserve(kept.Length + 1);
                    kept.CopyTo(buffer.AsSpan(recordStart));
                    buffer[recordStart + kept.Length] = (byte)'\n';
                    output.Advance(kept.Length + 1);
                }
                else
                {
                    scratch ??= new MemoryStream(width * 32);
                    writer ??= NumberText.CreateWriter(scratch);
                    scratch.SetLength(0);
                    for (int c = 0; c < width; c++)
                    {
                        switch (kinds[c])
                        {
                            case ColumnKind.Float64:
                                writer.WriteField(raw is null ? (doubles[c] ??= ((Float64Column)cols[c]).Values)[r] : ((Float64Column)cols[c]).ValueAt(r));
                                break;
                            case ColumnKind.Int64:
                                writer.WriteField(raw is null ? (longs[c] ??= ((Int64Column)cols[c]).Values)[r] : ((Int64Column)cols[c]).ValueAt(r));
                                break;
                            case ColumnKind.Boolean:
                                writer.WriteField(((BooleanColumn)cols[c]).Values[r] ? "1"u8 : "0"u8);
                                break;
                            default:
                                WriteSparse(writer, (SparseColumn)cols[c], r);
                                break;
                        }
                    }
                    // CsvHelper refuses a record without fields; ours is an empty line (no columns, or only empty sparse ones).
                    if (writer.FieldCount == 0) scratch.WriteByte((byte)'\n');
                    else
                    {
                        writer.EndRecord();
                        writer.Flush();
                    }
                    output.Write(scratch.GetBuffer().AsSpan(0, (int)scratch.Length));
                }
                int end = output.Length;
                hashes[k] = XxHash3.HashToUInt64(output.Buffer.AsSpan(recordStart, end - 1 - recordStart));
                ends[k] = end;
            }
        }
        finally
        {
            writer?.Dispose();
        }
        return output.ToChunk(ends, hashes);
    }

    /// <summary>
    /// How many rows ahead <see cref="Format"/> and <see cref="FormatIntegral"/> ask for a row's kept text: the rows of a
    /// shuffled batch lie anywhere in the source's blocks, so copying a row's text began with a cache miss (as
    /// RecordIO-protobuf's float32 values did).
    /// </summary>
    private const int PrefetchAhead = 8;

    /// <summary>Asks the CPU to load <paramref name="text"/> into its caches (a hint; no effect on results).</summary>
    private static unsafe void Prefetch(ReadOnlySpan<byte> text)
    {
        if (!Sse.IsSupported || text.IsEmpty) return;
        fixed (byte* p = text)
        {
            for (int at = 0; at < text.Length; at += 64) Sse.Prefetch0(p + at);
            Sse.Prefetch0(p + text.Length - 1);
        }
    }

    /// <summary>
    /// <see cref="Format"/> for rows of integers and booleans only, written straight into the chunk's buffer with
    /// <see cref="AsciiDigits"/> (the bytes of invariant <c>long.ToString()</c>, as the CsvHelper writer writes them)
    /// instead of a writer call per field: a third of W2's formatting time went into the per-field calls.
    /// </summary>
    private static FormattedChunk FormatIntegral(RecordBatch batch, int start, int count, ReadOnlyMemory<byte>[]? raw)
    {
        var cols = batch.Columns;
        int width = cols.Count;
        int maxRecord = width * (AsciiDigits.MaxInt64Length + 1) + 1;
        var output = new PooledBufferWriter(count * (width * 6 + 1));
        var ends = new int[count];
        var hashes = new ulong[count];
        int used = 0;
        for (int k = 0; k < count; k++)
        {
            int r = start + k, recordStart = used;
            int need = raw is not null && raw[r].Length > 0 ? raw[r].Length + 1 : maxRecord;
            var buffer = output.Reserve(need);
            if (raw is not null && raw[r].Length > 0)
            {
                // As in Format: a shuffled row's kept text is a cache miss, asked for ahead (20 M rows of three small integers
                // spent 14 % of their time in this copy).
                if (k + PrefetchAhead < count) Prefetch(raw[r + PrefetchAhead].Span);
                raw[r].Span.CopyTo(buffer.AsSpan(used));
                used += raw[r].Length;
            }
            else
            {
                for (int c = 0; c < width; c++)
                {
                    if (c > 0) buffer[used++] = (byte)',';
                    if (cols[c] is Int64Column l) used = AsciiDigits.WriteInt64(buffer, used, raw is null ? l.Values[r] : l.ValueAt(r));
                    else buffer[used++] = ((BooleanColumn)cols[c]).Values[r] ? (byte)'1' : (byte)'0';
                }
            }
            buffer[used++] = (byte)'\n';
            output.Advance(used - output.Length);
            hashes[k] = XxHash3.HashToUInt64(buffer.AsSpan(recordStart, used - 1 - recordStart));
            ends[k] = used;
        }
        return output.ToChunk(ends, hashes);
    }

    /// <summary>A sparse row written dense: its width of values, zeros where the row has none.</summary>
    private static void WriteSparse(CsvWriter writer, SparseColumn s, int row)
    {
        int next = s.RowOffsets[row], end = s.RowOffsets[row + 1];
        for (int j = 0; j < s.Width; j++)
        {
            if (next < end && s.Indices[next] == j) writer.WriteField(s.Values[next++]);
            else writer.WriteField("0"u8);
        }
    }
}
