namespace DataPrep.Pipeline;

/// <summary>
/// Keeps the managed heap near the memory budget while a run spills. The GC sizes its budgets from the
/// machine's RAM, so on a large machine garbage (bucket reads, gathered batches — mostly large-object-heap
/// arrays) can pile up to several times the live data before a gen-2 collection; a process asked to stay
/// under 512 MB then peaks far above it. Checking the heap size per batch is cheap; a collection is forced
/// only when the heap passes the cap, and the cap rises if the live data itself is larger (no thrashing).
/// </summary>
internal sealed class MemoryGovernor(long budget)
{
    private long _cap = Math.Max(budget * 3 / 4, MinCap);

    /// <summary>
    /// The least cap (32 MiB), so a tiny budget does not collect at every batch. It was 96 MiB, above three quarters of
    /// any budget under 128 MB: a 1 GB CSV under <c>--memory 64MB</c> let its heap reach 96 MiB before each forced
    /// collection, and peaked at 137 MiB RSS in its first pass.
    /// </summary>
    internal const long MinCap = 32L << 20;

    /// <summary>The heap size past which <see cref="Check"/> collects: three quarters of the budget, at least <see cref="MinCap"/>.</summary>
    internal long Cap => _cap;

    /// <summary>Collects when the heap (live data plus garbage) has grown past the cap.</summary>
    public void Check()
    {
        if (GC.GetTotalMemory(false) <= _cap) return;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long live = GC.GetTotalMemory(false);
        // Live data above the cap: leave room for half as much garbage again before the next forced collection.
        if (live > _cap * 3 / 4) _cap = live + live / 2;
    }

    /// <summary>
    /// Between phases that allocate large per-row arrays: collect and give freed memory back to the OS, so the
    /// next phase's arrays reuse it instead of raising the peak RSS (the GC otherwise keeps freed regions).
    /// </summary>
    public void Release()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _cap = Math.Max(_cap, GC.GetTotalMemory(false) * 3 / 2);
    }
}
