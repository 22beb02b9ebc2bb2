using System.Text;
using System.Text.Json.Nodes;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// The quarantine log (<see cref="BadRows"/>): rows found apart within a batch (a source's and a stage's, a stage's column
/// by column) are written in order of input, then row; and a scaled-out run's renumbering of a byte range's records
/// (<c>BadRows.Renumber</c>) writes the bytes one process writes.
/// </summary>
public class BadRowsLogTests
{
    private static string Quarantined(TempDir tmp, string name, Action<BadRows> add)
    {
        using var log = new BadRows(BadRowPolicy.Quarantine, new RunReport(), tmp.Path);
        add(log);
        var path = tmp.Combine(name);
        log.WriteAsync((_, _) => ValueTask.FromResult<Stream>(File.Create(path)), CancellationToken.None).GetAwaiter().GetResult();
        return path;
    }

    private static DataFormatException Error(string file, long line, long row, string? column = "a")
        => new("found 'x', expected a number", file, line, row, column);

    [Fact]
    public void Rows_of_a_batch_are_written_in_order_of_input_then_row()
    {
        using var tmp = new TempDir();
        var path = Quarantined(tmp, "q.jsonl", log =>
        {
            // One batch: the source's rows first, then a stage's, column by column.
            log.Add(BadRowCause.NotOfType, Error("b.csv", 10, 9), "x", source: 1);
            log.Add(BadRowCause.Ragged, Error("a.csv", 7, 6), "y", source: 0);
            log.Add(BadRowCause.Missing, Error("b.csv", 4, 3, "c"), "z", atSource: false, source: 1);
            log.Add(BadRowCause.Missing, Error("a.csv", 3, 2, "b"), "w", atSource: false, source: 0);
            log.EndBatch();
            // The next batch's rows come after, whatever their numbers.
            log.Add(BadRowCause.Missing, Error("a.csv", 2, 1), "v", atSource: false, source: 0);
        });
        var rows = File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!).Select(n => (n["file"]!.GetValue<string>(), n["row"]!.GetValue<long>())).ToList();
        Assert.Equal([("a.csv", 2L), ("a.csv", 6L), ("b.csv", 3L), ("b.csv", 9L), ("a.csv", 1L)], rows);
    }

    [Fact]
    public void Renumbering_a_range_s_records_writes_what_one_process_writes()
    {
        using var tmp = new TempDir();
        // Texts with quotes, escapes and non-ASCII; a record without a line (0: not written) and one without a column.
        (string File, long Line, long Row, string? Column, string Text)[] records =
        [
            ("a.csv", 3, 2, "a", "1,\"q \"\"x\"\"\",ünï"),
            ("b.csv", 5, 4, null, "tab\there, <html> & 'quote'"),
            ("b.csv", 0, 7, "b", "no line"),
            ("c.csv", 9, 8, "c", "other input"),
        ];
        var range = Quarantined(tmp, "range.jsonl", log =>
        {
            foreach (var r in records) log.Add(BadRowCause.NotOfType, Error(r.File, r.Line, r.Row, r.Column), r.Text, source: r.File[0] - 'a');
        });
        var whole = Quarantined(tmp, "whole.jsonl", log =>
        {
            foreach (var r in records)
            {
                bool shifted = r.File == "b.csv";
                log.Add(BadRowCause.NotOfType, Error(r.File, r.Line > 0 && shifted ? r.Line + 1000 : r.Line, shifted ? r.Row + 990 : r.Row, r.Column), r.Text, source: r.File[0] - 'a');
            }
        });
        var renumbered = tmp.Combine("renumbered.jsonl");
        using (var from = File.OpenRead(range))
        using (var to = File.Create(renumbered))
        {
            BadRows.Renumber(from, to, "b.csv", 1000, 990);
        }
        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(renumbered));
        Assert.NotEqual(File.ReadAllBytes(range), File.ReadAllBytes(renumbered));
        Assert.Contains("\"line\":1005,\"row\":994", Encoding.UTF8.GetString(File.ReadAllBytes(renumbered)), StringComparison.Ordinal);
    }
}
