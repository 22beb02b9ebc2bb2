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
            Gen.Elements("\n", "\r\n").SelectMany(n => Gen.Elements(0, 1, 2, 3, 4, 5).SelectMany(v => Gen.Elements(false, true).Select(q => (n, v, q)))).ToArbitrary(),
            (rows, range, form) =>
            {
                // Quarantining sources keep each row's line number, which the reads must give as the whole read does.
                var (newline, variant, quarantine) = form;
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
                    BadRows = quarantine ? new BadRows(BadRowPolicy.Quarantine, new RunReport()) : null,
                    ColumnTypes = noHeader
                        ? new Dictionary<string, ColumnKind> { ["c0"] = ColumnKind.String, ["c1"] = ColumnKind.String }
                        : new Dictionary<string, ColumnKind> { ["a"] = ColumnKind.String, ["b"] = ColumnKind.String },
                };
                return TextRangesTests.PartsReadApartAreTheWholeRead(r => new CsvSource(path, Options(r)), bytes.Length, range);
            });
}
