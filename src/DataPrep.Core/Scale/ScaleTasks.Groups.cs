using DataPrep.Conversion;
using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Formats;
using DataPrep.Hashing;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>The plan step's group tables: group and noisy/clean-by-group splits decided over the scan tasks' key files.</summary>
internal static partial class ScaleTasks
{
    /// <summary>
    /// A group split's table over every scan task's key columns (the group column, and the class column when stratified),
    /// one batch at a time, decided by the run's own assigner. A row without a group key stops
    /// the run (exit 3) with the error one process gives, naming its file and row: the key columns carry every row's origin,
    /// and the tasks' rows in task order are the input order, so the first such row is the one one process names.
    /// </summary>
    /// <remarks>
    /// With <paramref name="exactOnly"/>, an unstratified table that grows past <see cref="GroupSplitAssigner.ExactGroups"/>
    /// groups is dropped and null returned: such a split is cut by hash ranges (<see cref="GroupRangesOf"/>), which needs no
    /// table of every group.
    /// </remarks>
    private static GroupSplitDecision? GroupTableOf(ScaleRun run, GroupSplitAssigner assigner, string[] paths, int[] keys, Schema keySchema,
        Schema splitInput, CancellationToken cancellationToken, bool exactOnly = false)
    {
        int group = Array.IndexOf(keys, splitInput.IndexOf(assigner.GroupColumn));
        int stratify = assigner.Stratify is null ? -1 : Array.IndexOf(keys, splitInput.IndexOf(assigner.Stratify));
        if (group < 0 || (assigner.Stratify is not null && stratify < 0)) throw new InvalidOperationException("The scan's key columns lack the group split's columns.");
        var table = new GroupTable(stratify >= 0);
        foreach (var (_, b) in KeyBatches(run, paths, keySchema, cancellationToken))
        {
            int missing = table.Add(b.Columns[group], stratify >= 0 ? b.Columns[stratify] : null, b.RowCount);
            if (missing >= 0)
            {
                int source = b.Rows.Sources[missing];
                throw assigner.MissingKey(source >= 0 && source < run.Context.Inputs.Count ? run.Context.Inputs[source] : null, b.Rows.SourceRows[missing]);
            }
            if (exactOnly && stratify < 0 && table.Count > assigner.ExactGroups) return null;
        }
        return assigner.Decide(table);
    }

    /// <summary>
    /// An unstratified group split of more than <see cref="GroupSplitAssigner.ExactGroups"/> groups, cut by hash ranges as one
    /// process cuts it, from one pass over the key columns (<see cref="GroupRangeWalk.Plan"/>: memory bounded by
    /// <paramref name="partitionGroups"/> groups whatever their number). Reports as one process does and returns the walk
    /// (its cuts, and rows per split). A row without a group key stops the run with one process's error, as
    /// <see cref="GroupTableOf"/>'s pass does.
    /// </summary>
    private static GroupRangeWalk GroupRangesOf(ScaleRun run, GroupSplitAssigner assigner, string[] paths, int[] keys, Schema keySchema,
        Schema splitInput, long rows, SpillFolder folder, int partitionGroups, string who, CancellationToken cancellationToken)
    {
        int group = Array.IndexOf(keys, splitInput.IndexOf(assigner.GroupColumn));
        if (group < 0) throw new InvalidOperationException("The scan's key columns lack the group split's column.");
        var walk = GroupRangeWalk.Plan(GroupRuns(run, paths, keySchema, group, assigner, cancellationToken), rows, assigner.Fractions, run.Options.Seed,
            folder, partitionGroups, cancellationToken: cancellationToken);
        if (walk.Walked != rows) throw new PipelineValidationException($"{who}: the key columns hold {walk.Walked:N0} rows, not the {rows:N0} rows the scan tasks reported; the work area mixes runs. Run the scan step again.");
        assigner.Report(run.Context, walk);
        return walk;
    }

    /// <summary>
    /// Group folds of many groups (<see cref="KFoldAssigner.UsesFoldRanges"/>), cut by hash ranges as one process cuts them
    /// (<see cref="KFoldAssigner.GroupFoldRanges"/>), from one pass over the key columns that keeps the train groups (those
    /// <paramref name="splitCuts"/> leave in train; every group without them): their <paramref name="poolRows"/> rows walked
    /// in fold-hash order (<see cref="GroupRangeWalk.Plan"/>, memory bounded by <paramref name="partitionGroups"/> groups).
    /// Without a test split a row without a key counts in the group one process puts such rows in
    /// (<see cref="RandomSplitAssigner.KeyOf"/>); with one, the split's pass has stopped at such a row already.
    /// </summary>
    private static GroupRangeWalk GroupFoldRangesOf(ScaleRun run, KFoldAssigner kfold, string[] paths, int[] keys, Schema keySchema, Schema splitInput,
        List<GroupCut>? splitCuts, long poolRows, SpillFolder folder, int partitionGroups, string who, CancellationToken cancellationToken)
    {
        int group = Array.IndexOf(keys, splitInput.IndexOf(run.Options.GroupColumn!));
        if (group < 0) throw new InvalidOperationException("The scan's key columns lack the group folds' column.");
        var splitHash = new KeyedHash(run.Options.Seed, "split");
        var runs = GroupRuns(run, paths, keySchema, group, kfold.TestCarver as GroupSplitAssigner, cancellationToken);
        if (splitCuts is not null) runs = runs.Where(r => GroupCut.TagOf(splitCuts, splitHash.Hash(r.Key), r.Key) == SplitTag.Train);
        var walk = GroupRangeWalk.Plan(runs, poolRows, KFoldAssigner.FoldFractions(kfold.K), run.Options.Seed, folder, partitionGroups, "fold", cancellationToken);
        if (walk.Walked != poolRows) throw new PipelineValidationException($"{who}: the key columns hold {walk.Walked:N0} train rows, not the {poolRows:N0} rows the test split left in train; the work area mixes runs. Run the scan step again.");
        return walk;
    }

    /// <summary>
    /// One pass over the key columns' group column (<paramref name="group"/>) as runs of one key's rows, in task order. A row
    /// without a key stops the run with <paramref name="missingIsError"/>'s error naming its file and row, or, without it,
    /// counts under the key of such rows (<see cref="RandomSplitAssigner.KeyOf"/>).
    /// </summary>
    private static IEnumerable<(string Key, long Rows)> GroupRuns(ScaleRun run, string[] paths, Schema keySchema, int group, GroupSplitAssigner? missingIsError,
        CancellationToken cancellationToken)
    {
        foreach (var (_, b) in KeyBatches(run, paths, keySchema, cancellationToken))
        {
            var column = b.Columns[group];
            string? last = null;
            long repeat = 0;
            for (int r = 0; r < b.RowCount; r++)
            {
                if (missingIsError is not null && column.IsNull(r))
                {
                    int source = b.Rows.Sources[r];
                    throw missingIsError.MissingKey(source >= 0 && source < run.Context.Inputs.Count ? run.Context.Inputs[source] : null, b.Rows.SourceRows[r]);
                }
                string key = RandomSplitAssigner.KeyOf(column, r);
                if (repeat > 0 && string.Equals(key, last, StringComparison.Ordinal)) { repeat++; continue; }
                if (repeat > 0) yield return (last!, repeat);
                (last, repeat) = (key, 1);
            }
            if (repeat > 0) yield return (last!, repeat);
        }
    }

    /// <summary>
    /// Group folds' table over every scan task's key columns, decided as one process decides (<see cref="KFoldAssigner"/>):
    /// with a group test split, its table (the same pass and missing-key error as <see cref="GroupTableOf"/>), reported as
    /// one process's test carver reports it, then the folds of its train groups; without one, every group is train and a
    /// row without a key counts in the group one process puts such rows in (<see cref="RandomSplitAssigner.KeyOf"/>). The
    /// folds come from <see cref="KFoldAssigner.GroupFolds"/> over the train groups' keys and rows, the rule one process
    /// applies to its pool. Returns the table, each group's split, and each group's fold (−1 for a test group). With
    /// <paramref name="exactOnly"/>, returns null as soon as the groups are too many for that rule
    /// (<see cref="KFoldAssigner.UsesFoldRanges"/>): such folds are cut by hash ranges (<see cref="GroupFoldRangesOf"/>).
    /// </summary>
    private static (GroupTable Table, SplitTag[] Splits, short[] Folds)? GroupFoldsTableOf(ScaleRun run, KFoldAssigner kfold, string[] paths, int[] keys, Schema keySchema,
        Schema splitInput, CancellationToken cancellationToken, bool exactOnly = false)
    {
        GroupTable table;
        SplitTag[] splits;
        if (kfold.TestCarver is GroupSplitAssigner carver)
        {
            var decision = GroupTableOf(run, carver, paths, keys, keySchema, splitInput, cancellationToken, exactOnly && kfold.MayUseFoldRanges);
            if (decision is null) return null;
            carver.Report(run.Context, decision);
            (table, splits) = (decision.Table, decision.SplitArray);
        }
        else
        {
            if (kfold.TestCarver is not null) throw new InvalidOperationException("Group folds are planned from a group table only after a group test split or none.");
            int group = Array.IndexOf(keys, splitInput.IndexOf(run.Options.GroupColumn!));
            if (group < 0) throw new InvalidOperationException("The scan's key columns lack the group folds' column.");
            table = new GroupTable(stratified: false);
            foreach (var (_, b) in KeyBatches(run, paths, keySchema, cancellationToken))
            {
                table.Add(b.Columns[group], null, b.RowCount, missingIsGroup: true);
                if (exactOnly && kfold.UsesFoldRanges(table.Count)) return null;
            }
            var train = new SplitTag[table.Count];
            Array.Fill(train, SplitTag.Train);
            splits = train;
        }
        // The pool: the train groups, with all their rows (a group is wholly in train or in test).
        var pool = Enumerable.Range(0, table.Count).Where(g => splits[g] == SplitTag.Train).ToArray();
        var poolFolds = KFoldAssigner.GroupFolds(table, pool, kfold.K, run.Options.Seed);
        var folds = new short[table.Count];
        Array.Fill(folds, (short)-1);
        for (int j = 0; j < pool.Length; j++) folds[pool[j]] = poolFolds[j];
        return (table, splits, folds);
    }

    /// <summary>
    /// A noisy/clean split's group table (clean and noisy rows per group) over every scan task's key columns, decided by the
    /// run's own assigner. Which rows are noisy is the assigner's own rule (<see cref="NoisyCleanAssigner.NoisyRows"/>: the
    /// noisy column, or the input a row came from), whose error for a row without a value names its file and row.
    /// </summary>
    private static NoisyGroupDecision NoisyGroupTableOf(ScaleRun run, NoisyCleanAssigner assigner, string[] paths, int[] keys, Schema keySchema,
        Schema splitInput, CancellationToken cancellationToken)
    {
        int group = Array.IndexOf(keys, splitInput.IndexOf(assigner.GroupColumn!));
        if (group < 0) throw new InvalidOperationException("The scan's key columns lack the noisy/clean split's group column.");
        var table = new GroupTable(stratified: true);
        foreach (var (_, b) in KeyBatches(run, paths, keySchema, cancellationToken))
        {
            var wide = new Column[splitInput.Count];
            for (int c = 0; c < wide.Length; c++) wide[c] = new SpilledColumn(splitInput[c].Kind, b.RowCount);
            for (int k = 0; k < keys.Length; k++) wide[keys[k]] = b.Columns[k];
            var noisy = assigner.NoisyRows(new SplitInput([new RecordBatch(splitInput, wide, b.RowCount, b.Rows)], splitInput), run.Context);
            var groups = b.Columns[group];
            for (int r = 0; r < b.RowCount; r++) table.Add(RandomSplitAssigner.KeyOf(groups, r), noisy[r] ? NoisyCleanAssigner.NoisyKey : NoisyCleanAssigner.CleanKey);
        }
        return assigner.Decide(table);
    }
}
