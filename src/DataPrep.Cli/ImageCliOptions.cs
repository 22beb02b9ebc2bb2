using System.CommandLine;
using System.Globalization;
using DataPrep.Pipeline;

namespace DataPrep.Cli;

/// <summary>The flags of the image formats (<c>--format images|recordio-image|augmented-manifest</c>), mapped onto <see cref="ImageOptions"/>.</summary>
internal sealed class ImageCliOptions
{
    public const string Examples = """

          # Images: one subfolder per class → one .rec per split, train images also rotated 90° counter-clockwise
          dataprep convert sample-data/images --out out/img --format recordio-image --augment rotate=90

          # An input list (path,label[,group]) → image files + im2rec .lst per split, no patient in two splits
          dataprep convert scans.csv --out out/scans --format images --split group --group patient --augment rotate=90,180,270
        """;

    private readonly Option<string[]> _augment = new("--augment") { Description = "Image formats: augment train images (after the split) with rotate=ANGLE[,ANGLE…], counter-clockwise degrees as numpy.rot90 (90, 180, 270 exact; other angles use --augment-fill/--augment-crop).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<double> _fraction = new("--augment-fraction") { Description = "Image formats: share of eligible images that get augmented copies, chosen by hash(seed, row id) (default 1).", DefaultValueFactory = _ => 1.0 };
    private readonly Option<string[]> _splits = new("--augment-splits") { Description = "Image formats: splits whose images are augmented (default train only, so no copy of a test image is trained on).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string> _fill = new("--augment-fill") { Description = "Image formats: colour of the corners an arbitrary rotation or a pad resize uncovers (name or #RRGGBB; default black).", DefaultValueFactory = _ => "black" };
    private readonly Option<bool> _crop = new("--augment-crop") { Description = "Image formats: crop arbitrary-angle rotations back to the original size (centred)." };
    private readonly Option<int> _quality = new("--jpeg-quality") { Description = "Image formats: JPEG quality when a JPEG is re-encoded (default 95, as im2rec).", DefaultValueFactory = _ => 95 };
    private readonly Option<bool> _lossless = new("--lossless-only") { Description = "Image formats: refuse any change that would re-encode a JPEG (lossy)." };
    private readonly Option<bool> _reencode = new("--reencode") { Description = "Image formats: re-encode every image (default: untouched JPEG/PNG bytes pass through unchanged)." };
    private readonly Option<string> _resize = new("--resize") { Description = "Image formats: resize to WIDTHxHEIGHT, e.g. 224x224 (see --resize-mode)." };
    private readonly Option<string> _resizeMode = new("--resize-mode") { Description = "Image formats: keep (fit inside, keep aspect; default), pad (keep aspect, pad with --augment-fill) or stretch.", DefaultValueFactory = _ => "keep" };
    private readonly Option<bool> _noAutoOrient = new("--no-auto-orient") { Description = "Image formats: do not apply the EXIF orientation first." };
    private readonly Option<long?> _maxPixels = new("--max-pixels") { Description = "Image formats: refuse images with more pixels, before decoding (default 89478485, as PIL)." };
    private readonly Option<string> _maxBytes = new("--max-image-bytes") { Description = "Image formats: refuse images whose decoded pixels would take more (default 512MB)." };
    private readonly Option<bool> _strict = new("--strict") { Description = "Image folders: refuse (exit 3) files that are not images, nested subfolders and files beside the class folders (default: skipped, counted and listed in the report and run.json)." };
    private readonly Option<string> _onBad = new("--on-bad-image") { Description = "Image formats: corrupt, truncated, unsupported or over-limit images: fail (default), skip (counted) or quarantine (listed in _dataprep/quarantine/images.csv).", DefaultValueFactory = _ => "fail" };
    private readonly Option<string> _pathColumn = new("--path-column") { Description = "Image formats, input lists: the column with image paths (default path; relative to the list's folder).", DefaultValueFactory = _ => "path" };
    private readonly Option<string> _labelAttribute = new("--label-attribute") { Description = "augmented-manifest: the label attribute next to source-ref (default class).", DefaultValueFactory = _ => "class" };

    /// <summary>Every image flag, in the order help lists them.</summary>
    public IReadOnlyList<Option> All => [_augment, _fraction, _splits, _fill, _crop, _quality, _lossless, _reencode, _resize, _resizeMode, _noAutoOrient, _maxPixels, _maxBytes, _strict, _onBad, _pathColumn, _labelAttribute];

    public void AddTo(Command cmd)
    {
        foreach (var o in All) cmd.Options.Add(o);
    }

    public ImageOptions Parse(ParseResult r, string? label)
    {
        var rotations = new List<double>();
        foreach (var item in OptionParsing.List(r.GetValue(_augment)))
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            // "rotate=90,180" arrives as "rotate=90" and "180": a bare number continues the rotate list.
            if (eq < 0 && rotations.Count > 0) { rotations.Add(Angle(item, item)); continue; }
            var key = eq < 0 ? item : item[..eq];
            if (!key.Equals("rotate", StringComparison.OrdinalIgnoreCase) || eq < 0)
            {
                throw new PipelineValidationException($"--augment {item}: expected rotate=ANGLE[,ANGLE…] in counter-clockwise degrees, e.g. rotate=90 or rotate=90,180,270.");
            }
            rotations.Add(Angle(item[(eq + 1)..], item));
        }
        int? w = null, h = null;
        if (r.GetValue(_resize) is { } size)
        {
            var parts = size.ToLowerInvariant().Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pw) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ph))
            {
                throw new PipelineValidationException($"--resize {size}: expected WIDTHxHEIGHT, e.g. 224x224.");
            }
            (w, h) = (pw, ph);
        }
        var defaults = new ImageOptions();
        return new ImageOptions
        {
            LabelColumn = label ?? defaults.LabelColumn,
            PathColumn = r.GetValue(_pathColumn)!,
            LabelAttribute = r.GetValue(_labelAttribute)!,
            Rotations = rotations,
            AugmentFraction = r.GetValue(_fraction),
            AugmentSplits = r.GetValue(_splits) is { Length: > 0 } s ? OptionParsing.List(s).Select(x => x.ToLowerInvariant()).ToList() : defaults.AugmentSplits,
            Fill = r.GetValue(_fill)!,
            Crop = r.GetValue(_crop),
            JpegQuality = r.GetValue(_quality),
            LosslessOnly = r.GetValue(_lossless),
            Reencode = r.GetValue(_reencode),
            ResizeWidth = w,
            ResizeHeight = h,
            ResizeMode = r.GetValue(_resizeMode)!.ToLowerInvariant() switch
            {
                "keep" or "fit" => ImageResizeMode.Keep,
                "pad" => ImageResizeMode.Pad,
                "stretch" => ImageResizeMode.Stretch,
                var x => throw new PipelineValidationException($"--resize-mode {x}: expected keep, pad or stretch."),
            },
            AutoOrient = !r.GetValue(_noAutoOrient),
            MaxPixels = r.GetValue(_maxPixels) ?? defaults.MaxPixels,
            MaxImageBytes = r.GetValue(_maxBytes) is { } mb ? OptionParsing.ParseSize(mb, "--max-image-bytes") : defaults.MaxImageBytes,
            Strict = r.GetValue(_strict),
            OnBadImage = r.GetValue(_onBad)!.ToLowerInvariant() switch
            {
                "fail" => BadImagePolicy.Fail,
                "skip" => BadImagePolicy.Skip,
                "quarantine" => BadImagePolicy.Quarantine,
                var x => throw new PipelineValidationException($"--on-bad-image {x}: expected fail, skip or quarantine."),
            },
        };
    }

    private static double Angle(string text, string item)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            ? a
            : throw new PipelineValidationException($"--augment {item}: '{text}' is not an angle; expected counter-clockwise degrees such as 90, 180, 270 or 15.");
}
