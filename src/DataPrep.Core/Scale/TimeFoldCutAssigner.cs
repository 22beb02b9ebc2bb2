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
        int n = input.Count;
        long[] ticks = cuts is null ? [] : new long[n];
        var foldTimes = new long[n];
        for (int i = 0; i < n; i++)
        {
            if (cuts is not null && !TimeSplitAssigner.TryGetUtcTicks(column, i, out ticks[i]))
            {
                throw new PipelineValidationException($"step {ScaleStep.Encode} {bucket}: a row of '{timeColumn}' has no valid time, though the plan step read every time; the work area mixes runs. Run scan, plan and encode again with the same arguments.");
            }
            foldTimes[i] = KFoldAssigner.FoldTimeOf(column, i);
        }
        // The rule one process's spilled time folds tag by.
        var tags = new SplitTag[n];
        var folds = new short[n];
        new TimeTagger(cuts, foldCuts).Tag(ticks, foldTimes, tags, folds);
        context.ForwardChainingFolds = true;
        return new SplitAssignment(tags, Folds: folds);
    }
}
