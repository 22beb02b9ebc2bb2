using DataPrep.Cli;
using System.Globalization;
using System.Text;
using DataPrep.Audit;
using static DataPrep.Tests.Audit.AuditRunner;

namespace DataPrep.Tests.Audit;

/// <summary><c>dataprep audit</c> on DataPrep output folders: checks through run.json and the lineage sidecars.</summary>
public class AuditRunTests
{
    [Fact]
    public void A_real_convert_output_audits_clean()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp, "run", "--shard-rows", "300");
        var r = AuditCli(run);
        Assert.Equal(0, r.Code);
        Assert.Equal("", r.Err);
        Assert.Contains("(DataPrep run, random split)", r.Out);
        Assert.Contains("PASS  partition      2,000 row ids, each in exactly one split; read 2,000 = written 2,000 + dropped 0.", r.Out);
        Assert.Contains("PASS  integrity      8 shards", r.Out);
        Assert.Contains("and their 2,000 records match the lineage", r.Out);
        Assert.Contains("SKIP  group overlap", r.Out);
        Assert.Contains("SKIP  time overlap", r.Out);
        Assert.Contains("PASS  duplicates", r.Out);
        Assert.Contains("CLEAN: 3 of 5 checks passed", r.Out);
        Assert.Matches(@"train\s+1,600\s+6", r.Out);
    }

    [Fact]
    public void Json_report_of_a_run_parses()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        var (code, report) = AuditJson(run);
        Assert.Equal(0, code);
        Assert.Equal("run", report.GetProperty("kind").GetString());
        Assert.Equal("pass", report.GetProperty("status").GetString());
        Assert.True(report.GetProperty("clean").GetBoolean());
        Assert.Equal("random", report.GetProperty("splitMethod").GetString());
        Assert.Equal(["partition", "integrity", "group-overlap", "time-overlap", "duplicates"],
            report.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(["pass", "pass", "skipped", "skipped", "pass"],
            report.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("status").GetString()));
        var splits = report.GetProperty("splits").EnumerateArray().ToList();
        Assert.Equal(["train", "validation", "test"], splits.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal([1600L, 200L, 200L], splits.Select(s => s.GetProperty("rows").GetInt64()));
        Assert.Equal("train/part-00000.csv", splits[0].GetProperty("files")[0].GetString());
    }

    [Fact]
    public void Naming_run_json_itself_audits_the_run()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        var r = AuditCli(Path.Combine(run, "_dataprep", "run.json"));
        Assert.Equal(0, r.Code);
        Assert.Contains("DataPrep run", r.Out);
    }

    [Fact]
    public void A_tampered_shard_fails_integrity_and_names_the_changed_record()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        var shard = Path.Combine(run, "train", "part-00000.csv");
        var lines = File.ReadAllLines(shard);
        // Same size, one label flipped: only the SHA-256 and the record's content hash can tell.
        lines[2] = (lines[2][0] == '0' ? "1" : "0") + lines[2][1..];
        File.WriteAllText(shard, string.Join("\n", lines) + "\n");

        var r = AuditCli(run);
        Assert.Equal(AuditCommand.LeakFound, r.Code);
        Assert.Contains("FAIL  integrity", r.Out);
        Assert.Contains("train/part-00000.csv: SHA-256 ", r.Out);
        Assert.Contains("1 record differs from the lineage's content hash", r.Out);
        Assert.Contains("e.g. train/part-00000.csv: changed record 2 (row ", r.Out);
        Assert.DoesNotContain("bytes, run.json says", r.Out);
        Assert.Contains("FAIL: integrity (fail). Exit code 5.", r.Out);

        var (_, report) = AuditJson(run);
        Assert.Equal("fail", report.GetProperty("status").GetString());
        var example = Check(report, "integrity").GetProperty("examples")[0];
        Assert.Equal(2, example.GetProperty("rows")[0].GetProperty("record").GetInt64());
        Assert.Equal("train/part-00000.csv", example.GetProperty("rows")[0].GetProperty("file").GetString());
    }

    [Fact]
    public void A_truncated_shard_fails_on_size_and_record_count()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        var shard = Path.Combine(run, "test", "part-00000.csv");
        var lines = File.ReadAllLines(shard);
        File.WriteAllText(shard, string.Join("\n", lines[..^1]) + "\n");
        var r = AuditCli(run);
        Assert.Equal(5, r.Code);
        Assert.Contains("test/part-00000.csv: ", r.Out);
        Assert.Contains("bytes, run.json says", r.Out);
        Assert.Contains("199 records, run.json says 200", r.Out);
    }

    [Fact]
    public void A_missing_shard_and_an_unlisted_file_fail_integrity()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        File.Delete(Path.Combine(run, "validation", "part-00000.csv"));
        File.WriteAllText(Path.Combine(run, "train", "extra.csv"), "1,2,3\n");
        var (code, report) = AuditJson(run);
        Assert.Equal(5, code);
        var integrity = Check(report, "integrity");
        Assert.Equal("fail", integrity.GetProperty("status").GetString());
        Assert.Equal(2, integrity.GetProperty("violations").GetInt64());
        var details = integrity.GetProperty("details").EnumerateArray().Select(d => d.GetString()!).ToList();
        Assert.Contains(details, d => d.StartsWith("validation/part-00000.csv: missing", StringComparison.Ordinal));
        Assert.Contains(details, d => d.StartsWith("train/extra.csv: not listed in run.json", StringComparison.Ordinal));
        // The lineage still holds, so the leak checks still pass.
        Assert.Equal("pass", Status(report, "partition"));
        Assert.Equal("pass", Status(report, "duplicates"));
    }

    [Fact]
    public void No_verify_skips_reading_the_shards()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        File.WriteAllText(Path.Combine(run, "train", "part-00000.csv"), "tampered\n");
        var (code, report) = AuditJson(run, "--no-verify");
        Assert.Equal(0, code);
        Assert.Equal("skipped", Status(report, "integrity"));
    }

    [Fact]
    public void A_row_id_in_two_splits_breaks_the_partition()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        string trainId = File.ReadLines(LineagePath(run, "train")).Skip(1).First().Split(',')[0];
        EditLineage(run, "test", (i, f) => i == 0 ? [trainId, .. f[1..]] : f);

        var r = AuditCli(run);
        Assert.Equal(5, r.Code);
        Assert.Contains("LEAK  partition      1 row id is in more than one split.", r.Out);
        Assert.Contains($"e.g. row id {trainId} is in train and test: train part-00000.csv record 0", r.Out);
        Assert.Contains("PASS  integrity", r.Out); // content hashes are untouched
    }

    [Fact]
    public void A_row_id_twice_in_one_split_fails_the_partition()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        string firstId = File.ReadLines(LineagePath(run, "validation")).Skip(1).First().Split(',')[0];
        EditLineage(run, "validation", (i, f) => i == 1 ? [firstId, .. f[1..]] : f);
        var (code, report) = AuditJson(run);
        Assert.Equal(5, code);
        var partition = Check(report, "partition");
        Assert.Equal("fail", partition.GetProperty("status").GetString());
        Assert.Contains("written twice within a split", partition.GetProperty("message").GetString());
    }

    [Fact]
    public void Identical_encoded_rows_in_two_splits_are_duplicates_with_shard_and_record()
    {
        using var tmp = new TempDir();
        // Every row twice (different ids): a random split puts copies of some rows in train and in test.
        var sb = new StringBuilder("id,a,b,y\n");
        for (int i = 0; i < 100; i++)
        {
            for (int copy = 0; copy < 2; copy++) sb.Append(CultureInfo.InvariantCulture, $"{i * 2 + copy},{i},{i % 7},{i % 2}\n");
        }
        var input = tmp.File("dup.csv", sb.ToString());
        var run = tmp.Combine("run");
        var c = CliRunner.Run("convert", input, "--out", run, "--label", "y", "--drop", "id", "-q");
        Assert.Equal(0, c.Code);

        var r = AuditCli(run, "--max-examples", "2");
        // Identical rows are a warning (not leakage by themselves), with the number chance gives: these are copies.
        Assert.Equal(0, r.Code);
        Assert.Matches(@"WARN  duplicates     \d+ distinct encoded rows occur in more than one split \(\d+ rows in all\); expected by chance ≈ [\d.,]+ \(the columns allow", r.Out);
        Assert.Matches(@"e\.g\. (train|validation|test) part-00000\.csv record \d+ \(row \d+ of dup\.csv\) = (train|validation|test) part-00000\.csv record \d+ \(row \d+ of dup\.csv\)", r.Out);
        Assert.Contains("PASS  partition", r.Out);

        var (_, report) = AuditJson(run, "--max-examples", "2");
        var dup = Check(report, "duplicates");
        Assert.Equal(2, dup.GetProperty("examples").GetArrayLength());
        var rows = dup.GetProperty("examples")[0].GetProperty("rows");
        Assert.NotEqual(rows[0].GetProperty("split").GetString(), rows[1].GetProperty("split").GetString());
        // Both copies of a row are source rows 2i+1 and 2i+2 of dup.csv.
        long a = rows[0].GetProperty("sourceRow").GetInt64(), b = rows[1].GetProperty("sourceRow").GetInt64();
        Assert.Equal((a - 1) / 2, (b - 1) / 2);
    }

    [Fact]
    public void A_group_column_in_the_lineage_is_checked_hand_planted_overlap()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        // Group keys written by hand: per split disjoint, except one key in train and test.
        foreach (var split in SplitNames)
        {
            EditLineage(run, split, (i, f) => [.. f, split == "test" && i == 0 ? "train-0" : $"{split}-{i % 10}"], "group");
        }
        var r = AuditCli(run);
        Assert.Equal(5, r.Code);
        Assert.Contains("LEAK  group overlap  1 group of group occurs in more than one split (1 row lies outside the split that holds most of its group).", r.Out);
        Assert.Contains("train ∩ test: 1 group", r.Out);
        Assert.Contains("e.g. group 'train-0': train ", r.Out);
        Assert.Contains("PASS  integrity", r.Out);

        // Disjoint keys pass.
        EditLineage(run, "test", (i, f) => [.. f[..^1], $"test-{i % 10}"]);
        var clean = AuditCli(run);
        Assert.Equal(0, clean.Code);
        Assert.Contains("PASS  group overlap  30 groups of group, each in exactly one split.", clean.Out);
    }

    [Fact]
    public void A_time_column_in_the_lineage_is_checked_and_the_overlap_range_printed()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        string Day(int d) => start.AddDays(d).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        // train days 0…1599, validation 2000…2199, test 3000…3199; then one test row back at day 1500.
        EditLineage(run, "train", (i, f) => [.. f, Day(i)], "time");
        EditLineage(run, "validation", (i, f) => [.. f, Day(2000 + i)], "time");
        EditLineage(run, "test", (i, f) => [.. f, Day(3000 + i)], "time");
        var clean = AuditCli(run);
        Assert.Equal(0, clean.Code);
        Assert.Contains("PASS  time overlap   time: every split ends before the next begins (train < validation < test).", clean.Out);
        Assert.Contains($"train → validation: {Day(1599)} < {Day(2000)} (gap 401d)", clean.Out);

        EditLineage(run, "validation", (i, f) => i == 5 ? [.. f[..^1], Day(1500)] : f);
        var r = AuditCli(run);
        Assert.Equal(5, r.Code);
        Assert.Contains($"LEAK  time overlap   time: train and validation overlap from {Day(1500)} to {Day(1599)}.", r.Out);
        Assert.Contains($"train → validation: overlap from {Day(1500)} to {Day(1599)} (100 train rows at or after {Day(1500)}, 1 validation row at or before {Day(1599)})", r.Out);
        Assert.Contains($"e.g. train part-00000.csv record 1599 (row ", r.Out);
        Assert.Contains($"at {Day(1599)} is not before validation part-00000.csv record 5 (row ", r.Out);

        var (_, report) = AuditJson(run);
        var b = Check(report, "time-overlap").GetProperty("boundaries")[0];
        Assert.True(b.GetProperty("overlaps").GetBoolean());
        Assert.Equal(Day(1500), b.GetProperty("overlapFrom").GetString());
        Assert.Equal(Day(1599), b.GetProperty("overlapTo").GetString());
        Assert.Equal(100, b.GetProperty("earlierRowsInOverlap").GetInt64());
        Assert.Equal(1, b.GetProperty("laterRowsInOverlap").GetInt64());
        Assert.False(Check(report, "time-overlap").GetProperty("boundaries")[1].GetProperty("overlaps").GetBoolean());
    }

    [Fact]
    public void Group_of_a_random_split_is_looked_up_in_the_run_inputs()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        // Regions are few: a random split puts every region in every split.
        var r = AuditCli(run, "--group", "region");
        Assert.Equal(5, r.Code);
        Assert.Contains("LEAK  group overlap  3 groups of region occur in more than one split", r.Out);
        Assert.Contains("note: Group keys of region were looked up in the run's inputs", r.Out);
        Assert.Matches(@"train\s+1,600\s+1\s+3", r.Out);
        // Customer ids are unique: no customer in two splits.
        var ok = AuditCli(run, "--group", "customer_id");
        Assert.Equal(0, ok.Code);
        Assert.Contains("PASS  group overlap  2,000 groups of customer_id, each in exactly one split.", ok.Out);
    }

    [Fact]
    public void Group_lookup_needs_the_inputs_unchanged()
    {
        using var tmp = new TempDir();
        var input = tmp.File("in.csv", File.ReadAllText(Paths.SampleData("churn.csv")));
        var run = tmp.Combine("run");
        Assert.Equal(0, CliRunner.Run("convert", input, "--out", run, "--label", "churn", "--drop", "customer_id", "--categorical", "onehot", "-q").Code);

        var missing = AuditCli(run, "--group", "nope");
        Assert.Equal(2, missing.Code);
        Assert.Contains("--group names column 'nope', which the run's input", missing.Err);
        Assert.Contains("its columns: customer_id, plan, region", missing.Err);

        File.AppendAllText(input, "C99999,basic,us,1,1.0,0,false,no\n");
        var changed = AuditCli(run, "--group", "region");
        Assert.Equal(3, changed.Code);
        Assert.Contains("changed since the run", changed.Err);

        File.Delete(input);
        var gone = AuditCli(run, "--group", "region");
        Assert.Equal(3, gone.Code);
        Assert.Contains("label-first output files carry no column names", gone.Err);
        Assert.Contains("does not exist", gone.Err);
        // Without --group nothing needs the inputs.
        Assert.Equal(0, AuditCli(run).Code);
    }

    [Fact]
    public void Recordio_and_gzip_runs_audit_clean_and_tampering_is_found()
    {
        using var tmp = new TempDir();
        var rec = ChurnRun(tmp, "rec", "--format", "recordio-protobuf", "--shards", "2");
        var r = AuditCli(rec);
        Assert.Equal(0, r.Code);
        Assert.Contains("PASS  integrity      6 shards", r.Out);

        var gz = ChurnRun(tmp, "gz", "--compress", "gzip");
        Assert.Equal(0, AuditCli(gz).Code);

        var libsvm = ChurnRun(tmp, "svm", "--format", "libsvm");
        Assert.Equal(0, AuditCli(libsvm).Code);

        // Flip a byte inside a RecordIO payload (past the 8-byte header of the first record).
        var shard = Path.Combine(rec, "train", "part-00001.pbr");
        var bytes = File.ReadAllBytes(shard);
        bytes[20] ^= 0x01;
        File.WriteAllBytes(shard, bytes);
        var t = AuditCli(rec);
        Assert.Equal(5, t.Code);
        Assert.Contains("train/part-00001.pbr: SHA-256", t.Out);
    }

    [Fact]
    public void Lineage_less_runs_still_check_integrity_and_duplicates()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp, "run", "--no-lineage");
        var (code, report) = AuditJson(run);
        Assert.Equal(0, code);
        Assert.Equal("skipped", Status(report, "partition"));
        Assert.Equal("pass", Status(report, "integrity"));
        Assert.Equal("pass", Status(report, "duplicates"));
        Assert.Contains(report.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("--no-lineage"));

        var refused = AuditCli(run, "--group", "region");
        Assert.Equal(2, refused.Code);
        Assert.Contains("written with --no-lineage", refused.Err);
    }

    [Fact]
    public void A_broken_lineage_file_is_bad_input()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        File.AppendAllText(LineagePath(run, "test"), "12,0,13,0,x,00000000000000aa\n");
        var r = AuditCli(run);
        Assert.Equal(3, r.Code);
        Assert.Contains("test.csv, line 202, column 'record': record 'x' is not a non-negative integer", r.Err);
    }

    /// <summary>End to end with the time split (TimeSplitAssigner): a real --split time output audits clean through its lineage times.</summary>
    [Fact]
    public void EndToEnd_time_split_run_audits_clean__uses_TimeSplitAssigner()
    {
        using var tmp = new TempDir();
        var run = tmp.Combine("demand");
        var c = CliRunner.Run("convert", Paths.SampleData("demand.csv"), "--out", run, "--label", "demand", "--split", "time", "--time", "date",
            "--timestamps", "epoch", "--encode", "product=onehot", "--gap", "7d", "-q");
        Assert.True(c.Code == 0, c.Err);
        var (code, report) = AuditJson(run);
        Assert.Equal(0, code);
        Assert.Equal("time by date, gap 7d", report.GetProperty("splitMethod").GetString());
        var time = Check(report, "time-overlap");
        Assert.Equal("pass", time.GetProperty("status").GetString());
        foreach (var b in time.GetProperty("boundaries").EnumerateArray())
        {
            Assert.True(b.GetProperty("gapSeconds").GetDouble() >= 7 * 86400, b.ToString());
            Assert.Equal(7 * 86400, b.GetProperty("requiredGapSeconds").GetDouble());
        }
        Assert.Equal("pass", Status(report, "partition")); // rows in the gap are counted as dropped

        // Plant a validation row one day after train's last day: inside the 7-day gap.
        var trainMax = DateTimeOffset.Parse(time.GetProperty("boundaries")[0].GetProperty("earlierMax").GetString()!, CultureInfo.InvariantCulture);
        string inGap = trainMax.AddDays(1).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        EditLineage(run, "validation", (i, f) => i == 0 ? [.. f[..^1], inGap] : f);
        var r = AuditCli(run);
        Assert.Equal(5, r.Code);
        Assert.Contains("LEAK  time overlap   date: train and validation are closer than the run's --gap", r.Out);
        Assert.Contains("less than the run's --gap 7d: 1 validation row lies inside it", r.Out);
    }

    /// <summary>
    /// End to end with the group split (GroupSplitAssigner, being written): a real --split group output audits clean
    /// through its lineage group column. Until the assigner exists convert throws NotImplementedException and this
    /// test returns early; the hand-written lineage tests above cover the check itself.
    /// </summary>
    [Fact]
    public void EndToEnd_group_split_run_audits_clean__needs_GroupSplitAssigner()
    {
        using var tmp = new TempDir();
        var input = new StringBuilder("user,x,y\n");
        for (int i = 0; i < 500; i++) input.Append(CultureInfo.InvariantCulture, $"u{i % 37},{i},{i % 2}\n");
        var path = tmp.File("users.csv", input.ToString());
        var run = tmp.Combine("run");
        CliRunner.Result c;
        try
        {
            c = CliRunner.Run("convert", path, "--out", run, "--label", "y", "--split", "group", "--group", "user", "--drop", "user", "-q");
        }
        catch (NotImplementedException)
        {
            return; // GroupSplitAssigner not written yet
        }
        if (c.Code != 0 && c.Err.Contains("NotImplementedException", StringComparison.Ordinal)) return; // not written yet
        Assert.True(c.Code == 0, c.Err);
        var (code, report) = AuditJson(run);
        Assert.Equal(0, code);
        Assert.Equal("pass", Status(report, "group-overlap"));
        Assert.Equal(37, report.GetProperty("splits").EnumerateArray().Sum(s => s.GetProperty("groups").GetInt64()));
        Assert.Contains("user", Check(report, "group-overlap").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Library_call_gives_the_same_report()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp);
        var report = await Auditor.AuditAsync([run], new AuditOptions { MaxExamples = 0 });
        Assert.True(report.Clean);
        Assert.Equal(AuditStatus.Pass, report.Check(AuditChecks.Partition)!.Status);
        Assert.Equal(2000, report.Splits.Sum(s => s.Rows));
    }
}
