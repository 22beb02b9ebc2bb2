using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace DataPrep.Tests.S3;

/// <summary>
/// Dummy credentials, a region and no instance metadata for every S3 test (and the CLI processes they
/// start): set once, before any client exists. A shared credentials file adds the profiles "s3rver"
/// (s3rver's fixed key) and "wrong" (a key no server knows).
/// </summary>
public static class S3Env
{
    private static readonly Lazy<bool> s_init = new(() =>
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "testing");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "testing");
        Environment.SetEnvironmentVariable("AWS_REGION", "us-east-1");
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        // Beside the test assembly, not in the temp folder: a test host that the runner ended without a ProcessExit left
        // one dataprep-test-aws-PID.ini per run in TMPDIR. Here every run of a build writes the same file.
        var file = Path.Combine(AppContext.BaseDirectory, "dataprep-test-aws.ini");
        File.WriteAllText(file, "[s3rver]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n\n[wrong]\naws_access_key_id = AKIANOTAREALKEY00000\naws_secret_access_key = not-the-secret\n");
        // Not deleted at exit: it is part of the build output (bin/), like the test assembly, and a second run of the same
        // build may be using it.
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", file);
        return true;
    });

    public static void Ensure() => _ = s_init.Value;

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Waits until something answers HTTP on the port.</summary>
    public static void WaitForHttp(int port, Process process, string name, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited) throw new InvalidOperationException($"{name} exited with code {process.ExitCode} before answering on port {port}.");
            try
            {
                using var r = http.GetAsync($"http://127.0.0.1:{port}/").GetAwaiter().GetResult();
                return;
            }
            catch (Exception) { Thread.Sleep(100); }
        }
        throw new TimeoutException($"{name} did not answer on 127.0.0.1:{port} within {timeout.TotalSeconds} s.");
    }
}

/// <summary>A real S3 server on 127.0.0.1 started for a test collection and stopped after it.</summary>
public abstract class S3ServerFixture : IDisposable
{
    private readonly Process _process;

    protected S3ServerFixture(string name, string file, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        S3Env.Ensure();
        Port = S3Env.FreePort();
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? Paths.Repo };
        foreach (var a in args) psi.ArgumentList.Add(a.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {name}");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        S3Env.WaitForHttp(Port, _process, name, TimeSpan.FromSeconds(60));
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>The profile whose credentials the server accepts (null: the environment's).</summary>
    public virtual string? Profile => null;

    public IAmazonS3 Client(string? endpoint = null)
    {
        var config = new AmazonS3Config { ServiceURL = endpoint ?? Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" };
        return Profile is null ? new AmazonS3Client(config) : new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), config);
    }

    public string NewBucket(string stem)
    {
        var name = $"{stem}-{Guid.NewGuid():N}"[..Math.Min(40, stem.Length + 33)].ToLowerInvariant();
        using var c = Client();
        c.PutBucketAsync(new PutBucketRequest { BucketName = name }).GetAwaiter().GetResult();
        return name;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); }
        catch (InvalidOperationException) { }
        _process.Dispose();
        Cleanup();
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes what the server kept on disk, once it has stopped.</summary>
    protected virtual void Cleanup()
    {
    }
}

/// <summary>
/// moto's S3 server (<c>moto_server -H 127.0.0.1 -p PORT</c>); in memory, so one per test collection. moto computes
/// CRC-32C only when its Python can import the module <c>crc32c</c> (else it silently gives CRC-32): the Debian
/// package python3-crc32c (tools/test.sh installs it) is made importable through a folder that holds only a link to
/// it (<see cref="Crc32cPath"/>), not all of Debian's dist-packages. S3ChecksumTests checks that moto computes it.
/// </summary>
public sealed class MotoServer : S3ServerFixture
{
    /// <summary>Where Debian's python3-crc32c puts its module (one file, built for Debian's Python 3).</summary>
    public const string DebianModules = "/usr/lib/python3/dist-packages";

    public MotoServer() : base("moto_server", Find(out var args), args, environment: PythonEnvironment()) { }

    /// <summary>The folder on moto's PYTHONPATH holding only the crc32c module; null when python3-crc32c is not installed.</summary>
    public static string? Crc32cPath { get; } = LinkCrc32c();

    private static Dictionary<string, string> PythonEnvironment()
    {
        var env = new Dictionary<string, string>();
        if (Crc32cPath is null) return env;
        var existing = Environment.GetEnvironmentVariable("PYTHONPATH");
        env["PYTHONPATH"] = string.IsNullOrEmpty(existing) ? Crc32cPath : $"{Crc32cPath}:{existing}";
        return env;
    }

    /// <summary>
    /// Beside the test assembly (like the credentials file: nothing in the temp folder), a folder with a link to each
    /// of the Debian package's crc32c modules; every run of a build uses the same folder.
    /// </summary>
    private static string? LinkCrc32c()
    {
        if (!Directory.Exists(DebianModules)) return null;
        var modules = Directory.GetFiles(DebianModules, "crc32c*.so");
        if (modules.Length == 0) return null;
        var dir = Path.Combine(AppContext.BaseDirectory, "moto-python");
        Directory.CreateDirectory(dir);
        foreach (var module in modules)
        {
            var link = Path.Combine(dir, Path.GetFileName(module));
            if (File.Exists(link)) continue;
            try
            {
                File.Delete(link); // a link left dangling by an earlier package version
                File.CreateSymbolicLink(link, module);
            }
            catch (IOException) when (File.Exists(link))
            {
                // Another test run of this build made it at the same moment.
            }
        }
        return dir;
    }

    private static string Find(out string[] args)
    {
        args = ["-H", "127.0.0.1", "-p", "{port}"];
        var home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append(Path.Combine(home, ".pyenv", "shims")))
        {
            var candidate = Path.Combine(dir, "moto_server");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("moto_server was not found (PATH, ~/.pyenv/shims). The S3 tests run against moto's S3 server: install it with  pip install 'moto[server]'  (Python 3.9+), then run the tests again.");
    }
}

/// <summary>The npm package s3rver (pinned in package.json; tools/test.sh runs npm ci), persisting to a temp folder.</summary>
public sealed class S3rverServer : S3ServerFixture
{
    public const string Bucket = "s3rver-bucket";
    private static readonly string s_dir = Path.Combine(Path.GetTempPath(), $"dataprep-s3rver-{Guid.NewGuid():N}");

    public S3rverServer() : base("s3rver", "node", [Script(), "-d", Dir(), "-a", "127.0.0.1", "-p", "{port}", "-s", "--configure-bucket", Bucket]) { }

    public override string? Profile => "s3rver";

    protected override void Cleanup()
    {
        try { if (Directory.Exists(s_dir)) Directory.Delete(s_dir, recursive: true); }
        catch (IOException) { }
    }

    private static string Dir()
    {
        Directory.CreateDirectory(s_dir);
        return s_dir;
    }

    private static string Script()
    {
        var script = Path.Combine(Paths.Repo, "node_modules", "s3rver", "bin", "s3rver.js");
        return File.Exists(script) ? script : throw new InvalidOperationException($"s3rver is not installed ({script} is missing): run  npm ci  in {Paths.Repo} (tools/test.sh does).");
    }
}

[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoServer>;

[CollectionDefinition("s3rver")]
public sealed class S3rverCollection : ICollectionFixture<S3rverServer>;
