using System.Globalization;
using DataPrep.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DataPrep.Images;

/// <summary>An image as written: encoded bytes, the file extension of their format, and the pixel size.</summary>
/// <param name="Bytes">The encoded image (JPEG, PNG, …).</param>
/// <param name="Extension">The extension matching the bytes, with the dot (e.g. <c>.jpg</c>).</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="PassedThrough">Whether the bytes are the input file's, unchanged.</param>
public sealed record EncodedImage(byte[] Bytes, string Extension, int Width, int Height, bool PassedThrough);

/// <summary>An image that cannot be used: corrupt, truncated, unsupported or over a limit. Subject to the bad-image policy.</summary>
public sealed class BadImageException(string file, string problem) : Exception($"{file}: {problem}")
{
    /// <summary>The image file.</summary>
    public string File { get; } = file;

    /// <summary>The problem, without the file.</summary>
    public string Problem { get; } = problem;
}

/// <summary>
/// Decodes, orients, rotates, resizes and encodes one image with SixLabors.ImageSharp. Limits are checked
/// from the header (<c>Image.Identify</c>) before any pixel is decoded. Thread-safe; each call works alone
/// (ImageSharp's own parallelism is off because the caller runs many images at once).
/// </summary>
public sealed class ImageTransformer
{
    private readonly ImageOptions _options;
    private readonly Configuration _config;
    private readonly Color _fill;

    /// <summary>Creates a transformer.</summary>
    /// <exception cref="PipelineValidationException">The fill colour cannot be parsed.</exception>
    public ImageTransformer(ImageOptions options)
    {
        _options = options;
        _config = Configuration.Default.Clone();
        _config.MaxDegreeOfParallelism = 1;
        _fill = ParseColor(options.Fill);
    }

    /// <summary>Parses a colour name (black, white, gray, …) or #RRGGBB[AA].</summary>
    /// <exception cref="PipelineValidationException">Neither a known name nor hex.</exception>
    public static Color ParseColor(string text)
    {
        if (Color.TryParse(text, out var c)) return c;
        if (Color.TryParseHex(text, out c)) return c;
        throw new PipelineValidationException($"--augment-fill {text}: expected a colour name (black, white, gray, …) or hex #RRGGBB[AA].");
    }

    /// <summary>
    /// The images of one input file: the original (index 0) and one per rotation, in order. The file is
    /// decoded once. Angles are counter-clockwise degrees.
    /// </summary>
    /// <exception cref="BadImageException">The file is not a usable image.</exception>
    /// <exception cref="DataFormatException">--lossless-only and a JPEG would be re-encoded.</exception>
    public IReadOnlyList<EncodedImage> Process(string path, byte[] bytes, IReadOnlyList<double> rotations)
    {
        CheckComplete(path, bytes);
        IImageFormat? format;
        IImageInfo? info;
        try
        {
            using var ms = new MemoryStream(bytes, writable: false);
            info = Image.Identify(_config, ms, out format);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw Bad(path, bytes, e);
        }
        if (info is null || format is null) throw Unsupported(path, bytes);
        long pixels = (long)info.Width * info.Height;
        if (pixels > _options.MaxPixels)
        {
            throw new BadImageException(path, $"the image is {info.Width}×{info.Height} = {pixels:N0} pixels, over the limit of {_options.MaxPixels:N0} (--max-pixels); refused before decoding (a decompression bomb, or raise the limit)");
        }
        int bytesPerPixel = Math.Max(4, ((info.PixelType?.BitsPerPixel ?? 32) + 7) / 8);
        long decoded = pixels * bytesPerPixel;
        if (decoded > _options.MaxImageBytes)
        {
            throw new BadImageException(path, $"the image is {info.Width}×{info.Height} and would take {decoded:N0} bytes decoded, over the limit of {_options.MaxImageBytes:N0} (--max-image-bytes); refused before decoding");
        }
        bool jpeg = format is JpegFormat;
        bool png = format is PngFormat;
        ushort orientation = OrientationOf(info);
        bool orient = _options.AutoOrient && orientation is > 1 and <= 8;
        bool resize = _options.ResizeWidth is not null;
        bool touched = orient || resize || _options.Reencode || !(jpeg || png);
        if (jpeg && _options.LosslessOnly && (touched || rotations.Count > 0))
        {
            var why = string.Join(", ", new[] { orient ? "EXIF orientation" : null, resize ? "--resize" : null, _options.Reencode ? "--reencode" : null, rotations.Count > 0 ? "rotation" : null }.Where(w => w is not null));
            throw new DataFormatException($"the image is a JPEG and {why} would re-encode it (lossy), but --lossless-only is set; expected PNG (or another lossless format) input, or drop --lossless-only to re-encode at --jpeg-quality {_options.JpegQuality}", path);
        }
        var result = new List<EncodedImage>(1 + rotations.Count);
        if (!touched && rotations.Count == 0)
        {
            result.Add(new EncodedImage(bytes, ExtensionOf(format), info.Width, info.Height, true));
            return result;
        }
        Image image;
        try
        {
            image = Image.Load(_config, bytes, out _);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw Bad(path, bytes, e);
        }
        using (image)
        {
            if (orient) image.Mutate(x => x.AutoOrient());
            // Outputs hold upright pixels: an orientation tag left behind would turn them again in viewers.
            image.Metadata.ExifProfile?.RemoveValue(ExifTag.Orientation);
            var ext = jpeg ? ExtensionOf(format) : ".png";
            IImageEncoder encoder = jpeg ? new JpegEncoder { Quality = _options.JpegQuality } : new PngEncoder();
            result.Add(touched ? Encode(Resized(image, clone: false), encoder, ext) : new EncodedImage(bytes, ExtensionOf(format), info.Width, info.Height, true));
            foreach (var angle in rotations)
            {
                using var rotated = Rotate(image, angle);
                result.Add(Encode(Resized(rotated, clone: false), encoder, ext));
            }
        }
        return result;
    }

    /// <summary>
    /// Rotates counter-clockwise by <paramref name="degrees"/>. Quarter turns are exact pixel moves (90° CCW
    /// sends source pixel (x, y) of a W×H image to (y, W−1−x)); ImageSharp's <c>RotateMode.Rotate90</c> turns
    /// clockwise, so 90° CCW is its <c>Rotate270</c>. Other angles grow the canvas (or crop back to the
    /// original size) and fill the uncovered corners.
    /// </summary>
    public Image Rotate(Image image, double degrees)
    {
        double a = ((degrees % 360) + 360) % 360;
        if (a is 90 or 180 or 270)
        {
            var mode = a switch { 90 => RotateMode.Rotate270, 180 => RotateMode.Rotate180, _ => RotateMode.Rotate90 };
            return image.Clone(x => x.Rotate(mode));
        }
        int w = image.Width, h = image.Height;
        var rgba = image.CloneAs<Rgba32>();
        // ImageSharp's positive angles turn clockwise.
        rgba.Mutate(x => x.Rotate((float)-a).BackgroundColor(_fill));
        if (_options.Crop) rgba.Mutate(x => x.Crop(new Rectangle((rgba.Width - w) / 2, (rgba.Height - h) / 2, w, h)));
        return rgba;
    }

    private Image Resized(Image image, bool clone)
    {
        if (_options.ResizeWidth is not { } w || _options.ResizeHeight is not { } h) return image;
        var ro = new ResizeOptions
        {
            Size = new Size(w, h),
            Mode = _options.ResizeMode switch { ImageResizeMode.Pad => ResizeMode.Pad, ImageResizeMode.Stretch => ResizeMode.Stretch, _ => ResizeMode.Max },
            PadColor = _fill,
        };
        if (clone) return image.Clone(x => x.Resize(ro));
        image.Mutate(x => x.Resize(ro));
        return image;
    }

    private static EncodedImage Encode(Image image, IImageEncoder encoder, string extension)
    {
        using var ms = new MemoryStream();
        image.Save(ms, encoder);
        return new EncodedImage(ms.ToArray(), extension, image.Width, image.Height, false);
    }

    private static ushort OrientationOf(IImageInfo info)
    {
        var value = info.Metadata.ExifProfile?.GetValue(ExifTag.Orientation);
        return value is null ? (ushort)1 : value.Value;
    }

    /// <summary>The usual extension of a format (what a pass-through or re-encoded file is named).</summary>
    private static string ExtensionOf(IImageFormat format) => format switch
    {
        JpegFormat => ".jpg",
        PngFormat => ".png",
        _ => "." + format.FileExtensions.First(),
    };

    /// <summary>JPEG and PNG files must end with their end marker: a file cut short is refused, not half-decoded.</summary>
    private static void CheckComplete(string path, byte[] bytes)
    {
        if (bytes.Length == 0) throw new BadImageException(path, "the file is empty; expected an image (JPEG, PNG, BMP, GIF, TIFF, TGA, WebP, PBM)");
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            int eoi = bytes.AsSpan().LastIndexOf([(byte)0xFF, (byte)0xD9]);
            if (eoi < 0 || eoi < bytes.Length - 4096)
            {
                throw new BadImageException(path, $"the JPEG is truncated: it has no end-of-image marker (FF D9) near its end ({bytes.Length:N0} bytes); expected a complete file");
            }
        }
        else if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']))
        {
            if (bytes.AsSpan().LastIndexOf("IEND"u8) < 0)
            {
                throw new BadImageException(path, $"the PNG is truncated: it has no IEND chunk ({bytes.Length:N0} bytes); expected a complete file");
            }
        }
    }

    /// <summary>
    /// Whether an exception from ImageSharp's decoders means the bytes are not a usable image. Besides its own
    /// exceptions, its decoders throw NullReferenceException, ArgumentOutOfRangeException, IndexOutOfRangeException and
    /// others on corrupt headers (found by tools/fuzz.sh); all of them describe the input, never the run.
    /// </summary>
    internal static bool IsDecoderFailure(Exception e) => Throw.IsDecodeFailure(e);

    private static BadImageException Unsupported(string path, byte[] bytes)
        => new(path, $"not an image format ImageSharp 2 decodes (JPEG, PNG, BMP, GIF, TIFF, TGA, WebP, PBM); the file starts with {Hex(bytes)}");

    private static BadImageException Bad(string path, byte[] bytes, Exception e) => e is UnknownImageFormatException
        ? Unsupported(path, bytes)
        : e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException or NotSupportedException
            ? new BadImageException(path, $"the image is corrupt and cannot be decoded ({e.Message.TrimEnd('.')})")
            : new BadImageException(path, $"the image is corrupt and cannot be decoded (its decoder failed with {e.GetType().Name})");

    private static string Hex(byte[] bytes) => string.Join(" ", bytes.Take(8).Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
}
