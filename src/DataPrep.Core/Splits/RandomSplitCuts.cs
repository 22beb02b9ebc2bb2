using System.Numerics;
using DataPrep.Data;
using DataPrep.Hashing;
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

/// <summary>
/// Rows of one pass over a run's rows: split hashes and row ids of the first <see cref="Count"/> rows, and for a stratified
/// split each row's stratum (its index in the sorted classes; null: one stratum).
/// </summary>
internal readonly record struct HashedRows(ulong[] Hashes, long[] Ids, int Count, int[]? Strata = null);

/// <summary>
/// Finds the cuts of <see cref="RandomSplitter.Assign"/> without holding every row: from a histogram of the split hashes'
/// top 16 bits (summed from the scan tasks), the bin that holds each cut is known; a pass over the rows keeps only that
/// bin's rows (or, when the bin holds more than a memory bound, counts its next 16 bits, and so on), and the cut is the
/// row at its exact position among them. Memory: the histograms and at most <c>maxHeld</c> rows per cut, whatever the
/// number of rows; usually one pass after the scan. A stratified split (<see cref="FindStratified"/>) is the same search
/// within each class, all classes in the same passes.
/// </summary>
internal static class RandomSplitCuts
{
    /// <summary>Bits of the split hash per histogram level.</summary>
    public const int BinBits = 16;

    /// <summary>Bins per histogram level.</summary>
    public const int Bins = 1 << BinBits;

    /// <summary>The bin of a split hash in the first-level histogram (its top 16 bits).</summary>
    public static int BinOf(ulong hash) => (int)(hash >> (64 - BinBits));

    /// <summary>Counts one pass of rows by <see cref="BinOf"/> of their hashes: the histogram, and the rows counted.</summary>
    public static (long[] Bins, long Rows) Histogram(IEnumerable<HashedRows> pass)
    {
        var bins = new long[Bins];
        long rows = 0;
        foreach (var b in pass)
        {
            rows += b.Count;
            for (int r = 0; r < b.Count; r++) bins[BinOf(b.Hashes[r])]++;
        }
        return (bins, rows);
    }

    /// <summary>The split of a row with split hash <paramref name="hash"/> and row id <paramref name="id"/>.</summary>
    public static SplitTag TagOf(IReadOnlyList<SplitCut> cuts, ulong hash, long id) => (SplitTag)PartOf(cuts, hash, id);

    /// <summary>The part (split, or fold of random folds) of a row with hash <paramref name="hash"/> and row id <paramref name="id"/>.</summary>
    public static int PartOf(IReadOnlyList<SplitCut> cuts, ulong hash, long id)
    {
        int part = 0;
        for (int i = 0; i < cuts.Count; i++)
        {
            var c = cuts[i];
            if (hash < c.Hash || (hash == c.Hash && id < c.Id)) break;
            part = c.Split;
        }
        return part;
    }

    /// <summary>
    /// The cuts of an exact split of <paramref name="rows"/> rows at <paramref name="fractions"/>.
    /// <paramref name="histogram"/> counts every row by <see cref="BinOf"/>; <paramref name="pass"/> streams every row
    /// (in any order, the same rows each time); a cut's bin is read whole when it holds at most
    /// <paramref name="maxHeld"/> rows, else narrowed by the next 16 bits in another pass.
    /// </summary>
    public static List<SplitCut> Find(long rows, IReadOnlyList<double> fractions, long[] histogram, Func<IEnumerable<HashedRows>> pass, long maxHeld)
    {
        if (histogram.Length != Bins) throw new ArgumentException($"Expected {Bins} bins.", nameof(histogram));
        if (histogram.Sum() != rows)
        {
            throw new PipelineValidationException($"the split histogram counts {histogram.Sum():N0} rows, not the {rows:N0} rows the scan tasks reported; the work area mixes runs. Run the scan step again.");
        }
        var targets = TargetsOf(0, rows, fractions, histogram);
        // A few cuts: every pass may hold all of them (at most maxHeld rows or one 16-bit histogram each).
        Solve(targets, 1, pass, maxHeld, long.MaxValue, adaptive: false);
        return targets.Select(t => t.Cut!).ToList();
    }

    /// <summary>
    /// The bins of <paramref name="histogram"/> that hold <see cref="Find"/>'s cuts: the only rows its passes keep (or
    /// narrow) are in them.
    /// </summary>
    public static IEnumerable<int> CutBins(long rows, IReadOnlyList<double> fractions, long[] histogram)
    {
        int bin = 0;
        long below = 0;
        foreach (var t in TargetsOf(0, rows, fractions, histogram))
        {
            while (below + histogram[bin] <= t.Position)
            {
                below += histogram[bin];
                bin++;
            }
            yield return bin;
        }
    }

    /// <summary>
    /// The cuts of <see cref="RandomSplitter.AssignStratified"/>: per class (<paramref name="classRows"/>, the classes'
    /// row counts in their sorted order), the cuts of an exact split of the class's rows in (split hash, row id) order,
    /// which is how <c>AssignStratified</c> orders and cuts each class. <paramref name="pass"/> streams every row with its
    /// class index (<see cref="HashedRows.Strata"/>). No histogram is needed: a class of at most <paramref name="maxHeld"/>
    /// rows is held in the first pass, a larger one is first counted by as few top bits of its hash range as bring a bin
    /// under half the bound. One pass holds what fits in <paramref name="maxBytes"/> (16 bytes a held row, 8 a counter);
    /// the other classes wait for the next pass, so memory stays bounded however many classes there are.
    /// </summary>
    /// <returns>Each class's cuts, by class index (empty: every row of the class is train).</returns>
    public static List<SplitCut>[] FindStratified(IReadOnlyList<long> classRows, IReadOnlyList<double> fractions, Func<IEnumerable<HashedRows>> pass, long maxHeld, long maxBytes)
        => FindPerClass(classRows, classRows.Select(_ => fractions).ToArray(), pass, maxHeld, maxBytes, null);

    /// <summary>
    /// <see cref="FindStratified"/> with each class's own fractions (a noisy/clean split without groups: the clean rows' and the noisy rows', see
    /// <see cref="NoisyCleanAssigner.SideFractions"/>). With <paramref name="histograms"/> (each class's rows counted by
    /// <see cref="BinOf"/>, summed from the scan tasks), every cut starts in the bin that holds it, as <see cref="Find"/>'s
    /// do, instead of the class's whole hash range.
    /// </summary>
    /// <returns>Each class's cuts, by class index (empty: every row of the class is in its first split with rows).</returns>
    public static List<SplitCut>[] FindPerClass(IReadOnlyList<long> classRows, IReadOnlyList<IReadOnlyList<double>> classFractions, Func<IEnumerable<HashedRows>> pass,
        long maxHeld, long maxBytes, IReadOnlyList<long[]>? histograms)
    {
        if (classFractions.Count != classRows.Count) throw new ArgumentException("Expected fractions for every class.", nameof(classFractions));
        if (histograms is not null)
        {
            if (histograms.Count != classRows.Count) throw new ArgumentException("Expected a histogram for every class.", nameof(histograms));
            for (int c = 0; c < histograms.Count; c++)
            {
                if (histograms[c].Length != Bins) throw new ArgumentException($"Expected {Bins} bins.", nameof(histograms));
                if (histograms[c].Sum() != classRows[c])
                {
                    throw new PipelineValidationException($"the split histogram of class {c} counts {histograms[c].Sum():N0} rows, not the {classRows[c]:N0} rows the scan tasks reported; the work area mixes runs. Run the scan step again.");
                }
            }
        }
        var targets = new List<Target>();
        for (int c = 0; c < classRows.Count; c++) targets.AddRange(TargetsOf(c, classRows[c], classFractions[c], histograms?[c]));
        Solve(targets, classRows.Count, pass, maxHeld, maxBytes, adaptive: true);
        var cuts = new List<SplitCut>[classRows.Count];
        for (int c = 0; c < cuts.Length; c++) cuts[c] = [];
        foreach (var t in targets) cuts[t.Stratum].Add(t.Cut!);
        return cuts;
    }

    /// <summary>
    /// The cuts of contiguous blocks of given sizes per class: class c's rows in (hash, row id) order, cut into blocks of
    /// <c><paramref name="classCounts"/>[c][p]</c> rows, part after part (stratified folds,
    /// <see cref="KFoldAssigner.StratifiedFoldCounts"/>). Passes and memory as <c>FindStratified</c>.
    /// </summary>
    /// <returns>Each class's cuts, by class index; an empty part's cut shares its row with the next part's (<see cref="PartOf"/> takes the later).</returns>
    public static List<SplitCut>[] FindBlocks(IReadOnlyList<long[]> classCounts, Func<IEnumerable<HashedRows>> pass, long maxHeld, long maxBytes)
    {
        var targets = new List<Target>();
        for (int c = 0; c < classCounts.Count; c++) targets.AddRange(TargetsOf(c, classCounts[c], null));
        Solve(targets, classCounts.Count, pass, maxHeld, maxBytes, adaptive: true);
        var cuts = new List<SplitCut>[classCounts.Count];
        for (int c = 0; c < cuts.Length; c++) cuts[c] = [];
        foreach (var t in targets) cuts[t.Stratum].Add(t.Cut!);
        return cuts;
    }

    /// <summary>
    /// The rows at <paramref name="positions"/> (each below <paramref name="rows"/>) in the order of (key, row id) of
    /// <paramref name="rows"/> rows: <paramref name="histogram"/> counts every row by the top 16 bits of its key
    /// (<see cref="BinOf"/>); <paramref name="pass"/> streams every row's key and id (in any order, the same rows each
    /// time); a bin is read whole when it holds at most <paramref name="maxHeld"/> rows, else narrowed in another pass —
    /// by the row ids once it is a single key (many rows of one time), so no pass holds more than that.
    /// Used for the order-preserving keys of times (<see cref="TimeSplitAssigner.KeyOf"/>, <see cref="TimeSplitCuts"/>).
    /// <paramref name="onHeld"/> hears how many rows each range read whole held.
    /// </summary>
    public static (ulong Hash, long Id)[] Locate(long rows, IReadOnlyList<long> positions, long[] histogram, Func<IEnumerable<HashedRows>> pass, long maxHeld,
        Action<long>? onHeld = null)
    {
        if (histogram.Length != Bins) throw new ArgumentException($"Expected {Bins} bins.", nameof(histogram));
        if (histogram.Sum() != rows)
        {
            throw new PipelineValidationException($"the histogram counts {histogram.Sum():N0} rows, not the {rows:N0} rows of the scan tasks' key columns; the work area mixes runs. Run the scan step again.");
        }
        var targets = positions.Select((p, i) => p >= 0 && p < rows
            ? new Target { Stratum = 0, Split = i, Position = p, Shift = 64, Count = rows, Sub = histogram }
            : throw new ArgumentOutOfRangeException(nameof(positions))).ToList();
        Solve(targets, 1, pass, maxHeld, long.MaxValue, adaptive: false, onHeld);
        return targets.Select(t => (t.Cut!.Hash, t.Cut.Id)).ToArray();
    }

    /// <summary>The cuts to find in one stratum of <paramref name="rows"/> rows, in split order.</summary>
    private static List<Target> TargetsOf(int stratum, long rows, IReadOnlyList<double> fractions, long[]? histogram)
        => TargetsOf(stratum, RandomSplitter.ExactCounts(rows, fractions), histogram);

    /// <summary>The cuts to find in one stratum whose parts hold <paramref name="counts"/> rows, in part order.</summary>
    private static List<Target> TargetsOf(int stratum, long[] counts, long[]? histogram)
    {
        long rows = counts.Sum();
        var targets = new List<Target>();
        long position = 0;
        for (int s = 1; s < counts.Length; s++)
        {
            position += counts[s - 1];
            // A cut at the end has no row: no row reaches that split.
            if (position < rows) targets.Add(new Target { Stratum = stratum, Split = s, Position = position, Shift = 64, Count = rows, Sub = histogram });
        }
        return targets;
    }

    /// <summary>
    /// Narrows every target's hash range pass by pass until it is held, then picks the cut's row. A pass takes the
    /// targets whose held rows and counters fit <paramref name="maxBytes"/> (at least one); the others wait. A range of a
    /// single hash with more than <paramref name="maxHeld"/> rows (one time's rows) is narrowed further by row id.
    /// </summary>
    private static void Solve(List<Target> targets, int strata, Func<IEnumerable<HashedRows>> pass, long maxHeld, long maxBytes, bool adaptive,
        Action<long>? onHeld = null)
    {
        var pending = targets.ToList();
        while (pending.Count > 0)
        {
            foreach (var t in pending) t.Narrow();
            // Targets in one range share what the pass keeps of it; a range that does not fit this pass waits for a later one.
            var ranges = new Dictionary<(int, ulong, int, ulong, int), Target>();
            var active = new List<Target>?[strata];
            long used = 0;
            foreach (var t in pending)
            {
                if (ranges.TryGetValue((t.Stratum, t.Lo, t.Shift, t.IdLo, t.IdShift), out var same)) { t.Held = same.Held; t.Sub = same.Sub; t.Bits = same.Bits; t.Ids = same.Ids; continue; }
                ranges[(t.Stratum, t.Lo, t.Shift, t.IdLo, t.IdShift)] = t;
                bool hold = t.Count <= maxHeld || t.IdShift == 0;
                // Row ids are not spread evenly as hashes are: a range of one hash is narrowed by the ids' next 16 bits.
                int bits = hold ? 0 : t.Shift == 0 ? Math.Min(BinBits, t.IdShift) : adaptive ? BitsFor(t.Count, maxHeld, t.Shift) : Math.Min(BinBits, t.Shift);
                long cost = hold ? t.Count * 16 : 8L << bits;
                if (used > 0 && used + cost > maxBytes) continue;
                used += cost;
                if (hold) t.Held = new List<(ulong, long)>((int)Math.Min(t.Count, int.MaxValue / 2));
                else
                {
                    t.Bits = bits;
                    t.Sub = new long[1 << bits];
                    // A pass that narrows the range to one hash also finds its ids' bounds, where narrowing by id starts.
                    t.Ids = t.Shift == bits ? new IdBounds() : null;
                }
                (active[t.Stratum] ??= []).Add(t);
            }
            // Many ranges of a stratum that do not overlap (the starts of many buckets, also inside one time) are searched
            // by their first (hash, id) instead of each tried in turn.
            var sorted = new Target[]?[strata];
            var lows = new (ulong, ulong)[]?[strata];
            for (int s = 0; s < strata; s++)
            {
                if (active[s] is not { Count: > 8 } list) continue;
                var byLo = list.OrderBy(t => t.First).ToArray();
                bool apart = byLo.All(t => t.Shift < 64);
                for (int k = 1; k < byLo.Length && apart; k++) apart = byLo[k - 1].Last.CompareTo(byLo[k].First) < 0;
                if (!apart) continue;
                sorted[s] = byLo;
                lows[s] = byLo.Select(t => t.First).ToArray();
            }
            foreach (var batch in pass())
            {
                var hashes = batch.Hashes;
                var ids = batch.Ids;
                var batchStrata = batch.Strata;
                for (int r = 0; r < batch.Count; r++)
                {
                    int s = batchStrata is null ? 0 : batchStrata[r];
                    if ((uint)s >= (uint)strata) throw new PipelineValidationException($"a row of class {s} appeared, but the scan step counted {strata} classes; the rows changed between two passes. Run the scan step again.");
                    if (active[s] is not { } list) continue;
                    ulong h = hashes[r];
                    if (lows[s] is { } lo)
                    {
                        int k = Array.BinarySearch(lo, (h, Target.IdKey(ids[r])));
                        if (k < 0) k = ~k - 1;
                        if (k < 0) continue;
                        var t = sorted[s]![k];
                        if (!t.Holds(h, ids[r])) continue;
                        if (t.Held is { } held) held.Add((h, ids[r]));
                        else t.Tally(h, ids[r]);
                        continue;
                    }
                    foreach (var t in list)
                    {
                        if (!t.Holds(h, ids[r])) continue;
                        if (t.Held is { } held) held.Add((h, ids[r]));
                        else t.Tally(h, ids[r]);
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
                    onHeld?.Invoke(held.Count);
                    held.Sort();
                    foreach (var o in pending) if (ReferenceEquals(o.Held, held)) o.Sorted = true;
                }
                var (hash, id) = held[checked((int)(t.Position - t.Before))];
                t.Cut = new SplitCut { Split = t.Split, Hash = hash, Id = id };
            }
            pending.RemoveAll(t => t.Cut is not null);
            foreach (var t in pending) t.Held = null;
        }
    }

    /// <summary>The fewest bits (at most 16 and <paramref name="shift"/>) that cut <paramref name="count"/> rows into bins of about half <paramref name="maxHeld"/>.</summary>
    private static int BitsFor(long count, long maxHeld, int shift)
    {
        int bits = 1;
        while (bits < BinBits && (count >> bits) > Math.Max(1, maxHeld / 2)) bits++;
        return Math.Min(bits, shift);
    }

    /// <summary>The least and greatest id key of the rows a pass counted in a range.</summary>
    private sealed class IdBounds
    {
        public ulong Min = ulong.MaxValue, Max;
    }

    /// <summary>One cut being looked for: its stratum, its position in the stratum's split order and the hash range known to hold it.</summary>
    private sealed class Target
    {
        public int Stratum;
        public int Split;
        public long Position;

        /// <summary>The range [Lo, Lo + 2^Shift) of split hashes that holds the cut's row.</summary>
        public ulong Lo;
        public int Shift;

        /// <summary>
        /// Once the range is one hash (<see cref="Shift"/> 0): the range [IdLo, IdLo + 2^IdShift) of row ids, as
        /// <see cref="IdKey"/>s, that holds the cut's row.
        /// </summary>
        public ulong IdLo;
        public int IdShift = 64;

        /// <summary>Rows (of the stratum) below the range, and in it.</summary>
        public long Before, Count;

        /// <summary>The range's rows counted by its next <see cref="Bits"/> bits (to narrow it), or the range's rows (to pick the cut).</summary>
        public long[]? Sub;
        public int Bits = BinBits;
        public List<(ulong Hash, long Id)>? Held;
        public bool Sorted;
        public SplitCut? Cut;

        /// <summary>While a pass narrows the range to one hash, the bounds of its rows' ids (<see cref="IdKey"/>s).</summary>
        public IdBounds? Ids;

        /// <summary>The range's first (hash, id key) and last.</summary>
        public (ulong, ulong) First => (Lo, IdLo);

        public (ulong, ulong) Last => Shift > 0 ? (Lo + ((1UL << Shift) - 1), ulong.MaxValue) : (Lo, IdShift == 64 ? ulong.MaxValue : IdLo + ((1UL << IdShift) - 1));

        public bool Holds(ulong hash, long id) => Shift == 64 || (hash - Lo) >> Shift == 0 && (Shift > 0 || IdShift == 64 || (IdKey(id) - IdLo) >> IdShift == 0);

        /// <summary>The sub-bin of a row the range holds: by the hash's next bits, or once it is one hash by the id's.</summary>
        public int SubBin(ulong hash, long id) => Shift > 0 ? (int)((hash - Lo) >> (Shift - Bits)) : (int)((IdKey(id) - IdLo) >> (IdShift - Bits));

        /// <summary>A row id as an unsigned key in the order of the ids (the held rows' sort order).</summary>
        public static ulong IdKey(long id) => (ulong)id ^ (1UL << 63);

        /// <summary>Counts a row the range holds in its sub-bin.</summary>
        public void Tally(ulong hash, long id)
        {
            Sub![SubBin(hash, id)]++;
            if (Ids is { } bounds)
            {
                ulong key = IdKey(id);
                if (key < bounds.Min) bounds.Min = key;
                if (key > bounds.Max) bounds.Max = key;
            }
        }

        /// <summary>Narrows the range to the sub-bin of <see cref="Sub"/> that holds the cut's position.</summary>
        public void Narrow()
        {
            if (Sub is not { } sub) return;
            long at = Before;
            for (int b = 0; b < sub.Length; b++)
            {
                if (at + sub[b] > Position)
                {
                    if (Shift > 0)
                    {
                        Lo += (ulong)b << (Shift - Bits);
                        Shift -= Bits;
                        if (Shift == 0 && Ids is { } bounds && bounds.Min <= bounds.Max)
                        {
                            // The smallest aligned block of ids that holds the range's: the id narrowing starts there.
                            ulong differ = bounds.Min ^ bounds.Max;
                            IdShift = differ == 0 ? 0 : 64 - BitOperations.LeadingZeroCount(differ);
                            IdLo = IdShift == 64 ? 0 : bounds.Min & ~((1UL << IdShift) - 1);
                        }
                        Ids = null;
                    }
                    else
                    {
                        IdLo += (ulong)b << (IdShift - Bits);
                        IdShift -= Bits;
                    }
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

/// <summary>
/// A random split as its cuts decide it (<see cref="RandomSplitCuts"/>): each row's split from its split hash and row id,
/// the tag <see cref="RandomSplitter.Assign"/> gives it over all rows; with random folds (<paramref name="foldCuts"/>),
/// each train row's fold from its fold hash and the folds' cuts, as <see cref="KFoldAssigner"/> deals them.
/// </summary>
internal sealed class RandomCutTagger(IReadOnlyList<SplitCut> cuts, IReadOnlyList<SplitCut>? foldCuts, ulong seed) : IRowIdTagger
{
    private readonly KeyedHash _split = new(seed, "split");
    private readonly KeyedHash _fold = new(seed, "fold");

    public bool HasFolds => foldCuts is not null;

    public void Tag(ReadOnlySpan<long> ids, ReadOnlySpan<int> classes, Span<SplitTag> tags, Span<short> folds) => Tag(ids, tags, folds);

    public void Tag(ReadOnlySpan<long> ids, Span<SplitTag> tags, Span<short> folds)
    {
        for (int i = 0; i < ids.Length; i++) tags[i] = RandomSplitCuts.TagOf(cuts, _split.Hash(ids[i]), ids[i]);
        if (foldCuts is null) return;
        for (int i = 0; i < ids.Length; i++)
        {
            folds[i] = tags[i] == SplitTag.Train ? (short)RandomSplitCuts.PartOf(foldCuts, _fold.Hash(ids[i]), ids[i]) : (short)-1;
        }
    }
}

/// <summary>
/// A stratified random split as its classes' cuts decide it (<see cref="RandomSplitCuts.FindStratified"/>): each row's split
/// from its class's cuts and its split hash and row id, the tag <see cref="RandomSplitter.AssignStratified"/> gives it.
/// </summary>
internal sealed class StratifiedCutTagger(IReadOnlyList<List<SplitCut>> cuts, ulong seed) : IRowIdTagger
{
    private readonly KeyedHash _split = new(seed, "split");

    public bool HasFolds => false;

    public void Tag(ReadOnlySpan<long> ids, ReadOnlySpan<int> classes, Span<SplitTag> tags, Span<short> folds)
    {
        if (classes.Length != ids.Length) throw new ArgumentException("A stratified split tags rows by their classes: one class number per row.", nameof(classes));
        for (int i = 0; i < ids.Length; i++) tags[i] = RandomSplitCuts.TagOf(cuts[classes[i]], _split.Hash(ids[i]), ids[i]);
    }
}

/// <summary>
/// A pass over row ids (<see cref="RowIdChunk"/>) as a pass of hashed rows for <see cref="RandomSplitCuts"/>'s searches:
/// each row with <paramref name="hash"/> of its id, in chunks through buffers that every enumeration of <see cref="Pass"/>
/// reuses (each chunk valid until the next is asked for). With <paramref name="strata"/>, each row's stratum: its class
/// number, or <paramref name="classOrder"/>[class number] when given. With <paramref name="pool"/>, only the rows that
/// tagger puts in train (a k-fold's pool after its test split).
/// </summary>
internal sealed class HashedRowIds(Func<IEnumerable<RowIdChunk>> pass, KeyedHash hash, bool strata = false, int[]? classOrder = null, IRowIdTagger? pool = null)
{
    /// <summary>Rows a chunk holds at most (also the cut searches' rows held per cut).</summary>
    public const int Chunk = 1 << 16;

    private readonly ulong[] _hashes = new ulong[Chunk];
    private readonly long[] _ids = new long[Chunk];
    private readonly int[]? _strata = strata ? new int[Chunk] : null;
    private readonly SplitTag[]? _tags = pool is null ? null : new SplitTag[Chunk];

    /// <summary>One pass over every row (of the pool).</summary>
    public IEnumerable<HashedRows> Pass()
    {
        foreach (var (chunk, classes) in pass())
        {
            if (strata && classes.Length != chunk.Length) throw new InvalidOperationException("A stratified pass gave rows without their classes.");
            for (int at = 0; at < chunk.Length; at += Chunk)
            {
                int n = Math.Min(Chunk, chunk.Length - at), m = 0;
                var ids = chunk.Span.Slice(at, n);
                var cls = classes.IsEmpty ? default : classes.Span.Slice(at, n);
                pool?.Tag(ids, cls, _tags.AsSpan(0, n), default);
                for (int i = 0; i < n; i++)
                {
                    if (_tags is not null && _tags[i] != SplitTag.Train) continue;
                    if (_strata is not null) _strata[m] = classOrder is null ? cls[i] : classOrder[cls[i]];
                    _hashes[m] = hash.Hash(_ids[m] = ids[i]);
                    m++;
                }
                yield return new HashedRows(_hashes, _ids, m, _strata);
            }
        }
    }
}
