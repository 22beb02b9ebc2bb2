using System.Globalization;
using System.Text.Json.Nodes;
using DataPrep.Scale;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Scale;

/// <summary>
/// DeepAR as N workers (issue 16): rows are bucketed by series, each encode task builds the records of its series, and
/// the commit merges them by series key. Separate OS processes running each step's tasks in a shuffled order, an encode
/// task and the commit run twice, write exactly the files of the one-process run (train, validation and test channels,
/// the later ones repeating the earlier splits' points), for each form of the time split DeepAR takes.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class ScaleOutDeepArTests
{
    private static readonly string[] s_deepar = ["--label", "demand", "--split", "time", "--time", "date", "--series", "product", "--format", "deepar", "--quiet"];

    public static TheoryData<int, string> Cases() => new()
    {
        { 1, "fractions-gap" },
        { 2, "cutoffs-cat" },
        { 3, "unsorted-ties" },
        { 3, "shuffled-no-validation" },
    };

    private static string[] CaseArgs(string name, TempDir tmp) => name switch
    {
        "fractions-gap" => [Paths.SampleData("demand.csv"), .. s_deepar, "--fractions", "70/15/15", "--gap", "7d"],
        // promo changes over time: the run's warning counts the varying series of every worker.
        "cutoffs-cat" => [Paths.SampleData("demand.csv"), .. s_deepar, "--deepar-cat", "promo", "--cutoffs", "2025-07-01,2025-10-01"],
        // Two files out of time order, with points that share a series and a time (kept in one process's order).
        "unsorted-ties" => [.. UnsortedInputs(tmp), .. s_deepar, "--fractions", "80/10/10"],
        // No validation split: its channel does not exist; points arrive in shuffled order.
        "shuffled-no-validation" => [.. UnsortedInputs(tmp), .. s_deepar, "--shuffle", "--fractions", "80/0/20", "--seed", "11"],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DeepAR_workers_as_separate_processes_write_the_files_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        var one = tmp.Combine("one");
        var many = tmp.Combine("many");
        var args = CaseArgs(name, tmp);
        var single = CliProcess.Run(["convert", .. args, "--out", one]);
        Assert.True(single.Code == 0, single.Err);
        string[] common = ["convert", .. args, "--out", many, "--workers", Text(workers)];
        if (workers == 1)
        {
            // The local engine: every step here, each step's tasks as processes.
            var r = CliProcess.Run(common);
            Assert.True(r.Code == 0, r.Err);
        }
        else
        {
            var random = new Random(workers * 17 + name.Length);
            foreach (var step in ScaleOutTests.StepsOf(common))
            {
                foreach (int task in Enumerable.Range(0, step.Tasks).OrderBy(_ => random.Next()).ToList())
                {
                    // An engine's retry: an encode task (it builds its series' records) and the commit (it merges them), twice.
                    int times = (step.Name == ScaleStep.Encode && task == workers - 1) || step.Name == ScaleStep.Commit ? 2 : 1;
                    for (int k = 0; k < times; k++)
                    {
                        var r = CliProcess.Run([.. common, "--step", step.Name, "--worker", Text(task)]);
                        Assert.True(r.Code == 0, $"step {step.Name} task {task} (attempt {k + 1}): exit {r.Code}\n{r.Err}");
                    }
                    if (step.Name != ScaleStep.Commit) Assert.False(Directory.Exists(Path.Combine(many, "train")), "nothing is visible in the channels before the commit");
                }
                if (step.Name == ScaleStep.Plan)
                {
                    // The plan holds no rows: it finds the cut-offs (PlanKind.TimeCuts) and writes no routing.
                    var work = Path.Combine(many, "_dataprep", "work");
                    var objects = Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).ToList();
                    Assert.DoesNotContain(objects, f => Path.GetFileName(f).StartsWith("routing-", StringComparison.Ordinal));
                    var plan = File.ReadAllText(objects.Single(f => f.Contains($"{Path.DirectorySeparatorChar}plan{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && f.EndsWith("00000.json", StringComparison.Ordinal)));
                    Assert.Contains("\"timeCuts\"", plan, StringComparison.Ordinal);
                    Assert.DoesNotContain("\"timeBuckets\"", plan, StringComparison.Ordinal);
                }
            }
        }
        ScaleOutTests.AssertSameRun(one, many, workers);
        Assert.False(Directory.Exists(Path.Combine(many, "_dataprep", "work")), "the work area is removed after the commit");
        var train = File.ReadAllLines(Path.Combine(many, "train", "part-00000.json"));
        var test = File.ReadAllLines(Path.Combine(many, "test", "part-00000.json"));
        // One record per series, in every channel that exists; the test channel holds each series whole.
        Assert.Equal(train.Length, test.Length);
        Assert.True(train.Length > 1, "several series, so that they are spread over the workers");
        Assert.True(Target(test[0]) > Target(train[0]));
        Assert.Equal(name != "shuffled-no-validation", File.Exists(Path.Combine(many, "validation", "part-00000.json")));
        if (name == "cutoffs-cat") Assert.Contains("--deepar-cat values change over time", File.ReadAllText(Path.Combine(many, "_dataprep", "run.json")), StringComparison.Ordinal);
    }

    private static int Target(string record) => JsonNode.Parse(record)!["target"]!.AsArray().Count;

    /// <summary>
    /// The sample demand rows in a shuffled order, with every 40th row repeated (another demand, the same series and
    /// date), as two files.
    /// </summary>
    internal static string[] UnsortedInputs(TempDir tmp)
    {
        var lines = File.ReadAllLines(Paths.SampleData("demand.csv"));
        var rows = lines.Skip(1).ToList();
        for (int i = 0; i < lines.Length - 1; i += 40)
        {
            var cells = rows[i].Split(',');
            cells[^1] = (int.Parse(cells[^1], CultureInfo.InvariantCulture) + 1000).ToString(CultureInfo.InvariantCulture);
            rows.Add(string.Join(',', cells));
        }
        var random = new Random(4);
        rows = [.. rows.OrderBy(_ => random.Next())];
        int half = rows.Count / 2;
        return
        [
            tmp.File("a.csv", lines[0] + "\n" + string.Join("\n", rows.Take(half)) + "\n"),
            tmp.File("b.csv", lines[0] + "\n" + string.Join("\n", rows.Skip(half)) + "\n"),
        ];
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
