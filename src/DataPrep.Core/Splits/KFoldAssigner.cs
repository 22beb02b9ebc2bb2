using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>How rows are dealt into folds.</summary>
public enum FoldMethod
{
    /// <summary>
    /// Exact equal fold sizes: the rows in (hash(seed, "fold", row id), row id) order, cut into K contiguous blocks
    /// (<see cref="RandomSplitter.PartsByHash"/>), so a plan can find the folds from cuts without holding every row.
    /// </summary>
    Random,
    /// <summary>
    /// Each class's rows in (hash(seed, "fold", row id), row id) order cut into K contiguous blocks of exact counts
    /// (<see cref="KFoldAssigner.StratifiedFoldCounts"/>): every class within one row of equal shares, and the fold sizes
    /// those of random folds, so a plan finds the folds from cuts per class without holding every row.
    /// </summary>
    Stratified,
    /// <summary>
    /// Whole groups, balanced by rows (largest first fits into the smallest fold). Over more than 2^20 groups
    /// (<see cref="KFoldAssigner.UsesFoldRanges"/>), the pool's groups in (hash(seed, "fold", key), key) order cut into K
    /// ranges by rows (<see cref="GroupRangeWalk"/>), which a plan finds without holding every group.
    /// </summary>
    Group,
    /// <summary>Contiguous time blocks, oldest first; fold k trains on folds 0…k−1 only (forward chaining).</summary>
    Time,
}

/// <summary>
/// k-fold cross-validation: an optional held-out test split is carved off first by <paramref name="testCarver"/>
/// (random, stratified, group or time, as the split method says); the remaining rows get a fold tag
/// 0…K−1. Each fold is written once (<c>fold-k/</c>); ManifestFiles under <c>_dataprep/</c> name each
/// fold's training set, so there are no K copies of the data. Every row is in exactly one fold or in test.
/// </summary>
/// <param name="k">The number of folds (≥ 2).</param>
/// <param name="method">How rows are dealt into folds.</param>
/// <param name="seed">The seed.</param>
/// <param name="testCarver">Carves the held-out test split (tags Train/Test), or null for no test split.</param>
/// <param name="column">The stratum, group or time column for the fold method.</param>
public sealed class KFoldAssigner(int k, FoldMethod method, ulong seed, ISplitAssigner? testCarver, string? column) : IRowIdAssigner, IRowTimeAssigner, IRowGroupAssigner
{
    private int _column = -1;

    /// <summary>The number of folds.</summary>
    internal int K => k;

    /// <summary>How rows are dealt into folds.</summary>
    internal FoldMethod Method => method;

    /// <summary>What carves the held-out test split off first, or null when there is none.</summary>
    internal ISplitAssigner? TestCarver => testCarver;

    /// <summary>
    /// The most groups whose folds are dealt largest first (<see cref="GroupFolds"/>) when there is no test split (with a
    /// group test split, its own <see cref="GroupSplitAssigner.ExactGroups"/>); beyond, the folds are hash ranges
    /// (<see cref="UsesFoldRanges"/>). <see cref="GroupSplitAssigner.DefaultExactGroups"/>; tests lower it.
    /// </summary>
    internal int ExactGroups { get; init; } = GroupSplitAssigner.DefaultExactGroups;

    /// <summary>
    /// Whether group folds are cut by hash ranges (<see cref="GroupFoldRanges"/>) rather than dealt largest first: when the
    /// input holds more than <see cref="ExactGroups"/> groups and there is no test split, or when the test split is an
    /// unstratified group split that itself cuts by hash ranges (more than its <see cref="GroupSplitAssigner.ExactGroups"/>
    /// groups). So a scaled-out plan that cuts the test split without a table of every group cuts the folds without one
    /// too. A stratified group test split, or another carver, keeps the largest-first deal whatever the groups.
    /// </summary>
    /// <param name="inputGroups">The groups of the whole input (train and test).</param>
    /// <seealso cref="MayUseFoldRanges"/>
    internal bool UsesFoldRanges(long inputGroups) => method == FoldMethod.Group && testCarver switch
    {
        null => inputGroups > ExactGroups,
        GroupSplitAssigner { Stratify: null } carver => inputGroups > carver.ExactGroups,
        _ => false,
    };

    /// <summary>Whether some count of groups makes these folds hash ranges (<see cref="UsesFoldRanges"/>): group folds after an unstratified group test split, or none.</summary>
    internal bool MayUseFoldRanges => UsesFoldRanges(long.MaxValue);

    /// <summary>
    /// Group folds over many groups: the groups of <paramref name="table"/> (the pool's: each key with its pool rows) in
    /// order of (hash(seed, "fold", key), ordinal key) cut into K ranges by rows (<see cref="GroupRangeWalk"/> with K equal
    /// fractions), each fold within the largest group's rows of its exact count. Returns each group's fold and the walk.
    /// </summary>
    internal static (short[] Folds, GroupRangeWalk Walk) GroupFoldRanges(GroupTable table, int k, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(table);
        var walk = new GroupRangeWalk(table.TotalRows, FoldFractions(k));
        var hash = new KeyedHash(seed, "fold");
        var keys = table.KeySet;
        var rows = table.RowsArray;
        var folds = new short[table.Count];
        foreach (int g in keys.HashOrder(hash)) folds[g] = (short)walk.Add(keys.HashOf(g, hash), keys.KeyBytes(g), rows[g]);
        return (folds, walk);
    }

    /// <summary>The fractions of K equal folds (exact counts: the first n mod K folds get one row more).</summary>
    internal static double[] FoldFractions(int k) => Enumerable.Repeat(1.0 / k, k).ToArray();

    /// <summary>
    /// The rows of each class in each fold of stratified folds, for the classes' pool rows <paramref name="classRows"/>
    /// (in sorted class order): class c's n rows give each fold ⌊n / K⌋ rows and r = n mod K of them one more, the r folds
    /// from the class's offset on (cyclically), and the next class's offset is this one's plus r (mod K), the first's 0.
    /// </summary>
    /// <remarks>
    /// <para>Guarantees. Every class is within one row of equal shares in every fold (⌊n / K⌋ or ⌈n / K⌉ rows). The fold
    /// sizes are exact: fold f holds ⌊N / K⌋ rows, one more when f &lt; N mod K (N the pool's rows), the counts of
    /// <see cref="RandomSplitter.ExactCounts"/> with K equal fractions, as random folds have.</para>
    /// <para>Proof of the sizes. With R = Σ r_c and Q = Σ ⌊n_c / K⌋, N = QK + R. Class c's extra rows go to the folds
    /// o_c, o_c + 1, …, o_c + r_c − 1 (mod K) with o_0 = 0 and o_(c+1) = o_c + r_c: taken in class order, the extra rows
    /// are dealt to folds 0, 1, 2, … cyclically, R of them, so fold f gets ⌊R / K⌋ extra rows, one more when
    /// f &lt; R mod K. Fold f holds Q + ⌊R / K⌋ + [f &lt; R mod K] = ⌊N / K⌋ + [f &lt; N mod K] rows, since
    /// N / K = Q + R / K. (These are the counts of the round-robin deal this replaced, class by class: only which of a
    /// class's rows share a fold changed.)</para>
    /// </remarks>
    internal static long[][] StratifiedFoldCounts(IReadOnlyList<long> classRows, int k)
    {
        var counts = new long[classRows.Count][];
        long offset = 0;
        for (int c = 0; c < counts.Length; c++)
        {
            long n = classRows[c], each = n / k, extra = n % k;
            counts[c] = new long[k];
            for (int f = 0; f < k; f++) counts[c][f] = each + (((f - offset) % k + k) % k < extra ? 1 : 0);
            offset = (offset + extra) % k;
        }
        return counts;
    }

    /// <summary>
    /// Group folds' rule, over the pool's group table alone (each group key with its pool rows): the groups
    /// <paramref name="pool"/> of <paramref name="table"/> in order of (rows descending, hash(seed, "fold", key), ordinal
    /// key), each to the fold with the fewest rows so far (the lowest index on ties). Returns each pool group's fold, in
    /// the order of <paramref name="pool"/>. One process decides from the table of its pool rows; a scaled-out plan from the
    /// table it builds over the scan tasks' key columns (<c>PlanKind.GroupFolds</c>), its train groups. The result depends
    /// only on the seed, K and the (key, rows) pairs, never on the order they come in.
    /// </summary>
    internal static short[] GroupFolds(GroupTable table, int[] pool, int k, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(pool);
        var hash = new KeyedHash(seed, "fold");
        var keys = table.KeySet;
        var rows = table.RowsArray;
        int m = pool.Length;
        var hashes = new ulong[m];
        var order = new int[m];
        for (int j = 0; j < m; j++) { hashes[j] = keys.HashOf(pool[j], hash); order[j] = j; }
        Array.Sort(order, (a, b) => rows[pool[a]] != rows[pool[b]] ? rows[pool[b]].CompareTo(rows[pool[a]])
            : hashes[a] != hashes[b] ? hashes[a].CompareTo(hashes[b])
            : keys.Compare(pool[a], pool[b]));
        var sizes = new long[k];
        var folds = new short[m];
        foreach (int j in order)
        {
            int f = 0;
            for (int i = 1; i < k; i++) if (sizes[i] < sizes[f]) f = i;
            sizes[f] += rows[pool[j]];
            folds[j] = (short)f;
        }
        return folds;
    }

    /// <summary>The time by which time folds order row <paramref name="row"/> of <paramref name="column"/> (a missing time first).</summary>
    internal static long FoldTimeOf(Column column, int row) => column.IsNull(row) ? long.MinValue : column switch
    {
        TimestampColumn t => t.Values[row],
        Int64Column l => l.Values[row],
        Float64Column d => (long)d.Values[row],
        _ => 0,
    };

    /// <summary>
    /// The fold of a time under time folds' cuts (<see cref="TimeFoldCut"/>): the last fold whose start the time reaches
    /// (fold 0 when none). Time folds give a row the fold of the first row of its time in time order, so a row's fold
    /// follows from its time alone.
    /// </summary>
    internal static short FoldOfTime(IReadOnlyList<TimeFoldCut> cuts, long time)
    {
        int fold = 0;
        foreach (var c in cuts)
        {
            if (time > c.Time || (time == c.Time && !c.After)) fold = Math.Max(fold, c.Fold);
        }
        return (short)fold;
    }

    /// <inheritdoc />
    public string Describe() => $"{k}-fold {method.ToString().ToLowerInvariant()}{(column is null ? "" : $" by {column}")}" + (testCarver is null ? "" : $" after {testCarver.Describe()}");

    /// <inheritdoc />
    public IReadOnlyCollection<int>? KeyColumns => testCarver is not null && testCarver.KeyColumns is null ? null
        : (testCarver?.KeyColumns ?? []).Append(_column).Where(i => i >= 0).Distinct().ToArray();

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        if (k < 2) throw new PipelineValidationException($"--folds {k}: expected at least 2 folds.");
        testCarver?.Bind(input);
        if (method == FoldMethod.Random) return;
        _column = column is null ? -1 : input.IndexOf(column);
        if (_column < 0) throw new PipelineValidationException($"{method.ToString().ToLowerInvariant()} folds need a column: '{column}' is not one of the input's columns ({string.Join(", ", input.Fields.Select(f => f.Name))}).");
    }

    /// <summary>
    /// Random folds with no test split or a random one, and stratified folds with no test split or a random one
    /// stratified by the same column (or not at all): each row's test tag and fold follow from its id and class.
    /// </summary>
    bool IRowIdAssigner.TagsFromRowIds => method switch
    {
        // (A carver whose classes are not a column's keys, such as noisy/clean sides, would need its own ClassKeys.)
        FoldMethod.Random => testCarver is null || testCarver is IRowIdAssigner { TagsFromRowIds: true } c && c.HasClasses == c.ClassColumn >= 0,
        FoldMethod.Stratified => _column >= 0 && (testCarver is null || testCarver is IRowIdAssigner { TagsFromRowIds: true } c && (c.ClassColumn < 0 || c.ClassColumn == _column)),
        _ => false,
    };

    /// <summary>Stratified folds' column, or a stratified test split's.</summary>
    int IRowIdAssigner.ClassColumn => method == FoldMethod.Stratified ? _column : (testCarver as IRowIdAssigner)?.ClassColumn ?? -1;

    /// <summary>
    /// The test split's tagger (none: every row is in the pool), then the folds' cuts over the pool rows' fold hashes
    /// (<see cref="RandomSplitCuts.Find"/> at K equal fractions: <see cref="RandomSplitter.PartsByHash"/>'s cut, which
    /// <see cref="Assign"/> makes), from one more pass for the histogram and as few as the cuts need.
    /// </summary>
    IRowIdTagger IRowIdAssigner.ForRowIds(Func<IEnumerable<RowIdChunk>> pass, long rows, IReadOnlyList<long>? classRows, IReadOnlyList<string>? classKeys, long maxBytes, RunContext context)
    {
        if (method == FoldMethod.Stratified) return StratifiedFoldsForRowIds(pass, rows, classRows, classKeys, maxBytes, context);
        if (method != FoldMethod.Random) throw new InvalidOperationException($"{method} folds read their column; their folds do not follow from row ids alone.");
        var carver = testCarver is null ? null : ((IRowIdAssigner)testCarver).ForRowIds(pass, rows, classRows, classKeys, maxBytes, context);
        // The pool's rows (train after the test split, every row without one) with their fold hashes.
        var pool = new HashedRowIds(pass, new KeyedHash(seed, "fold"), pool: carver);
        var (bins, poolRows) = RandomSplitCuts.Histogram(pool.Pass());
        List<SplitCut> foldCuts = poolRows == 0 ? [] : RandomSplitCuts.Find(poolRows, FoldFractions(k), bins, pool.Pass, maxHeld: HashedRowIds.Chunk);
        return new FoldCutTagger(carver, foldCuts, null, null, seed);
    }

    /// <summary>
    /// Stratified folds by cuts: the test split's tagger, then each class's pool rows cut into the blocks of
    /// <see cref="StratifiedFoldCounts"/> (classes in sorted key order, as <see cref="Assign"/> numbers them) by
    /// <see cref="RandomSplitCuts.FindBlocks"/> over the fold hashes: <see cref="RandomSplitter.PartsByCounts"/>'s cut per
    /// class, the rule the scaled-out plan uses for stratified folds.
    /// </summary>
    private IRowIdTagger StratifiedFoldsForRowIds(Func<IEnumerable<RowIdChunk>> pass, long rows, IReadOnlyList<long>? classRows, IReadOnlyList<string>? classKeys, long maxBytes, RunContext context)
    {
        if (classRows is null || classKeys is null || classKeys.Count != classRows.Count) throw new ArgumentException("Stratified folds need every class's key and rows.", nameof(classKeys));
        var carver = testCarver is null ? null : ((IRowIdAssigner)testCarver).ForRowIds(pass, rows, classRows, classKeys, maxBytes, context);
        // Each class number's index in sorted key order.
        var sorted = new int[classKeys.Count];
        var byKey = Enumerable.Range(0, classKeys.Count).OrderBy(c => classKeys[c], StringComparer.Ordinal).ToArray();
        for (int i = 0; i < byKey.Length; i++) sorted[byKey[i]] = i;
        // The pool's rows (train after the test split) with their fold hashes and sorted class indexes.
        var pool = new HashedRowIds(pass, new KeyedHash(seed, "fold"), strata: true, classOrder: sorted, pool: carver);
        var poolRows = new long[classKeys.Count];
        foreach (var b in pool.Pass())
        {
            for (int r = 0; r < b.Count; r++) poolRows[b.Strata![r]]++;
        }
        var foldCuts = RandomSplitCuts.FindBlocks(StratifiedFoldCounts(poolRows, k), pool.Pass, maxHeld: HashedRowIds.Chunk, maxBytes);
        return new FoldCutTagger(carver, null, foldCuts, sorted, seed);
    }

    /// <summary>
    /// Folds by cuts: the test split's tags (or all train), each train row's fold from the folds' cuts — one set
    /// (<paramref name="foldCuts"/>: random folds) or one per class (<paramref name="classFoldCuts"/> by sorted class index,
    /// <paramref name="sorted"/> by class number: stratified folds).
    /// </summary>
    private sealed class FoldCutTagger(IRowIdTagger? carver, List<SplitCut>? foldCuts, List<SplitCut>[]? classFoldCuts, int[]? sorted, ulong seed) : IRowIdTagger
    {
        private readonly KeyedHash _fold = new(seed, "fold");

        public bool HasFolds => true;

        public void Tag(ReadOnlySpan<long> ids, ReadOnlySpan<int> classes, Span<SplitTag> tags, Span<short> folds)
        {
            if (carver is null) tags[..ids.Length].Fill(SplitTag.Train);
            else carver.Tag(ids, classes, tags, default);
            for (int i = 0; i < ids.Length; i++)
            {
                if (tags[i] != SplitTag.Train) { folds[i] = -1; continue; }
                var cuts = foldCuts ?? classFoldCuts![sorted![classes[i]]];
                folds[i] = (short)RandomSplitCuts.PartOf(cuts, _fold.Hash(ids[i]), ids[i]);
            }
        }
    }

    /// <summary>Time folds with no test split or a time split by the same column: each row's tag and fold follow from its times.</summary>
    bool IRowTimeAssigner.TagsFromTimes => method == FoldMethod.Time && _column >= 0
        && (testCarver is null || (testCarver is TimeSplitAssigner carver && ((IRowTimeAssigner)carver).TimeIndex == _column));

    /// <summary>The folds' time column (the test split's too).</summary>
    int IRowTimeAssigner.TimeIndex => _column;

    /// <summary>The split stage's order, as for other folds.</summary>
    bool IRowTimeAssigner.InTimeOrder => false;

    /// <summary>The fold times, and the ticks the time test split cuts by, if any.</summary>
    RowIdParts IRowTimeAssigner.TimeParts => testCarver is null ? RowIdParts.FoldTimes : RowIdParts.Times | RowIdParts.FoldTimes;

    /// <summary><see cref="Assign"/>'s cut of time folds over a spilled run's times: the test split's, then the folds'.</summary>
    ITimeCutter IRowTimeAssigner.Cutter(RunContext context)
    {
        if (!((IRowTimeAssigner)this).TagsFromTimes) throw new InvalidOperationException($"{Describe()}: only time folds (after a time test split, if any) are cut from times.");
        return new SpilledFoldCut(k, (testCarver as IRowTimeAssigner)?.Cutter(context), context);
    }

    /// <summary>
    /// Time folds' cut without holding the times: the test split's cut (its errors, report and warnings, as
    /// <see cref="TimeSplitAssigner"/>'s own spilled cut gives them), then the folds' starts over the rows left in train
    /// (<see cref="TimeSplitCuts.FindFolds"/>).
    /// </summary>
    private sealed class SpilledFoldCut(int k, ITimeCutter? carver, RunContext context) : ITimeCutter
    {
        public void Refused(Column column, int row, RowInfo rows)
            => (carver ?? throw new InvalidOperationException("Time folds without a test split refuse no time.")).Refused(column, row, rows);

        public TimeTagger Cut(long rows, long[] histogram, Func<IEnumerable<TimedRows>> pass, long maxHeld)
        {
            var cuts = carver?.Cut(rows, histogram, pass, maxHeld).Cuts;
            var foldCuts = TimeSplitCuts.FindFolds(k, cuts, pass, maxHeld);
            context.ForwardChainingFolds = true;
            return new TimeTagger(cuts, foldCuts);
        }
    }

    /// <summary>Group folds with no test split or a group split by the same column: each row's tag and fold follow from its group.</summary>
    bool IRowGroupAssigner.TagsFromGroups => method == FoldMethod.Group && _column >= 0
        && (testCarver is null || (testCarver is GroupSplitAssigner carver && carver.GroupIndex == _column));

    /// <summary>The test split's table, or one of groups alone.</summary>
    GroupTable IRowGroupAssigner.NewTable() => (testCarver as IRowGroupAssigner)?.NewTable() ?? new GroupTable(stratified: false);

    /// <summary>
    /// A row's unit is its group: as the test split counts it (a missing key refused), or without one as <see cref="Assign"/>
    /// counts the pool (a missing key is a group of its own).
    /// </summary>
    int IRowGroupAssigner.Count(RecordBatch batch, GroupTable table, Span<int> units)
        => testCarver is IRowGroupAssigner carver ? carver.Count(batch, table, units)
            : table.Add(batch.Columns[_column], null, batch.RowCount, missingIsGroup: true, numbers: units);

    /// <summary>The test split's error.</summary>
    DataFormatException IRowGroupAssigner.Refused(string? file, long row)
        => (testCarver as IRowGroupAssigner ?? throw new InvalidOperationException("Group folds without a test split refuse no row.")).Refused(file, row);

    /// <summary>
    /// <see cref="Assign"/>'s group folds from the table of every row: the test split's tags (and report), then the folds of
    /// the groups left in train — dealt by <see cref="GroupFolds"/>, or cut by <see cref="GroupFoldRanges"/> over a table of
    /// those groups alone, as <see cref="UsesFoldRanges"/> says for the input's groups.
    /// </summary>
    UnitTags IRowGroupAssigner.TagUnits(GroupTable table, RunContext context)
    {
        var tags = testCarver is IRowGroupAssigner carver ? carver.TagUnits(table, context).Tags : new SplitTag[table.Count];
        var pool = Enumerable.Range(0, table.Count).Where(g => tags[g] == SplitTag.Train).ToArray();
        short[] poolFolds;
        if (UsesFoldRanges(table.Count))
        {
            var poolTable = table;
            if (pool.Length < table.Count)
            {
                poolTable = new GroupTable(stratified: false);
                foreach (int g in pool) poolTable.Add(table.KeyOf(g), null, table.RowsArray[g]);
            }
            poolFolds = GroupFoldRanges(poolTable, k, seed).Folds;
        }
        else
        {
            poolFolds = GroupFolds(table, pool, k, seed);
        }
        var folds = new short[table.Count];
        Array.Fill(folds, (short)-1);
        for (int j = 0; j < pool.Length; j++) folds[pool[j]] = poolFolds[j];
        context.ForwardChainingFolds = false;
        return new UnitTags(tags, folds);
    }

    /// <summary>Past how many groups <see cref="UsesFoldRanges"/> holds: the folds (and an unstratified group test split) are cut by hash ranges.</summary>
    int IRowGroupAssigner.RangeGroups => method != FoldMethod.Group ? int.MaxValue : testCarver switch
    {
        null => ExactGroups,
        GroupSplitAssigner { Stratify: null } carver => carver.ExactGroups,
        _ => int.MaxValue,
    };

    /// <summary>The test split's hash of a row's key (if any), and the fold hash.</summary>
    (KeyedHash? Split, KeyedHash? Fold) IRowGroupAssigner.RangeHashes
        => ((testCarver as IRowGroupAssigner)?.RangeHashes.Split, new KeyedHash(seed, "fold"));

    /// <summary>Each row's key as the test split keys it, or without one as <see cref="Assign"/> counts the pool (a missing key a group of its own).</summary>
    int IRowGroupAssigner.Keys(RecordBatch batch, Span<string> keys)
    {
        if (testCarver is IRowGroupAssigner carver) return carver.Keys(batch, keys);
        var column = batch.Columns[_column];
        for (int i = 0; i < batch.RowCount; i++) keys[i] = RandomSplitAssigner.KeyOf(column, i);
        return -1;
    }

    /// <summary>
    /// <see cref="GroupFoldRanges"/> over the runs: the test split's ranges first (and its report), then the fold ranges over
    /// the runs of the groups it leaves in train (the scaled-out plan's walks).
    /// </summary>
    GroupRangeCuts IRowGroupAssigner.CutRanges(Func<IEnumerable<(ReadOnlyMemory<byte> Key, long Rows)>> runs, long rows, SpillFolder folder, int partitionGroups, RunContext context, CancellationToken cancellationToken)
    {
        List<GroupCut>? splitCuts = null;
        long poolRows = rows;
        var pool = runs;
        if (testCarver is IRowGroupAssigner carver)
        {
            var split = carver.CutRanges(runs, rows, folder, partitionGroups, context, cancellationToken);
            (splitCuts, poolRows) = (split.Split!, split.TrainRows);
            var splitHash = carver.RangeHashes.Split ?? throw new InvalidOperationException("A test split cut by ranges has no split hash.");
            // The split's cuts are hash cuts (no cut's group shares its hash with a neighbour), so a key's hash decides.
            pool = () => runs().Where(r => GroupCut.PartOfHash(splitCuts, GroupKeySet.HashOf(r.Key.Span, splitHash)) == (int)SplitTag.Train);
        }
        var folds = GroupRangeWalk.PlanEncoded(pool(), poolRows, FoldFractions(k), seed, folder, partitionGroups, "fold", cancellationToken).HashCuts();
        context.ForwardChainingFolds = false;
        return new GroupRangeCuts(splitCuts, folds, poolRows);
    }

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var tags = testCarver?.Assign(input, context).Tags ?? new SplitTag[input.Count];
        var pool = Enumerable.Range(0, input.Count).Where(i => tags[i] == SplitTag.Train).ToArray();
        var folds = new short[input.Count];
        Array.Fill(folds, (short)-1);
        var hash = new KeyedHash(seed, "fold");
        var poolIds = pool.Select(i => input.RowIds[i]).ToArray();
        switch (method)
        {
            case FoldMethod.Random:
            {
                var hashes = new ulong[poolIds.Length];
                for (int j = 0; j < hashes.Length; j++) hashes[j] = hash.Hash(poolIds[j]);
                var parts = RandomSplitter.PartsByHash(poolIds, hashes, FoldFractions(k));
                for (int j = 0; j < parts.Length; j++) folds[pool[j]] = (short)parts[j];
                break;
            }
            case FoldMethod.Stratified:
            {
                // Each class's pool rows in fold-hash order, cut into contiguous blocks (StratifiedFoldCounts).
                var strata = RandomSplitAssigner.StratumIds(input.Column(_column));
                int classes = strata.Length == 0 ? 0 : strata.Max() + 1;
                var members = new List<int>[classes];
                for (int c = 0; c < classes; c++) members[c] = [];
                foreach (int i in pool) members[strata[i]].Add(i);
                var counts = StratifiedFoldCounts(members.Select(m => (long)m.Count).ToArray(), k);
                for (int c = 0; c < classes; c++)
                {
                    var ids = members[c].Select(i => input.RowIds[i]).ToArray();
                    var hashes = new ulong[ids.Length];
                    for (int j = 0; j < hashes.Length; j++) hashes[j] = hash.Hash(ids[j]);
                    var parts = RandomSplitter.PartsByCounts(ids, hashes, counts[c]);
                    for (int j = 0; j < parts.Length; j++) folds[members[c][j]] = (short)parts[j];
                }
                break;
            }
            case FoldMethod.Group:
            {
                // The pool's group table (missing keys share one group, RandomSplitAssigner.KeyOf), decided by GroupFolds.
                var col = input.Column(_column);
                var table = new GroupTable(stratified: false);
                var rowGroup = new int[pool.Length];
                for (int j = 0; j < pool.Length; j++) rowGroup[j] = table.Add(RandomSplitAssigner.KeyOf(col, pool[j]), null);
                // The input's groups: the pool's, and (a group test split keeps groups whole) those of the other rows.
                long inputGroups = table.Count;
                if (testCarver is GroupSplitAssigner { Stratify: null })
                {
                    var others = new HashSet<string>(StringComparer.Ordinal);
                    for (int i = 0; i < tags.Length; i++) if (tags[i] != SplitTag.Train) others.Add(RandomSplitAssigner.KeyOf(col, i));
                    inputGroups += others.Count;
                }
                var groupFolds = UsesFoldRanges(inputGroups) ? GroupFoldRanges(table, k, seed).Folds
                    : GroupFolds(table, [.. Enumerable.Range(0, table.Count)], k, seed);
                for (int j = 0; j < pool.Length; j++) folds[pool[j]] = groupFolds[rowGroup[j]];
                context.ForwardChainingFolds = false;
                break;
            }
            case FoldMethod.Time:
            {
                var col = input.Column(_column);
                var times = pool.Select(i => FoldTimeOf(col, i)).ToArray();
                var order = Enumerable.Range(0, pool.Length).OrderBy(j => times[j]).ThenBy(j => j).ToArray();
                var counts = RandomSplitter.ExactCounts(pool.Length, FoldFractions(k));
                int at = 0;
                for (int f = 0; f < k; f++)
                {
                    for (long c = 0; c < counts[f]; c++) folds[pool[order[at++]]] = (short)f;
                }
                // Rows sharing a timestamp across a fold boundary go to the earlier fold, so folds do not overlap in time.
                for (int j = 1; j < order.Length; j++)
                {
                    if (times[order[j]] == times[order[j - 1]]) folds[pool[order[j]]] = folds[pool[order[j - 1]]];
                }
                context.ForwardChainingFolds = true;
                break;
            }
        }
        return new SplitAssignment(tags, Folds: folds);
    }
}
