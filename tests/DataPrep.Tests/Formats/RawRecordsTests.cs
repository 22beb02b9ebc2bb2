using System.Globalization;
using System.Text;
using DataPrep.Data;
using DataPrep.Formats;
using DataPrep.Sources;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Formats;

/// <summary>
/// Copying a row's input text instead of formatting its numbers must give exactly the formatter's bytes:
/// the canonical-number rules are checked against the BCL, and whole files against the formatting path.
/// </summary>
public class RawRecordsTests
{
    /// <summary>Number-like text: signs, leading/trailing zeros, points, exponents, many digits, junk.</summary>
    internal static readonly Gen<string> NumberText =
        from sign in Gen.Elements("", "", "-", "+")
        from intPart in Gen.OneOf(Gen.Elements("0", "00", "1", "7", "10", "999999999999999", "1000000000000000", "123456789012345678"), Gen.Choose(0, int.MaxValue).Select(i => i.ToString(CultureInfo.InvariantCulture)))
        from hasPoint in Gen.Elements(false, true, true)
        from fraction in Gen.OneOf(Gen.Elements("", "0", "00", "5", "50", "000", "0001", "00001", "0000123", "1234567890123", "333333333333333333"), Gen.Choose(0, int.MaxValue).Select(i => i.ToString(CultureInfo.InvariantCulture)))
        from exponent in Gen.Elements("", "", "", "e5", "E-3")
        from pad in Gen.Elements("", "", "", " ")
        select pad + sign + intPart + (hasPoint ? "." + fraction : "") + exponent;

    /// <summary>
    /// Whether a float column whose kind was inferred reads <paramref name="text"/>: anything but an integer written out
    /// that a double holds only as another integer (<c>InexactIntegerTests</c>), told here by exact integer arithmetic.
    /// </summary>
    internal static bool ReadByInferredFloat(string text)
    {
        var t = text.Trim();
        if (t.Length == 0 || t.TrimStart('-', '+').Any(c => c is < '0' or > '9')) return true;
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v)) return true;
        return System.Numerics.BigInteger.Parse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) == new System.Numerics.BigInteger(v);
    }

    [Property(MaxTest = 5000)]
    public Property Copyable_doubles_parse_and_print_exactly_as_the_BCL()
        => Prop.ForAll(NumberText.ToArbitrary(), text =>
        {
            var utf8 = Encoding.ASCII.GetBytes(text);
            if (!CanonicalNumber.TryParseCopyableDouble(utf8, out double value, out int length)) return true.Label("not copyable");
            double parsed = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            string printed = parsed.ToString("R", CultureInfo.InvariantCulture);
            return (BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(parsed) && printed == text[..length])
                .Label($"'{text}': fast {value:R}, BCL {parsed:R}, copy '{text[..length]}' vs printed '{printed}'");
        });

    [Property(MaxTest = 5000)]
    public void Short_round_trip_texts_are_copyable(int mantissa, byte scale)
    {
        // The common case must take the fast path: the BCL's own text of a short decimal is copyable.
        double d = mantissa / Math.Pow(10, scale % 12);
        string text = d.ToString("R", CultureInfo.InvariantCulture);
        bool expected = !text.Contains('E') && text != "-0" && text.Count(char.IsAsciiDigit) - LeadingZeros(text) <= 15;
        Assert.Equal(expected, CanonicalNumber.TryParseCopyableDouble(Encoding.ASCII.GetBytes(text), out double value, out int length));
        if (expected)
        {
            Assert.Equal(d, value);
            Assert.Equal(text.Length, length);
        }
    }

    private static int LeadingZeros(string text)
    {
        // Zeros before the first significant digit ("0.00" of 0.0012) are not significant.
        var digits = text.Where(char.IsAsciiDigit).ToArray();
        int n = 0;
        while (n < digits.Length - 1 && digits[n] == '0') n++;
        return n;
    }

    /// <summary>Texts of 1–20 bytes mostly of digits, with signs, points, leading/trailing zeros and a junk byte anywhere.</summary>
    private static readonly Gen<string> DigitStrings =
        from length in Gen.Choose(1, 20)
        from body in Gen.ArrayOf(Gen.Frequency((10, Gen.Elements("0123456789".ToCharArray())), (6, Gen.Constant('0')), (1, Gen.Elements('.', '-', '+', 'e', ' ', '/', ':', '\0', 'a', '\u00ff'))), length)
        from point in Gen.Choose(-1, length)
        from negative in Gen.Elements(false, false, true)
        from zeroInteger in Gen.Elements(false, false, true)
        select (negative ? "-" : "") + (zeroInteger ? "0" : "") + (point >= 0 && point < length ? new string(body, 0, point) + "." + new string(body, point, length - point) : new string(body));

    [Property(MaxTest = 20000)]
    public Property Vector_and_scalar_copyable_double_checks_agree()
        => Prop.ForAll(DigitStrings.ToArbitrary(), text =>
        {
            // Latin-1 so that every generated char is one byte (0xFF included).
            var bytes = Encoding.Latin1.GetBytes(text);
            bool scalar = CanonicalNumber.TryParseCopyableDoubleScalar(bytes, out double expected, out int expectedLength);
            bool fast = CanonicalNumber.TryParseCopyableDouble(bytes, out double value, out int length);
            if (scalar != fast) return false.Label($"'{text}': scalar {scalar}, fast {fast}");
            if (!scalar) return true.Label("not copyable");
            double parsed = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            return (BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(expected)
                    && BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(parsed)
                    && length == expectedLength && parsed.ToString("R", CultureInfo.InvariantCulture) == text[..length])
                .Label($"'{text}': fast {value:R}/{length}, scalar {expected:R}/{expectedLength}, BCL {parsed:R}");
        });

    [Property(MaxTest = 20000)]
    public Property The_copyable_check_without_the_value_accepts_what_the_parse_accepts()
        => Prop.ForAll(DigitStrings.ToArbitrary(), text =>
        {
            var bytes = Encoding.Latin1.GetBytes(text);
            bool parsed = CanonicalNumber.TryParseCopyableDouble(bytes, out _, out int expectedLength);
            bool checkedOnly = CanonicalNumber.IsCopyableDouble(bytes, out int length);
            return (parsed == checkedOnly && (!parsed || length == expectedLength)).Label($"'{text}': parse {parsed}/{expectedLength}, check {checkedOnly}/{length}");
        });

    [Property(MaxTest = 3000)]
    public Property A_kept_field_parses_as_its_own_text_and_ends_at_its_comma()
        => Prop.ForAll(Gen.ListOf(Gen.OneOf(NumberText.Where(t => !t.Contains(' ')), Gen.Elements("1E-05", "0.30000001192092896", "-", "", "-1234567890123456"))).Where(l => l.Count >= 1).ToArbitrary(), fields =>
        {
            // A row's kept text: the reader's fields joined by commas (the vector path needs 17 bytes left, the last fields fall back).
            var text = Encoding.ASCII.GetBytes(string.Join(",", fields)).AsSpan();
            foreach (var field in fields)
            {
                bool parsed = CanonicalNumber.TryParseCopyableField(text, out double value, out int length);
                bool expected = CanonicalNumber.TryParseCopyableDouble(Encoding.ASCII.GetBytes(field), out double expectedValue, out _);
                if (length != field.Length) return false.Label($"'{field}': length {length}");
                if (parsed != expected || (parsed && BitConverter.DoubleToInt64Bits(value) != BitConverter.DoubleToInt64Bits(expectedValue)))
                {
                    return false.Label($"'{field}': field {parsed}/{value:R}, alone {expected}/{expectedValue:R}");
                }
                text = length < text.Length ? text[(length + 1)..] : default;
            }
            return text.IsEmpty.Label("the whole text was read");
        });

    /// <summary>Every batch of the file as read with or without kept text (all float columns text-only when kept).</summary>
    private static async Task<List<RecordBatch>> ReadAllAsync(string path, bool keepRaw)
    {
        var source = new CsvSource(path, new SourceOptions { KeepRawRecords = keepRaw, BatchRows = 5, NonFinite = NonFinitePolicy.Keep, ColumnTypes = new Dictionary<string, ColumnKind> { ["a"] = ColumnKind.Float64, ["b"] = ColumnKind.Float64 } });
        var batches = new List<RecordBatch>();
        await foreach (var batch in source.ReadAsync(0)) batches.Add(batch);
        return batches;
    }

    [Property(MaxTest = 60)]
    public Property Text_only_float_columns_read_the_values_of_their_field_text()
        => Prop.ForAll(Gen.ListOf(Gen.OneOf(NumberText.Where(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && !t.Contains(' ') && ReadByInferredFloat(t)), Gen.Elements("", "NaN", "-inf", "0.00001", "1e300"))).Where(l => l.Count >= 4).ToArbitrary(), values =>
        {
            // Float columns a and b whose values nothing reads while the text is kept: rows with copyable text, rows with
            // text formatted at read time, and rows keeping no text (a missing or non-finite value) after a checked field.
            var lines = new List<string> { "y,a,b" };
            for (int i = 0; i + 1 < values.Count; i += 2) lines.Add($"{i},{values[i]},{values[i + 1]}");
            var path = Path.Combine(Path.GetTempPath(), $"raw-{Guid.NewGuid():N}.csv");
            File.WriteAllLines(path, lines);
            try
            {
                var kept = ReadAllAsync(path, keepRaw: true).GetAwaiter().GetResult();
                var parsed = ReadAllAsync(path, keepRaw: false).GetAwaiter().GetResult();
                if (kept.Count != parsed.Count) return false.Label("batch count");
                for (int b = 0; b < kept.Count; b++)
                {
                    for (int c = 1; c <= 2; c++)
                    {
                        var lazy = (Float64Column)kept[b].Columns[c];
                        var eager = (Float64Column)parsed[b].Columns[c];
                        // One row at a time first (a deferred gather's path), then the whole column.
                        for (int r = 0; r < eager.Length; r++)
                        {
                            if (!eager.IsNull(r) && BitConverter.DoubleToInt64Bits(lazy.ValueAt(r)) != BitConverter.DoubleToInt64Bits(eager.Values[r])) return false.Label($"batch {b} column {c} row {r}: ValueAt {lazy.ValueAt(r):R}, parsed {eager.Values[r]:R}");
                        }
                        for (int r = 0; r < eager.Length; r++)
                        {
                            if (lazy.IsNull(r) != eager.IsNull(r)) return false.Label($"batch {b} column {c} row {r}: null {lazy.IsNull(r)} vs {eager.IsNull(r)}");
                            if (!eager.IsNull(r) && BitConverter.DoubleToInt64Bits(lazy.Values[r]) != BitConverter.DoubleToInt64Bits(eager.Values[r])) return false.Label($"batch {b} column {c} row {r}: {lazy.Values[r]:R} vs {eager.Values[r]:R}");
                        }
                        if (lazy.HoldsNoNaN && lazy.Span.ToArray().Any(double.IsNaN)) return false.Label($"batch {b} column {c} says it holds no NaN");
                    }
                }
                return true.Label("same values");
            }
            finally
            {
                File.Delete(path);
            }
        });

    [Fact]
    public async Task Value_columns_are_parsed_while_reading_and_the_others_when_first_read()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "w.csv");
        await File.WriteAllTextAsync(path, "y,a,b\n1.5,2.25,3\n2.5,0.00001,-4.75\n");
        var source = new CsvSource(path, new SourceOptions { KeepRawRecords = true, ValueColumns = ["y"] });
        RecordBatch? batch = null;
        await foreach (var b in source.ReadAsync(0)) batch = b;
        var y = (Float64Column)batch!.Columns[0];
        var a = (Float64Column)batch.Columns[1];
        Assert.True(y.IsMaterialized);
        Assert.False(a.IsMaterialized);
        Assert.True(a.HoldsNoNaN);
        Assert.Equal(65_536, a.Capacity); // the memory estimate does not parse the column
        Assert.False(a.IsMaterialized);
        Assert.Equal([2.25, 0.00001], a.Span.ToArray());
        Assert.Equal([3, -4.75], ((Float64Column)batch.Columns[2]).Span.ToArray());
    }

    [Fact]
    public void Vector_path_reads_no_byte_past_the_field()
    {
        // Every length 1–16 at the very end of a buffer, with junk just before; a read past the end would change the result or throw.
        for (int n = 1; n <= 16; n++)
        {
            foreach (string digits in new[] { "1234567890123456", "0.00012300456789", "9876543.21098765", "-1.4000500000000", "0000000000000000" })
            {
                string text = digits[..n];
                var buffer = Encoding.ASCII.GetBytes("xxxxxxxx" + text);
                var field = buffer.AsSpan(8);
                bool scalar = CanonicalNumber.TryParseCopyableDoubleScalar(field, out double expected, out int expectedLength);
                Assert.Equal(scalar, CanonicalNumber.TryParseCopyableDouble(field, out double value, out int length));
                if (scalar)
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(value));
                    Assert.Equal(expectedLength, length);
                }
            }
        }
    }

    [Property(MaxTest = 3000)]
    public Property Copyable_integers_print_exactly_as_the_BCL()
        => Prop.ForAll(NumberText.ToArbitrary(), text =>
        {
            var utf8 = Encoding.ASCII.GetBytes(text);
            if (!CanonicalNumber.IsCanonicalInteger(utf8) || !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)) return true.Label("not copyable");
            return (value.ToString(CultureInfo.InvariantCulture) == text).Label(text);
        });

    [Theory]
    [InlineData("1.50", "1.5")]
    [InlineData("-82.0", "-82")]
    [InlineData("0.000", "0")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00012300", "0.000123")]
    [InlineData("123456789012345", "123456789012345")]
    [InlineData("99999999999999.90", "99999999999999.9")]
    public void Trailing_zeros_are_dropped_from_the_copy(string text, string copy)
    {
        Assert.True(CanonicalNumber.TryParseCopyableDouble(Encoding.ASCII.GetBytes(text), out double value, out int length));
        Assert.Equal(copy, text[..length]);
        Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("-0")]
    [InlineData("-0.0")]
    [InlineData("0.00001")]
    [InlineData("1e5")]
    [InlineData("+1")]
    [InlineData("01.5")]
    [InlineData(" 1.5")]
    [InlineData("1.5 ")]
    [InlineData(".5")]
    [InlineData("1234567890123456")]
    [InlineData("0.1234567890123456")]
    [InlineData("1000000000000000")]
    [InlineData("NaN")]
    [InlineData("")]
    public void Texts_that_print_differently_are_not_copied(string text)
        => Assert.False(CanonicalNumber.TryParseCopyableDouble(Encoding.ASCII.GetBytes(text), out _, out _));

    private static async Task<byte[]> FormatAllAsync(string path, bool keepRaw, char delimiter = ',')
    {
        var source = new CsvSource(path, new SourceOptions { KeepRawRecords = keepRaw, BatchRows = 7, Delimiter = delimiter, NonFinite = NonFinitePolicy.Keep });
        var format = new LabelFirstCsvFormat(hasLabel: true);
        var bytes = new MemoryStream();
        bool sawRaw = false;
        await foreach (var batch in source.ReadAsync(0))
        {
            sawRaw |= batch.Raw is not null;
            // Shuffle-like gather of the batch's rows, as the split stage does.
            var rows = Enumerable.Range(0, batch.RowCount).Reverse().ToArray();
            var gathered = RecordBatch.Gather([batch], new int[rows.Length], rows);
            Assert.Equal(batch.Raw is not null, gathered.Raw is not null);
            var chunk = format.Format(gathered, 0, gathered.RowCount);
            bytes.Write(chunk.Data, 0, chunk.Length);
        }
        Assert.Equal(keepRaw, sawRaw);
        return bytes.ToArray();
    }

    [Property(MaxTest = 40)]
    public Property Copied_rows_give_the_formatters_bytes()
        => Prop.ForAll(Gen.ListOf(NumberText.Where(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && !t.Contains(' ') && ReadByInferredFloat(t))).Where(l => l.Count >= 6).ToArbitrary(), values =>
        {
            // Three float columns (the label among them); some rows copyable, some not.
            var lines = new List<string> { "y,a,b" };
            for (int i = 0; i + 2 < values.Count; i += 3) lines.Add($"{values[i]},{values[i + 1]},\"{values[i + 2]}\"");
            lines.Add("1.50,2,3.25");
            var path = Path.Combine(Path.GetTempPath(), $"raw-{Guid.NewGuid():N}.csv");
            File.WriteAllLines(path, lines);
            try
            {
                // --column-type-free inference may make a column Int64 or Float64: both are covered.
                var copied = FormatAllAsync(path, keepRaw: true).GetAwaiter().GetResult();
                var formatted = FormatAllAsync(path, keepRaw: false).GetAwaiter().GetResult();
                return copied.AsSpan().SequenceEqual(formatted).Label(Encoding.ASCII.GetString(copied) + " vs " + Encoding.ASCII.GetString(formatted));
            }
            finally
            {
                File.Delete(path);
            }
        });

    [Theory]
    [InlineData("y,a,b\r\n1,2.50,-0.0\r\n2,1e5,0.00001\r\n3,\"4.0\",5\r\n", ',')]
    [InlineData("\uFEFFy,a,b\n1,2.50,3\n2,0.10,NaN\n3,007,-1.25\n", ',')]
    [InlineData("y;a;b\n1;2.50;3\n2;1234567890123456;0.3\n3;-0;99999999999999.90\n", ';')]
    [InlineData("y,a,b\n1, 2.5,3\n2,2.5 ,3\n3,2.5,3", ',')]
    public async Task Line_endings_quotes_delimiters_and_odd_numbers_give_the_formatters_bytes(string content, char delimiter)
    {
        var path = Path.Combine(Path.GetTempPath(), $"raw-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, content);
        try
        {
            var copied = await FormatAllAsync(path, keepRaw: true, delimiter);
            var formatted = await FormatAllAsync(path, keepRaw: false, delimiter);
            Assert.Equal(Encoding.ASCII.GetString(formatted), Encoding.ASCII.GetString(copied));
        }
        finally
        {
            File.Delete(path);
        }
    }
    [Fact]
    public async Task A_row_whose_field_needs_formatting_keeps_its_text_formatted_at_read_time()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "odd.csv");
        await File.WriteAllTextAsync(path, "y,a,b\n1,0.00001,2.50\n+2,3,1e5\n3,,4\n");
        var source = new CsvSource(path, new SourceOptions { KeepRawRecords = true });
        var batches = new List<RecordBatch>();
        await foreach (var b in source.ReadAsync(0)) batches.Add(b);
        var raw = Assert.Single(batches).Raw!.Records;
        // "0.00001" prints as "1E-05", "+2" as "2", "1e5" as "100000": the rows keep the writer's text;
        // a missing value is not written silently, so that row is left to the writer (and its missing-value rule).
        Assert.Equal("1,1E-05,2.5", Encoding.ASCII.GetString(raw[0].Span));
        Assert.Equal("2,3,100000", Encoding.ASCII.GetString(raw[1].Span));
        Assert.True(raw[2].IsEmpty);
    }

    [Property(MaxTest = 200)]
    public Property Integer_rows_print_as_invariant_long_text(long[] values, bool[] flags)
    {
        // Rows of two integer columns and a boolean one, written by the integer-only path: each field as the BCL prints it.
        int rows = values.Length / 2;
        var a = values.Take(rows).ToArray();
        var b = values.Skip(rows).Take(rows).ToArray();
        var c = Enumerable.Range(0, rows).Select(i => i < flags.Length && flags[i]).ToArray();
        var schema = new Schema([new Field("a", ColumnKind.Int64), new Field("b", ColumnKind.Int64), new Field("c", ColumnKind.Boolean)]);
        var batch = new RecordBatch(schema, [new Int64Column(a), new Int64Column(b), new BooleanColumn(c, null, rows)], rows, RowInfo.Sequential(0, 0, rows));
        var chunk = new LabelFirstCsvFormat(hasLabel: true).Format(batch, 0, rows);
        var expected = string.Concat(Enumerable.Range(0, rows).Select(i => FormattableString.Invariant($"{a[i]},{b[i]},{(c[i] ? 1 : 0)}\n")));
        var text = Encoding.ASCII.GetString(chunk.Data, 0, chunk.Length);
        var ends = new int[rows];
        for (int i = 0, at = 0; i < rows; i++) ends[i] = at += FormattableString.Invariant($"{a[i]},{b[i]},{(c[i] ? 1 : 0)}\n").Length;
        return (text == expected && chunk.RecordEnds.SequenceEqual(ends)).Label(text);
    }
}
