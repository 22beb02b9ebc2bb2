using System.Text.RegularExpressions;

namespace DataPrep.Tests.Notebooks;

/// <summary>
/// The SageMaker lifecycle scripts (docs/sagemaker): bash syntax and shellcheck, for the scripts and for the
/// scripts they write (install.sh, register-kernel.sh), which shellcheck would not see inside a heredoc.
/// </summary>
public partial class LifecycleScriptTests
{
    public static TheoryData<string> Scripts => new() { "on-create.sh", "on-start.sh" };

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_and_the_scripts_it_writes_pass_bash_n_and_shellcheck(string name)
    {
        var path = Path.Combine(Paths.Repo, "docs", "sagemaker", name);
        var text = File.ReadAllText(path);
        Assert.StartsWith("#!/bin/bash\n", text);
        Assert.DoesNotContain("\r", text);

        using var tmp = new TempDir();
        var files = new List<string> { path };
        foreach (Match m in EmbeddedScript().Matches(text))
        {
            files.Add(tmp.File(m.Groups["name"].Value, m.Groups["body"].Value));
        }
        Assert.True(files.Count >= 2, $"{name} should write its background job as a script");

        foreach (var f in files)
        {
            var syntax = ProcessRunner.Run("bash", ["-n", f], tmp.Path, TimeSpan.FromSeconds(30));
            Assert.True(syntax.Code == 0, $"bash -n {Path.GetFileName(f)}: {syntax}");
        }
        var shellcheck = FindShellcheck();
        Assert.True(shellcheck is not null,
            "shellcheck is not installed: tools/test.sh installs it with apt-get (Debian package 'shellcheck'); install it with `apt-get install -y shellcheck`.");
        var check = ProcessRunner.Run(shellcheck!, ["--shell=bash", "--severity=style", .. files], tmp.Path, TimeSpan.FromMinutes(1));
        Assert.True(check.Code == 0, $"shellcheck {name}: {check}");
    }

    [Fact]
    public void Scripts_install_under_the_persistent_folder_and_keep_the_start_under_five_minutes()
    {
        var create = File.ReadAllText(Path.Combine(Paths.Repo, "docs", "sagemaker", "on-create.sh"));
        var start = File.ReadAllText(Path.Combine(Paths.Repo, "docs", "sagemaker", "on-start.sh"));
        Assert.Contains("PERSIST=/home/ec2-user/SageMaker\n", create);
        Assert.Contains("export DOTNET_ROOT=\"$PERSIST/.dotnet\"", create);
        Assert.Contains("dotnet-install.sh", create);
        Assert.Contains("Microsoft.dotnet-interactive", create);
        Assert.Contains("DataPrep.Cli", create);
        Assert.Contains("sudo -u ec2-user -i <<'EOF'", create);
        Assert.Contains("dotnet interactive jupyter install", start);
        // Long work is backgrounded in both, so neither hits SageMaker's 5-minute limit.
        Assert.Contains("nohup bash /home/ec2-user/SageMaker/dataprep/install.sh", create);
        Assert.Contains("nohup bash /home/ec2-user/SageMaker/dataprep/register-kernel.sh", start);
        Assert.EndsWith("exit 0\n", start);
    }

    private static string? FindShellcheck()
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "shellcheck")).FirstOrDefault(File.Exists);

    [GeneratedRegex("cat > \"\\$BASE/(?<name>[\\w.-]+\\.sh)\" <<'EOF'\\n(?<body>.*?)\\nEOF\\n", RegexOptions.Singleline)]
    private static partial Regex EmbeddedScript();
}
