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

    /// <summary>Whether row <paramref name="row"/> of the column is missing (null, or NaN in a float column unless NaN is kept as a value).</summary>
    public static bool IsMissing(Column column, int row, bool nanIsMissing = true)
        => column.IsNull(row) || (nanIsMissing && column is Float64Column { HoldsNoNaN: false } f && double.IsNaN(f.Values[row]));

    /// <inheritdoc />
    /// <remarks>Column by column: columns without a null mask (and floats without NaN) cost one vectorised scan.</remarks>
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var plan = _plan ?? throw new InvalidOperationException("Bind first.");
        // The label first, so a row missing both its label and a feature is counted as a missing label.
        // The split's own columns (time, group, series) need values too, even when they are not features.
        var splitColumns = new[]
        {
            options.SplitBy == SplitMethod.Time || options.FormatTraits.NeedsSeries ? options.TimeColumn : null,
            options.SplitBy is SplitMethod.Group or SplitMethod.NoisyClean ? options.GroupColumn : null,
            options.FormatTraits.NeedsSeries ? options.SeriesColumn : null,
        };
        // Under --non-finite keep, NaN is a value the output carries, not a missing one.
        bool nanIsMissing = options.Source.NonFinite != NonFinitePolicy.Keep;
        var bad = context.BadRows;
        var used = plan.Used.Concat(splitColumns.Where(c => c is not null).Select(c => plan.Input.IndexOf(c!)).Where(i => i >= 0)).Distinct().ToArray();
        await foreach (var batch in input.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            bool[]? drop = null;
            foreach (int c in used)
            {
                var col = batch.Columns[c];
                if (!HasMissing(col, nanIsMissing)) continue;
                bool isLabel = c == plan.LabelIndex;
                for (int r = 0; r < batch.RowCount; r++)
                {
                    if (!IsMissing(col, r, nanIsMissing) || (drop is not null && drop[r])) continue;
                    if (options.Missing == MissingPolicy.Error)
                    {
                        // Skipped rows are only counted; a quarantined one is written with its line (which a text source
                        // kept for it) or its place, found on this error path as when the run fails.
                        var (file, line, _, within) = context.Locate(batch.Rows, r, withLine: bad.Policy != BadRowPolicy.Skip);
                        var error = Throw.Format(
                            $"found a missing value (empty{(col is Float64Column ? " or NaN" : "")}{(options.Source.NullValues.Count > 0 ? ", or one of --null-values" : "")}), expected a value in every used column. Choose a policy: --missing drop (drop such rows, counted), --missing fill:0 / fill:mean / fill:TEXT{(isLabel ? " (labels are never filled: rows without a label are dropped)" : "")}, or --drop {batch.Schema[c].Name} if the column is not needed",
                            file, line, batch.Rows.SourceRows[r], batch.Schema[c].Name, within: within);
                        // --on-bad-row skip|quarantine: the row is left out and counted; fail throws the error.
                        bad.Add(BadRowCause.Missing, error, bad.Policy == BadRowPolicy.Skip ? null : MissingRowText(batch, r), atSource: false, source: batch.Rows.Sources[r]);
                        (drop ??= new bool[batch.RowCount])[r] = true;
                        continue;
                    }
                    if (options.Missing == MissingPolicy.Drop || isLabel)
                    {
                        context.Report.Drop(isLabel ? $"missing label '{batch.Schema[c].Name}'" : $"missing value in '{batch.Schema[c].Name}'");
                        (drop ??= new bool[batch.RowCount])[r] = true;
                    }
                }
            }
            // The batch's rows are all logged (this stage found them column by column): the log writes them in row order.
            bad.EndBatch();
            if (drop is null)
            {
                yield return batch;
                continue;
            }
            var keep = new List<int>(batch.RowCount);
            for (int r = 0; r < batch.RowCount; r++) if (!drop[r]) keep.Add(r);
            yield return batch.Take(keep.ToArray());
        }
    }

    /// <summary>A quarantined row's text: its input line (text sources keep it), else its values as a JSON object.</summary>
    private static string MissingRowText(RecordBatch batch, int row)
        => batch.Rows.Texts?[row]?.TrimEnd('\r', '\n') ?? BadRows.RowJson(batch, row);

    private static bool HasMissing(Column col, bool nanIsMissing)
    {
        if (col.Nulls is { } nulls && nulls.AsSpan(0, col.Length).Contains(true)) return true;
        if (!nanIsMissing || col is not Float64Column f || f.HoldsNoNaN) return false;
        // NaN is the only value not equal to itself; the span scan is vectorised.
        foreach (double v in f.Span) if (double.IsNaN(v)) return true;
        return false;
    }
}
