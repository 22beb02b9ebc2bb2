using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A random split as the plan step cut it (<see cref="RandomSplitCuts"/>): each row's split from its split hash and row id
/// compared with the cuts, the same tag <see cref="RandomSplitter.Assign"/> gives it over all rows; with random folds
/// (<paramref name="foldCuts"/>), each train row's fold from its fold hash and the folds' cuts, as
/// <see cref="KFoldAssigner"/> deals them. The order is left to the split stage, which shuffles by hash(seed,
/// "shuffle", row id): a bucket holds one range of shuffle hashes, so that is the output order restricted to the bucket.
/// </summary>
internal sealed class CutAssigner(IReadOnlyList<SplitCut> cuts, IReadOnlyList<SplitCut>? foldCuts, ulong seed, string bucket) : ISplitAssigner
{
    public string Describe() => $"random split{(foldCuts is null ? "" : " and folds")} of {bucket} cut by the plan";

    public void Bind(Schema input) { }

    /// <summary>Nothing but row ids is needed, so the split stage can spill every column under a memory budget.</summary>
    public IReadOnlyCollection<int>? KeyColumns => [];

    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var hash = new KeyedHash(seed, "split");
        var ids = input.RowIds;
        var tags = new SplitTag[ids.Length];
        for (int i = 0; i < tags.Length; i++) tags[i] = RandomSplitCuts.TagOf(cuts, hash.Hash(ids[i]), ids[i]);
        if (foldCuts is null) return new SplitAssignment(tags);
        var foldHash = new KeyedHash(seed, "fold");
        var folds = new short[ids.Length];
        for (int i = 0; i < folds.Length; i++)
        {
            folds[i] = tags[i] == SplitTag.Train ? (short)RandomSplitCuts.PartOf(foldCuts, foldHash.Hash(ids[i]), ids[i]) : (short)-1;
        }
        return new SplitAssignment(tags, Folds: folds);
    }
}
