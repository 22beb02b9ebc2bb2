using System.Diagnostics;
using System.Runtime.InteropServices;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Cli;

/// <summary>Sends real POSIX signals to a child <c>dataprep</c> process (kill(2), as a terminal or an engine does).</summary>
internal static partial class Signals
{
    public const int SIGINT = 2, SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int NativeKill(int pid, int signal);

    public static void Send(Process p, int signal)
    {
        // A process started as a background job of a shell without job control (`cmd &` in a script) inherits SIGINT
        // ignored, and so do its children: the child would never see the signal. Say so instead of timing out.
        if (signal == SIGINT && IgnoresSigint(p.Id))
            Assert.Fail("SIGINT is ignored by the child (inherited from a parent started as `… &` without job control); run the tests through tools/test.sh, which restores it, or from a shell with job control");
        if (NativeKill(p.Id, signal) != 0) throw new InvalidOperationException($"kill({p.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Whether a process ignores SIGINT (bit 1 of SigIgn in /proc/PID/status).</summary>
    private static bool IgnoresSigint(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (SIGINT - 1))) != 0;
    }

    /// <summary>Waits for <paramref name="ready"/> while the process runs; fails the test if it ended first.</summary>
    public static void WaitUntil(Process p, Func<bool> ready, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (p.HasExited) Assert.Fail($"the run ended (exit {p.ExitCode}) before {what}: {p.StandardError.ReadToEnd()}");
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(120))) { p.Kill(entireProcessTree: true); Assert.Fail($"timed out waiting for {what}"); }
            Thread.Sleep(20);
        }
    }

    /// <summary>Waits for the exit; returns the exit code and stderr.</summary>
    public static (int Code, string Err) Exit(Process p, Task<string> stderr, TimeSpan? timeout = null)
    {
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("the process did not end after the signal");
        }
        p.WaitForExit();
        return (p.ExitCode, stderr.GetAwaiter().GetResult());
    }

    /// <summary>Every file and folder under a root, relative, sorted.</summary>
    public static List<string> Tree(string root)
        => Directory.Exists(root) ? [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(root, e)).Order(StringComparer.Ordinal)] : [];
}

/// <summary>
/// Ctrl-C and SIGTERM (issue 17, finding 5): the first signal stops the run, removes staging and spill files, keeps
/// the earlier run, says so, and exits 130 (SIGINT) or 143 (SIGTERM); a second one ends the process at once.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public class SignalTests
{
    private static readonly string[] s_big = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5"];

    [Theory]
    [InlineData(Signals.SIGINT, 130)]
    [InlineData(Signals.SIGTERM, 143)]
    public void First_signal_cancels_cleans_up_and_keeps_the_earlier_run(int signal, int expectedExit)
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 400_000, seed: 5);
        var outDir = tmp.Combine("out");
        // The child's own temp folder: spill files and the runtime's diagnostic socket must all be gone afterwards.
        var childTemp = Directory.CreateDirectory(tmp.Combine("tmp")).FullName;
        var earlier = CliRunner.Run("convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label", "churn", "--drop", "customer_id", "--categorical", "onehot", "--quiet");
        Assert.True(earlier.Code == 0, earlier.Err);
        var before = Signals.Tree(outDir);
        var record = File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json"));

        // A memory budget far below the input: the split spills, so there are spill files to remove.
        using var p = CliProcess.Start(["convert", csv, "--out", outDir, "--overwrite", "--memory", "4MB", .. s_big], new() { ["TMPDIR"] = childTemp });
        var err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        Signals.WaitUntil(p, () => Directory.EnumerateDirectories(childTemp, "dataprep-spill-*").Any(d => Directory.EnumerateFiles(d).Any()), "spill files exist");
        Signals.Send(p, signal);
        var (code, stderr) = Signals.Exit(p, err);

        Assert.True(code == expectedExit, $"exit {code}: {stderr}");
        Assert.Contains("error: the run was cancelled; nothing was published", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(before, Signals.Tree(outDir));
        Assert.Equal(record, File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
        Assert.Empty(Signals.Tree(childTemp));
    }

    [Fact]
    public void Scale_out_worker_step_cleans_up_on_SIGTERM()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 400_000, seed: 6);
        var outDir = tmp.Combine("out");
        var childTemp = Directory.CreateDirectory(tmp.Combine("tmp")).FullName;
        string[] common = [csv, "--out", outDir, "--workers", "1", "--memory", "4MB", .. s_big];
        var scan = CliProcess.Run(["convert", .. common, "--step", "scan", "--quiet"], new() { ["TMPDIR"] = childTemp });
        Assert.True(scan.Code == 0, scan.Err);
        var plan = CliProcess.Run(["convert", .. common, "--step", "plan", "--quiet"], new() { ["TMPDIR"] = childTemp });
        Assert.True(plan.Code == 0, plan.Err);
        var work = tmp.Combine("out", "_dataprep", "work");
        var before = Signals.Tree(work);

        // The encode step of the one worker reads everything and spills under a 4 MB budget: an engine's time-out lands mid-task.
        using var p = CliProcess.Start(["convert", .. common, "--step", "encode", "--worker", "0"], new() { ["TMPDIR"] = childTemp });
        var err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        Signals.WaitUntil(p, () => Directory.EnumerateDirectories(childTemp, "dataprep-spill-*").Any(), "the task spills");
        Signals.Send(p, Signals.SIGTERM);
        var (code, stderr) = Signals.Exit(p, err);

        Assert.True(code == 143, $"exit {code}: {stderr}");
        Assert.Contains("the run was cancelled", stderr);
        Assert.Empty(Signals.Tree(childTemp));
        // The task's objects are written whole or not at all: the work area holds what the finished steps wrote.
        Assert.Equal(before, Signals.Tree(work));
    }
}

/// <summary>The same with S3 output on moto: the first signal aborts the open multipart uploads and publishes nothing.</summary>
[Collection("moto")]
[Trait(NativePass.Name, NativePass.Value)]
public sealed class S3SignalTests(MotoServer moto)
{
    private static readonly string[] s_big = ["--label", "label", "--drop", "id", "--encode", "cat=onehot", "--fractions", "90/5/5", "--no-lineage", "--shard-size", "6MB", "--part-size", "5MB"];

    private static bool IsSecondPartOfTheFirstShard(string line)
        => line.StartsWith("PUT ", StringComparison.Ordinal) && line.Contains("/s/train/part-00000.csv?", StringComparison.Ordinal) && line.Contains("partNumber=2", StringComparison.Ordinal);

    [Theory]
    [InlineData(Signals.SIGINT, 130)]
    [InlineData(Signals.SIGTERM, 143)]
    public void Signal_mid_upload_aborts_the_multipart_uploads_and_publishes_nothing(int signal, int expectedExit)
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 300_000, seed: 3);
        var bucket = moto.NewBucket("signal");
        using var client = moto.Client();
        // A part held by the proxy: the signal lands while a multipart upload is open.
        using var hold = new FaultProxy(moto.Port, (_, line) => IsSecondPartOfTheFirstShard(line) ? Fault.Hold : Fault.None);
        using var p = CliProcess.Start(["convert", csv, "--out", $"s3://{bucket}/s/", "--endpoint-url", hold.Endpoint, .. s_big]);
        var err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        Signals.WaitUntil(p, () => !hold.Injected.IsEmpty, "a part upload is held");
        Assert.NotEmpty(S3Data.IncompleteUploads(client, bucket));
        Signals.Send(p, signal);
        var (code, stderr) = Signals.Exit(p, err);

        Assert.True(code == expectedExit, $"exit {code}: {stderr}");
        Assert.Contains("the run was cancelled", stderr);
        Assert.Empty(S3Data.IncompleteUploads(client, bucket));
        // Nothing published: no ManifestFile, channels.json or run.json (the atomic switch). Data objects that were
        // complete before the signal may stay, for --resume, as after a failure; the note on stderr lists them.
        Assert.DoesNotContain(S3Data.Keys(client, bucket, "s/"), k => k.StartsWith("s/_dataprep/", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_signal_ends_at_once_even_while_the_cleanup_hangs()
    {
        using var tmp = new TempDir();
        var csv = S3Data.BigCsv(tmp.Path, 300_000, seed: 3);
        var bucket = moto.NewBucket("signal2");
        using var client = moto.Client();
        // The part and then the abort hang: the cleanup the first signal starts cannot finish.
        using var hold = new FaultProxy(moto.Port, (_, line) => IsSecondPartOfTheFirstShard(line) || line.StartsWith("DELETE ", StringComparison.Ordinal) ? Fault.Hold : Fault.None);
        using var p = CliProcess.Start(["convert", csv, "--out", $"s3://{bucket}/s/", "--endpoint-url", hold.Endpoint, .. s_big]);
        var err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        try
        {
            Signals.WaitUntil(p, () => !hold.Injected.IsEmpty, "a part upload is held");
            Signals.Send(p, Signals.SIGTERM);
            Signals.WaitUntil(p, () => hold.RequestLines.Any(l => l.StartsWith("DELETE ", StringComparison.Ordinal)), "the abort is under way");
            Signals.Send(p, Signals.SIGTERM);
            var (code, stderr) = Signals.Exit(p, err, TimeSpan.FromSeconds(20));
            Assert.True(code == 143, $"exit {code}: {stderr}");
            Assert.Contains("SIGTERM again: stopping at once", stderr);
            Assert.DoesNotContain(S3Data.Keys(client, bucket, "s/"), k => k.StartsWith("s/_dataprep/", StringComparison.Ordinal));
        }
        finally
        {
            // The held abort never reached moto: remove what this test left open.
            foreach (var u in S3Data.IncompleteUploads(client, bucket)) Abort(client, bucket, u);
        }
    }

    private static void Abort(Amazon.S3.IAmazonS3 client, string bucket, Amazon.S3.Model.MultipartUpload upload)
        => client.AbortMultipartUploadAsync(bucket, upload.Key, upload.UploadId).GetAwaiter().GetResult();
}
