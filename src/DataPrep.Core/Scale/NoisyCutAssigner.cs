using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A noisy/clean split without groups as the plan step cut it (<see cref="PlanKind.NoisyCuts"/>): each row's side (clean
/// or noisy) by the run's own <see cref="NoisyCleanAssigner.NoisyRows"/> (the noisy column, or the
/// input a row came from), and its split from that side's cuts and its split hash and row id: the tag
/// <see cref="NoisyCleanAssigner.Assign"/> gives it over all rows. The order is left to the split stage (shuffle hash or
/// input order), as one process's noisy/clean split leaves it. A row's tag follows from that row alone, so a spilling
/// encode task keeps nothing per row (<see cref="IRowLocalAssigner"/>).
/// </summary>
/// <param name="cuts">The cuts of the clean side (<see cref="NoisyCleanAssigner.CleanKey"/>) and of the noisy side (<see cref="NoisyCleanAssigner.NoisyKey"/>).</param>
/// <param name="noisy">The run's own assigner (which rows are noisy).</param>
/// <param name="seed">The run's seed.</param>
/// <param name="bucket">What the assigner splits, for <see cref="Describe"/>.</param>
internal sealed class NoisyCutAssigner(IReadOnlyDictionary<string, List<SplitCut>> cuts, NoisyCleanAssigner noisy, ulong seed, string bucket) : IRowLocalAssigner
{
    private readonly List<SplitCut> _clean = cuts.TryGetValue(NoisyCleanAssigner.CleanKey, out var c) ? c : throw Missing(NoisyCleanAssigner.CleanKey);
    private readonly List<SplitCut> _noisy = cuts.TryGetValue(NoisyCleanAssigner.NoisyKey, out var n) ? n : throw Missing(NoisyCleanAssigner.NoisyKey);

    /// <inheritdoc />
    public string Describe() => $"noisy/clean split of {bucket}, cut by the plan";

    /// <inheritdoc />
    public void Bind(Schema input) => noisy.Bind(input);

    /// <summary>Only the noisy column (none for noisy inputs) besides row ids, so the split stage can spill every other column under a memory budget.</summary>
    public IReadOnlyCollection<int>? KeyColumns => noisy.KeyColumns;

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var sides = noisy.NoisyRows(input, context);
        var hash = new KeyedHash(seed, "split");
        var ids = input.RowIds;
        var tags = new SplitTag[ids.Length];
        for (int i = 0; i < tags.Length; i++) tags[i] = RandomSplitCuts.TagOf(sides[i] ? _noisy : _clean, hash.Hash(ids[i]), ids[i]);
        return new SplitAssignment(tags);
    }

    private static PipelineValidationException Missing(string side) => new($"the plan step's report has no cuts of the {side} rows; run step {ScaleStep.Plan} again.");
}
