using DataPrep.Data;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// The split's memory estimate counts what a batch holds (<c>BatchSize.Estimate</c>) when the run expects no spill: a
/// column computed on first use from its rows' kept text (a CSV column nothing parses) holds nothing until read. Counted as if computed, it made a run whose input fits
/// half the budget spill after all, having kept every row's text (1 GB of CSV under 2–3 GB budgets: 9.6 s instead of 3.4).
/// </summary>
public class KeptTextEstimateTests
{
    [Fact]
    public void An_unread_column_counts_once_computed_unless_the_run_expects_to_spill()
    {
        int computed = 0;
        var lazy = new Float64Column(() => { computed++; return new double[1000]; }, _ => 0, null, 1000, 1000, noNaN: true);
        var schema = new Schema([new Field("x", ColumnKind.Float64)]);
        var text = Enumerable.Range(0, 1000).Select(i => (ReadOnlyMemory<byte>)System.Text.Encoding.UTF8.GetBytes($"{i}.5")).ToArray();
        var batch = new RecordBatch(schema, [lazy], 1000, RowInfo.Sequential(1, 1, 1000)) { Raw = new RawRecords(["x"], text) };
        var eager = new RecordBatch(schema, [new Float64Column(new double[1000])], 1000, RowInfo.Sequential(1, 1, 1000)) { Raw = batch.Raw };
        long held = BatchSize.Estimate(batch, countUnread: false);
        // A run that expects to spill counts it as computed, without computing it.
        Assert.Equal(BatchSize.Estimate(eager), BatchSize.Estimate(batch, countUnread: true));
        Assert.Equal(held + 8 * 1000, BatchSize.Estimate(batch, countUnread: true));
        Assert.Equal(0, computed);
        _ = lazy.Values;
        Assert.Equal(held + 8 * 1000, BatchSize.Estimate(batch, countUnread: false));
    }

    [Theory]
    [InlineData("csv", 2.8)]
    [InlineData("recordio-protobuf", 2.9)]
    public void An_input_within_half_the_budget_keeps_its_text_and_does_not_spill(string format, double budgetPerInputByte)
    {
        using var tmp = new TempDir();
        var rng = new Random(3);
        var names = Enumerable.Range(0, 50).Select(c => $"f{c}").Prepend("y").ToArray();
        var lines = new List<string> { string.Join(',', names) };
        for (int i = 0; i < 4000; i++)
        {
            lines.Add(string.Join(',', names.Select(n => n == "y" ? (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture) : FormattableString.Invariant($"{Math.Round(rng.NextDouble() * 1000, 4)}"))));
        }
        var input = tmp.File("in.csv", string.Join('\n', lines) + "\n");
        long size = new FileInfo(input).Length;
        // Half the budget holds the rows as kept (their text, and for RecordIO their float32 values), but not a double
        // besides for every value of the 50 columns nothing parses, which the estimate counted (checked: with that
        // count back, every case here spills).
        long budget = (long)(size * budgetPerInputByte);
        Assert.True(budget / 2 < size + 4000L * (50 * 8 + 20), "the old estimate would not have spilled");
        string[] common = ["convert", input, "--label", "y", "--format", format, "--quiet"];
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var r = CliRunner.Run(registry, [.. common, "--out", tmp.Combine("budget"), "--memory", budget.ToString(System.Globalization.CultureInfo.InvariantCulture), "--temp", tmp.Combine("spill")]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(1, registry.Diagnostics.RowTextKept);
        Assert.Equal(0, registry.Diagnostics.Spills);
        var roomy = CliRunner.Run([.. common, "--out", tmp.Combine("roomy"), "--memory", "4GB"]);
        Assert.True(roomy.Code == 0, roomy.Err);
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("roomy")), RunOutputs.FileHashes(tmp.Combine("budget")));
    }
}
