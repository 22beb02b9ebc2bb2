using System.CommandLine;
using System.Text.Json;
using DataPrep.Cli;

namespace DataPrep.Tests.Audit;

/// <summary>Runs <c>dataprep audit</c> in-process and builds DataPrep runs to audit.</summary>
internal static class AuditRunner
{
    /// <summary>Runs <c>dataprep audit</c> with the CLI's registry through its own root.</summary>
    public static CliRunner.Result AuditCli(params string[] args) => AuditCli(DataPrepCli.CreateRegistry(), args);

    /// <summary>Runs <c>dataprep audit</c> with <paramref name="registry"/> through its own root.</summary>
    public static CliRunner.Result AuditCli(DataPrep.Conversion.DataPrepRegistry registry, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand("test") { AuditCommand.Build(stdout, stderr, registry) };
        int code = root.Parse(["audit", .. args]).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }).GetAwaiter().GetResult();
        return new CliRunner.Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the audit with --json and parses the report.</summary>
    public static (int Code, JsonElement Report) AuditJson(params string[] args)
    {
        var r = AuditCli([.. args, "--json"]);
        Assert.True(r.Code is 0 or 5, $"exit {r.Code}: {r.Err}");
        Assert.Equal("", r.Err);
        return (r.Code, JsonDocument.Parse(r.Out).RootElement.Clone());
    }

    public static JsonElement Check(JsonElement report, string name)
        => report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static string Status(JsonElement report, string name) => Check(report, name).GetProperty("status").GetString()!;

    /// <summary>converts sample-data/churn.csv (random 80/10/10 split) into tmp/name; extra options are appended.</summary>
    public static string ChurnRun(TempDir tmp, string name = "run", params string[] extra)
    {
        var output = tmp.Combine(name);
        var r = CliRunner.Run(["convert", Paths.SampleData("churn.csv"), "--out", output, "--label", "churn", "--drop", "customer_id", "--categorical", "onehot", "-q", .. extra]);
        Assert.True(r.Code == 0, $"convert failed ({r.Code}): {r.Err}");
        return output;
    }

    public static string LineagePath(string run, string split) => Path.Combine(run, "_dataprep", "lineage", split + ".csv");

    /// <summary>Rewrites a split's lineage: each data line (fields) is passed to <paramref name="edit"/>; the header gets <paramref name="addColumns"/>.</summary>
    public static void EditLineage(string run, string split, Func<int, string[], string[]> edit, params string[] addColumns)
    {
        var path = LineagePath(run, split);
        var lines = File.ReadAllLines(path);
        var output = new List<string> { string.Join(",", [.. lines[0].Split(','), .. addColumns]) };
        for (int i = 1; i < lines.Length; i++) output.Add(string.Join(",", edit(i - 1, lines[i].Split(','))));
        File.WriteAllText(path, string.Join("\n", output) + "\n");
    }

    public static readonly string[] SplitNames = ["train", "validation", "test"];
}
