using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Sources;

/// <summary>
/// A LibSVM file divided into byte ranges (<see cref="SourceOptions.RangeBytes"/>, for a scaled-out run's scan tasks), as
/// JSON Lines is: its parts, read one at a time or several together, give exactly the rows of a whole read, with the same
/// ids (each data line's byte position) and values, and each read stops where the next one starts. Blank and comment
/// lines hold no row wherever a range starts.
/// </summary>
public class LibSvmRangeTests
{
    private static readonly Gen<string> Line = Gen.Elements("1 1:0.5 3:2", "0 2:-1.25", "2", "1 qid:3 4:1e-3", "0 1:1 2:2 3:3 # note", "3 5:7");

    private static readonly Gen<string> NoRow = Gen.Elements("", "  ", "# a comment", "\t# another");

    [Property(MaxTest = 80)]
    public Property Parts_read_apart_are_the_whole_read()
        => Prop.ForAll(
            Gen.ListOf(Gen.OneOf(Line.Select(l => (l, Row: true)), NoRow.Select(l => (l, Row: false)))).Where(l => l.Any(r => r.Row)).ToArbitrary(),
            Gen.Choose(1, 40).ToArbitrary(),
            Gen.Elements("\n", "\r\n").SelectMany(n => Gen.Elements(0, 1, 2).SelectMany(v => Gen.Elements(false, true).Select(q => (n, v, q)))).ToArbitrary(),
            (lines, range, form) =>
            {
                var (newline, variant, skip) = form;
                bool bom = variant == 1, noFinalBreak = variant == 2;
                var bytes = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l.l + newline)));
                if (noFinalBreak) bytes = bytes[..^newline.Length];
                if (bom) bytes = [0xEF, 0xBB, 0xBF, .. bytes];
                using var dir = new TempDir();
                var path = Path.Combine(dir.Path, "rows.libsvm");
                File.WriteAllBytes(path, bytes);
                SourceOptions Options(long rangeBytes) => new()
                {
                    BatchRows = 2, RangeBytes = rangeBytes,
                    BadRows = skip ? new BadRows(BadRowPolicy.Skip, new RunReport()) : null,
                };
                // A row's id is its data line's 1-based byte position (a byte-order mark counts), after the source's bits.
                var starts = new List<long>();
                long at = bom ? 3 : 0;
                foreach (var (l, row) in lines)
                {
                    if (row) starts.Add(at + 1);
                    at += Encoding.UTF8.GetByteCount(l) + newline.Length;
                }
                return TextRangesTests.IdsAreStartsAndPartsReadApartAreTheWholeRead(r => new LibSvmSource(path, Options(r)), starts, bytes.Length, range);
            });

    [Fact]
    public void A_gzip_or_small_file_is_one_part_and_a_large_one_is_divided()
    {
        using var dir = new TempDir();
        var lines = string.Concat(Enumerable.Range(0, 50).Select(i => $"{i % 2} 1:{i} 2:0.5\n"));
        var options = new SourceOptions { RangeBytes = 64 };
        var gz = dir.File("packed.libsvm", "");
        using (var file = File.Create(gz))
        using (var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            zip.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(lines, 20))));
        }
        Assert.Single(new LibSvmSource(gz, options).Parts);
        var plain = dir.File("plain.libsvm", lines);
        Assert.Single(new LibSvmSource(plain, options with { RangeBytes = 0 }).Parts);
        Assert.Equal((new FileInfo(plain).Length + 63) / 64, new LibSvmSource(plain, options).Parts.Count);
    }

    /// <summary>
    /// A bad line in a range from the middle: the read names it with the range's own line and row numbers, and
    /// <see cref="IRecordSource.InWholeInput"/> gives the whole file's, which a whole read names (comments and blank
    /// lines before it count as lines, not rows).
    /// </summary>
    [Fact]
    public async Task An_error_in_a_range_from_the_middle_is_named_as_a_whole_read_names_it()
    {
        using var dir = new TempDir();
        var text = new StringBuilder();
        for (int i = 1; i <= 60; i++) text.Append(i % 10 == 0 ? "# comment\n\n" : "").Append(i == 45 ? "1 2:1 1:1\n" : $"{i % 2} 1:{i} 2:1\n");
        var path = dir.File("bad.libsvm", text.ToString());
        var whole = await Assert.ThrowsAsync<DataFormatException>(async () => { await foreach (var _ in new LibSvmSource(path, new SourceOptions { RangeBytes = 0 }).ReadAsync(0)) { } });
        // Opening reads the whole file; the middle range then meets the bad line again, numbered from its start.
        var source = new LibSvmSource(path, new SourceOptions { RangeBytes = 100 });
        Assert.True(source.TryAdopt(Opened(path)));
        var parts = source.Parts.Count;
        Assert.True(parts > 3);
        DataFormatException? inRange = null;
        for (int p = 1; p < parts && inRange is null; p++)
        {
            var s = new LibSvmSource(path, new SourceOptions { RangeBytes = 100 });
            Assert.True(s.TryAdopt(Opened(path)));
            try { await foreach (var _ in s.ReadPartsAsync(0, p, p + 1)) { } }
            catch (DataFormatException e) { inRange = s.InWholeInput(e); Assert.True(e.Line < whole.Line, $"{e.Line}"); }
        }
        Assert.NotNull(inRange);
        Assert.Equal((whole.Line, whole.Row, whole.Column, whole.Problem), (inRange.Line, inRange.Row, inRange.Column, inRange.Problem));
        Assert.Equal(45, whole.Row);
        Assert.Equal(53, whole.Line);
    }

    /// <summary>A file's opened state, taken without the --on-bad-row log (opening a file with a bad line fails otherwise).</summary>
    private static byte[] Opened(string path)
    {
        var s = new LibSvmSource(path, new SourceOptions { RangeBytes = 100, BadRows = new BadRows(BadRowPolicy.Skip, new RunReport()) });
        s.OpenAsync().AsTask().GetAwaiter().GetResult();
        return s.OpenedState;
    }
}
