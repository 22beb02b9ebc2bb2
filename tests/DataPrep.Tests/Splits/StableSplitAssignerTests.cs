using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Splits;

public class StableSplitAssignerTests
{
    private static readonly double[] s_801010 = [0.8, 0.1, 0.1];

    private static SplitInput Input(long[] ids, string?[]? groups = null)
    {
        var schema = new Schema([new Field("g", ColumnKind.String)]);
        var keys = groups ?? ids.Select(i => (string?)$"g{i}").ToArray();
        var batch = new RecordBatch(schema, [new StringColumn(keys)], ids.Length, new RowInfo(ids, new int[ids.Length], ids.ToArray()));
        return new SplitInput([batch], schema);
    }

    /// <summary>DESIGN §2 stable mode: adding rows later never moves an existing row to another split.</summary>
    [Property(MaxTest = 200)]
    public Property Adding_rows_never_moves_an_existing_row(long[] existing, long[] added, ulong seed)
    {
        var before = existing.Distinct().ToArray();
        var after = before.Concat(added.Distinct().Where(a => !before.Contains(a))).ToArray();
        var assigner = new StableSplitAssigner(s_801010, seed);
        var a = assigner.Assign(Input(before), new RunContext()).Tags;
        var b = assigner.Assign(Input(after), new RunContext()).Tags;
        return Enumerable.Range(0, before.Length).All(i => a[i] == b[i]).ToProperty();
    }

    /// <summary>Keyed by a group column: a group is never split, and adding groups never moves one.</summary>
    [Property(MaxTest = 200)]
    public Property Groups_stay_whole_and_never_move(NonEmptyArray<byte> groupOfRow, byte[] newGroups, ulong seed)
    {
        var groups = groupOfRow.Get.Select(g => (string?)$"speaker{g % 17}").ToArray();
        var ids = Enumerable.Range(0, groups.Length).Select(i => (long)i).ToArray();
        var assigner = new StableSplitAssigner(s_801010, seed, "g");
        assigner.Bind(new Schema([new Field("g", ColumnKind.String)]));
        var tags = assigner.Assign(Input(ids, groups), new RunContext()).Tags;
        bool whole = groups.Select((g, i) => (g, t: tags[i])).GroupBy(x => x.g).All(x => x.Select(y => y.t).Distinct().Count() == 1);
        var moreGroups = groups.Concat(newGroups.Select(g => (string?)$"new{g}")).ToArray();
        var moreIds = Enumerable.Range(0, moreGroups.Length).Select(i => (long)i).ToArray();
        var more = assigner.Assign(Input(moreIds, moreGroups), new RunContext()).Tags;
        return (whole && Enumerable.Range(0, groups.Length).All(i => tags[i] == more[i])).ToProperty();
    }

    [Fact]
    public void Fractions_are_met_approximately_and_zero_fractions_get_nothing()
    {
        var ids = Enumerable.Range(0, 100_000).Select(i => (long)i).ToArray();
        var tags = new StableSplitAssigner([0.7, 0.3, 0], 7).Assign(Input(ids), new RunContext()).Tags;
        double train = tags.Count(t => t == SplitTag.Train) / 100_000.0;
        Assert.InRange(train, 0.69, 0.71);
        Assert.DoesNotContain(SplitTag.Test, tags);
        Assert.Equal(SplitTag.Validation, StableSplitAssigner.Pick(0.9999999999, [0.7, 0.3, 0]));
    }

    [Fact]
    public void Like_reuses_seed_and_maps_so_existing_rows_keep_their_split()
    {
        using var tmp = new TempDir();
        var rows = Enumerable.Range(1, 300).Select(i => $"{i % 2},{(i % 3 == 0 ? "red" : "blue")},{i}").ToList();
        var first = tmp.File("v1.csv", "y,color,x\n" + string.Join("\n", rows) + "\n");
        var v1 = tmp.Combine("v1");
        var r1 = CliRunner.Run("convert", first, "--out", v1, "--label", "y", "--encode", "color=onehot", "--assignment", "stable", "--seed", "11", "--quiet");
        Assert.True(r1.Code == 0, r1.Err);
        // Version 2: the same rows plus new ones at the end, including a new colour.
        var second = tmp.File("v2.csv", "y,color,x\n" + string.Join("\n", rows.Concat(Enumerable.Range(301, 100).Select(i => $"{i % 2},green,{i}"))) + "\n");
        var v2 = tmp.Combine("v2");
        var r2 = CliRunner.Run("convert", second, "--out", v2, "--like", Path.Combine(v1, "_dataprep", "run.json"), "--quiet");
        Assert.True(r2.Code == 0, r2.Err);
        Dictionary<long, string> SplitOfRow(string root) => new[] { "train", "validation", "test" }
            .Where(s => File.Exists(Path.Combine(root, "_dataprep", "lineage", s + ".csv")))
            .SelectMany(s => File.ReadAllLines(Path.Combine(root, "_dataprep", "lineage", s + ".csv")).Skip(1).Select(l => (row: long.Parse(l.Split(',')[2]), s)))
            .ToDictionary(x => x.row, x => x.s);
        var before = SplitOfRow(v1);
        var after = SplitOfRow(v2);
        Assert.Equal(300, before.Count);
        Assert.Equal(400, after.Count);
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        // The one-hot width stays that of v1 (blue, red + unseen): green maps to the unseen column.
        Assert.Equal(
            File.ReadLines(Path.Combine(v1, "train", "part-00000.csv")).First().Split(',').Length,
            File.ReadLines(Path.Combine(v2, "train", "part-00000.csv")).First().Split(',').Length);
    }
}
