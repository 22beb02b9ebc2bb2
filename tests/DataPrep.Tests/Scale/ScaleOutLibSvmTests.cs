using System.Globalization;
using System.Text;
using DataPrep.Scale;

namespace DataPrep.Tests.Scale;

/// <summary>
/// LibSVM inputs as workers. Opening a LibSVM file reads it whole (the width is its largest feature index, the labels'
/// type needs every label), so the scan tasks share what opening each file learned through the work area
/// (<c>SharedOpens</c>): N tasks read about one copy of the inputs for the schema instead of N, with the one process's
/// bytes and the one process's first error.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class ScaleOutLibSvmTests
{
    /// <summary>
    /// Six files: integer labels but one of float labels, widths from 5 to 40, qid tokens in one (a warning), comments and
    /// blank lines.
    /// </summary>
    private static string[] Files(TempDir tmp, int rows = 150)
    {
        var files = new string[6];
        for (int f = 0; f < files.Length; f++)
        {
            var random = new Random(f + 1);
            int width = 5 + f * 7;
            var text = new StringBuilder(f == 2 ? "# a comment\n\n" : "");
            for (int r = 0; r < rows; r++)
            {
                text.Append(f == 4 ? (random.Next(3) - 1.5).ToString("0.0#", CultureInfo.InvariantCulture) : random.Next(3).ToString(CultureInfo.InvariantCulture));
                if (f == 3) text.Append(" qid:").Append(r / 10 + 1);
                for (int k = 1; k <= width; k++)
                {
                    if (random.Next(3) == 0) text.Append(' ').Append(k).Append(':').Append((random.NextDouble() * 10 - 5).ToString("0.###", CultureInfo.InvariantCulture));
                }
                text.Append('\n');
            }
            files[f] = tmp.File($"part-{f}.libsvm", text.ToString());
        }
        return files;
    }

    [Theory]
    [InlineData(2, "recordio-protobuf")]
    [InlineData(3, "libsvm")]
    [InlineData(7, "csv")]
    public void LibSVM_inputs_as_workers_write_the_files_of_one_process(int workers, string format)
    {
        using var tmp = new TempDir();
        string[] options = [.. Files(tmp), "--label", "label", "--format", format, "--seed", "6", "--shard-rows", "200", "--quiet"];
        var one = tmp.Combine("one");
        var single = CliRunner.Run(["convert", .. options, "--out", one]);
        Assert.True(single.Code == 0, single.Err);
        var many = tmp.Combine("many");
        ScaleOutTests.RunSteps(["convert", .. options, "--out", many, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--keep-work"], new Random(workers), (args, _) => CliRunner.Run(args));
        // Every input's opened state was published once, by whichever task opened it first.
        var opened = Directory.GetFiles(Path.Combine(many, "_dataprep", "work"), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}opened{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => i.ToString("D5", CultureInfo.InvariantCulture)), opened);
        Directory.Delete(Path.Combine(many, "_dataprep", "work"), recursive: true);
        ScaleOutTests.AssertSameRun(one, many, workers);
        Assert.Contains("qid", File.ReadAllText(Path.Combine(many, "_dataprep", "run.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_scan_task_takes_what_another_learned_opening_a_file_and_does_not_read_it()
    {
        using var tmp = new TempDir();
        var files = Files(tmp).Take(2).ToArray();   // scan task 0 reads the first file, task 1 the second
        string[] common = ["convert", .. files, "--label", "label", "--format", "libsvm", "--seed", "1", "--quiet", "--out", tmp.Combine("many"), "--workers", "2"];
        var scan0 = CliRunner.Run([.. common, "--step", "scan", "--worker", "0"]);
        Assert.True(scan0.Code == 0, scan0.Err);

        // The first file becomes garbage of the same size and time stamp (the run's fingerprint does not see it): task 1,
        // whose share is the second file, finds the first file's opened state and never reads the first file.
        var original = File.ReadAllBytes(files[0]);
        var stamp = File.GetLastWriteTimeUtc(files[0]);
        File.WriteAllBytes(files[0], Enumerable.Repeat((byte)'x', original.Length).ToArray());
        File.SetLastWriteTimeUtc(files[0], stamp);
        var scan1 = CliRunner.Run([.. common, "--step", "scan", "--worker", "1"]);
        Assert.True(scan1.Code == 0, scan1.Err);

        // Without the shared state the same task opens the first file itself, and refuses it.
        foreach (var state in Directory.GetFiles(tmp.Combine("many"), "00000", SearchOption.AllDirectories).Where(f => f.Contains("opened", StringComparison.Ordinal)))
        {
            File.Delete(state);
        }
        var again = CliRunner.Run([.. common, "--step", "scan", "--worker", "1"]);
        Assert.Equal(3, again.Code);
        Assert.Contains("part-0.libsvm", again.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_first_bad_file_in_input_order_is_named_whichever_task_opens_first()
    {
        using var tmp = new TempDir();
        var files = Files(tmp, rows: 40);
        // Two bad files: the second at line 30, the fifth at line 2. Task 3 of 4 opens its own share (the fifth file) first.
        foreach (var (file, line) in new[] { (files[1], 30), (files[4], 2) })
        {
            var lines = File.ReadAllLines(file);
            lines[line - 1] = "1 3:oops";
            File.WriteAllLines(file, lines);
        }
        string[] args = ["convert", .. files, "--label", "label", "--quiet"];
        var one = CliRunner.Run([.. args, "--out", tmp.Combine("one")]);
        Assert.Equal(3, one.Code);
        Assert.Contains("part-1.libsvm", one.Err, StringComparison.Ordinal);
        Assert.Contains("line 30", one.Err, StringComparison.Ordinal);
        foreach (int task in new[] { 3, 0 })
        {
            var many = CliRunner.Run([.. args, "--out", tmp.Combine("many"), "--workers", "4", "--step", "scan", "--worker", task.ToString(CultureInfo.InvariantCulture)]);
            Assert.Equal(3, many.Code);
            Assert.Contains(one.Err.Trim()[(one.Err.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), many.Err, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    public void Each_task_visits_its_own_share_first_and_every_input_once(int workers)
    {
        long[] sizes = [100, 5, 300, 50, 50, 200, 1, 90, 0, 400];
        var inputs = Enumerable.Range(0, sizes.Length).Where(i => i != 6).ToList();
        long total = sizes.Sum();
        var firsts = new HashSet<int>();
        for (int task = 0; task < workers; task++)
        {
            var order = SharedOpens.Order(sizes, inputs, task, workers);
            Assert.Equal(inputs, order.Order());
            // The first input visited is the first whose middle byte lies in the task's share, when any does.
            var own = inputs.Where(i => Share(i) == task).ToList();
            if (own.Count > 0) Assert.Equal(own[0], order[0]);
            firsts.Add(order[0]);
        }
        // Tasks that start together open different inputs first, as far as the shares hold inputs.
        Assert.Equal(inputs.Select(Share).Distinct().Count(), firsts.Count);

        int Share(int i) => (int)Math.Min(workers - 1, (sizes.Take(i).Sum() + sizes[i] / 2) * workers / total);
    }
}
