using System.Text;
using CsvHelper;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Sources;

/// <summary>
/// The CSV reader's plain-row path finds a record's leading fields in its raw text itself (one 16-byte load each)
/// instead of asking CsvHelper: every field it takes must be exactly CsvHelper's field, for any input, and its number
/// checks on the loaded bytes must give what the span-based checks give.
/// </summary>
public class CsvPlainFieldTests
{
    private static readonly char[] Separators = [',', ';', '\t', '|'];

    /// <summary>A field: mostly number-like (plain, quoted, padded, long), sometimes any text with quotes, separators and line breaks.</summary>
    private static Gen<string> Field(char separator) => Gen.OneOf(
        DataPrep.Tests.Formats.RawRecordsTests.NumberText,
        DataPrep.Tests.Formats.RawRecordsTests.NumberText,
        DataPrep.Tests.Formats.RawRecordsTests.NumberText.Select(t => "\"" + t + "\""),
        Gen.Elements("", "-", "0", "-0", "1.50", "12345678901234.5", "1234567890123456", "0.000123", "7" + separator + "5", "\"1" + separator + "5\"", "\"\"", "1\r", "\"2\r\n3\"", " 4", "5 ", "1e5"),
        Gen.Choose(0, 24).SelectMany(n => Gen.ArrayOf(Gen.Elements('0', '5', '9', '.', '-', '"', ' ', 'a', '\r', '\n', separator), n)).Select(cs => new string(cs)));

    /// <summary>A CSV text of 1–6 records of 1–8 fields (record lengths may differ), with LF or CRLF line breaks.</summary>
    private static Gen<(char Separator, string Text)> Input =>
        from separator in Gen.Elements(Separators)
        from records in Gen.Choose(1, 6).SelectMany(r => Gen.ListOf(Gen.Choose(1, 8).SelectMany(f => Gen.ListOf(Field(separator), f)).Select(fs => string.Join(separator, fs)), r))
        from eol in Gen.Elements("\n", "\r\n")
        from finalBreak in Gen.Elements(true, false)
        select (separator, string.Join(eol, records) + (finalBreak ? eol : ""));

    [Property(MaxTest = 3000)]
    public Property Plain_fields_are_CsvHelpers_fields()
        => Prop.ForAll(Input.ToArbitrary(), input =>
        {
            var options = new SourceOptions { Delimiter = input.Separator };
            byte separator = CsvSource.PlainSeparator(options);
            if (separator == 0) return true.Label("no plain path on this machine");
            // The options CsvSource reads with (HasHeader off: every line is a record here).
            var readerOptions = CsvSource.ReaderOptions(options with { HasHeader = false }, encoding: null);
            int taken = 0;
            try
            {
                using var reader = CsvReader.Create(Encoding.UTF8.GetBytes(input.Text), readerOptions);
                while (reader.Read())
                {
                    var record = reader.RawRecord;
                    int last = reader.FieldCount - 1, p = 0;
                    for (int c = 0; c <= last; c++)
                    {
                        if (!CsvSource.TryPlainField(record, p, separator, c == last, out var loaded, out int n)) break;
                        var field = record.Slice(p, n);
                        // The path only takes fields the copyable checks accept; those must be CsvHelper's fields, byte for byte.
                        bool isDouble = CanonicalNumber.TryParseCopyableDouble(field, out double expected, out int expectedLength);
                        bool loadedDouble = CanonicalNumber.TryCopyableLoaded(loaded, n, computeValue: true, out double value, out int length);
                        bool loadedCheck = CanonicalNumber.TryCopyableLoaded(loaded, n, computeValue: false, out _, out int checkedLength);
                        if (loadedDouble != isDouble || loadedCheck != isDouble
                            || (isDouble && (BitConverter.DoubleToInt64Bits(value) != BitConverter.DoubleToInt64Bits(expected) || length != expectedLength || checkedLength != expectedLength)))
                        {
                            return false.Label($"field '{Encoding.UTF8.GetString(field)}': loaded {loadedDouble}/{loadedCheck} {value:R} ({length}), span {isDouble} {expected:R} ({expectedLength})");
                        }
                        if (!isDouble && !CanonicalNumber.IsCanonicalInteger(field)) break;
                        if (!field.SequenceEqual(reader.GetSpan(c)))
                        {
                            return false.Label($"record {reader.RowNumber} field {c}: plain '{Encoding.UTF8.GetString(field)}', CsvHelper '{Encoding.UTF8.GetString(reader.GetSpan(c))}'");
                        }
                        taken++;
                        p += n + 1;
                    }
                }
            }
            catch (CsvFormatException)
            {
                // Malformed quoting: the reader throws before any field is parsed, with or without the plain path.
                return true.Label("malformed");
            }
            return true.Label(taken > 0 ? "fields taken" : "none taken");
        });

    [Fact]
    public void No_plain_path_for_separators_that_can_be_part_of_a_number_or_for_other_encodings()
    {
        Assert.Equal(0, CsvSource.PlainSeparator(new SourceOptions { Delimiter = '.' }));
        Assert.Equal(0, CsvSource.PlainSeparator(new SourceOptions { Delimiter = '-' }));
        Assert.Equal(0, CsvSource.PlainSeparator(new SourceOptions { Delimiter = '5' }));
        Assert.Equal(0, CsvSource.PlainSeparator(new SourceOptions { Delimiter = '"' }));
        Assert.Equal(0, CsvSource.PlainSeparator(new SourceOptions { Delimiter = ',', Encoding = "latin1" }));
    }
}
