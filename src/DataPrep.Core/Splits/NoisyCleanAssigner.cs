using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Noisy/clean partitioning (DESIGN §3.4): train holds only clean rows and test only noisy rows. Rows are
/// marked noisy by a column (true, 1, yes or "noisy") or by coming from inputs given as noisy. With a group
/// key the unit of assignment is the group, so no speaker crosses splits, clean or noisy: in approach 2 a
/// speaker with both clean and noisy rows goes wholly to validation; in approach 1 (where validation and
/// test are noisy only) such a speaker keeps the side where it has more rows and the other side's rows are
/// dropped and counted.
/// </summary>
/// <param name="approach">Approach 1 or 2.</param>
/// <param name="cleanFractions">Approach 2: train/validation shares of the clean rows (the test share must be 0).</param>
/// <param name="noisyValidation">The share of noisy rows that goes to validation; the rest is test.</param>
/// <param name="seed">The seed.</param>
/// <param name="noisyColumn">The column that marks noisy rows, or null when <paramref name="noisySources"/> does.</param>
/// <param name="noisySources">Source indexes (input order) whose rows are noisy.</param>
/// <param name="groupColumn">An optional group key column.</param>
public sealed class NoisyCleanAssigner(NoisyApproach approach, IReadOnlyList<double> cleanFractions, double noisyValidation, ulong seed,
    string? noisyColumn, IReadOnlySet<int>? noisySources, string? groupColumn = null) : IRowGroupAssigner, IRowIdAssigner
{
    private int _noisyIndex = -1;
    private int _groupIndex = -1;

    /// <inheritdoc />
    public string Describe() => $"split noisy/clean approach {(int)approach}, noisy {noisyValidation:0.##} validation / {1 - noisyValidation:0.##} test"
        + (groupColumn is null ? "" : $", by group {groupColumn}") + $", seed {seed}";

    /// <inheritdoc />
    public IReadOnlyCollection<int>? KeyColumns => new[] { _noisyIndex, _groupIndex }.Where(i => i >= 0).ToArray();

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        var problems = new List<string>();
        if (noisyColumn is not null)
        {
            _noisyIndex = input.IndexOf(noisyColumn);
            if (_noisyIndex < 0) problems.Add($"--noisy-column names '{noisyColumn}', which the input does not have (its columns: {string.Join(", ", input.Fields.Select(f => f.Name))}).");
            else if (input[_noisyIndex].Kind is not (ColumnKind.Boolean or ColumnKind.Int64 or ColumnKind.String)) problems.Add($"--noisy-column '{noisyColumn}' is {input[_noisyIndex].Kind}; expected booleans (true = noisy), 0/1, or the text clean/noisy.");
        }
        else if (noisySources is null || noisySources.Count == 0)
        {
            problems.Add("A noisy/clean split needs to know which rows are noisy: --noisy FILE… (noisy inputs) or --noisy-column COLUMN.");
        }
        if (groupColumn is not null)
        {
            _groupIndex = input.IndexOf(groupColumn);
            if (_groupIndex < 0) problems.Add($"--group names '{groupColumn}', which the input does not have.");
        }
        if (noisyValidation is < 0 or > 1) problems.Add($"--noisy-validation {noisyValidation} is not a fraction between 0 and 1.");
        if (approach == NoisyApproach.MixedValidation && cleanFractions[2] > 0) problems.Add("Approach 2 splits clean rows into train and validation only: give --fractions as train/validation, e.g. 90/10 (test is noisy only).");
        if (problems.Count > 0) throw new PipelineValidationException(problems);
    }

    /// <summary>The group key column, or null (each row its own unit).</summary>
    public string? GroupColumn => groupColumn;

    /// <summary>The class key a <see cref="GroupTable"/> counts a group's clean rows under (its noisy rows: <see cref="NoisyKey"/>).</summary>
    public const string CleanKey = "clean";

    /// <summary>See <see cref="CleanKey"/>.</summary>
    public const string NoisyKey = "noisy";

    /// <summary>
    /// Whether each row is noisy: by the noisy column, or by the input it came from. A row without a value in the noisy
    /// column is an error (exit 3) naming its file, row and column.
    /// </summary>
    public bool[] NoisyRows(SplitInput input, RunContext context) => NoisyRowsOrMissing(input, context, null);

    /// <summary>
    /// <see cref="NoisyRows"/>, but a row without a value in the noisy column is marked in
    /// <paramref name="missing"/> (when given; one flag a row) instead of stopping the run, and counts as clean. A scan task
    /// uses this: which row one process names in its error is known only over every task's rows, in input order.
    /// </summary>
    public bool[] NoisyRowsOrMissing(SplitInput input, RunContext context, bool[]? missing)
    {
        ArgumentNullException.ThrowIfNull(input);
        int n = input.Count;
        var noisy = new bool[n];
        var noisyCol = _noisyIndex >= 0 ? input.Column(_noisyIndex) : null;
        for (int i = 0; i < n; i++)
        {
            if (noisyCol is null) { noisy[i] = noisySources!.Contains(input.Origin(i).Source); continue; }
            if (noisyCol.IsNull(i))
            {
                if (missing is not null) { missing[i] = true; continue; }
                var (source, row) = input.Origin(i);
                throw Refused(source < context.Inputs.Count ? context.Inputs[source] : null, row);
            }
            noisy[i] = IsNoisy(noisyCol, i);
        }
        return noisy;
    }

    /// <summary>Whether row <paramref name="i"/> of <paramref name="batch"/> is noisy: by <paramref name="noisyColumn"/> (the batch's noisy column, holding a value there), or without one by its input.</summary>
    private bool IsNoisy(RecordBatch batch, Column? noisyColumn, int i) => noisyColumn is null ? noisySources!.Contains(batch.Rows.Sources[i]) : IsNoisy(noisyColumn, i);

    /// <summary>Whether row <paramref name="i"/> of the noisy column, which holds a value, says noisy.</summary>
    private static bool IsNoisy(Column noisyColumn, int i) => noisyColumn switch
    {
        BooleanColumn b => b.Values[i],
        Int64Column l => l.Values[i] != 0,
        StringColumn s => s.Values[i]!.Trim().ToLowerInvariant() is "noisy" or "true" or "1" or "yes",
        _ => false,
    };

    /// <summary>The error for a row without a value in the noisy column (exit 3), naming its file, row and the column.</summary>
    public DataFormatException Refused(string? file, long row)
        => Throw.Format("found no value in the noisy/clean column; expected true/false, 1/0 or clean/noisy in every row", file, row: row, column: noisyColumn);

    /// <summary>Without groups: a row's tag follows from its side (its class, <see cref="CleanKey"/> or <see cref="NoisyKey"/>) and its id.</summary>
    bool IRowIdAssigner.TagsFromRowIds => _groupIndex < 0 && (_noisyIndex >= 0 || noisySources is not null);

    /// <summary>A row's side is its class.</summary>
    bool IRowIdAssigner.HasClasses => true;

    /// <summary>Each row's side, <see cref="CleanKey"/> or <see cref="NoisyKey"/>, as <see cref="NoisyRows"/> tells it; a missing value in the noisy column is refused.</summary>
    int IRowIdAssigner.ClassKeys(RecordBatch batch, Span<string> keys)
    {
        var noisyCol = _noisyIndex >= 0 ? batch.Columns[_noisyIndex] : null;
        for (int i = 0; i < batch.RowCount; i++)
        {
            if (noisyCol is not null && noisyCol.IsNull(i)) return i;
            keys[i] = IsNoisy(batch, noisyCol, i) ? NoisyKey : CleanKey;
        }
        return -1;
    }

    /// <summary>A row without a value in the noisy column.</summary>
    DataFormatException IRowIdAssigner.RefusedClass(string? file, long row) => Refused(file, row);

    /// <summary>
    /// Each side's cuts over its rows in (split hash, row id) order at the side's own fractions
    /// (<see cref="RandomSplitCuts.FindPerClass"/>, the scaled-out plan's search): the blocks <see cref="Assign"/> cuts;
    /// reports as <see cref="Assign"/> does.
    /// </summary>
    IRowIdTagger IRowIdAssigner.ForRowIds(Func<IEnumerable<RowIdChunk>> pass, long rows, IReadOnlyList<long>? classRows, IReadOnlyList<string>? classKeys, long maxBytes, RunContext context)
    {
        if (classRows is null || classKeys is null || classKeys.Count != classRows.Count) throw new ArgumentException("A noisy/clean split needs each side's key and rows.", nameof(classKeys));
        long clean = 0, noisy = 0;
        var fractions = new IReadOnlyList<double>[classKeys.Count];
        for (int c = 0; c < classKeys.Count; c++)
        {
            bool isNoisy = classKeys[c] switch
            {
                NoisyKey => true,
                CleanKey => false,
                _ => throw new ArgumentException($"A noisy/clean split's classes are '{CleanKey}' and '{NoisyKey}', not '{classKeys[c]}'.", nameof(classKeys)),
            };
            fractions[c] = SideFractions(isNoisy);
            if (isNoisy) noisy += classRows[c]; else clean += classRows[c];
        }
        ReportRows(context, clean, noisy);
        var hashed = new HashedRowIds(pass, new KeyedHash(seed, "split"), strata: true);
        return new StratifiedCutTagger(RandomSplitCuts.FindPerClass(classRows, fractions, hashed.Pass, maxHeld: HashedRowIds.Chunk, maxBytes, null), seed);
    }

    /// <summary>By group: a row's unit follows from its group and side.</summary>
    bool IRowGroupAssigner.TagsFromGroups => _groupIndex >= 0;

    /// <summary>A table counting each group's clean and noisy rows (<see cref="CleanKey"/>, <see cref="NoisyKey"/>).</summary>
    GroupTable IRowGroupAssigner.NewTable() => new(stratified: true);

    /// <summary>
    /// A row's unit: twice its group's number, plus one when noisy (<see cref="Assign"/>'s count: a missing group key is
    /// a group of its own); a missing value in the noisy column is refused.
    /// </summary>
    int IRowGroupAssigner.Count(RecordBatch batch, GroupTable table, Span<int> units)
    {
        var groups = batch.Columns[_groupIndex];
        var noisyCol = _noisyIndex >= 0 ? batch.Columns[_noisyIndex] : null;
        for (int i = 0; i < batch.RowCount; i++)
        {
            if (noisyCol is not null && noisyCol.IsNull(i)) return i;
            bool noisy = IsNoisy(batch, noisyCol, i);
            units[i] = 2 * table.Add(RandomSplitAssigner.KeyOf(groups, i), noisy ? NoisyKey : CleanKey) + (noisy ? 1 : 0);
        }
        return -1;
    }

    /// <summary><see cref="Decide"/> and <see cref="Report"/>, as <see cref="Assign"/> does them: unit 2g is group g's clean rows, 2g + 1 its noisy ones.</summary>
    UnitTags IRowGroupAssigner.TagUnits(GroupTable table, RunContext context)
    {
        var decision = Decide(table);
        Report(context, decision);
        var units = new SplitTag[2 * table.Count];
        for (int g = 0; g < table.Count; g++)
        {
            units[2 * g] = decision.CleanArray[g];
            units[2 * g + 1] = decision.NoisyArray[g];
        }
        return new UnitTags(units);
    }

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        int n = input.Count;
        var noisy = NoisyRows(input, context);
        var tags = new SplitTag[n];
        if (_groupIndex >= 0)
        {
            // By group: the decision is a function of the group table (clean and noisy rows per group).
            var groups = input.Column(_groupIndex);
            var table = new GroupTable(stratified: true);
            var rowGroup = new int[n];
            for (int i = 0; i < n; i++) rowGroup[i] = table.Add(RandomSplitAssigner.KeyOf(groups, i), noisy[i] ? NoisyKey : CleanKey);
            var decision = Decide(table);
            for (int i = 0; i < n; i++) tags[i] = noisy[i] ? decision.NoisyArray[rowGroup[i]] : decision.CleanArray[rowGroup[i]];
            Report(context, decision);
            return new SplitAssignment(tags);
        }

        // Units: rows. Each side (clean rows, noisy rows) in (split hash, row id) order is cut into contiguous blocks of
        // exact counts of its own fractions, as a random split cuts each class of a stratified one, so a scaled-out plan
        // finds the same split from each side's cuts (RandomSplitCuts.FindPerClass, docs/decisions.md "Noisy/clean
        // split without groups as contiguous blocks").
        var hash = new KeyedHash(seed, "split");
        long cleanCount = 0;
        for (int side = 0; side < 2; side++)
        {
            var rows = new List<int>();
            for (int i = 0; i < n; i++) if (noisy[i] == (side == 1)) rows.Add(i);
            var ids = new long[rows.Count];
            var hashes = new ulong[rows.Count];
            for (int k = 0; k < ids.Length; k++) hashes[k] = hash.Hash(ids[k] = input.RowIds[rows[k]]);
            var sideTags = RandomSplitter.AssignByHash(ids, hashes, SideFractions(side == 1));
            for (int k = 0; k < ids.Length; k++) tags[rows[k]] = sideTags[k];
            if (side == 0) cleanCount = rows.Count;
        }
        ReportRows(context, cleanCount, n - cleanCount);
        return new SplitAssignment(tags);
    }

    /// <summary>
    /// Without a group column: the fractions each side's rows are cut at, in (split hash, row id) order. The clean side:
    /// all train (approach 1), or train/validation by the fractions (approach 2); the noisy side: validation/test by
    /// --noisy-validation.
    /// </summary>
    public IReadOnlyList<double> SideFractions(bool noisy)
        => noisy ? NoisyFractions() : approach == NoisyApproach.TrainOnClean ? [1.0, 0, 0] : CleanFractions();

    /// <summary>Reports a split of rows without groups as one process does (each split's target; no row is dropped).</summary>
    public void ReportRows(RunContext context, long clean, long noisy)
    {
        ArgumentNullException.ThrowIfNull(context);
        SetTargets(context.Report, clean, noisy, clean + noisy);
    }

    private double[] CleanFractions()
    {
        double tv = cleanFractions[0] + cleanFractions[1];
        return [cleanFractions[0] / tv, cleanFractions[1] / tv, 0];
    }

    private double[] NoisyFractions() => [0, noisyValidation, 1 - noisyValidation];

    /// <summary>
    /// Decides every group of a table that counts each group's rows under <see cref="CleanKey"/> and <see cref="NoisyKey"/>:
    /// groups in order of <c>hash(seed, "split", key)</c> (ties by key); a clean group fills the clean splits, a noisy one
    /// the noisy splits; a mixed group goes wholly to validation (approach 2) or keeps its larger side (approach 1, the
    /// other side dropped). Depends only on the seed, the options and the table's contents (one process's table of all its
    /// rows, or a scaled-out plan's over the scan tasks' key columns).
    /// </summary>
    public NoisyGroupDecision Decide(GroupTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (!table.Stratified) throw new ArgumentException("The table must count clean and noisy rows per group.", nameof(table));
        int m = table.Count;
        var clean = new long[m];
        var noisy = new long[m];
        int cleanClass = -1, noisyClass = -1;
        for (int c = 0; c < table.ClassKeys.Count; c++)
        {
            if (table.ClassKeys[c] == CleanKey) cleanClass = c;
            else if (table.ClassKeys[c] == NoisyKey) noisyClass = c;
            else throw new ArgumentException($"The table counts rows of class '{table.ClassKeys[c]}'; expected only '{CleanKey}' and '{NoisyKey}'.", nameof(table));
        }
        foreach (var (g, c, rows) in table.PerClass)
        {
            if (c == cleanClass) clean[g] += rows; else noisy[g] += rows;
        }
        var order = table.KeySet.HashOrder(new KeyedHash(seed, "split"));

        var cleanTags = new SplitTag[m];
        var noisyTags = new SplitTag[m];
        Array.Fill(cleanTags, SplitTag.None);
        Array.Fill(noisyTags, SplitTag.None);
        var cleanUnits = new List<(int Group, long Rows, bool Noisy)>();
        var noisyUnits = new List<(int Group, long Rows, bool Noisy)>();
        long droppedMixed = 0;
        foreach (int g in order)
        {
            if (noisy[g] == 0) { cleanUnits.Add((g, clean[g], false)); continue; }
            if (clean[g] == 0) { noisyUnits.Add((g, noisy[g], true)); continue; }
            if (approach == NoisyApproach.MixedValidation)
            {
                cleanTags[g] = noisyTags[g] = SplitTag.Validation;
                continue;
            }
            // Approach 1: validation and test are noisy only, train clean only; keep the larger side.
            bool keepNoisy = noisy[g] * 2 >= noisy[g] + clean[g];
            droppedMixed += keepNoisy ? clean[g] : noisy[g];
            (keepNoisy ? noisyUnits : cleanUnits).Add((g, keepNoisy ? noisy[g] : clean[g], keepNoisy));
        }
        if (approach == NoisyApproach.TrainOnClean)
        {
            foreach (var u in cleanUnits) Set(u, SplitTag.Train);
        }
        else
        {
            var splits = Fill(cleanUnits.Select(u => u.Rows).ToList(), CleanFractions());
            for (int k = 0; k < splits.Length; k++) Set(cleanUnits[k], splits[k]);
        }
        var noisySplits = Fill(noisyUnits.Select(u => u.Rows).ToList(), NoisyFractions());
        for (int k = 0; k < noisySplits.Length; k++) Set(noisyUnits[k], noisySplits[k]);
        return new NoisyGroupDecision(table, cleanTags, noisyTags, droppedMixed, cleanUnits.Sum(u => u.Rows), noisyUnits.Sum(u => u.Rows));

        void Set((int Group, long Rows, bool Noisy) unit, SplitTag split)
        {
            if (unit.Noisy) noisyTags[unit.Group] = split; else cleanTags[unit.Group] = split;
        }
    }

    /// <summary>Reports a decision as one process does: the rows of mixed groups dropped (approach 1), and each split's target.</summary>
    public void Report(RunContext context, NoisyGroupDecision decision)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Dropped > 0) context.Report.Drop($"rows of groups with both clean and noisy rows (approach 1 keeps each {groupColumn} on one side)", decision.Dropped);
        SetTargets(context.Report, decision.Clean, decision.Noisy, decision.Table.TotalRows - decision.Dropped);
    }

    /// <summary>
    /// Each split's target: its share of the kept rows that the approach asks for. Approach 1: train = the clean rows,
    /// validation/test = the noisy rows by --noisy-validation. Approach 2: clean rows by the train/validation fractions,
    /// rows of mixed groups to validation, noisy rows by --noisy-validation.
    /// </summary>
    private void SetTargets(RunReport report, long clean, long noisy, long kept)
    {
        if (kept <= 0) return;
        var rows = new double[3];
        if (approach == NoisyApproach.TrainOnClean)
        {
            rows[0] = clean;
        }
        else
        {
            double tv = cleanFractions[0] + cleanFractions[1];
            rows[0] = clean * cleanFractions[0] / tv;
            rows[1] = clean * cleanFractions[1] / tv + (kept - clean - noisy);
        }
        rows[1] += noisy * noisyValidation;
        rows[2] += noisy * (1 - noisyValidation);
        foreach (var tag in SplitNames.All)
        {
            if (rows[(int)tag] <= 0) continue;
            if (!report.Splits.TryGetValue(tag.Name(), out var split)) report.Splits[tag.Name()] = split = new SplitReport();
            split.TargetFraction = rows[(int)tag] / kept;
        }
    }

    /// <summary>
    /// Puts groups (in hash order, of <paramref name="sizes"/> rows) into the split furthest below its row target: every
    /// split ends within one group of its target. (Single rows are cut into contiguous blocks instead, see <see cref="Assign"/>.)
    /// </summary>
    private static SplitTag[] Fill(IReadOnlyList<long> sizes, double[] fractions)
    {
        long total = sizes.Sum();
        var targets = RandomSplitter.ExactCounts(total, fractions);
        var assigned = new long[3];
        var splits = new SplitTag[sizes.Count];
        for (int u = 0; u < sizes.Count; u++)
        {
            int best = -1;
            for (int s = 0; s < 3; s++)
            {
                if (fractions[s] <= 0) continue;
                if (best < 0 || targets[s] - assigned[s] > targets[best] - assigned[best]) best = s;
            }
            assigned[best] += sizes[u];
            splits[u] = (SplitTag)best;
        }
        return splits;
    }
}

/// <summary>
/// A noisy/clean split's decision by group (<see cref="NoisyCleanAssigner.Decide"/>): for every group of its table, the
/// split of its clean rows and of its noisy rows (<see cref="SplitTag.None"/>: dropped, or the group has none).
/// </summary>
public sealed class NoisyGroupDecision
{
    internal NoisyGroupDecision(GroupTable table, SplitTag[] cleanTags, SplitTag[] noisyTags, long dropped, long clean, long noisy)
    {
        Table = table;
        CleanArray = cleanTags;
        NoisyArray = noisyTags;
        Dropped = dropped;
        Clean = clean;
        Noisy = noisy;
    }

    /// <summary>The table decided from.</summary>
    public GroupTable Table { get; }

    /// <summary>The split of each group's clean rows, by the table's group number.</summary>
    public IReadOnlyList<SplitTag> CleanTags => CleanArray;

    /// <summary>The split of each group's noisy rows, by the table's group number.</summary>
    public IReadOnlyList<SplitTag> NoisyTags => NoisyArray;

    internal SplitTag[] CleanArray { get; }

    internal SplitTag[] NoisyArray { get; }

    /// <summary>Rows of mixed groups dropped (approach 1).</summary>
    public long Dropped { get; }

    /// <summary>Rows of the clean units (approach 1: with the kept clean side of mixed groups).</summary>
    public long Clean { get; }

    /// <summary>Rows of the noisy units.</summary>
    public long Noisy { get; }
}
