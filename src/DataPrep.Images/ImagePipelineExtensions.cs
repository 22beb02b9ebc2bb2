using DataPrep.Fluent;
using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>
/// The fluent API of the image formats, e.g.
/// <c>ImagePipeline.ReadImages("photos/").SplitRandom(0.8, 0.1, 0.1).Rotate(90).WriteRecordIOImages("out/").RunAsync()</c>.
/// It maps onto the same <see cref="ConvertOptions"/> as <c>dataprep convert --format recordio-image</c>.
/// </summary>
public static class ImagePipeline
{
    /// <summary>Starts a pipeline over a folder with one subfolder per class, or an input list (.csv/.tsv/.jsonl).</summary>
    public static DataPrepBuilder ReadImages(string folderOrList)
    {
        var b = DataPrepPipeline.Read(folderOrList);
        b.Registry.AddImages();
        return b.With(o => o with { Format = RecordIOImageFormatDefinition.FormatName }, $"read images from {folderOrList}");
    }

    /// <summary>Augments the chosen splits (train by default) with rotations by these counter-clockwise angles.</summary>
    public static DataPrepBuilder Rotate(this DataPrepBuilder b, params double[] degreesCounterClockwise)
        => b.With(o => o with { Images = o.Images with { Rotations = [.. o.Images.Rotations, .. degreesCounterClockwise] } }, $"augment: rotate {string.Join(", ", degreesCounterClockwise)}° counter-clockwise");

    /// <summary>Changes any image option (fraction, splits, fill, crop, JPEG quality, limits, bad-image policy).</summary>
    public static DataPrepBuilder ImageOptions(this DataPrepBuilder b, Func<ImageOptions, ImageOptions> change)
        => b.With(o => o with { Images = change(o.Images) });

    /// <summary>Resizes every image into WIDTH×HEIGHT.</summary>
    public static DataPrepBuilder Resize(this DataPrepBuilder b, int width, int height, ImageResizeMode mode = ImageResizeMode.Keep)
        => b.With(o => o with { Images = o.Images with { ResizeWidth = width, ResizeHeight = height, ResizeMode = mode } }, $"resize {width}x{height} ({mode.ToString().ToLowerInvariant()})");

    /// <summary>Writes MXNet image RecordIO: one .rec per split plus .idx under _dataprep/.</summary>
    public static DataPrepBuilder WriteRecordIOImages(this DataPrepBuilder b, string folder, bool overwrite = false)
        => b.With(o => o with { Format = RecordIOImageFormatDefinition.FormatName, Output = folder, Overwrite = overwrite }, $"write image RecordIO to {folder}");

    /// <summary>Writes image files per split plus im2rec .lst files (SageMaker's image format).</summary>
    public static DataPrepBuilder WriteImages(this DataPrepBuilder b, string folder, bool overwrite = false)
        => b.With(o => o with { Format = ImageFilesFormatDefinition.FormatName, Output = folder, Overwrite = overwrite }, $"write images + .lst to {folder}");

    /// <summary>Writes images plus a JSON Lines augmented manifest per split.</summary>
    public static DataPrepBuilder WriteAugmentedManifest(this DataPrepBuilder b, string folder, bool overwrite = false)
        => b.With(o => o with { Format = AugmentedManifestFormatDefinition.FormatName, Output = folder, Overwrite = overwrite }, $"write augmented manifest to {folder}");
}
