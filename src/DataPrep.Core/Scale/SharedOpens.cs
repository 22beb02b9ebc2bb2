using System.Numerics;
using DataPrep.Sources;

namespace DataPrep.Scale;

/// <summary>
/// What opening an input learned (<see cref="ISharedOpen"/>: a LibSVM file's whole first pass, a CSV or JSON Lines
/// file's sample), shared among a run's scan tasks through the work area (<c>FP/opened/INPUT</c>), so that N scan tasks
/// open about one copy of the inputs for the run's schema, not N.
/// </summary>
/// <remarks>
/// Each scan task first opens the inputs it reads (those that meet its share of the bytes; several at a time), publishing
/// each one's state, then the others', taking the state another task published where there is one. The other shares are
/// visited in bit-reversed order from the task's own (task i's k-th is <c>(i + reverse(k)) mod N</c>), so that tasks that
/// run at the same time look at different inputs at every turn. Only the cost depends on timing: a state is what opening
/// the input gives (the fingerprint in its key covers the options and every input's size and time stamp), so a task that
/// finds none opens the input itself.
/// Errors are not shared: on the first one the task stops sharing, and the ordered open after it reports the first bad
/// input in input order, as one process does.
/// </remarks>
internal static class SharedOpens
{
    /// <summary>The work object of input <paramref name="input"/>'s opened state.</summary>
    public static string KeyOf(ScaleWork work, int input) => $"{work.Fingerprint}/opened/{ScaleWork.Task(input)}";

    /// <summary>Gives <paramref name="sources"/> that share their opening the states other tasks published, opening and publishing the rest.</summary>
    /// <param name="work">The run's work area.</param>
    /// <param name="sizes">Every input's size (its share of the scan's bytes).</param>
    /// <param name="sources">The run's sources, one per input.</param>
    /// <param name="task">This scan task.</param>
    /// <param name="workers">N.</param>
    /// <param name="memoryBudget">The task's <c>--memory</c>: an open holds a few MiB (a CSV reader's buffer, an S3 block of up to
    /// 4 MiB), so one input at a time per 64 MB of it, 2 to 16.</param>
    /// <param name="cancellationToken">Cancels the task.</param>
    public static async Task AdoptAsync(ScaleWork work, IReadOnlyList<long> sizes, IReadOnlyList<IRecordSource> sources, int task, int workers, long memoryBudget, CancellationToken cancellationToken)
    {
        var shared = Enumerable.Range(0, sources.Count).Where(i => sources[i] is ISharedOpen).ToList();
        if (shared.Count == 0) return;
        // Several at a time (a GET of a state is a round trip; 1,024 inputs one after another would take 20 s at 20 ms).
        int atOnce = (int)Math.Clamp(memoryBudget / (64L << 20), 2, 16);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var (order, own) = Order(sizes, shared, task, workers);
        try
        {
            // The task's own share first, all of it, then the others: tasks that start together each open their own while the
            // others open theirs, and then find the others' states (visiting everything at once, every task would open
            // every input before any state was published).
            await VisitAsync(order.Take(own)).ConfigureAwait(false);
            await VisitAsync(order.Skip(own)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Stopped at an error: see below.
        }

        Task VisitAsync(IEnumerable<int> inputs) => Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = atOnce, CancellationToken = stop.Token }, async (i, ct) =>
            {
                var source = (ISharedOpen)sources[i];
                try
                {
                    var key = KeyOf(work, i);
                    if (await work.Area.GetAsync(key, ct).ConfigureAwait(false) is { } state && source.TryAdopt(state)) return;
                    await sources[i].OpenAsync(ct).ConfigureAwait(false);
                    await work.Area.PutAsync(key, source.OpenedState, ct).ConfigureAwait(false);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // The ordered open reports the first bad input (or a store that fails), as one process does.
                    await stop.CancelAsync().ConfigureAwait(false);
                }
            });
    }

    /// <summary>
    /// The order in which task <paramref name="task"/> of <paramref name="workers"/> visits <paramref name="inputs"/>, and how
    /// many of them it opens first (<c>Own</c>): first the inputs whose bytes meet the task's share (when the bytes of all
    /// inputs are cut into N equal shares, as the scan's shares are balanced by bytes: the inputs it reads), in input order;
    /// then the others by the share their middle byte falls in, share <c>(task + reverse(k)) mod N</c> for k = 1, 2, ….
    /// </summary>
    internal static (List<int> Order, int Own) Order(IReadOnlyList<long> sizes, IReadOnlyList<int> inputs, int task, int workers)
    {
        long total = Math.Max(1, sizes.Sum());
        var starts = new long[sizes.Count];
        for (int i = 1; i < sizes.Count; i++) starts[i] = starts[i - 1] + sizes[i - 1];
        // Share s holds bytes [s·total/N, (s+1)·total/N); input i meets it when it starts before its end and ends after its start.
        Int128 shareStart = (Int128)task * total, shareEnd = (Int128)(task + 1) * total;
        var order = inputs.Where(i => sizes[i] > 0 && (Int128)starts[i] * workers < shareEnd && (Int128)(starts[i] + sizes[i]) * workers > shareStart).ToList();
        int own = order.Count;
        var taken = order.ToHashSet();
        var byShare = inputs.Where(i => !taken.Contains(i))
            .GroupBy(i => (int)Int128.Min(workers - 1, (Int128)(starts[i] + sizes[i] / 2) * workers / total)).ToDictionary(g => g.Key, g => g.ToList());
        int bits = workers <= 1 ? 0 : BitOperations.Log2((uint)workers - 1) + 1;
        for (uint k = 0; k < 1u << bits; k++)
        {
            uint reversed = bits == 0 ? 0 : ReverseBits(k) >> (32 - bits);
            if (reversed >= workers) continue;
            if (byShare.TryGetValue((int)((task + reversed) % (uint)workers), out var list)) order.AddRange(list);
        }
        return (order, own);
    }

    private static uint ReverseBits(uint v)
    {
        v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
        v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
        v = ((v >> 4) & 0x0F0F0F0Fu) | ((v & 0x0F0F0F0Fu) << 4);
        v = ((v >> 8) & 0x00FF00FFu) | ((v & 0x00FF00FFu) << 8);
        return (v >> 16) | (v << 16);
    }
}
