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

    /// <summary>
    /// Fields as W1 (bench/gen-numeric.mjs) writes them, and beyond: up to 9 digits with the point anywhere, leading zeros
    /// after it ("0.000622127"), trailing zeros ("881.50", "759.00"), negative or not.
    /// </summary>
    internal static readonly Gen<string> FixedPointText =
        from digits in Gen.Choose(0, 999_999_999)
        from decimals in Gen.Choose(0, 10)
        from zeros in Gen.Elements(0, 0, 0, 1, 2)
        from negative in Gen.Elements(false, true)
        let text = digits.ToString("D" + (decimals + 1), System.Globalization.CultureInfo.InvariantCulture) + new string('0', zeros)
        let point = text.Length - decimals - zeros
        select (negative ? "-" : "") + (decimals + zeros == 0 ? text : text[..point] + "." + text[point..]);

    [Property(MaxTest = 20000)]
    public Property A_loaded_quotient_is_the_copyable_double_and_float32_holds_it()
        => Prop.ForAll(Gen.OneOf(FixedPointText, FixedPointText, DataPrep.Tests.Formats.RawRecordsTests.NumberText).Where(t => t.Length is >= 1 and <= 16).ToArbitrary(), text =>
        {
            if (CsvSource.PlainSeparator(new SourceOptions()) == 0) return true.Label("no plain path on this machine");
            var bytes = Encoding.UTF8.GetBytes(text);
            var loaded = CanonicalNumber.Load16(ref bytes[0], bytes.Length);
            bool isDouble = CanonicalNumber.TryCopyableLoaded(loaded, bytes.Length, computeValue: true, out double expected, out int expectedLength);
            bool quotient = CanonicalNumber.TryCopyableLoadedQuotient(loaded, bytes.Length, out double mantissa, out double scale, out int length);
            if (quotient != isDouble || length != expectedLength) return false.Label($"'{text}': quotient {quotient} ({length}), value {isDouble} ({expectedLength})");
            if (!isDouble) return true.Label("refused");
            double value = mantissa / scale;
            if (BitConverter.DoubleToInt64Bits(value) != BitConverter.DoubleToInt64Bits(expected)) return false.Label($"'{text}': {mantissa:R} / {scale:R} = {value:R}, expected {expected:R}");
            // And the BCL's parse, the reference of the whole vector path (digit shuffle, multiply-adds, division).
            double parsed = double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            if (BitConverter.DoubleToInt64Bits(value) != BitConverter.DoubleToInt64Bits(parsed)) return false.Label($"'{text}': {value:R}, double.Parse {parsed:R}");
            // What lets the plain-row path skip PutFloat32's check: copyable text is 0 or of magnitude 1e-4 to 1e15.
            float f = (float)value;
            if (float.IsInfinity(f) || (f == 0 && value != 0)) return false.Label($"'{text}': float32 {f:R} does not hold {value:R}");
            return true.Label("accepted");
        });

    /// <summary>Mantissa/scale pairs the plain-row path leaves (signed digits below 2^53, powers of ten), and any doubles.</summary>
    private static readonly Gen<(double Mantissa, double Scale)> Quotient = Gen.OneOf(
        from m in Gen.Choose(-999_999_999, 999_999_999)
        from high in Gen.Choose(0, 999_999)
        from k in Gen.Choose(0, 22)
        select ((double)((long)high * 1_000_000_000 + m), double.Parse("1e" + k, System.Globalization.CultureInfo.InvariantCulture)),
        from m in ArbMap.Default.GeneratorFor<double>()
        from s in Gen.OneOf(ArbMap.Default.GeneratorFor<double>(), Gen.Constant(1.0))
        select (m, s));

    [Property(MaxTest = 3000)]
    public Property Float32_quotients_in_one_pass_are_the_scalar_roundings()
        => Prop.ForAll(Gen.ListOf(Quotient).ToArbitrary(), pairs =>
        {
            var mantissas = pairs.Select(p => p.Mantissa).ToArray();
            var scales = pairs.Select(p => p.Scale).ToArray();
            var bytes = new byte[4 * pairs.Count + 3];
            CsvSource.PutFloat32Quotients(mantissas, scales, bytes);
            for (int i = 0; i < pairs.Count; i++)
            {
                float expected = (float)(mantissas[i] / scales[i]);
                int got = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
                // NaN payloads are not compared (no NaN reaches the path: copyable text is a number).
                if (float.IsNaN(expected) ? !float.IsNaN(BitConverter.Int32BitsToSingle(got)) : got != BitConverter.SingleToInt32Bits(expected))
                {
                    return false.Label($"{mantissas[i]:R} / {scales[i]:R}: 0x{got:X8}, expected 0x{BitConverter.SingleToInt32Bits(expected):X8}");
                }
            }
            return bytes.AsSpan(4 * pairs.Count).IndexOfAnyExcept((byte)0) < 0 ? true.ToProperty() : false.Label("wrote past the values");
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
