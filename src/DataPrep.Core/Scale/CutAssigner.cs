using DataPrep.Data;
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
internal sealed class CutAssigner(IReadOnlyList<SplitCut> cuts, IReadOnlyList<SplitCut>? foldCuts, ulong seed, string bucket) : IRowIdAssigner
{
    public string Describe() => $"random split{(foldCuts is null ? "" : " and folds")} of {bucket} cut by the plan";

    public void Bind(Schema input) { }

    /// <summary>Nothing but row ids is needed, so the split stage can spill every column under a memory budget.</summary>
    public IReadOnlyCollection<int>? KeyColumns => [];

    /// <summary>The plan's cuts decide every row from its id.</summary>
    public bool TagsFromRowIds => true;

    /// <summary>The cuts are the plan's: no pass over the ids is needed.</summary>
    public IRowIdTagger ForRowIds(Func<IEnumerable<RowIdChunk>> pass, long rows, IReadOnlyList<long>? classRows, IReadOnlyList<string>? classKeys, long maxBytes, RunContext context) => new RandomCutTagger(cuts, foldCuts, seed);

    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var ids = input.RowIds;
        var tagger = new RandomCutTagger(cuts, foldCuts, seed);
        var tags = new SplitTag[ids.Length];
        var folds = tagger.HasFolds ? new short[ids.Length] : null;
        tagger.Tag(ids, tags, folds);
        return new SplitAssignment(tags, Folds: folds);
    }
}
