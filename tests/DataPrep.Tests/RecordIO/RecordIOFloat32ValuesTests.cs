using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Sources;
using DataPrep.Tests.Formats;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.RecordIO;

/// <summary>
/// A CSV source asked for float32 values (<see cref="SourceOptions.KeepFloat32"/>, RecordIO-protobuf's default dtypes) parses
/// each field once while reading and keeps <c>(float)</c> of its double beside the row's text; the writer copies those
/// bytes. They must be exactly what the writer computed before from the text (<c>(float)double.Parse(text)</c>: rounded
/// twice, decimal → double → float32, as numpy's <c>astype(float32)</c> does, not a direct float parse), and a value float32
/// cannot hold as itself (overflow, a non-zero that rounds to zero) must leave the row to its text, so errors stay the same.
/// </summary>
public class RecordIOFloat32ValuesTests
{
    /// <summary>Decimal texts: short and many-digit, exponent forms, float32 and double denormals, float32 overflow, and halfway cases.</summary>
    private static readonly Gen<string> DecimalText = Gen.OneOf(
        RawRecordsTests.NumberText.Where(t => !t.Contains(' ') && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _)),
        // Many digits (beyond the copyable 15), with the point anywhere.
        from count in Gen.Choose(16, 30)
        from digits in Gen.ArrayOf(Gen.Elements("0123456789".ToCharArray()), count)
        from point in Gen.Choose(1, 15)
        from negative in Gen.Elements(false, true)
        select (negative ? "-" : "") + "1" + new string(digits, 0, point) + "." + new string(digits, point, digits.Length - point),
        // Near float32's limits: denormals, the smallest ones rounding to zero, the largest finite and just beyond.
        Gen.Elements("1e-40", "1.4e-45", "1.401298464324817e-45", "7e-46", "7.006492321624086e-46", "7.1e-46", "2e-45", "1.17549435e-38",
            "4.9e-324", "-1e-300", "3.4028235e38", "3.40282346638528859811704183484516925440e+38", "3.4028236e38", "3.402823669209385e38", "1e39", "-1e39",
            "0", "-0", "0.0", "-0.0", "0.000", "16777217", "16777216.5", "9007199254740993", "0.1", "0.30000001192092896", "1E+5", "2.5e-3"),
        // Halfway between two float32s, and just off it beyond double's precision: the cases where double rounding differs.
        from bits in Gen.Choose(0x00800000, 0x7F000000)
        from offset in Gen.Elements("", "0000000000000000000001", "-")
        select Halfway(bits, offset));

    /// <summary>The exact decimal of the double halfway between a float32 and the next, with <paramref name="offset"/> digits appended ("-": one ulp below).</summary>
    private static string Halfway(int bits, string offset)
    {
        double low = BitConverter.Int32BitsToSingle(bits), high = BitConverter.Int32BitsToSingle(bits + 1);
        double middle = (low + high) / 2; // exact: a float32 has 24 significant bits, a double 53
        if (offset == "-") return double.BitDecrement(middle).ToString("R", CultureInfo.InvariantCulture);
        // "E40" gives more digits than the exact value has, so the text is the exact decimal (zeros after it), then the offset.
        string exact = middle.ToString("E40", CultureInfo.InvariantCulture);
        int e = exact.IndexOf('E', StringComparison.Ordinal);
        return exact[..e] + offset + exact[e..];
    }

    /// <summary>Reads a one-feature file with float32 kept and gives, per input text, the kept float32 (null: none kept).</summary>
    private static async Task<List<float?>> KeptFloat32Async(IReadOnlyList<string> texts)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "values.csv");
        await File.WriteAllTextAsync(path, "y,a\n" + string.Concat(texts.Select((t, i) => $"{i % 3},{t}\n")));
        var source = new CsvSource(path, new SourceOptions { KeepRawRecords = true, KeepFloat32 = true, ValueColumns = ["y"], BatchRows = 7, NonFinite = NonFinitePolicy.Keep, ColumnTypes = new Dictionary<string, ColumnKind> { ["a"] = ColumnKind.Float64 } });
        var kept = new List<float?>();
        await foreach (var batch in source.ReadAsync(0))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                var image = batch.Raw?.Float32?[r] ?? default;
                if (image.IsEmpty) { kept.Add(null); continue; }
                Assert.Equal(8, image.Length);
                // The label (y = row % 3) comes first.
                Assert.Equal((float)(kept.Count % 3), BinaryPrimitives.ReadSingleLittleEndian(image.Span));
                kept.Add(BinaryPrimitives.ReadSingleLittleEndian(image.Span[4..]));
            }
        }
        return kept;
    }

    [Property(MaxTest = 40)]
    public Property Kept_float32_values_are_the_writers_rounding_of_the_parsed_double()
        => Prop.ForAll(Gen.ListOf(DecimalText).Where(l => l.Count > 0).ToArbitrary(), texts =>
        {
            var kept = KeptFloat32Async(texts).GetAwaiter().GetResult();
            for (int i = 0; i < texts.Count; i++)
            {
                // The writer's conversion before this change: the field's double (double.Parse is bit-identical to the
                // source's parsers), then (float) of it (RecordIOProtobufFormat's ToFloat32).
                double d = double.Parse(texts[i], NumberStyles.Float, CultureInfo.InvariantCulture);
                float expected = (float)d;
                bool holds = double.IsFinite(d) && !float.IsInfinity(expected) && (expected != 0 || d == 0);
                if (!holds)
                {
                    if (kept[i] is not null) return false.Label($"'{texts[i]}': kept {kept[i]:R}, expected none (float32 cannot hold {d:R})");
                    continue;
                }
                if (kept[i] is not { } f) return false.Label($"'{texts[i]}': nothing kept, expected {expected:R}");
                if (BitConverter.SingleToInt32Bits(f) != BitConverter.SingleToInt32Bits(expected))
                {
                    return false.Label($"'{texts[i]}': kept {f:R} (0x{BitConverter.SingleToInt32Bits(f):X8}), expected {expected:R} (0x{BitConverter.SingleToInt32Bits(expected):X8})");
                }
            }
            return true.ToProperty();
        });

    /// <summary>
    /// Reads rows of several features (label y = row % 3 first) with float32 kept and gives each row's kept float32 values,
    /// label left out (null: none kept). Many columns a row exercise the plain-row path's one division pass over the row.
    /// </summary>
    private static async Task<List<float[]?>> KeptRowsAsync(IReadOnlyList<string[]> rows, int features)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "rows.csv");
        var names = Enumerable.Range(0, features).Select(i => "a" + i).ToArray();
        await File.WriteAllTextAsync(path, "y," + string.Join(",", names) + "\n" + string.Concat(rows.Select((r, i) => $"{i % 3},{string.Join(",", r)}\n")));
        var source = new CsvSource(path, new SourceOptions { KeepRawRecords = true, KeepFloat32 = true, ValueColumns = ["y"], BatchRows = 5, NonFinite = NonFinitePolicy.Keep, ColumnTypes = names.ToDictionary(n => n, _ => ColumnKind.Float64) });
        var kept = new List<float[]?>();
        await foreach (var batch in source.ReadAsync(0))
        {
            for (int r = 0; r < batch.RowCount; r++)
            {
                var image = batch.Raw?.Float32?[r] ?? default;
                if (image.IsEmpty) { kept.Add(null); continue; }
                Assert.Equal(4 * (features + 1), image.Length);
                Assert.Equal((float)(kept.Count % 3), BinaryPrimitives.ReadSingleLittleEndian(image.Span));
                kept.Add(Enumerable.Range(1, features).Select(c => BinaryPrimitives.ReadSingleLittleEndian(image.Span[(4 * c)..])).ToArray());
            }
        }
        return kept;
    }

    [Property(MaxTest = 40)]
    public Property Kept_float32_rows_of_many_features_are_the_writers_rounding_of_the_parsed_doubles()
        => Prop.ForAll((
            from features in Gen.Choose(1, 13)
            from rows in Gen.ListOf(Gen.ArrayOf(Gen.OneOf(Sources.CsvPlainFieldTests.FixedPointText, Sources.CsvPlainFieldTests.FixedPointText, DecimalText), features)).Where(l => l.Count > 0)
            select (features, rows)).ToArbitrary(), input =>
        {
            var kept = KeptRowsAsync(input.rows, input.features).GetAwaiter().GetResult();
            for (int i = 0; i < input.rows.Count; i++)
            {
                var texts = input.rows[i];
                var doubles = texts.Select(t => double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
                bool holds = doubles.All(d => double.IsFinite(d) && !float.IsInfinity((float)d) && ((float)d != 0 || d == 0));
                if (!holds)
                {
                    if (kept[i] is not null) return false.Label($"row {i} ({string.Join(",", texts)}): values kept, expected none");
                    continue;
                }
                if (kept[i] is not { } values) return false.Label($"row {i} ({string.Join(",", texts)}): nothing kept");
                for (int c = 0; c < texts.Length; c++)
                {
                    if (BitConverter.SingleToInt32Bits(values[c]) != BitConverter.SingleToInt32Bits((float)doubles[c]))
                    {
                        return false.Label($"'{texts[c]}' (row {i}, feature {c}): kept {values[c]:R}, expected {(float)doubles[c]:R}");
                    }
                }
            }
            return true.ToProperty();
        });

    [Fact]
    public async Task Halfway_text_is_rounded_through_the_double_not_directly()
    {
        // 1 + 2^-24 is halfway between 1f and the next float32; the text is a hair above it. Parsed as a double it is exactly
        // the halfway point (the hair is far below a double's precision), which rounds to even: 1f. A direct float32 parse
        // sees the hair and rounds up. The writer always took the first (numpy's astype(float32) does the same).
        const string text = "1.0000000596046447753906250000001";
        Assert.Equal(1.0000001f, float.Parse(text, CultureInfo.InvariantCulture));
        var kept = await KeptFloat32Async([text, "1.000000059604644775390625", "0.555964881"]);
        Assert.Equal(BitConverter.SingleToInt32Bits(1f), BitConverter.SingleToInt32Bits(kept[0]!.Value));
        Assert.Equal(BitConverter.SingleToInt32Bits(1f), BitConverter.SingleToInt32Bits(kept[1]!.Value));
        Assert.Equal(BitConverter.SingleToInt32Bits((float)0.555964881), BitConverter.SingleToInt32Bits(kept[2]!.Value));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sample_sensors_records_are_the_same_bytes_from_kept_float32_text_and_columns(bool sparse)
    {
        // sample-data/sensors.csv.gz: an integer label and ten float features, 1,000 rows in batches of 64, gathered in reverse.
        var path = Paths.SampleData("sensors.csv.gz");
        var options = new RecordIOOptions(Sparse: sparse);
        var fromImage = await RecordIOKeptTextTests.EncodeAllAsync(path, keepText: true, options, float32: true, label: "label", batchRows: 64);
        var fromText = await RecordIOKeptTextTests.EncodeAllAsync(path, keepText: true, options, label: "label", batchRows: 64);
        var fromColumns = await RecordIOKeptTextTests.EncodeAllAsync(path, keepText: false, options, label: "label", batchRows: 64);
        Assert.Null(fromImage.Error);
        Assert.True(fromImage.SawText);
        Assert.True(fromImage.Bytes.Length > 40_000);
        Assert.Equal(Convert.ToHexString(fromColumns.Bytes), Convert.ToHexString(fromText.Bytes));
        Assert.Equal(Convert.ToHexString(fromColumns.Bytes), Convert.ToHexString(fromImage.Bytes));
    }

    [Fact]
    public async Task Sample_sensors_rows_keep_float32_values()
    {
        var source = new CsvSource(Paths.SampleData("sensors.csv.gz"), new SourceOptions { KeepRawRecords = true, KeepFloat32 = true, ValueColumns = ["label"] });
        int rows = 0, withValues = 0;
        await foreach (var batch in source.ReadAsync(0))
        {
            rows += batch.RowCount;
            withValues += batch.Raw!.Float32!.Count(m => m.Length == 4 * 11);
        }
        Assert.Equal(1000, rows);
        Assert.Equal(rows, withValues);
    }

    [Fact]
    public async Task Without_KeepFloat32_no_float32_values_are_kept()
    {
        var source = new CsvSource(Paths.SampleData("sensors.csv.gz"), new SourceOptions { KeepRawRecords = true, ValueColumns = ["label"] });
        await foreach (var batch in source.ReadAsync(0)) Assert.Null(batch.Raw!.Float32);
    }
}
