using DataPrep.Images;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Images;

/// <summary>Every bad input: the exact message, exit code 3 and nothing left in --out.</summary>
public class BadImageTests
{
    private static readonly ImageTransformer s_transformer = new(new ImageOptions());

    [Fact]
    public void A_decompression_bomb_is_refused_from_its_header_before_decoding()
    {
        var bomb = ImageTestData.PngClaiming(50_000, 50_000);
        Assert.True(bomb.Length < 200);
        var e = Assert.Throws<BadImageException>(() => s_transformer.Process("/d/bomb.png", bomb, []));
        Assert.Equal("/d/bomb.png: the image is 50000×50000 = 2,500,000,000 pixels, over the limit of 89,478,485 (--max-pixels); refused before decoding (a decompression bomb, or raise the limit)", e.Message);
    }

    [Fact]
    public void The_decoded_bytes_limit_applies_too()
    {
        var t = new ImageTransformer(new ImageOptions { MaxImageBytes = 1000 });
        var e = Assert.Throws<BadImageException>(() => t.Process("/d/a.png", ImageTestData.PngPattern(20, 20), []));
        Assert.Equal("/d/a.png: the image is 20×20 and would take 1,600 bytes decoded, over the limit of 1,000 (--max-image-bytes); refused before decoding", e.Message);
    }

    [Fact]
    public void Truncated_png_and_jpeg_are_refused()
    {
        var png = ImageTestData.PngPattern(20, 20);
        var e = Assert.Throws<BadImageException>(() => s_transformer.Process("/d/t.png", png[..(png.Length / 2)], []));
        Assert.Equal($"/d/t.png: the PNG is truncated: it has no IEND chunk ({png.Length / 2:N0} bytes); expected a complete file", e.Message);
        var jpeg = ImageTestData.JpegWithOrientation(16, 16, 1);
        var j = Assert.Throws<BadImageException>(() => s_transformer.Process("/d/t.jpg", jpeg[..(jpeg.Length - 10)], []));
        Assert.StartsWith("/d/t.jpg: the JPEG is truncated: it has no end-of-image marker (FF D9) near its end", j.Message);
    }

    [Fact]
    public void Unsupported_bytes_are_named()
    {
        var e = Assert.Throws<BadImageException>(() => s_transformer.Process("/d/notes.png", "hello, world"u8.ToArray(), []));
        Assert.Equal("/d/notes.png: not an image format ImageSharp 2 decodes (JPEG, PNG, BMP, GIF, TIFF, TGA, WebP, PBM); the file starts with 68 65 6C 6C 6F 2C 20 77", e.Message);
    }

    [Fact]
    public void A_corrupt_png_is_refused_naming_the_file()
    {
        var png = ImageTestData.PngPattern(20, 20);
        // Garble the compressed pixel data (IDAT) but keep the file complete.
        for (int i = 45; i < png.Length - 20; i++) png[i] ^= 0x5A;
        var e = Assert.Throws<BadImageException>(() => s_transformer.Process("/d/c.png", png, [90]));
        Assert.StartsWith("/d/c.png: the image is corrupt and cannot be decoded (", e.Message);
    }

    private static (string List, string Out, TempDir Dir) ListWith(string lines, Action<string>? files = null)
    {
        var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("imgs"));
        File.WriteAllBytes(dir.Combine("imgs", "a.png"), ImageTestData.PngPattern(4, 3));
        File.WriteAllBytes(dir.Combine("imgs", "b.png"), ImageTestData.PngPattern(5, 3));
        files?.Invoke(dir.Combine("imgs"));
        var list = dir.File("imgs/list.csv", "path,label\na.png,0\nb.png,1\n" + lines);
        return (list, dir.Combine("out"), dir);
    }

    [Theory]
    [InlineData("../secret.png,1\n", "line 4, column 'path': image path '../secret.png' resolves to {root}/secret.png, outside the list's folder {root}/imgs; expected a path inside it (paths are relative to the list file)")]
    [InlineData("sub/../../x.png,1\n", "line 4, column 'path': image path 'sub/../../x.png' resolves to {root}/x.png, outside the list's folder {root}/imgs; expected a path inside it (paths are relative to the list file)")]
    [InlineData("missing.png,1\n", "line 4, column 'path': image 'missing.png' does not exist (looked for {root}/imgs/missing.png)")]
    [InlineData("b.png,1\n", "line 4, column 'path': image 'b.png' is listed twice (first on line 3); expected each image once")]
    [InlineData("c.png,\n", "line 4, column 'label': no label; expected a class id or name (several separated by ';' or a JSON array for multi-label) in column 'label' (found columns path, label)")]
    public void Bad_list_lines_fail_with_file_line_and_nothing_written(string line, string expected)
    {
        var (list, output, dir) = ListWith(line, d => File.WriteAllBytes(Path.Combine(d, "c.png"), ImageTestData.PngPattern(2, 2)));
        using var _ = dir;
        File.WriteAllBytes(dir.Combine("secret.png"), ImageTestData.PngPattern(2, 2));
        var r = CliRunner.Run("convert", list, "--out", output, "--format", "recordio-image", "-q");
        Assert.Equal(3, r.Code);
        Assert.Equal($"error: {list}, " + expected.Replace("{root}", dir.Path), r.Err.Trim());
        Assert.False(Directory.Exists(output));
    }

    public static TheoryData<string, byte[], string> BadFiles => new()
    {
        { "bomb.png", ImageTestData.PngClaiming(50_000, 50_000), "the image is 50000×50000 = 2,500,000,000 pixels, over the limit of 89,478,485 (--max-pixels); refused before decoding (a decompression bomb, or raise the limit)" },
        { "trunc.png", ImageTestData.PngPattern(30, 30)[..60], "the PNG is truncated: it has no IEND chunk (60 bytes); expected a complete file" },
        { "text.png", "not an image at all"u8.ToArray(), "not an image format ImageSharp 2 decodes (JPEG, PNG, BMP, GIF, TIFF, TGA, WebP, PBM); the file starts with 6E 6F 74 20 61 6E 20 69" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_image_fails_the_run_naming_file_and_list_line_and_leaves_nothing(string name, byte[] bytes, string problem)
    {
        var (list, output, dir) = ListWith($"{name},1\n", d => File.WriteAllBytes(Path.Combine(d, name), bytes));
        using var _ = dir;
        var r = CliRunner.Run("convert", list, "--out", output, "--format", "recordio-image", "--train", "1", "--validation", "0", "--test", "0", "-q");
        Assert.Equal(3, r.Code);
        Assert.Equal($"error: {dir.Combine("imgs", name)}: {problem} (listed on line 4 of {list}); pass --on-bad-image skip or quarantine to leave such images out", r.Err.Trim());
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Skip_and_quarantine_count_bad_images_and_keep_the_rest()
    {
        var (list, output, dir) = ListWith("bad.png,1\n", d => File.WriteAllBytes(Path.Combine(d, "bad.png"), "junk"u8.ToArray()));
        using var _ = dir;
        var r = CliRunner.Run("convert", list, "--out", output, "--format", "recordio-image", "--train", "1", "--validation", "0", "--test", "0", "--on-bad-image", "quarantine", "--augment", "rotate=90", "--json");
        Assert.Equal(0, r.Code);
        var q = File.ReadAllText(Path.Combine(output, "_dataprep", "quarantine", "images.csv"));
        Assert.StartsWith("image,line,problem\nbad.png,4,\"not an image format", q);
        var run = DataPrep.Pipeline.RunRecord.Load(Path.Combine(output, "_dataprep", "run.json"));
        Assert.Equal(2, run.Summary.Dropped["bad image"]); // the image and its rotated copy
        Assert.Equal(4, run.Splits["train"].Rows);          // a, b and their copies
    }
}
