using DataPrep.Images;
using DataPrep.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DataPrep.Tests.Images;

public class RotationTests
{
    private static readonly ImageTransformer s_transformer = new(new ImageOptions());

    private static Image<Rgba32> Decode(byte[] bytes) => Image.Load<Rgba32>(bytes);

    [Theory]
    [InlineData(5, 3)]
    [InlineData(4, 4)]
    [InlineData(1, 7)]
    public void Rotate90_is_counter_clockwise_like_numpy_rot90(int w, int h)
    {
        using var src = ImageTestData.Pattern(w, h);
        var outputs = s_transformer.Process("p.png", ImageTestData.Png(src), [90]);
        using var dst = Decode(outputs[1].Bytes);
        Assert.Equal((h, w), (dst.Width, dst.Height));
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++) Assert.Equal(src[x, y], dst[y, w - 1 - x]);
        }
    }

    [Fact]
    public void Rotate180_and_270_map_pixels_exactly()
    {
        const int w = 5, h = 3;
        using var src = ImageTestData.Pattern(w, h);
        var outputs = s_transformer.Process("p.png", ImageTestData.Png(src), [180, 270]);
        using var r180 = Decode(outputs[1].Bytes);
        using var r270 = Decode(outputs[2].Bytes);
        Assert.Equal((w, h), (r180.Width, r180.Height));
        Assert.Equal((h, w), (r270.Width, r270.Height));
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                Assert.Equal(src[x, y], r180[w - 1 - x, h - 1 - y]);
                Assert.Equal(src[x, y], r270[h - 1 - y, x]); // 270° counter-clockwise = 90° clockwise
            }
        }
    }

    [Fact]
    public void Four_quarter_turns_give_back_the_original_pixels()
    {
        var png = ImageTestData.PngPattern(6, 4);
        var current = png;
        for (int i = 0; i < 4; i++) current = s_transformer.Process("p.png", current, [90])[1].Bytes;
        using var a = Decode(png);
        using var b = Decode(current);
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        for (int y = 0; y < a.Height; y++)
        {
            for (int x = 0; x < a.Width; x++) Assert.Equal(a[x, y], b[x, y]);
        }
    }

    [Fact]
    public void ImageSharp_Rotate90_turns_clockwise_which_is_why_90_ccw_uses_Rotate270()
    {
        using var src = ImageTestData.Pattern(5, 3);
        using var cw = src.Clone(x => x.Rotate(RotateMode.Rotate90));
        Assert.Equal(src[0, 0], cw[2, 0]); // top-left goes to top-right: clockwise
    }

    [Fact]
    public void Arbitrary_angle_grows_the_canvas_and_fills_corners_or_crops_back()
    {
        var png = ImageTestData.PngPattern(20, 10);
        var grown = new ImageTransformer(new ImageOptions { Fill = "#FF0000" }).Process("p.png", png, [15])[1];
        Assert.True(grown.Width > 20 && grown.Height > 10);
        using (var g = Decode(grown.Bytes)) Assert.Equal(new Rgba32(255, 0, 0, 255), g[0, 0]);
        var cropped = new ImageTransformer(new ImageOptions { Crop = true }).Process("p.png", png, [15])[1];
        Assert.Equal((20, 10), (cropped.Width, cropped.Height));
    }

    [Fact]
    public void An_untouched_png_passes_through_byte_for_byte()
    {
        var png = ImageTestData.PngPattern(7, 5);
        var outputs = s_transformer.Process("p.png", png, []);
        Assert.True(outputs[0].PassedThrough);
        Assert.Equal(png, outputs[0].Bytes);
        // With a rotation the original still passes through; only the copy is encoded.
        Assert.Equal(png, s_transformer.Process("p.png", png, [90])[0].Bytes);
    }

    [Fact]
    public void Exif_rotated_jpeg_is_auto_oriented_unless_switched_off()
    {
        // Orientation 6: the camera held the sensor turned; viewers show it turned 90° clockwise (8×4 → 4×8).
        var jpeg = ImageTestData.JpegWithOrientation(8, 4, 6);
        var oriented = s_transformer.Process("p.jpg", jpeg, [])[0];
        Assert.False(oriented.PassedThrough);
        Assert.Equal((4, 8), (oriented.Width, oriented.Height));
        using (var img = Image.Load(oriented.Bytes))
        {
            Assert.Equal((4, 8), (img.Width, img.Height));
            Assert.Null(img.Metadata.ExifProfile?.GetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation));
        }
        var raw = new ImageTransformer(new ImageOptions { AutoOrient = false }).Process("p.jpg", jpeg, [])[0];
        Assert.True(raw.PassedThrough);
        Assert.Equal((8, 4), (raw.Width, raw.Height));
    }

    [Fact]
    public void Lossless_only_refuses_to_reencode_a_jpeg_but_rotates_png()
    {
        var jpeg = ImageTestData.JpegWithOrientation(8, 4, 1);
        var t = new ImageTransformer(new ImageOptions { LosslessOnly = true });
        var e = Assert.Throws<DataFormatException>(() => t.Process("/x/p.jpg", jpeg, [90]));
        Assert.Equal("/x/p.jpg: the image is a JPEG and rotation would re-encode it (lossy), but --lossless-only is set; expected PNG (or another lossless format) input, or drop --lossless-only to re-encode at --jpeg-quality 95", e.Message);
        Assert.Equal(2, t.Process("p.png", ImageTestData.PngPattern(3, 2), [90]).Count);
    }

    [Fact]
    public void Resize_keep_pad_and_stretch()
    {
        var png = ImageTestData.PngPattern(40, 20);
        EncodedImage R(ImageResizeMode m) => new ImageTransformer(new ImageOptions { ResizeWidth = 10, ResizeHeight = 10, ResizeMode = m }).Process("p.png", png, [])[0];
        Assert.Equal((10, 5), (R(ImageResizeMode.Keep).Width, R(ImageResizeMode.Keep).Height));
        Assert.Equal((10, 10), (R(ImageResizeMode.Pad).Width, R(ImageResizeMode.Pad).Height));
        Assert.Equal((10, 10), (R(ImageResizeMode.Stretch).Width, R(ImageResizeMode.Stretch).Height));
    }
}
