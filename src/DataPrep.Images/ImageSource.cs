using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;

namespace DataPrep.Images;

/// <summary>The columns of image rows that the image stages and sinks rely on.</summary>
public static class ImageColumns
{
    /// <summary>The image's path below its input's root, with '/' separators (e.g. <c>cat/001.jpg</c>); output files keep it.</summary>
    public const string Path = "path";

    /// <summary>The label(s) as class ids in text: <c>3</c>, or <c>1;3</c> for several (see <see cref="ImageInputs.LabelText"/>).</summary>
    public const string Label = "label";

    /// <summary>The encoded output image (added by <see cref="ImageTransformStage"/>); the underscore keeps it apart from input list columns.</summary>
    public const string Encoded = "_image";

    /// <summary>The file extension of <see cref="Encoded"/>, with the dot (<c>.jpg</c>, <c>.png</c>).</summary>
    public const string EncodedExtension = "_image_extension";
}

/// <summary>
/// The names of the image source's <see cref="SourceOptions.FormatSettings"/>: which list columns hold the path, the
/// label, the group key and the time. The image output formats set them from the run's options.
/// </summary>
public static class ImageSourceSettings
{
    /// <summary>The input format the image source answers for (<see cref="SourceOptions.Format"/>).</summary>
    public const string Format = "images";

    /// <summary>Input lists: the column of image paths (default <c>path</c>).</summary>
    public const string PathColumn = "path-column";

    /// <summary>Input lists: the column of labels (default <c>label</c>).</summary>
    public const string LabelColumn = "label-column";

    /// <summary>Input lists: the group key column, which every line must fill (none by default).</summary>
    public const string GroupColumn = "group-column";

    /// <summary>Input lists: a column of ISO 8601 instants read as timestamps, for time splits (none by default).</summary>
    public const string TimeColumn = "time-column";

    /// <summary>Class folders: "true" refuses anything besides images in one level of class folders (<see cref="ImageOptions.Strict"/>).</summary>
    public const string Strict = "strict";

    /// <summary>The settings of a run: its path and label columns, its group column, and its time column when it splits by time.</summary>
    public static IReadOnlyDictionary<string, string> Of(ConvertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [PathColumn] = options.Images.PathColumn,
            [LabelColumn] = options.Label ?? options.Images.LabelColumn,
        };
        if (options.GroupColumn is { } group) settings[GroupColumn] = group;
        if (options.SplitBy == SplitMethod.Time && options.TimeColumn is { } time) settings[TimeColumn] = time;
        if (options.Images.Strict) settings[Strict] = "true";
        return settings;
    }
}

/// <summary>Creates <see cref="ImageSource"/>s for the input format <c>images</c> (any path: a folder, a prefix or a list).</summary>
public sealed class ImageSourceFactory : ISourceFactory
{
    /// <inheritdoc />
    public bool CanRead(string path, string? format) => string.Equals(format, ImageSourceSettings.Format, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public IRecordSource Create(string path, SourceOptions options) => new ImageSource(path, options);
}

/// <summary>
/// One image input as rows: a folder with one subfolder per class (local or an <c>s3://</c> prefix), or an input list
/// (.csv, .tsv, .jsonl; local or <c>s3://</c>) with a path and label(s) per image. Each image is one row with its
/// <see cref="ImageColumns.Path"/>, its <see cref="ImageColumns.Label"/> (class ids in this input's own class map;
/// <see cref="ImageClassStage"/> maps them onto the run's), the group column and the list's other columns. Row
/// ids are (source index, 1-based image ordinal), the images in folder order (class, then path) or list order.
/// Opening reads the listing or the list (<see cref="ImageInputs"/>); the images themselves are read by
/// <see cref="ImageTransformStage"/> through <see cref="ReadImageAsync"/>.
/// </summary>
public sealed class ImageSource(string input, SourceOptions options) : IRecordSource
{
    private ImageInput? _images;

    /// <inheritdoc />
    public string Description => input;

    /// <summary>A list file or object is fingerprinted; a folder or prefix of images is not.</summary>
    public bool IsSingleFile => !Images.IsClassFolder;

    /// <summary>The images of the input, once opened.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="OpenAsync"/>.</exception>
    public ImageInput Images => _images ?? throw new InvalidOperationException($"{input}: OpenAsync first.");

    /// <inheritdoc />
    /// <exception cref="PipelineValidationException">The input is neither a class folder nor a list, or a named column is missing.</exception>
    /// <exception cref="DataFormatException">A bad list line (missing path or label, a path outside the list's folder, a missing file).</exception>
    public ValueTask<Schema> OpenAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var settings = options.FormatSettings;
        string? Setting(string name) => settings.TryGetValue(name, out var v) ? v : null;
        string? time = Setting(ImageSourceSettings.TimeColumn);
        // ImageInputs reads one input as a run names it; only the list columns matter here.
        var single = new ConvertOptions
        {
            Inputs = [input],
            GroupColumn = Setting(ImageSourceSettings.GroupColumn),
            SplitBy = time is null ? SplitMethod.Random : SplitMethod.Time,
            TimeColumn = time,
            Images = new ImageOptions
            {
                PathColumn = Setting(ImageSourceSettings.PathColumn) ?? ImageColumns.Path,
                LabelColumn = Setting(ImageSourceSettings.LabelColumn) ?? ImageColumns.Label,
                Strict = Setting(ImageSourceSettings.Strict) == "true",
            },
        };
        _images ??= ImageInputs.Read(single, options.Files);
        return ValueTask.FromResult(_images.Batch.Schema);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> ReadAsync(int sourceIndex, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        var all = Images.Batch;
        int batchRows = Math.Max(1, options.BatchRows);
        for (int start = 0; start < all.RowCount; start += batchRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(batchRows, all.RowCount - start);
            var rows = RowInfo.Sequential(sourceIndex, start, n);
            yield return n == all.RowCount ? all.WithRows(rows) : all.Take(Enumerable.Range(start, n).ToArray()).WithRows(rows);
        }
    }

    /// <summary>The image of a row: its source row is its 1-based ordinal in this input.</summary>
    public ImageEntry Entry(long sourceRow) => Images.Entries[checked((int)(sourceRow - 1))];

    /// <summary>The size of an image's file for batching by bytes (0 when unknown, e.g. an <c>s3://</c> object).</summary>
    public long SizeOf(ImageEntry entry) => Images.Remote is null && new FileInfo(entry.Path) is { Exists: true } f ? f.Length : 0;

    /// <summary>Reads one image's bytes: a local file, or an object through the run's remote file system.</summary>
    public Task<byte[]> ReadImageAsync(ImageEntry entry, CancellationToken cancellationToken) => Images.ReadAsync(entry, cancellationToken);
}
