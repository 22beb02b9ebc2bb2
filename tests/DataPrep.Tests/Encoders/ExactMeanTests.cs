using System.Globalization;
using DataPrep.Encoders;
using DataPrep.Tests.Notebooks;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Encoders;

/// <summary>
/// The mean that <c>--missing fill:mean</c> fills with (issue 16): exact whatever the order of the values or how they
/// are divided into parts, and the double nearest the true mean, as Python's exact rationals give it.
/// </summary>
public class ExactMeanTests
{
    /// <summary>Values of every magnitude, with signs, cancellations, subnormals and repeats.</summary>
    private static double[] Values(Random random, int n)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = random.Next(6) switch
            {
                0 => random.NextDouble() * 1000,
                1 => Math.ScaleB(random.NextDouble() - 0.5, random.Next(-1074, 1024)),
                2 => -Math.ScaleB(random.NextDouble(), random.Next(900, 1024)),
                3 => i > 0 ? -values[random.Next(i)] : 0.1,
                4 => BitConverter.Int64BitsToDouble(random.NextInt64(1, 1L << 52)), // subnormal
                _ => random.Next(-3, 4) * 0.1,
            };
        }
        return values;
    }

    private static double MeanOf(IEnumerable<double> values)
    {
        var mean = new ExactMean();
        foreach (var v in values) mean.Add(v);
        Assert.True(mean.TryMean(out double m));
        return m;
    }

    [Property(MaxTest = 300)]
    public Property Any_order_and_any_division_into_merged_parts_give_the_same_mean(NonNegativeInt size, int seed)
    {
        var random = new Random(seed);
        var values = Values(random, size.Get % 200);
        double whole = MeanOf(values);
        var shuffled = values.OrderBy(_ => random.Next()).ToArray();
        var merged = new ExactMean();
        for (int at = 0; at < shuffled.Length;)
        {
            int take = random.Next(1, 20);
            var part = new ExactMean();
            foreach (var v in shuffled.Skip(at).Take(take)) part.Add(v);
            merged.Merge(part);
            at += take;
        }
        Assert.True(merged.TryMean(out double m));
        return (BitConverter.DoubleToInt64Bits(whole) == BitConverter.DoubleToInt64Bits(m) && merged.Count == values.Length)
            .Label($"n={values.Length} whole={whole:R} merged={m:R}");
    }

    /// <summary>
    /// 300 lists compared with <c>float(sum(map(Fraction, xs)) / len(xs))</c>: Python's integer division rounds
    /// correctly, so both must give the same double, bit for bit.
    /// </summary>
    [Fact]
    public void The_mean_is_the_double_nearest_the_exact_mean_as_Python_fractions_give_it()
    {
        var random = new Random(20261204);
        var lists = new List<double[]>
        {
            new[] { 1e308, 1e308, -1e308 },          // a sum of doubles overflows; the mean does not
            new[] { 5e-324, 0.0 },                   // half the smallest subnormal: a tie, to even (0)
            new[] { 5e-324, 5e-324, 5e-324, 0.0 },   // 3/4 of it: rounds up
            new[] { 0.1, 0.2, 0.3 },
            new[] { 1e16, 1.0, -1e16, 1.0 },
            new[] { double.MaxValue, double.MaxValue },
            new[] { -double.Epsilon, 2.2250738585072014e-308 },
        };
        for (int i = 0; i < 300; i++) lists.Add(Values(random, random.Next(1, 60)));
        using var tmp = new TempDir();
        var input = tmp.File("lists.txt", string.Join("\n", lists.Select(l => string.Join(" ", l.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))) + "\n");
        const string script = "import sys\nfrom fractions import Fraction\nfor line in open(sys.argv[1]):\n    xs = [Fraction(float(t)) for t in line.split()]\n    print(float(sum(xs) / len(xs)).hex())\n";
        var r = ProcessRunner.Run("/usr/bin/python3", ["-c", script, input], tmp.Path, TimeSpan.FromMinutes(1));
        Assert.True(r.Code == 0, r.ToString());
        var expected = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lists.Count, expected.Length);
        for (int i = 0; i < lists.Count; i++)
        {
            double got = MeanOf(lists[i]);
            Assert.True(Hex(got) == expected[i], $"list {i} [{string.Join(", ", lists[i].Take(8).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}…]: {Hex(got)} ({got:R}), Python {expected[i]}");
        }
    }

    [Fact]
    public void Infinities_decide_the_mean_and_both_of_them_leave_it_undefined()
    {
        var mean = new ExactMean();
        mean.Add(1);
        mean.Add(double.PositiveInfinity);
        Assert.True(mean.TryMean(out double m));
        Assert.Equal(double.PositiveInfinity, m);
        mean.Add(double.NegativeInfinity);
        Assert.False(mean.TryMean(out _));
        Assert.Throws<ArgumentException>(() => mean.Add(double.NaN));
        Assert.True(new ExactMean().TryMean(out double none));
        Assert.Equal(0, none);
    }

    /// <summary>
    /// One process fills with the exact mean too: train's x is 1e16, 0.5, −1e16, 0.1 (mean 0.15), where a sum of doubles
    /// in that order loses the 0.5 and gives 0.025.
    /// </summary>
    [Fact]
    public void A_run_fills_with_the_exact_mean_of_train()
    {
        using var tmp = new TempDir();
        var input = tmp.File("m.csv", "y,x,z\n1,,3\n0,1e16,\n1,0.5,2\n0,-1e16,4\n1,0.1,5\n");
        var r = CliRunner.Run("convert", input, "--label", "y", "--missing", "fill:mean", "--split", "100/0/0", "--no-shuffle", "--out", tmp.Combine("out"), "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal("1,0.15,3", File.ReadAllLines(tmp.Combine("out", "train", "part-00000.csv"))[0]);
        Assert.Equal("0,10000000000000000,3.5", File.ReadAllLines(tmp.Combine("out", "train", "part-00000.csv"))[1]);
    }

    /// <summary>Python's float.hex() of a double.</summary>
    private static string Hex(double d)
    {
        if (d == 0) return BitConverter.DoubleToInt64Bits(d) < 0 ? "-0x0.0p+0" : "0x0.0p+0";
        long bits = BitConverter.DoubleToInt64Bits(d);
        string sign = bits < 0 ? "-" : "";
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & ((1L << 52) - 1);
        string digits = mantissa.ToString("x13", CultureInfo.InvariantCulture);
        return exponent == 0
            ? $"{sign}0x0.{digits}p-1022"
            : $"{sign}0x1.{digits}p{(exponent - 1023 >= 0 ? "+" : "")}{exponent - 1023}";
    }
}
