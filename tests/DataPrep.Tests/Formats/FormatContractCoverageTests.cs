using DataPrep.Cli;

namespace DataPrep.Tests.Formats;

/// <summary>Every registered output format runs the output-format contract: a new format without a contract subclass fails here.</summary>
public class FormatContractCoverageTests
{
    [Fact]
    public void Every_registered_format_has_exactly_one_contract()
    {
        var contracts = typeof(OutputFormatContract).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(OutputFormatContract)) && !t.IsAbstract)
            .Select(t => (Type: t, Format: ((OutputFormatContract)Activator.CreateInstance(t)!).FormatUnderTest))
            .ToList();
        var registered = DataPrepCli.CreateRegistry().Formats.All.Select(f => f.Name).ToList();
        Assert.All(registered, name =>
        {
            var matching = contracts.Where(c => c.Format == name).Select(c => c.Type.Name).ToList();
            Assert.True(matching.Count == 1, $"--format {name} has {matching.Count} OutputFormatContract subclasses ({string.Join(", ", matching)}); expected exactly one");
        });
        Assert.All(contracts, c => Assert.True(registered.Contains(c.Format), $"{c.Type.Name} tests --format {c.Format}, which is not registered"));
    }
}

/// <summary>An unknown --format is an option error naming what the registry knows, and nothing is written.</summary>
public sealed class UnknownFormatTests
{
    [Fact]
    public void An_unknown_format_is_exit_2_with_the_registered_names_and_writes_nothing()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("o");
        var r = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label", "churn", "--format", "xml");
        Assert.Equal(2, r.Code);
        Assert.Equal("error: --format xml is not an output format; expected csv, recordio-protobuf, libsvm, deepar, csv-header, jsonl, parquet, images, recordio-image or augmented-manifest.",
            r.Err.TrimEnd('\n'));
        Assert.False(Directory.Exists(outDir));
    }
}
