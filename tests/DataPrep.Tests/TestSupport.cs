using System.Text;
using DataPrep.Cli;

namespace DataPrep.Tests;

/// <summary>What every child process a test starts shares.</summary>
public static class ChildProcesses
{
    /// <summary>
    /// No .NET diagnostics IPC (DOTNET_EnableDiagnostics=0): otherwise each .NET process creates
    /// <c>dotnet-diagnostic-PID-…-socket</c> and <c>clr-debug-pipe-PID-in/out</c> in TMPDIR, which stay behind when a
    /// test kills it (tools/test.sh fails on such leftovers). Inherited by the grandchildren (scripts, workers).
    /// </summary>
    public static void NoDiagnostics(System.Diagnostics.ProcessStartInfo psi) => psi.Environment["DOTNET_EnableDiagnostics"] = "0";
}

/// <summary>A temporary folder removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        // Directly in the temp folder (no shared parent left behind once the last test's folder is removed).
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dataprep-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, string content)
    {
        var p = Combine(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        System.IO.File.WriteAllText(p, content, new UTF8Encoding(false));
        return p;
    }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Runs the real CLI in-process and captures its output.</summary>
public static class CliRunner
{
    public sealed record Result(int Code, string Out, string Err);

    public static Result Run(params string[] args) => Run(null, args);

    /// <summary>Runs the CLI with a registry of the test's own (to read its diagnostics or change its settings).</summary>
    public static Result Run(DataPrep.Conversion.DataPrepRegistry? registry, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = DataPrepCli.RunAsync(args, stdout, stderr, registry).GetAwaiter().GetResult();
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}

public static class Paths
{
    /// <summary>The repository root (where DataPrep.sln is).</summary>
    public static string Repo { get; } = FindRepo();

    public static string SampleData(string name) => Path.Combine(Repo, "sample-data", name);

    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    private static string FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DataPrep.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("DataPrep.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// The trait of a test class that starts the CLI as a process (<c>[Trait(NativePass.Name, NativePass.Value)]</c>): those
/// run the program <c>DATAPREP_CLI</c> names, which tools/test.sh sets to the Native AOT binary, and
/// <c>--filter Runs=cli-process</c> selects them (e.g. to run them again against a new native build).
/// <c>NativePassCoverageTests</c> checks every class that starts the CLI as a process carries it.
/// </summary>
public static class NativePass
{
    public const string Name = "Runs";
    public const string Value = "cli-process";
}

/// <summary>Parquet inputs for tests, written by Parquet.Net (another tool than DataPrep's own writer).</summary>
public static class TestParquet
{
    /// <summary>Writes one row group of the given double columns, in order, to <paramref name="path"/>.</summary>
    public static async Task WriteDoublesAsync(string path, params (string Name, double[] Values)[] columns)
    {
        var fields = columns.Select(c => new global::Parquet.Schema.DataField<double>(c.Name)).ToArray();
        await using var stream = File.Create(path);
        await using var writer = await global::Parquet.ParquetWriter.CreateAsync(new global::Parquet.Schema.ParquetSchema(fields), stream);
        using var group = writer.CreateRowGroup();
        for (int c = 0; c < columns.Length; c++) await group.WriteAsync<double>(fields[c], columns[c].Values.AsMemory());
    }
}
