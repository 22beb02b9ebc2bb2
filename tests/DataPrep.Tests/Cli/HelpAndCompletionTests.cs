using System.Text.RegularExpressions;
using DataPrep.Tests.Notebooks;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Cli;

/// <summary>
/// Help that leads: convert's options in sections in the order a user thinks, every option in exactly one of them;
/// a short top-level help with one example per command; completion scripts that complete through dataprep's own
/// suggest directive.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public class HelpAndCompletionTests
{
    private static readonly string[] s_sections =
    [
        "Inputs:", "Label and features:", "Split:", "Output format and sharding:",
        "Images (--format recordio-image, images, augmented-manifest):", "S3 (s3:// inputs and outputs):", "Run and scale-out:",
    ];

    [Fact]
    public void Convert_help_shows_sections_in_order_with_the_common_options_first()
    {
        var r = CliRunner.Run("convert", "--help");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Err);
        var lines = r.Out.Replace("\r\n", "\n").Split('\n');
        var at = s_sections.Select(s => Array.IndexOf(lines, s)).ToArray();
        Assert.All(at, i => Assert.True(i > 0, "every section is there: " + string.Join(", ", at)));
        Assert.Equal(at.Order(), at);
        Assert.DoesNotContain("Other options:", lines);
        Assert.True(Array.IndexOf(lines, "Usage:") < at[0], "usage comes before the sections");
        Assert.True(Array.FindIndex(lines, l => l == "Examples:") > at[^1], "examples come after the options");

        // Within a section, the common options come first.
        int Row(string option) => Array.FindIndex(lines, l => Regex.IsMatch(l, $@"^  (-\S, )?{Regex.Escape(option)}( |$)"));
        Assert.True(Row("--out") < Row("--no-header"));
        Assert.True(Row("--label") < Row("--missing"));
        Assert.True(Row("--split") < Row("--train") && Row("--fractions") < Row("--noisy-approach"));
        Assert.True(Row("--format") < Row("--recordio-escape"));
        Assert.True(Row("--label") > at[1] && Row("--label") < at[2], "--label sits in 'Label and features'");
        Assert.True(Row("--endpoint-url") > at[5] && Row("--endpoint-url") < at[6], "--endpoint-url sits in 'S3'");
        Assert.True(Row("--progress") > at[6], "--progress sits in 'Run and scale-out'");
    }

    [Fact]
    public void Every_convert_option_is_listed_exactly_once()
    {
        // The options as the parser knows them (what completion offers after "--").
        var r = CliRunner.Run("[suggest:19]", "dataprep convert --");
        Assert.Equal(0, r.Code);
        var options = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(o => o.StartsWith("--", StringComparison.Ordinal)).ToList();
        Assert.Contains("--label", options);
        Assert.Contains("--augment", options);
        Assert.Contains("--workers", options);
        Assert.True(options.Count > 80, $"{options.Count} options");

        var help = CliRunner.Run("convert", "--help").Out.Replace("\r\n", "\n").Split('\n');
        foreach (var option in options.Where(o => o != "--help" && o != "--version"))
        {
            int rows = help.Count(l => Regex.IsMatch(l, $@"^  (-\S, )?{Regex.Escape(option)}( |$)"));
            Assert.True(rows == 1, $"{option} is listed {rows} times");
        }
    }

    [Fact]
    public void Format_names_in_help_come_from_the_registry()
    {
        var help = CliRunner.Run("convert", "--help").Out;
        foreach (var format in DataPrep.Cli.DataPrepCli.CreateRegistry().Formats.Help().Split('\n'))
        {
            Assert.Contains(format, help);
        }
    }

    [Fact]
    public void Top_level_help_is_short_with_one_example_per_command()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Err);
        var lines = r.Out.Replace("\r\n", "\n").TrimEnd().Split('\n');
        Assert.True(lines.Length <= 30, $"{lines.Length} lines");
        string[] commands = ["convert", "apply", "inspect", "audit", "completion"];

        int commandsAt = Array.IndexOf(lines, "Commands:"), examplesAt = Array.IndexOf(lines, "Examples:");
        Assert.True(commandsAt > 0 && examplesAt > commandsAt);
        var listed = lines[(commandsAt + 1)..].TakeWhile(l => l.Length > 0).Select(l => l.Trim().Split(' ')[0]).ToArray();
        Assert.Equal(commands, listed);

        var examples = lines[(examplesAt + 1)..].TakeWhile(l => l.Length > 0).Select(l => l.Trim()).ToArray();
        Assert.Equal(commands.Length, examples.Length);
        foreach (var (command, example) in commands.Zip(examples)) Assert.Contains($"dataprep {command} ", example);
        Assert.Single(lines, l => l == "Examples:");
        Assert.DoesNotContain("--label <label>", r.Out); // no command's options
        Assert.Contains("Run 'dataprep <command> --help'", r.Out);
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _dataprep_complete dataprep")]
    [InlineData("zsh", "compdef _dataprep dataprep")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName dataprep")]
    public void Completion_prints_a_script_that_asks_the_suggest_directive(string shell, string registration)
    {
        var r = CliRunner.Run("completion", shell);
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Err);
        Assert.Contains(registration, r.Out);
        Assert.Contains("[suggest:", r.Out);
    }

    [Fact]
    public void Completion_of_an_unknown_shell_is_an_invalid_option()
    {
        var r = CliRunner.Run("completion", "fish");
        Assert.Equal(2, r.Code);
        Assert.Equal("error: completion fish: expected bash, zsh or pwsh.", r.Err.TrimEnd());
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void Bash_script_completes_an_option_prefix_and_a_value_through_dataprep()
    {
        using var tmp = new TempDir();
        // 'dataprep' on PATH, as an installed tool would be: the real CLI in a child process.
        var bin = tmp.Combine("bin");
        Directory.CreateDirectory(bin);
        var exe = Path.Combine(bin, "dataprep");
        // Under tools/test.sh's native pass, the Native AOT binary itself.
        File.WriteAllText(exe, CliProcess.Native is { } native ? $"#!/bin/sh\nexec '{native}' \"$@\"\n" : $"#!/bin/sh\nexec dotnet '{CliProcess.Dll}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var script = tmp.File("dataprep.bash", CliRunner.Run("completion", "bash").Out);

        string Complete(params string[] words)
        {
            var line = string.Join(' ', words);
            var driver = $$"""
                source '{{script}}'
                COMP_LINE='{{line}}'; COMP_POINT=${#COMP_LINE}
                COMP_WORDS=({{string.Join(' ', words.Select(w => $"'{w}'"))}}); COMP_CWORD={{words.Length - 1}}
                _dataprep_complete
                printf '%s\n' "${COMPREPLY[@]}"
                """;
            var r = ProcessRunner.Run("bash", ["-c", driver], tmp.Path, TimeSpan.FromSeconds(60),
                new Dictionary<string, string?> { ["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH") });
            Assert.True(r.Code == 0, r.ToString());
            return r.Out;
        }

        var options = Complete("dataprep", "convert", "--fo").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["--folds", "--format"], options.Order(StringComparer.Ordinal));

        var values = Complete("dataprep", "convert", "in.csv", "--progress", "p").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["plain"], values);

        var commands = Complete("dataprep", "co").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["completion", "convert"], commands.Order(StringComparer.Ordinal));
    }
}
