using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A time split as the plan step cut it (<see cref="TimeCuts"/>): each row's split from its time by
/// <see cref="TimeSplitAssigner.TagOf"/>, the same tag <see cref="TimeSplitAssigner"/> gives it over all rows. Unshuffled,
/// the order is time order, ties by row id (<see cref="TimeSplitAssigner.TimeOrder"/>): a bucket holds one range of that
/// order, so that is the output order restricted to the bucket. Shuffled, the order is left to the split stage.
/// </summary>
internal sealed class TimeCutAssigner(string timeColumn, TimeCuts cuts, bool shuffle, string bucket) : IRowTimeAssigner
{
    private readonly TimeCuts _cuts = cuts;
    private int _timeIndex = -1;

    public string Describe() => $"time split of {bucket} cut by the plan";

    public void Bind(Schema input) => _timeIndex = input.IndexOf(timeColumn);

    /// <summary>The time column only.</summary>
    public IReadOnlyCollection<int>? KeyColumns => [_timeIndex];

    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        int index = input.Schema.IndexOf(timeColumn);
        var column = input.Column(index);
        var ticks = new long[input.Count];
        var tags = new SplitTag[input.Count];
        for (int i = 0; i < ticks.Length; i++)
        {
            if (!TimeSplitAssigner.TryGetUtcTicks(column, i, out ticks[i])) throw Mixed();
            tags[i] = TimeSplitAssigner.TagOf(ticks[i], _cuts);
        }
        return new SplitAssignment(tags, shuffle ? null : TimeSplitAssigner.TimeOrder(ticks, input.RowIds).Order);
    }

    private PipelineValidationException Mixed()
        => new($"step {ScaleStep.Encode} {bucket}: a row of '{timeColumn}' has no valid time, though the plan step read every time; the work area mixes runs. Run scan, plan and encode again with the same arguments.");

    int IRowTimeAssigner.TimeIndex => _timeIndex;

    bool IRowTimeAssigner.InTimeOrder => !shuffle;

    /// <summary>The plan's cuts; a refused time stops at once.</summary>
    ITimeCutter IRowTimeAssigner.Cutter(RunContext context) => new PlannedCut(this);

    private sealed class PlannedCut(TimeCutAssigner assigner) : ITimeCutter
    {
        public void Refused(Column column, int row, RowInfo rows) => throw assigner.Mixed();

        public TimeTagger Cut(long rows, long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld) => new(assigner._cuts, null);
    }
}
