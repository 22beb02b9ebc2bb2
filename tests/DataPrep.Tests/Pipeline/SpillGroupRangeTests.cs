using System.Globalization;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// A spilling one-process group split (or group folds) past 2^20 groups cuts by hash ranges, as in memory, without a
/// table of every group: the table is let go, its groups and every later row's key go as runs to a file, each later row's
/// key hashes wait beside its id (the rows before keep their group numbers, whose hashes are kept), and the cuts come from
/// the runs walked a bounded table at a time (<c>GroupRangeWalk.Plan</c>). Its own class: 1.1 M rows a case, run beside
/// <see cref="SpillRankingTests"/>.
/// </summary>
public class SpillGroupRangeTests
{
    /// <summary>
    /// 1,100,000 rows in 1,060,000 groups (more than 2^20, so group splits and folds are cut by hash ranges), keys scattered;
    /// the last 40,000 rows come in pairs of one key. In batches of 8,192 rows the table is let go at row 1,056,768: the
    /// rows after it bring new keys, then runs of old ones.
    /// </summary>
    private static string WriteManyGroupsInput(TempDir tmp)
    {
        var path = tmp.Combine("many-groups.csv");
        using var writer = new StreamWriter(path);
        writer.Write("g,x,y\n");
        for (int i = 0; i < 1_100_000; i++)
        {
            long g = (i < 1_060_000 ? i : i / 2) * 7919L % 1_060_000;
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"u{g},{i % 1000},{g % 3}\n"));
        }
        return path;
    }

    [Theory]
    // Past 2^20 groups the table is let go: its groups and every later row's key go as runs to a file, each later row's
    // key hashes wait beside its id, and the cuts come from the runs walked a bounded table at a time.
    [InlineData("")]
    [InlineData("--fractions 100/0/0 --folds 3")]
    [InlineData("--fractions 80/0/20 --folds 3 --no-shuffle")]
    public void Group_splits_of_more_than_a_million_groups_spill_without_their_table_and_give_the_bytes_of_an_in_memory_run(string extra)
    {
        using var tmp = new TempDir();
        var input = WriteManyGroupsInput(tmp);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        string[] job = ["convert", input, "--label", "y", "--split", "group", "--group", "g", "--drop", "g", "--seed", "5", "--batch-rows", "8192", "--quiet",
            .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        // 4 MB: 1.1 M rows spill (about 15 MB), and the walk's tables hold about 10,000 groups each.
        var registry = SpillRankingTests.RunInMemoryAndSpilled(tmp, job, spillRoot, "4MB");
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        Assert.Equal(1, registry.Diagnostics.SpillGroupRanges);
        SpillRankingTests.AssertSameRunRecords(tmp);
    }
}
