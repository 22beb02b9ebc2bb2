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
    private long _cap = Math.Max(budget, 128L << 20) + (128L << 20);

    /// <summary>Collects when the heap (live data plus garbage) has grown past the cap.</summary>
    public void Check()
    {
        if (GC.GetTotalMemory(false) <= _cap) return;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        long live = GC.GetTotalMemory(false);
        // Live data above the cap: leave room for half as much garbage again before the next forced collection.
        if (live > _cap * 3 / 4) _cap = live + live / 2;
    }
}
