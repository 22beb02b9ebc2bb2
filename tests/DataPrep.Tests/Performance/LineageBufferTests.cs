using System.Globalization;
using System.Text;
using DataPrep.Output;
using FsCheck;
using FsCheck.Xunit;

namespace DataPrep.Tests.Performance;

/// <summary>The lineage writer formats by hand; its bytes must be exactly .NET's formatting of the same values.</summary>
public class LineageBufferTests
{
    private static string Text(LineageBuffer b) => Encoding.UTF8.GetString(b.Memory.Span);

    [Property(MaxTest = 2000)]
    public bool Times_match_the_custom_DateTime_format(long seed)
    {
        long ticks = (long)((ulong)seed % (ulong)DateTime.MaxValue.Ticks);
        // Also whole seconds and round fractions, where the trimming rules matter.
        foreach (long t in new[] { ticks, ticks - ticks % TimeSpan.TicksPerSecond, ticks - ticks % TimeSpan.TicksPerMillisecond })
        {
            var expected = new DateTime(t, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);
            if (Text(new LineageBuffer().AppendTime(t)) != expected) return false;
        }
        return true;
    }

    [Theory]
    [InlineData(0L, "0001-01-01T00:00:00Z")]
    [InlineData(630822816000000001L, "2000-01-01T00:00:00.0000001Z")]
    [InlineData(630822816005000000L, "2000-01-01T00:00:00.5Z")]
    public void Edge_times(long ticks, string expected) => Assert.Equal(expected, Text(new LineageBuffer().AppendTime(ticks)));

    [Fact]
    public void No_time_writes_nothing() => Assert.Equal("", Text(new LineageBuffer().AppendTime(long.MinValue)));

    [Property]
    public bool Numbers_and_hex_match(long value, ulong hash)
        => Text(new LineageBuffer().Append(value).Append((byte)',').AppendHex16(hash)) == value.ToString(CultureInfo.InvariantCulture) + "," + hash.ToString("x16", CultureInfo.InvariantCulture);
}
