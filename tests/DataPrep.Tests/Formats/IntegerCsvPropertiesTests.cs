using System.IO.Hashing;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Formats;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Formats;

/// <summary>
/// Label-first CSV of Int64/Boolean-only batches is written by hand (no CsvHelper writer); its bytes, record ends
/// and record hashes must be exactly those of CsvHelper's writer, which formats every other batch.
/// </summary>
public class IntegerCsvPropertiesTests
{
    private static readonly long[] s_edges = [0, 1, -1, 9, 10, 11, 99, 100, 101, -9, -10, -99, -100, 999_999_999, 1_000_000_000, long.MaxValue, long.MinValue, long.MinValue + 1];

    private static (byte[] Bytes, int[] Ends, ulong[] Hashes) Reference(IReadOnlyList<Column> cols, int start, int count)
    {
        var stream = new MemoryStream();
        using (var writer = CsvWriter.Create(stream, CsvWriterOptions.Default with { NewLine = "\n", Separator = ',' }, leaveOpen: true))
        {
            for (int r = start; r < start + count; r++)
            {
                foreach (var c in cols)
                {
                    if (c is Int64Column l) writer.WriteField(l.Values[r], default);
                    else writer.WriteField(((BooleanColumn)c).Values[r] ? "1"u8 : "0"u8);
                }
                writer.EndRecord();
            }
        }
        var bytes = stream.ToArray();
        var ends = new List<int>();
        var hashes = new List<ulong>();
        int pos = 0;
        while (pos < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', pos);
            hashes.Add(XxHash3.HashToUInt64(bytes.AsSpan(pos, nl - pos)));
            pos = nl + 1;
            ends.Add(pos);
        }
        return (bytes, ends.ToArray(), hashes.ToArray());
    }

    [Property(MaxTest = 300)]
    public Property Integer_and_boolean_rows_match_CsvHelper(ulong seed, byte columnCount, byte rowCount, byte startAt)
    {
        var random = new Random((int)(seed ^ (seed >> 32)));
        int width = 1 + columnCount % 6, rows = rowCount % 60, start = rows == 0 ? 0 : startAt % (rows + 1);
        var fields = new List<Field>();
        var cols = new List<Column>();
        for (int c = 0; c < width; c++)
        {
            if (random.Next(4) == 0)
            {
                fields.Add(new Field($"b{c}", ColumnKind.Boolean));
                cols.Add(new BooleanColumn(Enumerable.Range(0, rows).Select(_ => random.Next(2) == 1).ToArray()));
            }
            else
            {
                fields.Add(new Field($"i{c}", ColumnKind.Int64));
                cols.Add(new Int64Column(Enumerable.Range(0, rows).Select(_ => random.Next(4) switch
                {
                    0 => s_edges[random.Next(s_edges.Length)],
                    1 => random.NextInt64(-1000, 1000),
                    2 => random.NextInt64(long.MinValue, long.MaxValue),
                    _ => random.NextInt64() >> random.Next(64),
                }).ToArray()));
            }
        }
        var ids = Enumerable.Range(1, rows).Select(i => (long)i).ToArray();
        var batch = new RecordBatch(new Schema(fields), cols, rows, new RowInfo(ids, new int[rows], ids));
        int count = rows - start;
        var chunk = new LabelFirstCsvFormat(true).Format(batch, start, count);
        var (bytes, ends, hashes) = Reference(cols, start, count);
        return (chunk.Data.AsSpan(0, chunk.Length).SequenceEqual(bytes) && chunk.RecordEnds.SequenceEqual(ends) && chunk.Hashes.SequenceEqual(hashes))
            .Label(System.Text.Encoding.ASCII.GetString(chunk.Data, 0, chunk.Length) + " vs " + System.Text.Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void Wide_rows_of_extreme_values_grow_the_buffer_and_match()
    {
        // 300 columns of long.MinValue: far more than the first buffer guess per row.
        int width = 300, rows = 50;
        var fields = Enumerable.Range(0, width).Select(c => new Field($"c{c}", ColumnKind.Int64)).ToList();
        var cols = Enumerable.Range(0, width).Select(c => (Column)new Int64Column(Enumerable.Repeat(c % 2 == 0 ? long.MinValue : long.MaxValue, rows).ToArray())).ToList();
        var ids = Enumerable.Range(1, rows).Select(i => (long)i).ToArray();
        var chunk = new LabelFirstCsvFormat(true).Format(new RecordBatch(new Schema(fields), cols, rows, new RowInfo(ids, new int[rows], ids)), 0, rows);
        var (bytes, ends, hashes) = Reference(cols, 0, rows);
        Assert.Equal(bytes, chunk.Data.AsSpan(0, chunk.Length).ToArray());
        Assert.Equal(ends, chunk.RecordEnds);
        Assert.Equal(hashes, chunk.Hashes);
    }
}
