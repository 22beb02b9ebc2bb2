using DataPrep.Pipeline;
using Parquet;
using Parquet.Schema;

namespace DataPrep.Tests.Sources;

/// <summary>
/// One rule for numbers that are not finite, whatever their spelling or source: refused by default naming file,
/// line or row (and row group), and column; read as missing with --non-finite missing; kept only where the output
/// format carries them. And missing values are located as precisely as the input allows.
/// </summary>
public class NonFiniteTests
{
    private static CliRunner.Result Convert(TempDir tmp, string input, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", tmp.Combine("out"), "--quiet", "--label", "y", "--split", "100/0/0", "--no-shuffle", .. extra]);

    private static void AssertRefused(CliRunner.Result r, TempDir tmp, int code, params string[] fragments)
    {
        Assert.Equal(code, r.Code);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        foreach (var f in fragments) Assert.Contains(f, r.Err);
        Assert.False(Directory.Exists(tmp.Combine("out")), "no output folder is left behind");
    }

    private static string[] TrainLines(TempDir tmp)
        => Directory.GetFiles(tmp.Combine("out", "train")).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).ToArray();

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("Inf")]
    [InlineData("-inf")]
    [InlineData("+Infinity")]
    [InlineData("INFINITY")]
    [InlineData("-Infinity")]
    [InlineData("1e400")]
    [InlineData("-1.5e309")]
    public void Every_spelling_is_refused_by_default_naming_line_row_and_column(string value)
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", $"y,x\n1,2.5\n0,{value}\n1,3\n");
        var r = Convert(tmp, input);
        AssertRefused(r, tmp, 3, "x.csv", "line 3", "row 2", "column 'x'", $"found '{value}'", "not a finite number", "--non-finite missing", "--non-finite keep");
    }

    [Fact]
    public void A_non_finite_value_after_the_inference_sample_is_refused_the_same_way()
    {
        using var tmp = new TempDir();
        var sb = new System.Text.StringBuilder("y,x\n");
        for (int i = 0; i < 10_050; i++) sb.Append(i % 2).Append(',').Append(i).Append(".5\n");
        sb.Append("1,-inf\n");
        var input = tmp.File("late.csv", sb.ToString());
        var r = Convert(tmp, input);
        AssertRefused(r, tmp, 3, "late.csv", "line 10052", "column 'x'", "found '-inf'", "not a finite number");
    }

    [Fact]
    public void Missing_reads_every_spelling_as_missing_so_the_missing_policy_decides()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", "y,x\n1,2.5\n0,Inf\n1,nan\n0,1e400\n1,3\n");
        var r = Convert(tmp, input, "--non-finite", "missing");
        AssertRefused(r, tmp, 3, "x.csv", "row 2", "column 'x'", "found a missing value");
        r = Convert(tmp, input, "--non-finite", "missing", "--missing", "drop");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,2.5", "1,3"], TrainLines(tmp));
        r = CliRunner.Run(["convert", input, "--out", tmp.Combine("filled"), "--quiet", "--label", "y", "--split", "100/0/0", "--no-shuffle", "--non-finite", "missing", "--missing", "fill:0"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,2.5", "0,0", "1,0", "0,0", "1,3"], Directory.GetFiles(tmp.Combine("filled", "train")).SelectMany(File.ReadAllLines).ToArray());
    }

    [Fact]
    public void Keep_is_refused_for_formats_that_cannot_carry_non_finite_values_and_allowed_for_recordio_protobuf()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", "y,x\n1,2.5\n0,-Infinity\n1,NaN\n");
        var r = Convert(tmp, input, "--non-finite", "keep");
        AssertRefused(r, tmp, 2, "--non-finite keep", "--format csv cannot carry NaN or infinities");
        r = Convert(tmp, input, "--non-finite", "keep", "--format", "recordio-protobuf");
        Assert.True(r.Code == 0, r.Err);
        var records = Directory.GetFiles(tmp.Combine("out", "train")).Select(File.ReadAllBytes).Single();
        Assert.Contains(BitConverter.GetBytes(float.NegativeInfinity), records.Chunk(4).Select(c => c.ToArray()), new BytesEqual());
        Assert.Contains(BitConverter.GetBytes(0x7FC00000), records.Chunk(4).Select(c => c.ToArray()), new BytesEqual());
        r = Convert(tmp, input, "--non-finite", "sometimes");
        Assert.Equal(2, r.Code);
        Assert.Contains("--non-finite sometimes is not a policy; expected error, missing or keep", r.Err);
    }

    private sealed class BytesEqual : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? a, byte[]? b) => a.AsSpan().SequenceEqual(b);
        public int GetHashCode(byte[] o) => o.Length;
    }

    [Fact]
    public void An_integer_overflowing_its_column_is_refused_or_missing()
    {
        using var tmp = new TempDir();
        var input = tmp.File("i.csv", "y,n\n1,5\n0,99999999999999999999\n1,7\n");
        var r = Convert(tmp, input, "--column-type", "n=int");
        AssertRefused(r, tmp, 3, "i.csv", "line 3", "column 'n'", "overflows the column's 64-bit integers");
        r = Convert(tmp, input, "--column-type", "n=int", "--non-finite", "missing", "--missing", "drop");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,5", "1,7"], TrainLines(tmp));
    }

    [Fact]
    public void Json_lines_numbers_beyond_double_are_refused()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.jsonl", "{\"y\":1,\"x\":2.5}\n{\"y\":0,\"x\":1e999}\n");
        var r = Convert(tmp, input);
        AssertRefused(r, tmp, 3, "x.jsonl", "line 2", "column 'x'", "not a finite number");
    }

    /// <summary>Columns y (long) and x (nullable double), two rows per row group.</summary>
    internal static string WriteParquet(TempDir tmp, string name, double?[] x)
    {
        var path = tmp.Combine(name);
        var yf = new DataField<long>("y");
        var xf = new DataField<double?>("x");
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema(yf, xf), stream).GetAwaiter().GetResult();
        try
        {
            for (int start = 0; start < x.Length; start += 2)
            {
                int n = Math.Min(2, x.Length - start);
                using var group = writer.CreateRowGroup();
                group.WriteAsync<long>(yf, Enumerable.Range(start, n).Select(i => (long)(i % 2)).ToArray().AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync<double>(xf, x.AsMemory(start, n)).GetAwaiter().GetResult();
            }
        }
        finally
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return path;
    }

    [Fact]
    public void Parquet_nan_is_refused_naming_row_group_and_row_or_read_as_missing()
    {
        using var tmp = new TempDir();
        var input = WriteParquet(tmp, "x.parquet", [1.5, 2.5, double.NaN, 3.5, 4.5, double.PositiveInfinity]);
        var r = Convert(tmp, input);
        AssertRefused(r, tmp, 3, "x.parquet", "row 3 (row group 2 of 3, its row 1)", "column 'x'", "not a finite number");
        r = Convert(tmp, input, "--non-finite", "missing", "--missing", "drop");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["0,1.5", "1,2.5", "1,3.5", "0,4.5"], TrainLines(tmp));
    }

    [Fact]
    public void A_missing_value_names_the_parquet_row_group_and_the_csv_line()
    {
        using var tmp = new TempDir();
        var parquet = WriteParquet(tmp, "m.parquet", [1.5, 2.5, 3.5, 4.5, 5.5, null]);
        var r = Convert(tmp, parquet);
        AssertRefused(r, tmp, 3, "m.parquet", "row 6 (row group 3 of 3, its row 2)", "column 'x'", "found a missing value");
        // A quoted field spanning lines moves every later row's line: the line named is the row's own.
        var csv = tmp.File("m.csv", "y,x,note\n1,2.5,\"two\nlines\"\n0,,x\n");
        r = Convert(tmp, csv, "--drop", "note");
        AssertRefused(r, tmp, 3, "m.csv", "line 4", "row 2", "column 'x'", "found a missing value");
    }

    [Fact]
    public void A_missing_value_names_the_json_lines_line()
    {
        using var tmp = new TempDir();
        // A blank line holds no row: row 2 is on line 4.
        var jsonl = tmp.File("m.jsonl", "{\"y\": 1, \"x\": 2.5}\n\n  \n{\"y\": 0, \"x\": null}\n{\"y\": 1, \"x\": 3.5}\n");
        var r = Convert(tmp, jsonl);
        AssertRefused(r, tmp, 3, "m.jsonl", "line 4", "row 2", "column 'x'", "found a missing value");
    }

    /// <summary>Scaled out (--workers 2, each task reading a part), a missing value is located as in one process.</summary>
    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    [InlineData("parquet")]
    public void A_scaled_out_run_locates_a_missing_value_as_one_process_does(string kind)
    {
        using var tmp = new TempDir();
        var (input, fragments) = kind switch
        {
            "csv" => (tmp.File("m.csv", "y,x,note\n1,2.5,\"two\nlines\"\n1,1.5,a\n0,,x\n1,4.5,b\n"), new[] { "m.csv", "line 5", "row 3" }),
            "jsonl" => (tmp.File("m.jsonl", "{\"y\": 1, \"x\": 2.5}\n\n{\"y\": 1, \"x\": 1.5}\n{\"y\": 0, \"x\": null}\n{\"y\": 1, \"x\": 4.5}\n"), new[] { "m.jsonl", "line 4", "row 3" }),
            _ => (WriteParquet(tmp, "m.parquet", [1.5, 2.5, 3.5, 4.5, 5.5, null]), new[] { "m.parquet", "row 6 (row group 3 of 3, its row 2)" }),
        };
        string[] extra = kind == "csv" ? ["--drop", "note"] : [];
        var one = Convert(tmp, input, extra);
        AssertRefused(one, tmp, 3, [.. fragments, "column 'x'", "found a missing value"]);
        var many = Convert(tmp, input, [.. extra, "--workers", "2"]);
        // The task's own error first (the same one line), then the run's line naming the step and task that failed.
        Assert.True(many.Code == 3, many.Err);
        var lines = many.Err.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Equal(one.Err.TrimEnd('\n'), lines[0]);
        Assert.StartsWith("error: step scan task ", lines[1]);
        // Fixed, the data makes another run: the whole command is what to run again, not the task alone.
        Assert.EndsWith("the steps after it did not run. Fix the cause above and run the command again.", lines[1]);
        // Nothing is published; only the work area stays, so that the failed task can be run again.
        Assert.Equal([Path.Combine(tmp.Combine("out"), "_dataprep")], Directory.GetFileSystemEntries(tmp.Combine("out")));
        Assert.Equal([Path.Combine(tmp.Combine("out"), "_dataprep", "work")], Directory.GetFileSystemEntries(tmp.Combine("out", "_dataprep")));
    }
}
