using DataPrep.Tests.Notebooks;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Deploy;

/// <summary>
/// Runs a deploy script as a user would, but against stand-ins for the engines' CLIs placed first on PATH
/// (Deploy/Fakes/aws and Deploy/Fakes/kubectl record every call and answer as the real ones do) and with the real
/// dataprep (the CLI's build, run by dotnet) on PATH to answer <c>--steps</c>. No cloud, no cluster.
/// </summary>
internal sealed class FakeEngines : IDisposable
{
    private static readonly string s_fakes = Path.Combine(Paths.Repo, "tests", "DataPrep.Tests", "Deploy", "Fakes");
    private readonly TempDir _tmp = new();

    public FakeEngines()
    {
        Bin = _tmp.Combine("bin");
        Directory.CreateDirectory(Bin);
        foreach (var name in new[] { "aws", "kubectl" })
        {
            File.Copy(Path.Combine(s_fakes, name), Path.Combine(Bin, name));
            MakeExecutable(Path.Combine(Bin, name));
        }
        Dataprep = WriteDataprepWrapper(Bin);
        Log = _tmp.Combine("calls.log");
    }

    /// <summary>A folder of the test's own (the scripts run in it; outputs can go under it).</summary>
    public string Root => _tmp.Path;

    /// <summary>The folder placed first on PATH: aws, kubectl and dataprep.</summary>
    public string Bin { get; }

    /// <summary>The real CLI behind a script: <c>dotnet …/dataprep.dll "$@"</c>.</summary>
    public string Dataprep { get; }

    /// <summary>The fakes' call log (FAKE_LOG).</summary>
    public string Log { get; }

    /// <summary>Runs deploy/<paramref name="script"/> with bash; <paramref name="failStep"/> makes that step's job fail.</summary>
    public ProcessRunner.Result Run(string script, IEnumerable<string> args, string? failStep = null)
        => ProcessRunner.Run("bash", [Path.Combine(Paths.Repo, "deploy", script), .. args], Root, TimeSpan.FromMinutes(3), Environment(failStep));

    /// <summary>Every call the fakes saw, in order: the program's arguments (without its name).</summary>
    public IReadOnlyList<string[]> Calls()
        => File.Exists(Log) ? File.ReadAllLines(Log).Select(l => l.Split('\x1f')[..^1]).ToList() : [];

    /// <summary>The text the fake kubectl read from <c>apply -f -</c>, the n-th time (from 1).</summary>
    public string Applied(int n) => File.ReadAllText($"{Log}.apply-{n}.yaml");

    /// <summary>Runs the real CLI as a separate process (as a worker in a container does), with extra environment.</summary>
    public ProcessRunner.Result RunDataprep(IEnumerable<string> args, IDictionary<string, string?>? environment = null)
        => ProcessRunner.Run(Dataprep, args, Root, TimeSpan.FromMinutes(3), environment);

    public void Dispose() => _tmp.Dispose();

    private Dictionary<string, string?> Environment(string? failStep) => new()
    {
        ["PATH"] = Bin + Path.PathSeparator + System.Environment.GetEnvironmentVariable("PATH"),
        ["FAKE_LOG"] = Log,
        ["FAKE_FAIL_STEP"] = failStep ?? "",
        ["DATAPREP"] = "", // the scripts' default: dataprep on PATH
    };

    private static string WriteDataprepWrapper(string bin)
    {
        var path = Path.Combine(bin, "dataprep");
        if (CliProcess.Native is { } native)
        {
            File.WriteAllText(path, $"#!/bin/sh\nexec '{native}' \"$@\"\n");
            MakeExecutable(path);
            return path;
        }
        // The CLI the test project references is built next to the tests; a separate build of it will do too.
        var dll = new[] { AppContext.BaseDirectory, Path.Combine(Paths.Repo, "src", "DataPrep.Cli", "bin", "Release", "net10.0") }
            .Select(d => Path.Combine(d, "dataprep.dll"))
            .FirstOrDefault(p => File.Exists(p) && File.Exists(Path.ChangeExtension(p, ".runtimeconfig.json")))
            ?? throw new FileNotFoundException("dataprep.dll with its runtimeconfig.json: neither next to the tests nor in src/DataPrep.Cli/bin/Release/net10.0 (dotnet build DataPrep.sln -c Release)");
        string dotnet = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        File.WriteAllText(path, $"#!/bin/sh\nexec '{dotnet}' '{dll}' \"$@\"\n");
        MakeExecutable(path);
        return path;
    }

    private static void MakeExecutable(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the deploy scripts run with bash on Linux or macOS");
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }
}
