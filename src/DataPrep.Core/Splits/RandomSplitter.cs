using DataPrep.Data;
using DataPrep.Hashing;

namespace DataPrep.Splits;

/// <summary>
/// Exact random and stratified splits by the determinism rule: rows are ordered by
/// hash(seed, "split", row id) and cut at exact counts, so the result does not depend on batch size,
/// thread count or input order, only on the row ids.
/// </summary>
public static class RandomSplitter
{
    /// <summary>
    /// Row counts per split that sum to <paramref name="n"/>: each split gets floor(n·f) and the rows left
    /// over go to the largest remainders (ties to the earlier split). 80/10/10 of 1,000 is 800/100/100.
    /// </summary>
    public static long[] ExactCounts(long n, IReadOnlyList<double> fractions)
    {
        var counts = new long[fractions.Count];
        var remainders = new decimal[fractions.Count];
        long assigned = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            // decimal keeps 0.1 · 1000 at exactly 100, where double gives 100.00000000000001.
            decimal exact = n * (decimal)fractions[i];
            counts[i] = (long)decimal.Floor(exact);
            remainders[i] = exact - counts[i];
            assigned += counts[i];
        }
        var order = Enumerable.Range(0, counts.Length).Where(i => fractions[i] > 0).OrderByDescending(i => remainders[i]).ThenBy(i => i).ToArray();
        for (int k = 0; assigned < n && order.Length > 0; k = (k + 1) % order.Length, assigned++) counts[order[k]]++;
        return counts;
    }

    /// <summary>Orders row positions by a keyed hash of their row ids; ties (practically never) by row id.</summary>
    public static int[] HashOrder(ReadOnlySpan<long> rowIds, KeyedHash hash)
    {
        var keys = new ulong[rowIds.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = hash.Hash(rowIds[i]);
        return HashOrder(rowIds, keys);
    }

    /// <summary>
    /// <see cref="HashOrder(ReadOnlySpan{long}, KeyedHash)"/> of rows already sorted into ranges of their hash: row i lies in
    /// range <paramref name="rangeOf"/>[i], the top <paramref name="bits"/> bits of <paramref name="hash"/> of its id (as
    /// the spilling split's pass 1 writes its files). The ranges in order, each in its own (hash, row id) order, are that
    /// order, so only one range's hash keys are held at once: about 4 bytes a row beside the order instead of about 20
    /// (every row's key, its sorted copy).
    /// </summary>
    internal static int[] HashOrderByRange(ReadOnlySpan<long> rowIds, ReadOnlySpan<ushort> rangeOf, int bits, KeyedHash hash)
    {
        if (rangeOf.Length != rowIds.Length) throw new ArgumentException("One range per row.", nameof(rangeOf));
        int ranges = 1 << bits;
        var starts = new int[ranges + 1];
        foreach (ushort r in rangeOf) starts[r + 1]++;
        int largest = 0;
        for (int r = 0; r < ranges; r++)
        {
            largest = Math.Max(largest, starts[r + 1]);
            starts[r + 1] += starts[r];
        }
        // The positions grouped by range (input order inside one), then each range put in hash order in place, through
        // buffers of the largest range's size used again for every range (no garbage per range for the GC to find late).
        var order = new int[rowIds.Length];
        var next = starts.AsSpan(0, ranges).ToArray();
        for (int i = 0; i < rangeOf.Length; i++) order[next[rangeOf[i]]++] = i;
        var positions = new int[largest];
        var ids = new long[largest];
        var keys = new ulong[largest];
        var local = new int[largest];
        var sorted = new ulong[largest];
        for (int r = 0; r < ranges; r++)
        {
            int from = starts[r], n = starts[r + 1] - from;
            if (n == 0) continue;
            order.AsSpan(from, n).CopyTo(positions);
            for (int j = 0; j < n; j++)
            {
                ids[j] = rowIds[positions[j]];
                ulong key = hash.Hash(ids[j]);
                if ((int)(key >> (64 - bits)) != r) throw new ArgumentException($"Row {positions[j]} is not in hash range {r}.", nameof(rangeOf));
                // The range's top bits are equal in every key: shifted out, the rest orders the range and spreads its buckets.
                keys[j] = key << bits;
            }
            HashOrder(ids.AsSpan(0, n), keys.AsSpan(0, n), local.AsSpan(0, n), sorted.AsSpan(0, n));
            for (int j = 0; j < n; j++) order[from + j] = positions[local[j]];
        }
        return order;
    }

    /// <summary>Orders row positions by their hashes (<paramref name="keys"/>, reordered in place); ties by row id.</summary>
    /// <remarks>
    /// Keyed hashes are uniform, so the rows are first placed in buckets by the top bits of their hash (one counting pass, one
    /// scatter: about two rows a bucket), then each bucket is sorted by (hash, row id): the same order as a comparison sort of
    /// the hashes with ties in row id order, at a fraction of its cost (no O(n log n) comparisons and swaps). A bucket that
    /// ends up large (not expected of a hash) is sorted by a comparison sort of its keys and positions.
    /// </remarks>
    internal static int[] HashOrder(ReadOnlySpan<long> rowIds, ulong[] keys)
    {
        var order = new int[keys.Length];
        var sorted = new ulong[keys.Length];
        HashOrder(rowIds, keys, order, sorted);
        sorted.CopyTo(keys, 0);
        return order;
    }

    /// <summary>
    /// Puts positions 0..n−1 of <paramref name="keys"/> into <paramref name="order"/> by (key, row id), and the keys in
    /// that order into <paramref name="sorted"/> (both of n).
    /// </summary>
    internal static void HashOrder(ReadOnlySpan<long> rowIds, ReadOnlySpan<ulong> keys, Span<int> order, Span<ulong> sorted)
    {
        int n = keys.Length;
        if (n < 2)
        {
            if (n == 1) (order[0], sorted[0]) = (0, keys[0]);
            return;
        }
        int bits = Math.Clamp(System.Numerics.BitOperations.Log2((uint)n), 1, 20);
        int shift = 64 - bits;
        var starts = new int[(1 << bits) + 1];
        foreach (ulong k in keys) starts[(int)(k >> shift) + 1]++;
        for (int b = 1; b < starts.Length; b++) starts[b] += starts[b - 1];
        var next = starts.AsSpan(0, starts.Length - 1).ToArray();
        for (int i = 0; i < n; i++)
        {
            int at = next[(int)(keys[i] >> shift)]++;
            sorted[at] = keys[i];
            order[at] = i;
        }
        for (int b = 0; b + 1 < starts.Length; b++)
        {
            int from = starts[b], to = starts[b + 1];
            if (to - from < 2) continue;
            if (to - from <= 32) InsertionSort(sorted, order, from, to, rowIds);
            else SortLarge(sorted, order, from, to, rowIds);
        }
    }

    /// <summary>Sorts positions <paramref name="from"/>..<paramref name="to"/> (exclusive) by (hash, row id).</summary>
    private static void InsertionSort(Span<ulong> keys, Span<int> order, int from, int to, ReadOnlySpan<long> rowIds)
    {
        for (int i = from + 1; i < to; i++)
        {
            ulong key = keys[i];
            int row = order[i];
            int j = i - 1;
            while (j >= from && (keys[j] > key || (keys[j] == key && rowIds[order[j]] > rowIds[row])))
            {
                keys[j + 1] = keys[j];
                order[j + 1] = order[j];
                j--;
            }
            keys[j + 1] = key;
            order[j + 1] = row;
        }
    }

    /// <summary>A large bucket: a comparison sort of its hashes, then equal hashes in row id order.</summary>
    private static void SortLarge(Span<ulong> keys, Span<int> order, int from, int to, ReadOnlySpan<long> rowIds)
    {
        keys[from..to].Sort(order[from..to]);
        // The sort is not stable: put equal hashes in row id order so the result is a pure function of ids.
        for (int i = from + 1; i < to; i++)
        {
            if (keys[i] != keys[i - 1]) continue;
            int start = i - 1;
            while (i < to && keys[i] == keys[start]) i++;
            var ids = rowIds.ToArray();
            order[start..i].Sort((a, b) => ids[a].CompareTo(ids[b]));
        }
    }

    /// <summary>Assigns each row a split: rows in hash order, cut at exact counts.</summary>
    public static SplitTag[] Assign(ReadOnlySpan<long> rowIds, IReadOnlyList<double> fractions, ulong seed)
    {
        var hash = new KeyedHash(seed, "split");
        var keys = new ulong[rowIds.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = hash.Hash(rowIds[i]);
        return AssignByHash(rowIds, keys, fractions);
    }

    /// <summary>Rows from which <see cref="RandomSplitAssigner"/> finds <see cref="Assign"/>'s tags by <see cref="AssignByCuts"/>.</summary>
    internal const int CutsFromRows = 1 << 20;

    /// <summary>
    /// <see cref="Assign"/>'s tags without sorting every row: the cuts from a histogram of the split hashes' top 16 bits and
    /// a pass that holds only the rows of each cut's bin (<see cref="RandomSplitCuts.Find"/>, the rule a scaled-out plan
    /// uses), then each row's tag from its hash and id. The same tags; memory: the tags, the histogram and a chunk of
    /// hashes, instead of about 20 bytes a row (every hash, its sorted copy, the order).
    /// </summary>
    internal static SplitTag[] AssignByCuts(long[] rowIds, IReadOnlyList<double> fractions, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(rowIds);
        if (rowIds.Length == 0) return [];
        var cuts = CutsOf(() => [new RowIdChunk(rowIds, default)], rowIds.Length, fractions, seed);
        var tags = new SplitTag[rowIds.Length];
        new RandomCutTagger(cuts, null, seed).Tag(rowIds, tags, default);
        return tags;
    }

    /// <summary>
    /// The cuts of <see cref="Assign"/> over the row ids that <paramref name="pass"/> streams (every id once per
    /// enumeration, <paramref name="rows"/> in all), found by <see cref="RandomSplitCuts.Find"/>: a histogram pass, then
    /// passes that hold only the rows of each cut's bin, 64K hashes at a time.
    /// </summary>
    internal static List<SplitCut> CutsOf(Func<IEnumerable<RowIdChunk>> pass, long rows, IReadOnlyList<double> fractions, ulong seed)
    {
        var hashed = new HashedRowIds(pass, new KeyedHash(seed, "split"));
        var (bins, counted) = RandomSplitCuts.Histogram(hashed.Pass());
        if (counted != rows) throw new InvalidOperationException($"The pass over the row ids gave {counted:N0} rows, not {rows:N0}.");
        return RandomSplitCuts.Find(counted, fractions, bins, hashed.Pass, maxHeld: HashedRowIds.Chunk);
    }

    /// <summary>
    /// The cut of <see cref="Assign"/> for given split hashes (<paramref name="hashes"/> is reordered): rows in (hash, row id)
    /// order, cut at exact counts. <see cref="RandomSplitCuts"/> finds the same cut without holding every row.
    /// </summary>
    internal static SplitTag[] AssignByHash(ReadOnlySpan<long> rowIds, ulong[] hashes, IReadOnlyList<double> fractions)
    {
        var parts = PartsByHash(rowIds, hashes, fractions);
        var tags = new SplitTag[parts.Length];
        for (int i = 0; i < tags.Length; i++) tags[i] = (SplitTag)parts[i];
        return tags;
    }

    /// <summary>
    /// The part (0 … fractions − 1) of each row when the rows in (hash, row id) order are cut at exact counts: the cut of
    /// <see cref="AssignByHash"/> (splits) and of random folds (any number of parts). <paramref name="hashes"/> is reordered.
    /// </summary>
    internal static int[] PartsByHash(ReadOnlySpan<long> rowIds, ulong[] hashes, IReadOnlyList<double> fractions)
        => PartsByCounts(rowIds, hashes, ExactCounts(rowIds.Length, fractions));

    /// <summary>
    /// The part of each row when the rows in (hash, row id) order are cut into contiguous blocks of
    /// <paramref name="counts"/> rows (summing to the rows), part after part. <paramref name="hashes"/> is reordered.
    /// </summary>
    internal static int[] PartsByCounts(ReadOnlySpan<long> rowIds, ulong[] hashes, IReadOnlyList<long> counts)
    {
        var parts = new int[rowIds.Length];
        var order = HashOrder(rowIds, hashes);
        int at = 0;
        for (int s = 0; s < counts.Count; s++)
        {
            for (long k = 0; k < counts[s]; k++) parts[order[at++]] = s;
        }
        return parts;
    }

    /// <summary>
    /// Stratified: the same cut per stratum (label class), so each class's count per split is within one
    /// row of its share. <paramref name="strata"/> holds a stratum number per row.
    /// </summary>
    public static SplitTag[] AssignStratified(ReadOnlySpan<long> rowIds, ReadOnlySpan<int> strata, IReadOnlyList<double> fractions, ulong seed)
    {
        var tags = new SplitTag[rowIds.Length];
        var byStratum = new Dictionary<int, List<int>>();
        for (int i = 0; i < strata.Length; i++)
        {
            if (!byStratum.TryGetValue(strata[i], out var list)) byStratum[strata[i]] = list = [];
            list.Add(i);
        }
        var hash = new KeyedHash(seed, "split");
        // Rotate which split gets a stratum's leftover row, so small strata do not all favour train.
        foreach (var (_, rows) in byStratum.OrderBy(kv => kv.Key))
        {
            var ids = new long[rows.Count];
            for (int k = 0; k < ids.Length; k++) ids[k] = rowIds[rows[k]];
            var order = HashOrder(ids, hash);
            var counts = ExactCounts(rows.Count, fractions);
            int at = 0;
            for (int s = 0; s < counts.Length; s++)
            {
                for (long k = 0; k < counts[s]; k++) tags[rows[order[at++]]] = (SplitTag)s;
            }
        }
        return tags;
    }
}
