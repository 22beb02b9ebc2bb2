using System.Text.Json.Nodes;

namespace DataPrep.Tests.Notebooks;

/// <summary>The committed sample notebooks: .NET Interactive C# notebooks, saved without outputs, referencing the packages.</summary>
public class CommittedNotebookTests
{
    public static TheoryData<string> Notebooks => new() { "demand-forecasting", "speech", "recordio" };

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_is_a_clean_polyglot_csharp_notebook_that_references_the_packages(string name)
    {
        var nb = JsonNode.Parse(File.ReadAllText(Path.Combine(Paths.Repo, "samples", name + ".ipynb")))!;
        Assert.Equal(".net-csharp", nb["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", nb["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
        var cells = nb["cells"]!.AsArray();
        Assert.All(cells.Where(c => c!["cell_type"]!.GetValue<string>() == "code"), c =>
        {
            Assert.Empty(c!["outputs"]!.AsArray());                       // committed without outputs
            Assert.Equal("csharp", c["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
        });
        var source = string.Concat(cells.SelectMany(c => c!["source"]!.AsArray().Select(l => l!.GetValue<string>())));
        Assert.Contains("#i \"nuget: /home/ec2-user/SageMaker/dataprep/packages\"", source);
        Assert.Contains("#r \"nuget: DataPrep.Core, 0.1.0\"", source);
        Assert.Contains("#r \"nuget: DataPrep.Interactive, 0.1.0\"", source);
        Assert.Contains("../sample-data/", source);
    }
}
