using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using DataPrep.Data;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>An image left out under <c>--on-bad-image quarantine</c>: listed in <c>_dataprep/quarantine/images.csv</c>.</summary>
/// <param name="Image">The image's path below its input's root.</param>
/// <param name="Line">Its line in the input list (0 for class folders).</param>
/// <param name="Problem">Why it cannot be used.</param>
public sealed record QuarantinedImage(string Image, long Line, string Problem);

/// <summary>
/// Reads, decodes, orients, rotates, resizes and encodes the images (<see cref="ImageTransformer"/>) and adds them to
/// the rows as <see cref="ImageColumns.Encoded"/> and <see cref="ImageColumns.EncodedExtension"/>. An image and its
/// augmented copies (the rows after it that <see cref="ImageAugmentStage"/> made from it) are one unit: the file is
/// read and decoded once. Units are processed on all cores, window by window (each bounded by source bytes and
/// count, so memory stays bounded), while the previous window's rows go on to the sink; rows leave in the order
/// they came, so the output bytes do not depend on the number of threads. Bad images follow
/// <see cref="ImageOptions.OnBadImage"/>: fail (an error naming the file and list line), or skip / quarantine
/// (the image and its copies are dropped and counted; quarantined ones are listed in <see cref="Quarantined"/>).
/// </summary>
public sealed class ImageTransformStage : IQuarantiningStage
{
    private readonly ConvertOptions _options;
    private readonly IReadOnlyList<ImageSource> _sources;
    private readonly ImageTransformer _transformer;
    private readonly Dictionary<string, double> _angles;
    private readonly List<QuarantinedItem> _quarantined = [];
    private Schema? _output;

    /// <summary>Creates the stage.</summary>
    /// <param name="options">The run's options (image options, threads).</param>
    /// <param name="sources">The run's image sources in source-index order (a row's source index points here).</param>
    /// <exception cref="PipelineValidationException">The fill colour cannot be parsed.</exception>
    public ImageTransformStage(ConvertOptions options, IReadOnlyList<ImageSource> sources)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _sources = sources;
        _transformer = new ImageTransformer(options.Images);
        _angles = options.Images.Rotations.ToDictionary(ImageAugmentStage.OperationName, a => a, StringComparer.Ordinal);
    }

    /// <summary>The images quarantined so far, in output order.</summary>
    public IReadOnlyList<QuarantinedImage> Quarantined => [.. _quarantined.Select(q => new QuarantinedImage(q.Item, q.Line, q.Problem))];

    /// <inheritdoc />
    public IReadOnlyList<QuarantinedItem> QuarantinedItems => _quarantined;

    /// <inheritdoc />
    public void AddQuarantined(IEnumerable<QuarantinedItem> items) => _quarantined.AddRange(items);

    /// <inheritdoc />
    public string Describe()
    {
        var io = _options.Images;
        var steps = new List<string> { "decode" };
        if (io.AutoOrient) steps.Add("orient");
        if (io.Rotations.Count > 0) steps.Add("rotate");
        if (io.ResizeWidth is { } w) steps.Add($"resize {w}x{io.ResizeHeight} ({io.ResizeMode.ToString().ToLowerInvariant()})");
        steps.Add("encode");
        return $"{string.Join(", ", steps)}; on bad images: {io.OnBadImage.ToString().ToLowerInvariant()}";
    }

    /// <inheritdoc />
    public Schema Bind(Schema input)
    {
        var problems = new List<string>();
        if (input.IndexOf(ImageColumns.Path) < 0) problems.Add($"The image stages need the column '{ImageColumns.Path}' of image paths; the input has {input}.");
        foreach (var name in new[] { ImageColumns.Encoded, ImageColumns.EncodedExtension })
        {
            if (input.IndexOf(name) >= 0) problems.Add($"The input has a column '{name}', which the image stages add (the encoded images); rename that column of the input list.");
        }
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        _output = new Schema([.. input.Fields, new Field(ImageColumns.Encoded, ColumnKind.Binary), new Field(ImageColumns.EncodedExtension, ColumnKind.String)]);
        return _output;
    }

    /// <summary>An image and its augmented copies: rows [First, First + Count) of a batch.</summary>
    private sealed record Unit(RecordBatch Batch, int First, int Count, int SourceIndex, ImageEntry Entry, double[] Rotations, long Bytes);

    /// <summary>A unit's images (the original first), or why it could not be read.</summary>
    private readonly record struct UnitResult(IReadOnlyList<EncodedImage>? Images, BadImageException? Error);

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_output is null) throw new InvalidOperationException("Bind the stage first.");
        // What the image folders held besides images: counted and listed, never dropped without a word.
        foreach (var source in _sources)
        {
            foreach (var skipped in source.Images.Skipped) context.Report.Skip(skipped.Reason, skipped.Path);
        }
        int threads = _options.EffectiveThreads;
        int maxCount = Math.Max(16, threads * 8);
        long maxBytes = _options.Images.BatchBytes;
        long done = 0;
        // The window being processed while the previous one's rows are handed on (and written).
        (List<Unit> Units, Task<UnitResult[]> Results)? pending = null;
        Task? newest = null;
        try
        {
            await foreach (var window in WindowsAsync(input, maxCount, maxBytes, cancellationToken).ConfigureAwait(false))
            {
                var started = (window, ProcessAsync(window, threads, cancellationToken));
                newest = started.Item2;
                if (pending is { } previous)
                {
                    var (emitted, failure) = Emit(previous.Units, await previous.Results.ConfigureAwait(false), context);
                    foreach (var b in emitted) yield return b;
                    failure?.Throw();
                    done += previous.Units.Count;
                    context.OnProgress("images", done, context.ExpectedRows);
                }
                pending = started;
            }
            if (pending is { } last)
            {
                var (emitted, failure) = Emit(last.Units, await last.Results.ConfigureAwait(false), context);
                foreach (var b in emitted) yield return b;
                failure?.Throw();
                done += last.Units.Count;
                context.OnProgress("images", done, context.ExpectedRows);
            }
        }
        finally
        {
            // A failure downstream (or a bad image under the fail policy) leaves a window in flight: let it finish
            // reading before the caller aborts the output; its own error, if any, is not the one to report.
            if (newest is { IsCompleted: false })
            {
                try { await newest.ConfigureAwait(false); }
                catch (Exception) { /* the first error is the one to report */ }
            }
        }
    }

    /// <summary>The units of all batches cut into windows of at most <paramref name="maxCount"/> units and <paramref name="maxBytes"/> source bytes (a larger unit alone).</summary>
    private async IAsyncEnumerable<List<Unit>> WindowsAsync(IAsyncEnumerable<RecordBatch> input, int maxCount, long maxBytes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var window = new List<Unit>();
        long bytes = 0;
        await foreach (var batch in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            foreach (var unit in Units(batch))
            {
                if (window.Count > 0 && (window.Count >= maxCount || bytes + unit.Bytes > maxBytes))
                {
                    yield return window;
                    window = [];
                    bytes = 0;
                }
                window.Add(unit);
                bytes += unit.Bytes;
            }
        }
        if (window.Count > 0) yield return window;
    }

    /// <summary>The units of a batch: each input row with the augmented rows that follow it.</summary>
    private IEnumerable<Unit> Units(RecordBatch batch)
    {
        var rows = batch.Rows;
        var operations = rows.Operations;
        for (int r = 0; r < batch.RowCount;)
        {
            int first = r++;
            if (operations is not null && operations[first] != ImageAugmentStage.Original)
            {
                throw new InvalidOperationException($"Row {rows.RowIds[first]} is an augmented copy ({operations[first]}) without its original before it.");
            }
            var rotations = new List<double>();
            while (r < batch.RowCount && operations is not null && operations[r] != ImageAugmentStage.Original && rows.AugmentedFrom![r] == rows.RowIds[first])
            {
                rotations.Add(_angles.TryGetValue(operations[r], out double angle) ? angle
                    : throw new InvalidOperationException($"Row {rows.RowIds[r]}: unknown augmentation '{operations[r]}'; expected one of {string.Join(", ", _angles.Keys)}."));
                r++;
            }
            int source = rows.Sources[first];
            var entry = _sources[source].Entry(rows.SourceRows[first]);
            yield return new Unit(batch, first, r - first, source, entry, [.. rotations], _sources[source].SizeOf(entry));
        }
    }

    private async Task<UnitResult[]> ProcessAsync(List<Unit> window, int threads, CancellationToken cancellationToken)
    {
        var results = new UnitResult[window.Count];
        await Parallel.ForAsync(0, window.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var u = window[i];
            try
            {
                var data = await _sources[u.SourceIndex].ReadImageAsync(u.Entry, ct).ConfigureAwait(false);
                results[i] = new UnitResult(_transformer.Process(u.Entry.Path, data, u.Rotations), null);
            }
            catch (BadImageException e)
            {
                results[i] = new UnitResult(null, e);
            }
        }).ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// The window's rows with their images, in order, batch by batch; bad images by the policy. Under the fail policy,
    /// the rows before the first bad image are still handed on (an <c>s3://</c> run can then resume after them),
    /// and the error comes after them.
    /// </summary>
    private (List<RecordBatch> Batches, ExceptionDispatchInfo? Failure) Emit(List<Unit> units, UnitResult[] results, RunContext context)
    {
        var output = new List<RecordBatch>();
        ExceptionDispatchInfo? failure = null;
        var policy = _options.Images.OnBadImage;
        int at = 0;
        while (at < units.Count && failure is null)
        {
            // Consecutive units of one input batch become one output batch.
            var batch = units[at].Batch;
            var rows = new List<int>();
            var images = new List<ReadOnlyMemory<byte>>();
            var extensions = new List<string?>();
            for (; at < units.Count && ReferenceEquals(units[at].Batch, batch); at++)
            {
                var u = units[at];
                var r = results[at];
                if (r.Error is { } bad)
                {
                    if (policy == BadImagePolicy.Fail)
                    {
                        string list = u.SourceIndex < context.Inputs.Count ? context.Inputs[u.SourceIndex] : _sources[u.SourceIndex].Description;
                        failure = ExceptionDispatchInfo.Capture(new DataFormatException($"{bad.Problem}{(u.Entry.Line > 0 ? $" (listed on line {u.Entry.Line} of {list})" : "")}; pass --on-bad-image skip or quarantine to leave such images out", bad.File));
                        break;
                    }
                    context.Report.Drop("bad image", u.Count);
                    if (policy == BadImagePolicy.Quarantine)
                    {
                        var channel = RunLayout.ChannelName(batch.Rows.Splits?[u.First] ?? SplitTag.None, batch.Rows.Folds?[u.First] ?? (short)-1);
                        _quarantined.Add(new QuarantinedItem(channel, u.Entry.RelativePath, u.Entry.Line, bad.Problem));
                    }
                    continue;
                }
                var encoded = r.Images!;
                if (encoded.Count != u.Count) throw new InvalidOperationException($"{u.Entry.Path}: {encoded.Count} images for {u.Count} rows.");
                for (int k = 0; k < u.Count; k++)
                {
                    rows.Add(u.First + k);
                    images.Add(encoded[k].Bytes);
                    extensions.Add(encoded[k].Extension);
                }
            }
            if (rows.Count == 0) continue;
            var kept = rows.Count == batch.RowCount ? batch : batch.Take(rows.ToArray());
            output.Add(new RecordBatch(_output!, [.. kept.Columns, new BinaryColumn([.. images], null, rows.Count), new StringColumn([.. extensions])], rows.Count, kept.Rows));
        }
        return (output, failure);
    }
}
