using System.Globalization;
using System.Text.Json;
using Parquet;

namespace DataPrep.Tests.Parquet;

/// <summary>Runs conversions of the sample data and reads their Parquet output back with Parquet.Net.</summary>
internal static class ParquetOutputFiles
{
    /// <summary>The README's churn job: label churn, one-hot plan and region (so the output has one-hot columns).</summary>
    public static readonly string[] Churn = ["--label", "churn", "--drop", "customer_id", "--encode", "plan=onehot,region=onehot"];

    /// <summary>A Parquet file as read back: its columns, every row as label-first CSV text, and its row groups' sizes.</summary>
    /// <param name="Columns">Column names and Parquet.Net's CLR types (long for INT64, double for DOUBLE).</param>
    /// <param name="Lines">Each row as label-first CSV writes it: integers invariant, doubles shortest round-trip, comma-separated.</param>
    /// <param name="RowGroups">Rows per row group.</param>
    /// <param name="CreatedBy">The footer's created_by.</param>
    /// <param name="Values">Each column's values as doubles (for sums).</param>
    public sealed record Table(IReadOnlyList<(string Name, Type Type)> Columns, IReadOnlyList<string> Lines, IReadOnlyList<long> RowGroups, string? CreatedBy, IReadOnlyList<List<double>> Values);

    /// <summary>Runs <c>dataprep convert</c> on an input with the given options into <paramref name="outDir"/>.</summary>
    public static void RunConvert(string input, string outDir, params string[] args)
    {
        var r = CliRunner.Run(["convert", input, "--out", outDir, "--quiet", "--seed", "7", .. args]);
        Assert.True(r.Code == 0, $"convert {string.Join(' ', args)}: exit {r.Code}\n{r.Err}");
    }

    /// <summary>Reads a whole Parquet file.</summary>
    public static Table Read(string path) => ReadAsync(path).GetAwaiter().GetResult();

    private static async Task<Table> ReadAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.DataFields;
        var lines = new List<string>();
        var groups = new List<long>();
        var values = fields.Select(_ => new List<double>()).ToList();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int n = (int)group.RowCount;
            var text = new string[fields.Length][];
            for (int c = 0; c < fields.Length; c++)
            {
                if (fields[c].ClrType == typeof(long))
                {
                    var v = new long[n];
                    await group.ReadAsync<long>(fields[c], v.AsMemory());
                    text[c] = [.. v.Select(x => x.ToString(CultureInfo.InvariantCulture))];
                    values[c].AddRange(v.Select(x => (double)x));
                }
                else
                {
                    Assert.Equal(typeof(double), fields[c].ClrType);
                    var v = new double[n];
                    await group.ReadAsync<double>(fields[c], v.AsMemory());
                    text[c] = [.. v.Select(x => x.ToString(CultureInfo.InvariantCulture))];
                    values[c].AddRange(v);
                }
                Assert.False(fields[c].IsNullable, $"{path}: column {fields[c].Name} is nullable; Parquet output has REQUIRED columns only");
            }
            for (int r = 0; r < n; r++) lines.Add(string.Join(",", text.Select(t => t[r])));
            groups.Add(n);
        }
        return new Table([.. fields.Select(f => (f.Name, f.ClrType))], lines, groups, reader.Metadata?.CreatedBy, values);
    }

    /// <summary>The run record.</summary>
    public static JsonElement RunRecord(string outDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")));
        return doc.RootElement.Clone();
    }

    /// <summary>The channels of a run with their shards' paths, in run.json's order.</summary>
    public static Dictionary<string, List<string>> Shards(string outDir)
        => RunRecord(outDir).GetProperty("splits").EnumerateObject().ToDictionary(
            s => s.Name, s => s.Value.GetProperty("shards").EnumerateArray().Select(x => x.GetProperty("path").GetString()!).ToList());

    /// <summary>A channel's rows as label-first CSV text: the CSV shards' lines, or the Parquet shards' rows, in shard order.</summary>
    public static List<string> ChannelLines(string outDir, string channel)
        => [.. Shards(outDir)[channel].SelectMany(p => p.EndsWith(".parquet", StringComparison.Ordinal)
            ? Read(Path.Combine(outDir, p)).Lines
            : File.ReadAllLines(Path.Combine(outDir, p)))];
}
