using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A group split of many groups as the plan step cut it (<see cref="PlanKind.GroupRanges"/>): each row's split from its group
/// key's split hash and the key compared with the cuts (<see cref="GroupCut.TagOf"/>), the tag <see cref="GroupSplitAssigner"/>
/// gives it over all rows. Under group folds of many groups (<see cref="PlanKind.GroupFoldRanges"/>), a train row's fold
/// too, from its key's fold hash and the folds' cuts (<paramref name="foldCuts"/>), as <see cref="KFoldAssigner"/> gives it.
/// It holds the cuts only, whatever the number of groups. The order is left to the split stage (shuffle hash or input
/// order), as one process's group split leaves it.
/// </summary>
/// <param name="groupColumn">The group column.</param>
/// <param name="cuts">The split's cuts (none: every row is train).</param>
/// <param name="seed">The run's seed.</param>
/// <param name="bucket">The bucket, for messages.</param>
/// <param name="foldCuts">Group folds' cuts, or null without folds.</param>
/// <param name="missingIsGroup">Whether a row without a key belongs to the group of such rows (group folds without a
/// test split, as one process's folds count it) instead of being an error (the plan read every key).</param>
internal sealed class GroupRangeAssigner(string groupColumn, IReadOnlyList<GroupCut> cuts, ulong seed, string bucket,
    IReadOnlyList<GroupCut>? foldCuts = null, bool missingIsGroup = false) : IRowLocalAssigner
{
    private int _groupIndex = -1;

    public string Describe() => $"group {(foldCuts is null ? "split" : "folds")} of {bucket} by {groupColumn}, cut into hash ranges by the plan";

    public void Bind(Schema input)
    {
        _groupIndex = input.IndexOf(groupColumn);
        if (_groupIndex < 0) throw new InvalidOperationException($"The plan's group column '{groupColumn}' is not a column of the split's input.");
    }

    /// <summary>Only the group column besides row ids, so the split stage can spill every other column under a memory budget.</summary>
    public IReadOnlyCollection<int>? KeyColumns => [_groupIndex];

    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var column = input.Column(input.Schema.IndexOf(groupColumn));
        var hash = new KeyedHash(seed, "split");
        var foldHash = new KeyedHash(seed, "fold");
        var tags = new SplitTag[input.Count];
        var folds = foldCuts is null ? null : new short[input.Count];
        string? last = null;
        var tag = SplitTag.Train;
        short fold = -1;
        for (int i = 0; i < tags.Length; i++)
        {
            if (column.IsNull(i) && !missingIsGroup)
            {
                throw new PipelineValidationException($"{bucket}: a row has no key in --group column '{groupColumn}', though the plan step read every key; the work area mixes runs. Run scan, plan and encode again with the same arguments.");
            }
            var key = RandomSplitAssigner.KeyOf(column, i);
            if (!string.Equals(key, last, StringComparison.Ordinal))
            {
                tag = cuts.Count == 0 ? SplitTag.Train : GroupCut.TagOf(cuts, hash.Hash(key), key);
                if (foldCuts is not null) fold = tag == SplitTag.Train ? (short)GroupCut.PartOf(foldCuts, foldHash.Hash(key), key) : (short)-1;
                last = key;
            }
            tags[i] = tag;
            if (folds is not null) folds[i] = fold;
        }
        if (folds is null) return new SplitAssignment(tags);
        context.ForwardChainingFolds = false;
        return new SplitAssignment(tags, Folds: folds);
    }
}
