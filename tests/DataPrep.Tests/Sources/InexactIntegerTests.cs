using System.Globalization;
using System.Numerics;
using System.Text;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Sources;

/// <summary>
/// An integer written out in full that a 64-bit float cannot hold (beyond 2^53, 9007199254740993 reads as
/// 9007199254740992) is refused by a float column whose kind was inferred, naming file, line, row, column, the value and
/// what it would have become; --column-type COL=float accepts the nearest double, COL=string keeps the digits. Nothing is
/// rounded silently.
/// </summary>
public class InexactIntegerTests
{
    private static CliRunner.Result Convert(TempDir tmp, string input, params string[] extra)
        => CliRunner.Run(["convert", input, .. extra.TakeWhile(e => !e.StartsWith("--", StringComparison.Ordinal)), "--out", tmp.Combine("out"), "--quiet", "--label", "y", "--split", "100/0/0", "--no-shuffle", .. extra.SkipWhile(e => !e.StartsWith("--", StringComparison.Ordinal))]);

    private static string[] TrainLines(TempDir tmp)
        => Directory.GetFiles(tmp.Combine("out", "train")).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).ToArray();

    private static void AssertRefused(CliRunner.Result r, TempDir tmp, params string[] fragments)
    {
        Assert.Equal(3, r.Code);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        foreach (var f in fragments) Assert.Contains(f, r.Err);
        Assert.False(Directory.Exists(tmp.Combine("out")), "no output folder is left behind");
    }

    [Theory]
    [InlineData("9007199254740993", "9007199254740992")]
    [InlineData("-9007199254740993", "-9007199254740992")]
    [InlineData("12345678901234567", "12345678901234568")]
    [InlineData("+12345678901234567", "12345678901234568")]
    [InlineData("000012345678901234567", "12345678901234568")]
    [InlineData("123456789012345678901234567890", "123456789012345677877719597056")]
    public void A_csv_float_column_refuses_an_integer_a_double_cannot_hold(string value, string becomes)
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", $"y,x\n1,2.5\n0,{value}\n1,3\n");
        var r = Convert(tmp, input);
        AssertRefused(r, tmp, "x.csv", "line 3", "row 2", "column 'x'", $"found the integer '{value}'", "64-bit float cannot hold", $"would read as {becomes}",
            "--column-type x=string", "--column-type x=float");
    }

    [Theory]
    [InlineData("9007199254740992")]
    [InlineData("12345678901234568")]
    [InlineData("-9223372036854775808")]
    [InlineData("100000000000000000000")]
    [InlineData("999999999999999")]
    public void An_integer_a_double_holds_exactly_is_read_and_written_as_it_is(string value)
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", $"y,x\n1,2.5\n0,{value}\n");
        var r = Convert(tmp, input);
        Assert.True(r.Code == 0, r.Err);
        double exact = double.Parse(value, CultureInfo.InvariantCulture);
        Assert.Equal(new BigInteger(exact), BigInteger.Parse(value, CultureInfo.InvariantCulture));
        Assert.Equal(exact, double.Parse(TrainLines(tmp)[1].Split(',')[1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_decimal_fraction_or_an_exponent_asks_for_a_float_and_is_rounded_as_one()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", "y,x\n1,12345678901234567.0\n0,1.2345678901234567e16\n");
        var r = Convert(tmp, input);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,12345678901234568", "0,12345678901234568"], TrainLines(tmp));
    }

    [Fact]
    public void Column_type_float_accepts_the_nearest_double_and_string_keeps_the_digits()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", "y,x\n1,2.5\n0,12345678901234567\n");
        var r = Convert(tmp, input, "--column-type", "x=float");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,2.5", "0,12345678901234568"], TrainLines(tmp));
        r = CliRunner.Run(["convert", input, "--out", tmp.Combine("kept"), "--quiet", "--split", "100/0/0", "--no-shuffle", "--no-label", "--format", "csv-header", "--column-type", "x=string"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("0,12345678901234567", Directory.GetFiles(tmp.Combine("kept", "train")).SelectMany(File.ReadAllLines));
    }

    [Fact]
    public void An_integer_column_holds_them_exactly()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", "y,x\n1,9007199254740993\n0,12345678901234567\n");
        var r = Convert(tmp, input);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,9007199254740993", "0,12345678901234567"], TrainLines(tmp));
    }

    [Fact]
    public void One_after_the_inference_sample_is_refused_the_same_way()
    {
        using var tmp = new TempDir();
        var sb = new StringBuilder("y,x\n");
        for (int i = 0; i < 10_050; i++) sb.Append(i % 2).Append(',').Append(i).Append(".5\n");
        sb.Append("1,9007199254740993\n");
        var input = tmp.File("late.csv", sb.ToString());
        AssertRefused(Convert(tmp, input), tmp, "late.csv", "line 10052", "row 10051", "column 'x'", "found the integer '9007199254740993'");
        // The same error from the reader's every path: a spilling run, RecordIO-protobuf's float32 values, two threads.
        AssertRefused(Convert(tmp, input, "--memory", "16KB"), tmp, "late.csv", "line 10052", "found the integer '9007199254740993'");
        AssertRefused(Convert(tmp, input, "--format", "recordio-protobuf", "--threads", "2"), tmp, "late.csv", "line 10052", "found the integer '9007199254740993'");
    }

    [Fact]
    public void Skip_leaves_such_rows_out_and_counts_them_as_values_of_the_wrong_type()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.csv", "y,x\n1,2.5\n0,9007199254740993\n1,3\n");
        var r = Convert(tmp, input, "--on-bad-row", "skip");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,2.5", "1,3"], TrainLines(tmp));
        Assert.Contains("\"value of the wrong type\": 1", File.ReadAllText(tmp.Combine("out", "_dataprep", "run.json")));
    }

    [Fact]
    public void A_json_lines_float_column_refuses_them_too_unless_set_to_float()
    {
        using var tmp = new TempDir();
        var input = tmp.File("x.jsonl", "{\"y\":1,\"x\":2.5}\n{\"y\":0,\"x\":12345678901234567}\n");
        AssertRefused(Convert(tmp, input), tmp, "x.jsonl", "line 2", "column 'x'", "found the integer '12345678901234567'", "would read as 12345678901234568");
        var r = Convert(tmp, input, "--column-type", "x=float");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,2.5", "0,12345678901234568"], TrainLines(tmp));
    }

    [Fact]
    public void An_integer_column_widened_to_float_by_another_input_refuses_them_in_one_process_and_in_workers()
    {
        using var tmp = new TempDir();
        var ints = tmp.File("ints.csv", "y,x\n1,9007199254740992\n0,-9007199254740993\n1,3\n");
        var floats = tmp.File("floats.csv", "y,x\n1,1.5\n0,2.5\n");
        var one = Convert(tmp, ints, floats);
        AssertRefused(one, tmp, "ints.csv", "row 2", "column 'x'", "found the integer -9007199254740993", "float in " + floats, "would read as -9007199254740992", "--column-type x=float");
        var many = Convert(tmp, ints, floats, "--workers", "2");
        Assert.True(many.Code == 3, many.Err);
        Assert.Equal(one.Err.TrimEnd('\n'), many.Err.Split('\n')[0]);
        var r = Convert(tmp, ints, floats, "--column-type", "x=float");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,9007199254740992", "0,-9007199254740992", "1,3", "1,1.5", "0,2.5"], TrainLines(tmp));
        // Integers a double holds widen as before.
        var exact = tmp.File("exact.csv", "y,x\n1,9007199254740992\n0,-9223372036854775808\n");
        r = CliRunner.Run(["convert", exact, floats, "--out", tmp.Combine("exact"), "--quiet", "--label", "y", "--split", "100/0/0", "--no-shuffle"]);
        Assert.True(r.Code == 0, r.Err);
    }

    [Fact]
    public void A_parquet_int64_column_widened_by_a_float_one_refuses_them_too()
    {
        using var tmp = new TempDir();
        var ints = WriteParquet<long>(tmp, "ints.parquet", [1, 9007199254740993, 3]);
        var floats = WriteParquet<double>(tmp, "floats.parquet", [1.5, 2.5]);
        AssertRefused(Convert(tmp, ints, floats), tmp, "ints.parquet", "row 2", "column 'x'", "found the integer 9007199254740993", "float in " + floats);
        var r = Convert(tmp, ints, floats, "--column-type", "x=float");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["1,1", "0,9007199254740992", "1,3", "1,1.5", "0,2.5"], TrainLines(tmp));
    }

    /// <summary>Columns y (long, 0/1) and x of <typeparamref name="T"/>, one row group.</summary>
    private static string WriteParquet<T>(TempDir tmp, string name, T[] x) where T : struct
    {
        var path = tmp.Combine(name);
        var yf = new global::Parquet.Schema.DataField<long>("y");
        var xf = new global::Parquet.Schema.DataField<T>("x");
        using var stream = File.Create(path);
        var writer = global::Parquet.ParquetWriter.CreateAsync(new global::Parquet.Schema.ParquetSchema(yf, xf), stream).GetAwaiter().GetResult();
        try
        {
            using var group = writer.CreateRowGroup();
            group.WriteAsync<long>(yf, Enumerable.Range(0, x.Length).Select(i => (long)((i + 1) % 2)).ToArray().AsMemory()).GetAwaiter().GetResult();
            group.WriteAsync<T>(xf, x.AsMemory()).GetAwaiter().GetResult();
        }
        finally
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return path;
    }

    /// <summary>Integer texts near and far beyond 2^53, signed, zero-padded or space-padded.</summary>
    private static readonly Gen<(string Text, BigInteger Value)> IntegerText =
        from magnitude in Gen.OneOf(
            Gen.Choose(0, 1 << 20).Select(d => BigInteger.Pow(2, 53) + d - (1 << 19)),
            Gen.Choose(16, 40).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 9), n)).Select(ds => BigInteger.Parse("1" + string.Concat(ds), CultureInfo.InvariantCulture)),
            Gen.Choose(1, 1 << 30).Select(d => (BigInteger)d))
        from sign in Gen.Elements("", "-", "+")
        from zeros in Gen.Elements("", "0", "000")
        from pad in Gen.Elements("", " ")
        select (pad + sign + zeros + magnitude.ToString(CultureInfo.InvariantCulture) + pad, sign == "-" ? -magnitude : magnitude);

    [Property(MaxTest = 2000)]
    public Property Inexact_exactly_when_the_parsed_double_is_another_integer()
        => Prop.ForAll(IntegerText.ToArbitrary(), t =>
        {
            var utf8 = Encoding.ASCII.GetBytes(t.Text);
            Assert.True(ValueParser.TryParseDouble(utf8.AsSpan().Trim((byte)' '), out double v));
            Assert.Equal(new BigInteger(v) != t.Value, ValueParser.IsInexactInteger(utf8, v));
        });
}
