using System.Text.Json;

namespace DataPrep.Tests.Images;

public class ImageCliTests
{
    private static string Sample => Paths.SampleData("images");

    [Fact]
    public void Overwrite_replaces_an_image_run_including_list_and_image_folders()
    {
        using var dir = new TempDir();
        var output = dir.Combine("out");
        Assert.Equal(0, CliRunner.Run("convert", Sample, "--out", output, "--format", "images", "-q").Code);
        Assert.True(Directory.Exists(Path.Combine(output, "train_lst")));
        var again = CliRunner.Run("convert", Sample, "--out", output, "--format", "augmented-manifest", "-q");
        Assert.Equal(4, again.Code);
        Assert.Equal(0, CliRunner.Run("convert", Sample, "--out", output, "--format", "augmented-manifest", "--overwrite", "-q").Code);
        Assert.False(Directory.Exists(Path.Combine(output, "train_lst")));
        Assert.True(File.Exists(Path.Combine(output, "train", "train.jsonl")));
        Assert.Equal(0, CliRunner.Run("convert", Sample, "--out", output, "--format", "recordio-image", "--overwrite", "-q").Code);
        Assert.False(Directory.Exists(Path.Combine(output, "images")));
        Assert.Equal(["_dataprep", "test", "train", "validation"], Directory.GetDirectories(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("--augment", "flip", "error: --augment flip: expected rotate=ANGLE[,ANGLE…] in counter-clockwise degrees, e.g. rotate=90 or rotate=90,180,270.")]
    [InlineData("--augment", "rotate=abc", "error: --augment rotate=abc: 'abc' is not an angle; expected counter-clockwise degrees such as 90, 180, 270 or 15.")]
    [InlineData("--augment", "rotate=360", "error: --augment rotate=360: a rotation by a multiple of 360° gives back the original; expected e.g. 90, 180, 270 or 15.")]
    [InlineData("--jpeg-quality", "0", "error: --jpeg-quality 0: expected 1 to 100.")]
    [InlineData("--resize", "224", "error: --resize 224: expected WIDTHxHEIGHT, e.g. 224x224.")]
    [InlineData("--on-bad-image", "ignore", "error: --on-bad-image ignore: expected fail, skip or quarantine.")]
    public void Bad_image_options_exit_2_with_a_message(string flag, string value, string expected)
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("convert", Sample, "--out", dir.Combine("out"), "--format", "recordio-image", flag, value, "-q");
        Assert.Equal(2, r.Code);
        Assert.Equal(expected, r.Err.Trim());
        Assert.False(Directory.Exists(dir.Combine("out")));
    }

    [Fact]
    public void Inspect_reads_a_rec_and_checks_its_idx()
    {
        using var dir = new TempDir();
        var output = dir.Combine("out");
        Assert.Equal(0, CliRunner.Run("convert", Sample, "--out", output, "--format", "recordio-image", "--augment", "rotate=90", "-q").Code);
        var rec = Path.Combine(output, "train", "train.rec");
        var r = CliRunner.Run("inspect", rec, "-n", "2");
        Assert.Equal(0, r.Code);
        Assert.Contains("MXNet image RecordIO, 20 records", r.Out);
        Assert.Contains("every key and offset matches", r.Out);
        Assert.Contains("png    16×12", r.Out);
        // A corrupted .idx is reported as bad input.
        var idx = Path.Combine(output, "_dataprep", "train.idx");
        File.WriteAllText(idx, File.ReadAllText(idx).Replace("\t132\n", "\t133\n"));
        var bad = CliRunner.Run("inspect", rec, "--summary");
        Assert.Equal(3, bad.Code);
        Assert.Contains("offset 133 is not the start of a record", bad.Err);
    }

    [Fact]
    public void Inspect_jsonl_of_a_rec_parses_back_with_escaped_paths_and_multi_labels()
    {
        using var dir = new TempDir();
        var folder = dir.Combine("caf\u00e9 \"q\"");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "a.png"), ImageTestData.PngPattern(3, 2));
        File.WriteAllBytes(Path.Combine(folder, "b.png"), ImageTestData.PngPattern(2, 3));
        var list = Path.Combine(folder, "list.jsonl");
        File.WriteAllText(list, "{\"path\":\"a.png\",\"label\":[1,2.5]}\n{\"path\":\"b.png\",\"label\":\"3\"}\n");
        var output = dir.Combine("out");
        Assert.Equal(0, CliRunner.Run("convert", list, "--out", output, "--format", "recordio-image", "--train", "1", "--validation", "0", "--test", "0", "--no-shuffle", "-q").Code);
        var rec = Path.Combine(output, "train", "train.rec");
        var copy = Path.Combine(folder, "t.rec");
        File.Copy(rec, copy);
        var r = CliRunner.Run("inspect", copy, "--output", "jsonl");
        Assert.Equal(0, r.Code);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.Equal(copy, l.GetProperty("file").GetString()));
        Assert.Contains("\\u00E9 \\u0022q\\u0022", r.Out); // System.Text.Json's default escaping, as before
        Assert.Equal([1f, 2.5f], lines[0].GetProperty("labels").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal([3f], lines[1].GetProperty("labels").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal(2u, lines[0].GetProperty("flag").GetUInt32());
        Assert.Equal((3, 2, "png"), (lines[0].GetProperty("width").GetInt32(), lines[0].GetProperty("height").GetInt32(), lines[0].GetProperty("format").GetString()));
        var summary = lines[2].GetProperty("summary");
        Assert.Equal("recordio-image", summary.GetProperty("format").GetString());
        Assert.Equal(2, summary.GetProperty("records").GetInt64());
        Assert.True(summary.GetProperty("multi_label").GetBoolean());
        Assert.Equal("2-3 x 2-3", summary.GetProperty("sizes").GetString());
        Assert.Equal(new Dictionary<string, long> { ["1"] = 1, ["2.5"] = 1, ["3"] = 1 }, summary.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        Assert.Equal(2, summary.GetProperty("image_formats").GetProperty("png").GetInt64());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("idx").ValueKind); // no t.idx beside the copy, none in ../_dataprep/
    }

    [Fact]
    public void Lossless_only_refuses_jpeg_rotation_with_exit_3_and_no_output()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("in", "a"));
        var jpg = dir.Combine("in", "a", "x.jpg");
        File.WriteAllBytes(jpg, ImageTestData.JpegWithOrientation(8, 4, 1));
        var r = CliRunner.Run("convert", dir.Combine("in"), "--out", dir.Combine("out"), "--format", "images", "--train", "1", "--validation", "0", "--test", "0", "--augment", "rotate=90", "--lossless-only", "-q");
        Assert.Equal(3, r.Code);
        Assert.Equal($"error: {jpg}: the image is a JPEG and rotation would re-encode it (lossy), but --lossless-only is set; expected PNG (or another lossless format) input, or drop --lossless-only to re-encode at --jpeg-quality 95", r.Err.Trim());
        Assert.False(Directory.Exists(dir.Combine("out")));
    }

    [Fact]
    public void Time_split_of_an_input_list_puts_the_oldest_images_in_train()
    {
        using var dir = new TempDir();
        var sb = new System.Text.StringBuilder("path,label,taken_at\n");
        for (int i = 0; i < 10; i++)
        {
            File.WriteAllBytes(dir.Combine($"img{i}.png"), ImageTestData.PngPattern(2, 2 + i % 2));
            sb.Append($"img{i}.png,{i % 2},2025-01-{20 - i:00}T00:00:00Z\n");
        }
        var list = dir.File("list.csv", sb.ToString());
        var r = CliRunner.Run("convert", list, "--out", dir.Combine("out"), "--format", "images", "--split", "time", "--time", "taken_at", "--augment", "rotate=90", "-q");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["img9.png", "img9.rotate90.png"], File.ReadAllLines(dir.Combine("out", "train_lst", "train.lst")).Take(2).Select(l => l.Split('\t')[2]));
        Assert.Equal("img0.png", Assert.Single(File.ReadAllLines(dir.Combine("out", "test_lst", "test.lst"))).Split('\t')[2]);
        File.WriteAllBytes(dir.Combine("img10.png"), ImageTestData.PngPattern(2, 2));
        File.AppendAllText(list, "img10.png,1,yesterday\n");
        var bad = CliRunner.Run("convert", list, "--out", dir.Combine("out2"), "--format", "images", "--split", "time", "--time", "taken_at", "-q");
        Assert.Equal(3, bad.Code);
        Assert.Equal($"error: {list}, line 12, column 'taken_at': found 'yesterday', expected an ISO 8601 date or date-time (e.g. 2025-01-31 or 2025-01-31T12:00:00Z)", bad.Err.Trim());
    }
}
