using System.Diagnostics;
using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Images;

/// <summary>One input image in output order, with the rotations it gets and the indexes of what it yields.</summary>
/// <param name="Entry">The input image.</param>
/// <param name="Split">Its split (augmented copies keep it).</param>
/// <param name="RowId">Its stable row id.</param>
/// <param name="SourceRow">Its 1-based data row in the input.</param>
/// <param name="FirstIndex">The index of the original; copy k has FirstIndex + k (indexes are unique across all images).</param>
/// <param name="Rotations">Counter-clockwise angles of its augmented copies (empty for none).</param>
/// <param name="Bytes">The file size, for batching by bytes.</param>
public sealed record ImageUnit(ImageEntry Entry, SplitTag Split, long RowId, long SourceRow, long FirstIndex, IReadOnlyList<double> Rotations, long Bytes);

/// <summary>
/// Runs <c>convert</c> for the image formats: image source → the ordinary split stage (random, stratified,
/// group, time; same seed semantics) → augmentation of the chosen splits → parallel decode/rotate/encode in
/// windows bounded by bytes → one of the three image outputs, staged in an <see cref="IOutputStore"/> and
/// committed only when everything succeeded.
/// </summary>
public static class ImageConvertRunner
{
    /// <summary>The row id of augmented copy <paramref name="k"/> (0-based) of a row: distinct from every input row id.</summary>
    public static long AugmentedRowId(long rowId, int k) => rowId + ((long)(k + 1) << 48);

    /// <summary>The operation name of a rotation, as written to lineage and file names (rotate90, rotate15, rotate-7.5).</summary>
    public static string OperationName(double degrees) => "rotate" + degrees.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Runs a conversion to an image format.</summary>
    /// <exception cref="PipelineValidationException">Options that do not fit.</exception>
    /// <exception cref="DataFormatException">Bad input (list line, image file) under the fail policy.</exception>
    /// <exception cref="OutputException">The output folder holds a run and overwriting was not asked for.</exception>
    public static async Task<RunReport> RunAsync(ConvertOptions options, DataPrepRegistry registry, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (resolved, format) = registry.Resolve(options);
        options = resolved;
        if (!options.IsImageFormat) throw new PipelineValidationException($"--format {options.Format} is not an image format.");
        var problems = new List<string>();
        if (options.Folds > 0) problems.Add("--folds is not available for the image formats.");
        if (options.NoisyInputs.Count > 0) problems.Add("--noisy inputs are not available for the image formats (use --noisy-column in the input list).");
        if (options.Like is not null) problems.Add("--like is not available for the image formats.");
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        var clock = Stopwatch.StartNew();
        var files = registry.Stores.Inputs(options.S3);
        var context = new RunContext(progress, registry.Diagnostics, files);
        context.Report.Channel = format.Channel(options);
        var transformer = new ImageTransformer(options.Images);
        var input = ImageInputs.Read(options, files);
        context.Inputs.Add(input.Description);
        context.Fingerprints = !input.IsClassFolder && (input.Remote is not null || File.Exists(input.Description))
            ? Task.Run(() => new List<InputFingerprint> { InputFingerprint.Of(input.Description, files) }, cancellationToken)
            : Task.FromResult(new List<InputFingerprint>());
        context.Report.RowsRead = input.Entries.Count;
        context.Report.Encoding = new EncodingRecord
        {
            Label = new LabelRecord { Name = input.IsClassFolder ? "class folder" : options.Label ?? options.Images.LabelColumn, Kind = ColumnKind.String, Classes = input.Classes },
        };

        var units = await PlanAsync(options, input, context, cancellationToken).ConfigureAwait(false);
        var store = registry.Stores.CreateOutput(options);
        await using var writer = new ImageOutputWriter(store, options, context, input);
        await store.PrepareAsync(options.Overwrite, cancellationToken).ConfigureAwait(false);
        try
        {
            await ProcessAsync(units, input, transformer, writer, options, context, cancellationToken).ConfigureAwait(false);
            await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await writer.AbortAsync().ConfigureAwait(false);
            throw;
        }
        ConvertRunner.SetTargetFractions(context.Report, options);
        context.Report.Seconds = clock.Elapsed.TotalSeconds;
        return context.Report;
    }

    /// <summary>Splits the images with the ordinary split stage and decides each one's augmented copies and indexes.</summary>
    public static async Task<List<ImageUnit>> PlanAsync(ConvertOptions options, ImageInput input, RunContext context, CancellationToken cancellationToken = default)
    {
        var split = new SplitStage(ConvertRunner.CreateAssigner(options, context), options.Seed, options.EffectiveShuffle, options.Source.BatchRows,
            options.SplitBy is SplitMethod.Group or SplitMethod.NoisyClean ? options.GroupColumn : null, null);
        split.Bind(input.Batch.Schema);
        var io = options.Images;
        var augmentSplits = io.AugmentSplits.ToHashSet(StringComparer.Ordinal);
        var pick = new KeyedHash(options.Seed, "augment");
        var units = new List<ImageUnit>(input.Entries.Count);
        long index = 0;
        await foreach (var batch in split.RunAsync(One(input.Batch), context, cancellationToken).ConfigureAwait(false))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                var tag = batch.Rows.Splits![r];
                long rowId = batch.Rows.RowIds[r];
                long sourceRow = batch.Rows.SourceRows[r];
                var entry = input.Entries[(int)(sourceRow - 1)];
                // One seeded decision per image (all angles together), from its row id only: independent of order and threads.
                bool augment = io.Rotations.Count > 0 && augmentSplits.Contains(tag.Name())
                    && (io.AugmentFraction >= 1 || KeyedHash.ToUnit(pick.Hash(rowId)) < io.AugmentFraction);
                var rotations = augment ? io.Rotations : [];
                units.Add(new ImageUnit(entry, tag, rowId, sourceRow, index, rotations, input.Remote is null && new FileInfo(entry.Path) is { Exists: true } f ? f.Length : 0));
                index += 1 + rotations.Count;
            }
        }
        return units;
    }

    private static async IAsyncEnumerable<RecordBatch> One(RecordBatch batch, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        yield return batch;
    }

    /// <summary>The result of one unit: its images, or why it could not be read.</summary>
    internal sealed record UnitResult(ImageUnit Unit, IReadOnlyList<EncodedImage>? Images, BadImageException? Error);

    /// <summary>
    /// Decodes, transforms and encodes on all cores, window by window (each bounded by source bytes and
    /// count, so memory stays bounded), while the previous window is written in order: the output bytes do
    /// not depend on the number of threads.
    /// </summary>
    private static async Task ProcessAsync(List<ImageUnit> units, ImageInput input, ImageTransformer transformer, ImageOutputWriter writer, ConvertOptions options, RunContext context, CancellationToken cancellationToken)
    {
        int threads = options.EffectiveThreads;
        int maxCount = Math.Max(16, threads * 8);
        Task pending = Task.CompletedTask;
        long done = 0;
        for (int start = 0; start < units.Count;)
        {
            int end = start;
            long bytes = 0;
            while (end < units.Count && (end == start || (end - start < maxCount && bytes + units[end].Bytes <= options.Images.BatchBytes)))
            {
                bytes += units[end].Bytes;
                end++;
            }
            var window = units.GetRange(start, end - start);
            var results = new UnitResult[window.Count];
            try
            {
                await ProcessWindowAsync(window, input, results, transformer, threads, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Let the previous window's writes finish before the caller aborts and closes the files.
                try { await pending.ConfigureAwait(false); }
                catch (Exception) { /* the processing error is the one to report */ }
                throw;
            }
            await pending.ConfigureAwait(false);
            pending = WriteWindowAsync(writer, results, cancellationToken);
            done += window.Count;
            context.OnProgress("images", done, units.Count);
            start = end;
        }
        await pending.ConfigureAwait(false);
    }

    private static async Task ProcessWindowAsync(List<ImageUnit> window, ImageInput input, UnitResult[] results, ImageTransformer transformer, int threads, CancellationToken cancellationToken)
    {
        await Parallel.ForAsync(0, window.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var u = window[i];
            try
            {
                var data = await input.ReadAsync(u.Entry, ct).ConfigureAwait(false);
                results[i] = new UnitResult(u, transformer.Process(u.Entry.Path, data, u.Rotations), null);
            }
            catch (BadImageException e)
            {
                results[i] = new UnitResult(u, null, e);
            }
        }).ConfigureAwait(false);
    }

    private static async Task WriteWindowAsync(ImageOutputWriter writer, UnitResult[] results, CancellationToken cancellationToken)
    {
        foreach (var r in results) await writer.WriteAsync(r, cancellationToken).ConfigureAwait(false);
    }
}
