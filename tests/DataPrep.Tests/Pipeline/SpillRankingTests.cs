using System.Globalization;
using System.Text;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// A spilled, shuffled split whose tags follow from row ids (and classes: a random split) keeps nothing per row in
/// memory: each hash file's row ids wait in a file beside it and the file's rows are ranked on their own
/// (<c>SplitSpill.EmitBounded</c>); a file too large to rank within the budget is first split by the next bits of the
/// shuffle hash. The bytes are those of an in-memory run, on both emission paths (rows placed in their batches, and
/// gathered when a string column rules placing out), stratified or not, with random folds or not. A time split keeps each
/// row's time beside its id instead: its cut-offs come from passes over those files, and its rows are put in time order a
/// bucket of (time, row id) order at a time, or a file at a time when pass 1's files already follow one another in time.
/// Time folds keep each row's fold time there too, and are cut from those files; a group split keeps each row's group
/// number there, and its group table in memory.
/// </summary>
public class SpillRankingTests
{
    // With --memory 16KB a file may hold 64 KiB / 48 bytes ≈ 1,365 rows to be ranked; 200,000 rows over 128 hash files is
    // about 1,560 a file, so every file is split again.
    private const int Rows = 200_000;

    private static string WriteInput(TempDir tmp, bool withText)
    {
        var rng = new Random(11);
        var sb = new StringBuilder(withText ? "x,s,y\n" : "x,y\n");
        for (int i = 0; i < Rows; i++)
        {
            sb.Append(Math.Round(rng.NextDouble() * 100, 3).ToString(CultureInfo.InvariantCulture));
            if (withText) sb.Append(',').Append((char)('a' + rng.Next(26)));
            sb.Append(',').Append(rng.Next(4)).Append('\n');
        }
        return tmp.File("input.csv", sb.ToString());
    }

    /// <summary>
    /// Runs <paramref name="job"/> in memory and under <c>--memory <paramref name="budget"/></c> (spill files under <paramref name="spillRoot"/>),
    /// checks that both succeed, that the second spilled and left no spill file, and that every data file is equal; returns
    /// the spilled run's registry (its diagnostics say which path ran).
    /// </summary>
    internal static DataPrep.Conversion.DataPrepRegistry RunInMemoryAndSpilled(TempDir tmp, string[] job, string spillRoot, string budget = "16KB")
    {
        var memory = CliRunner.Run(DataPrep.Cli.DataPrepCli.CreateRegistry(), [.. job, "--out", tmp.Combine("memory")]);
        Assert.True(memory.Code == 0, memory.Err);
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var spilled = CliRunner.Run(registry, [.. job, "--out", tmp.Combine("spilled"), "--memory", budget, "--temp", spillRoot]);
        Assert.True(spilled.Code == 0, spilled.Err);
        Assert.True(registry.Diagnostics.Spills > 0, "the run was meant to spill");
        Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));

        var expected = RunOutputs.FileHashes(tmp.Combine("memory"));
        var actual = RunOutputs.FileHashes(tmp.Combine("spilled"));
        Assert.Contains(expected.Keys, k => k.Contains("/part-", StringComparison.Ordinal));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        return registry;
    }

    /// <summary>The run records of <see cref="RunInMemoryAndSpilled"/>'s two runs are equal (reports, warnings, counts), time stamps aside.</summary>
    internal static void AssertSameRunRecords(TempDir tmp)
    {
        var memoryRecord = RunOutputs.ComparableRecordOf(tmp.Combine("memory"), "memory");
        var spilledRecord = RunOutputs.ComparableRecordOf(tmp.Combine("spilled"), "memory");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(memoryRecord, spilledRecord), $"run records differ:\n{memoryRecord}\n---\n{spilledRecord}");
    }

    [Theory]
    [InlineData(false, "80/10/10", "")]
    [InlineData(true, "70/30", "")]
    // Stratified, each row's class number waits beside its id (and moves with it when a file is split again).
    [InlineData(false, "60/20/20", "--stratify y")]
    // Random folds after a random test split: the folds' cuts over the train rows' fold hashes.
    [InlineData(false, "80/0/20", "--folds 3")]
    [InlineData(true, "80/0/20", "--folds 4")]
    // Stratified folds after a stratified test split: each class's train rows cut into blocks, classes in key order.
    [InlineData(false, "80/0/20", "--stratify y --folds 3")]
    // Without a shuffle the files follow each other in input order and their rows are ranked by counting (none is split again).
    [InlineData(true, "80/10/10", "--no-shuffle")]
    [InlineData(false, "80/0/20", "--no-shuffle --folds 3")]
    public void Files_ranked_one_at_a_time_and_split_again_give_the_bytes_of_an_in_memory_run(bool withText, string fractions, string extra)
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, withText);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        // The text column is encoded after the split (fitted on train), so the spill holds it as strings.
        string[] job = ["convert", input, "--label", "y", "--fractions", fractions, "--seed", "7", "--quiet", .. withText ? new[] { "--encode", "s=ordinal" } : [],
            .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        var registry = RunInMemoryAndSpilled(tmp, job, spillRoot);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        bool shuffled = !extra.Contains("--no-shuffle", StringComparison.Ordinal);
        Assert.True((registry.Diagnostics.SpillResplits > 0) == shuffled, $"{registry.Diagnostics.SpillResplits} files split again");
        Assert.Equal(withText ? 0 : 1, registry.Diagnostics.SpillsPlaced);
        Assert.Equal(0, registry.Diagnostics.SpillRepartitions);
    }

    [Fact]
    public void A_column_nothing_reads_after_the_split_is_not_spilled_and_the_rows_are_placed()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, withText: true);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        // The text column is dropped: nothing after the split reads it, so the spill writes fixed-width values only.
        string[] job = ["convert", input, "--label", "y", "--drop", "s", "--seed", "7", "--quiet"];

        var registry = RunInMemoryAndSpilled(tmp, job, spillRoot);
        Assert.Equal(["s"], registry.Diagnostics.SpillUnreadColumns);
        Assert.Equal(1, registry.Diagnostics.SpillsPlaced);
    }

    /// <summary>200,000 rows with a time column <c>t</c> (epoch seconds): random over a year, few distinct (ties across every bucket), or ascending.</summary>
    private static string WriteTimedInput(TempDir tmp, string times, bool withText)
    {
        var rng = new Random(5);
        var sb = new StringBuilder(withText ? "t,x,s,y\n" : "t,x,y\n");
        long start = 1_700_000_000;
        for (int i = 0; i < Rows; i++)
        {
            long t = times switch
            {
                "random" => start + rng.Next(365 * 86_400),
                "ties" => start + 86_400L * rng.Next(12),
                "two" => start + 86_400L * rng.Next(2),
                _ => start + i / 3,
            };
            sb.Append(t).Append(',').Append(Math.Round(rng.NextDouble() * 100, 3).ToString(CultureInfo.InvariantCulture));
            if (withText) sb.Append(',').Append((char)('a' + rng.Next(26)));
            sb.Append(',').Append(rng.Next(4)).Append('\n');
        }
        return tmp.File("input.csv", sb.ToString());
    }

    /// <summary><see cref="RunInMemoryAndSpilled"/> of a time split of <see cref="WriteTimedInput"/>'s rows with <paramref name="extra"/> options.</summary>
    private static DataPrep.Conversion.DataPrepRegistry RunTimedInMemoryAndSpilled(TempDir tmp, string times, bool withText, string extra)
    {
        var input = WriteTimedInput(tmp, times, withText);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        string[] job = ["convert", input, "--label", "y", "--split", "time", "--time", "t", "--seed", "7", "--quiet", .. withText ? new[] { "--encode", "s=ordinal" } : [],
            .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        return RunInMemoryAndSpilled(tmp, job, spillRoot);
    }

    [Theory]
    // Unsorted times: pass 1's files overlap in time, so the rows go to buckets of (time, row id) order first.
    [InlineData("random", false, "", true)]
    [InlineData("random", true, "--gap 3d", true)]
    // Twelve distinct times: bucket starts fall inside runs of one time and are told apart by row id.
    [InlineData("ties", false, "--fractions 60/20/20", true)]
    // Two distinct times of about 100,000 rows each, more than a search may hold (65,536 rows under this budget): the
    // bucket starts inside each time are found by narrowing the row ids.
    [InlineData("two", false, "--fractions 40/0/60", true)]
    [InlineData("random", false, "--cutoffs 2024-02-01,2024-06-01", true)]
    // Ascending times: each of pass 1's files is one range of time order already; no bucket is written.
    // (Batches of 256 rows: a file of pass 1 holds at most 512 under this budget, and one batch must fit in a file.)
    [InlineData("ascending", false, "--batch-rows 256", false)]
    [InlineData("ascending", true, "--gap 1h --batch-rows 256", false)]
    // Shuffled: the time cut tags rows from their times, and the order is hash order as for a random split.
    [InlineData("random", false, "--shuffle", false)]
    public void Time_splits_spill_without_per_row_state_and_give_the_bytes_of_an_in_memory_run(string times, bool withText, string extra, bool bucketed)
    {
        using var tmp = new TempDir();
        var registry = RunTimedInMemoryAndSpilled(tmp, times, withText, extra);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        Assert.Equal(bucketed ? 1 : 0, registry.Diagnostics.SpillRepartitions);
        // The search for the bucket starts held at most a 64th of the budget's rows at once (or 65,536), whatever the ties.
        Assert.InRange(registry.Diagnostics.SpillLargestHeld, bucketed ? 1 : 0, 65_536);
        Assert.True((registry.Diagnostics.SpillResplits > 0) == extra.Contains("--shuffle", StringComparison.Ordinal), $"{registry.Diagnostics.SpillResplits} files split again");
        // The report (time ranges, gap drops) too: the cut-offs are the same.
        AssertSameRunRecords(tmp);
    }

    [Theory]
    // Time folds keep each row's fold time (and, after a time test split, its ticks) beside its id: the test split's
    // cut-offs and the folds' starts come from passes over those files; the order is the split stage's.
    [InlineData("random", false, "--folds 4")]
    [InlineData("random", true, "--fractions 80/0/20 --folds 3 --gap 2d")]
    // Twelve distinct times: fold starts fall inside runs of one time, whose rows stay in the earlier fold.
    [InlineData("ties", false, "--fractions 70/0/30 --folds 5")]
    // More folds than the pool's distinct times leave folds empty: those have no channel (and are refused unless allowed).
    [InlineData("ties", false, "--folds 20 --allow-empty-split")]
    [InlineData("ascending", false, "--fractions 80/0/20 --folds 3")]
    [InlineData("random", false, "--fractions 80/0/20 --folds 3 --shuffle")]
    public void Time_folds_spill_without_per_row_state_and_give_the_bytes_of_an_in_memory_run(string times, bool withText, string extra)
    {
        using var tmp = new TempDir();
        var registry = RunTimedInMemoryAndSpilled(tmp, times, withText, extra);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        Assert.Equal(0, registry.Diagnostics.SpillRepartitions);
        Assert.Contains(RunOutputs.FileHashes(tmp.Combine("spilled")).Keys, k => k.Contains("fold-1/", StringComparison.Ordinal));
        AssertSameRunRecords(tmp);
    }

    /// <summary>200,000 rows with a group column <c>g</c> of about <paramref name="groups"/> keys (text, or integers), rows of a group scattered.</summary>
    /// <remarks>With <paramref name="noisy"/>, a column <c>n</c> marks rows noisy: every row of a fifth of the groups, and elsewhere one row in four groups' rows on average (so some groups are mixed).</remarks>
    private static string WriteGroupedInput(TempDir tmp, int groups, bool numeric, bool withText, int missingAt = -1, bool noisy = false, int missingNoisyAt = -1)
    {
        var rng = new Random(9);
        var sb = new StringBuilder((noisy ? "n," : "") + (withText ? "g,x,s,y\n" : "g,x,y\n"));
        for (int i = 0; i < Rows; i++)
        {
            // Skewed sizes: low group numbers are drawn more often.
            int g = (int)(groups * Math.Pow(rng.NextDouble(), 2));
            if (noisy) sb.Append(i == missingNoisyAt ? "" : g % 5 == 0 || rng.Next(4 * Rows / groups) == 0 ? "1" : "0").Append(',');
            if (i != missingAt) sb.Append(numeric ? (g * 7919L).ToString(CultureInfo.InvariantCulture) : "u" + g);
            sb.Append(',').Append(Math.Round(rng.NextDouble() * 100, 3).ToString(CultureInfo.InvariantCulture));
            if (withText) sb.Append(',').Append((char)('a' + rng.Next(26)));
            sb.Append(',').Append((g + rng.Next(3)) % 4).Append('\n');
        }
        return tmp.File("input.csv", sb.ToString());
    }

    [Theory]
    // A group split keeps its group table (a few bytes a group) and each row's group number beside its id.
    [InlineData(40, false, false, "")]
    [InlineData(20_000, false, true, "")]
    [InlineData(3_000, true, false, "--no-shuffle")]
    // Stratified: the table counts each group's rows per class.
    [InlineData(500, false, false, "--stratify y")]
    [InlineData(20_000, true, false, "--stratify y --no-shuffle --fractions 70/15/15")]
    public void Group_splits_spill_without_per_row_state_and_give_the_bytes_of_an_in_memory_run(int groups, bool numeric, bool withText, string extra)
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, groups, numeric, withText);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        string[] job = ["convert", input, "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--seed", "7", "--quiet", .. withText ? new[] { "--encode", "s=ordinal" } : [],
            .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        var registry = RunInMemoryAndSpilled(tmp, job, spillRoot);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        Assert.Equal(0, registry.Diagnostics.SpillRepartitions);
        // The group key, dropped right after the split, is not spilled as a column (its units wait beside the ids; the
        // lineage keeps each row's key with the row's information, so the rows are gathered, not placed).
        Assert.Equal(["g"], registry.Diagnostics.SpillUnreadColumns);
        // The report (groups per split, warnings) too: the table and its decision are the same.
        AssertSameRunRecords(tmp);
    }

    [Theory]
    // A noisy/clean split by group: each row's group and side (2 × group + noisy) wait beside its id; the table counts
    // each group's clean and noisy rows. Approach 1 drops a mixed group's smaller side, approach 2 sends it to validation.
    [InlineData(2_000, false, "--noisy-approach 1")]
    [InlineData(300, true, "--noisy-approach 2 --fractions 80/20 --noisy-validation 0.3 --no-shuffle")]
    public void Noisy_clean_splits_by_group_spill_without_per_row_state_and_give_the_bytes_of_an_in_memory_run(int groups, bool numeric, string extra)
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, groups, numeric, withText: false, noisy: true);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        string[] job = ["convert", input, "--label", "y", "--split", "noisy", "--noisy-column", "n", "--group", "g", "--drop", "g,n", "--seed", "7", "--quiet",
            .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        var registry = RunInMemoryAndSpilled(tmp, job, spillRoot);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        AssertSameRunRecords(tmp);
    }

    [Theory]
    // Without groups: each row's side is its class (clean or noisy), which waits beside its id; each side is cut at its own
    // fractions (approach 1: clean all train; approach 2: clean by the fractions), as a stratified split cuts its classes.
    [InlineData("--noisy-approach 1", false)]
    [InlineData("--noisy-approach 2 --fractions 80/20 --noisy-validation 0.3 --no-shuffle", false)]
    // Noisy rows by input (--noisy FILE): the side follows from the row's source.
    [InlineData("--noisy-approach 2 --fractions 90/10", true)]
    public void Noisy_clean_splits_without_groups_spill_without_per_row_state_and_give_the_bytes_of_an_in_memory_run(string extra, bool byInput)
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, 2_000, numeric: false, withText: false, noisy: true);
        string[] inputs = [input];
        string[] marking = ["--noisy-column", "n", "--drop", "g,n"];
        if (byInput)
        {
            // The rows the column marks noisy go to a second input, given with --noisy.
            var lines = File.ReadAllLines(input);
            var header = lines[0][(lines[0].IndexOf(',', StringComparison.Ordinal) + 1)..];
            var rows = lines.Skip(1).Select(l => (Noisy: l[0] == '1', Row: l[(l.IndexOf(',', StringComparison.Ordinal) + 1)..])).ToArray();
            inputs = [tmp.File("clean.csv", string.Join('\n', rows.Where(r => !r.Noisy).Select(r => r.Row).Prepend(header)) + "\n"),
                "--noisy", tmp.File("noisy.csv", string.Join('\n', rows.Where(r => r.Noisy).Select(r => r.Row).Prepend(header)) + "\n")];
            marking = ["--drop", "g"];
        }
        // The bounded path ranks the files (the general one holds each row's id and side instead).
        AssertRankedAsInMemory(tmp, ["convert", .. inputs, "--label", "y", "--split", "noisy", .. marking, "--seed", "7", "--quiet", .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
    }

    /// <summary>
    /// <see cref="RunInMemoryAndSpilled"/> of <paramref name="job"/> (spill files under the temp dir's <c>spill</c>): the
    /// spilled run took the bounded path (it ranked its files), and both runs' records are equal.
    /// </summary>
    private static void AssertRankedAsInMemory(TempDir tmp, string[] job)
    {
        var registry = RunInMemoryAndSpilled(tmp, job, Directory.CreateDirectory(tmp.Combine("spill")).FullName);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        AssertSameRunRecords(tmp);
    }

    [Fact]
    public void A_spilled_noisy_clean_split_without_groups_refuses_a_missing_noisy_value_as_an_in_memory_run_does()
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, 300, numeric: true, withText: false, noisy: true, missingNoisyAt: 120_000);
        AssertRefusedAsInMemory(tmp, ["convert", input, "--label", "y", "--split", "noisy", "--noisy-column", "n", "--drop", "n", "--missing", "fill:0", "--quiet"],
            "row 120001, column 'n': found no value in the noisy/clean column");
    }

    [Theory]
    // Group folds: each row's group waits beside its id; the table of every group decides the test split (if any) and the
    // folds of the groups left in train.
    [InlineData(40, false, "--fractions 100/0/0 --folds 3")]
    [InlineData(3_000, true, "--fractions 80/0/20 --folds 4")]
    [InlineData(20_000, false, "--fractions 70/0/30 --folds 5 --no-shuffle")]
    // A stratified group test split: its table counts classes; the folds deal the train groups by rows.
    [InlineData(500, false, "--stratify y --fractions 80/0/20 --folds 3")]
    public void Group_folds_spill_without_per_row_state_and_give_the_bytes_of_an_in_memory_run(int groups, bool numeric, string extra)
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, groups, numeric, withText: false);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        string[] job = ["convert", input, "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--seed", "7", "--quiet", .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        var registry = RunInMemoryAndSpilled(tmp, job, spillRoot);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        Assert.Contains(RunOutputs.FileHashes(tmp.Combine("spilled")).Keys, k => k.Contains("fold-2/", StringComparison.Ordinal));
        AssertSameRunRecords(tmp);
    }

    [Fact]
    public void Spilled_group_folds_without_a_test_split_put_rows_without_a_key_into_one_group_as_an_in_memory_run_does()
    {
        using var tmp = new TempDir();
        // A text key left missing (fill:mean fills numbers only): group folds without a test split count it as a group.
        var input = WriteGroupedInput(tmp, 300, numeric: false, withText: false, missingAt: 170_000);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var registry = RunInMemoryAndSpilled(tmp, ["convert", input, "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--missing", "fill:mean", "--fractions", "100/0/0", "--folds", "3", "--quiet"], spillRoot);
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        AssertSameRunRecords(tmp);
    }

    [Fact]
    public void A_spilled_group_test_split_before_group_folds_refuses_a_missing_group_key_as_an_in_memory_run_does()
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, 300, numeric: false, withText: false, missingAt: 170_000);
        AssertRefusedAsInMemory(tmp, ["convert", input, "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--missing", "fill:mean", "--fractions", "80/0/20", "--folds", "3", "--quiet"],
            "row 170001, column 'g': found no group key");
    }

    [Fact]
    public void A_spilled_noisy_clean_split_by_group_refuses_a_missing_noisy_value_as_an_in_memory_run_does()
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, 300, numeric: true, withText: false, noisy: true, missingNoisyAt: 160_000);
        AssertRefusedAsInMemory(tmp, ["convert", input, "--label", "y", "--split", "noisy", "--noisy-column", "n", "--group", "g", "--drop", "n", "--missing", "fill:0", "--quiet"],
            "row 160001, column 'n': found no value in the noisy/clean column");
    }

    [Theory]
    // Stable assignment keeps nothing per row once it spills: each batch is tagged as it is spilled (a row's split follows
    // from its id or key alone), and the tags wait beside the row ids.
    [InlineData(false, "--fractions 80/10/10")]
    [InlineData(false, "--fractions 70/30 --no-shuffle")]
    [InlineData(true, "--fractions 60/20/20")]
    [InlineData(true, "--fractions 80/10/10 --no-shuffle")]
    public void Stable_assignment_spills_without_per_row_state_and_gives_the_bytes_of_an_in_memory_run(bool byGroup, string extra)
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, 3_000, numeric: false, withText: false);
        // The bounded path ranks the files (the general one holds each row's id, its file and the key column instead).
        AssertRankedAsInMemory(tmp, ["convert", input, "--label", "y", "--assignment", "stable", .. byGroup ? new[] { "--split", "group", "--group", "g" } : [],
            "--drop", "g", "--seed", "7", "--quiet", .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
    }

    [Fact]
    public void Spilled_stable_assignment_refuses_a_missing_key_once_every_row_is_read_as_an_in_memory_run_does()
    {
        using var tmp = new TempDir();
        var input = WriteGroupedInput(tmp, 300, numeric: false, withText: false, missingAt: 120_000);
        string[] job = ["convert", input, "--label", "y", "--assignment", "stable", "--split", "group", "--group", "g", "--drop", "g", "--missing", "fill:mean", "--quiet"];
        AssertRefusedAsInMemory(tmp, job, "row 120001, column 'g': found no value in the stable assignment key column");

        // A bad row after the missing key is reported instead, by both: the key is refused only once every row is read.
        var lines = File.ReadAllLines(input);
        lines[190_001] += ",9";
        var withBadRow = tmp.File("bad-row.csv", string.Join('\n', lines) + "\n");
        Directory.Delete(tmp.Combine("spill"));
        AssertRefusedAsInMemory(tmp, [.. job.Select(a => a == input ? withBadRow : a)], "row 190001");
    }

    /// <summary>
    /// Runs <paramref name="job"/> in memory and under <c>--memory 16KB</c>: both stop with exit 3 and the same message,
    /// which names <paramref name="expected"/>; the spilled run did spill, and left no spill file and no output behind.
    /// </summary>
    private static void AssertRefusedAsInMemory(TempDir tmp, string[] job, string expected)
    {
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var memory = CliRunner.Run(DataPrep.Cli.DataPrepCli.CreateRegistry(), [.. job, "--out", tmp.Combine("memory")]);
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var spilled = CliRunner.Run(registry, [.. job, "--out", tmp.Combine("spilled"), "--memory", "16KB", "--temp", spillRoot]);
        Assert.Equal(3, memory.Code);
        Assert.Equal(3, spilled.Code);
        Assert.True(registry.Diagnostics.Spills > 0, "the run was meant to spill");
        Assert.Equal(memory.Err, spilled.Err);
        Assert.Contains(expected, spilled.Err);
        Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        Assert.False(Directory.Exists(tmp.Combine("spilled")) && Directory.EnumerateFileSystemEntries(tmp.Combine("spilled")).Any());
    }

    [Fact]
    public void A_spilled_group_split_refuses_a_missing_group_key_as_an_in_memory_run_does()
    {
        using var tmp = new TempDir();
        // --missing fill:mean fills numbers only, so the text key stays missing and the split itself refuses it.
        var input = WriteGroupedInput(tmp, 300, numeric: false, withText: false, missingAt: 170_000);
        AssertRefusedAsInMemory(tmp, ["convert", input, "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--missing", "fill:mean", "--quiet"],
            "row 170001, column 'g': found no group key");
    }

    [Theory]
    [InlineData("")]
    // Time folds after a time test split: the test split's cut refuses it.
    [InlineData("--fractions 80/0/20 --folds 3")]
    public void A_spilled_time_split_refuses_an_invalid_time_as_an_in_memory_run_does(string extra)
    {
        using var tmp = new TempDir();
        // Float epoch seconds, so that 1e300 reads as a number and the split itself refuses it (a missing time stops at
        // the missing-value stage before the split).
        var lines = File.ReadAllLines(WriteTimedInput(tmp, "random", false)).Select((l, i) => i == 0 ? l : l.Insert(l.IndexOf(',', StringComparison.Ordinal), ".5")).ToArray();
        // Rows 150,000 and 180,000 (numbered from 1 in messages: 150,001 and 180,001): the first one is named.
        foreach (int row in new[] { 150_000, 180_000 }) lines[row + 1] = "1e300" + lines[row + 1][lines[row + 1].IndexOf(',', StringComparison.Ordinal)..];
        var input = tmp.File("bad.csv", string.Join('\n', lines) + "\n");
        AssertRefusedAsInMemory(tmp, ["convert", input, "--label", "y", "--split", "time", "--time", "t", "--quiet", .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)],
            "row 150001, column 't': found 1E+300, which is not a Unix epoch time");
    }
}
