using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Where an exact random split cuts the split order (rows by hash(seed, "split", row id), ties by row id): the key of the
/// first row of a split. A row belongs to the split of the last cut at or below its key (split 0 below every cut).
/// </summary>
internal sealed class SplitCut
{
    /// <summary>The split whose rows start at this cut.</summary>
    public int Split { get; set; }

    /// <summary>The split hash of the cut's row.</summary>
    public ulong Hash { get; set; }

    /// <summary>The row id of the cut's row (orders rows of one hash).</summary>
    public long Id { get; set; }
}

/// <summary>Rows of one pass over a run's rows: split hashes and row ids of the first <see cref="Count"/> rows.</summary>
internal readonly record struct HashedRows(ulong[] Hashes, long[] Ids, int Count);

/// <summary>
/// Finds the cuts of <see cref="RandomSplitter.Assign"/> without holding every row: from a histogram of the split hashes'
/// top 16 bits (summed from the scan tasks), the bin that holds each cut is known; a pass over the rows keeps only that
/// bin's rows (or, when the bin holds more than a memory bound, counts its next 16 bits, and so on), and the cut is the
/// row at its exact position among them. Memory: the histograms and at most <c>maxHeld</c> rows per cut, whatever the
/// number of rows; usually one pass after the scan.
/// </summary>
internal static class RandomSplitCuts
{
    /// <summary>Bits of the split hash per histogram level.</summary>
    public const int BinBits = 16;

    /// <summary>Bins per histogram level.</summary>
    public const int Bins = 1 << BinBits;

    /// <summary>The bin of a split hash in the first-level histogram (its top 16 bits).</summary>
    public static int BinOf(ulong hash) => (int)(hash >> (64 - BinBits));

    /// <summary>The split of a row with split hash <paramref name="hash"/> and row id <paramref name="id"/>.</summary>
    public static SplitTag TagOf(IReadOnlyList<SplitCut> cuts, ulong hash, long id)
    {
        int tag = 0;
        for (int i = 0; i < cuts.Count; i++)
        {
            var c = cuts[i];
            if (hash < c.Hash || (hash == c.Hash && id < c.Id)) break;
            tag = c.Split;
        }
        return (SplitTag)tag;
    }

    /// <summary>
    /// The cuts of an exact split of <paramref name="rows"/> rows at <paramref name="fractions"/>.
    /// <paramref name="histogram"/> counts every row by <see cref="BinOf"/>; <paramref name="pass"/> streams every row
    /// (in any order, the same rows each time); a cut's bin is read whole when it holds at most
    /// <paramref name="maxHeld"/> rows, else narrowed by the next 16 bits in another pass.
    /// </summary>
    public static List<SplitCut> Find(long rows, IReadOnlyList<double> fractions, long[] histogram, Func<IEnumerable<HashedRows>> pass, long maxHeld)
    {
        var counts = RandomSplitter.ExactCounts(rows, fractions);
        var splits = new List<int>();
        var positions = new List<long>();
        long position = 0;
        for (int s = 1; s < counts.Length; s++)
        {
            position += counts[s - 1];
            // A cut at the end has no row: no row reaches that split.
            if (position < rows) { splits.Add(s); positions.Add(position); }
        }
        var found = Locate(rows, positions, histogram, pass, maxHeld);
        return found.Select((f, i) => new SplitCut { Split = splits[i], Hash = f.Hash, Id = f.Id }).ToList();
    }

    /// <summary>
    /// The rows at <paramref name="positions"/> (each below <paramref name="rows"/>) in the order of (key, row id) of
    /// <paramref name="rows"/> rows: <paramref name="histogram"/> counts every row by the top 16 bits of its key
    /// (<see cref="BinOf"/>); <paramref name="pass"/> streams every row's key and id (in any order, the same rows each
    /// time); a bin is read whole when it holds at most <paramref name="maxHeld"/> rows, else narrowed by the next 16 bits
    /// in another pass. Used for split hashes (<see cref="Find"/>) and for the order-preserving keys of times
    /// (<see cref="TimeSplitAssigner.KeyOf"/>).
    /// </summary>
    public static (ulong Hash, long Id)[] Locate(long rows, IReadOnlyList<long> positions, long[] histogram, Func<IEnumerable<HashedRows>> pass, long maxHeld)
    {
        if (histogram.Length != Bins) throw new ArgumentException($"Expected {Bins} bins.", nameof(histogram));
        if (histogram.Sum() != rows)
        {
            throw new PipelineValidationException($"the split histogram counts {histogram.Sum():N0} rows, not the {rows:N0} rows the scan tasks reported; the work area mixes runs. Run the scan step again.");
        }
        var targets = positions.Select(p => p >= 0 && p < rows ? new Target { Position = p, Shift = 64, Count = rows, Sub = histogram } : throw new ArgumentOutOfRangeException(nameof(positions))).ToList();
        var pending = targets.ToList();
        while (pending.Count > 0)
        {
            foreach (var t in pending) t.Narrow();
            // Targets in one range share what the pass keeps of it.
            var ranges = new Dictionary<(ulong, int), Target>();
            foreach (var t in pending)
            {
                if (ranges.TryGetValue((t.Lo, t.Shift), out var same)) { t.Held = same.Held; t.Sub = same.Sub; continue; }
                ranges[(t.Lo, t.Shift)] = t;
                if (t.Count <= maxHeld || t.Shift == 0) t.Held = new List<(ulong, long)>((int)Math.Min(t.Count, int.MaxValue / 2));
                else t.Sub = new long[Bins];
            }
            var distinct = ranges.Values.ToArray();
            foreach (var batch in pass())
            {
                var hashes = batch.Hashes;
                var ids = batch.Ids;
                foreach (var t in distinct)
                {
                    for (int r = 0; r < batch.Count; r++)
                    {
                        ulong h = hashes[r];
                        if (!t.Holds(h)) continue;
                        if (t.Held is { } held) held.Add((h, ids[r]));
                        else t.Sub![(int)((h - t.Lo) >> (t.Shift - BinBits))]++;
                    }
                }
            }
            foreach (var t in pending)
            {
                if (t.Held is not { } held) continue;
                if (held.Count != t.Count)
                {
                    throw new PipelineValidationException($"the rows changed between two passes over the scan step's key columns ({held.Count:N0} rows in a range that held {t.Count:N0}); run the scan step again.");
                }
                if (!t.Sorted)
                {
                    held.Sort();
                    foreach (var o in pending) if (ReferenceEquals(o.Held, held)) o.Sorted = true;
                }
                t.Found = held[checked((int)(t.Position - t.Before))];
            }
            pending.RemoveAll(t => t.Found is not null);
            foreach (var t in pending) t.Held = null;
        }
        return targets.Select(t => t.Found!.Value).ToArray();
    }

    /// <summary>One row being looked for: its position in the order and the hash range known to hold it.</summary>
    private sealed class Target
    {
        public long Position;

        /// <summary>The range [Lo, Lo + 2^Shift) of split hashes that holds the cut's row.</summary>
        public ulong Lo;
        public int Shift;

        /// <summary>Rows below the range, and in it.</summary>
        public long Before, Count;

        /// <summary>The range's rows counted by the next 16 bits (to narrow it), or the range's rows (to pick the cut).</summary>
        public long[]? Sub;
        public List<(ulong Hash, long Id)>? Held;
        public bool Sorted;
        public (ulong Hash, long Id)? Found;

        public bool Holds(ulong hash) => Shift == 64 || (hash - Lo) >> Shift == 0;

        /// <summary>Narrows the range to the sub-bin of <see cref="Sub"/> that holds the cut's position.</summary>
        public void Narrow()
        {
            if (Sub is not { } sub) return;
            long at = Before;
            for (int b = 0; b < sub.Length; b++)
            {
                if (at + sub[b] > Position)
                {
                    Lo += (ulong)b << (Shift - BinBits);
                    Shift -= BinBits;
                    Before = at;
                    Count = sub[b];
                    Sub = null;
                    return;
                }
                at += sub[b];
            }
            throw new PipelineValidationException($"the split hashes' counts ({at:N0} rows) do not reach the cut at row {Position:N0}; the rows changed between two passes. Run the scan step again.");
        }
    }
}
