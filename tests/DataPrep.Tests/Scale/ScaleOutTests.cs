using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DataPrep.Scale;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Scale;

/// <summary>
/// One conversion as N workers (issue 16): separate OS processes running the steps' tasks in any order, retried or
/// killed and run again, write exactly the files of the one-process run; run.json differs only in time stamps, paths
/// and the record of the workers. Mix-ups stop with exit 2 naming the step, the task and the cause.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class ScaleOutTests
{
    private static readonly string[] s_churn = ["--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--seed", "5"];

    /// <summary>The options of each worker count's case: a different split method and format each.</summary>
    public static TheoryData<int, string> ProcessCases() => new()
    {
        { 1, "churn" },
        { 2, "speech-group" },
        { 3, "churn-kfold" },
        { 7, "demand-time" },
    };

    private static string[] CaseArgs(string name) => name switch
    {
        "churn" => [Paths.SampleData("churn.csv"), .. s_churn, "--shard-size", "9KB"],
        "speech-group" => [Paths.SampleData("speech/utterances.csv"), "--label", "label", "--split", "group", "--group", "speaker_id", "--drop", "path,transcript,speaker_id", "--format", "recordio-protobuf", "--shards", "3"],
        // fill:mean: the means are learned from train, exact sums whatever the order of the rows (ExactMean).
        "churn-kfold" => [Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id,plan,region", "--seed", "5", "--folds", "3", "--stratify", "churn", "--format", "libsvm", "--missing", "fill:mean", "--shard-rows", "250"],
        "demand-time" => [Paths.SampleData("demand.csv"), "--label", "demand", "--split", "time", "--time", "date", "--gap", "7d", "--timestamps", "epoch", "--encode", "product=onehot", "--compress", "gzip", "--shard-size", "20KB"],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(ProcessCases))]
    public void Workers_as_separate_processes_write_the_files_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        var one = tmp.Combine("one");
        var many = tmp.Combine("many");
        var single = CliProcess.Run(["convert", .. CaseArgs(name), "--out", one, "--quiet"]);
        Assert.True(single.Code == 0, single.Err);
        string[] common = ["convert", .. CaseArgs(name), "--out", many, "--quiet", "--workers", Text(workers)];
        if (workers is 1 or 7)
        {
            // The local engine: each step's tasks as processes at once.
            var r = CliProcess.Run(common);
            Assert.True(r.Code == 0, r.Err);
        }
        else
        {
            RunSteps(common, new Random(workers), (args, _) => CliProcess.Run(args));
        }
        AssertSameRun(one, many, workers);
    }

    [Fact]
    public void A_task_killed_mid_write_or_run_twice_leaves_the_same_result()
    {
        using var tmp = new TempDir();
        var input = BigCsv(tmp, 60_000);
        var one = tmp.Combine("one");
        var many = tmp.Combine("many");
        var spill = tmp.Combine("spill");
        string[] options = [input, "--label", "y", "--encode", "c=onehot", "--shard-size", "1MB", "--seed", "3"];
        Assert.Equal(0, CliProcess.Run(["convert", .. options, "--out", one, "--quiet", "--temp", spill]).Code);
        string[] common = ["convert", .. options, "--out", many, "--quiet", "--workers", "2", "--temp", spill];
        int killed = 0;
        foreach (var line in StepsOf(common))
        {
            for (int task = 0; task < line.Tasks; task++)
            {
                string[] args = [.. common, "--step", line.Name, "--worker", Text(task)];
                if (task == 0 && line.Name is ScaleStep.Scan or ScaleStep.Encode or ScaleStep.Write)
                {
                    // SIGKILL once the task is writing (its temp files have bytes), then run it again. On a busy machine
                    // the task may finish before this thread sees its bytes: that attempt counts as a run twice, and
                    // the kill is tried again (at most 5 times).
                    for (int attempt = 0; attempt < 5; attempt++)
                    {
                        if (Directory.Exists(spill)) Directory.Delete(spill, recursive: true);
                        if (!KillWhileWriting(args, spill)) continue;
                        killed++;
                        break;
                    }
                }
                if (line.Name is ScaleStep.Scan or ScaleStep.Write && task == 1) Assert.Equal(0, CliProcess.Run(args).Code);   // run twice
                if (line.Name == ScaleStep.Commit)
                {
                    // Killed somewhere in its run (start-up, publishing, or writing run.json): the work area stays whole
                    // until a commit has finished, so running it again completes the run.
                    using var p = CliProcess.Start(args);
                    Thread.Sleep(1200);
                    if (!p.HasExited) p.Kill(entireProcessTree: true);
                    p.WaitForExit();
                }
                var r = CliProcess.Run(args);
                Assert.True(r.Code == 0, $"{line.Name} {task}: {r.Err}");
            }
        }
        Assert.True(killed >= 2, $"only {killed} of 3 tasks were killed while writing (the input is meant to be big enough)");
        AssertSameRun(one, many, 2);
        Assert.False(Directory.Exists(Path.Combine(many, "_dataprep", "work")), "the work area is removed after the commit");
        Assert.Empty(Directory.GetDirectories(many, ".dataprep-staging-*"));

        // A commit retried after it had finished (the engine lost its success) finds its own run and changes nothing.
        var files = RunOutputs.FileHashes(many);
        var again = CliProcess.Run([.. common, "--step", "commit"]);
        Assert.True(again.Code == 0, again.Err);
        Assert.Equal(files, RunOutputs.FileHashes(many));
    }

    /// <summary>
    /// A time split of inputs not in time order: the rows are exchanged by time range instead of by input file (the bounded
    /// plan publishes the rows at every N-th position of the time order); ties at the cut-offs stay together and the gap
    /// drops the same rows as in one process.
    /// </summary>
    [Fact]
    public void A_time_split_of_unsorted_inputs_exchanges_rows_by_time_range()
    {
        using var tmp = new TempDir();
        var lines = File.ReadAllLines(Paths.SampleData("demand.csv"));
        var shuffled = lines.Skip(1).OrderBy(l => l.GetHashCode(StringComparison.Ordinal)).ToList();
        var a = tmp.File("a.csv", string.Join('\n', [lines[0], .. shuffled.Take(shuffled.Count / 2)]) + "\n");
        var b = tmp.File("b.csv", string.Join('\n', [lines[0], .. shuffled.Skip(shuffled.Count / 2)]) + "\n");
        string[] options = [a, b, "--label", "demand", "--split", "time", "--time", "date", "--gap", "3d", "--timestamps", "epoch", "--encode", "product=onehot", "--shard-rows", "300", "--quiet"];
        var one = tmp.Combine("one");
        Assert.Equal(0, CliRunner.Run(["convert", .. options, "--out", one]).Code);
        var many = tmp.Combine("many");
        RunSteps(["convert", .. options, "--out", many, "--workers", "3", "--keep-work"], new Random(8), (args, _) => CliRunner.Run(args));
        var plan = Directory.GetFiles(Path.Combine(many, "_dataprep", "work"), "00000.json", SearchOption.AllDirectories).Single(f => f.Contains($"{Path.DirectorySeparatorChar}plan{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        Assert.Contains("\"timeBuckets\"", File.ReadAllText(plan), StringComparison.Ordinal);
        Directory.Delete(Path.Combine(many, "_dataprep", "work"), recursive: true);
        AssertSameRun(one, many, 3);
    }

    /// <summary>One Parquet file of four row groups (written by DuckDB) is divided among the scan tasks by row group.</summary>
    [Fact]
    public void A_parquet_file_is_divided_among_the_scan_tasks_by_row_group()
    {
        using var tmp = new TempDir();
        string[] options = [Paths.Fixture("parquet", "dict.parquet"), "--no-label", "--categorical", "onehot", "--missing", "drop", "--quiet", "--shard-size", "8KB"];
        var one = tmp.Combine("one");
        Assert.Equal(0, CliRunner.Run(["convert", .. options, "--out", one]).Code);
        var many = tmp.Combine("many");
        RunSteps(["convert", .. options, "--out", many, "--workers", "3", "--keep-work"], new Random(4), (args, _) => CliRunner.Run(args));
        var work = Path.Combine(many, "_dataprep", "work");
        var read = Directory.GetFiles(work, "*.json", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}scan{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!["rowsRead"]!.GetValue<long>()).ToList();
        Assert.Equal([250L, 500L, 250L], read);   // row groups of 250 rows: 1, 2 and 1 of them
        Directory.Delete(work, recursive: true);
        AssertSameRun(one, many, 3);
    }

    /// <summary>
    /// <c>--on-bad-row skip|quarantine</c> as workers (issue 17): each scan task counts and quarantines its share, and the
    /// commit joins them in task order. Four inputs with every cause of bad row (one input has none, so some task
    /// quarantines nothing): the split files, the quarantine file's bytes and run.json's <c>badRows</c> and rows read are
    /// those of one process, for 1, 2 and 3 workers, tasks in shuffled order.
    /// </summary>
    [Theory]
    [InlineData(1, "quarantine")]
    [InlineData(2, "quarantine")]
    [InlineData(3, "quarantine")]
    [InlineData(2, "skip")]
    public void Bad_rows_as_workers_are_counted_and_quarantined_as_in_one_process(int workers, string policy)
    {
        using var tmp = new TempDir();
        var inputs = BadRowInputs(tmp);
        string[] options = [.. inputs, "--label", "y", "--column-type", "a=int", "--encode", "c=onehot", "--seed", "4", "--shard-rows", "40", "--on-bad-row", policy, "--quiet"];
        var one = tmp.Combine("one");
        var single = CliRunner.Run(["convert", .. options, "--out", one]);
        Assert.True(single.Code == 0, single.Err);
        var many = tmp.Combine("many");
        RunSteps(["convert", .. options, "--out", many, "--workers", Text(workers)], new Random(workers), (args, _) => CliRunner.Run(args));
        AssertSameRun(one, many, workers);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(many, "_dataprep", "run.json")))!["summary"]!;
        var counts = summary["badRows"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<long>());
        Assert.Equal(new Dictionary<string, long> { ["missing value"] = 6, ["non-finite number"] = 6, ["ragged row"] = 6, ["value of the wrong type"] = 7 }, counts);
        Assert.Equal(4 * 60 + 1, summary["rowsRead"]!.GetValue<long>());
        var quarantine = Path.Combine(many, "_dataprep", "quarantine", "part-00000.jsonl");
        if (policy == "skip")
        {
            Assert.False(File.Exists(quarantine));
            return;
        }
        // In input order, file by file, and row by row within a file (a source's rows and the missing-value stage's together).
        var rows = File.ReadAllLines(quarantine).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(25, rows.Count);
        var files = rows.Select(r => Array.IndexOf(inputs, r["file"]!.GetValue<string>())).ToList();
        Assert.Equal([0, 1, 3], files.Distinct());
        Assert.Equal(files.Order(), files);
        var order = rows.Select(r => (File: Array.IndexOf(inputs, r["file"]!.GetValue<string>()), Row: r["row"]!.GetValue<long>())).ToList();
        Assert.Equal(order.OrderBy(x => x.File).ThenBy(x => x.Row), order);
    }

    /// <summary>Four CSV inputs of 60 rows (61 for input 1); inputs 0, 1 and 3 hold two bad rows of each cause (input 1 one more), input 2 none.</summary>
    private static string[] BadRowInputs(TempDir tmp)
    {
        var files = new string[4];
        for (int f = 0; f < files.Length; f++)
        {
            var text = new StringBuilder("y,a,b,c\n");
            for (int i = 0; i < 60; i++)
            {
                int k = i % 15;
                string row = f == 2 || i < 3 ? "" : k switch
                {
                    4 when i < 30 => $"{i % 2},oops{i},1.5,c{i % 3}",   // a value of the wrong type
                    7 when i < 30 => $"{i % 2},{i},2.5",                 // ragged
                    9 when i < 30 => $"{i % 2},{i},inf,c1",              // non-finite
                    12 when i < 30 => $"{i % 2},,3.5,c2",                // missing (under --missing error)
                    _ => "",
                };
                text.Append(row.Length > 0 ? row : $"{i % 2},{i + 100 * f},{(i * 0.25).ToString(CultureInfo.InvariantCulture)},c{i % 3}").Append('\n');
            }
            if (f == 1) text.Append("1,oops,0.5,c0\n");
            files[f] = tmp.File($"in-{f}.csv", text.ToString());
        }
        return files;
    }

    /// <summary>--like: the earlier run's seed, split and maps, as workers too.</summary>
    [Fact]
    public void Like_an_earlier_run_as_workers_writes_what_one_process_writes()
    {
        using var tmp = new TempDir();
        var earlier = tmp.Combine("earlier");
        Assert.Equal(0, CliRunner.Run(["convert", Paths.SampleData("churn.csv"), .. s_churn, "--out", earlier, "--quiet", "--stratify", "churn"]).Code);
        string[] options = [Paths.SampleData("churn.csv"), "--like", earlier, "--quiet", "--format", "recordio-protobuf"];
        var one = tmp.Combine("one");
        Assert.Equal(0, CliRunner.Run(["convert", .. options, "--out", one]).Code);
        var many = tmp.Combine("many");
        RunSteps(["convert", .. options, "--out", many, "--workers", "2"], new Random(2), (args, _) => CliRunner.Run(args));
        AssertSameRun(one, many, 2);
    }

    /// <summary>The library: ScaleRunner runs every step in this process, with the bytes of ConvertRunner.</summary>
    [Fact]
    public async Task ScaleRunner_runs_every_step_in_process_with_the_bytes_of_ConvertRunner()
    {
        using var tmp = new TempDir();
        var options = new DataPrep.Pipeline.ConvertOptions
        {
            Inputs = [Paths.SampleData("churn.csv")],
            Output = tmp.Combine("one"),
            Label = "churn",
            Drop = ["customer_id"],
            Encodings = new Dictionary<string, DataPrep.Pipeline.FeatureEncoding> { ["plan"] = DataPrep.Pipeline.FeatureEncoding.OneHot, ["region"] = DataPrep.Pipeline.FeatureEncoding.Ordinal },
            Format = "libsvm",
        };
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        await DataPrep.Conversion.ConvertRunner.RunAsync(options, registry);
        var scale = new ScaleOptions(3);
        Assert.Equal(["scan 3", "plan 1", "encode 3", "write 3", "commit 1"], ScaleRunner.Steps(options, scale, registry).Select(s => s.ToString()));
        var report = await ScaleRunner.RunAsync(options with { Output = tmp.Combine("many") }, scale, registry);
        Assert.Equal(2000, report.RowsRead);
        AssertSameRun(tmp.Combine("one"), tmp.Combine("many"), 3);
    }

    [Fact]
    public void Engines_give_the_task_index_through_their_environment()
    {
        using var tmp = new TempDir();
        var one = tmp.Combine("one");
        var many = tmp.Combine("many");
        Assert.Equal(0, CliRunner.Run(["convert", Paths.SampleData("churn.csv"), .. s_churn, "--out", one, "--quiet"]).Code);
        string[] common = ["convert", Paths.SampleData("churn.csv"), .. s_churn, "--out", many, "--quiet", "--workers", "2"];
        // Scan 0 as an AWS Batch array child, scan 1 as a Kubernetes Indexed Job pod; the one-task steps need no index.
        Assert.Equal(0, CliProcess.Run([.. common, "--step", "scan"], new() { ["AWS_BATCH_JOB_ARRAY_INDEX"] = "0" }).Code);
        Assert.Equal(0, CliProcess.Run([.. common, "--step", "scan"], new() { ["JOB_COMPLETION_INDEX"] = "1" }).Code);
        Assert.Equal(0, CliRunner.Run([.. common, "--step", "plan"]).Code);
        foreach (var step in new[] { "encode", "write" })
        {
            for (int t = 0; t < 2; t++) Assert.Equal(0, CliRunner.Run([.. common, "--step", step, "--worker", Text(t)]).Code);
        }
        Assert.Equal(0, CliRunner.Run([.. common, "--step", "commit"]).Code);
        AssertSameRun(one, many, 2);
    }

    [Fact]
    public void SageMaker_hosts_give_the_index_of_the_current_host_in_sorted_order()
    {
        using var tmp = new TempDir();
        var config = tmp.File("resourceconfig.json", """{"current_host": "algo-10", "hosts": ["algo-2", "algo-10", "algo-1"], "network_interface_name": "eth0"}""");
        Assert.Equal((1, config), EngineIndex.Find(_ => null, config));   // "algo-1" < "algo-10" < "algo-2", ordinal
        Assert.Equal((2, EngineIndex.BatchVariable), EngineIndex.Find(v => v == EngineIndex.BatchVariable ? "2" : null, config));
        Assert.Equal((4, EngineIndex.KubernetesVariable), EngineIndex.Find(v => v == EngineIndex.KubernetesVariable ? "4" : null, config));
        Assert.Null(EngineIndex.Find(_ => null, tmp.Combine("none.json")));
        var bad = Assert.Throws<PipelineValidationException>(() => EngineIndex.Find(v => v == EngineIndex.BatchVariable ? "x" : null));
        Assert.Contains("AWS_BATCH_JOB_ARRAY_INDEX=x", bad.Message, StringComparison.Ordinal);
        var broken = tmp.File("broken.json", """{"hosts": []}""");
        Assert.Throws<PipelineValidationException>(() => EngineIndex.Find(_ => null, broken));
    }

    [Fact]
    public void Mix_ups_stop_with_exit_2_naming_the_step_the_task_and_the_cause()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        string[] common = ["convert", Paths.SampleData("churn.csv"), .. s_churn, "--out", outDir, "--workers", "2"];

        var early = CliRunner.Run([.. common, "--step", "plan"]);
        Assert.Equal(2, early.Code);
        Assert.Contains("step plan task 0 cannot start: task 0 of step scan has not finished", early.Err, StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.Run([.. common, "--step", "scan", "--worker", "0", "--quiet"]).Code);
        var partly = CliRunner.Run([.. common, "--step", "plan"]);
        Assert.Equal(2, partly.Code);
        Assert.Contains("task 1 of step scan has not finished", partly.Err, StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.Run([.. common, "--step", "scan", "--worker", "1", "--quiet"]).Code);
        var other = CliRunner.Run([.. common.Select(a => a == "5" ? "6" : a), "--step", "plan"]);   // another seed
        Assert.Equal(2, other.Code);
        Assert.Contains("other options or inputs", other.Err, StringComparison.Ordinal);
        // CSV inputs divided otherwise among the scan tasks: not the run the scan tasks did either.
        var otherRanges = CliRunner.Run([.. common, "--input-split-size", "1KB", "--step", "plan"]);
        Assert.Equal(2, otherRanges.Code);
        Assert.Contains("other options or inputs", otherRanges.Err, StringComparison.Ordinal);

        var missingIndex = CliRunner.Run([.. common, "--step", "encode"]);
        Assert.Equal(2, missingIndex.Code);
        Assert.Contains("--step encode has 2 tasks: pass --worker 0…1", missingIndex.Err, StringComparison.Ordinal);

        var outOfRange = CliRunner.Run([.. common, "--step", "write", "--worker", "2"]);
        Assert.Equal(2, outOfRange.Code);
        Assert.Contains("step write has 2 tasks, 0…1", outOfRange.Err, StringComparison.Ordinal);

        var unknown = CliRunner.Run([.. common, "--step", "shuffle", "--worker", "0"]);
        Assert.Equal(2, unknown.Code);
        Assert.Contains("expected one of scan, plan, encode, write, commit", unknown.Err, StringComparison.Ordinal);

        var noWorkers = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), .. s_churn, "--out", outDir, "--step", "scan"]);
        Assert.Equal(2, noWorkers.Code);
        Assert.Contains("--step needs --workers N", noWorkers.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(outDir, "_dataprep", "run.json")), "nothing is published before the commit");
        Assert.False(Directory.Exists(Path.Combine(outDir, "train")), "nothing is visible in the channels before the commit");

        // Work of an attempt with other options stays apart (its own fingerprint) and goes with the output's work area
        // once a run commits.
        Assert.Equal(0, CliRunner.Run([.. common.Select(a => a == "5" ? "6" : a), "--step", "scan", "--worker", "0", "--quiet"]).Code);
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(outDir, "_dataprep", "work")).Length);
        RunSteps([.. common, "--quiet"], new Random(1), (args, _) => CliRunner.Run(args));
        Assert.True(File.Exists(Path.Combine(outDir, "_dataprep", "run.json")));
        Assert.False(Directory.Exists(Path.Combine(outDir, "_dataprep", "work")), "the output's work area is removed after the commit");
    }

    [Fact]
    public void An_earlier_run_stays_as_it_was_until_the_commit_replaces_it()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        Assert.Equal(0, CliRunner.Run(["convert", Paths.SampleData("churn.csv"), .. s_churn, "--out", outDir, "--quiet", "--format", "recordio-protobuf"]).Code);
        var before = RunOutputs.FileHashes(outDir);
        string[] common = ["convert", Paths.SampleData("churn.csv"), .. s_churn, "--out", outDir, "--quiet", "--workers", "2", "--keep-work"];

        var refused = CliRunner.Run([.. common, "--step", "scan", "--worker", "0"]);
        Assert.Equal(4, refused.Code);   // an earlier run and no --overwrite: refused before any work
        Assert.Contains("already holds a DataPrep run", refused.Err, StringComparison.Ordinal);

        string[] overwrite = [.. common, "--overwrite"];
        foreach (var line in StepsOf(overwrite).Where(s => s.Name != ScaleStep.Commit))
        {
            for (int t = 0; t < line.Tasks; t++) Assert.Equal(0, CliRunner.Run([.. overwrite, "--step", line.Name, "--worker", Text(t)]).Code);
            var now = RunOutputs.FileHashes(outDir).Where(kv => !kv.Key.StartsWith("_dataprep/work/", StringComparison.Ordinal)).ToDictionary();
            Assert.Equal(before, now);
        }
        Assert.Equal(0, CliRunner.Run([.. overwrite, "--step", "commit"]).Code);
        var after = RunOutputs.FileHashes(outDir);
        Assert.Contains("train/part-00000.csv", after.Keys);
        Assert.DoesNotContain("train/part-00000.pbr", after.Keys);
        Assert.Contains(after.Keys, k => k.StartsWith("_dataprep/work/", StringComparison.Ordinal) && k.EndsWith(".json", StringComparison.Ordinal));   // --keep-work
    }

    /// <summary>
    /// Every built-in format runs as workers; a registered format that does not say so (<c>RunsAsWorkers</c>) is refused
    /// with exit 2 before any work, naming the formats that can.
    /// </summary>
    [Fact]
    public void A_format_that_cannot_run_as_workers_is_refused_up_front()
    {
        using var tmp = new TempDir();
        var registry = new DataPrep.Conversion.DataPrepRegistry();
        registry.Formats.Add(new OneProcessFormat());
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run(registry, ["convert", Paths.SampleData("churn.csv"), "--label", "churn", "--format", OneProcessFormat.FormatName, "--out", outDir, "--workers", "2", "--steps"]);
        Assert.True(r.Code == 2, $"exit {r.Code}\n{r.Err}");
        Assert.Contains($"--format {OneProcessFormat.FormatName} cannot run as workers yet", r.Err, StringComparison.Ordinal);
        Assert.Contains("deepar", r.Err, StringComparison.Ordinal);
        Assert.Equal("", r.Out);
        Assert.False(Directory.Exists(outDir));
    }

    /// <summary>A format of a user's own that runs in one process only.</summary>
    private sealed class OneProcessFormat : DataPrep.Formats.OutputFormatDefinition
    {
        public const string FormatName = "one-process-test";
        public override string Name => FormatName;
        public override string Summary => "test format without workers";
        public override string Extension => "txt";
        public override IReadOnlyList<string> ContentTypes => ["text/plain"];
        public override DataPrep.Pipeline.IRecordSink CreateSink(DataPrep.Formats.FormatSinkContext context) => throw new NotSupportedException("never written in this test");
    }

    /// <summary>The steps of a run, from <c>--steps</c>.</summary>
    internal static List<ScaleStep> StepsOf(string[] common)
    {
        var r = CliRunner.Run([.. common, "--steps"]);
        Assert.True(r.Code == 0, r.Err);
        var steps = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Select(p => new ScaleStep(p[0], int.Parse(p[1], CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(["scan", "plan", "encode", "write", "commit"], steps.Select(s => s.Name));
        return steps;
    }

    /// <summary>Runs every step, each step's tasks in a shuffled order, one at a time.</summary>
    internal static void RunSteps(string[] common, Random random, Func<string[], int, CliRunner.Result> run)
    {
        foreach (var step in StepsOf(common))
        {
            foreach (int task in Enumerable.Range(0, step.Tasks).OrderBy(_ => random.Next()).ToList())
            {
                var r = run([.. common, "--step", step.Name, "--worker", Text(task)], task);
                Assert.True(r.Code == 0, $"step {step.Name} task {task}: exit {r.Code}\n{r.Err}");
            }
        }
    }

    /// <summary>Starts a task and SIGKILLs it once its temp files hold bytes; false when it finished first.</summary>
    private static bool KillWhileWriting(string[] args, string spill)
    {
        using var p = CliProcess.Start(args);
        var clock = Stopwatch.StartNew();
        while (!p.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (HasBytes(spill))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
                return true;
            }
            Thread.Sleep(5);
        }
        p.WaitForExit();
        return false;
    }

    /// <summary>Whether a file under <paramref name="folder"/> has bytes; the task may remove its files while they are looked at.</summary>
    private static bool HasBytes(string folder)
    {
        try
        {
            return Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any(f => new FileInfo(f) is { Exists: true, Length: > 0 });
        }
        catch (IOException)
        {
            return false; // a file or folder went while it was enumerated (FileNotFound, DirectoryNotFound)
        }
    }

    internal static void AssertSameRun(string one, string many, int workers) => AssertSameRun(RunOutputs.FileHashes(one), RunOutputs.ComparableRecordOf(one), many, workers);

    /// <summary>The run in <paramref name="many"/> has the files and run.json of the one-process run taken before.</summary>
    internal static void AssertSameRun(Dictionary<string, string> files, JsonNode a, string many, int workers)
    {
        Assert.Equal(files, RunOutputs.FileHashes(many));
        var b = RunOutputs.ComparableRecordOf(many);
        var recorded = b["workers"]!;
        Assert.Equal(workers, recorded["count"]!.GetValue<int>());
        Assert.Equal($"scan {workers}", recorded["steps"]![0]!.GetValue<string>());
        b.AsObject().Remove("workers");
        Assert.True(JsonNode.DeepEquals(a, b), $"run.json differs beyond time stamps, paths and workers:\none: {a.ToJsonString()}\nmany: {b.ToJsonString()}");
    }

    /// <summary>
    /// Runs a conversion as one process and as <paramref name="workers"/> workers with the work area kept (the local
    /// engine when <paramref name="localEngine"/>, else each task as its own process, each step's tasks in shuffled
    /// order), checks that both wrote the same run, and returns the workers' output, work area and command.
    /// <paramref name="workerArgs"/> are options for the workers only (<c>--input-split-size</c>).
    /// </summary>
    internal static (string Many, string Work, string[] Common) RunOneAndMany(TempDir tmp, string[] args, int workers, bool localEngine = false, string[]? workerArgs = null)
    {
        var one = tmp.Combine("one");
        var many = tmp.Combine("many");
        var work = tmp.Combine("work");
        var single = CliProcess.Run(["convert", .. args, "--out", one, "--quiet"]);
        Assert.True(single.Code == 0, single.Err);
        string[] common = ["convert", .. args, .. workerArgs ?? [], "--out", many, "--quiet", "--workers", Text(workers), "--work", work, "--keep-work"];
        if (localEngine)
        {
            var r = CliProcess.Run(common);
            Assert.True(r.Code == 0, r.Err);
        }
        else
        {
            RunSteps(common, new Random(workers), (a, _) => CliProcess.Run(a));
        }
        AssertSameRun(one, many, workers);
        return (many, work, common);
    }

    /// <summary>A CSV of <paramref name="rows"/> rows: a label, 8 floats and a category (a few MB).</summary>
    internal static string BigCsv(TempDir tmp, int rows)
    {
        var text = new StringBuilder("y,a,b,d,e,f,g,h,i,c\n");
        var random = new Random(1);
        for (int i = 0; i < rows; i++)
        {
            text.Append(i % 3).Append(',');
            for (int k = 0; k < 8; k++) text.Append((random.NextDouble() * 1000).ToString("R", CultureInfo.InvariantCulture)).Append(',');
            text.Append("c").Append(random.Next(20)).Append('\n');
        }
        return tmp.File("big.csv", text.ToString());
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
