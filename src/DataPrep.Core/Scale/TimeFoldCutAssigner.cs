using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// Time folds as the plan step cut them: each row's test tag from its time and the time test split's cut-offs
/// (<see cref="TimeSplitAssigner.TagOf"/>; every row train without a test split), and each train row's fold from its time
/// and the folds' starts (<see cref="KFoldAssigner.FoldOfTime"/>), the tags and folds <see cref="KFoldAssigner"/> gives
/// over all rows. Like <see cref="KFoldAssigner"/>, it leaves the order to the split stage. A row's tag and fold follow
/// from that row alone, so a spilling encode task tags each batch as it spills it and keeps nothing per row
/// (<see cref="IRowLocalAssigner"/>).
/// </summary>
internal sealed class TimeFoldCutAssigner(string timeColumn, TimeCuts? cuts, IReadOnlyList<TimeFoldCut> foldCuts, string bucket) : IRowLocalAssigner
{
    private int _timeIndex = -1;

    public string Describe() => $"time folds of {bucket} cut by the plan";

    public void Bind(Schema input) => _timeIndex = input.IndexOf(timeColumn);

    /// <summary>The time column only.</summary>
    public IReadOnlyCollection<int>? KeyColumns => [_timeIndex];

    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var column = input.Column(input.Schema.IndexOf(timeColumn));
        var tags = new SplitTag[input.Count];
        var folds = new short[input.Count];
        for (int i = 0; i < tags.Length; i++)
        {
            if (cuts is not null)
            {
                if (!TimeSplitAssigner.TryGetUtcTicks(column, i, out long ticks))
                {
                    throw new PipelineValidationException($"step {ScaleStep.Encode} {bucket}: a row of '{timeColumn}' has no valid time, though the plan step read every time; the work area mixes runs. Run scan, plan and encode again with the same arguments.");
                }
                tags[i] = TimeSplitAssigner.TagOf(ticks, cuts);
            }
            folds[i] = tags[i] == SplitTag.Train ? KFoldAssigner.FoldOfTime(foldCuts, KFoldAssigner.FoldTimeOf(column, i)) : (short)-1;
        }
        context.ForwardChainingFolds = true;
        return new SplitAssignment(tags, Folds: folds);
    }
}
