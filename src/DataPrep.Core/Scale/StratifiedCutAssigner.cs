using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A stratified random split as the plan step cut it (<see cref="RandomSplitCuts.FindStratified"/>): each row's split from
/// its class's cuts and its split hash and row id, the same tag <see cref="RandomSplitter.AssignStratified"/> gives it over
/// all rows. The order is left to the split stage, as with <see cref="CutAssigner"/>. With stratified folds
/// (<paramref name="foldCuts"/>), each train row's fold from its class's fold cuts and its fold hash and row id, as
/// <see cref="KFoldAssigner"/> cuts each class's pool rows.
/// </summary>
/// <param name="cuts">Every class's cuts, by its key (<see cref="RandomSplitAssigner.KeyOf"/>).</param>
/// <param name="stratify">The class column.</param>
/// <param name="seed">The run's seed.</param>
/// <param name="bucket">What the assigner splits, for <see cref="Describe"/>.</param>
/// <param name="foldCuts">Stratified folds: every class's fold cuts (over the fold hashes of its train rows), by its key; null without folds.</param>
internal sealed class StratifiedCutAssigner(IReadOnlyDictionary<string, List<SplitCut>> cuts, string stratify, ulong seed, string bucket,
    IReadOnlyDictionary<string, List<SplitCut>>? foldCuts = null) : IRowLocalAssigner
{
    private int _stratifyIndex = -1;

    /// <inheritdoc />
    public string Describe() => $"random split{(foldCuts is null ? "" : " and folds")} of {bucket} stratified by {stratify}, cut by the plan";

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        _stratifyIndex = input.IndexOf(stratify);
        if (_stratifyIndex < 0) throw new InvalidOperationException($"The plan's class column '{stratify}' is not a column of the split's input.");
    }

    /// <summary>Only the class column besides row ids, so the split stage can spill every other column under a memory budget.</summary>
    public IReadOnlyCollection<int>? KeyColumns => [_stratifyIndex];

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var hash = new KeyedHash(seed, "split");
        var ids = input.RowIds;
        var column = input.Column(_stratifyIndex);
        var tags = new SplitTag[ids.Length];
        var folds = foldCuts is null ? null : new short[ids.Length];
        var foldHash = new KeyedHash(seed, "fold");
        string? last = null;
        List<SplitCut> classCuts = [];
        List<SplitCut>? classFoldCuts = null;
        for (int i = 0; i < tags.Length; i++)
        {
            var key = RandomSplitAssigner.KeyOf(column, i);
            if (!string.Equals(key, last, StringComparison.Ordinal))
            {
                classCuts = cuts.TryGetValue(key, out var c) ? c : throw NotCut(key);
                classFoldCuts = foldCuts is null ? null : foldCuts.TryGetValue(key, out var f) ? f : throw NotCut(key);
                last = key;
            }
            tags[i] = RandomSplitCuts.TagOf(classCuts, hash.Hash(ids[i]), ids[i]);
            if (folds is not null) folds[i] = tags[i] == SplitTag.Train ? (short)RandomSplitCuts.PartOf(classFoldCuts!, foldHash.Hash(ids[i]), ids[i]) : (short)-1;
        }
        return new SplitAssignment(tags, Folds: folds);
    }

    private PipelineValidationException NotCut(string key)
        => new($"a row of class '{key}' in --stratify column '{stratify}' is not among the classes the plan step cut; the rows changed after the scan step. Run the scan step again.");
}
