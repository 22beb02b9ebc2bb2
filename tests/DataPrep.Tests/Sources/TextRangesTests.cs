using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;

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

    /// <summary>
    /// A source that has read its sample decides its parts from what that read saw (gzip, a byte-order mark), without
    /// opening the file again: on S3 that open was a GET of a megabyte per large input per scan task. A file changed after
    /// the sample shows it (a reopen would see its new UTF-16 mark); a UTF-16 file opened first is one part.
    /// </summary>
    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    public async Task An_opened_source_decides_its_parts_from_what_its_sample_saw(string format)
    {
        using var dir = new TempDir();
        var text = format == "csv"
            ? "x,y\n" + string.Concat(Enumerable.Range(0, 200).Select(i => $"{i},a{i}\n"))
            : string.Concat(Enumerable.Range(0, 200).Select(i => $"{{\"x\": {i}}}\n"));
        var path = dir.File($"rows.{format}", text);
        var options = new SourceOptions { RangeBytes = 64 };
        IRecordSource Create(string p) => format == "csv" ? new CsvSource(p, options) : new JsonLinesSource(p, options);
        var source = Create(path);
        await source.OpenAsync();
        var bytes = File.ReadAllBytes(path);
        bytes[0] = 0xFF;
        bytes[1] = 0xFE;
        File.WriteAllBytes(path, bytes);
        Assert.Equal((bytes.Length + 63) / 64, source.Parts.Count);
        // Never opened: the rule opens the file itself and sees the mark.
        Assert.Single(Create(path).Parts);
        var wide = dir.File($"wide.{format}", "");
        File.WriteAllText(wide, text, Encoding.Unicode);
        var opened = Create(wide);
        await opened.OpenAsync();
        Assert.Single(opened.Parts);
    }

    /// <summary>
    /// The shared property of <see cref="CsvRangeTests"/> and <see cref="JsonLinesRangeTests"/>: a source of
    /// <paramref name="bytes"/> bytes whose columns are all strings, divided at <paramref name="range"/> bytes
    /// (<paramref name="open"/> makes one with that <see cref="SourceOptions.RangeBytes"/>, 0: whole), has the expected
    /// parts; read one part at a time, then in three reads, it gives the whole read's rows (ids and values), numbers each
    /// read's source rows from 1, and its reads meet and cover the input. When the rows carry line numbers (a source that
    /// quarantines bad rows keeps them), each read's, plus the line breaks before it as a scaled-out run counts them from
    /// the reads' <see cref="PartRead.StartLine"/> and <see cref="PartRead.StopLine"/>, are the whole read's.
    /// </summary>
    /// <summary>
    /// A whole read of the source <paramref name="open"/>(0) gives (as input 1) the ids of <paramref name="starts"/>, its
    /// rows' 1-based byte positions; then <see cref="PartsReadApartAreTheWholeRead"/>.
    /// </summary>
    internal static Property IdsAreStartsAndPartsReadApartAreTheWholeRead(Func<long, IRecordSource> open, IReadOnlyList<long> starts, long bytes, long range)
    {
        var whole = open(0).ReadAsync(1).ToBlockingEnumerable().SelectMany(b => b.Rows.RowIds.ToArray()).ToList();
        var ids = starts.Select(p => RowInfo.MakeRowId(1, 0) | p).ToList();
        if (!whole.SequenceEqual(ids)) return false.Label($"ids {string.Join(" ", whole.Select(id => id & RowInfo.MaxPosition))}, expected positions {string.Join(" ", starts)}");
        return PartsReadApartAreTheWholeRead(open, bytes, range);
    }

    internal static Property PartsReadApartAreTheWholeRead(Func<long, IRecordSource> open, long bytes, long range)
    {
        static List<(long Id, string Values)> Rows(IEnumerable<RecordBatch> batches, List<long>? sourceRows = null, List<long>? lines = null)
        {
            var list = new List<(long, string)>();
            foreach (var batch in batches)
            {
                for (int r = 0; r < batch.RowCount; r++)
                {
                    list.Add((batch.Rows.RowIds[r], string.Join("\u0001", batch.Columns.Select(c => Cell(c, r)))));
                    sourceRows?.Add(batch.Rows.SourceRows[r]);
                    if (batch.Rows.Lines is { } l) lines?.Add(l[r]);
                }
            }
            return list;
        }
        static string Cell(Column c, int r) => c.IsNull(r) ? "\0" : c switch
        {
            StringColumn t => t.Values[r]!,
            Int64Column i => i.Values[r].ToString(System.Globalization.CultureInfo.InvariantCulture),
            Float64Column f => f.Values[r].ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            SparseColumn sp => string.Join(" ", Enumerable.Range(sp.RowOffsets[r], sp.RowOffsets[r + 1] - sp.RowOffsets[r]).Select(j => $"{sp.Indices[j]}:{sp.Values[j]:R}")),
            _ => throw new InvalidOperationException(c.GetType().Name),
        };
        IRecordSource Opened(long rangeBytes)
        {
            var s = open(rangeBytes);
            s.OpenAsync().AsTask().Wait();
            return s;
        }
        var wholeLines = new List<long>();
        var whole = Rows(Opened(0).ReadAsync(1).ToBlockingEnumerable(), lines: wholeLines);
        int count = Opened(range).Parts.Count;
        long expectedParts = bytes <= range ? 1 : (bytes + range - 1) / range;
        if (count != expectedParts) return false.Label($"{count} parts of {bytes} bytes at {range}, expected {expectedParts}");
        // Every part alone, then the parts in three reads (first third, middle, rest).
        foreach (var cuts in new[] { Enumerable.Range(0, count + 1).ToArray(), new[] { 0, count / 3, 2 * count / 3, count }.Distinct().ToArray() })
        {
            var apart = new List<(long, string)>();
            var reads = new List<PartRead>();
            var apartLines = new List<long>();
            long linesBefore = 0;
            for (int k = 0; k + 1 < cuts.Length; k++)
            {
                if (cuts[k] == cuts[k + 1]) continue;
                var part = Opened(range);
                var sourceRows = new List<long>();
                var lines = new List<long>();
                var got = Rows(part.ReadPartsAsync(1, cuts[k], cuts[k + 1]).ToBlockingEnumerable(), sourceRows, lines);
                if (!sourceRows.SequenceEqual(Enumerable.Range(1, got.Count).Select(i => (long)i))) return false.Label($"parts {cuts[k]}…{cuts[k + 1]}: source rows {string.Join(" ", sourceRows)}");
                apart.AddRange(got);
                if (count > 1)
                {
                    // ScanRanges.Check's count: the two reads numbered the record where they meet, each from its own start.
                    if (reads.Count > 0) linesBefore += reads[^1].StopLine - part.PartsRead[0].StartLine;
                    reads.AddRange(part.PartsRead);
                }
                apartLines.AddRange(lines.Select(l => l + linesBefore));
            }
            if (!apart.SequenceEqual(whole)) return false.Label($"cuts {string.Join(",", cuts)}: {apart.Count} rows apart, {whole.Count} whole");
            if (!apartLines.SequenceEqual(wholeLines)) return false.Label($"cuts {string.Join(",", cuts)}: lines {string.Join(" ", apartLines)} apart, {string.Join(" ", wholeLines)} whole");
            for (int k = 1; k < reads.Count; k++)
            {
                if (reads[k - 1].Stop != reads[k].Start || reads[k - 1].End != reads[k].First) return false.Label($"reads do not meet: {reads[k - 1]} then {reads[k]}");
            }
            if (count > 1 && (reads[0].First != 0 || reads[^1].Stop != long.MaxValue || reads.Sum(r => r.Rows) != whole.Count)) return false.Label($"reads {string.Join("; ", reads)}");
        }
        return true.ToProperty();
    }
}
