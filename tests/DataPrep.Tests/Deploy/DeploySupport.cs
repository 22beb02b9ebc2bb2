using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DataPrep.Tests.Deploy;

/// <summary>One step of a run as <c>dataprep convert … --workers N --steps</c> prints it.</summary>
internal sealed record RunStep(string Name, int Tasks);

internal static partial class DeploySupport
{
    public static string DeployPath(params string[] parts) => Path.Combine([Paths.Repo, "deploy", .. parts]);

    /// <summary>The steps dataprep itself gives for these convert arguments (run in-process).</summary>
    public static IReadOnlyList<RunStep> Steps(IEnumerable<string> convertArgs, int workers)
    {
        var r = CliRunner.Run(["convert", .. convertArgs, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--steps"]);
        Assert.True(r.Code == 0, $"--steps: exit {r.Code}\n{r.Err}");
        return ParseSteps(r.Out);
    }

    /// <summary>The <c>STEP TASKS</c> lines of --steps (every line must be one).</summary>
    public static IReadOnlyList<RunStep> ParseSteps(string text)
    {
        var steps = new List<RunStep>();
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            var m = StepLine().Match(line);
            Assert.True(m.Success, $"'{line}' is not a 'STEP TASKS' line");
            steps.Add(new RunStep(m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
        }
        Assert.NotEmpty(steps);
        return steps;
    }

    /// <summary>The command task I of a step runs (the index comes from the engine).</summary>
    public static string[] StepCommand(IEnumerable<string> convertArgs, int workers, string step)
        => ["convert", .. convertArgs, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--step", step];

    /// <summary>
    /// The data files (everything outside <c>_dataprep/</c>, whose manifests name the output folder) of two runs
    /// are the same files with the same bytes.
    /// </summary>
    public static void AssertSameDataFiles(string expectedDir, string actualDir)
    {
        static List<string> DataFiles(string dir) => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("_dataprep/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var expected = DataFiles(expectedDir);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, DataFiles(actualDir));
        foreach (var f in expected)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(expectedDir, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actualDir, f))), $"{f} differs");
        }
    }

    /// <summary>
    /// Splits a shell command line into words as bash would for the quoting the docs use: '…', "…" (with \" and
    /// \\), backslash escapes and line continuations. Variables are left as written.
    /// </summary>
    public static List<string> ShellWords(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length && line[i + 1] == '\n') { i++; continue; }
            if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
                continue;
            }
            inWord = true;
            if (c == '\'')
            {
                int end = line.IndexOf('\'', i + 1);
                if (end < 0) throw new FormatException($"unclosed ' in: {line}");
                word.Append(line, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '"')
            {
                for (i++; i < line.Length && line[i] != '"'; i++)
                {
                    if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$') i++;
                    word.Append(line[i]);
                }
                if (i >= line.Length) throw new FormatException($"unclosed \" in: {line}");
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
            }
            else
            {
                word.Append(c);
            }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>The fenced code blocks of a Markdown file: (language, text).</summary>
    public static List<(string Language, string Text)> CodeBlocks(string markdown)
        => FencedBlock().Matches(markdown.Replace("\r\n", "\n")).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

    /// <summary>The lines of a shell block with continuations joined.</summary>
    public static List<string> LogicalLines(string block) => block.Replace("\\\n", " ").Split('\n').Where(l => l.Trim().Length > 0).ToList();

    [GeneratedRegex(@"^([a-z][a-z0-9-]*) ([1-9][0-9]*)$")]
    private static partial Regex StepLine();

    [GeneratedRegex(@"^```(\w*)\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
