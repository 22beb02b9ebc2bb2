using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A group split of many groups as the plan step cut it (<see cref="PlanKind.GroupRanges"/>): each row's split from its group
/// key's split hash and the key compared with the cuts (<see cref="GroupCut.TagOf"/>), the tag <see cref="GroupSplitAssigner"/>
/// gives it over all rows. It holds the two cuts only, whatever the number of groups. The order is left to the split stage
/// (shuffle hash or input order), as one process's group split leaves it.
/// </summary>
internal sealed class GroupRangeAssigner(string groupColumn, IReadOnlyList<GroupCut> cuts, ulong seed, string bucket) : IRowLocalAssigner
{
    private int _groupIndex = -1;

    public string Describe() => $"group split of {bucket} by {groupColumn}, cut into hash ranges by the plan";

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
        var tags = new SplitTag[input.Count];
        string? last = null;
        var tag = SplitTag.Train;
        for (int i = 0; i < tags.Length; i++)
        {
            if (column.IsNull(i))
            {
                throw new PipelineValidationException($"{bucket}: a row has no key in --group column '{groupColumn}', though the plan step read every key; the work area mixes runs. Run scan, plan and encode again with the same arguments.");
            }
            var key = RandomSplitAssigner.KeyOf(column, i);
            if (!string.Equals(key, last, StringComparison.Ordinal))
            {
                tag = GroupCut.TagOf(cuts, hash.Hash(key), key);
                last = key;
            }
            tags[i] = tag;
        }
        return new SplitAssignment(tags);
    }
}
