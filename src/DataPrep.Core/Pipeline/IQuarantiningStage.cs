namespace DataPrep.Pipeline;

/// <summary>An item a stage left out under a quarantine policy (an image under <c>--on-bad-image quarantine</c>).</summary>
/// <param name="Channel">The channel its row was in (<c>train</c>, <c>validation</c>, <c>fold-1</c>, …).</param>
/// <param name="Item">What was left out (an image's path below its input's root).</param>
/// <param name="Line">Its line in an input list (0 when it came from no list).</param>
/// <param name="Problem">Why it cannot be used.</param>
public sealed record QuarantinedItem(string Channel, string Item, long Line, string Problem);

/// <summary>
/// A stage that lists the items it leaves out, for the format's sink to write. A scaled-out run carries each encode
/// task's list to the commit, which hands the lists to its own instance of the stage in the order one process would
/// have listed them (channel by channel, bucket by bucket), so the sink writes one process's list.
/// </summary>
public interface IQuarantiningStage : IPipelineStage
{
    /// <summary>The items left out so far, in output order.</summary>
    IReadOnlyList<QuarantinedItem> QuarantinedItems { get; }

    /// <summary>Adds items another process of the run left out, after those listed so far.</summary>
    void AddQuarantined(IEnumerable<QuarantinedItem> items);
}
