using DataPrep.Formats;
using DataPrep.Output;
using DataPrep.Pipeline;

namespace DataPrep.Conversion;

/// <summary>
/// Serialises a run record and channels file of the run's options with made-up results, on a spare core while
/// the data flows. The first serialisation JIT-compiles System.Text.Json's generic code for these types (ReadyToRun
/// does not cover it; ~0.3 s on the benchmark VM), which otherwise delayed the end of every run. Nothing is written.
/// </summary>
internal static class JsonWarmUp
{
    /// <summary>Starts the warm-up; failures are ignored (the real serialisation reports its own).</summary>
    public static Task Start(ConvertOptions options, string command) => Task.Run(() =>
    {
        try
        {
            var context = new RunContext();
            context.Report.ContentType = "text/csv";
            context.Report.Warnings.Add("w");
            context.Report.Drop("r");
            context.Report.Filled["c"] = 1;
            foreach (var name in new[] { "train", "test" })
            {
                context.Report.Splits[name] = new SplitReport
                {
                    Rows = 1, TargetFraction = 0.5, Fraction = 0.5, TimeFrom = "t", TimeTo = "t", Groups = 1, Lineage = "l",
                    LabelDistribution = new(StringComparer.Ordinal) { ["1"] = 1 },
                    Format = new FormatInfo("text/csv", 1, false, "float32", "float32"),
                    Shards = { new ShardRecord($"{name}/part-00000.csv", 1, 1, "00") },
                };
            }
            _ = RunRecord.From(options with { Output = "warm-up" }, context, command).ToJson();
            var channels = ChannelsFile.Build(context.Report, "file:///warm-up/");
            _ = ChannelsFile.Json(channels);
            _ = RunLayout.Manifest("file:///warm-up/", context.Report.Splits["train"].Shards.Select(s => s.Path));
        }
        catch (Exception)
        {
            // Only a warm-up.
        }
    });
}
