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
        // Nothing to edit: no #i or versioned #r line; the helper beside the notebook finds the packages.
        Assert.DoesNotContain("#i ", source);
        Assert.DoesNotContain("#r \"nuget:", source);
        Assert.StartsWith("#load \"dataprep-packages.csx\"", string.Concat(cells.First(c => c!["cell_type"]!.GetValue<string>() == "code")!["source"]!.AsArray().Select(l => l!.GetValue<string>())));
        Assert.Contains("../sample-data/", source);
    }

    [Fact]
    public void Package_helper_looks_in_the_clone_then_on_sagemaker()
    {
        var helper = File.ReadAllText(Path.Combine(Paths.Repo, "samples", "dataprep-packages.csx"));
        Assert.Contains("Path.Combine(\"..\", \"artifacts\", \"packages\")", helper);      // where tools/pack.sh writes
        Assert.Contains("/home/ec2-user/SageMaker/dataprep/packages", helper);              // where docs/sagemaker installs
        Assert.Contains("#r \\\"nuget: DataPrep.Interactive, {dataPrepVersion}\\\"", helper);
    }
}
