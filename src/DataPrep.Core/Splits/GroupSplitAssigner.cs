using System.Globalization;
using System.Text;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Group split (leakage contract, DESIGN §3.2): every row of one group key goes to the same split, and the
/// splits are filled to their targets <b>by rows</b>, not by number of groups.
/// </summary>
/// <remarks>
/// <para><b>Order.</b> Groups are ordered by <c>hash(seed, "split", group key)</c>, ties by the key (ordinal).
/// The result depends only on the seed, the fractions, the group keys and the rows per group (and, when
/// stratified, the label counts per group) — never on input order, batch sizes or threads.</para>
/// <para><b>Targets.</b> <c>T = RandomSplitter.ExactCounts(rows, fractions)</c>. With W = the largest group's
/// rows, every split ends with <c>|rows − T| ≤ W</c>, hence its row fraction within W ÷ rows of the target
/// (proof in <see cref="GroupSplitPlanner"/>). Splits with a zero fraction never receive a group.</para>
/// <para><b>Many groups.</b> An unstratified split of more than <see cref="DefaultExactGroups"/> (2^20) groups is cut
/// instead into three ranges of the same hash order by rows (<see cref="GroupRangeWalk"/>): the same bound, found without a
/// table of every group, so a scaled-out plan and its encode tasks hold two cuts whatever the number of groups. The
/// threshold is a fixed count, so one process and any number of workers choose alike.</para>
/// <para><b>Stratified</b> (<c>stratify</c> set): each group counts for its dominant class (most rows; ties to
/// the smaller class key). The planner also keeps each class near its share, and when every group holds one
/// class it lands every class within its own largest group of its share per split in practice (the row
/// bound above is proven and always kept first). A warning with the numbers says which classes ended more
/// than one row away from their share.</para>
/// <para><b>Missing keys</b> are an error (<see cref="DataFormatException"/> naming file, row and column):
/// a row without a key cannot be kept away from its group. Use <c>--missing drop</c> or a fill.</para>
/// <para><b>Report.</b> For each non-empty split: <see cref="SplitReport.Groups"/> and
/// <see cref="SplitReport.TargetFraction"/>. Requests that whole groups cannot meet (a group holding most
/// rows, fewer groups than splits) get a warning with the achieved fractions; no group is ever split.</para>
/// </remarks>
/// <param name="groupColumn">The group key column (e.g. speaker_id, patient_id).</param>
/// <param name="fractions">Train, validation and test fractions: three values in [0, 1] summing to 1.</param>
/// <param name="seed">The seed.</param>
/// <param name="stratify">An optional label column whose classes should keep their share in every split.</param>
public sealed class GroupSplitAssigner(string groupColumn, IReadOnlyList<double> fractions, ulong seed, string? stratify = null) : IRowGroupAssigner
{
    private readonly double[] _fractions = (fractions ?? throw new ArgumentNullException(nameof(fractions))).ToArray();
    private int _groupIndex = -1;
    private int _stratifyIndex = -1;

    /// <summary>The group key column.</summary>
    public string GroupColumn => groupColumn;

    /// <summary>Train, validation and test fractions.</summary>
    public IReadOnlyList<double> Fractions => _fractions;

    /// <summary>The stratify column, or null.</summary>
    public string? Stratify => stratify;

    /// <summary>
    /// The most groups an unstratified split decides with <see cref="GroupSplitPlanner"/>, which holds every group; beyond, the
    /// groups in hash order are cut into ranges by rows (<see cref="GroupRangeWalk"/>), which a scaled-out plan does without
    /// such a table. A fixed number, so one process and any number of workers decide alike (tests lower it).
    /// </summary>
    public const int DefaultExactGroups = 1 << 20;

    /// <summary>The most groups decided by <see cref="GroupSplitPlanner"/> (<see cref="DefaultExactGroups"/>; tests lower it).</summary>
    internal int ExactGroups { get; init; } = DefaultExactGroups;

    /// <inheritdoc />
    public string Describe()
        => $"split by group {groupColumn} {Percentages(_fractions)}" + (stratify is null ? "" : $" stratified by {stratify}") + $", seed {seed}";

    /// <inheritdoc />
    public IReadOnlyCollection<int>? KeyColumns => new[] { _groupIndex, _stratifyIndex }.Where(i => i >= 0).ToArray();

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        var problems = new List<string>();
        if (_fractions.Length != 3)
        {
            problems.Add($"A group split needs 3 fractions (train, validation, test); got {_fractions.Length}: {string.Join(", ", _fractions.Select(F))}.");
        }
        else
        {
            foreach (var (name, f) in SplitNames.All.Select(s => s.Name()).Zip(_fractions))
            {
                if (!(f >= 0 && f <= 1)) problems.Add($"The {name} fraction is {F(f)}; expected a fraction between 0 and 1.");
            }
            double sum = _fractions.Sum();
            if (_fractions.All(double.IsFinite) && Math.Abs(sum - 1) > 1e-9)
            {
                problems.Add($"The split fractions sum to {F(sum)} (train {F(_fractions[0])}, validation {F(_fractions[1])}, test {F(_fractions[2])}); expected them to sum to 1.");
            }
        }
        string columns = string.Join(", ", input.Fields.Select(f => f.Name));
        if (string.IsNullOrEmpty(groupColumn))
        {
            problems.Add("--split group needs the group key column: --group COLUMN (e.g. speaker_id).");
        }
        else
        {
            _groupIndex = input.IndexOf(groupColumn);
            if (_groupIndex < 0) problems.Add($"--group names column '{groupColumn}', which the input does not have (its columns: {columns}).");
            else if (input[_groupIndex].Kind is ColumnKind.Sparse or ColumnKind.Binary)
            {
                problems.Add($"--group column '{groupColumn}' is {input[_groupIndex].Kind}; expected a key column (text, integer, boolean or timestamp).");
            }
        }
        if (stratify is not null)
        {
            _stratifyIndex = input.IndexOf(stratify);
            if (_stratifyIndex < 0) problems.Add($"--stratify names column '{stratify}', which the input does not have (its columns: {columns}).");
            else if (input[_stratifyIndex].Kind is ColumnKind.Sparse or ColumnKind.Binary)
            {
                problems.Add($"--stratify column '{stratify}' is {input[_stratifyIndex].Kind}; expected a label-like column (text, integer or boolean).");
            }
        }
        if (problems.Count > 0)
        {
            _groupIndex = _stratifyIndex = -1;
            throw new PipelineValidationException(problems);
        }
    }

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        if (_groupIndex < 0) Bind(input.Schema);
        int n = input.Count;
        var tags = new SplitTag[n];
        if (n == 0) return new SplitAssignment(tags);

        // The group table (group numbers in first-appearance order only address rows; all decisions use keys).
        var column = input.Column(_groupIndex);
        var labels = _stratifyIndex >= 0 ? input.Column(_stratifyIndex) : null;
        var table = new GroupTable(labels is not null);
        var rowGroup = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (column.IsNull(i))
            {
                var (source, row) = input.Origin(i);
                throw MissingKey(source >= 0 && source < context.Inputs.Count ? context.Inputs[source] : null, row);
            }
            rowGroup[i] = table.Add(RandomSplitAssigner.KeyOf(column, i), labels is null ? null : RandomSplitAssigner.KeyOf(labels, i));
        }
        var decision = Decide(table);
        for (int i = 0; i < n; i++) tags[i] = decision.SplitArray[rowGroup[i]];
        Report(context, decision);
        return new SplitAssignment(tags);
    }

    /// <summary>A table of groups, counting classes when stratified.</summary>
    GroupTable IRowGroupAssigner.NewTable() => new(stratified: _stratifyIndex >= 0);

    /// <summary>A row's unit is its group (<see cref="GroupTable.Add(Column, Column?, int, bool, Span{int})"/>, as <see cref="Assign"/> counts it); a missing key is refused.</summary>
    int IRowGroupAssigner.Count(RecordBatch batch, GroupTable table, Span<int> units)
        => table.Add(batch.Columns[_groupIndex], _stratifyIndex >= 0 ? batch.Columns[_stratifyIndex] : null, batch.RowCount, numbers: units);

    /// <summary>A row without a group key.</summary>
    DataFormatException IRowGroupAssigner.Refused(string? file, long row) => MissingKey(file, row);

    /// <summary><see cref="Decide"/> and <see cref="Report(RunContext, GroupSplitDecision)"/>, as <see cref="Assign"/> does them.</summary>
    UnitTags IRowGroupAssigner.TagUnits(GroupTable table, RunContext context)
    {
        var decision = Decide(table);
        Report(context, decision);
        return new UnitTags(decision.SplitArray);
    }

    /// <summary>Unstratified: past <see cref="ExactGroups"/> groups, <see cref="Decide"/> cuts by hash ranges.</summary>
    int IRowGroupAssigner.RangeGroups => _stratifyIndex < 0 ? ExactGroups : int.MaxValue;

    /// <summary>The split hash of a row's key.</summary>
    (KeyedHash? Split, KeyedHash? Fold) IRowGroupAssigner.RangeHashes => (new KeyedHash(seed, "split"), null);

    /// <summary>Each row's key; a missing key is refused.</summary>
    int IRowGroupAssigner.Keys(RecordBatch batch, Span<string> keys)
    {
        var column = batch.Columns[_groupIndex];
        for (int i = 0; i < batch.RowCount; i++)
        {
            if (column.IsNull(i)) return i;
            keys[i] = RandomSplitAssigner.KeyOf(column, i);
        }
        return -1;
    }

    /// <summary><see cref="Decide"/>'s hash ranges over the runs (the scaled-out plan's walk), reported as <see cref="Assign"/> reports them.</summary>
    GroupRangeCuts IRowGroupAssigner.CutRanges(Func<IEnumerable<(ReadOnlyMemory<byte> Key, long Rows)>> runs, long rows, SpillFolder folder, int partitionGroups, RunContext context, CancellationToken cancellationToken)
    {
        var walk = GroupRangeWalk.PlanEncoded(runs(), rows, _fractions, seed, folder, partitionGroups, cancellationToken: cancellationToken);
        var cuts = walk.HashCuts();
        Report(context, walk);
        return new GroupRangeCuts(cuts, null, walk.Rows[(int)SplitTag.Train]);
    }

    /// <summary>The group column (after <see cref="Bind"/>; −1 before).</summary>
    internal int GroupIndex => _groupIndex;

    /// <summary>The error for a row without a group key (exit 3), naming its file and row and the group column.</summary>
    public DataFormatException MissingKey(string? file, long row)
        => Throw.Format(
            "found no group key; expected a value in every row, since a row without one cannot be kept in its group's split "
            + "(use --missing drop to drop such rows, or --missing fill:TEXT to put them into one group of their own)",
            file, row: row, column: groupColumn);

    /// <summary>
    /// Decides every group's split from the group table alone (<see cref="GroupSplitPlanner"/>): one process decides from
    /// the table of all its rows, a scaled-out plan from the table it builds over the scan tasks' key columns. The result
    /// depends only on the seed, the fractions and the table's contents.
    /// </summary>
    public GroupSplitDecision Decide(GroupTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Stratified != (stratify is not null)) throw new ArgumentException("The table must count classes exactly when the split is stratified.", nameof(table));
        int m = table.Count;
        var sizes = table.RowsArray;
        if (!table.Stratified && m > ExactGroups)
        {
            // Many groups: hash ranges, the rule a scaled-out plan follows without holding every group (GroupRangeWalk).
            var walk = new GroupRangeWalk(table.TotalRows, _fractions);
            var ranged = new SplitTag[m];
            var hash = new KeyedHash(seed, "split");
            foreach (int g in table.KeySet.HashOrder(hash)) ranged[g] = (SplitTag)walk.Add(table.KeySet.HashOf(g, hash), table.KeySet.KeyBytes(g), sizes[g]);
            return new GroupSplitDecision(table, ranged, null, null, null) { Cuts = walk.Cuts() };
        }

        // Classes (stratified): numbered in sorted key order; each group counts for its dominant class.
        string[]? classNames = null;
        int[]? classOf = null;
        long[]? classInOneGroup = null;
        int[]? dominant = null;
        if (table.Stratified)
        {
            dominant = new int[m];
            classNames = table.ClassKeys.Order(StringComparer.Ordinal).ToArray();
            var number = new Dictionary<string, int>(classNames.Length, StringComparer.Ordinal);
            for (int c = 0; c < classNames.Length; c++) number[classNames[c]] = c;
            classOf = table.ClassKeys.Select(k => number[k]).ToArray();
            var best = new long[m];
            classInOneGroup = new long[classNames.Length];
            Array.Fill(dominant, int.MaxValue);
            foreach (var (g, local, count) in table.PerClass)
            {
                int c = classOf[local];
                if (count > best[g] || (count == best[g] && c < dominant[g])) { best[g] = count; dominant[g] = c; }
                classInOneGroup[c] = Math.Max(classInOneGroup[c], count);
            }
        }

        // Hash order of the groups: hash(seed, "split", key), ties by key.
        var order = table.KeySet.HashOrder(new KeyedHash(seed, "split"));

        var orderedSizes = new long[m];
        for (int j = 0; j < m; j++) orderedSizes[j] = sizes[order[j]];
        int[]? orderedClasses = null;
        if (dominant is not null)
        {
            orderedClasses = new int[m];
            for (int j = 0; j < m; j++) orderedClasses[j] = dominant[order[j]] == int.MaxValue ? 0 : dominant[order[j]];
        }
        var plan = m == 0 ? [] : GroupSplitPlanner.Plan(orderedSizes, orderedClasses, classNames?.Length ?? 1, _fractions);

        var splitOfGroup = new SplitTag[m];
        for (int j = 0; j < m; j++) splitOfGroup[order[j]] = (SplitTag)plan[j];
        return new GroupSplitDecision(table, splitOfGroup, classNames, classOf, classInOneGroup);
    }

    /// <summary>
    /// Reports a decision into <paramref name="context"/>: groups and target fraction per non-empty split, the warning for
    /// fractions whole groups cannot meet, and (stratified) the warning for classes more than one row from their share.
    /// </summary>
    public void Report(RunContext context, GroupSplitDecision decision)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(decision);
        var table = decision.Table;
        var keys = table.KeySet;
        var sizes = table.RowsArray;
        var splitOfGroup = decision.SplitArray;
        int m = keys.Count;
        if (m == 0) return;
        var rows = new long[3];
        var groups = new long[3];
        int largest = 0;
        for (int g = 0; g < m; g++)
        {
            rows[(int)splitOfGroup[g]] += sizes[g];
            groups[(int)splitOfGroup[g]]++;
            if (sizes[g] > sizes[largest] || (sizes[g] == sizes[largest] && keys.Compare(g, largest) < 0)) largest = g;
        }
        ReportTotals(context, m, table.TotalRows, rows, groups, (keys.KeyOf(largest), sizes[largest]));
        if (decision.ClassNames is not { } classNames || decision.ClassOf is not { } classOf || decision.ClassInOneGroup is not { } classInOneGroup) return;
        ReportClasses(context, table, splitOfGroup, classNames, classOf, classInOneGroup);
    }

    /// <summary>
    /// Reports a split by hash ranges that <paramref name="walk"/> walked (<see cref="GroupRangeWalk"/>: groups, rows and
    /// the largest group per split, summed as it went), as <see cref="Report(RunContext, GroupSplitDecision)"/> reports the same decision from a table.
    /// </summary>
    internal void Report(RunContext context, GroupRangeWalk walk)
    {
        if (walk.Count == 0) return;
        ReportTotals(context, walk.Count, walk.TotalRows, walk.Rows, walk.Groups, walk.Largest);
    }

    /// <summary>Groups and target fraction per non-empty split, and the warning for fractions whole groups cannot meet.</summary>
    private void ReportTotals(RunContext context, long m, long n, long[] rows, long[] groups, (string Key, long Rows) largest)
    {
        foreach (var tag in SplitNames.All)
        {
            if (groups[(int)tag] == 0) continue;
            context.Report.Splits[tag.Name()] = new SplitReport { Groups = groups[(int)tag], TargetFraction = _fractions[(int)tag] };
        }

        // Requests that whole groups cannot meet: a split more than one percentage point off, or empty.
        var targets = RandomSplitter.ExactCounts(n, _fractions);
        int wanted = _fractions.Count(f => f > 0);
        var empty = SplitNames.All.Where(s => targets[(int)s] > 0 && rows[(int)s] == 0).Select(s => s.Name()).ToList();
        bool off = SplitNames.All.Any(s => Math.Abs(rows[(int)s] / (double)n - _fractions[(int)s]) > 0.01);
        if (empty.Count > 0 || off)
        {
            var why = new List<string>();
            if (m < wanted) why.Add($"there {(m == 1 ? "is only 1 group" : $"are only {m} groups")} for {wanted} splits");
            why.Add($"the largest group, {Throw.Quote(largest.Key)}, holds {Count(largest.Rows, "row")} of {N(n)} ({Pct(largest.Rows / (double)n)})");
            string achieved = string.Join(", ", SplitNames.All.Where(s => _fractions[(int)s] > 0 || rows[(int)s] > 0)
                .Select(s => $"{s.Name()} {Pct(rows[(int)s] / (double)n)} ({Count(rows[(int)s], "row")} in {Count(groups[(int)s], "group")}; target {Pct(_fractions[(int)s])})"));
            context.Report.Warnings.Add(
                $"Group split by '{groupColumn}': the fractions {Percentages(_fractions)} cannot be met by rows while groups are kept whole: {string.Join("; ", why)}. "
                + $"Achieved {achieved}.{(empty.Count > 0 ? $" Empty: {string.Join(", ", empty)}." : "")} "
                + "No group is in two splits; use more groups, other fractions, or a finer group key to get closer.");
        }
    }

    /// <summary>Stratified: the warning for classes more than one row from their share in some split.</summary>
    private void ReportClasses(RunContext context, GroupTable table, SplitTag[] splitOfGroup, string[] classNames, int[] classOf, long[] classInOneGroup)
    {
        // Per class: rows per split against its share (class rows × fraction), and its largest group.
        int classes = classNames.Length;
        var perSplit = new long[classes, 3];
        var total = new long[classes];
        foreach (var (g, local, count) in table.PerClass)
        {
            int c = classOf[local];
            perSplit[c, (int)splitOfGroup[g]] += count;
            total[c] += count;
        }
        var offClasses = new List<(int Class, decimal Worst)>();
        bool withinLargest = true;
        for (int c = 0; c < classes; c++)
        {
            decimal worst = 0;
            for (int s = 0; s < 3; s++)
            {
                decimal gap = Math.Abs(perSplit[c, s] - total[c] * (decimal)_fractions[s]);
                worst = Math.Max(worst, gap);
            }
            if (worst > 1) offClasses.Add((c, worst));
            if (worst > classInOneGroup[c]) withinLargest = false;
        }
        if (offClasses.Count == 0) return;
        var shown = offClasses.OrderByDescending(x => x.Worst).ThenBy(x => x.Class).Take(5).ToList();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Group split by '{groupColumn}' stratified by '{stratify}': groups are kept whole, so {Count(offClasses.Count, "class")} of {classes} ended more than one row away from {(offClasses.Count == 1 ? "its" : "their")} share in some split");
        text.Append(withinLargest ? " (each class is within its largest group of its share)" : "");
        text.Append(": ");
        text.Append(string.Join("; ", shown.Select(x =>
        {
            int c = x.Class;
            string parts = string.Join(", ", SplitNames.All.Where(s => _fractions[(int)s] > 0 || perSplit[c, (int)s] > 0)
                .Select(s => $"{s.Name()} {N(perSplit[c, (int)s])} (share {(total[c] * (decimal)_fractions[(int)s]).ToString("#,0.#", CultureInfo.InvariantCulture)})"));
            return $"{(classNames[c] == "\0missing" ? "(missing)" : Throw.Quote(classNames[c]))}: {parts}, {Count(total[c], "row")}, largest group {Count(classInOneGroup[c], "row")}";
        })));
        if (offClasses.Count > shown.Count) text.Append(CultureInfo.InvariantCulture, $"; and {Count(offClasses.Count - shown.Count, "more class")}");
        text.Append('.');
        context.Report.Warnings.Add(text.ToString());
    }

    private static string Percentages(IEnumerable<double> fractions)
        => string.Join("/", fractions.Select(f => (f * 100).ToString("0.##", CultureInfo.InvariantCulture)));

    private static string Pct(double fraction) => (fraction * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string N(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    private static string Count(long count, string noun)
        => $"{N(count)} {noun}{(count == 1 ? "" : noun.EndsWith("ss", StringComparison.Ordinal) ? "es" : "s")}";
}

/// <summary>
/// A group split's decision (<see cref="GroupSplitAssigner.Decide"/>): the split of every group of its table, by the table's
/// group number, and (stratified) the classes in sorted key order with the largest group of each.
/// </summary>
public sealed class GroupSplitDecision
{
    internal GroupSplitDecision(GroupTable table, SplitTag[] splits, string[]? classNames, int[]? classOf, long[]? classInOneGroup)
    {
        Table = table;
        SplitArray = splits;
        ClassNames = classNames;
        ClassOf = classOf;
        ClassInOneGroup = classInOneGroup;
    }

    /// <summary>The table decided from.</summary>
    public GroupTable Table { get; }

    /// <summary>The split of each group, by the table's group number.</summary>
    public IReadOnlyList<SplitTag> Splits => SplitArray;

    internal SplitTag[] SplitArray { get; }

    internal string[]? ClassNames { get; }

    /// <summary>The sorted class number of each of the table's classes (<see cref="GroupTable.ClassKeys"/>).</summary>
    internal int[]? ClassOf { get; }

    internal long[]? ClassInOneGroup { get; }

    /// <summary>A split by hash ranges (more than <see cref="GroupSplitAssigner.ExactGroups"/> groups): its cuts; otherwise null.</summary>
    internal List<GroupCut>? Cuts { get; init; }
}

/// <summary>
/// Decides which split each group goes to, from the groups' row counts in hash order (and their dominant
/// class when stratified). Pure function of its inputs.
/// </summary>
/// <remarks>
/// <para><b>Notation.</b> N rows in m groups of w_1…w_m rows (hash order), W = max w. Targets
/// T = ExactCounts(N, f), so Σ T_s = N and |T_s − N·f_s| &lt; 1. Only splits with f_s &gt; 0 ("open" splits,
/// k of them) ever receive a group. The deficit of split s is d_s = T_s − A_s, where A_s is the rows placed so
/// far; Σ_open d_s = R, the rows not yet placed.</para>
/// <para><b>Step 1, greedy.</b> Walk the groups (in hash order) and put each into an open split with the
/// largest deficit (ties: train, then validation, then test).</para>
/// <para><b>Theorem.</b> For every order of the groups and every tie-break, the greedy ends with
/// |A_s − T_s| ≤ W − 1 for every split (and exactly A = T when all groups are single rows).</para>
/// <para><i>Overshoot.</i> When a group of w rows is placed, the rows not yet placed (this group included) number
/// R ≥ w ≥ 1, so the largest deficit is at least ⌈R/k⌉ ≥ 1; after the placement that split's deficit is
/// ≥ 1 − w ≥ 1 − W. A deficit only changes when its split receives a group, so every split that received one
/// ends with d ≥ 1 − W; a split that never did ends with d = T_s ≥ 0. Hence A_s − T_s ≤ W − 1.</para>
/// <para><i>Undershoot.</i> Suppose some split s ends with d_s = D ≥ W. Deficits never grow, so d_s ≥ D all
/// along. Take any other open split t. If t received groups, at its last placement its deficit was the
/// largest, so at least d_s ≥ D, and afterwards at least D − w ≥ D − W ≥ 0, which it keeps to the end; if
/// it never received one, it ends with T_t ≥ 0. At the end all rows are placed, so 0 = Σ_open d =
/// D + Σ_{t≠s} d_t ≥ D ≥ W ≥ 1, a contradiction. Hence T_s − A_s ≤ W − 1. ∎</para>
/// <para>Relative to the row fraction: |A_s/N − f_s| ≤ (W − 1 + |T_s − N·f_s|)/N &lt; W/N, which is the
/// leakage contract's "within (largest group ÷ total rows) of the target".</para>
/// <para><b>Step 2, a second candidate.</b> The same greedy over the groups in decreasing size (ties in hash
/// order). Big groups placed first leave small ones to fill the gaps, which wins when one group is large;
/// the theorem holds for it too. It is used only when it ends strictly closer to the targets.</para>
/// <para><b>Step 3, local search.</b> On each candidate: repeatedly apply the best exchange of at most two
/// groups from one split against at most two from another (of several groups of one size and class, the
/// first in hash order), if it strictly lowers the error (max_s |A_s − N·f_s|, then Σ_s |A_s − N·f_s|, then
/// Σ_s (A_s − N·f_s)²) — stratified: (summed class excess, see below; then that error); and on the chosen plan a
/// last pass adds the classes' χ² distance from their shares, Σ_c Σ_s (A_cs − n_c·f_s)² / (n_c·f_s), as a third
/// criterion, so exchanges that keep the totals still even out the classes. Unstratified the
/// largest error never grows, so it stays below W and |A_s − T_s| ≤ W holds after the search; in every mode
/// an exchange that would break |A_s − T_s| ≤ W on a plan that meets it is refused outright. The search ends
/// because its objective strictly decreases over finitely many states (and at 2,000 steps — 500 in the class-evening
/// pass —, at a deterministic budget of 10 million exchanges looked at, or as soon as nothing can be better by its
/// criteria: totals equal to T, the best possible, no class excess, and in the class-evening pass every class exactly
/// at its share). Candidates are tried in order, and one that nothing can beat ends the search for candidates.</para>
/// <para><b>Stratified.</b> Each class c (groups counted by their dominant class) has a ledger with real targets
/// n_c·f_s and slack S = W_c (its largest group); the totals have a ledger with targets T and slack S = W.
/// <i>Lemma (safe placements).</i> Every group a ledger sees has at most S rows. In one ledger call a state
/// <i>good</i> if every largest-deficit walk from it (each remaining group of the ledger into a split with the
/// largest deficit) ends with all |d_s| &lt; S.
/// (a) A largest-deficit step from a good state leads to a good state (its walks are tails of the earlier
/// ones). (b) Every state whose overshoot P = Σ_s max(0, −d_s) is below S is good: in a walk a split receives a
/// group only when its deficit is the largest, hence &gt; 0 (the deficits sum to the rows still to come), so it
/// ends &gt; −S, and a split that receives nothing keeps d ≥ −P &gt; −S; and if some split s ended with D ≥ S,
/// then (its deficit never grows) every other split that received a group had a deficit ≥ D at its last one
/// and ends ≥ D − S ≥ 0, the others end ≥ their current value, so 0 = Σ final d ≥ D − P &gt; D − S ≥ 0, a
/// contradiction. The start (P = 0) is good. So a placement is <i>safe</i> if it goes to a split with the
/// largest deficit or leaves P &lt; S, and a ledger fed only safe placements ends with every |d_s| &lt; S: the
/// totals within W − 1 rows of T, class c within W_c rows of its share. Each group goes to a split safe for
/// both ledgers, preferring the largest class deficit. When no split is safe for both, the "class-first"
/// candidates take a class-safe one and the "total-first" ones a total-safe one; the latter therefore always
/// keep |A_s − T_s| ≤ W − 1 (and ≤ W after the search). Each candidate is improved by the local search, and the
/// best by (contract kept, summed class excess over the bounds, total error) wins and gets the class-evening
/// pass — so the row bound of the contract is never traded for class balance. The class bound itself is
/// guaranteed per candidate only when every step had a split safe for both (the search never lets the summed
/// excess grow); on 600,000 random datasets whose groups each hold one class the chosen plan always met it.</para>
/// </remarks>
internal static class GroupSplitPlanner
{
    private const int K = 3;
    private const int MaxSearchSteps = 2_000;
    private const int MaxStratifiedSteps = 500;
    private const long WorkBudget = 10_000_000;
    private const int PairKindLimit = 128;
    private const int ExhaustiveLimit = 1 << 16;

    /// <summary>Plans the split of each group.</summary>
    /// <param name="sizes">Rows per group, in hash order.</param>
    /// <param name="classes">Dominant class per group (0…classCount−1), or null for no stratification.</param>
    /// <param name="classCount">The number of classes (1 when not stratified).</param>
    /// <param name="fractions">Train, validation, test fractions.</param>
    /// <returns>The split (0, 1, 2) of each group, by position.</returns>
    public static int[] Plan(long[] sizes, int[]? classes, int classCount, IReadOnlyList<double> fractions)
    {
        var problem = new Problem(sizes, classes, classCount, fractions);
        if (problem.M == 0) return [];
        int[]? hashOrder = null; // the positions themselves: the groups are given in hash order
        var candidates = new List<Func<int[]>>();
        if (!problem.Stratified)
        {
            candidates.Add(() => problem.Greedy(hashOrder, Priority.Total));
            candidates.Add(() => problem.Greedy(SizeOrder(sizes), Priority.Total));
        }
        else
        {
            candidates.Add(() => problem.Greedy(hashOrder, Priority.Class));
            candidates.Add(() => problem.Greedy(hashOrder, Priority.Total));
            candidates.Add(() => problem.Greedy(SizeOrder(sizes), Priority.Class));
            candidates.Add(() => problem.Greedy(SizeOrder(sizes), Priority.Total));
        }
        int[]? best = null;
        Score bestScore = default;
        foreach (var make in candidates)
        {
            var candidate = make();
            problem.LocalSearch(candidate, evenOutClasses: false);
            var score = problem.Evaluate(candidate, out bool optimal);
            if (best is null || score.CompareTo(bestScore) < 0) { best = candidate; bestScore = score; }
            if (optimal) break; // no later candidate can be strictly better
        }
        // Stratified: even out the classes of the winner with exchanges that keep its totals and class bounds.
        if (problem.Stratified) problem.LocalSearch(best!, evenOutClasses: true);
        return best!;
    }

    /// <summary>Positions by decreasing size, ties in hash order.</summary>
    private static int[] SizeOrder(long[] w)
    {
        var order = new int[w.Length];
        for (int j = 0; j < order.Length; j++) order[j] = j;
        // A total order (position breaks ties), so any sort gives the one a stable sort by size gave.
        Array.Sort(order, (a, b) => w[a] != w[b] ? w[b].CompareTo(w[a]) : a.CompareTo(b));
        return order;
    }

    private enum Priority { Total, Class }

    /// <summary>
    /// How far the totals are from N·f, lexicographically: the largest error, the summed errors, the summed squares
    /// (the last prefers 900/50/50 to 900/100/0 for targets 800/100/100).
    /// </summary>
    private readonly record struct Error(double Max, double Sum, double Squares) : IComparable<Error>
    {
        public int CompareTo(Error other)
        {
            int c = Max.CompareTo(other.Max);
            if (c != 0) return c;
            c = Sum.CompareTo(other.Sum);
            return c != 0 ? c : Squares.CompareTo(other.Squares);
        }
    }

    /// <summary>Lexicographic quality of a plan: contract kept, class excess, total error, then class spread.</summary>
    private readonly record struct Score(int TotalBroken, double ClassExcess, Error Error, double ClassSpread) : IComparable<Score>
    {
        public int CompareTo(Score other)
        {
            int c = TotalBroken.CompareTo(other.TotalBroken);
            if (c != 0) return c;
            c = ClassExcess.CompareTo(other.ClassExcess);
            if (c != 0) return c;
            c = Error.CompareTo(other.Error);
            return c != 0 ? c : ClassSpread.CompareTo(other.ClassSpread);
        }
    }

    private sealed class Problem
    {
        private readonly long[] _w;
        private readonly int[]? _c; // null when not stratified: every group is class 0
        private readonly int _classes;
        private readonly bool[] _open = new bool[K];
        private readonly long[] _target;
        private readonly double[] _exact = new double[K];
        private readonly long _wMax;
        private readonly long[] _classMax;
        private readonly decimal[,] _share;
        private readonly double[,] _shareD;
        private readonly Error _optimum;

        public Problem(long[] sizes, int[]? classes, int classCount, IReadOnlyList<double> fractions)
        {
            _w = sizes;
            M = sizes.Length;
            Stratified = classes is not null;
            _classes = Stratified ? Math.Max(classCount, 1) : 1;
            _c = classes; // read only, so taken without a copy (per group: 4 bytes, and none when not stratified)
            long n = 0;
            for (int j = 0; j < M; j++) { n += sizes[j]; _wMax = Math.Max(_wMax, sizes[j]); }
            _target = RandomSplitter.ExactCounts(n, fractions);
            for (int s = 0; s < K; s++) { _open[s] = fractions[s] > 0; _exact[s] = n * fractions[s]; }
            _classMax = new long[_classes];
            var classRows = new long[_classes];
            for (int j = 0; j < M; j++) { classRows[C(j)] += sizes[j]; _classMax[C(j)] = Math.Max(_classMax[C(j)], sizes[j]); }
            _share = new decimal[_classes, K];
            _shareD = new double[_classes, K];
            for (int c = 0; c < _classes; c++)
            {
                for (int s = 0; s < K; s++) { _share[c, s] = classRows[c] * (decimal)fractions[s]; _shareD[c, s] = classRows[c] * fractions[s]; }
            }
            _optimum = TotalError(_target);
        }

        public int M { get; }

        /// <summary>Group <paramref name="j"/>'s class (0 when not stratified).</summary>
        private int C(int j) => _c is null ? 0 : _c[j];

        public bool Stratified { get; }

        /// <summary>Step 1: the greedy over <paramref name="order"/> (null: the positions in order); stratified, within the safe splits.</summary>
        public int[] Greedy(int[]? order, Priority priority)
        {
            var split = new int[M];
            var placed = new long[K];
            var classPlaced = new long[_classes, K];
            Span<decimal> total = stackalloc decimal[K];
            Span<decimal> cls = stackalloc decimal[K];
            for (int i = 0; i < M; i++)
            {
                int j = order is null ? i : order[i];
                long w = _w[j];
                int c = C(j);
                int t;
                if (!Stratified)
                {
                    t = -1;
                    for (int s = 0; s < K; s++)
                    {
                        if (_open[s] && (t < 0 || _target[s] - placed[s] > _target[t] - placed[t])) t = s;
                    }
                }
                else
                {
                    for (int s = 0; s < K; s++) { total[s] = _target[s] - placed[s]; cls[s] = _share[c, s] - classPlaced[c, s]; }
                    int totalSafe = SafeSplits(total, w, _wMax);
                    int classSafe = SafeSplits(cls, w, _classMax[c]);
                    int allowed = (totalSafe & classSafe) != 0 ? totalSafe & classSafe : priority == Priority.Class ? classSafe : totalSafe;
                    t = -1;
                    for (int s = 0; s < K; s++)
                    {
                        if ((allowed & (1 << s)) == 0) continue;
                        if (t < 0 || cls[s] > cls[t] || (cls[s] == cls[t] && total[s] > total[t])) t = s;
                    }
                }
                split[j] = t;
                placed[t] += w;
                classPlaced[c, t] += w;
            }
            return split;
        }

        /// <summary>
        /// The open splits (bit mask) where placing <paramref name="w"/> rows keeps a ledger with deficits
        /// <paramref name="d"/> and slack <paramref name="slack"/> provably within its slack (see remarks).
        /// </summary>
        private int SafeSplits(ReadOnlySpan<decimal> d, long w, long slack)
        {
            decimal max = decimal.MinValue;
            for (int s = 0; s < K; s++) if (_open[s]) max = Math.Max(max, d[s]);
            int mask = 0;
            for (int t = 0; t < K; t++)
            {
                if (!_open[t]) continue;
                if (d[t] == max) { mask |= 1 << t; continue; }
                decimal over = 0;
                for (int s = 0; s < K; s++)
                {
                    if (!_open[s]) continue;
                    decimal after = s == t ? d[s] - w : d[s];
                    if (after < 0) over -= after;
                }
                if (over < slack) mask |= 1 << t;
            }
            return mask;
        }

        /// <summary>The plan's score; <paramref name="optimal"/> when nothing can beat it (totals at T, every class at its share or not stratified).</summary>
        public Score Evaluate(int[] split, out bool optimal)
        {
            var placed = new long[K];
            var classPlaced = new long[_classes, K];
            for (int j = 0; j < M; j++) { placed[split[j]] += _w[j]; classPlaced[C(j), split[j]] += _w[j]; }
            var (excess, spread) = ClassTotals(classPlaced);
            var error = TotalError(placed);
            optimal = excess == 0 && spread == 0 && error.CompareTo(_optimum) <= 0;
            return new Score(ContractKept(placed) ? 0 : 1, excess, error, spread);
        }

        /// <summary>Summed class excess and spread over all classes (both 0 when not stratified).</summary>
        private (double Excess, double Spread) ClassTotals(long[,] classPlaced)
        {
            double excess = 0, spread = 0;
            if (!Stratified) return (0, 0);
            for (int c = 0; c < _classes; c++)
            {
                var (e, s) = ClassMeasure(classPlaced, c, -1, 0, -1, 0);
                excess += e;
                spread += s;
            }
            return (excess, spread);
        }

        private bool ContractKept(long[] placed)
        {
            for (int s = 0; s < K; s++) if (Math.Abs(placed[s] - _target[s]) > _wMax) return false;
            return true;
        }

        private Error TotalError(long[] placed)
        {
            double max = 0, sum = 0, squares = 0;
            for (int s = 0; s < K; s++)
            {
                double e = Math.Abs(placed[s] - _exact[s]);
                max = Math.Max(max, e);
                sum += e;
                squares += e * e;
            }
            return new Error(max, sum, squares);
        }

        /// <summary>
        /// Class <paramref name="c"/>, with optional changes to two splits: its excess — rows beyond its bound (largest
        /// group) summed over splits — and its spread Σ_s (rows − share)² / share, the χ² distance from its shares.
        /// </summary>
        private (double Excess, double Spread) ClassMeasure(long[,] classPlaced, int c, int a, long deltaA, int b, long deltaB)
        {
            double excess = 0, spread = 0;
            for (int s = 0; s < K; s++)
            {
                if (!_open[s]) continue;
                long rows = classPlaced[c, s] + (s == a ? deltaA : 0) + (s == b ? deltaB : 0);
                double gap = rows - _shareD[c, s];
                if (Math.Abs(gap) > _classMax[c]) excess += Math.Abs(gap) - _classMax[c];
                if (_shareD[c, s] > 0) spread += gap * gap / _shareD[c, s];
            }
            return (excess, spread);
        }

        /// <summary>A set of at most two groups of one split (positions), with their classes and rows.</summary>
        private readonly record struct Combo(long Rows, int First, int Second, int Class1, long Rows1, int Class2, long Rows2)
        {
            public int Count => (First >= 0 ? 1 : 0) + (Second >= 0 ? 1 : 0);
        }

        /// <summary>
        /// Step 3: improves <paramref name="split"/> in place by exchanges of at most two groups per side, until no
        /// exchange is strictly better, the plan is optimal, or the step cap is reached.
        /// </summary>
        public void LocalSearch(int[] split, bool evenOutClasses)
        {
            var placed = new long[K];
            var classPlaced = new long[_classes, K];
            // Groups per split by kind (size, class); each kind's positions ascending (hash order). Counted first, so that
            // each list is allocated once at its size (lists grown by doubling held up to twice the positions, and copies).
            var counts = new Dictionary<(long Size, int Class), int>[K];
            for (int s = 0; s < K; s++) counts[s] = [];
            for (int j = 0; j < M; j++)
            {
                ref int n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts[split[j]], (_w[j], C(j)), out _);
                n++;
            }
            var kinds = new Dictionary<(long Size, int Class), List<int>>[K];
            for (int s = 0; s < K; s++) kinds[s] = counts[s].ToDictionary(kv => kv.Key, kv => new List<int>(kv.Value));
            counts = null;
            for (int j = 0; j < M; j++)
            {
                int s = split[j];
                placed[s] += _w[j];
                classPlaced[C(j), s] += _w[j];
                kinds[s][(_w[j], C(j))].Add(j);
            }
            var (excess, spread) = ClassTotals(classPlaced);

            // A deterministic work budget (exchanges looked at, sets built) bounds the search on huge inputs.
            long work = 0;
            if (!evenOutClasses) spread = 0;
            for (int step = 0; step < (evenOutClasses ? MaxStratifiedSteps : MaxSearchSteps) && work < WorkBudget; step++)
            {
                var current = TotalError(placed);
                if (excess == 0 && spread == 0 && current.CompareTo(_optimum) <= 0) return;
                bool kept = ContractKept(placed);
                var combos = new Combo[K][];
                for (int s = 0; s < K; s++) { combos[s] = _open[s] ? Combos(kinds[s]) : []; work += combos[s].Length; }

                (double Excess, Error Error, double Spread, int Moved)? best = null;
                (int A, int B, Combo X, Combo Y) move = default;
                for (int a = 0; a < K; a++)
                {
                    for (int b = a + 1; b < K; b++)
                    {
                        if (!_open[a] || !_open[b]) continue;
                        var xs = combos[a];
                        var ys = combos[b];
                        if ((long)xs.Length * ys.Length <= ExhaustiveLimit)
                        {
                            foreach (var x in xs) foreach (var y in ys) Consider(a, b, x, y);
                        }
                        else
                        {
                            // Only exchanges whose net rows are nearest to the ideal (e_a − e_b)/2 can be best for the totals.
                            double ideal = ((placed[a] - _exact[a]) - (placed[b] - _exact[b])) / 2;
                            foreach (var x in xs)
                            {
                                int at = LowerBound(ys, x.Rows - ideal);
                                for (int k = Math.Max(0, at - 2); k < Math.Min(ys.Length, at + 2); k++) Consider(a, b, x, ys[k]);
                            }
                        }
                    }
                }
                if (best is not { } chosen) return;
                var (ma, mb, mx, my) = move;
                foreach (var (j, to) in new[] { (mx.First, mb), (mx.Second, mb), (my.First, ma), (my.Second, ma) })
                {
                    if (j < 0) continue;
                    int from = split[j];
                    var key = (_w[j], C(j));
                    var list = kinds[from][key];
                    list.RemoveAt(list.BinarySearch(j));
                    if (list.Count == 0) kinds[from].Remove(key);
                    if (!kinds[to].TryGetValue(key, out var target)) kinds[to][key] = target = [];
                    int at = target.BinarySearch(j);
                    target.Insert(~at, j);
                    split[j] = to;
                    placed[from] -= _w[j];
                    placed[to] += _w[j];
                    classPlaced[C(j), from] -= _w[j];
                    classPlaced[C(j), to] += _w[j];
                }
                excess = chosen.Excess;
                spread = chosen.Spread;

                void Consider(int a, int b, Combo x, Combo y)
                {
                    work++;
                    if (x.First < 0 && y.First < 0) return;
                    long delta = x.Rows - y.Rows;
                    if (delta == 0 && !Stratified) return;
                    placed[a] -= delta;
                    placed[b] += delta;
                    bool ok = !kept || ContractKept(placed);
                    var error = TotalError(placed);
                    placed[a] += delta;
                    placed[b] -= delta;
                    if (!ok) return;
                    // Without class excess to remove, a worse total error can never win: skip the class arithmetic.
                    if (excess == 0 && error.CompareTo(best?.Error ?? current) > 0) return;
                    var (dEx, dSpread) = Stratified ? ClassChange(classPlaced, a, b, x, y) : (0, 0);
                    double ex = excess + dEx, sp = evenOutClasses ? spread + dSpread : 0;
                    int moved = x.Count + y.Count;
                    // Only strict improvements of (class excess, total error, class spread) count; fewer groups moved breaks ties between them.
                    if (!Better(ex, error, sp, 0, excess, current, spread, 0)) return;
                    if (best is { } cur && !Better(ex, error, sp, moved, cur.Excess, cur.Error, cur.Spread, cur.Moved)) return;
                    best = (ex, error, sp, moved);
                    move = (a, b, x, y);
                }
            }
        }

        /// <summary>
        /// Lexicographic comparison; class excess and spread are sums kept up to date step by step, so they count as
        /// different only beyond a relative 1e-9 (rounding must not make a step and its reverse both look better).
        /// </summary>
        private static bool Better(double excess, Error error, double spread, int moved, double excess0, Error error0, double spread0, int moved0)
        {
            if (!Same(excess, excess0)) return excess < excess0;
            int c = error.CompareTo(error0);
            if (c != 0) return c < 0;
            if (!Same(spread, spread0)) return spread < spread0;
            return moved < moved0;
        }

        private static bool Same(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

        /// <summary>The change of the summed class excess and spread when <paramref name="x"/> moves from split a to b and <paramref name="y"/> from b to a.</summary>
        private (double Excess, double Spread) ClassChange(long[,] classPlaced, int a, int b, Combo x, Combo y)
        {
            double change = 0, spread = 0;
            int c1 = x.Class1, c2 = x.Class2, c3 = y.Class1, c4 = y.Class2;
            for (int k = 0; k < 4; k++)
            {
                int c = k switch { 0 => c1, 1 => c2, 2 => c3, _ => c4 };
                if (c < 0 || (k > 0 && c == c1) || (k > 1 && c == c2) || (k > 2 && c == c3)) continue;
                long toB = (x.Class1 == c ? x.Rows1 : 0) + (x.Class2 == c ? x.Rows2 : 0) - (y.Class1 == c ? y.Rows1 : 0) - (y.Class2 == c ? y.Rows2 : 0);
                if (toB == 0) continue;
                var after = ClassMeasure(classPlaced, c, a, -toB, b, toB);
                var before = ClassMeasure(classPlaced, c, -1, 0, -1, 0);
                change += after.Excess - before.Excess;
                spread += after.Spread - before.Spread;
            }
            return (change, spread);
        }

        /// <summary>The empty set, one group of every kind and (when there are few kinds) every pair, sorted by rows.</summary>
        private static Combo[] Combos(Dictionary<(long Size, int Class), List<int>> kinds)
        {
            var entries = kinds.OrderBy(kv => kv.Key.Size).ThenBy(kv => kv.Key.Class)
                .Select(kv => (kv.Key.Size, kv.Key.Class, First: kv.Value[0], Second: kv.Value.Count > 1 ? kv.Value[1] : -1)).ToArray();
            var list = new List<Combo>(1 + entries.Length + (entries.Length <= PairKindLimit ? entries.Length * (entries.Length + 1) / 2 : 0))
            {
                new(0, -1, -1, -1, 0, -1, 0),
            };
            foreach (var e in entries) list.Add(new(e.Size, e.First, -1, e.Class, e.Size, -1, 0));
            if (entries.Length <= PairKindLimit)
            {
                for (int i = 0; i < entries.Length; i++)
                {
                    var e = entries[i];
                    if (e.Second >= 0) list.Add(new(2 * e.Size, e.First, e.Second, e.Class, e.Size, e.Class, e.Size));
                    for (int k = i + 1; k < entries.Length; k++)
                    {
                        list.Add(new(e.Size + entries[k].Size, e.First, entries[k].First, e.Class, e.Size, entries[k].Class, entries[k].Size));
                    }
                }
            }
            // Stable sort by rows: equal sums keep the enumeration order, so the choice is a pure function of the kinds.
            var array = list.ToArray();
            var keys = array.Select((c, i) => (c.Rows, i)).ToArray();
            Array.Sort(keys, array);
            return array;
        }

        private static int LowerBound(Combo[] sorted, double rows)
        {
            int lo = 0, hi = sorted.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (sorted[mid].Rows < rows) lo = mid + 1; else hi = mid;
            }
            return lo;
        }
    }
}
