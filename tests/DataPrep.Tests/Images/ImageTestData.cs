using System.Buffers.Binary;
using System.IO.Hashing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace DataPrep.Tests.Images;

/// <summary>Tiny images generated in the tests: every pixel distinct, so a wrong mapping cannot pass.</summary>
internal static class ImageTestData
{
    public static Image<Rgba32> Pattern(int w, int h)
    {
        var img = new Image<Rgba32>(w, h);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++) img[x, y] = new Rgba32((byte)(x * 37 + 11), (byte)(y * 53 + 7), (byte)(x * 5 + y * 17), 255);
        }
        return img;
    }

    public static byte[] Png(Image img)
    {
        using var ms = new MemoryStream();
        img.Save(ms, new PngEncoder());
        return ms.ToArray();
    }

    public static byte[] PngPattern(int w, int h)
    {
        using var img = Pattern(w, h);
        return Png(img);
    }

    /// <summary>A JPEG whose EXIF orientation is <paramref name="orientation"/> (6 = shown turned 90° clockwise).</summary>
    public static byte[] JpegWithOrientation(int w, int h, ushort orientation)
    {
        using var img = Pattern(w, h);
        img.Metadata.ExifProfile = new ExifProfile();
        img.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        using var ms = new MemoryStream();
        img.Save(ms, new JpegEncoder { Quality = 95 });
        return ms.ToArray();
    }

    /// <summary>A valid 1×1 PNG whose IHDR (with a correct CRC) claims <paramref name="w"/>×<paramref name="h"/>: a decompression bomb's header.</summary>
    public static byte[] PngClaiming(int w, int h)
    {
        var png = PngPattern(1, 1);
        // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC covers type + 13 data bytes.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), w);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), h);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32.HashToUInt32(png.AsSpan(12, 17)));
        return png;
    }

    /// <summary>Writes class folders: classes[i] gets counts[i] PNG patterns of distinct sizes.</summary>
    public static string ClassFolders(string root, string[] classes, int perClass)
    {
        for (int c = 0; c < classes.Length; c++)
        {
            Directory.CreateDirectory(Path.Combine(root, classes[c]));
            for (int i = 0; i < perClass; i++) File.WriteAllBytes(Path.Combine(root, classes[c], $"img{i}.png"), PngPattern(3 + i, 2 + c));
        }
        return root;
    }
}
