using System.Text.Json;
using System.Text.RegularExpressions;
using DataPrep.Fluent;
using DataPrep.Pipeline;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Cli;

/// <summary>
/// Progress that moves: by input bytes where sizes are known, per phase, plain lines for logs (no control codes);
/// the report's phase timings are each phase's own and add up to at most the wall time.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public class ProgressTests
{
    private static string[] ChurnArgs(string outDir) =>
        ["convert", Paths.SampleData("churn.csv"), "--out", outDir, "--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot"];

    [Fact]
    public void Plain_progress_on_a_child_process_names_each_phase_without_control_codes()
    {
        using var tmp = new TempDir();
        var r = CliProcess.Run([.. ChurnArgs(tmp.Combine("out")), "--progress", "plain", "--json"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain('\u001b', r.Err);
        Assert.DoesNotContain('\r', r.Err);
        var lines = r.Err.TrimEnd('\n').Split('\n');
        Assert.All(lines, l => Assert.Matches(@"^\[\d+:\d\d\] (open|read|split|write|commit|upload)\b", l));
        foreach (var phase in new[] { "read", "split", "write", "commit" })
        {
            Assert.Single(lines, l => l.Contains($"] {phase} done: ", StringComparison.Ordinal));
        }
        // Read progress is by bytes: the input's size is known.
        var size = new FileInfo(Paths.SampleData("churn.csv")).Length;
        Assert.Contains(lines, l => l.Contains("] read done: " + DataPrep.Pipeline.RunReportText.Bytes(size) + ", 2,000 rows", StringComparison.Ordinal));

        // --json still gets the report on stdout, with the phases.
        using var json = JsonDocument.Parse(r.Out);
        var phases = json.RootElement.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["open", "read", "split", "write", "commit"], phases);
    }

    [Fact]
    public void Auto_progress_is_plain_for_an_engine_task_and_silent_for_a_short_run_on_a_pipe()
    {
        using var tmp = new TempDir();
        var engine = CliProcess.Run([.. ChurnArgs(tmp.Combine("engine")), "--quiet"], new() { ["JOB_COMPLETION_INDEX"] = "0" });
        Assert.True(engine.Code == 0, engine.Err);
        Assert.Equal("", engine.Err); // --quiet wins over auto

        var logged = CliProcess.Run([.. ChurnArgs(tmp.Combine("logged"))], new() { ["JOB_COMPLETION_INDEX"] = "0" });
        Assert.True(logged.Code == 0, logged.Err);
        Assert.Contains("] write done: 2,000 rows", logged.Err);
        Assert.DoesNotContain('\u001b', logged.Err);

        var piped = CliProcess.Run([.. ChurnArgs(tmp.Combine("piped"))], new() { ["JOB_COMPLETION_INDEX"] = "", ["AWS_BATCH_JOB_ARRAY_INDEX"] = "" });
        Assert.True(piped.Code == 0, piped.Err);
        Assert.Equal("", piped.Err); // a short run on a plain pipe leaves stderr to errors
        Assert.Contains("phases: open ", piped.Out);
    }

    [Fact]
    public void A_scale_out_task_run_by_an_engine_prints_plain_progress()
    {
        using var tmp = new TempDir();
        // Task 0 of the scan step, as a Kubernetes Indexed Job would start it: the index and the log both come from the engine.
        var r = CliProcess.Run([.. ChurnArgs(tmp.Combine("out")), "--workers", "1", "--step", "scan"], new() { ["JOB_COMPLETION_INDEX"] = "0" });
        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain('\u001b', r.Err);
        var lines = r.Err.TrimEnd('\n').Split('\n');
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^\[\d+:\d\d\] read done: [\d,]+ rows"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^step scan task 0 of 1 done in [\d.]+ s\.$"));
    }

    [Fact]
    public void Unknown_progress_mode_is_an_invalid_option()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run([.. ChurnArgs(tmp.Combine("out")), "--progress", "fancy"]);
        Assert.Equal(2, r.Code);
        Assert.Equal("error: --progress fancy: expected auto, bar, plain or none.", r.Err.TrimEnd());
        Assert.False(Directory.Exists(tmp.Combine("out")));
    }

    [Fact]
    public async Task Phase_timings_are_each_phases_own_and_add_up_to_at_most_the_wall_time()
    {
        using var tmp = new TempDir();
        var readDelay = TimeSpan.FromMilliseconds(300);
        var writeDelay = TimeSpan.FromMilliseconds(900);
        bool readSlept = false, writeSlept = false;
        var events = new List<RunProgress>();
        // A listener that is slow once in the read phase and once in the write phase: each phase's time must hold its
        // own delay, and the read phase must not hold the write phase's (as a total run time would).
        var progress = new SyncProgress(p =>
        {
            events.Add(p);
            if (p.Stage == "read" && !readSlept) { readSlept = true; Thread.Sleep(readDelay); }
            if (p.Stage == "write" && !writeSlept) { writeSlept = true; Thread.Sleep(writeDelay); }
        });
        var report = await DataPrepPipeline
            .Read(Paths.SampleData("churn.csv"))
            .Label("churn")
            .Drop("customer_id")
            .Encode("plan", FeatureEncoding.OneHot)
            .Encode("region", FeatureEncoding.OneHot)
            .SplitRandom(0.8, 0.1, 0.1)
            .WriteCsv(tmp.Combine("out"))
            .RunAsync(progress);

        var phases = report.Phases!;
        Assert.Equal(["open", "read", "split", "write", "commit"], phases.Select(p => p.Name));
        Assert.All(phases, p => Assert.True(p.Seconds >= 0));
        Assert.True(phases.Sum(p => p.Seconds) <= report.Seconds + 1e-6, $"{string.Join(", ", phases)} vs {report.Seconds} s");
        double read = phases.Single(p => p.Name == "read").Seconds, write = phases.Single(p => p.Name == "write").Seconds;
        Assert.True(read >= readDelay.TotalSeconds, $"read {read} s");
        Assert.True(write >= writeDelay.TotalSeconds, $"write {write} s");
        Assert.True(read <= report.Seconds - writeDelay.TotalSeconds, $"read {read} s holds only its own time (run {report.Seconds} s)");

        // Read progress by bytes: monotonic, ending at the input's size.
        var reads = events.Where(e => e.Stage == "read" && e.TotalBytes is not null).ToList();
        Assert.NotEmpty(reads);
        long size = new FileInfo(Paths.SampleData("churn.csv")).Length;
        Assert.All(reads, e => Assert.Equal(size, e.TotalBytes));
        Assert.Equal(reads.Select(e => e.Bytes).Order(), reads.Select(e => e.Bytes));
        Assert.Equal(size, reads[^1].Bytes);
    }

    [Fact]
    public async Task Read_progress_of_a_gzip_input_counts_compressed_bytes_against_the_file_size()
    {
        using var tmp = new TempDir();
        var events = new List<RunProgress>();
        var input = Paths.SampleData("sensors.csv.gz");
        await DataPrepPipeline
            .Read(input)
            .Label("label")
            .SplitRandom(0.8, 0.1, 0.1)
            .WriteCsv(tmp.Combine("out"))
            .RunAsync(new SyncProgress(events.Add));
        long size = new FileInfo(input).Length;
        var last = events.Last(e => e.Stage == "read");
        Assert.Equal(size, last.TotalBytes);
        Assert.Equal(size, last.Bytes);
    }

    private sealed class SyncProgress(Action<RunProgress> report) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => report(value);
    }
}
