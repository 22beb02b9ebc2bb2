using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using DataPrep.Cli;
using DataPrep.Tests.Notebooks;
using static DataPrep.Tests.Deploy.DeploySupport;

namespace DataPrep.Tests.Deploy;

/// <summary>
/// The files in deploy/ read as their engines read them (no Docker, no cloud): the Dockerfile's stages, publish
/// command and entry point; the Batch job definition (JSON); the Kubernetes Job template (YAML); the scripts'
/// syntax; and the README, whose commands must parse with dataprep's own parser and whose examples must hold.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public partial class DeployFileTests
{
    // ---- Dockerfile ----

    private sealed record Instruction(string Keyword, string Arguments);

    /// <summary>The Dockerfile's instructions, continuation lines joined, comments dropped.</summary>
    private static List<Instruction> Dockerfile()
    {
        var text = File.ReadAllText(DeployPath("Dockerfile")).Replace("\r\n", "\n");
        var lines = text.Split('\n').Where(l => !l.TrimStart().StartsWith('#')).ToList();
        return string.Join('\n', lines).Replace("\\\n", " ").Split('\n')
            .Where(l => l.Trim().Length > 0)
            .Select(l => l.Trim().Split(' ', 2))
            .Select(p => new Instruction(p[0], p.Length > 1 ? p[1].Trim() : ""))
            .ToList();
    }

    /// <summary>The ARG defaults, substituted into $NAME and ${NAME} the way the build does.</summary>
    private static string WithArgs(string text, List<Instruction> dockerfile)
    {
        foreach (var arg in dockerfile.Where(i => i.Keyword == "ARG" && i.Arguments.Contains('=')))
        {
            var (name, value) = (arg.Arguments.Split('=', 2)[0], arg.Arguments.Split('=', 2)[1]);
            text = text.Replace("${" + name + "}", value).Replace("$" + name, value);
        }
        return text;
    }

    [Fact]
    public void Dockerfile_builds_in_the_sdk_and_runs_on_runtime_deps_with_dataprep_as_the_entrypoint()
    {
        var df = Dockerfile();
        var stages = df.Where(i => i.Keyword == "FROM")
            .Select(i => i.Arguments.Split(' ').Where(w => !w.StartsWith("--platform=", StringComparison.Ordinal)).ToArray())
            .ToList();
        Assert.True(stages.Count >= 2, "a build stage and a runtime stage");
        // Native AOT links with a C toolchain: the SDK image variant that carries one.
        Assert.Equal(["mcr.microsoft.com/dotnet/sdk:10.0-noble-aot", "AS", "build"], stages[0]);
        Assert.Equal("mcr.microsoft.com/dotnet/runtime-deps:10.0", stages[^1][0]);

        // The runtime stage holds the published binary alone, on PATH, and runs it as a non-root user.
        var runtime = df.SkipWhile(i => i != df.Last(x => x.Keyword == "FROM")).Skip(1).ToList();
        var copy = Assert.Single(runtime, i => i.Keyword == "COPY").Arguments.Split(' ');
        string publishDir = PublishOption(Publish(df), "-o");
        Assert.Equal(["--from=build", publishDir + "/dataprep", "/usr/local/bin/dataprep"], copy);
        Assert.Equal("dataprep", XDocument.Load(Path.Combine(Paths.Repo, "src", "DataPrep.Cli", "DataPrep.Cli.csproj")).Descendants("AssemblyName").Single().Value);
        var user = Assert.Single(runtime, i => i.Keyword == "USER").Arguments;
        Assert.DoesNotContain(user, new[] { "root", "0" });
        var entrypoint = JsonNode.Parse(Assert.Single(runtime, i => i.Keyword == "ENTRYPOINT").Arguments)!.AsArray();
        Assert.Equal(["dataprep"], entrypoint.Select(x => (string)x!));
        Assert.DoesNotContain(runtime, i => i.Keyword == "CMD");
    }

    [Fact]
    public void Dockerfile_publishes_the_cli_with_the_flags_of_tools_publish_sh()
    {
        var df = Dockerfile();
        var publish = Publish(df);
        string project = publish[0];
        Assert.True(File.Exists(Path.Combine(Paths.Repo, project, Path.GetFileName(project) + ".csproj")), $"{project} is not a project");
        Assert.Equal("linux-x64", PublishOption(publish, "-r"));

        // tools/publish.sh's arguments (Native AOT: the binary of the linux-x64 tool package), but for where they go
        // (-o, -v, --artifacts-path) and with the RID it picks on x86-64; the Dockerfile adds nothing.
        var script = File.ReadAllText(Path.Combine(Paths.Repo, "tools", "publish.sh"));
        var scriptArgs = ArrayAssignments().Matches(script).SelectMany(m => ShellWords(m.Groups[1].Value)).ToList();
        Assert.Equal(project, scriptArgs[0]);
        var expected = Options(scriptArgs.Skip(1)).Where(o => !o.StartsWith("-o ") && !o.StartsWith("-v ") && !o.StartsWith("--artifacts-path "))
            .Select(o => o == "-r $RID" ? "-r linux-x64" : o).Order(StringComparer.Ordinal).ToList();
        var actual = Options(publish.Skip(1)).Where(o => !o.StartsWith("-o ")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal("true", XDocument.Load(Path.Combine(Paths.Repo, project, Path.GetFileName(project) + ".csproj")).Descendants("PublishAot").First().Value);

        // The restore layer restores the same project for the same RID.
        var restore = ShellWords(WithArgs(Assert.Single(df, i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet restore ", StringComparison.Ordinal)).Arguments, df));
        Assert.Equal(project, restore[2]);
        Assert.Equal("linux-x64", PublishOption(restore, "-r"));
    }

    [Fact]
    public void Dockerfile_copies_every_project_and_file_the_cli_builds_from_and_the_build_context_holds_them()
    {
        var df = Dockerfile();
        var build = df.TakeWhile(i => i != df.Last(x => x.Keyword == "FROM")).ToList();
        var sources = build.Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1)).ToList();

        // Every project the CLI references, directly or not, and the files they include from elsewhere.
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        var included = new SortedSet<string>(StringComparer.Ordinal);
        void Visit(string csproj)
        {
            if (!projects.Add(Path.GetRelativePath(Paths.Repo, csproj).Replace('\\', '/'))) return;
            var dir = Path.GetDirectoryName(csproj)!;
            foreach (var item in XDocument.Load(csproj).Descendants().Where(e => e.Attribute("Include") is not null && e.Name.LocalName is not ("PackageReference" or "InternalsVisibleTo" or "Using")))
            {
                var path = Path.GetFullPath(Path.Combine(dir, item.Attribute("Include")!.Value.Replace('\\', '/')));
                if (item.Name.LocalName == "ProjectReference") Visit(path);
                else if (!path.StartsWith(dir + "/", StringComparison.Ordinal)) included.Add(Path.GetRelativePath(Paths.Repo, path));
            }
        }
        Visit(Path.Combine(Paths.Repo, "src", "DataPrep.Cli", "DataPrep.Cli.csproj"));
        Assert.Contains("schemas/record.proto", included);

        // The restore layer copies exactly those project files, then the sources cover the rest.
        Assert.Equal(projects, new SortedSet<string>(sources.Where(s => s.EndsWith(".csproj", StringComparison.Ordinal)), StringComparer.Ordinal));
        var buildFiles = Directory.GetFiles(Paths.Repo, "Directory.*").Select(f => Path.GetFileName(f)).Append(".editorconfig");
        foreach (var file in projects.Select(p => Path.GetDirectoryName(p)! + "/").Concat(included).Concat(buildFiles))
        {
            Assert.True(sources.Any(s => file == s || file.StartsWith(s.TrimEnd('/') + "/", StringComparison.Ordinal)), $"the Dockerfile copies nothing that holds {file}");
        }

        // The build context (Dockerfile.dockerignore: everything out, then some back in) keeps every COPY source.
        var ignore = File.ReadAllLines(DeployPath("Dockerfile.dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal("*", ignore[0]);
        var kept = ignore.Where(l => l.StartsWith('!')).Select(l => l[1..].TrimEnd('/')).ToList();
        foreach (var s in sources)
        {
            Assert.True(kept.Any(k => s.TrimEnd('/') == k || s.StartsWith(k + "/", StringComparison.Ordinal)), $"Dockerfile.dockerignore leaves {s} out of the build context");
        }
    }

    private static List<string> Publish(List<Instruction> df)
    {
        var run = Assert.Single(df, i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal));
        Assert.DoesNotContain("&&", run.Arguments);
        return ShellWords(WithArgs(run.Arguments, df)).Skip(2).ToList();
    }

    private static string PublishOption(List<string> words, string name) => words[words.IndexOf(name) + 1];

    /// <summary>Options with their values as "name value" (or "name" alone).</summary>
    private static List<string> Options(IEnumerable<string> words)
    {
        var list = words.ToList();
        var options = new List<string>();
        for (int i = 0; i < list.Count; i++)
        {
            Assert.StartsWith("-", list[i]);
            options.Add(i + 1 < list.Count && !list[i + 1].StartsWith('-') ? $"{list[i]} {list[++i]}" : list[i]);
        }
        return options;
    }

    [GeneratedRegex(@"^\s*args\+?=\((.*?)\)\s*$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ArrayAssignments();

    // ---- AWS Batch job definition ----

    [Fact]
    public void Batch_job_definition_is_a_container_job_that_retries_only_what_a_retry_can_fix()
    {
        var def = JsonNode.Parse(File.ReadAllText(DeployPath("aws-batch", "job-definition.json")))!.AsObject();
        Assert.Equal("container", (string)def["type"]!);
        Assert.False(def.ContainsKey("parameters"), "the submit script passes the whole command: nothing is templated with Ref::");
        var container = def["containerProperties"]!.AsObject();
        Assert.Equal("${IMAGE}", (string)container["image"]!);
        var resources = container["resourceRequirements"]!.AsArray().ToDictionary(r => (string)r!["type"]!, r => (string)r!["value"]!);
        Assert.True(int.Parse(resources["VCPU"]) >= 1 && int.Parse(resources["MEMORY"]) >= 1024, "VCPU and MEMORY (MiB)");

        // Invalid options, bad input data and a refused output fail every attempt the same way: no retry.
        var retry = def["retryStrategy"]!.AsObject();
        Assert.True((int)retry["attempts"]! >= 2);
        var rules = retry["evaluateOnExit"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var noRetry = rules.Where(r => (string)r["action"]! == "EXIT").Select(r => (string)r["onExitCode"]!).Order().ToList();
        Assert.Equal(new[] { DataPrepCli.InvalidOptions, DataPrepCli.BadInput, DataPrepCli.OutputRefused }.Select(c => c.ToString()).Order(), noRetry);
        Assert.Equal("*", (string)rules[^1]["onReason"]!);
        Assert.Equal("RETRY", (string)rules[^1]["action"]!);

        // The README's registration fills every placeholder there is.
        var placeholders = Placeholder().Matches(File.ReadAllText(DeployPath("aws-batch", "job-definition.json"))).Select(m => m.Groups[1].Value).ToHashSet();
        var readme = File.ReadAllText(DeployPath("README.md"));
        Assert.Equal(["IMAGE", "JOB_ROLE_ARN"], placeholders.Order());
        foreach (var p in placeholders) Assert.Contains($"-e \"s|\\${{{p}}}|", readme);
    }

    // ---- Kubernetes Job template ----

    [Fact]
    public void Kubernetes_template_is_an_indexed_job_of_TASKS_completions_that_fails_fast_and_run_sh_fills_each_placeholder()
    {
        var text = File.ReadAllText(DeployPath("kubernetes", "job.yaml"));
        var job = MiniYaml.Parse(text);
        Assert.Equal("batch/v1", MiniYaml.At(job, "apiVersion"));
        Assert.Equal("Job", MiniYaml.At(job, "kind"));
        Assert.Equal("Indexed", MiniYaml.At(job, "spec.completionMode"));
        Assert.Equal("${TASKS}", MiniYaml.At(job, "spec.completions"));
        Assert.Equal("${PARALLELISM}", MiniYaml.At(job, "spec.parallelism"));
        Assert.Equal("${RETRIES}", MiniYaml.At(job, "spec.backoffLimitPerIndex"));
        Assert.Equal(0L, MiniYaml.At(job, "spec.maxFailedIndexes"));
        Assert.Equal("Never", MiniYaml.At(job, "spec.template.spec.restartPolicy"));
        Assert.Equal("${ARGS}", MiniYaml.At(job, "spec.template.spec.containers[0].args"));
        Assert.Equal("${IMAGE}", MiniYaml.At(job, "spec.template.spec.containers[0].image"));
        Assert.Null(((Dictionary<string, object?>)MiniYaml.At(job, "spec.template.spec.containers[0]")!).GetValueOrDefault("command"));

        var rules = ((List<object?>)MiniYaml.At(job, "spec.podFailurePolicy.rules")!).Cast<Dictionary<string, object?>>().ToList();
        var failJob = Assert.Single(rules, r => (string?)r["action"] == "FailJob");
        var onExit = (Dictionary<string, object?>)failJob["onExitCodes"]!;
        Assert.Equal(MiniYaml.At(job, "spec.template.spec.containers[0].name"), onExit["containerName"]);
        Assert.Equal("In", onExit["operator"]);
        Assert.Equal(new long[] { DataPrepCli.InvalidOptions, DataPrepCli.BadInput, DataPrepCli.OutputRefused }, ((List<object?>)onExit["values"]!).Cast<long>());

        var placeholders = Placeholder().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
        var filled = FillCall().Matches(File.ReadAllText(DeployPath("kubernetes", "run.sh"))).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(placeholders.Order(), filled.Order());
    }

    [GeneratedRegex(@"\$\{([A-Z_]+)\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^\s*fill ([A-Z_]+) ", RegexOptions.Multiline)]
    private static partial Regex FillCall();

    // ---- Scripts ----

    private static readonly string[] s_scripts = ["aws-batch/submit.sh", "kubernetes/run.sh", "sagemaker/run.sh"];

    public static TheoryData<string> Scripts => new(s_scripts);

    [Fact]
    public void Scripts_and_the_fakes_pass_bash_n_and_shellcheck()
    {
        var files = s_scripts.Select(s => DeployPath(s)).Append(DeployPath("steps.sh"))
            .Concat(new[] { "aws", "kubectl" }.Select(f => Path.Combine(Paths.Repo, "tests", "DataPrep.Tests", "Deploy", "Fakes", f))).ToList();
        foreach (var f in files)
        {
            var syntax = ProcessRunner.Run("bash", ["-n", f], Paths.Repo, TimeSpan.FromSeconds(30));
            Assert.True(syntax.Code == 0, $"bash -n {f}: {syntax}");
            Assert.DoesNotContain("\r", File.ReadAllText(f));
        }
        var shellcheck = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "shellcheck")).FirstOrDefault(File.Exists);
        Assert.True(shellcheck is not null,
            "shellcheck is not installed: tools/test.sh installs it with apt-get (Debian package 'shellcheck'); install it with `apt-get install -y shellcheck`.");
        // -x -P SCRIPTDIR: follow `source ../steps.sh` from each script's own folder.
        var check = ProcessRunner.Run(shellcheck!, ["-x", "-P", "SCRIPTDIR", "--shell=bash", "--severity=style", .. files], Paths.Repo, TimeSpan.FromMinutes(1));
        Assert.True(check.Code == 0, $"shellcheck: {check}");
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Scripts_are_executable_strict_bash_with_help(string script)
    {
        var path = DeployPath(script);
        var text = File.ReadAllText(path);
        Assert.StartsWith("#!/usr/bin/env bash\n", text);
        Assert.Contains("\nset -euo pipefail\n", text);
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable (git update-index --chmod=+x)");
        var help = ProcessRunner.Run("bash", [path, "--help"], Paths.Repo, TimeSpan.FromSeconds(30));
        Assert.True(help.Code == 0, help.ToString());
        Assert.StartsWith("Usage: ", help.Out);
        Assert.Contains("-- INPUT... --out s3://", help.Out);
    }

    // ---- README ----

    private static string Readme => File.ReadAllText(DeployPath("README.md")).Replace("\r\n", "\n");

    /// <summary>
    /// A README command's convert arguments made runnable here: s3:// inputs become the sample file of that name,
    /// --out and --work folders of the test's own.
    /// </summary>
    private static List<string> Local(IEnumerable<string> convertArgs, string root)
    {
        var args = convertArgs.ToList();
        for (int i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("s3://", StringComparison.Ordinal)) continue;
            string option = i > 0 ? args[i - 1] : "";
            args[i] = option is "--out" or "--work" ? Path.Combine(root, option[2..]) : Paths.SampleData(args[i].TrimEnd('/').Split('/')[^1]);
            Assert.True(option is "--out" or "--work" || File.Exists(args[i]), $"no sample file for {convertArgs.ElementAt(i)}");
        }
        Assert.DoesNotContain(args, a => a.Contains('$'));
        return args;
    }

    [Fact]
    public void Readme_step_table_is_what_steps_prints()
    {
        var blocks = CodeBlocks(Readme);
        int at = blocks.FindIndex(b => b.Language == "bash" && b.Text.TrimStart().StartsWith("dataprep convert ", StringComparison.Ordinal) && b.Text.Contains("--steps"));
        Assert.True(at >= 0 && at + 1 < blocks.Count && blocks[at + 1].Language == "text", "a `dataprep convert … --steps` block followed by its output");
        var words = ShellWords(blocks[at].Text.Trim());
        Assert.Equal("--steps", words[^1]);
        using var tmp = new TempDir();
        var r = CliRunner.Run([.. words.Skip(1).Take(1), .. Local(words.Skip(2), tmp.Path)]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(blocks[at + 1].Text, r.Out);
    }

    [Fact]
    public void Readme_engine_commands_parse_with_dataprep_into_steps()
    {
        var commands = CodeBlocks(Readme).Where(b => b.Language == "bash").SelectMany(b => LogicalLines(b.Text))
            .Select(l => ShellWords(l)).Where(w => w.Count > 0 && w[0].StartsWith("deploy/", StringComparison.Ordinal) && w[0].EndsWith(".sh", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(s_scripts.Select(s => "deploy/" + s).Order(), commands.Select(c => c[0]).Distinct().Order());
        foreach (var words in commands)
        {
            int dash = words.IndexOf("--");
            Assert.True(dash > 0, $"{words[0]}: the convert arguments after --");
            string workers = words[words.IndexOf("--workers") + 1];
            using var tmp = new TempDir();
            var r = CliRunner.Run(["convert", .. Local(words.Skip(dash + 1), tmp.Path), "--workers", workers, "--steps"]);
            Assert.True(r.Code == 0, $"{string.Join(' ', words)}\n{r.Err}");
            Assert.Equal(5, ParseSteps(r.Out).Count);
        }
    }

    [Fact]
    public void Readme_policy_is_json_granting_what_the_workers_do_in_s3()
    {
        var policy = JsonNode.Parse(Assert.Single(CodeBlocks(Readme), b => b.Language == "json").Text)!;
        var actions = policy["Statement"]!.AsArray().SelectMany(s => s!["Action"]!.AsArray().Select(a => (string)a!)).ToHashSet();
        foreach (var a in new[] { "s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "s3:AbortMultipartUpload" }) Assert.Contains(a, actions);
    }

    [Fact]
    public void Readme_one_machine_loop_writes_the_bytes_one_process_writes()
    {
        var block = Assert.Single(CodeBlocks(Readme), b => b.Language == "bash" && b.Text.StartsWith("ARGS=(", StringComparison.Ordinal)).Text;
        using var engines = new FakeEngines();
        Directory.CreateSymbolicLink(Path.Combine(engines.Root, "sample-data"), Path.Combine(Paths.Repo, "sample-data"));
        var script = Path.Combine(engines.Root, "loop.sh");
        File.WriteAllText(script, "set -euo pipefail\n" + block);
        var r = ProcessRunner.Run("bash", [script], engines.Root, TimeSpan.FromMinutes(5),
            new Dictionary<string, string?> { ["PATH"] = engines.Bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH") });
        Assert.True(r.Code == 0, r.ToString());

        var args = ShellWords(block.Split('\n')[0]["ARGS=(".Length..^1]);
        int outAt = args.IndexOf("--out") + 1;
        string workers = Path.Combine(engines.Root, args[outAt]);
        args[outAt] = Path.Combine(engines.Root, "one-process");
        args[0] = Path.Combine(engines.Root, args[0]);
        var one = CliRunner.Run(["convert", .. args, "--quiet"]);
        Assert.True(one.Code == 0, one.Err);
        AssertSameDataFiles(args[outAt], workers);
        Assert.True(File.Exists(Path.Combine(workers, "_dataprep", "run.json")), "commit writes the run record");
    }
}
