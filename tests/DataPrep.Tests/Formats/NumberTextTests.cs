using System.Globalization;
using System.Text;
using DataPrep.Formats;
using FsCheck.Xunit;

namespace DataPrep.Tests.Formats;

/// <summary>NumberText's writer must print exactly what the BCL prints (shortest round-trip, invariant).</summary>
public class NumberTextTests
{
    private static string Text(double d)
    {
        var output = new MemoryStream();
        using (var writer = NumberText.CreateWriter(output))
        {
            writer.WriteField(d);
            writer.EndRecord();
        }
        var text = Encoding.ASCII.GetString(output.GetBuffer(), 0, (int)output.Length);
        Assert.EndsWith("\n", text);
        return text[..^1];
    }

    [Fact]
    public void Records_are_numbers_joined_by_commas_and_ended_by_LF_written_as_they_are()
    {
        var output = new MemoryStream();
        using (var writer = NumberText.CreateWriter(output))
        {
            writer.WriteField(-0.5);
            writer.WriteField(long.MinValue);
            writer.WriteField("1"u8);
            writer.EndRecord();
            writer.WriteField(1e-7);
            writer.EndRecord();
        }
        Assert.Equal("-0.5,-9223372036854775808,1\n1E-07\n", Encoding.ASCII.GetString(output.ToArray()));
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
