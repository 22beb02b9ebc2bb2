using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Sources;

/// <summary>
/// A CSV file divided into byte ranges (<see cref="SourceOptions.RangeBytes"/>, for a scaled-out run's scan tasks): its
/// parts, read one at a time or several together, give exactly the rows of a whole read, with the same ids and values,
/// and each read stops where the next one starts.
/// </summary>
public class CsvRangeTests
{
    // No quoted line break: a range starts after a line break, which such a field would hold.
    private static readonly Gen<string> Field = Gen.Elements("1", "22", "-3.5", "abc", "\"q,uoted\"", "\"he said \"\"hi\"\"\"", "", "ünï");

    [Property(MaxTest = 80)]
    public Property Parts_read_apart_are_the_whole_read()
        => Prop.ForAll(
            Gen.ListOf(Gen.OneOf(Field.Two().Select(t => (t.Item1, t.Item2, Blank: false)), Gen.Constant(("", "", Blank: true)))).Where(l => l.Count(r => !r.Blank) >= 1).ToArbitrary(),
            Gen.Choose(1, 40).ToArbitrary(),
            Gen.Elements("\n", "\r\n").SelectMany(n => Gen.Elements(0, 1, 2, 3, 4, 5).Select(v => (n, v))).ToArbitrary(),
            (rows, range, form) =>
            {
                var (newline, variant) = form;
                bool bom = variant is 1 or 4 or 5, noHeader = variant is 2 or 4, noFinalBreak = variant == 3;
                var text = new StringBuilder();
                // Blank lines before the header: a range that starts among them starts at the first record.
                if (variant == 5) text.Append(newline).Append(newline);
                if (!noHeader) text.Append("a,b").Append(newline);
                foreach (var (a, b, blank) in rows)
                {
                    if (blank) text.Append(newline);
                    else text.Append(a.Length == 0 ? "0" : a).Append(',').Append(b).Append(newline);
                }
                var bytes = Encoding.UTF8.GetBytes(text.ToString());
                if (noFinalBreak) bytes = bytes[..^newline.Length];
                if (bom) bytes = [0xEF, 0xBB, 0xBF, .. bytes];
                using var dir = new TempDir();
                var path = Path.Combine(dir.Path, "rows.csv");
                File.WriteAllBytes(path, bytes);
                SourceOptions Options(long rangeBytes) => new()
                {
                    HasHeader = !noHeader, BatchRows = 2, Threads = 2, RangeBytes = rangeBytes,
                    ColumnTypes = noHeader
                        ? new Dictionary<string, ColumnKind> { ["c0"] = ColumnKind.String, ["c1"] = ColumnKind.String }
                        : new Dictionary<string, ColumnKind> { ["a"] = ColumnKind.String, ["b"] = ColumnKind.String },
                };
                static List<(long Id, string? A, string? B)> Rows(IEnumerable<RecordBatch> batches, List<long>? sourceRows = null)
                {
                    var list = new List<(long, string?, string?)>();
                    foreach (var batch in batches)
                    {
                        var a = (StringColumn)batch.Columns[0];
                        var b = (StringColumn)batch.Columns[1];
                        for (int r = 0; r < batch.RowCount; r++)
                        {
                            list.Add((batch.Rows.RowIds[r], a.IsNull(r) ? null : a.Values[r], b.IsNull(r) ? null : b.Values[r]));
                            sourceRows?.Add(batch.Rows.SourceRows[r]);
                        }
                    }
                    return list;
                }
                var whole = Rows(new CsvSource(path, Options(0)).ReadAsync(1).ToBlockingEnumerable());
                var source = new CsvSource(path, Options(range));
                source.OpenAsync().AsTask().Wait();
                int count = source.Parts.Count;
                long expectedParts = bytes.Length <= range ? 1 : (bytes.Length + range - 1) / range;
                if (count != expectedParts) return false.Label($"{count} parts of {bytes.Length} bytes at {range}, expected {expectedParts}");
                // Every part alone, then the parts in three reads (first third, middle, rest).
                foreach (var cuts in new[] { Enumerable.Range(0, count + 1).ToArray(), new[] { 0, count / 3, 2 * count / 3, count }.Distinct().ToArray() })
                {
                    var apart = new List<(long, string?, string?)>();
                    var reads = new List<PartRead>();
                    for (int k = 0; k + 1 < cuts.Length; k++)
                    {
                        if (cuts[k] == cuts[k + 1]) continue;
                        var part = new CsvSource(path, Options(range));
                        part.OpenAsync().AsTask().Wait();
                        var sourceRows = new List<long>();
                        var got = Rows(part.ReadPartsAsync(1, cuts[k], cuts[k + 1]).ToBlockingEnumerable(), sourceRows);
                        if (!sourceRows.SequenceEqual(Enumerable.Range(1, got.Count).Select(i => (long)i))) return false.Label($"parts {cuts[k]}…{cuts[k + 1]}: source rows {string.Join(" ", sourceRows)}");
                        apart.AddRange(got);
                        if (count > 1) reads.AddRange(part.PartsRead);
                    }
                    if (!apart.SequenceEqual(whole)) return false.Label($"cuts {string.Join(",", cuts)}: {apart.Count} rows apart, {whole.Count} whole");
                    for (int k = 1; k < reads.Count; k++)
                    {
                        if (reads[k - 1].Stop != reads[k].Start || reads[k - 1].End != reads[k].First) return false.Label($"reads do not meet: {reads[k - 1]} then {reads[k]}");
                    }
                    if (count > 1 && (reads[0].First != 0 || reads[^1].Stop != long.MaxValue || reads.Sum(r => r.Rows) != whole.Count)) return false.Label($"reads {string.Join("; ", reads)}");
                }
                return true.ToProperty();
            });
}
