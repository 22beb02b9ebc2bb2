using System.Globalization;
using System.Text.Json.Nodes;
using DataPrep.Tests.Notebooks;
using static DataPrep.Tests.Deploy.DeploySupport;

namespace DataPrep.Tests.Deploy;

/// <summary>
/// The engine scripts run for real against stand-ins for <c>aws</c> and <c>kubectl</c> (<see cref="FakeEngines"/>),
/// with the real dataprep answering <c>--steps</c>: what they submit, in which order, with which sizes and
/// dependencies, and what they do when a step fails. Then the commands they hand the engines are run as the
/// engines would run them, each task with its engine's index variable, and must write what one process writes.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public class EngineScriptTests
{
    private const int Workers = 3;

    /// <summary>
    /// Convert arguments as a user would give them, local so that they run here. The quote and the dollar check
    /// that the scripts hand arguments on unchanged (JSON escaping; Kubernetes' $(VAR) expansion).
    /// </summary>
    private static string[] ConvertArgs(string root, string outName = "out", bool work = true) =>
    [
        Paths.SampleData("churn.csv"), "--out", Path.Combine(root, outName), .. work ? new[] { "--work", Path.Combine(root, "work") } : [],
        "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--quote", "\"", "--null-values", "N/A$",
    ];

    private static string Value(string[] call, string option) => call[Array.IndexOf(call, option) + 1];

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(x => (string)x!).ToArray();

    private static string[] Lines(string text) => text.TrimEnd('\n').Split('\n');

    // ---- AWS Batch ----

    [Fact]
    public void Batch_submits_one_job_per_step_an_array_job_when_it_has_tasks_each_depending_on_the_whole_step_before()
    {
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        var steps = Steps(args, Workers);
        var r = engines.Run("aws-batch/submit.sh", ["--workers", "3", "--queue", "dataprep-queue", "--name", "churn-1", "--wait", "--poll-seconds", "0", "--", .. args]);
        Assert.True(r.Code == 0, r.ToString());

        var calls = engines.Calls();
        Assert.Equal(2 * steps.Count, calls.Count); // every step submitted, then every job followed
        for (int s = 0; s < steps.Count; s++)
        {
            var call = calls[s];
            Assert.Equal(["batch", "submit-job", "--cli-input-json"], call[..3]);
            Assert.Equal(["--query", "jobId", "--output", "text"], call[4..]);
            var request = JsonNode.Parse(call[3])!.AsObject();
            Assert.Equal($"churn-1-{steps[s].Name}", (string)request["jobName"]!);
            Assert.Equal("dataprep-queue", (string)request["jobQueue"]!);
            Assert.Equal("dataprep", (string)request["jobDefinition"]!);
            if (steps[s].Tasks > 1) Assert.Equal(steps[s].Tasks, (int)request["arrayProperties"]!["size"]!);
            else Assert.False(request.ContainsKey("arrayProperties"), $"{steps[s].Name} has one task: a plain job");
            if (s == 0)
            {
                Assert.False(request.ContainsKey("dependsOn"));
            }
            else
            {
                var dependency = Assert.Single(request["dependsOn"]!.AsArray())!.AsObject();
                Assert.Equal($"job-{s}", (string)dependency["jobId"]!); // the fake's id for the previous submit
                Assert.False(dependency.ContainsKey("type"), "a plain dependency on the whole previous job (not N_TO_N)");
            }
            Assert.Equal(StepCommand(args, Workers, steps[s].Name), Strings(request["containerOverrides"]!["command"]));
        }
        Assert.Equal(steps.Select((st, s) => $"{st.Name} job-{s + 1}"), Lines(r.Out));
        Assert.Equal(steps.Select((_, s) => $"job-{s + 1}"), calls.Skip(steps.Count).Select(c =>
        {
            Assert.Equal(["batch", "describe-jobs"], c[..2]);
            return Value(c, "--jobs");
        }));
    }

    [Fact]
    public void Batch_wait_stops_at_the_step_whose_job_failed_and_names_it()
    {
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        var steps = Steps(args, Workers);
        int failed = steps.ToList().FindIndex(s => s.Name == "encode");
        var r = engines.Run("aws-batch/submit.sh", ["--workers", "3", "--queue", "q", "--name", "churn-1", "--wait", "--poll-seconds", "0", "--", .. args], failStep: "encode");
        Assert.Equal(1, r.Code);
        Assert.Contains($"step encode (job job-{failed + 1}) failed: Essential container in task exited", r.Err);
        var calls = engines.Calls();
        Assert.Equal(steps.Count, calls.Count(c => c[1] == "submit-job"));
        Assert.Equal(Enumerable.Range(1, failed + 1).Select(k => $"job-{k}"), calls.Where(c => c[1] == "describe-jobs").Select(c => Value(c, "--jobs")));
    }

    // ---- Kubernetes ----

    [Fact]
    public void Kubernetes_applies_one_indexed_job_per_step_and_waits_for_it_to_complete_before_the_next()
    {
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        var steps = Steps(args, Workers);
        var r = engines.Run("kubernetes/run.sh", ["--workers", "3", "--image", "registry.example/dataprep:1", "--name", "churn-1", "--namespace", "ml",
            "--service-account", "dataprep", "--parallelism", "2", "--retries", "2", "--", .. args]);
        Assert.True(r.Code == 0, r.ToString());

        var calls = engines.Calls();
        Assert.Equal(2 * steps.Count, calls.Count);
        for (int s = 0; s < steps.Count; s++)
        {
            string name = $"churn-1-{steps[s].Name}";
            Assert.Equal(["--namespace", "ml", "apply", "-f", "-"], calls[2 * s]);
            Assert.Equal(["--namespace", "ml", "wait", "--for=condition=complete", $"job/{name}"], calls[2 * s + 1][..5]);

            var job = MiniYaml.Parse(engines.Applied(s + 1));
            Assert.Equal("Job", MiniYaml.At(job, "kind"));
            Assert.Equal(name, MiniYaml.At(job, "metadata.name"));
            Assert.Equal("Indexed", MiniYaml.At(job, "spec.completionMode"));
            Assert.Equal((long)steps[s].Tasks, MiniYaml.At(job, "spec.completions"));
            Assert.Equal((long)Math.Min(2, steps[s].Tasks), MiniYaml.At(job, "spec.parallelism"));
            Assert.Equal(2L, MiniYaml.At(job, "spec.backoffLimitPerIndex"));
            Assert.Equal("dataprep", MiniYaml.At(job, "spec.template.spec.serviceAccountName"));
            Assert.Equal("registry.example/dataprep:1", MiniYaml.At(job, "spec.template.spec.containers[0].image"));
            Assert.Equal(StepCommand(args, Workers, steps[s].Name), KubernetesArgs(job));
        }
        Assert.Equal(steps.Select(st => $"{st.Name} churn-1-{st.Name}"), Lines(r.Out));
    }

    /// <summary>The container's args as the container receives them: Kubernetes turns $$ into $.</summary>
    private static string[] KubernetesArgs(object job)
        => ((List<object?>)MiniYaml.At(job, "spec.template.spec.containers[0].args")!).Select(a => ((string)a!).Replace("$$", "$")).ToArray();

    [Fact]
    public void Kubernetes_stops_at_the_step_whose_job_failed_and_applies_nothing_after_it()
    {
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        var r = engines.Run("kubernetes/run.sh", ["--workers", "3", "--image", "img", "--name", "churn-1", "--", .. args], failStep: "plan");
        Assert.Equal(1, r.Code);
        Assert.Contains("step plan failed (job/churn-1-plan: FailedIndexes: Job has failed indexes)", r.Err);
        Assert.Contains("kubectl logs -l dataprep/run=churn-1,dataprep/step=plan", r.Err);
        Assert.Equal(["apply", "wait", "apply", "wait", "get"], engines.Calls().Select(c => c[0]));
        Assert.Equal(["scan churn-1-scan"], Lines(r.Out));
    }

    [Fact]
    public void Kubernetes_print_writes_the_jobs_and_applies_none()
    {
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        var steps = Steps(args, Workers);
        var r = engines.Run("kubernetes/run.sh", ["--print", "--workers", "3", "--image", "img", "--name", "churn-1", "--", .. args]);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Empty(engines.Calls());
        var jobs = r.Out.Split("\n---\n").Select(MiniYaml.Parse).ToList();
        Assert.Equal(steps.Select(s => $"churn-1-{s.Name}"), jobs.Select(j => (string)MiniYaml.At(j, "metadata.name")!));
        Assert.Equal(steps.Select(s => (long)s.Tasks), jobs.Select(j => (long)MiniYaml.At(j, "spec.parallelism")!));
    }

    // ---- SageMaker Processing ----

    [Fact]
    public void SageMaker_creates_one_processing_job_per_step_on_as_many_instances_as_tasks_and_waits_for_each()
    {
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        var steps = Steps(args, Workers);
        const string role = "arn:aws:iam::123456789012:role/dataprep-processing";
        var r = engines.Run("sagemaker/run.sh", ["--workers", "3", "--image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/dataprep:1", "--role", role,
            "--instance-type", "ml.m5.2xlarge", "--name", "churn-1", "--", .. args]);
        Assert.True(r.Code == 0, r.ToString());

        var calls = engines.Calls();
        Assert.Equal(3 * steps.Count, calls.Count);
        for (int s = 0; s < steps.Count; s++)
        {
            string name = $"churn-1-{steps[s].Name}";
            var (create, wait, describe) = (calls[3 * s], calls[3 * s + 1], calls[3 * s + 2]);
            Assert.Equal(["sagemaker", "create-processing-job", "--cli-input-json"], create[..3]);
            Assert.Equal(["sagemaker", "wait", "processing-job-completed-or-stopped", "--processing-job-name", name], wait);
            Assert.Equal(["sagemaker", "describe-processing-job", "--processing-job-name", name], describe[..4]);

            var request = JsonNode.Parse(create[3])!.AsObject();
            Assert.Equal(name, (string)request["ProcessingJobName"]!);
            Assert.Equal(role, (string)request["RoleArn"]!);
            Assert.Equal("123456789012.dkr.ecr.us-east-1.amazonaws.com/dataprep:1", (string)request["AppSpecification"]!["ImageUri"]!);
            Assert.Equal(["dataprep", .. StepCommand(args, Workers, steps[s].Name)], Strings(request["AppSpecification"]!["ContainerEntrypoint"]));
            var cluster = request["ProcessingResources"]!["ClusterConfig"]!;
            Assert.Equal(steps[s].Tasks, (int)cluster["InstanceCount"]!);
            Assert.Equal("ml.m5.2xlarge", (string)cluster["InstanceType"]!);
            Assert.False(request.ContainsKey("ProcessingInputs") || request.ContainsKey("ProcessingOutputs"), "dataprep reads and writes S3 itself");
        }
        Assert.Equal(steps.Select(st => $"{st.Name} churn-1-{st.Name}"), Lines(r.Out));
    }

    [Fact]
    public void SageMaker_stops_at_the_step_whose_job_failed_and_creates_nothing_after_it()
    {
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        var r = engines.Run("sagemaker/run.sh", ["--workers", "3", "--image", "img", "--role", "role", "--name", "churn-1", "--", .. args], failStep: "write");
        Assert.Equal(1, r.Code);
        Assert.Contains("step write: processing job churn-1-write is Failed: AlgorithmError: exit code 3", r.Err);
        var created = engines.Calls().Where(c => c[1] == "create-processing-job").Select(c => (string)JsonNode.Parse(c[3])!["ProcessingJobName"]!);
        Assert.Equal(["churn-1-scan", "churn-1-plan", "churn-1-encode", "churn-1-write"], created);
    }

    // ---- All three ----

    [Theory]
    [InlineData("aws-batch/submit.sh", "--queue q")]
    [InlineData("kubernetes/run.sh", "--image img")]
    [InlineData("sagemaker/run.sh", "--image img --role r")]
    public void Scripts_refuse_scale_out_options_among_the_convert_arguments_before_calling_anything(string script, string options)
    {
        using var engines = new FakeEngines();
        foreach (var extra in new[] { "--workers 2", "--step scan", "--worker=1", "--steps" })
        {
            var r = engines.Run(script, ["--workers", "2", .. options.Split(' '), "--", Paths.SampleData("churn.csv"), "--out", "out", .. extra.Split(' ')]);
            Assert.True(r.Code == 2, $"{extra}: {r}");
            Assert.Contains($"'{extra.Split(' ')[0]}' is the script's to set", r.Err);
        }
        var noWorkers = engines.Run(script, [.. options.Split(' '), "--", Paths.SampleData("churn.csv"), "--out", "out"]);
        Assert.Equal(2, noWorkers.Code);
        Assert.Contains("--workers N is required", noWorkers.Err);
        var badName = engines.Run(script, ["--workers", "2", "--name", "Churn_1", .. options.Split(' '), "--", Paths.SampleData("churn.csv"), "--out", "out"]);
        Assert.Equal(2, badName.Code);
        Assert.Empty(engines.Calls());
    }

    [Theory]
    [InlineData("aws-batch/submit.sh", "--queue q")]
    [InlineData("kubernetes/run.sh", "--image img")]
    [InlineData("sagemaker/run.sh", "--image img --role r")]
    public void Scripts_stop_with_dataprep_s_message_when_steps_refuses_the_arguments(string script, string options)
    {
        using var engines = new FakeEngines();
        var r = engines.Run(script, ["--workers", "2", .. options.Split(' '), "--", Paths.SampleData("churn.csv"), "--out", "out", "--lable", "churn"]);
        Assert.Equal(1, r.Code);
        Assert.Contains("'--lable' is not an option of 'convert'", r.Err);
        Assert.Contains("--workers 2 --steps' failed", r.Err);
        Assert.Empty(engines.Calls());
    }

    /// <summary>
    /// The whole hand-over: the commands a script gave its engine, run step after step as the engine runs them (the
    /// tasks of a step at once, each in its own process with the engine's index variable), write the data files
    /// one process writes, commit the run and leave no work area behind.
    /// </summary>
    [Theory]
    [InlineData("aws-batch/submit.sh")]
    [InlineData("kubernetes/run.sh")]
    public void Commands_handed_to_the_engine_write_with_its_indexes_the_bytes_one_process_writes(string script)
    {
        const int workers = 2;
        using var engines = new FakeEngines();
        var args = ConvertArgs(engines.Root);
        bool batch = script.StartsWith("aws-batch", StringComparison.Ordinal);
        var r = engines.Run(script, ["--workers", "2", "--name", "churn-1", .. batch ? new[] { "--queue", "q" } : ["--image", "img"], "--", .. args]);
        Assert.True(r.Code == 0, r.ToString());

        // (command, tasks, the index variable each task gets, or null for a Batch job that is not an array)
        var handed = new List<(string[] Command, int Tasks, string? IndexVariable)>();
        if (batch)
        {
            foreach (var call in engines.Calls().Where(c => c[1] == "submit-job"))
            {
                var request = JsonNode.Parse(call[3])!;
                var size = request["arrayProperties"]?["size"];
                handed.Add((Strings(request["containerOverrides"]!["command"]), size is null ? 1 : (int)size, size is null ? null : "AWS_BATCH_JOB_ARRAY_INDEX"));
            }
        }
        else
        {
            for (int n = 1; File.Exists($"{engines.Log}.apply-{n}.yaml"); n++)
            {
                var job = MiniYaml.Parse(engines.Applied(n));
                handed.Add((KubernetesArgs(job), (int)(long)MiniYaml.At(job, "spec.completions")!, "JOB_COMPLETION_INDEX"));
            }
        }
        Assert.Equal(Steps(args, workers).Select(s => s.Tasks), handed.Select(h => h.Tasks));

        foreach (var (command, tasks, variable) in handed)
        {
            var results = new ProcessRunner.Result[tasks];
            Parallel.For(0, tasks, i => results[i] = engines.RunDataprep(command, variable is null ? null
                : new Dictionary<string, string?> { [variable] = i.ToString(CultureInfo.InvariantCulture) }));
            for (int i = 0; i < tasks; i++) Assert.True(results[i].Code == 0, $"{string.Join(' ', command.TakeLast(2))}, task {i}: {results[i]}");
        }

        var one = CliRunner.Run(["convert", .. ConvertArgs(engines.Root, "one-process", work: false), "--quiet"]);
        Assert.True(one.Code == 0, one.Err);
        AssertSameDataFiles(Path.Combine(engines.Root, "one-process"), Path.Combine(engines.Root, "out"));
        Assert.True(File.Exists(Path.Combine(engines.Root, "out", "_dataprep", "run.json")), "commit writes the run record");
        var work = Path.Combine(engines.Root, "work");
        Assert.True(!Directory.Exists(work) || !Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).Any(), "commit removes the work area");
    }
}
