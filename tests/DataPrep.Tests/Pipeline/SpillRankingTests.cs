using System.Globalization;
using System.Text;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// A spilled, shuffled split whose tags follow from row ids (and classes: a random split) keeps nothing per row in
/// memory: each hash file's row ids wait in a file beside it and the file's rows are ranked on their own
/// (<c>SplitSpill.EmitBounded</c>); a file too large to rank within the budget is first split by the next bits of the
/// shuffle hash. The bytes are those of an in-memory run, on both emission paths (rows placed in their batches, and
/// gathered when a string column rules placing out), stratified or not, with random folds or not.
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

        var memory = CliRunner.Run(DataPrep.Cli.DataPrepCli.CreateRegistry(), [.. job, "--out", tmp.Combine("memory")]);
        Assert.True(memory.Code == 0, memory.Err);
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var spilled = CliRunner.Run(registry, [.. job, "--out", tmp.Combine("spilled"), "--memory", "16KB", "--temp", spillRoot]);
        Assert.True(spilled.Code == 0, spilled.Err);

        Assert.True(registry.Diagnostics.Spills > 0, "the run was meant to spill");
        Assert.Equal(1, registry.Diagnostics.SpillsRanked);
        bool shuffled = !extra.Contains("--no-shuffle", StringComparison.Ordinal);
        Assert.True((registry.Diagnostics.SpillResplits > 0) == shuffled, $"{registry.Diagnostics.SpillResplits} files split again");
        Assert.Equal(withText ? 0 : 1, registry.Diagnostics.SpillsPlaced);
        Assert.Equal(0, registry.Diagnostics.SpillRepartitions);
        Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));

        var expected = RunOutputs.FileHashes(tmp.Combine("memory"));
        var actual = RunOutputs.FileHashes(tmp.Combine("spilled"));
        Assert.Contains(expected.Keys, k => k.Contains("/part-", StringComparison.Ordinal));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }
}
