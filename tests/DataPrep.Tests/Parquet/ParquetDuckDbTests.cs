using System.Globalization;
using System.Text.Json;
using DataPrep.Tests.Notebooks;
using static DataPrep.Tests.Parquet.ParquetOutputFiles;

namespace DataPrep.Tests.Parquet;

/// <summary>
/// Parquet output read by DuckDB (<c>@duckdb/node-api</c>, pinned in the root package.json; tools/test.sh runs
/// <c>npm ci</c>) through <c>duckdb-read.cjs</c>: another implementation must see the columns, types, row counts,
/// sums and row groups DataPrep wrote. (pandas is not tested: Debian's python3-pandas has no Parquet engine, and
/// neither pyarrow nor fastparquet is packaged for apt.)
/// </summary>
public class ParquetDuckDbTests
{
    private static readonly string s_script = Path.Combine(AppContext.BaseDirectory, "Parquet", "duckdb-read.cjs");

    private sealed record DuckDbView(List<(string Name, string Type)> Columns, long Rows, List<string?> Sums, int RowGroups, List<string?> First);

    /// <summary>What DuckDB reads from the files, read as one table.</summary>
    private static DuckDbView ReadWithDuckDb(IEnumerable<string> files)
    {
        var modules = Path.Combine(Paths.Repo, "node_modules");
        Assert.True(Directory.Exists(Path.Combine(modules, "@duckdb", "node-api")),
            $"@duckdb/node-api is not installed ({modules}): run  npm ci  in {Paths.Repo} (tools/test.sh does).");
        var r = ProcessRunner.Run("node", [s_script, .. files], Paths.Repo, TimeSpan.FromMinutes(1), new Dictionary<string, string?> { ["NODE_PATH"] = modules });
        Assert.True(r.Code == 0, $"node duckdb-read.cjs: {r}");
        var json = JsonDocument.Parse(r.Out).RootElement;
        return new DuckDbView(
            [.. json.GetProperty("columns").EnumerateArray().Select(c => (c.GetProperty("name").GetString()!, c.GetProperty("type").GetString()!))],
            json.GetProperty("rows").GetInt64(),
            [.. json.GetProperty("sums").EnumerateArray().Select(s => s.GetString())],
            json.GetProperty("rowGroups").GetInt32(),
            json.GetProperty("first").ValueKind == JsonValueKind.Null ? [] : [.. json.GetProperty("first").EnumerateArray().Select(s => s.GetString())]);
    }

    private static string DuckDbType(Type type) => type == typeof(long) ? "BIGINT" : "DOUBLE";

    /// <summary>Compares DuckDB's reading of a channel's shards with Parquet.Net's and with run.json.</summary>
    private static void AssertSameAsWritten(string outDir, string channel, JsonElement split)
    {
        var files = Shards(outDir)[channel].Select(p => Path.Combine(outDir, p)).ToList();
        var tables = files.Select(Read).ToList();
        var duck = ReadWithDuckDb(files);
        var written = tables[0].Columns;
        Assert.Equal(written.Select(c => (c.Name, DuckDbType(c.Type))), duck.Columns);
        Assert.Equal(split.GetProperty("rows").GetInt64(), duck.Rows);
        Assert.Equal(tables.Sum(t => t.RowGroups.Count), duck.RowGroups);
        for (int c = 0; c < written.Count; c++)
        {
            double sum = tables.Sum(t => t.Values[c].Sum());
            double duckSum = double.Parse(duck.Sums[c]!, CultureInfo.InvariantCulture);
            if (written[c].Type == typeof(long)) Assert.True(sum == duckSum, $"{channel}.{written[c].Name}: DuckDB sums to {duck.Sums[c]}, the file holds {sum}");
            else Assert.True(Math.Abs(sum - duckSum) <= 1e-9 * Math.Max(1, Math.Abs(sum)), $"{channel}.{written[c].Name}: DuckDB sums to {duck.Sums[c]}, the file holds {sum}");
        }
        // The first row, value by value (DuckDB writes 1.0 where CSV writes 1: compare numbers).
        var first = tables[0].Lines[0].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture));
        Assert.Equal(first, duck.First.Select(v => double.Parse(v!, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void DuckDB_reads_the_columns_types_counts_and_sums_that_were_written()
    {
        using var tmp = new TempDir();
        var outDir = tmp.Combine("out");
        RunConvert(Paths.SampleData("churn.csv"), outDir, [.. Churn, "--format", "parquet", "--shard-rows", "700", "--memory", "1MB", "--temp", tmp.Path]);
        var run = RunRecord(outDir);
        foreach (var split in run.GetProperty("splits").EnumerateObject())
        {
            AssertSameAsWritten(outDir, split.Name, split.Value);
        }
        // SELECT sum(churn) is the label distribution's weighted sum (class ids 0 and 1).
        var train = run.GetProperty("splits").GetProperty("train");
        var duck = ReadWithDuckDb(Shards(outDir)["train"].Select(p => Path.Combine(outDir, p)));
        long labels = train.GetProperty("labelDistribution").EnumerateObject().Sum(kv => long.Parse(kv.Name, CultureInfo.InvariantCulture) * kv.Value.GetInt64());
        Assert.Equal(labels.ToString(CultureInfo.InvariantCulture), duck.Sums[0]);
        Assert.Equal(("churn", "BIGINT"), duck.Columns[0]);
        Assert.Equal(("plan=<unseen>", "DOUBLE"), duck.Columns[5]);
        // 700-row shards with 1,024-row groups at most: one row group per shard; 3 shards in train.
        Assert.Equal(3, duck.RowGroups);
    }

    [Fact]
    public void DuckDB_reads_a_one_row_file_and_files_with_several_row_groups()
    {
        using var tmp = new TempDir();
        var input = tmp.File("tiny.csv", "x,y\n" + string.Concat(Enumerable.Range(1, 10).Select(i => $"{i * 0.25},{i % 3}\n")));
        var small = tmp.Combine("small");
        RunConvert(input, small, ["--label", "y", "--split", "90/10/0", "--format", "parquet"]);
        var run = RunRecord(small);
        Assert.Equal(1, run.GetProperty("splits").GetProperty("validation").GetProperty("rows").GetInt64());
        AssertSameAsWritten(small, "validation", run.GetProperty("splits").GetProperty("validation"));

        var grouped = tmp.Combine("grouped");
        RunConvert(Paths.SampleData("churn.csv"), grouped, [.. Churn, "--format", "parquet", "--memory", "1MB", "--temp", tmp.Path]);
        AssertSameAsWritten(grouped, "train", RunRecord(grouped).GetProperty("splits").GetProperty("train"));
        Assert.Equal(2, ReadWithDuckDb([Path.Combine(grouped, "train", "part-00000.parquet")]).RowGroups);
    }
}
