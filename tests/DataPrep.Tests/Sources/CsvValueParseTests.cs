using System.Globalization;
using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Tests.Formats;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Sources;

/// <summary>
/// A CSV float column read without kept text (a run expected to spill, any output that does not copy text) reads each
/// value as the double <see cref="double.Parse(string, NumberStyles, IFormatProvider)"/> gives, and refuses text that only
/// starts like a number. (A fast path through the one-pass copyable parser was tried here and measured no faster: stop 40.)
/// </summary>
public class CsvValueParseTests
{
    [Property(MaxTest = 200)]
    public Property Values_read_without_text_are_the_BCL_doubles()
        => Prop.ForAll(Gen.ListOf(Gen.OneOf(RawRecordsTests.NumberText.Where(t => !t.Contains(' ')),
                Gen.Elements("1.50", "-0", "-0.0", "0.0001", "0.00001", "1e5", "123456789012345", "1234567890123456", "0.1", "-21.1"))).Where(l => l.Count >= 1).ToArbitrary(),
            texts =>
            {
                using var dir = new TempDir();
                var path = Path.Combine(dir.Path, "values.csv");
                File.WriteAllText(path, "y,x\n" + string.Concat(texts.Select((t, i) => $"{i % 2},{t}\n")));
                var source = new CsvSource(path, new SourceOptions { ValueColumns = ["y"], BatchRows = 7, ColumnTypes = new Dictionary<string, ColumnKind> { ["x"] = ColumnKind.Float64 } });
                var values = new List<double>();
                foreach (var batch in source.ReadAsync(0).ToBlockingEnumerable()) values.AddRange(((Float64Column)batch["x"]).Span.ToArray());
                for (int i = 0; i < texts.Count; i++)
                {
                    double expected = double.Parse(texts[i], NumberStyles.Float, CultureInfo.InvariantCulture);
                    if (BitConverter.DoubleToInt64Bits(values[i]) != BitConverter.DoubleToInt64Bits(expected))
                    {
                        return false.Label($"'{texts[i]}': read {values[i]:R}, double.Parse {expected:R}");
                    }
                }
                return true.ToProperty();
            });

    [Fact]
    public void Text_that_only_starts_like_a_number_is_refused_as_before()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "values.csv");
        foreach (var bad in new[] { "1.5x", "1..5", "--1", "1-2", "0x10", "1.5.0" })
        {
            Assert.False(CanonicalNumber.TryParseCopyableDouble(Encoding.ASCII.GetBytes(bad), out _, out _), bad);
            File.WriteAllText(path, $"y,x\n0,1.5\n1,{bad}\n");
            var source = new CsvSource(path, new SourceOptions { ValueColumns = ["y"], ColumnTypes = new Dictionary<string, ColumnKind> { ["x"] = ColumnKind.Float64 } });
            var error = Assert.Throws<DataFormatException>(() => source.ReadAsync(0).ToBlockingEnumerable().ToList());
            Assert.Contains($"found '{bad}', expected a number", error.Message, StringComparison.Ordinal);
        }
    }
}
