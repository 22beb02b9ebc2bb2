using System.Globalization;
using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Tags every row train/validation/test with exact counts (optionally per stratum), then emits the rows
/// split by split: shuffled by hash(seed, "shuffle", row id), or in input order with shuffling off.
/// A split is a tag, not a fork: one stream of batches carries all splits.
/// </summary>
public sealed class RandomSplitStage(IReadOnlyList<double> fractions, ulong seed, bool shuffle, string? stratify, int batchRows = 65_536) : IPipelineStage
{
    private int _stratifyIndex = -1;

    /// <inheritdoc />
    public string Describe()
        => $"split random {string.Join("/", fractions.Select(f => (f * 100).ToString("0.##", CultureInfo.InvariantCulture)))}"
           + (stratify is null ? "" : $" stratified by {stratify}") + $", seed {seed}" + (shuffle ? ", shuffled" : ", input order");

    /// <inheritdoc />
    public Schema Bind(Schema input)
    {
        if (stratify is not null)
        {
            _stratifyIndex = input.IndexOf(stratify);
            if (_stratifyIndex < 0) throw new PipelineValidationException($"--stratify names column '{stratify}', which the input does not have (its columns: {string.Join(", ", input.Fields.Select(f => f.Name))}).");
            if (input[_stratifyIndex].Kind is ColumnKind.Sparse or ColumnKind.Binary) throw new PipelineValidationException($"--stratify column '{stratify}' is {input[_stratifyIndex].Kind}; expected a label-like column (text, integer or boolean).");
        }
        return input;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var batches = new List<RecordBatch>();
        Schema? schema = null;
        await foreach (var b in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            batches.Add(b);
            schema = b.Schema;
        }
        if (schema is null) yield break;
        // Only row ids, the stratum column and (batch, row) addresses are concatenated: the data is
        // gathered straight from the input batches into the output order.
        int total = batches.Sum(b => b.RowCount);
        var ids = new long[total];
        var part = new int[total];
        var row = new int[total];
        for (int b = 0, at = 0; b < batches.Count; b++)
        {
            batches[b].Rows.RowIds.AsSpan(0, batches[b].RowCount).CopyTo(ids.AsSpan(at));
            for (int r = 0; r < batches[b].RowCount; r++, at++) { part[at] = b; row[at] = r; }
        }
        context.OnProgress("split", 0, total);
        context.ExpectedRows = total;
        var tags = _stratifyIndex < 0
            ? RandomSplitter.Assign(ids, fractions, seed)
            : RandomSplitter.AssignStratified(ids, StratumIds(Column.Concat(batches.Select(b => b.Columns[_stratifyIndex]).ToArray())), fractions, seed);

        var order = shuffle ? RandomSplitter.HashOrder(ids, new KeyedHash(seed, "shuffle")) : Enumerable.Range(0, total).ToArray();
        foreach (var split in SplitNames.All)
        {
            var picked = order.Where(i => tags[i] == split).ToArray();
            for (int start = 0; start < picked.Length; start += batchRows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(batchRows, picked.Length - start);
                var p = new int[n];
                var r = new int[n];
                for (int k = 0; k < n; k++) { p[k] = part[picked[start + k]]; r[k] = row[picked[start + k]]; }
                yield return RecordBatch.Gather(batches, p, r, split);
            }
        }
        context.OnProgress("split", total, total);
    }

    private static int[] StratumIds(Column column)
    {
        var keys = new string[column.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = StratumKey(column, i);
        // Stratum numbers follow sorted keys, so they do not depend on input order.
        var numbers = keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select((k, n) => (k, n)).ToDictionary(x => x.k, x => x.n, StringComparer.Ordinal);
        var ids = new int[keys.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = numbers[keys[i]];
        return ids;
    }

    private static string StratumKey(Column column, int row) => column.IsNull(row) ? "\0missing" : column switch
    {
        StringColumn s => s.Values[row]!,
        Int64Column l => l.Values[row].ToString(CultureInfo.InvariantCulture),
        Float64Column d => d.Values[row].ToString("R", CultureInfo.InvariantCulture),
        BooleanColumn b => b.Values[row] ? "1" : "0",
        TimestampColumn t => t.Values[row].ToString(CultureInfo.InvariantCulture),
        _ => "",
    };
}
