using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Encoders;

/// <summary>
/// Applies the missing-value policy to the columns the output uses, before splitting (so split counts
/// stay exact): error names the file, row and column; drop removes the row and counts it; fill leaves
/// the value for the encoder, which fills it from train (rows missing their label are dropped then).
/// NaN in a float column counts as missing: it is never written silently.
/// </summary>
public sealed class MissingValuesStage(ConvertOptions options) : IPipelineStage
{
    private ColumnPlan? _plan;

    /// <inheritdoc />
    public string Describe() => $"missing values: {options.Missing.ToString().ToLowerInvariant()}" + (options.Missing == MissingPolicy.Fill ? $" with {options.FillValue}" : "");

    /// <inheritdoc />
    public Schema Bind(Schema input)
    {
        _plan = ColumnPlan.Create(input, options);
        return input;
    }

    /// <summary>Whether row <paramref name="row"/> of the column is missing (null, or NaN in a float column).</summary>
    public static bool IsMissing(Column column, int row)
        => column.IsNull(row) || (column is Float64Column f && double.IsNaN(f.Values[row]));

    /// <inheritdoc />
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var plan = _plan ?? throw new InvalidOperationException("Bind first.");
        var used = plan.Used.ToArray();
        await foreach (var batch in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            context.Report.RowsRead += batch.RowCount;
            List<int>? keep = null;
            for (int r = 0; r < batch.RowCount; r++)
            {
                bool dropRow = false;
                foreach (int c in used)
                {
                    var col = batch.Columns[c];
                    if (col.Nulls is null && col is not Float64Column) continue;
                    if (!IsMissing(col, r)) continue;
                    bool isLabel = c == plan.LabelIndex;
                    if (options.Missing == MissingPolicy.Error)
                    {
                        int src = batch.Rows.Sources[r];
                        string file = src < context.Inputs.Count ? context.Inputs[src] : $"input {src}";
                        throw Throw.Format(
                            $"found a missing value (empty{(col is Float64Column ? " or NaN" : "")}), expected a value in every used column. Choose a policy: --missing drop (drop such rows, counted), --missing fill:0 / fill:mean / fill:TEXT{(isLabel ? " (labels are never filled: rows without a label are dropped)" : "")}, or --drop {batch.Schema[c].Name} if the column is not needed",
                            file, row: batch.Rows.SourceRows[r], column: batch.Schema[c].Name);
                    }
                    if (options.Missing == MissingPolicy.Drop || isLabel)
                    {
                        context.Report.Drop(isLabel ? $"missing label '{batch.Schema[c].Name}'" : $"missing value in '{batch.Schema[c].Name}'");
                        dropRow = true;
                        break;
                    }
                }
                if (dropRow)
                {
                    keep ??= Enumerable.Range(0, r).ToList();
                }
                else
                {
                    keep?.Add(r);
                }
            }
            yield return keep is null ? batch : batch.Take(keep.ToArray());
        }
    }
}
