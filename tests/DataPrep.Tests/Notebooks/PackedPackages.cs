using System.Diagnostics;

namespace DataPrep.Tests.Notebooks;

/// <summary>
/// Packs every package of the repository once per test class, with a version no earlier run used
/// (0.1.0-test.TIMESTAMP.rRANDOM), so neither a notebook nor a tool install can pick up a stale copy from the
/// NuGet cache. The binaries are those the test run was built from (tools/pack.sh --no-build); the cached
/// copies of this version are removed again afterwards.
/// </summary>
public sealed class PackedPackages : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public PackedPackages()
    {
        // Directly in the temp folder, like TempDir: no shared parent is left behind.
        Root = Path.Combine(Path.GetTempPath(), "dataprep-notebooks-" + Guid.NewGuid().ToString("N"));
        Folder = Path.Combine(Root, "packages");
        Directory.CreateDirectory(Folder);
        Version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.r{Guid.NewGuid().ToString("N")[..8]}";
        var clock = Stopwatch.StartNew();
        // The notebooks run dotnet-repl as a local tool (.config/dotnet-tools.json); tools/test.sh restores it too.
        var restore = ProcessRunner.Run("dotnet", ["tool", "restore"], Paths.Repo, TimeSpan.FromMinutes(5));
        if (restore.Code != 0) throw new InvalidOperationException("dotnet tool restore failed: " + restore);
        PackResult = ProcessRunner.Run("bash", [Path.Combine(Paths.Repo, "tools", "pack.sh"), "--version", Version, "--output", Folder, "--configuration", Configuration, "--no-build"],
            Paths.Repo, TimeSpan.FromMinutes(5));
        if (PackResult.Code != 0) throw new InvalidOperationException("tools/pack.sh failed: " + PackResult);
        PackSeconds = clock.Elapsed.TotalSeconds;
    }

    /// <summary>A temporary folder for everything of this fixture.</summary>
    public string Root { get; }

    /// <summary>The local package folder (a NuGet source).</summary>
    public string Folder { get; }

    /// <summary>The unique package version of this run.</summary>
    public string Version { get; }

    public ProcessRunner.Result PackResult { get; }

    public double PackSeconds { get; }

    public string Package(string id) => Path.Combine(Folder, $"{id}.{Version}.nupkg");

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        // Leave no test versions behind in the global packages folder.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        if (!Directory.Exists(cache)) return;
        foreach (var id in Directory.EnumerateDirectories(cache, "dataprep.*"))
        {
            var versioned = Path.Combine(id, Version.ToLowerInvariant());
            try { if (Directory.Exists(versioned)) Directory.Delete(versioned, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
