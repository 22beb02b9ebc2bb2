namespace DataPrep.Pipeline;

/// <summary>How an image is fitted into <see cref="ImageOptions.ResizeWidth"/>×<see cref="ImageOptions.ResizeHeight"/>.</summary>
public enum ImageResizeMode
{
    /// <summary>Keep the aspect ratio: the image fits inside the box (one side may be smaller).</summary>
    Keep,
    /// <summary>Keep the aspect ratio and pad with <see cref="ImageOptions.Fill"/> to exactly the box.</summary>
    Pad,
    /// <summary>Exactly the box, aspect ratio not kept.</summary>
    Stretch,
}

/// <summary>What to do with an image that cannot be read (corrupt, truncated, unsupported, over the limits).</summary>
public enum BadImagePolicy
{
    /// <summary>Stop with an error naming the file; nothing is written (default).</summary>
    Fail,
    /// <summary>Leave the image (and its augmented copies) out; counted in the report.</summary>
    Skip,
    /// <summary>Like skip, and list the file with the reason in <c>_dataprep/quarantine/images.csv</c>.</summary>
    Quarantine,
}

/// <summary>
/// Options of the image formats (<c>--format images|recordio-image|augmented-manifest</c>): where labels come
/// from, rotation augmentation, re-encoding, resizing and the safety limits. Defaults: no augmentation, JPEG
/// quality 95 (as im2rec), untouched images passed through byte for byte, EXIF orientation applied.
/// </summary>
public sealed record ImageOptions
{
    /// <summary>Input lists: the column holding the image path (relative to the list's folder).</summary>
    public string PathColumn { get; init; } = "path";

    /// <summary>Input lists: the label column (default <c>label</c>, or <see cref="ConvertOptions.Label"/> when given).</summary>
    public string LabelColumn { get; init; } = "label";

    /// <summary>Augmented manifests: the label attribute name next to <c>source-ref</c>.</summary>
    public string LabelAttribute { get; init; } = "class";

    /// <summary>Rotation augmentation: angles in degrees, counter-clockwise (90 = numpy.rot90); empty for none.</summary>
    public IReadOnlyList<double> Rotations { get; init; } = [];

    /// <summary>The share of eligible images that get augmented copies, chosen by hash(seed, "augment", row id).</summary>
    public double AugmentFraction { get; init; } = 1.0;

    /// <summary>The splits whose images are augmented (default train only, so no copy of a test image is trained on).</summary>
    public IReadOnlyList<string> AugmentSplits { get; init; } = ["train"];

    /// <summary>The colour of the corners an arbitrary-angle rotation (or pad resize) uncovers: a name or #RRGGBB[AA].</summary>
    public string Fill { get; init; } = "black";

    /// <summary>Arbitrary angles: crop the rotated image back to the original size (centred) instead of growing the canvas.</summary>
    public bool Crop { get; init; }

    /// <summary>JPEG quality (1–100) when a JPEG is re-encoded.</summary>
    public int JpegQuality { get; init; } = 95;

    /// <summary>Refuse any change that would re-encode a JPEG (lossy); PNG and other lossless images are fine.</summary>
    public bool LosslessOnly { get; init; }

    /// <summary>Re-encode every image even when nothing changes it (default: untouched JPEG/PNG bytes pass through).</summary>
    public bool Reencode { get; init; }

    /// <summary>Resize to this width (with <see cref="ResizeHeight"/>); null for no resize.</summary>
    public int? ResizeWidth { get; init; }

    /// <summary>See <see cref="ResizeWidth"/>.</summary>
    public int? ResizeHeight { get; init; }

    /// <summary>How the resize keeps (or not) the aspect ratio.</summary>
    public ImageResizeMode ResizeMode { get; init; } = ImageResizeMode.Keep;

    /// <summary>Apply the EXIF orientation before anything else (as cameras mean it).</summary>
    public bool AutoOrient { get; init; } = true;

    /// <summary>Refuse images with more pixels than this before decoding them (decompression bombs); PIL's limit by default.</summary>
    public long MaxPixels { get; init; } = 89_478_485;

    /// <summary>Refuse images whose decoded pixels (width × height × 4 bytes) would take more than this.</summary>
    public long MaxImageBytes { get; init; } = 512L << 20;

    /// <summary>
    /// Refuse (exit 3) an image folder holding anything besides images in one level of class folders: files that are not
    /// images, nested subfolders, files beside the class folders. Without it they are skipped, counted and listed in the
    /// report and run.json (<c>--strict</c>).
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Corrupt, truncated or unsupported images.</summary>
    public BadImagePolicy OnBadImage { get; init; } = BadImagePolicy.Fail;

    /// <summary>Images are processed in windows of at most this many source bytes (memory bound; output does not depend on it).</summary>
    public long BatchBytes { get; init; } = 64L << 20;

    /// <summary>Checks the image options; problems are added to <paramref name="problems"/>.</summary>
    public void Validate(List<string> problems)
    {
        if (JpegQuality is < 1 or > 100) problems.Add($"--jpeg-quality {JpegQuality}: expected 1 to 100.");
        if (!(AugmentFraction > 0 && AugmentFraction <= 1)) problems.Add($"--augment-fraction {AugmentFraction}: expected a fraction above 0, at most 1.");
        if ((ResizeWidth is null) != (ResizeHeight is null) || ResizeWidth is <= 0 || ResizeHeight is <= 0) problems.Add("--resize needs WIDTHxHEIGHT with both positive, e.g. 224x224.");
        if (MaxPixels <= 0 || MaxImageBytes <= 0) problems.Add("--max-pixels and --max-image-bytes must be positive.");
        if (BatchBytes <= 0) problems.Add("The image batch size must be positive.");
        foreach (var r in Rotations)
        {
            if (!double.IsFinite(r)) problems.Add($"--augment rotate={r}: expected an angle in degrees, e.g. 90 or 15.");
            else if (Math.IEEERemainder(r, 360) == 0) problems.Add($"--augment rotate={r}: a rotation by a multiple of 360° gives back the original; expected e.g. 90, 180, 270 or 15.");
        }
        if (Rotations.Distinct().Count() != Rotations.Count) problems.Add($"--augment rotate={string.Join(",", Rotations)} lists an angle twice.");
        foreach (var s in AugmentSplits)
        {
            if (s is not ("train" or "validation" or "test")) problems.Add($"--augment-splits {s}: expected train, validation or test.");
        }
    }
}
