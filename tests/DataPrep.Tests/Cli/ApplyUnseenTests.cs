using System.Text.Json.Nodes;
using DataPrep.Tests.Reports;

namespace DataPrep.Tests.Cli;

/// <summary>
/// <c>dataprep apply</c> counts the values an earlier run's train split never had, per column, in its report and its
/// run record; <c>--on-unseen error</c> stops at the first one with exit 3 naming file, row, column and value.
/// </summary>
public class ApplyUnseenTests
{
    private static string Run(TempDir tmp)
    {
        var run = tmp.Combine("run");
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", run, "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=ordinal", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        return run;
    }

    private const string Header = "customer_id,plan,region,tenure_months,monthly_spend,support_calls,autopay\n";

    [Fact]
    public void Unseen_values_are_counted_per_column_in_the_report_and_the_run_record()
    {
        using var tmp = new TempDir();
        var run = Run(tmp);
        var input = tmp.File("new.csv", Header + "X1,gold,us,3,20.5,1,true\nX2,basic,mars,4,10,0,false\nX3,platinum,moon,4,10,0,false\nX4,pro,eu,1,2,0,true\n");
        var outDir = tmp.Combine("applied");
        var r = CliRunner.Run("apply", "--run", run, input, "--out", outDir, "--json");
        Assert.True(r.Code == 0, r.Err);
        ReportSchemas.AssertValid(ReportSchemas.Run, r.Out);
        var unseen = JsonNode.Parse(r.Out)!["unseen"]!;
        Assert.Equal(2, unseen["plan"]!.GetValue<long>());      // gold, platinum
        Assert.Equal(2, unseen["region"]!.GetValue<long>());    // mars, moon
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")))!["summary"]!["unseen"]!;
        Assert.Equal(2, recorded["plan"]!.GetValue<long>());
        Assert.Equal(2, recorded["region"]!.GetValue<long>());
        // Reserved codes as before: region is ordinal with 3 categories, so unseen → 3 (the second output column after 5 one-hot ones).
        var rows = File.ReadAllLines(Path.Combine(outDir, "data", "part-00000.csv"));
        Assert.Equal("3", rows[1].Split(',')[5]);
        Assert.Equal("1", rows[0].Split(',')[4]);               // one-hot: gold → the last (reserved) column of plan

        var table = CliRunner.Run("apply", "--run", run, input, "--out", tmp.Combine("applied-table"));
        Assert.Equal(0, table.Code);
        Assert.Contains("unseen in train: 2 values in 'plan' → the reserved code", table.Out);
        Assert.Contains("unseen in train: 2 values in 'region'", table.Out);
    }

    [Fact]
    public void On_unseen_error_names_file_row_column_and_value_and_leaves_nothing()
    {
        using var tmp = new TempDir();
        var run = Run(tmp);
        var input = tmp.File("new.csv", Header + "X1,pro,us,3,20.5,1,true\nX2,basic,mars,4,10,0,false\n");
        var outDir = tmp.Combine("applied");
        var r = CliRunner.Run("apply", "--run", run, input, "--out", outDir, "--on-unseen", "error", "--quiet");
        Assert.Equal(3, r.Code);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        foreach (var part in new[] { "new.csv", "row 2", "column 'region'", "found 'mars'", "'apac', 'eu', 'us'", "--on-unseen reserve" }) Assert.Contains(part, r.Err);
        Assert.False(Directory.Exists(outDir), "nothing is left behind");

        var bad = CliRunner.Run("apply", "--run", run, input, "--out", outDir, "--on-unseen", "drop");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--on-unseen drop: expected reserve or error", bad.Err);
    }
}
