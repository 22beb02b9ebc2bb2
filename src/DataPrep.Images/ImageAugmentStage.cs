using System.Globalization;
using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>
/// Rotation augmentation, after the split (DESIGN §3.5): each image of the chosen splits (train by default) is
/// followed by one row per rotation angle, decided per image by hash(seed, "augment", row id) (all angles
/// together) when <see cref="ImageOptions.AugmentFraction"/> is below 1. A copy keeps its original's split, fold,
/// group and columns; it gets its own row id (<see cref="AugmentedRowId"/>) and carries its original's row id and
/// its operation in <see cref="RowInfo.AugmentedFrom"/> and <see cref="RowInfo.Operations"/>. Only rows are
/// planned here; <see cref="ImageTransformStage"/> makes the pixels.
/// </summary>
/// <remarks>
/// With k-fold, the rows of every fold are training rows, so their copies are made and stay in their original's
/// fold: no copy of an image is ever in another fold than the image, so no fold's validation set has a copy of
/// an image trained on with it. A held-out test split is not augmented unless <c>--augment-splits</c> names it.
/// </remarks>
public sealed class ImageAugmentStage(ImageOptions options, ulong seed) : IPipelineStage
{
    /// <summary>The operation of input rows.</summary>
    public const string Original = "original";

    private readonly HashSet<string> _splits = options.AugmentSplits.ToHashSet(StringComparer.Ordinal);
    private readonly string[] _operations = options.Rotations.Select(OperationName).ToArray();

    /// <summary>The row id of augmented copy <paramref name="k"/> (0-based) of a row: distinct from every input row id.</summary>
    public static long AugmentedRowId(long rowId, int k) => rowId + ((long)(k + 1) << 48);

    /// <summary>The operation name of a rotation, as written to lineage and file names (rotate90, rotate15, rotate-7.5).</summary>
    public static string OperationName(double degrees) => "rotate" + degrees.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public string Describe() => options.Rotations.Count == 0
        ? "no augmentation"
        : $"augment {string.Join(", ", options.AugmentSplits)}: rotate {string.Join(", ", options.Rotations)}° counter-clockwise" + (options.AugmentFraction < 1 ? $", {options.AugmentFraction:0.##} of images" : "");

    /// <inheritdoc />
    public Schema Bind(Schema input) => input;

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pick = new KeyedHash(seed, "augment");
        int copies = options.Rotations.Count;
        await foreach (var batch in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var rows = batch.Rows;
            if (copies == 0 || rows.Splits is null)
            {
                yield return batch;
                continue;
            }
            // One seeded decision per image (all angles together), from its row id only: independent of order and threads.
            var augmented = new bool[batch.RowCount];
            int total = batch.RowCount;
            for (int r = 0; r < augmented.Length; r++)
            {
                augmented[r] = _splits.Contains(rows.Splits[r].Name())
                    && (options.AugmentFraction >= 1 || KeyedHash.ToUnit(pick.Hash(rows.RowIds[r])) < options.AugmentFraction);
                if (augmented[r]) total += copies;
            }
            var take = new int[total];
            var ids = new long[total];
            var from = new long[total];
            var operations = new string[total];
            for (int r = 0, at = 0; r < augmented.Length; r++)
            {
                // The original, then its copies: an image and its rotations stay together, in this order, in every output.
                take[at] = r;
                ids[at] = from[at] = rows.RowIds[r];
                operations[at++] = Original;
                if (!augmented[r]) continue;
                for (int k = 0; k < copies; k++, at++)
                {
                    take[at] = r;
                    ids[at] = AugmentedRowId(rows.RowIds[r], k);
                    from[at] = rows.RowIds[r];
                    operations[at] = _operations[k];
                }
            }
            var result = total == batch.RowCount ? batch : batch.Take(take);
            yield return result.WithRows(result.Rows with { RowIds = ids, AugmentedFrom = from, Operations = operations });
        }
    }
}
