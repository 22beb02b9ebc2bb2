using System.Text;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Tests.Sources;

/// <summary>
/// The byte-range rule both line-based sources share (<c>TextRanges</c>): a range that starts at or before the input's
/// first record (inside a UTF-8 byte-order mark, a CSV header, or blank lines before either) starts at that record, so
/// none is lost between the first range (which stops at it) and the second, and no header is read as a row.
/// </summary>
public class TextRangesTests
{
    [Theory]
    // A byte-order mark, no header: the first record starts at byte 3.
    [InlineData("csv", true, false, "", 1)]
    [InlineData("csv", true, false, "", 2)]
    [InlineData("csv", true, false, "", 3)]
    [InlineData("jsonl", true, false, "", 1)]
    [InlineData("jsonl", true, false, "", 3)]
    // A header after a byte-order mark: a range inside the mark must not start at the header.
    [InlineData("csv", true, true, "", 1)]
    [InlineData("csv", true, true, "", 3)]
    // Blank lines before the header, or before the first JSON object.
    [InlineData("csv", false, true, "\n\n\n", 2)]
    [InlineData("csv", true, true, "\r\n\r\n", 4)]
    [InlineData("jsonl", true, false, "\n  \n", 2)]
    public void A_range_before_the_first_record_starts_at_it(string format, bool bom, bool header, string lead, int range)
    {
        using var dir = new TempDir();
        string body = format == "csv" ? "1,a\n2,b\n3,c\n" : "{\"x\": 1}\n{\"x\": 2}\n{\"x\": 3}\n";
        string text = lead + (header ? "x,y\n" : "") + body;
        var path = dir.File($"rows.{format}", "");
        File.WriteAllBytes(path, [.. bom ? new byte[] { 0xEF, 0xBB, 0xBF } : [], .. Encoding.UTF8.GetBytes(text)]);
        var options = new SourceOptions { HasHeader = header, RangeBytes = range, BatchRows = 2 };
        IRecordSource Open()
        {
            IRecordSource s = format == "csv" ? new CsvSource(path, options) : new JsonLinesSource(path, options);
            s.OpenAsync().AsTask().Wait();
            return s;
        }
        var whole = Open().ReadAsync(0).ToBlockingEnumerable().SelectMany(b => b.Rows.RowIds.ToArray()).ToList();
        // Each row's id is its record's 1-based byte position.
        int first = (bom ? 3 : 0) + text.Length - body.Length + 1;
        Assert.Equal([first, first + body.IndexOf('\n') + 1, first + body.IndexOf('\n', body.IndexOf('\n') + 1) + 1], whole);
        var source = Open();
        Assert.True(source.Parts.Count > 3);
        var apart = new List<long>();
        for (int p = 0; p < source.Parts.Count; p++)
        {
            apart.AddRange(Open().ReadPartsAsync(0, p, p + 1).ToBlockingEnumerable().SelectMany(b => b.Rows.RowIds.ToArray()));
        }
        Assert.Equal(whole, apart);
    }
}
