using System.Globalization;
using System.Text;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// A label-first CSV run whose split spills keeps each row's text and spills it in place of the features
/// (<c>SpillNarrowing.TextColumns</c>, <c>SplitStage.SpillText</c>): the writer copies the text read back, as it copies the
/// kept text in memory, instead of formatting every number. The bytes are those of an in-memory run, whatever the split,
/// and a row without text (from a source that keeps none) is formatted when it is spilled.
/// </summary>
public class TextSpillTests
{
    private const int Rows = 3000;

    /// <summary>
    /// y (0–2), then x1, x2 (floats, some written as the writer would not write them: "1.50", "+2.5", "1e3", "0.0000123"),
    /// k (an integer feature), g (an integer group key); the label last with <paramref name="labelLast"/>.
    /// </summary>
    private static string Csv(int rows, int seed, bool labelLast = false)
    {
        var rng = new Random(seed);
        string[] odd = ["1.50", "+2.5", "1e3", "0.0000123", "-0.0", "12.500"];
        var sb = new StringBuilder(labelLast ? "x1,x2,k,g,y\n" : "y,x1,x2,k,g\n");
        for (int i = 0; i < rows; i++)
        {
            string x1 = i % 97 == 5 ? odd[i / 97 % odd.Length] : (rng.NextDouble() * 100 - 50).ToString("R", CultureInfo.InvariantCulture);
            string x2 = (rng.NextDouble() / 3 + 0.001).ToString("R", CultureInfo.InvariantCulture);
            string rest = $"{x1},{x2},{rng.Next(-1000, 1000)},{rng.Next(400)}";
            string y = rng.Next(3).ToString(CultureInfo.InvariantCulture);
            sb.Append(labelLast ? $"{rest},{y}\n" : $"{y},{rest}\n");
        }
        return sb.ToString();
    }

    private static (CliRunner.Result Run, DataPrep.Conversion.DataPrepRegistry Registry) Convert(string[] inputs, string outDir, string? spillRoot, string label, params string[] extra)
    {
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        string[] memory = spillRoot is null ? [] : ["--memory", "16KB", "--temp", spillRoot];
        var r = CliRunner.Run(registry, ["convert", .. inputs, "--out", outDir, "--label", label, "--seed", "5", "--quiet", .. memory, .. extra]);
        Assert.True(r.Code == 0, r.Err);
        if (spillRoot is not null)
        {
            Assert.True(registry.Diagnostics.Spills > 0, "the run was meant to spill");
            Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        }
        return (r, registry);
    }

    private static void SameFiles(string expectedDir, string actualDir)
    {
        var expected = RunOutputs.FileHashes(expectedDir);
        var actual = RunOutputs.FileHashes(actualDir);
        Assert.Contains(expected.Keys, k => k.EndsWith(".csv", StringComparison.Ordinal) && !k.StartsWith("_dataprep/", StringComparison.Ordinal));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    public static TheoryData<string, string> Jobs() => new()
    {
        { "random", "" },
        { "unshuffled", "--no-shuffle" },
        { "small batches", "--batch-rows 97 --threads 1" },
        { "stratified", "--stratify y" },
        // Lineage records each row's group key: the rows carry strings, so the files are read back and gathered, not placed.
        { "group", "--split group --group g" },
        { "group folds", "--split group --group g --folds 3" },
        { "folds", "--folds 4" },
        { "stable", "--assignment stable" },
        { "no lineage", "--no-lineage" },
    };

    [Theory]
    [MemberData(nameof(Jobs))]
    public void A_spilled_csv_run_spills_its_rows_text_and_writes_the_bytes_of_an_in_memory_run(string name, string extra)
    {
        using var tmp = new TempDir();
        var input = tmp.File("input.csv", Csv(Rows, 3));
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var options = extra.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (_, inMemory) = Convert([input], tmp.Combine("memory"), null, "y", options);
        Assert.Equal(0, inMemory.Diagnostics.Spills);
        var (_, spilled) = Convert([input], tmp.Combine("spilled"), spillRoot, "y", options);
        Assert.True(spilled.Diagnostics.TextSpills == 1, $"{name}: the split was meant to spill the rows' text");
        Assert.Equal(1, spilled.Diagnostics.RowTextKept);
        SameFiles(tmp.Combine("memory"), tmp.Combine("spilled"));
    }

    [Fact]
    public void Rows_of_a_source_that_keeps_no_text_are_formatted_when_spilled()
    {
        // The CSV input (first: the spill starts in its rows, which have text), then JSON Lines rows of the same columns,
        // which have none: the spill formats them, as the writer would, and writes their text with the others.
        using var tmp = new TempDir();
        var csv = tmp.File("a.csv", Csv(Rows, 3));
        var rng = new Random(9);
        var jsonl = new StringBuilder();
        for (int i = 0; i < 800; i++)
        {
            // 0.1 + 0.2 and 1e-7 are written otherwise by the CSV writer (0.30000000000000004, 1E-07).
            double x1 = i % 50 == 0 ? 0.1 + 0.2 : i % 50 == 1 ? 1e-7 : Math.Round(rng.NextDouble() * 100 - 50, 4) + 0.5;
            jsonl.Append(CultureInfo.InvariantCulture, $"{{\"y\":{rng.Next(3)},\"x1\":{x1:R},\"x2\":{rng.NextDouble() / 3 + 0.001:R},\"k\":{rng.Next(-1000, 1000)},\"g\":{rng.Next(400)}}}\n");
        }
        var json = tmp.File("b.jsonl", jsonl.ToString());
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        Convert([csv, json], tmp.Combine("memory"), null, "y");
        var (_, spilled) = Convert([csv, json], tmp.Combine("spilled"), spillRoot, "y");
        Assert.Equal(1, spilled.Diagnostics.TextSpills);
        SameFiles(tmp.Combine("memory"), tmp.Combine("spilled"));
        var lines = Directory.EnumerateFiles(tmp.Combine("spilled"), "*.csv", SearchOption.AllDirectories)
            .Where(f => !f.Contains("_dataprep", StringComparison.Ordinal)).SelectMany(File.ReadLines).ToList();
        Assert.Equal(Rows + 800, lines.Count);
        Assert.Contains(lines, l => l.Contains(",0.30000000000000004,", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("in memory", "")]
    [InlineData("spilled", "--memory 16KB")]
    [InlineData("group, spilled", "--split group --group g --memory 16KB")]
    [InlineData("stratified folds", "--stratify y --folds 3")]
    public void Scaled_out_tasks_carry_the_rows_text_and_write_the_bytes_of_one_process(string name, string extra)
    {
        // Scan tasks write each row's text in place of the features (the JSON Lines rows formatted there), encode tasks
        // read it back as placeholders and text, and copy it; under 16 KB an encode task's bucket spills the text again.
        using var tmp = new TempDir();
        var csv = tmp.File("a.csv", Csv(Rows, 6));
        var json = tmp.File("b.jsonl", string.Concat(Enumerable.Range(0, 300).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $"{{\"y\":{i % 3},\"x1\":{(i % 7 == 0 ? 0.1 + 0.2 : i * 0.25 + 0.5):R},\"x2\":{1e-7 * (i + 1):R},\"k\":{i - 150},\"g\":{i % 40}}}\n"))));
        string[] common = ["convert", csv, json, "--label", "y", "--seed", "5", "--quiet", .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        var one = tmp.Combine("one");
        Assert.Equal(0, CliRunner.Run([.. common, "--out", one]).Code);
        var many = tmp.Combine("many");
        var registries = new List<DataPrep.Conversion.DataPrepRegistry>();
        DataPrep.Tests.Scale.ScaleOutTests.RunSteps([.. common, "--out", many, "--workers", "2"], new Random(1), (args, _) =>
        {
            var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
            registries.Add(registry);
            return CliRunner.Run(registry, args);
        });
        Assert.True(registries.Sum(r => r.Diagnostics.RowTextKept) == 2, $"{name}: the two scan tasks were meant to keep their rows' text");
        if (extra.Contains("--memory", StringComparison.Ordinal)) Assert.True(registries.Sum(r => r.Diagnostics.TextSpills) >= 1, $"{name}: an encode task was meant to spill its bucket's text");
        // The shards and the lineage (the run record, manifests and channels name their folder and times).
        static List<KeyValuePair<string, string>> Data(string dir) => RunOutputs.FileHashes(dir)
            .Where(kv => !kv.Key.StartsWith("_dataprep/", StringComparison.Ordinal) || kv.Key.StartsWith("_dataprep/lineage/", StringComparison.Ordinal))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var expected = Data(one);
        Assert.Contains(expected, kv => !kv.Key.StartsWith("_dataprep/", StringComparison.Ordinal) && kv.Key.EndsWith(".csv", StringComparison.Ordinal));
        Assert.Contains(expected, kv => kv.Key.StartsWith("_dataprep/lineage/", StringComparison.Ordinal));
        Assert.Equal(expected, Data(many));
    }

    public static TheoryData<string, string, string> NotText() => new()
    {
        // The label last: the input text is not the output record, so the writer formats every row.
        { "label last", "y", "" },
        // fill:mean averages the features over train after the split, and fills: the columns change.
        { "fill mean", "y", "--missing fill:mean" },
        // An encoded feature: the rows change.
        { "onehot", "y", "--encode k=onehot" },
        // RecordIO-protobuf narrows its features to float32 instead.
        { "recordio", "y", "--format recordio-protobuf" },
    };

    [Theory]
    [MemberData(nameof(NotText))]
    public void A_run_whose_output_is_not_its_input_text_spills_values(string name, string label, string extra)
    {
        using var tmp = new TempDir();
        var input = tmp.File("input.csv", Csv(Rows, 4, labelLast: name == "label last"));
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var options = extra.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Convert([input], tmp.Combine("memory"), null, label, options);
        var (_, spilled) = Convert([input], tmp.Combine("spilled"), spillRoot, label, options);
        Assert.True(spilled.Diagnostics.TextSpills == 0, $"{name}: no text was to be spilled");
        var expected = RunOutputs.FileHashes(tmp.Combine("memory"));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), RunOutputs.FileHashes(tmp.Combine("spilled")).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }
}
