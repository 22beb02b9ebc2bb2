using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DataPrep.Tests.Reports;
using Xunit.Abstractions;

namespace DataPrep.Tests.Audit;

/// <summary>
/// Identical rows in two splits are a warning with their count and the number expected by chance (exit 0); group, time
/// and lineage leaks stay LEAK (exit 5); the split method comes from run.json; every convert example of README.md audits
/// clean; --json is valid against schemas/audit-report.schema.json.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public partial class AuditWarningTests(ITestOutputHelper log)
{
    private static JsonObject AuditJson(CliRunner.Result r)
    {
        ReportSchemas.AssertValid(ReportSchemas.Audit, r.Out);
        return JsonNode.Parse(r.Out)!.AsObject();
    }

    private static JsonNode Check(JsonObject report, string name) => report["checks"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!;

    [Fact]
    public void Identical_rows_from_few_distinct_values_warn_with_the_number_expected_by_chance()
    {
        using var tmp = new TempDir();
        // a ∈ {0, 1}, b ∈ {x, y}: 4 possible rows, so 8 train × 8 test rows share 8·8/4 = 16 pairs by chance.
        string Rows(int seed) => "a,b\n" + string.Concat(Enumerable.Range(0, 8).Select(i => $"{(i + seed) % 2},{((i / 2 + seed) % 2 == 0 ? "x" : "y")}\n"));
        var train = tmp.File("train.csv", Rows(0));
        var test = tmp.File("test.csv", Rows(1));
        var r = CliRunner.Run("audit", train, test, "--json");
        Assert.True(r.Code == 0, r.Out + r.Err);
        var report = AuditJson(r);
        var dup = Check(report, "duplicates");
        Assert.Equal("warning", dup["status"]!.GetValue<string>());
        Assert.Equal(4, dup["violations"]!.GetValue<long>());      // all four possible rows occur in both files
        Assert.Equal(16.0, dup["expectedByChance"]!["expected"]!.GetValue<double>(), 9);
        Assert.Equal([2L, 2L], dup["expectedByChance"]!["cardinalities"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray());
        Assert.True(report["clean"]!.GetValue<bool>());

        var text = CliRunner.Run("audit", train, test);
        Assert.Equal(0, text.Code);
        Assert.Contains("WARN  duplicates", text.Out);
        Assert.Contains("expected by chance ≈ 16", text.Out);
        Assert.Contains("CLEAN:", text.Out);
    }

    [Fact]
    public void Copied_rows_with_many_distinct_values_are_far_more_than_chance_and_a_group_leak_stays_a_leak()
    {
        using var tmp = new TempDir();
        var train = tmp.File("train.csv", "id,patient,v\n" + string.Concat(Enumerable.Range(0, 50).Select(i => $"{i},p{i % 10},{i * 1.5}\n")));
        var test = tmp.File("test.csv", "id,patient,v\n" + string.Concat(Enumerable.Range(45, 20).Select(i => $"{i},p{i % 10},{i * 1.5}\n")));
        var r = CliRunner.Run("audit", train, test, "--group", "patient", "--json");
        Assert.Equal(5, r.Code);
        var report = AuditJson(r);
        Assert.Equal("leak", Check(report, "group-overlap")["status"]!.GetValue<string>());
        var dup = Check(report, "duplicates");
        Assert.Equal("warning", dup["status"]!.GetValue<string>());
        Assert.Equal(5, dup["violations"]!.GetValue<long>());       // ids 45…49 are in both
        Assert.Equal(50.0 * 20 / (65 * 10 * 65), dup["expectedByChance"]!["expected"]!.GetValue<double>(), 9);   // ids and values: 65 distinct each, 10 patients
        Assert.Contains("far more than chance", dup["message"]!.GetValue<string>());
    }

    [Fact]
    public void Split_method_is_read_from_the_run_record()
    {
        using var tmp = new TempDir();
        var noisyOut = tmp.Combine("noisy");
        var c = CliRunner.Run("convert", Paths.SampleData("speech/clean.csv"), "--noisy", Paths.SampleData("speech/noisy.csv"), "--drop", "noise_db,path,transcript,speaker_id",
            "--split", "noisy", "--group", "speaker_id", "--label", "label", "--out", noisyOut, "--quiet");
        Assert.True(c.Code == 0, c.Err);
        var r = CliRunner.Run("audit", noisyOut, "--json");
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Equal("noisy/clean approach 1, by group speaker_id", AuditJson(r)["splitMethod"]!.GetValue<string>());

        var kfoldOut = tmp.Combine("kfold");
        c = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--folds", "3", "--stratify", "churn", "--out", kfoldOut, "--quiet");
        Assert.True(c.Code == 0, c.Err);
        r = CliRunner.Run("audit", kfoldOut, "--json");
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Equal("3-fold, random, stratified by churn", AuditJson(r)["splitMethod"]!.GetValue<string>());
    }

    /// <summary>
    /// Every <c>convert</c> example in README.md's bash blocks whose inputs are in this repository (the others name S3
    /// buckets or the reader's own files) runs as written — a real child process, --out moved to a temporary folder —
    /// and its output audits clean (exit 0).
    /// </summary>
    [Fact]
    public void Every_readme_convert_example_audits_clean()
    {
        var examples = ReadmeConvertExamples(File.ReadAllText(Path.Combine(Paths.Repo, "README.md")));
        var ran = new List<string>();
        using var tmp = new TempDir();
        foreach (var args in examples)
        {
            int input = 1;
            var inputs = args.Skip(input).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
            if (inputs.Count == 0 || inputs.Any(i => i.StartsWith("s3://", StringComparison.Ordinal) || !Path.Exists(Path.Combine(Paths.Repo, i))))
            {
                log.WriteLine($"not runnable here (inputs {string.Join(" ", inputs)}): convert {string.Join(" ", args.Skip(1))}");
                continue;
            }
            if (args.Any(a => a.StartsWith("s3://", StringComparison.Ordinal))) continue;
            int o = args.IndexOf("--out");
            Assert.True(o > 0, $"README example without --out: {string.Join(" ", args)}");
            var outDir = tmp.Combine(ran.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var run = args.Select((a, i) => i == o + 1 ? outDir : i > 0 && i <= inputs.Count ? Path.Combine(Paths.Repo, a) : a).Append("--quiet").ToList();
            var c = S3.CliProcess.Run(run);
            Assert.True(c.Code == 0, $"{string.Join(" ", args)}\n{c.Err}");
            var audit = CliRunner.Run("audit", outDir);
            log.WriteLine($"{args[o + 1]}: {audit.Out.TrimEnd().Split('\n')[^1]}");
            Assert.True(audit.Code == 0, $"README example `dataprep {string.Join(" ", args)}` does not audit clean:\n{audit.Out}{audit.Err}");
            ran.Add(args[o + 1]);
        }
        // The local examples: the main job, the scale-out one and the image one.
        Assert.Contains("out/churn", ran);
        Assert.Contains("out/churn-w3", ran);
        Assert.Contains("out/images", ran);
    }

    /// <summary>The arguments (from "convert" on) of each convert command in README's bash blocks, continuation lines joined.</summary>
    internal static List<List<string>> ReadmeConvertExamples(string readme)
    {
        var result = new List<List<string>>();
        foreach (Match block in BashBlock().Matches(readme))
        {
            var text = block.Groups[1].Value.Replace("\\\n", " ", StringComparison.Ordinal);
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith('#')) continue;
                int hash = line.IndexOf(" #", StringComparison.Ordinal);
                if (hash >= 0) line = line[..hash];
                var words = Words(line);
                int convert = words.IndexOf("convert");
                bool cli = words.Count > 0 && (words[0] == "dataprep" || (words[0] == "dotnet" && words.Contains("--")));
                if (!cli || convert < 0 || words.Contains("--help")) continue;
                result.Add(words.Skip(convert).ToList());
            }
        }
        return result;
    }

    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        char quote = '\0';
        bool any = false;
        foreach (char ch in line)
        {
            if (quote != '\0') { if (ch == quote) quote = '\0'; else current.Append(ch); continue; }
            if (ch is '\'' or '"') { quote = ch; any = true; continue; }
            if (char.IsWhiteSpace(ch))
            {
                if (any || current.Length > 0) words.Add(current.ToString());
                current.Clear();
                any = false;
                continue;
            }
            current.Append(ch);
        }
        if (any || current.Length > 0) words.Add(current.ToString());
        return words;
    }

    [GeneratedRegex("```bash\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();

    [Fact]
    public void Readme_parser_finds_the_examples_as_written()
    {
        var examples = ReadmeConvertExamples("""
            ```bash
            # a comment: dataprep convert nothing
            dataprep convert a.csv --out o --label 'y z'   # trailing comment
            dotnet run --project src/DataPrep.Cli -c Release -- convert b \
              --format x --overwrite
            dataprep convert --help
            ```
            """);
        Assert.Equal(2, examples.Count);
        Assert.Equal(["convert", "a.csv", "--out", "o", "--label", "y z"], examples[0]);
        Assert.Equal(["convert", "b", "--format", "x", "--overwrite"], examples[1]);
    }
}
