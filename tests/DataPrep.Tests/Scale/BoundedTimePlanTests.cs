using DataPrep.Tests.S3;

namespace DataPrep.Tests.Scale;

/// <summary>
/// The bounded plan of a time split (issue 16): the plan task finds the cut-offs (times at the exact count positions, or
/// the given cutoffs) and the gaps from passes over the scan tasks' key columns and writes no routing; each encode task
/// tags its bucket by the cut-offs and orders it by time. Inputs in time order keep the scan tasks' buckets; inputs out of
/// time order are exchanged by time range. Workers as separate processes, tasks in shuffled order, write the files and
/// run.json of one process: ties at a boundary (five products a day) stay in the earlier split, the gap drops the same rows.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class BoundedTimePlanTests
{
    public static TheoryData<int, string> Cases() => new()
    {
        { 1, "sorted-gap" },
        { 2, "sorted-gap" },
        { 3, "sorted-gap" },
        { 2, "cutoffs-recordio" },
        { 3, "cutoffs-recordio" },
        { 1, "unsorted" },
        { 2, "unsorted" },
        { 3, "unsorted" },
        { 3, "unsorted-cutoffs-recordio" },
        { 2, "shuffled" },
    };

    private static string[] CaseArgs(string name, TempDir tmp)
    {
        string[] time = ["--label", "demand", "--split", "time", "--time", "date", "--timestamps", "epoch", "--encode", "product=onehot"];
        return name switch
        {
            "sorted-gap" => [Paths.SampleData("demand.csv"), .. time, "--train", "0.6", "--validation", "0.25", "--test", "0.15", "--gap", "3d", "--shard-rows", "300"],
            "cutoffs-recordio" => [Paths.SampleData("demand.csv"), .. time, "--cutoffs", "2024-09-01,2025-03-01", "--gap", "2d", "--format", "recordio-protobuf", "--shard-size", "16KB"],
            "unsorted" => [.. Unsorted(tmp), .. time, "--gap", "3d", "--shard-rows", "300"],
            "unsorted-cutoffs-recordio" => [.. Unsorted(tmp), .. time, "--cutoffs", "2024-09-01,2025-03-01", "--format", "recordio-protobuf", "--shard-size", "16KB"],
            "shuffled" => [Paths.SampleData("demand.csv"), .. time, "--shuffle", "--seed", "4", "--gap", "1d", "--shard-rows", "500"],
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    /// <summary>demand.csv's rows in no time order, in two files.</summary>
    private static string[] Unsorted(TempDir tmp)
    {
        var lines = File.ReadAllLines(Paths.SampleData("demand.csv"));
        var random = new Random(5);
        var shuffled = lines.Skip(1).OrderBy(_ => random.Next()).ToList();
        return
        [
            tmp.File("a.csv", string.Join('\n', [lines[0], .. shuffled.Take(shuffled.Count / 2)]) + "\n"),
            tmp.File("b.csv", string.Join('\n', [lines[0], .. shuffled.Skip(shuffled.Count / 2)]) + "\n"),
        ];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_time_split_planned_by_its_cut_offs_writes_the_files_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        var args = CaseArgs(name, tmp);
        var (_, work, _) = ScaleOutTests.RunOneAndMany(tmp, args, workers);

        // The bounded path: cut-offs in the plan's report, no routing; rows out of time order exchanged by time range.
        var objects = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(objects, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
        var plan = File.ReadAllText(objects.Single(f => f.Contains($"{Path.DirectorySeparatorChar}plan{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && f.EndsWith("00000.json", StringComparison.Ordinal)));
        Assert.Contains("\"timeCuts\"", plan, StringComparison.Ordinal);
        Assert.Equal(name.StartsWith("unsorted", StringComparison.Ordinal) && workers > 1, plan.Contains("\"timeBuckets\"", StringComparison.Ordinal));
    }
}
