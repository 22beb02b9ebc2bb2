using System.Globalization;
using System.Reflection;

namespace DataPrep.Formats;

/// <summary>
/// Shortest round-trip text of doubles as UTF-8, invariant culture: exactly the bytes of
/// <c>double.TryFormat(…, CultureInfo.InvariantCulture)</c>, written by CsvHelper's Dragonbox formatter when
/// it can be bound (about 3–4× faster than the BCL's), else by the BCL itself.
/// </summary>
/// <remarks>
/// CsvHelper 34 only exposes its formatter through <c>CsvWriter.WriteField</c>, whose per-field bookkeeping
/// (quoting checks, buffer management) cost as much as the formatting in our numeric writers. The internal
/// <c>CsvHelper.FloatFormatter.TryFormat(double, Span&lt;byte&gt;, out int)</c> is bound once by reflection;
/// a test pins that the binding succeeds with the package version we ship and that its bytes equal the BCL's.
/// </remarks>
public static class NumberText
{
    private delegate bool DoubleFormatter(double value, Span<byte> destination, out int written);

    private static readonly DoubleFormatter? s_bound = Bind();
    private static readonly DoubleFormatter s_format = s_bound ?? Bcl;

    /// <summary>Whether CsvHelper's formatter was bound (false: the BCL formats, same bytes, slower).</summary>
    public static bool UsesFastFormatter => s_bound is not null;

    /// <summary>The longest text of a double ("-1.2345678901234567E-308").</summary>
    public const int MaxDoubleLength = 32;

    /// <summary>Writes the shortest round-trip text of <paramref name="value"/>; the destination needs <see cref="MaxDoubleLength"/> bytes.</summary>
    public static int Write(double value, Span<byte> destination)
    {
        if (!s_format(value, destination, out int written)) throw new ArgumentException("Destination too small for a double.", nameof(destination));
        return written;
    }

    private static bool Bcl(double value, Span<byte> destination, out int written)
        => value.TryFormat(destination, out written, default, CultureInfo.InvariantCulture);

    private static DoubleFormatter? Bind()
    {
        try
        {
            var method = typeof(CsvHelper.CsvWriter).Assembly.GetType("CsvHelper.FloatFormatter")?.GetMethod(
                "TryFormat", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(double), typeof(Span<byte>), typeof(int).MakeByRefType()]);
            if (method is null || method.ReturnType != typeof(bool)) return null;
            var bound = (DoubleFormatter)Delegate.CreateDelegate(typeof(DoubleFormatter), method);
            // Refuse a formatter that disagrees with the BCL on a few telling values.
            Span<byte> a = stackalloc byte[MaxDoubleLength], b = stackalloc byte[MaxDoubleLength];
            foreach (double v in (ReadOnlySpan<double>)[0.1, -0.0, 1e21, 1.5e-7, 123456.789, double.MaxValue, double.Epsilon, 1.0 / 3])
            {
                if (!bound(v, a, out int n) || !Bcl(v, b, out int m) || !a[..n].SequenceEqual(b[..m])) return null;
            }
            return bound;
        }
        catch (Exception e) when (e is MemberAccessException or ArgumentException or TypeLoadException)
        {
            return null;
        }
    }
}
