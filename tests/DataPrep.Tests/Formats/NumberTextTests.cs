using System.Globalization;
using System.Text;
using DataPrep.Formats;
using FsCheck.Xunit;

namespace DataPrep.Tests.Formats;

/// <summary>NumberText must print exactly what the BCL prints (shortest round-trip, invariant).</summary>
public class NumberTextTests
{
    private static string Text(double d)
    {
        var buffer = new byte[NumberText.MaxDoubleLength];
        return Encoding.ASCII.GetString(buffer, 0, NumberText.Write(d, buffer));
    }

    [Fact]
    public void The_fast_formatter_is_bound_with_the_shipped_CsvHelper()
    {
        // If a CsvHelper upgrade renames its formatter, output stays right (BCL) but gets slower: notice it here.
        Assert.True(NumberText.UsesFastFormatter);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.Epsilon)]
    [InlineData(double.MaxValue)]
    [InlineData(double.MinValue)]
    [InlineData(1e15)]
    [InlineData(1e-5)]
    [InlineData(0.0001)]
    [InlineData(123456789012345680000.0)]
    [InlineData(0.30000000000000004)]
    [InlineData(-21.1)]
    [InlineData(9007199254740993.0)]
    public void Edge_values_match_the_BCL(double d)
    {
        Assert.Equal(d.ToString("R", CultureInfo.InvariantCulture), Text(d));
        Assert.Equal((-d).ToString("R", CultureInfo.InvariantCulture), Text(-d)); // −0.0 among them
    }

    [Property(MaxTest = 20000)]
    public void Random_bit_patterns_match_the_BCL(long bits)
    {
        double d = BitConverter.Int64BitsToDouble(bits);
        Assert.Equal(d.ToString("R", CultureInfo.InvariantCulture), Text(d));
    }

    [Property(MaxTest = 20000)]
    public void Short_decimals_match_the_BCL(int mantissa, byte scale)
    {
        double d = mantissa / Math.Pow(10, scale % 20);
        Assert.Equal(d.ToString("R", CultureInfo.InvariantCulture), Text(d));
    }
}
