using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DataPrep.Tests.Notebooks;

/// <summary>
/// Executes each sample notebook headlessly with dotnet-repl (a local tool), against packages packed from this
/// build with a unique version, and checks what the cells produced: files written, the HTML split table and
/// SVG charts of DataPrep.Interactive, the notebooks' own sanity-check cells. One test per notebook; they run
/// one after another (one class), since each starts a kernel and a NuGet restore on a small machine.
/// </summary>
public sealed class SampleNotebookTests(PackedPackages packages, ITestOutputHelper log) : IClassFixture<PackedPackages>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(8);

    [Fact]
    public void Demand_forecasting_notebook_writes_csv_and_deepar_and_shows_time_ranges()
    {
        var run = RunNotebook("demand-forecasting");

        foreach (var split in new[] { "train", "validation", "test" })
        {
            Assert.True(File.Exists(Path.Combine(run.Folder, "out", "demand-csv", split, "part-00000.csv")), $"{split} CSV missing");
            Assert.True(File.Exists(Path.Combine(run.Folder, "out", "demand-deepar", split, "part-00000.json")), $"{split} DeepAR missing");
        }
        Assert.True(File.Exists(Path.Combine(run.Folder, "out", "demand-csv", "_dataprep", "run.json")));
        // Label-first CSV: the first field of the first training row is a demand value from the input.
        var first = File.ReadLines(Path.Combine(run.Folder, "out", "demand-csv", "train", "part-00000.csv")).First();
        Assert.Equal("114", first.Split(',')[0]);

        // Two run reports rendered by DataPrep.Interactive: split table with a time-range column, SVG bars.
        var reports = run.Html.Where(h => h.Contains("class=\"dataprep-splits\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, reports.Count);
        Assert.All(reports, h => Assert.Contains("<th style=\"border:1px solid #ccc;padding:3px 8px;background:#f3f3f3;text-align:left\">time range</th>", h));
        Assert.All(reports, h => Assert.Contains("class=\"dataprep-chart-rows\"", h));
        Assert.Contains("2024-01-01T00:00:00Z", reports[0]);          // train starts on the first day
        Assert.Contains("application/jsonlines", reports[1]);         // the DeepAR run
        Assert.Contains(run.PlainText, t => t.Contains("time split verified", StringComparison.Ordinal));
        // Progress went to the cell.
        Assert.Contains(run.PlainText, t => t.Contains("write: 3,595 / 3,595 rows", StringComparison.Ordinal));
    }

    [Fact]
    public void Speech_notebook_splits_by_speaker_and_its_audit_finds_no_speaker_in_two_splits()
    {
        var run = RunNotebook("speech");

        Assert.True(File.Exists(Path.Combine(run.Folder, "out", "speech-by-speaker", "_dataprep", "lineage", "train.csv")));
        var report = Assert.Single(run.Html, h => h.Contains("class=\"dataprep-splits\"", StringComparison.Ordinal));
        Assert.Contains(">groups</th>", report);
        Assert.Contains(">800</td>", report);                          // 800 speakers in train
        Assert.Contains("class=\"dataprep-chart-labels\"", report);    // label distribution per split
        Assert.Contains("0 (en-AU)", report);                          // legend names the classes

        var audits = run.Html.Where(h => h.Contains("class=\"dataprep-audit\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, audits.Count);
        Assert.Matches(GroupOverlapRow("pass"), audits[0]);           // the speaker split
        Assert.Matches(GroupOverlapRow("LEAK"), audits[1]);           // the random split, for comparison
        Assert.Contains(run.PlainText, t => t.StartsWith("speakers per split: test 100, train 800, validation 100", StringComparison.Ordinal));
    }

    [Fact]
    public void Recordio_notebook_encodes_churn_and_reads_the_records_back()
    {
        var run = RunNotebook("recordio");

        var shard = Path.Combine(run.Folder, "out", "churn-recordio", "train", "part-00000.pbr");
        var bytes = File.ReadAllBytes(shard);
        Assert.Equal(0xCED7230Au, BitConverter.ToUInt32(bytes, 0));
        Assert.Contains("application/x-recordio-protobuf", Assert.Single(run.Html, h => h.Contains("class=\"dataprep-splits\"", StringComparison.Ordinal)));
        var summary = Assert.Single(run.Html, h => h.Contains("class=\"dataprep-shard-summary\"", StringComparison.Ordinal));
        Assert.Contains(">1,600</td>", summary);                      // every train record decoded
        Assert.Contains(">sparse</td>", summary);
        Assert.Contains(run.PlainText, t => t.StartsWith("0A23D7CE", StringComparison.Ordinal));
        Assert.Contains(run.PlainText, t => t.StartsWith("1,600 records read back, sparse, width 13", StringComparison.Ordinal));
    }

    [Fact]
    public void Packages_hold_the_libraries_the_notebook_extension_and_the_cli_tool()
    {
        foreach (var id in new[] { "DataPrep.Core", "DataPrep.Parquet", "DataPrep.Testing", "DataPrep.Interactive", "DataPrep.Cli" })
        {
            Assert.True(File.Exists(packages.Package(id)), $"{id} was not packed:\n{packages.PackResult}");
        }
        var interactive = Entries(packages.Package("DataPrep.Interactive"));
        Assert.Contains("interactive-extensions/dotnet/extension.dib", interactive);
        Assert.Contains("lib/net10.0/DataPrep.Interactive.dll", interactive);
        Assert.Contains("README.md", interactive);
        var nuspec = ReadEntry(packages.Package("DataPrep.Interactive"), "DataPrep.Interactive.nuspec");
        Assert.Contains($"<dependency id=\"DataPrep.Core\" version=\"{packages.Version}\"", nuspec);
        Assert.DoesNotContain("Microsoft.DotNet.Interactive", nuspec);    // the kernel brings its own
        Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
        Assert.Contains("tools/net10.0/any/dataprep.dll", Entries(packages.Package("DataPrep.Cli")));
        Assert.Contains("DotnetToolSettings.xml", string.Join("\n", Entries(packages.Package("DataPrep.Cli"))));
        Assert.Contains("lib/net10.0/DataPrep.Core.dll", Entries(packages.Package("DataPrep.Core")));
        log.WriteLine($"pack: {packages.PackSeconds:0.0} s");
    }

    [Fact]
    public void Cli_tool_installs_from_the_package_folder_and_runs()
    {
        var toolPath = Path.Combine(packages.Root, "tool");
        var install = ProcessRunner.Run("dotnet", ["tool", "install", "--tool-path", toolPath, "--add-source", packages.Folder, "DataPrep.Cli", "--version", packages.Version],
            packages.Root, TimeSpan.FromMinutes(5));
        Assert.True(install.Code == 0, install.ToString());
        var outDir = Path.Combine(packages.Root, "tool-out");
        var convert = ProcessRunner.Run(Path.Combine(toolPath, "dataprep"), ["convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot", "--quiet"],
            packages.Root, TimeSpan.FromMinutes(2));
        Assert.True(convert.Code == 0, convert.ToString());
        Assert.Equal(1600, File.ReadLines(Path.Combine(outDir, "train", "part-00000.csv")).Count());
    }

    private sealed record NotebookRun(string Folder, JsonNode Executed, IReadOnlyList<string> Html, IReadOnlyList<string> PlainText);

    /// <summary>
    /// Runs samples/NAME.ipynb as shipped, as a user would after cloning: the files of a clean checkout (those git tracks
    /// or would add, nothing built or ignored) are copied to a temporary folder, the packages this run packed go where
    /// <c>bash tools/pack.sh</c> writes them (<c>artifacts/packages</c>), and the notebook, byte for byte the committed
    /// one (its <c>#load "dataprep-packages.csx"</c> finds them), is executed from its folder. Fails on a non-zero exit or
    /// any error output.
    /// </summary>
    private NotebookRun RunNotebook(string name)
    {
        var root = Path.Combine(packages.Root, name);
        CopyCheckout(Paths.Repo, root);
        var artifacts = Path.Combine(root, "artifacts", "packages");
        Directory.CreateDirectory(artifacts);
        foreach (var nupkg in Directory.EnumerateFiles(packages.Folder, "*.nupkg")) File.Copy(nupkg, Path.Combine(artifacts, Path.GetFileName(nupkg)));
        var samples = Path.Combine(root, "samples");
        var input = Path.Combine(samples, name + ".ipynb");
        Assert.Equal(File.ReadAllBytes(Path.Combine(Paths.Repo, "samples", name + ".ipynb")), File.ReadAllBytes(input));
        Assert.False(Directory.Exists(Path.Combine(root, "src", "DataPrep.Core", "bin")), "the copy should hold no build output");

        var output = Path.Combine(samples, "executed.ipynb");
        var result = ProcessRunner.Run("dotnet", ["tool", "run", "dotnet-repl", "--", "--run", input, "--exit-after-run", "--output-path", output], samples, s_timeout);
        log.WriteLine($"{name}: dotnet-repl {result.Elapsed.TotalSeconds:0.0} s (pack {packages.PackSeconds:0.0} s, once)");
        Assert.True(File.Exists(output), $"dotnet-repl wrote no executed notebook:\n{result}");
        var executed = JsonNode.Parse(File.ReadAllText(output))!;

        var html = new List<string>();
        var text = new List<string>();
        var errors = new List<string>();
        foreach (var cell in executed["cells"]!.AsArray())
        {
            foreach (var o in cell!["outputs"]?.AsArray() ?? [])
            {
                if (o!["output_type"]?.GetValue<string>() == "error")
                {
                    errors.Add($"{o["ename"]}: {o["evalue"]}");
                    continue;
                }
                if (o["output_type"]?.GetValue<string>() == "stream" && o["text"] is { } stream) text.Add(Join(stream));   // Console output
                if (o["data"] is not JsonObject data) continue;
                if (data["text/html"] is { } h) html.Add(Join(h));
                if (data["text/plain"] is { } t) text.Add(Join(t));
            }
        }
        Assert.True(errors.Count == 0, $"{name}.ipynb: a cell failed:\n{string.Join("\n", errors)}");
        Assert.True(result.Code == 0, $"{name}.ipynb: dotnet-repl failed:\n{result}");
        Assert.Contains(text, t => t.Contains("extension.dib", StringComparison.Ordinal));   // DataPrep.Interactive loaded itself
        // The helper took this run's packages (their unique version) from the clone's artifacts/packages.
        Assert.Contains(text, t => t.Contains($"DataPrep {packages.Version} from {artifacts}", StringComparison.Ordinal));
        return new NotebookRun(samples, executed, html, text);
    }

    /// <summary>The files of a clean checkout of <paramref name="repo"/>: tracked ones and untracked ones git would add (not ignored).</summary>
    private static void CopyCheckout(string repo, string to)
    {
        var files = ProcessRunner.Run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], repo, TimeSpan.FromMinutes(1));
        Assert.True(files.Code == 0, files.ToString());
        foreach (var file in files.Out.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var from = Path.Combine(repo, file);
            if (!File.Exists(from)) continue;   // deleted in the working tree, not yet committed
            var target = Path.Combine(to, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(from, target, overwrite: true);
        }
    }

    private static string Join(JsonNode node) => node is JsonArray a ? string.Concat(a.Select(x => x!.GetValue<string>())) : node.GetValue<string>();

    private static List<string> Entries(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        return zip.Entries.Select(e => e.FullName).ToList();
    }

    private static string ReadEntry(string nupkg, string entry)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        using var reader = new StreamReader(zip.GetEntry(entry)!.Open());
        return reader.ReadToEnd();
    }

    private static Regex GroupOverlapRow(string status) => new($"<td[^>]*>group-overlap</td><td[^>]*>{status}</td>");
}
