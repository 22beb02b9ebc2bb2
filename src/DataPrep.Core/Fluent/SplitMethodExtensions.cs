using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Fluent;

/// <summary>
/// Time, group, noisy/clean and k-fold splits, and incremental assignment: each maps onto the same
/// <see cref="ConvertOptions"/> fields as the CLI flags named in its remarks.
/// </summary>
public static class SplitMethodExtensions
{
    /// <summary>
    /// Oldest rows → train, newest → test by a timestamp column; rows sharing a boundary timestamp go to the
    /// earlier split. Output keeps time order unless <see cref="SplitExtensions.Shuffle"/> comes later.
    /// </summary>
    /// <param name="b">The builder.</param>
    /// <param name="column">The timestamp column (<c>--time</c>).</param>
    /// <param name="train">Train fraction (<c>--fractions</c>).</param>
    /// <param name="validation">Validation fraction.</param>
    /// <param name="test">Test fraction.</param>
    /// <param name="gap">Rows within this duration after each split's last timestamp are dropped and counted (<c>--gap</c>).</param>
    /// <remarks>CLI: <c>--split time --time COL --fractions T/V/T [--gap 7d]</c>.</remarks>
    public static DataPrepBuilder SplitByTime(this DataPrepBuilder b, string column, double train = 0.8, double validation = 0.1, double test = 0.1, TimeSpan? gap = null)
        => b.With(o => o with { SplitBy = SplitMethod.Time, TimeColumn = column, Train = train, Validation = validation, Test = test, Cutoffs = [], Gap = gap, Shuffle = null },
            $"split by time '{column}' {train:0.###}/{validation:0.###}/{test:0.###}{Gap(gap)}");

    /// <summary>
    /// Time split at explicit cut-off instants: one cut-off gives train/test, two give train/validation/test
    /// (train &lt; first ≤ validation &lt; second ≤ test).
    /// </summary>
    /// <param name="b">The builder.</param>
    /// <param name="column">The timestamp column (<c>--time</c>).</param>
    /// <param name="cutoffs">Ascending instants (<c>--cutoffs</c>).</param>
    /// <param name="gap">See <see cref="SplitByTime(DataPrepBuilder, string, double, double, double, TimeSpan?)"/>.</param>
    /// <remarks>CLI: <c>--split time --time COL --cutoffs A,B [--gap 7d]</c>.</remarks>
    public static DataPrepBuilder SplitByTime(this DataPrepBuilder b, string column, IReadOnlyList<DateTimeOffset> cutoffs, TimeSpan? gap = null)
    {
        ArgumentNullException.ThrowIfNull(cutoffs);
        // The CLI's rule: one cut-off means train/test, two mean train/validation/test.
        var (tr, va, te) = cutoffs.Count == 1 ? (0.8, 0.0, 0.2) : (0.8, 0.1, 0.1);
        return b.With(o => o with { SplitBy = SplitMethod.Time, TimeColumn = column, Cutoffs = [.. cutoffs], Train = tr, Validation = va, Test = te, Gap = gap, Shuffle = null },
            $"split by time '{column}' at {string.Join(", ", cutoffs.Select(c => c.ToString("O", System.Globalization.CultureInfo.InvariantCulture)))}{Gap(gap)}");
    }

    /// <summary>
    /// Every group (speaker, patient, user) wholly in one split; fractions met by rows within the largest group.
    /// </summary>
    /// <param name="b">The builder.</param>
    /// <param name="column">The group key column (<c>--group</c>).</param>
    /// <param name="train">Train fraction.</param>
    /// <param name="validation">Validation fraction.</param>
    /// <param name="test">Test fraction.</param>
    /// <param name="stratifyBy">Keep each class's share where groups allow (<c>--stratify</c>).</param>
    /// <remarks>CLI: <c>--split group --group COL --fractions T/V/T [--stratify COL]</c>.</remarks>
    public static DataPrepBuilder SplitByGroup(this DataPrepBuilder b, string column, double train = 0.8, double validation = 0.1, double test = 0.1, string? stratifyBy = null)
        => b.With(o => o with { SplitBy = SplitMethod.Group, GroupColumn = column, Train = train, Validation = validation, Test = test, Stratify = stratifyBy },
            $"split by group '{column}' {train:0.###}/{validation:0.###}/{test:0.###}{(stratifyBy is null ? "" : $" stratified by {stratifyBy}")}");

    /// <summary>
    /// Train on clean rows, test on noisy rows (DESIGN §3.4). The builder's inputs are the clean rows; the
    /// noisy ones come from <paramref name="noisyInputs"/>.
    /// </summary>
    /// <param name="b">The builder.</param>
    /// <param name="noisyInputs">Files whose rows are all noisy (<c>--noisy</c>).</param>
    /// <param name="approach">1: train = clean, noisy → validation/test; 2: clean → train/validation, noisy → validation/test (<c>--noisy-approach</c>).</param>
    /// <param name="noisyValidation">Share of noisy rows that goes to validation (<c>--noisy-validation</c>).</param>
    /// <param name="groupBy">Keep groups (speakers) whole across splits (<c>--group</c>).</param>
    /// <remarks>CLI: <c>--split noisy --noisy FILE… [--noisy-approach 1|2] [--group COL]</c>. Approach 2 splits the clean rows into train/validation only: set e.g. <c>.Fractions(0.9, 0.1, 0)</c>.</remarks>
    public static DataPrepBuilder SplitNoisyClean(this DataPrepBuilder b, IReadOnlyList<string> noisyInputs, NoisyApproach approach = NoisyApproach.TrainOnClean, double noisyValidation = 0.5, string? groupBy = null)
        => b.With(o => o with { SplitBy = SplitMethod.NoisyClean, NoisyInputs = [.. noisyInputs], NoisyColumn = null, NoisyApproach = approach, NoisyValidation = noisyValidation, GroupColumn = groupBy ?? o.GroupColumn },
            $"split noisy/clean (approach {(approach == NoisyApproach.TrainOnClean ? 1 : 2)}), noisy inputs {string.Join(", ", noisyInputs)}{(groupBy is null ? "" : $", groups '{groupBy}'")}");

    /// <summary>Noisy/clean split where a column marks the noisy rows (true/1/yes/"noisy").</summary>
    /// <param name="b">The builder.</param>
    /// <param name="noisyColumn">The marker column (<c>--noisy-column</c>).</param>
    /// <param name="approach">See <see cref="SplitNoisyClean(DataPrepBuilder, IReadOnlyList{string}, NoisyApproach, double, string?)"/>.</param>
    /// <param name="noisyValidation">Share of noisy rows that goes to validation.</param>
    /// <param name="groupBy">Keep groups whole across splits.</param>
    public static DataPrepBuilder SplitNoisyClean(this DataPrepBuilder b, string noisyColumn, NoisyApproach approach = NoisyApproach.TrainOnClean, double noisyValidation = 0.5, string? groupBy = null)
        => b.With(o => o with { SplitBy = SplitMethod.NoisyClean, NoisyColumn = noisyColumn, NoisyInputs = [], NoisyApproach = approach, NoisyValidation = noisyValidation, GroupColumn = groupBy ?? o.GroupColumn },
            $"split noisy/clean (approach {(approach == NoisyApproach.TrainOnClean ? 1 : 2)}), noisy rows marked by '{noisyColumn}'{(groupBy is null ? "" : $", groups '{groupBy}'")}");

    /// <summary>
    /// k-fold cross-validation: the test fraction is held out, the train and validation fractions together are
    /// dealt into <paramref name="folds"/> folds following the split method (stratified, whole groups, or
    /// forward-chaining time blocks), each written once as <c>fold-k/</c>.
    /// </summary>
    /// <param name="b">The builder.</param>
    /// <param name="folds">Number of folds, at least 2 (<c>--folds</c>).</param>
    /// <remarks>CLI: <c>--folds K</c>.</remarks>
    public static DataPrepBuilder KFold(this DataPrepBuilder b, int folds)
        => b.With(o => o with { Folds = folds }, $"{folds}-fold cross-validation");

    /// <summary>Sets the train/validation/test fractions for any split method (<c>--fractions</c>).</summary>
    public static DataPrepBuilder Fractions(this DataPrepBuilder b, double train, double validation, double test)
        => b.With(o => o with { Train = train, Validation = validation, Test = test });

    /// <summary>Fixed hash thresholds: rows or groups added later never move to another split; fractions approximate (<c>--assignment stable</c>).</summary>
    public static DataPrepBuilder StableAssignment(this DataPrepBuilder b)
        => b.With(o => o with { Assignment = Assignment.Stable }, "stable assignment");

    /// <summary>Reuses an earlier run's seed, fractions, split method, label classes and category maps (<c>--like OLD/_dataprep/run.json</c>).</summary>
    public static DataPrepBuilder Like(this DataPrepBuilder b, string runJson)
        => b.With(o => o with { Like = runJson }, $"like {runJson}");

    private static string Gap(TimeSpan? gap) => gap is { } g ? $", gap {g}" : "";
}
