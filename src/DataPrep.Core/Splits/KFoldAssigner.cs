using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>How rows are dealt into folds.</summary>
public enum FoldMethod
{
    /// <summary>
    /// Exact equal fold sizes: the rows in (hash(seed, "fold", row id), row id) order, cut into K contiguous blocks
    /// (<see cref="RandomSplitter.PartsByHash"/>), so a plan can find the folds from cuts without holding every row.
    /// </summary>
    Random,
    /// <summary>Each class dealt round-robin in hash order: every class within one row of equal shares.</summary>
    Stratified,
    /// <summary>Whole groups, balanced by rows (largest first fits into the smallest fold).</summary>
    Group,
    /// <summary>Contiguous time blocks, oldest first; fold k trains on folds 0…k−1 only (forward chaining).</summary>
    Time,
}

/// <summary>
/// k-fold cross-validation: an optional held-out test split is carved off first by <paramref name="testCarver"/>
/// (random, stratified, group or time, as the split method says); the remaining rows get a fold tag
/// 0…K−1. Each fold is written once (<c>fold-k/</c>); ManifestFiles under <c>_dataprep/</c> name each
/// fold's training set, so there are no K copies of the data. Every row is in exactly one fold or in test.
/// </summary>
/// <param name="k">The number of folds (≥ 2).</param>
/// <param name="method">How rows are dealt into folds.</param>
/// <param name="seed">The seed.</param>
/// <param name="testCarver">Carves the held-out test split (tags Train/Test), or null for no test split.</param>
/// <param name="column">The stratum, group or time column for the fold method.</param>
public sealed class KFoldAssigner(int k, FoldMethod method, ulong seed, ISplitAssigner? testCarver, string? column) : ISplitAssigner
{
    private int _column = -1;

    /// <summary>The number of folds.</summary>
    internal int K => k;

    /// <summary>How rows are dealt into folds.</summary>
    internal FoldMethod Method => method;

    /// <summary>What carves the held-out test split off first, or null when there is none.</summary>
    internal ISplitAssigner? TestCarver => testCarver;

    /// <summary>The fractions of K equal folds (exact counts: the first n mod K folds get one row more).</summary>
    internal static double[] FoldFractions(int k) => Enumerable.Repeat(1.0 / k, k).ToArray();

    /// <inheritdoc />
    public string Describe() => $"{k}-fold {method.ToString().ToLowerInvariant()}{(column is null ? "" : $" by {column}")}" + (testCarver is null ? "" : $" after {testCarver.Describe()}");

    /// <inheritdoc />
    public IReadOnlyCollection<int>? KeyColumns => testCarver is not null && testCarver.KeyColumns is null ? null
        : (testCarver?.KeyColumns ?? []).Append(_column).Where(i => i >= 0).Distinct().ToArray();

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        if (k < 2) throw new PipelineValidationException($"--folds {k}: expected at least 2 folds.");
        testCarver?.Bind(input);
        if (method == FoldMethod.Random) return;
        _column = column is null ? -1 : input.IndexOf(column);
        if (_column < 0) throw new PipelineValidationException($"{method.ToString().ToLowerInvariant()} folds need a column: '{column}' is not one of the input's columns ({string.Join(", ", input.Fields.Select(f => f.Name))}).");
    }

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var tags = testCarver?.Assign(input, context).Tags ?? new SplitTag[input.Count];
        var pool = Enumerable.Range(0, input.Count).Where(i => tags[i] == SplitTag.Train).ToArray();
        var folds = new short[input.Count];
        Array.Fill(folds, (short)-1);
        var hash = new KeyedHash(seed, "fold");
        var poolIds = pool.Select(i => input.RowIds[i]).ToArray();
        switch (method)
        {
            case FoldMethod.Random:
            {
                var hashes = new ulong[poolIds.Length];
                for (int j = 0; j < hashes.Length; j++) hashes[j] = hash.Hash(poolIds[j]);
                var parts = RandomSplitter.PartsByHash(poolIds, hashes, FoldFractions(k));
                for (int j = 0; j < parts.Length; j++) folds[pool[j]] = (short)parts[j];
                break;
            }
            case FoldMethod.Stratified:
            {
                var strata = RandomSplitAssigner.StratumIds(input.Column(_column));
                var order = RandomSplitter.HashOrder(poolIds, hash);
                // Deal each class round-robin, continuing where the previous class stopped so fold sizes stay equal.
                int start = 0;
                foreach (var g in order.Select(j => pool[j]).GroupBy(i => strata[i]).OrderBy(g => g.Key))
                {
                    int j = 0;
                    foreach (int i in g) folds[i] = (short)((start + j++) % k);
                    start = (start + j) % k;
                }
                break;
            }
            case FoldMethod.Group:
            {
                var col = input.Column(_column);
                var groups = pool.GroupBy(i => RandomSplitAssigner.KeyOf(col, i))
                    .Select(g => (Key: g.Key, Rows: g.ToList(), Hash: hash.Hash(g.Key)))
                    .OrderByDescending(g => g.Rows.Count).ThenBy(g => g.Hash).ThenBy(g => g.Key, StringComparer.Ordinal);
                var sizes = new long[k];
                foreach (var g in groups)
                {
                    int f = Array.IndexOf(sizes, sizes.Min());
                    sizes[f] += g.Rows.Count;
                    foreach (int i in g.Rows) folds[i] = (short)f;
                }
                context.ForwardChainingFolds = false;
                break;
            }
            case FoldMethod.Time:
            {
                var col = input.Column(_column);
                var times = pool.Select(i => col.IsNull(i) ? long.MinValue : col switch
                {
                    TimestampColumn t => t.Values[i],
                    Int64Column l => l.Values[i],
                    Float64Column d => (long)d.Values[i],
                    _ => 0,
                }).ToArray();
                var order = Enumerable.Range(0, pool.Length).OrderBy(j => times[j]).ThenBy(j => j).ToArray();
                var counts = RandomSplitter.ExactCounts(pool.Length, FoldFractions(k));
                int at = 0;
                for (int f = 0; f < k; f++)
                {
                    for (long c = 0; c < counts[f]; c++) folds[pool[order[at++]]] = (short)f;
                }
                // Rows sharing a timestamp across a fold boundary go to the earlier fold, so folds do not overlap in time.
                for (int j = 1; j < order.Length; j++)
                {
                    if (times[order[j]] == times[order[j - 1]]) folds[pool[order[j]]] = folds[pool[order[j - 1]]];
                }
                context.ForwardChainingFolds = true;
                break;
            }
        }
        return new SplitAssignment(tags, Folds: folds);
    }
}
