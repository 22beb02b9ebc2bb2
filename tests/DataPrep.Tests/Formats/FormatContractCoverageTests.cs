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
