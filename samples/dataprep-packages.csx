// References DataPrep.Core and DataPrep.Interactive from a local package folder, so the sample notebooks run as shipped:
// `#load "dataprep-packages.csx"` in a notebook's first cell, nothing to edit.
//
// The folder: artifacts/packages of this clone (`bash tools/pack.sh` writes it; the notebooks run from samples/), else
// /home/ec2-user/SageMaker/dataprep/packages (a SageMaker notebook instance set up with docs/sagemaker/). The version:
// the newest DataPrep.Core package in that folder, so a re-pack under a new version (NuGet caches by id and version) is
// picked up without editing anything. `#i` needs an absolute path, which is why this is code and not a `#i` line.
using System;
using System.IO;
using System.Linq;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;

var dataPrepPackages = new[] { Path.GetFullPath(Path.Combine("..", "artifacts", "packages")), "/home/ec2-user/SageMaker/dataprep/packages" }
    .FirstOrDefault(d => Directory.Exists(d) && Directory.EnumerateFiles(d, "DataPrep.Core.*.nupkg").Any())
    ?? throw new DirectoryNotFoundException($"No DataPrep packages in {Path.GetFullPath(Path.Combine("..", "artifacts", "packages"))}: run `bash tools/pack.sh` in the repository first.");
var dataPrepVersion = new DirectoryInfo(dataPrepPackages).GetFiles("DataPrep.Core.*.nupkg")
    .OrderByDescending(f => f.LastWriteTimeUtc).ThenByDescending(f => f.Name, StringComparer.Ordinal)
    .Select(f => f.Name["DataPrep.Core.".Length..^".nupkg".Length]).First();
var dataPrepRestore = await Kernel.Root.SendAsync(new SubmitCode(
    $"#i \"nuget: {dataPrepPackages}\"\n#r \"nuget: DataPrep.Core, {dataPrepVersion}\"\n#r \"nuget: DataPrep.Interactive, {dataPrepVersion}\"", "csharp"));
if (dataPrepRestore.Events.OfType<CommandFailed>().FirstOrDefault() is { } dataPrepFailed)
{
    throw new InvalidOperationException($"Referencing DataPrep {dataPrepVersion} from {dataPrepPackages} failed: {dataPrepFailed.Message}");
}
Console.WriteLine($"DataPrep {dataPrepVersion} from {dataPrepPackages}");
