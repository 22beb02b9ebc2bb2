using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Sources;

/// <summary>
/// A JSON Lines file divided into byte ranges (<see cref="SourceOptions.RangeBytes"/>, for a scaled-out run's scan tasks):
/// its parts, read one at a time or several together, give exactly the rows of a whole read, with the same ids (each
/// line's byte position) and values, and each read stops where the next one starts.
/// </summary>
public class JsonLinesRangeTests
{
    private static readonly Gen<string> Value = Gen.Elements("1", "-3.5", "\"abc\"", "\"q \\\"x\\\" \\n y\"", "null", "\"ünï\"", "true", "\"\"");

    [Property(MaxTest = 80)]
    public Property Parts_read_apart_are_the_whole_read()
        => Prop.ForAll(
            Gen.ListOf(Gen.OneOf(Value.Two().Select(t => (t.Item1, t.Item2, Blank: false)), Gen.Elements(("", "", Blank: true), ("  ", "", Blank: true)))).Where(l => l.Count(r => !r.Blank) >= 1).ToArbitrary(),
            Gen.Choose(1, 40).ToArbitrary(),
            Gen.Elements("\n", "\r\n").SelectMany(n => Gen.Elements(0, 1, 2).SelectMany(v => Gen.Elements(false, true).Select(q => (n, v, q)))).ToArbitrary(),
            (rows, range, form) =>
            {
                // Quarantining sources keep each row's line number, which the reads must give as the whole read does.
                var (newline, variant, quarantine) = form;
                bool bom = variant == 1, noFinalBreak = variant == 2;
                var text = new StringBuilder();
                foreach (var (a, b, blank) in rows)
                {
                    text.Append(blank ? a : $"{{\"a\": {a}, \"b\":{b}}}").Append(newline);
                }
                var bytes = Encoding.UTF8.GetBytes(text.ToString());
                if (noFinalBreak) bytes = bytes[..^newline.Length];
                if (bom) bytes = [0xEF, 0xBB, 0xBF, .. bytes];
                using var dir = new TempDir();
                var path = Path.Combine(dir.Path, "rows.jsonl");
                File.WriteAllBytes(path, bytes);
                SourceOptions Options(long rangeBytes) => new()
                {
                    BatchRows = 2, RangeBytes = rangeBytes,
                    BadRows = quarantine ? new BadRows(BadRowPolicy.Quarantine, new RunReport()) : null,
                    ColumnTypes = new Dictionary<string, ColumnKind> { ["a"] = ColumnKind.String, ["b"] = ColumnKind.String },
                };
                // A row's id is its line's 1-based byte position (a byte-order mark counts), after the source's bits.
                var lineStarts = new List<long>();
                for (int i = 0, start = 0; i <= bytes.Length; i++)
                {
                    if (i < bytes.Length && bytes[i] != (byte)'\n') continue;
                    var line = Encoding.UTF8.GetString(bytes, start, i - start).Trim('\uFEFF', ' ', '\r');
                    if (line.Length > 0) lineStarts.Add(start + (start == 0 && bom ? 3 : 0) + 1);
                    start = i + 1;
                }
                return TextRangesTests.IdsAreStartsAndPartsReadApartAreTheWholeRead(r => new JsonLinesSource(path, Options(r)), lineStarts, bytes.Length, range);
            });

    [Fact]
    public void A_file_that_cannot_be_divided_at_line_break_bytes_is_one_part()
    {
        using var dir = new TempDir();
        var lines = string.Concat(Enumerable.Range(0, 50).Select(i => $"{{\"a\": {i}}}\n"));
        var options = new SourceOptions { RangeBytes = 64 };
        // UTF-16 with its byte-order mark: a 0x0A byte there is half a character.
        var utf16 = dir.File("wide.jsonl", "");
        File.WriteAllText(utf16, lines, Encoding.Unicode);
        Assert.Single(new JsonLinesSource(utf16, options).Parts);
        // Gzip content behind a plain name; another encoding.
        var gz = dir.File("packed.jsonl", "");
        using (var file = File.Create(gz))
        using (var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            zip.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(lines, 20))));
        }
        Assert.Single(new JsonLinesSource(gz, options).Parts);
        var plain = dir.File("plain.jsonl", lines);
        Assert.Single(new JsonLinesSource(plain, options with { Encoding = "latin1" }).Parts);
        Assert.Equal((new FileInfo(plain).Length + 63) / 64, new JsonLinesSource(plain, options).Parts.Count);
        // A run that skips or quarantines bad rows is divided too: the commit numbers a range's quarantined rows.
        Assert.Equal((new FileInfo(plain).Length + 63) / 64, new JsonLinesSource(plain, options with { BadRows = new BadRows(BadRowPolicy.Quarantine, new RunReport()) }).Parts.Count);
    }
}
