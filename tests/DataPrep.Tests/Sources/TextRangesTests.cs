using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Tests.Sources;

/// <summary>
/// The byte-range rule both line-based sources share (<c>TextRanges</c>): a range that starts inside a UTF-8 byte-order
/// mark starts at the first record, so no record is lost between the first range (which stops at it) and the second.
/// </summary>
public class TextRangesTests
{
    [Theory]
    [InlineData("csv", 1)]
    [InlineData("csv", 2)]
    [InlineData("csv", 3)]
    [InlineData("jsonl", 1)]
    [InlineData("jsonl", 3)]
    public void A_range_inside_a_byte_order_mark_starts_at_the_first_record(string format, int range)
    {
        using var dir = new TempDir();
        string text = format == "csv" ? "1,a\n2,b\n3,c\n" : "{\"x\": 1}\n{\"x\": 2}\n{\"x\": 3}\n";
        var path = dir.File($"rows.{format}", "");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)]);
        var options = new SourceOptions { HasHeader = false, RangeBytes = range, BatchRows = 2 };
        IRecordSource Open()
        {
            IRecordSource s = format == "csv" ? new CsvSource(path, options) : new JsonLinesSource(path, options);
            s.OpenAsync().AsTask().Wait();
            return s;
        }
        var whole = Open().ReadAsync(0).ToBlockingEnumerable().SelectMany(b => b.Rows.RowIds.ToArray()).ToList();
        Assert.Equal([4L, 4 + text.IndexOf('\n') + 1, 4 + text.IndexOf('\n', text.IndexOf('\n') + 1) + 1], whole);
        var source = Open();
        var apart = new List<long>();
        for (int p = 0; p < source.Parts.Count; p++)
        {
            apart.AddRange(Open().ReadPartsAsync(0, p, p + 1).ToBlockingEnumerable().SelectMany(b => b.Rows.RowIds.ToArray()));
        }
        Assert.Equal(whole, apart);
    }
}
