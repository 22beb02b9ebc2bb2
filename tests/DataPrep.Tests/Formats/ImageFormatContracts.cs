using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DataPrep.Images;
using DataPrep.Tests.Images;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DataPrep.Tests.Formats;

/// <summary>
/// The image formats under the output-format contract. The input is a class-folder tree (<c>a/</c>, <c>b/</c>,
/// <c>c/</c>) of tiny distinct PNGs; a record compares as <c>label|name|content</c>: the class id, the image's path
/// below its channel (null where the format keeps none) and the SHA-256 of the image bytes — PNG inputs pass through
/// unchanged — or, for a rotated copy, of its decoded pixels. What went in comes from the input files and the run's
/// lineage sidecar (which input image each record is, and by which operation).
/// </summary>
public abstract class ImageFormatContract : OutputFormatContract
{
    private static readonly string[] s_classes = ["a", "b", "c"];

    protected override string[] Args => ["--seed", "5"];

    /// <summary>Whether the format's records name their images (the <c>.lst</c> paths, the manifest's <c>source-ref</c>s).</summary>
    protected virtual bool RecordsNameImages => true;

    /// <summary>Writes <paramref name="rows"/> 4×3 PNGs, every one distinct, image i in class folder <c>a</c>, <c>b</c> or <c>c</c> by i mod 3.</summary>
    protected override string WriteInput(TempDir tmp, int rows)
    {
        var root = tmp.Combine($"images-{rows}");
        for (int i = 0; i < rows; i++)
        {
            using var image = new Image<Rgba32>(4, 3);
            for (int y = 0; y < image.Height; y++)
            {
                for (int x = 0; x < image.Width; x++) image[x, y] = new Rgba32((byte)i, (byte)(i >> 8), (byte)(x * 16 + y), 255);
            }
            var file = Path.Combine(root, s_classes[i % 3], $"img{i:D4}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, ImageTestData.Png(image));
        }
        return root;
    }

    /// <summary>A channel's records as the format's own reader gives them: label text, the image's path below its channel (or null), the image bytes.</summary>
    protected abstract IEnumerable<(string Label, string? Name, byte[] Image)> ReadRecords(string outDir, string channel);

    protected override Task<List<string>> ReadBackAsync(string outDir, string channel)
        => Task.FromResult(ReadRecords(outDir, channel).Select(r =>
            Text(float.Parse(r.Label, CultureInfo.InvariantCulture), r.Name, IsCopy(r.Name) ? PixelHash(r.Image) : ByteHash(r.Image))).ToList());

    protected override Task<List<string>> ExpectedAsync(TempDir tmp, string input, string outDir, string channel)
    {
        var lineage = Path.Combine(outDir, "_dataprep", "lineage", channel + ".csv");
        if (!File.Exists(lineage)) return Task.FromResult(new List<string>());
        var lines = File.ReadAllLines(lineage);
        var header = lines[0].Split(',');
        int image = Array.IndexOf(header, "image"), operation = Array.IndexOf(header, "operation");
        return Task.FromResult(lines.Skip(1).Select(l => l.Split(',')).Select(f =>
        {
            string source = f[image], op = f[operation];
            var bytes = File.ReadAllBytes(Path.Combine(input, source));
            string content = op switch
            {
                "original" => ByteHash(bytes),
                "rotate90" => PixelHash(RotatedCounterClockwise(bytes)),
                _ => throw new InvalidOperationException($"the image contract does not expect the operation {op}"),
            };
            string? name = RecordsNameImages ? (op == "original" ? source : Path.ChangeExtension(source, $".{op}{Path.GetExtension(source)}")) : null;
            return Text(Array.IndexOf(s_classes, source.Split('/')[0]), name, content);
        }).ToList());
    }

    private static bool IsCopy(string? name) => name?.Contains(".rotate", StringComparison.Ordinal) == true;

    private static string Text(float label, string? name, string content) => $"{label.ToString("R", CultureInfo.InvariantCulture)}|{name}|{content}";

    private static string ByteHash(byte[] bytes) => "bytes:" + System.Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string PixelHash(byte[] encoded)
    {
        using var image = Image.Load<Rgba32>(encoded);
        return PixelHash(image);
    }

    private static string PixelHash(Image<Rgba32> image)
    {
        var pixels = new byte[image.Width * image.Height * 4];
        image.CopyPixelDataTo(pixels);
        return $"pixels:{image.Width}x{image.Height}:{System.Convert.ToHexStringLower(SHA256.HashData(pixels))}";
    }

    /// <summary>The image turned 90° counter-clockwise (as numpy.rot90), by moving pixels: (x, y) of a W×H image goes to (y, W−1−x).</summary>
    private static Image<Rgba32> RotatedCounterClockwise(byte[] encoded)
    {
        using var image = Image.Load<Rgba32>(encoded);
        var rotated = new Image<Rgba32>(image.Height, image.Width);
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++) rotated[y, image.Width - 1 - x] = image[x, y];
        }
        return rotated;
    }
}

/// <summary><c>images</c>: read back through the <c>.lst</c> files (index, label, path below the channel) and the image files they name.</summary>
public sealed class ImageFilesFormatContract : ImageFormatContract
{
    protected override string Format => ImageFilesFormatDefinition.FormatName;

    // Copies of the validation images, not train's: the one-row test's single image lands in train and must stay one record.
    protected override string[] Args => ["--augment", "rotate=90", "--augment-splits", "validation", "--seed", "5"];

    protected override bool RecordsAreRows => false;

    protected override IEnumerable<(string Label, string? Name, byte[] Image)> ReadRecords(string outDir, string channel)
    {
        foreach (var list in Shards(outDir, channel + "_lst"))
        {
            foreach (var line in File.ReadLines(list))
            {
                var fields = line.Split('\t');
                Assert.Equal(3, fields.Length);
                yield return (fields[1], fields[2], File.ReadAllBytes(Path.Combine(outDir, channel, fields[2])));
            }
        }
    }
}

/// <summary><c>recordio-image</c>: read back through the image RecordIO reader; each <c>.idx</c> must agree with its <c>.rec</c>.</summary>
public sealed class RecordIOImageFormatContract : ImageFormatContract
{
    protected override string Format => RecordIOImageFormatDefinition.FormatName;

    protected override bool RecordsNameImages => false;

    protected override IEnumerable<(string Label, string? Name, byte[] Image)> ReadRecords(string outDir, string channel)
    {
        var records = new List<(string, string?, byte[])>();
        foreach (var rec in Shards(outDir, channel))
        {
            var read = ImageRecordInspector.Read(rec).ToList();
            var idx = ImageRecordInspector.FindIdx(rec) ?? throw new InvalidOperationException($"{rec} has no .idx");
            Assert.Empty(ImageRecordInspector.CheckIdx(idx, read.Select(r => (r.Offset, r.Header.Id)).ToList()).Problems);
            records.AddRange(read.Select(r => (Assert.Single(r.Header.Labels).ToString("R", CultureInfo.InvariantCulture), (string?)null, r.Header.Image.ToArray())));
        }
        return records;
    }
}

/// <summary><c>augmented-manifest</c>: read back through the JSON Lines manifest (<c>source-ref</c> + <c>class</c>) and the images its URIs name.</summary>
public sealed class AugmentedManifestFormatContract : ImageFormatContract
{
    protected override string Format => AugmentedManifestFormatDefinition.FormatName;

    protected override IEnumerable<(string Label, string? Name, byte[] Image)> ReadRecords(string outDir, string channel)
    {
        var images = Path.Combine(Path.GetFullPath(outDir), "images", channel);
        foreach (var manifest in Shards(outDir, channel))
        {
            foreach (var line in File.ReadLines(manifest))
            {
                using var record = JsonDocument.Parse(line);
                var file = new Uri(record.RootElement.GetProperty("source-ref").GetString()!).LocalPath;
                var name = Path.GetRelativePath(images, file).Replace('\\', '/');
                Assert.False(name.StartsWith("..", StringComparison.Ordinal), $"{file} is outside {images}");
                yield return (record.RootElement.GetProperty("class").GetString()!, name, File.ReadAllBytes(file));
            }
        }
    }
}
