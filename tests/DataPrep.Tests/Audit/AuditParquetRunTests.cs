using DataPrep.Audit;
using DataPrep.Cli;
using DataPrep.Formats;
using DataPrep.Pipeline;
using DataPrep.Sources;
using Parquet;
using Parquet.Schema;
using DataPrep.Conversion;
using static DataPrep.Tests.Audit.AuditRunner;

namespace DataPrep.Tests.Audit;

/// <summary>
/// <c>dataprep audit</c> on <c>--format parquet</c> runs: the shards are read record by record through the Parquet
/// definition's <see cref="OutputFormatDefinition.RecordHasher"/>, so they are checked against the lineage as CSV's are.
/// </summary>
public class AuditParquetRunTests
{
    [Fact]
    public void A_parquet_run_audits_clean_with_the_csv_runs_lineage()
    {
        using var tmp = new TempDir();
        // churn has one-hot and boolean columns: read back, they are DOUBLE and INT64, and must hash as the sink's rows did.
        var run = ChurnRun(tmp, "parquet", "--format", "parquet", "--shard-rows", "300");
        var r = AuditCli(run);
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Contains("PASS  integrity      8 shards", r.Out);
        Assert.Contains("and their 2,000 records match the lineage", r.Out);
        Assert.Contains("PASS  duplicates", r.Out);

        var csv = ChurnRun(tmp, "csv", "--shard-rows", "300");
        foreach (var split in SplitNames) Assert.Equal(File.ReadAllText(LineagePath(csv, split)), File.ReadAllText(LineagePath(run, split)));
    }

    [Fact]
    public void Spilled_and_lineage_less_parquet_runs_audit_clean()
    {
        using var tmp = new TempDir();
        var spilled = ChurnRun(tmp, "spilled", "--format", "parquet", "--shards", "2");
        var r = AuditCli(spilled);
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Contains("PASS  integrity      6 shards", r.Out);

        // Without lineage the duplicate check hashes the shards' rows itself.
        var (code, report) = AuditJson(ChurnRun(tmp, "no-lineage", "--format", "parquet", "--no-lineage"));
        Assert.Equal(0, code);
        Assert.Equal("pass", Status(report, "integrity"));
        Assert.Equal("pass", Status(report, "duplicates"));
    }

    [Fact]
    public void A_changed_row_in_a_parquet_shard_fails_integrity_and_is_named()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp, "run", "--format", "parquet");
        // A valid Parquet file again, the label of record 2 flipped: only the SHA-256 and that record's content hash can tell.
        Rewrite(Path.Combine(run, "train", "part-00000.parquet"), columns =>
        {
            var label = (long[])columns[0];
            label[2] = 1 - label[2];
        });

        var r = AuditCli(run);
        Assert.Equal(AuditCommand.LeakFound, r.Code);
        Assert.Contains("FAIL  integrity", r.Out);
        Assert.Contains("train/part-00000.parquet: ", r.Out);
        Assert.Contains("SHA-256 ", r.Out);
        Assert.Contains("1 record differs from the lineage's content hash", r.Out);
        Assert.Contains("e.g. train/part-00000.parquet: changed record 2 (row ", r.Out);
        Assert.DoesNotContain("records, run.json says", r.Out);

        var (_, report) = AuditJson(run);
        var example = Check(report, "integrity").GetProperty("examples")[0];
        Assert.Equal(2, example.GetProperty("rows")[0].GetProperty("record").GetInt64());
    }

    [Fact]
    public void Two_swapped_rows_in_a_parquet_shard_fail_integrity()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp, "run", "--format", "parquet");
        var shard = Path.Combine(run, "test", "part-00000.parquet");
        var before = ParquetRows(shard);
        int a = 0, b = Enumerable.Range(1, before.Count - 1).First(i => before[i] != before[0]);
        Rewrite(shard, columns =>
        {
            foreach (var column in columns)
            {
                var x = column.GetValue(a);
                column.SetValue(column.GetValue(b), a);
                column.SetValue(x, b);
            }
        });

        var r = AuditCli(run);
        Assert.Equal(5, r.Code);
        Assert.Contains("2 records differ from the lineage's content hash", r.Out);
        Assert.Contains($"e.g. test/part-00000.parquet: changed records {a} (row ", r.Out);
        Assert.Contains($"; {b} (row ", r.Out);
        // Same rows in both splits as before: the leak checks still pass.
        var (_, report) = AuditJson(run);
        Assert.Equal("pass", Status(report, "partition"));
        Assert.Equal("pass", Status(report, "duplicates"));
    }

    [Fact]
    public void A_corrupt_or_truncated_parquet_shard_fails_integrity()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp, "run", "--format", "parquet");
        var shard = Path.Combine(run, "train", "part-00000.parquet");
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..(bytes.Length / 2)]);
        var r = AuditCli(run);
        Assert.Equal(5, r.Code);
        Assert.Contains("train/part-00000.parquet: ", r.Out);
        Assert.Contains("bytes, run.json says", r.Out);
        Assert.Contains("unreadable after record 0", r.Out);
        Assert.Contains("FAIL: integrity (fail). Exit code 5.", r.Out);
    }

    [Fact]
    public async Task A_registry_without_parquet_names_the_plug_in_instead_of_failing_the_shards()
    {
        using var tmp = new TempDir();
        var run = ChurnRun(tmp, "run", "--format", "parquet");
        var e = await Assert.ThrowsAsync<PipelineValidationException>(() => Auditor.AuditAsync([run], registry: new DataPrepRegistry()));
        Assert.Contains("run.json: the run wrote --format parquet, which the audit's registry does not know", e.Message);
        Assert.Contains("add the plug-in DataPrep.Parquet (registry.AddParquet())", e.Message);

        var cli = AuditCli(new DataPrepRegistry(), run);
        Assert.Equal(DataPrepCli.InvalidOptions, cli.Code);
        Assert.Contains("DataPrep.Parquet (registry.AddParquet())", cli.Err);
        Assert.Equal("", cli.Out);

        // Only the shard check reads the files: without it the rest of the audit needs no plug-in.
        var report = await Auditor.AuditAsync([run], new AuditOptions { VerifyShards = false }, new DataPrepRegistry());
        Assert.True(report.Clean);
        Assert.Equal(AuditStatus.Pass, report.Check(AuditChecks.Partition)!.Status);

        var parquet = await Auditor.AuditAsync([run], registry: new DataPrepRegistry().AddParquet());
        Assert.True(parquet.Clean);
        Assert.Equal(AuditStatus.Pass, parquet.Check(AuditChecks.Integrity)!.Status);
    }

    /// <summary>Every row of a Parquet file as text (columns joined), in file order.</summary>
    private static List<string> ParquetRows(string path)
    {
        var (_, columns) = ReadColumns(path);
        int rows = columns[0].Length;
        return Enumerable.Range(0, rows).Select(r => string.Join(",", columns.Select(c => c.GetValue(r)))).ToList();
    }

    /// <summary>Rewrites a Parquet shard as one row group, its columns (long[] or double[], whole file) edited in place first.</summary>
    private static void Rewrite(string path, Action<Array[]> edit)
    {
        var (schema, columns) = ReadColumns(path);
        edit(columns);
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(schema, stream, ParquetFormatDefinition.WriterOptions()).GetAwaiter().GetResult();
        using (var group = writer.CreateRowGroup())
        {
            var fields = schema.DataFields;
            for (int c = 0; c < fields.Length; c++)
            {
                if (columns[c] is long[] l) group.WriteAsync<long>(fields[c], l.AsMemory()).GetAwaiter().GetResult();
                else group.WriteAsync<double>(fields[c], ((double[])columns[c]).AsMemory()).GetAwaiter().GetResult();
            }
        }
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static (ParquetSchema Schema, Array[] Columns) ReadColumns(string path) => ReadColumnsAsync(path).GetAwaiter().GetResult();

    private static async Task<(ParquetSchema Schema, Array[] Columns)> ReadColumnsAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.DataFields;
        var columns = new List<Array>();
        foreach (var field in fields)
        {
            var parts = new List<Array>();
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                int n = (int)group.RowCount;
                if (field.ClrType == typeof(long))
                {
                    var v = new long[n];
                    await group.ReadAsync<long>(field, v.AsMemory());
                    parts.Add(v);
                }
                else
                {
                    var v = new double[n];
                    await group.ReadAsync<double>(field, v.AsMemory());
                    parts.Add(v);
                }
            }
            columns.Add(field.ClrType == typeof(long) ? parts.SelectMany(p => (long[])p).ToArray() : parts.SelectMany(p => (double[])p).ToArray());
        }
        return (reader.Schema, [.. columns]);
    }
}
