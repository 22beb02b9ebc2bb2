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
    string? noisyColumn, IReadOnlySet<int>? noisySources, string? groupColumn = null) : ISplitAssigner
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

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        int n = input.Count;
        var noisy = new bool[n];
        var noisyCol = _noisyIndex >= 0 ? input.Column(_noisyIndex) : null;
        for (int i = 0; i < n; i++)
        {
            if (noisyCol is null) { noisy[i] = noisySources!.Contains(input.Origin(i).Source); continue; }
            if (noisyCol.IsNull(i))
            {
                var (source, row) = input.Origin(i);
                throw Throw.Format("found no value in the noisy/clean column; expected true/false, 1/0 or clean/noisy in every row",
                    source < context.Inputs.Count ? context.Inputs[source] : null, row: row, column: noisyColumn);
            }
            noisy[i] = noisyCol switch
            {
                BooleanColumn b => b.Values[i],
                Int64Column l => l.Values[i] != 0,
                StringColumn s => s.Values[i]!.Trim().ToLowerInvariant() is "noisy" or "true" or "1" or "yes",
                _ => false,
            };
        }

        // Units: rows, or groups of rows. Each unit is clean, noisy or mixed.
        var units = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var groups = _groupIndex >= 0 ? input.Column(_groupIndex) : null;
        for (int i = 0; i < n; i++)
        {
            string key = groups is null ? input.RowIds[i].ToString(System.Globalization.CultureInfo.InvariantCulture) : RandomSplitAssigner.KeyOf(groups, i);
            if (!units.TryGetValue(key, out var list)) units[key] = list = [];
            list.Add(i);
        }
        var hash = new KeyedHash(seed, "split");
        var ordered = units.Select(u => (Key: u.Key, Rows: u.Value, Hash: groups is null ? hash.Hash(input.RowIds[u.Value[0]]) : hash.Hash(u.Key)))
            .OrderBy(u => u.Hash).ThenBy(u => u.Key, StringComparer.Ordinal).ToList();

        var tags = new SplitTag[n];
        var cleanUnits = new List<List<int>>();
        var noisyUnits = new List<List<int>>();
        long droppedMixed = 0;
        foreach (var (_, rows, _) in ordered)
        {
            int noisyRows = rows.Count(r => noisy[r]);
            if (noisyRows == 0) { cleanUnits.Add(rows); continue; }
            if (noisyRows == rows.Count) { noisyUnits.Add(rows); continue; }
            if (approach == NoisyApproach.MixedValidation)
            {
                foreach (int r in rows) tags[r] = SplitTag.Validation;
                continue;
            }
            // Approach 1: validation and test are noisy only, train clean only; keep the larger side.
            bool keepNoisy = noisyRows * 2 >= rows.Count;
            var kept = rows.Where(r => noisy[r] == keepNoisy).ToList();
            foreach (int r in rows.Where(r => noisy[r] != keepNoisy)) { tags[r] = SplitTag.None; droppedMixed++; }
            (keepNoisy ? noisyUnits : cleanUnits).Add(kept);
        }
        if (droppedMixed > 0) context.Report.Drop($"rows of groups with both clean and noisy rows (approach 1 keeps each {groupColumn} on one side)", droppedMixed);

        if (approach == NoisyApproach.TrainOnClean)
        {
            foreach (var u in cleanUnits) foreach (int r in u) tags[r] = SplitTag.Train;
        }
        else
        {
            double tv = cleanFractions[0] + cleanFractions[1];
            Fill(cleanUnits, [cleanFractions[0] / tv, cleanFractions[1] / tv, 0], tags);
        }
        Fill(noisyUnits, [0, noisyValidation, 1 - noisyValidation], tags);
        SetTargets(context.Report, cleanUnits.Sum(u => (long)u.Count), noisyUnits.Sum(u => (long)u.Count), n - droppedMixed);
        return new SplitAssignment(tags);
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
    /// Puts units (in hash order) into the split furthest below its row target; with single-row units this
    /// meets the exact counts, with groups every split ends within one group of its target.
    /// </summary>
    private static void Fill(List<List<int>> units, double[] fractions, SplitTag[] tags)
    {
        long total = units.Sum(u => (long)u.Count);
        var targets = RandomSplitter.ExactCounts(total, fractions);
        var assigned = new long[3];
        foreach (var u in units)
        {
            int best = -1;
            for (int s = 0; s < 3; s++)
            {
                if (fractions[s] <= 0) continue;
                if (best < 0 || targets[s] - assigned[s] > targets[best] - assigned[best]) best = s;
            }
            assigned[best] += u.Count;
            foreach (int r in u) tags[r] = (SplitTag)best;
        }
    }
}
