using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// The split of one bucket as the plan step decided it for the whole run: each row's split, fold and rank in the
/// output order. The encode task's split stage uses it in place of the run's assigner, so it emits the bucket's rows
/// exactly as the one-process split stage emits them (the same order, restricted to the bucket).
/// </summary>
internal sealed class PlannedAssigner(Routing routing, string bucket) : ISplitAssigner
{
    public string Describe() => $"planned split of {bucket}";

    public void Bind(Schema input) { }

    /// <summary>Nothing but row ids is needed, so the split stage can spill every column under a memory budget.</summary>
    public IReadOnlyCollection<int>? KeyColumns => [];

    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        if (input.Count != routing.RowIds.Length || !input.RowIds.AsSpan().SequenceEqual(routing.RowIds))
        {
            throw new PipelineValidationException(
                $"step {ScaleStep.Encode} {bucket}: the rows of the scan step ({input.Count:N0}) are not the rows the plan step routed ({routing.RowIds.Length:N0}); the work area mixes runs. Run scan, plan and encode again with the same arguments.");
        }
        var order = new int[input.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var ranks = (long[])routing.Ranks.Clone();
        Array.Sort(ranks, order);
        return new SplitAssignment((SplitTag[])routing.Tags.Clone(), order, routing.Folds is null ? null : (short[])routing.Folds.Clone());
    }
}
