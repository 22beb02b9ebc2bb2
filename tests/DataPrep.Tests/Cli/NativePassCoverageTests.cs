using System.Reflection;
using System.Text.RegularExpressions;

namespace DataPrep.Tests.Cli;

/// <summary>
/// tools/test.sh reruns the classes that start the CLI as a process against the Native AOT binary users install, by
/// the trait <c>Runs=cli-process</c>. A class that starts the CLI (through <c>CliProcess</c> or the deploy
/// scripts' <c>FakeEngines</c>) without the trait would silently test only the JIT build: this test names it.
/// </summary>
public sealed partial class NativePassCoverageTests
{
    [Fact]
    public void Every_class_that_starts_the_CLI_as_a_process_is_in_the_native_pass()
    {
        var marked = typeof(NativePassCoverageTests).Assembly.GetTypes()
            .Where(t => t.CustomAttributes.Any(a => a.AttributeType == typeof(TraitAttribute)
                                                       && a.ConstructorArguments.Select(c => c.Value as string).SequenceEqual([NativePass.Name, NativePass.Value])))
            .Select(t => t.Name)
            .ToHashSet();

        var starting = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Paths.Repo, "tests", "DataPrep.Tests"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            var text = File.ReadAllText(file);
            var classes = TopLevelClass().Matches(text);
            for (int i = 0; i < classes.Count; i++)
            {
                var name = classes[i].Groups[1].Value;
                if (name is "CliProcess" or "FakeEngines" or nameof(NativePassCoverageTests)) continue;
                int end = i + 1 < classes.Count ? classes[i + 1].Index : text.Length;
                var body = text[classes[i].Index..end];
                if (body.Contains("CliProcess.Run(") || body.Contains("CliProcess.Start(") || body.Contains("CliProcess.Dll") || body.Contains("new FakeEngines("))
                    starting.Add($"{name} ({Path.GetRelativePath(Paths.Repo, file)})");
            }
        }

        Assert.NotEmpty(starting); // the scan finds the known ones (CliBinaryTests, ScaleOutTests, ...)
        var missing = starting.Where(s => !marked.Contains(s[..s.IndexOf(' ')])).ToList();
        Assert.True(missing.Count == 0,
            $"these classes start the CLI as a process but lack [Trait(NativePass.Name, NativePass.Value)], so tools/test.sh never runs them against the Native AOT binary: {string.Join(", ", missing)}");
    }

    [GeneratedRegex(@"^(?:\[[^\n]*\]\s*\n)*(?:public |internal )?(?:sealed |static |partial |abstract )*class (\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelClass();
}
