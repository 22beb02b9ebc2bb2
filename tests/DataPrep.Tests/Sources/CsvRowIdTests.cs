using System.IO.Compression;
using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Sources;

/// <summary>
/// A CSV row's id is its record's 1-based byte position with the input's index in the bits from 40 on
/// (<see cref="RowInfo.AtPositions"/>), and its source row stays its 1-based data row: with quoted line breaks, CRLF, a
/// byte-order mark, no header, gzip, any batch size and any number of parser threads.
/// </summary>
public class CsvRowIdTests
{
    private static readonly Gen<string> Field = Gen.Elements("1", "22", "-3.5", "abc", "\"q,uoted\"", "\"two\nlines\"", "\"he said \"\"hi\"\"\"", "");

    [Property(MaxTest = 60)]
    public Property Ids_are_the_records_byte_positions()
        => Prop.ForAll(
            Gen.ListOf(Field.Two()).Where(l => l.Count >= 1).ToArbitrary(),
            Gen.Elements("\n", "\r\n").ToArbitrary(),
            Gen.Elements(0, 1, 2, 3).ToArbitrary(),
            (rows, newline, variant) =>
            {
                bool bom = variant == 1, noHeader = variant == 2, gzip = variant == 3;
                var text = new StringBuilder();
                if (!noHeader) text.Append("a,b").Append(newline);
                // Each record's start, in UTF-8 bytes (ASCII here), before the optional byte-order mark.
                var starts = new List<long>();
                foreach (var (a, b) in rows)
                {
                    starts.Add(text.Length);
                    // The first field is never empty, so no record is a blank line (which CsvHelper skips).
                    text.Append(a.Length == 0 ? "0" : a).Append(',').Append(b).Append(newline);
                }
                var bytes = Encoding.UTF8.GetBytes(text.ToString());
                int shift = bom ? 3 : 0;
                if (bom) bytes = [0xEF, 0xBB, 0xBF, .. bytes];
                using var dir = new TempDir();
                var path = Path.Combine(dir.Path, gzip ? "rows.csv.gz" : "rows.csv");
                if (gzip)
                {
                    using var file = File.Create(path);
                    using var z = new GZipStream(file, CompressionLevel.Fastest);
                    z.Write(bytes);
                }
                else
                {
                    File.WriteAllBytes(path, bytes);
                }
                foreach (int threads in new[] { 1, 2 })
                {
                    var options = new SourceOptions
                    {
                        HasHeader = !noHeader, BatchRows = 3, Threads = threads,
                        ColumnTypes = noHeader
                            ? new Dictionary<string, ColumnKind> { ["c0"] = ColumnKind.String, ["c1"] = ColumnKind.String }
                            : new Dictionary<string, ColumnKind> { ["a"] = ColumnKind.String, ["b"] = ColumnKind.String },
                    };
                    var ids = new List<long>();
                    var sourceRows = new List<long>();
                    foreach (var batch in new CsvSource(path, options).ReadAsync(5).ToBlockingEnumerable())
                    {
                        ids.AddRange(batch.Rows.RowIds.AsSpan(0, batch.RowCount).ToArray());
                        sourceRows.AddRange(batch.Rows.SourceRows.AsSpan(0, batch.RowCount).ToArray());
                    }
                    var expected = starts.Select(s => (5L << 40) | (s + shift + 1)).ToList();
                    if (!ids.SequenceEqual(expected)) return false.Label($"{threads} thread(s): ids {string.Join(" ", ids)}, expected {string.Join(" ", expected)}");
                    if (!sourceRows.SequenceEqual(Enumerable.Range(1, rows.Count).Select(i => (long)i))) return false.Label($"{threads} thread(s): source rows {string.Join(" ", sourceRows)}");
                }
                return true.ToProperty();
            });
}
