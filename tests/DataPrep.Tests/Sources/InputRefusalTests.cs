using System.IO.Compression;
using System.Text;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Tests.Sources;

/// <summary>
/// Input that is not what it claims to be is refused with exit 3 and one line naming the file and the cause:
/// gzip cut short, missing its trailer or corrupt; bytes that are not UTF-8; another format behind a text
/// extension. Nothing is left in --out.
/// </summary>
public class InputRefusalTests
{
    private static readonly string s_csv = BuildCsv(4000);

    private static string BuildCsv(int rows)
    {
        var sb = new StringBuilder("y,a,b\n");
        for (int i = 0; i < rows; i++) sb.Append(i % 2).Append(',').Append(i).Append(',').Append(i * 7 % 1000 / 10.0).Append('\n');
        return sb.ToString();
    }

    private static byte[] Gzip(string text) => Gzip(Encoding.UTF8.GetBytes(text));

    private static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var g = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) g.Write(bytes);
        return ms.ToArray();
    }

    private static (CliRunner.Result R, string Out) Convert(TempDir tmp, string input, params string[] extra)
    {
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run(["convert", input, "--out", outDir, "--quiet", "--label", "y", .. extra]);
        return (r, outDir);
    }

    private static void AssertRefused(CliRunner.Result r, string outDir, params string[] fragments)
    {
        Assert.Equal(3, r.Code);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain('\0', r.Err);
        foreach (var f in fragments) Assert.Contains(f, r.Err);
        Assert.False(Directory.Exists(outDir), "no output folder is left behind");
    }

    private static string Write(TempDir tmp, string name, byte[] bytes)
    {
        var p = tmp.Combine(name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    [Fact]
    public void Gzip_cut_in_the_middle_is_refused_as_truncated_not_as_a_ragged_row()
    {
        using var tmp = new TempDir();
        var gz = Gzip(s_csv);
        var input = Write(tmp, "cut.csv.gz", gz[..(gz.Length / 2)]);
        var (r, o) = Convert(tmp, input);
        AssertRefused(r, o, "cut.csv.gz", "is truncated", "gzip member 1");
        Assert.DoesNotContain("ragged", r.Err);
    }

    [Fact]
    public void Gzip_missing_only_its_trailer_is_refused()
    {
        using var tmp = new TempDir();
        var gz = Gzip(s_csv);
        var input = Write(tmp, "notrailer.csv.gz", gz[..^8]);
        var (r, o) = Convert(tmp, input);
        AssertRefused(r, o, "notrailer.csv.gz", "is truncated", "trailer", "CRC-32");
    }

    [Fact]
    public void Gzip_whose_crc_does_not_match_its_data_is_refused_as_corrupt()
    {
        using var tmp = new TempDir();
        var gz = Gzip(s_csv);
        gz[^8] ^= 0x01;
        var input = Write(tmp, "crc.csv.gz", gz);
        var (r, o) = Convert(tmp, input);
        AssertRefused(r, o, "crc.csv.gz", "is corrupt", "CRC-32");
    }

    [Fact]
    public void Gzip_with_bytes_appended_after_its_last_member_is_refused()
    {
        using var tmp = new TempDir();
        var input = Write(tmp, "tail.csv.gz", [.. Gzip(s_csv), .. "junk"u8]);
        var (r, o) = Convert(tmp, input);
        AssertRefused(r, o, "tail.csv.gz", "4 bytes after gzip member 1");
    }

    [Fact]
    public void Multi_member_gzip_is_read_whole_and_gives_the_bytes_of_the_plain_file()
    {
        using var tmp = new TempDir();
        int cut = s_csv.IndexOf('\n', s_csv.Length / 3) + 1;
        int cut2 = s_csv.IndexOf('\n', 2 * s_csv.Length / 3) + 1;
        var input = Write(tmp, "multi.csv.gz", [.. Gzip(s_csv[..cut]), .. Gzip(s_csv[cut..cut2]), .. Gzip(s_csv[cut2..])]);
        var plain = tmp.File("plain.csv", s_csv);
        var a = CliRunner.Run(["convert", input, "--out", tmp.Combine("a"), "--quiet", "--label", "y", "--seed", "5"]);
        var b = CliRunner.Run(["convert", plain, "--out", tmp.Combine("b"), "--quiet", "--label", "y", "--seed", "5"]);
        Assert.True(a.Code == 0, a.Err);
        Assert.True(b.Code == 0, b.Err);
        foreach (var split in new[] { "train", "validation", "test" })
        {
            var fa = Directory.GetFiles(tmp.Combine("a", split)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).SelectMany(x => x).ToArray();
            var fb = Directory.GetFiles(tmp.Combine("b", split)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).SelectMany(x => x).ToArray();
            Assert.NotEmpty(fa);
            Assert.Equal(fb, fa);
        }
    }

    /// <summary>Every prefix of a two-member gzip file but the whole is refused; the whole reads back exactly, whatever the read size.</summary>
    [Fact]
    public void Every_cut_of_a_gzip_file_is_refused_and_the_whole_file_reads_back_exactly()
    {
        var text = Encoding.UTF8.GetBytes(BuildCsv(20_000));
        var whole = Gzip(Encoding.UTF8.GetString(text)).Concat(Gzip("1,2,3\n")).ToArray();
        var expected = text.Concat("1,2,3\n"u8.ToArray()).ToArray();
        var cuts = new List<int> { 0, 1, 2, 9, 10, 11, whole.Length - 1, whole.Length - 4, whole.Length - 8, whole.Length - 9 };
        var rnd = new Random(17);
        for (int i = 0; i < 60; i++) cuts.Add(rnd.Next(whole.Length));
        foreach (int cut in cuts)
        {
            var e = Assert.Throws<DataFormatException>(() => ReadAll(whole[..cut], 8192));
            Assert.Equal("x.csv.gz", e.File);
            Assert.Matches("is (truncated|empty|not a valid gzip file)", e.Problem);
        }
        foreach (int chunk in new[] { 1, 3, 4096, 1 << 20 }) Assert.Equal(expected, ReadAll(whole, chunk));
    }

    private static byte[] ReadAll(byte[] gz, int chunk)
    {
        using var s = new GzipInputStream(new MemoryStream(gz), "x.csv.gz");
        var o = new MemoryStream();
        var b = new byte[chunk];
        int n;
        while ((n = s.Read(b)) > 0) o.Write(b, 0, n);
        return o.ToArray();
    }

    [Fact]
    public void Latin1_bytes_are_refused_with_line_and_byte_offset()
    {
        using var tmp = new TempDir();
        var input = Write(tmp, "cities.csv", Encoding.Latin1.GetBytes("y,city\n1,café\n0,cafè\n"));
        var (r, o) = Convert(tmp, input, "--categorical", "onehot");
        AssertRefused(r, o, "cities.csv", "line 2", "invalid UTF-8 at byte offset 12", "bytes E9", "--encoding latin1");
    }

    [Fact]
    public void Latin1_read_with_encoding_keeps_cafe_and_cafe_grave_apart()
    {
        using var tmp = new TempDir();
        var input = Write(tmp, "cities.csv", Encoding.Latin1.GetBytes("y,city\n1,café\n0,cafè\n1,café\n0,cafè\n"));
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run(["convert", input, "--out", outDir, "--quiet", "--label", "y", "--categorical", "onehot", "--encoding", "latin1", "--split", "100/0/0"]);
        Assert.True(r.Code == 0, r.Err);
        var run = File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json"));
        Assert.True(run.Contains("café", StringComparison.Ordinal) || run.Contains("caf\\u00E9", StringComparison.OrdinalIgnoreCase), run);
        Assert.True(run.Contains("cafè", StringComparison.Ordinal) || run.Contains("caf\\u00E8", StringComparison.OrdinalIgnoreCase), run);
    }

    [Fact]
    public void Invalid_utf8_in_json_lines_and_gzip_is_refused_with_its_line()
    {
        using var tmp = new TempDir();
        var jsonl = Write(tmp, "rows.jsonl", [.. "{\"y\":1,\"c\":\"a\"}\n{\"y\":0,\"c\":\"b"u8, 0xFF, .. "\"}\n"u8]);
        var (r, o) = Convert(tmp, jsonl, "--categorical", "onehot");
        AssertRefused(r, o, "rows.jsonl", "line 2", "invalid UTF-8", "bytes FF");
        var body = new StringBuilder("y,c\n");
        for (int i = 0; i < 50_000; i++) body.Append("1,é\n");
        var bytes = Encoding.UTF8.GetBytes(body.ToString()).Concat(new byte[] { (byte)'0', (byte)',', 0xC3, (byte)'\n' }).ToArray();
        var ms = new MemoryStream();
        using (var g = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) g.Write(bytes);
        var gz = Write(tmp, "big.csv.gz", ms.ToArray());
        (r, o) = Convert(tmp, gz, "--categorical", "onehot");
        AssertRefused(r, o, "big.csv.gz", "line 50002", $"byte offset {bytes.Length - 2:N0} of the decompressed text", "bytes C3");
    }

    /// <summary>Characters cut by any read boundary pass; the check neither changes nor drops a byte.</summary>
    [Fact]
    public void Valid_utf8_passes_unchanged_whatever_the_read_size()
    {
        using var tmp = new TempDir();
        var text = string.Concat(Enumerable.Range(0, 3000).Select(i => $"{i},é€😀ß,{i % 7}\n"));
        var bytes = Encoding.UTF8.GetBytes(text);
        var path = Write(tmp, "u.csv", bytes);
        foreach (int chunk in new[] { 1, 2, 3, 5, 64, 4097 })
        {
            using var s = TextInput.Open(new SourceOptions(), path, "CSV");
            var o = new MemoryStream();
            var b = new byte[chunk];
            int n;
            while ((n = s.Read(b)) > 0) o.Write(b, 0, n);
            Assert.Equal(bytes, o.ToArray());
        }
        // A character cut by the end of the file is not UTF-8.
        var cutPath = Write(tmp, "cut.csv", bytes[..^4]);
        using var cut = TextInput.Open(new SourceOptions(), cutPath, "CSV");
        var e = Assert.Throws<DataFormatException>(() => cut.CopyTo(Stream.Null));
        Assert.Contains("invalid UTF-8", e.Problem);
        Assert.Equal(3000, e.Line);
    }

    [Fact]
    public void A_parquet_file_named_csv_is_refused_naming_what_it_is()
    {
        using var tmp = new TempDir();
        var input = Write(tmp, "data.csv", File.ReadAllBytes(Paths.Fixture("parquet", "types.parquet")));
        var (r, o) = Convert(tmp, input);
        AssertRefused(r, o, "data.csv", "is a Parquet file", "not CSV text", "--input-format parquet");
        Assert.DoesNotContain("PAR1\u0015", r.Err);
    }

    [Fact]
    public void Images_and_gzip_in_gzip_named_as_text_are_refused()
    {
        using var tmp = new TempDir();
        var png = Write(tmp, "photo.csv", [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        var (r, o) = Convert(tmp, png);
        AssertRefused(r, o, "photo.csv", "is a PNG image, not CSV text");
        var jpeg = Write(tmp, "photo.jsonl", [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]);
        (r, o) = Convert(tmp, jpeg);
        AssertRefused(r, o, "photo.jsonl", "is a JPEG image, not JSON Lines text");
        var twice = Write(tmp, "twice.csv.gz", Gzip(Gzip(s_csv)));
        (r, o) = Convert(tmp, twice);
        Assert.Equal(3, r.Code);
    }
}
