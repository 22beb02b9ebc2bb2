namespace DataPrep.Pipeline;

/// <summary>
/// Keeps the managed heap near the memory budget while a run spills. The GC sizes its budgets from the
/// machine's RAM, so on a large machine garbage (bucket reads, gathered batches — mostly large-object-heap
/// arrays) can pile up to several times the live data before a gen-2 collection; a process asked to stay
/// under 512 MB then peaks far above it. Checking the heap size per batch is cheap; a collection is forced
/// only when the heap passes the cap; the cap rises while the live data itself is larger (no thrashing) and falls back
/// when it shrinks.
/// </summary>
internal sealed class MemoryGovernor(long budget)
{
    // Three quarters of the budget: the cap whenever the live data leaves room for a quarter of it in garbage.
    private readonly long _base = Math.Max(budget * 3 / 4, MinCap);
    private long _cap = Math.Max(budget * 3 / 4, MinCap);

    /// <summary>
    /// The least cap (32 MiB), so a tiny budget does not collect at every batch. It was 96 MiB, above three quarters of
    /// any budget under 128 MB: a 1 GB CSV under <c>--memory 64MB</c> let its heap reach 96 MiB before each forced
    /// collection, and peaked at 137 MiB RSS in its first pass.
    /// </summary>
    internal const long MinCap = 32L << 20;

    /// <summary>The heap size past which <see cref="Check"/> collects: three quarters of the budget, at least <see cref="MinCap"/>, until a collection sets it (<see cref="CapFor"/>).</summary>
    internal long Cap => _cap;

    /// <summary>Collects when the heap (live data plus garbage) has grown past the cap, and sets the cap from what is left.</summary>
    /// <returns>Whether it collected (<see cref="LastLive"/> is then new).</returns>
    public bool Check()
    {
        if (GC.GetTotalMemory(false) <= _cap) return false;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        LastLive = GC.GetTotalMemory(false);
        _cap = CapFor(LastLive);
        return true;
    }

    /// <summary>
    /// The live heap the last forced collection left (−1 before the first one). A stage that buffers rows while they fit
    /// (the split, <c>SplitStage</c>) counts what the rest of the process holds from it.
    /// </summary>
    public long LastLive { get; private set; } = -1;

    /// <summary>
    /// The cap after a collection left <paramref name="live"/> bytes: the base cap (three quarters of the budget), or, when
    /// the live data takes more than three quarters of that, the live data and a quarter of the base cap of garbage (no
    /// collection at every check). It used to be the live data and half as much again, and it never came back down: a split
    /// buffering its first half budget of batches raised it to 166–177 MiB at <c>--memory 128MB</c> and kept it there
    /// after spilling them, so the heap grew to 180 MiB of mostly garbage (a 400 MB one-group Parquet file peaked at
    /// 290–320 MiB RSS).
    /// </summary>
    internal long CapFor(long live) => live > _base * 3 / 4 ? Math.Max(_base, live + _base / 4) : _base;

    /// <summary>
    /// Between phases that allocate large per-row arrays: collect and give freed memory back to the OS, so the
    /// next phase's arrays reuse it instead of raising the peak RSS (the GC otherwise keeps freed regions).
    /// </summary>
    public void Release()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _cap = CapFor(GC.GetTotalMemory(false));
    }
}
