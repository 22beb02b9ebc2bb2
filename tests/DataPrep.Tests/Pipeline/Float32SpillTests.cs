using System.Globalization;
using System.Text;
using DataPrep.Data;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// The split spill keeps as float32 the Float64 columns only a float32 writer reads after the split (SpillNarrowing):
/// the spill files read back as <c>(double)(float)v</c>, block by block, except blocks with a finite value beyond
/// float32's range, which stay doubles; RecordIO-protobuf's bytes, and its out-of-range error, are those of an
/// in-memory run.
/// </summary>
public class Float32SpillTests
{
    private const int Rows = 3000;

    /// <summary>Features x1..x4 (x4 holds the special values), an integer feature k, a label y (integer, or a float with <paramref name="floatLabel"/>).</summary>
    private static string WriteInput(TempDir tmp, string special, int specialAt, bool floatLabel = false, bool withDay = false)
    {
        var rng = new Random(11);
        var specials = special.Split(' ');
        var sb = new StringBuilder(withDay ? "x1,x2,x3,x4,k,day,y\n" : "x1,x2,x3,x4,k,y\n");
        for (int i = 0; i < Rows; i++)
        {
            string x4 = i >= specialAt && i < specialAt + specials.Length ? specials[i - specialAt] : (rng.NextDouble() * 1e6).ToString("R", CultureInfo.InvariantCulture);
            string y = floatLabel ? (rng.NextDouble() * 10).ToString("R", CultureInfo.InvariantCulture) : rng.Next(3).ToString(CultureInfo.InvariantCulture);
            string day = withDay ? new DateTime(2024, 1, 1).AddDays(rng.Next(400)).ToString("yyyy-MM-dd,", CultureInfo.InvariantCulture) : "";
            sb.Append(CultureInfo.InvariantCulture, $"{rng.NextDouble() * 100 - 50},{rng.NextDouble() / 3},{Math.Round(rng.NextDouble(), 3)},{x4},{rng.Next(-1000, 1000)},{day}{y}\n");
        }
        return tmp.File("input.csv", sb.ToString());
    }

    /// <summary>NaN, −0, underflow to ±0, float32 subnormals, float32's largest value, its rounding edge, a double subnormal, ±infinity.</summary>
    private const string Specials = "NaN -0 -0.0 1e-50 -1e-50 1.401298464324817E-45 1e-40 3.4028234663852886E+38 -3.4028234663852886E+38 3.4028235677973362E+38 4.9E-324 Infinity -Infinity 0.1 16777217";

    private static (CliRunner.Result Run, DataPrep.Conversion.DataPrepRegistry Registry) Convert(string input, string outDir, string spillRoot, bool spill, params string[] extra)
    {
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        string[] memory = spill ? ["--memory", "16KB", "--temp", spillRoot] : [];
        string[] nonFinite = extra.Contains("--non-finite") ? [] : ["--non-finite", "keep"];
        var r = CliRunner.Run(registry, ["convert", input, "--out", outDir, "--label", "y", "--format", "recordio-protobuf", "--quiet", .. nonFinite, .. memory, .. extra]);
        if (spill) Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        return (r, registry);
    }

    public static TheoryData<string, string, string> Jobs() => new()
    {
        // job, extra options, the columns spilled as float32
        { "random", "", "x1 x2 x3 x4" },
        { "batches", "--batch-rows 97 --threads 1", "x1 x2 x3 x4" },
        { "stratified", "--stratify y", "x1 x2 x3 x4" },
        // An encoder after the split reads x3 (one-hot makes the rows sparse): nothing narrows.
        { "onehot", "--encode k=onehot", "" },
        // fill:mean averages every numeric feature over train after the split (NaN and ±infinity are missing): nothing narrows.
        { "fill-mean", "--non-finite missing --missing fill:mean", "" },
        // Float64 and int32 tensors read the doubles: nothing narrows.
        { "float64", "--dtype float64", "" },
    };

    [Theory]
    [MemberData(nameof(Jobs))]
    public void Spilled_recordio_with_float32_columns_has_the_bytes_of_an_in_memory_run(string name, string extra, string narrowed)
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, Specials, specialAt: 1234);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var options = extra.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (memory, inMemory) = Convert(input, tmp.Combine("memory"), spillRoot, spill: false, options);
        Assert.True(memory.Code == 0, $"{name}: {memory.Err}");
        // In memory, the rows the source kept as float32 keep no text exactly when the same columns narrow in a spill.
        Assert.Equal(1, inMemory.Diagnostics.RowTextKept);
        if (narrowed.Length > 0) Assert.InRange(inMemory.Diagnostics.RowsWithoutText, Rows - 20, Rows);
        else Assert.Equal(0, inMemory.Diagnostics.RowsWithoutText);
        var (spilled, registry) = Convert(input, tmp.Combine("spilled"), spillRoot, spill: true, options);
        Assert.True(spilled.Code == 0, $"{name}: {spilled.Err}");
        Assert.True(registry.Diagnostics.Spills > 0, $"{name} was meant to spill");
        Assert.Equal(narrowed, string.Join(' ', registry.Diagnostics.SpillFloat32Columns));
        // NaN and ±infinity among the float32 values: the emission places them as doubles.
        Assert.Equal(0, registry.Diagnostics.SpillsPlacedAsFloat32);
        // Expected to spill, the run keeps no text, and its rows' float32 values alone exactly when the columns narrow;
        // otherwise nothing (every field parsed into its value).
        Assert.Equal(0, registry.Diagnostics.RowTextKept);
        Assert.Equal(inMemory.Diagnostics.RowsWithoutText, registry.Diagnostics.RowsWithoutText);
        var expected = RunOutputs.FileHashes(tmp.Combine("memory"));
        var actual = RunOutputs.FileHashes(tmp.Combine("spilled"));
        Assert.Contains(expected.Keys, k => k.StartsWith("train/", StringComparison.Ordinal) && k.EndsWith(".pbr", StringComparison.Ordinal));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    /// <summary><see cref="Specials"/> without those float32 cannot hold (NaN, ±infinity, beyond its range).</summary>
    private const string FiniteSpecials = "-0 -0.0 1e-50 -1e-50 1.401298464324817E-45 1e-40 3.4028234663852886E+38 -3.4028234663852886E+38 0.1 16777217";

    [Theory]
    [InlineData("random", "", true)]
    [InlineData("random", "", false)]
    [InlineData("batches", "--batch-rows 97 --threads 1", true)]
    [InlineData("stratified", "--stratify y", true)]
    public void Spilled_rows_of_finite_float32_values_are_placed_as_those_values_and_the_bytes_match(string name, string extra, bool labelFirst)
    {
        // The run expected to spill keeps each row's float32 values alone, spills them as they are, and places them back
        // as the rows' float32 values: label first, the writer copies them; label last, it reads the columns (widened).
        using var tmp = new TempDir();
        var input = WriteInput(tmp, FiniteSpecials, specialAt: 1234);
        if (labelFirst)
        {
            var lines = File.ReadAllLines(input).Select(l => { int i = l.LastIndexOf(','); return l[(i + 1)..] + "," + l[..i]; });
            File.WriteAllLines(input, lines);
        }
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var options = extra.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (memory, _) = Convert(input, tmp.Combine("memory"), spillRoot, spill: false, options);
        Assert.True(memory.Code == 0, $"{name}: {memory.Err}");
        var (spilled, registry) = Convert(input, tmp.Combine("spilled"), spillRoot, spill: true, options);
        Assert.True(spilled.Code == 0, $"{name}: {spilled.Err}");
        Assert.Equal(0, registry.Diagnostics.RowTextKept);
        // Every row but the two holding ±1e-50 (a non-zero float32 rounds to zero) kept its float32 values alone.
        Assert.Equal(Rows - 2, registry.Diagnostics.RowsWithoutText);
        Assert.Equal("x1 x2 x3 x4", string.Join(' ', registry.Diagnostics.SpillFloat32Columns));
        Assert.Equal(1, registry.Diagnostics.SpillsPlaced);
        Assert.Equal(1, registry.Diagnostics.SpillsPlacedAsFloat32);
        var expected = RunOutputs.FileHashes(tmp.Combine("memory"));
        Assert.Contains(expected.Keys, k => k.StartsWith("train/", StringComparison.Ordinal) && k.EndsWith(".pbr", StringComparison.Ordinal));
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), RunOutputs.FileHashes(tmp.Combine("spilled")).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rows_kept_as_float32_alone_spill_when_the_estimate_said_they_would_not_and_the_bytes_match(bool labelFirst)
    {
        // A gzip of few distinct rows: estimated at 4x its size, under half the budget, so the text is kept; the rows
        // themselves take more than that, so the split spills anyway and reads the float32 values back as its columns.
        // Label first, the writer copies the rows' float32 values in memory; label last, the encoder moves the label and
        // the writer reads the columns (the float32 values widened).
        using var tmp = new TempDir();
        var rng = new Random(5);
        string[] rows = ["-21.1,1041.83,0.00110831,0.5", "0.555964881,-1.40005,259.75,951.3246", "16777217,0.0000123,2.5,0.1", "7,0.25,1e-50,-0.3"];
        var text = new StringBuilder(labelFirst ? "y,x1,x2,x3,x4\n" : "x1,x2,x3,x4,y\n");
        for (int i = 0; i < 40_000; i++)
        {
            string y = rng.Next(3).ToString(CultureInfo.InvariantCulture);
            string values = rows[rng.Next(rows.Length)];
            text.Append(labelFirst ? $"{y},{values}\n" : $"{values},{y}\n");
        }
        var plain = tmp.File("input.csv", text.ToString());
        var gz = tmp.Combine("input.csv.gz");
        using (var file = File.Create(gz))
        using (var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.SmallestSize))
        {
            zip.Write(Encoding.UTF8.GetBytes(text.ToString()));
        }
        Assert.InRange(new FileInfo(gz).Length, 1, 100 * 1024);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        // The reference: a run expected to spill keeps no text and parses every value while reading.
        var (reference, parsed) = Convert(plain, tmp.Combine("reference"), spillRoot, spill: true, "--non-finite", "error");
        Assert.True(reference.Code == 0, reference.Err);
        Assert.Equal(0, parsed.Diagnostics.RowTextKept);
        var (memory, inMemory) = Convert(plain, tmp.Combine("memory"), spillRoot, spill: false, "--non-finite", "error");
        Assert.True(memory.Code == 0, memory.Err);
        var registry = DataPrep.Cli.DataPrepCli.CreateRegistry();
        var r = CliRunner.Run(registry, ["convert", gz, "--out", tmp.Combine("spilled"), "--label", "y", "--format", "recordio-protobuf", "--quiet", "--memory", "1MB", "--temp", spillRoot]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Empty(Directory.EnumerateFileSystemEntries(spillRoot));
        Assert.Equal(1, registry.Diagnostics.RowTextKept);
        Assert.True(registry.Diagnostics.Spills > 0, "the run was meant to spill");
        Assert.Equal(["x1", "x2", "x3", "x4"], registry.Diagnostics.SpillFloat32Columns);
        // Every row but those holding 1e-50 (which float32 cannot hold as itself) was kept as float32 alone.
        Assert.InRange(registry.Diagnostics.RowsWithoutText, 25_000, 35_000);
        Assert.Equal(inMemory.Diagnostics.RowsWithoutText, registry.Diagnostics.RowsWithoutText);
        var expected = RunOutputs.FileHashes(tmp.Combine("reference")).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, RunOutputs.FileHashes(tmp.Combine("memory")).OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(expected, RunOutputs.FileHashes(tmp.Combine("spilled")).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void A_time_split_repartitions_its_float32_spill_and_the_bytes_match()
    {
        // Time order is not the input's: pass 2 reads pass 1's files and writes buckets, both with the float32 columns.
        using var tmp = new TempDir();
        var input = WriteInput(tmp, Specials, specialAt: 400, withDay: true);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        string[] job = ["--split", "time", "--time", "day", "--timestamps", "epoch", "--fractions", "70/15/15"];
        var (memory, _) = Convert(input, tmp.Combine("memory"), spillRoot, spill: false, job);
        Assert.True(memory.Code == 0, memory.Err);
        var (spilled, registry) = Convert(input, tmp.Combine("spilled"), spillRoot, spill: true, job);
        Assert.True(spilled.Code == 0, spilled.Err);
        Assert.True(registry.Diagnostics.SpillRepartitions > 0, "the time split was meant to repartition");
        // The time column is the assigner's key, the lineage's time and an epoch feature: it stays as it is.
        Assert.Equal(["x1", "x2", "x3", "x4"], registry.Diagnostics.SpillFloat32Columns);
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("memory")).OrderBy(kv => kv.Key, StringComparer.Ordinal),
            RunOutputs.FileHashes(tmp.Combine("spilled")).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void A_float_label_stays_double_and_the_bytes_match()
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, Specials, specialAt: 17, floatLabel: true);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var (memory, _) = Convert(input, tmp.Combine("memory"), spillRoot, spill: false);
        Assert.True(memory.Code == 0, memory.Err);
        var (spilled, registry) = Convert(input, tmp.Combine("spilled"), spillRoot, spill: true);
        Assert.True(spilled.Code == 0, spilled.Err);
        Assert.Equal(["x1", "x2", "x3", "x4"], registry.Diagnostics.SpillFloat32Columns);
        Assert.Equal(RunOutputs.FileHashes(tmp.Combine("memory")).OrderBy(kv => kv.Key, StringComparer.Ordinal),
            RunOutputs.FileHashes(tmp.Combine("spilled")).OrderBy(kv => kv.Key, StringComparer.Ordinal));
        // The run record (the report's label figures come from the doubles) is the same either way.
        var expected = RunOutputs.ComparableRecordOf(tmp.Combine("memory"), "memory");
        var actual = RunOutputs.ComparableRecordOf(tmp.Combine("spilled"), "memory");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(expected, actual), $"run records differ:\n{expected}\n---\n{actual}");
    }

    [Theory]
    [InlineData("1e300", 2500)]
    [InlineData("-3.4028236E+38", 10)]
    public void A_finite_value_beyond_float32_fails_at_the_same_row_with_the_same_message(string value, int at)
    {
        using var tmp = new TempDir();
        var input = WriteInput(tmp, $"0.5 {value} 2", specialAt: at);
        var spillRoot = Directory.CreateDirectory(tmp.Combine("spill")).FullName;
        var (memory, _) = Convert(input, tmp.Combine("memory"), spillRoot, spill: false);
        var (spilled, registry) = Convert(input, tmp.Combine("spilled"), spillRoot, spill: true);
        Assert.Equal(3, memory.Code);
        Assert.Equal(3, spilled.Code);
        Assert.True(registry.Diagnostics.Spills > 0, "the run was meant to spill");
        Assert.Contains("x4", registry.Diagnostics.SpillFloat32Columns);
        Assert.Contains("does not fit a float32 tensor", spilled.Err);
        Assert.Contains(double.Parse(value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture), spilled.Err);
        // The value's input, line, data row and column (not the row's place in its batch, which moves with the batch size).
        Assert.Contains($"{input}, line {at + 3}, row {at + 2}, column 'x4': found", spilled.Err);
        Assert.Equal(memory.Err.Replace(tmp.Combine("memory"), "OUT", StringComparison.Ordinal), spilled.Err.Replace(tmp.Combine("spilled"), "OUT", StringComparison.Ordinal));
        Assert.False(Directory.Exists(tmp.Combine("spilled")));
    }

    /// <summary>A random double, often one of the values the float32 rule treats specially.</summary>
    private static double Value(Random rng, bool outOfRange) => rng.Next(14) switch
    {
        0 => double.NaN,
        1 => BitConverter.Int64BitsToDouble(0x7FF0_0000_0000_0001L + rng.NextInt64(1L << 51)), // a NaN with a payload
        2 => -0.0,
        3 => rng.NextDouble() * 1e-40 * (rng.Next(2) * 2 - 1), // float32 subnormals and underflow
        4 => 1e-50,
        5 => float.MaxValue * (rng.Next(2) * 2 - 1.0),
        6 => double.PositiveInfinity,
        7 => double.NegativeInfinity,
        8 => double.Epsilon,
        9 => outOfRange ? 1e300 * (rng.Next(2) * 2 - 1) : 1,
        10 => rng.NextInt64(-(1L << 40), 1L << 40),
        _ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-30, 30)),
    };

    /// <summary>What the float32 writer makes of <paramref name="v"/>: its float32 bits, or null for its out-of-range error.</summary>
    private static int? Written(double v)
    {
        if (double.IsNaN(v)) return 0x7FC00000;
        float f = (float)v;
        return Float32Rule.OutOfRange(v, f) ? null : BitConverter.SingleToInt32Bits(f);
    }

    [Property(MaxTest = 40)]
    public Property Float32_columns_read_back_as_the_float32_writer_sees_them_block_by_block()
        => Prop.ForAll(Gen.Choose(1, 20_000).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), (n, seed, files) =>
        {
            using var tmp = new TempDir();
            var rng = new Random(seed);
            // Out-of-range values only in some runs and only in a few places, so some blocks are float32 and some doubles.
            int badEvery = rng.Next(2) == 0 ? int.MaxValue : rng.Next(1, 3 * BatchSpillWriter.Float32Block);
            var x = new double[n];
            var nulls = new bool[n];
            var plain = new double[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = Value(rng, outOfRange: false);
                if (i % badEvery == badEvery - 1) x[i] = 1e300 * (rng.Next(2) * 2 - 1);
                nulls[i] = rng.Next(9) == 0;
                plain[i] = Value(rng, outOfRange: true);
            }
            var schema = new Schema([new Field("x", ColumnKind.Float64), new Field("plain", ColumnKind.Float64), new Field("k", ColumnKind.Int64)]);
            var ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
            var k = Enumerable.Range(0, n).Select(i => (long)i * 3).ToArray();
            var batch = new RecordBatch(schema, [new Float64Column(x, nulls, n), new Float64Column(plain), new Int64Column(k)], n, new RowInfo(ids, new int[n], ids));
            bool[] narrow = [true, false, false];
            var fileOf = Enumerable.Range(0, n).Select(_ => rng.Next(files)).ToArray();
            var picked = Enumerable.Range(0, files).Select(f => Enumerable.Range(0, n).Where(i => fileOf[i] == f).ToArray()).ToArray();
            var writers = Enumerable.Range(0, files).Select(f => new BatchSpillWriter(tmp.Combine($"f{f}"), narrow)).ToArray();
            BatchSpillWriter.WriteSpread(batch, Enumerable.Range(0, files).Where(f => picked[f].Length > 0).Select(f => (writers[f], picked[f], picked[f])).ToList());
            foreach (var w in writers) w.Dispose();
            using (var wide = new BatchSpillWriter(tmp.Combine("wide"))) wide.Write(batch);
            using (var narrowed = new BatchSpillWriter(tmp.Combine("narrow"), narrow)) narrowed.Write(batch);
            long wideBytes = new FileInfo(tmp.Combine("wide")).Length, narrowBytes = new FileInfo(tmp.Combine("narrow")).Length;
            // Each block: a marker byte and 4 bytes a value instead of 8, unless it holds an out-of-range value.
            int blocks = (n + BatchSpillWriter.Float32Block - 1) / BatchSpillWriter.Float32Block;
            int badBlocks = Enumerable.Range(0, blocks).Count(b => x.Skip(b * BatchSpillWriter.Float32Block).Take(BatchSpillWriter.Float32Block).Any(v => Written(v) is null));
            long badValues = Enumerable.Range(0, blocks).Where(b => x.Skip(b * BatchSpillWriter.Float32Block).Take(BatchSpillWriter.Float32Block).Any(v => Written(v) is null))
                .Sum(b => (long)Math.Min(BatchSpillWriter.Float32Block, n - b * BatchSpillWriter.Float32Block));
            if (narrowBytes != wideBytes - 4L * (n - badValues) + blocks) return false.Label($"{narrowBytes} bytes narrowed, {wideBytes} wide, {badBlocks} blocks of doubles");
            for (int f = 0; f < files; f++)
            {
                if (picked[f].Length == 0) continue;
                // Every row, and every other row (a pass 3 read of one channel's rows).
                int[] some = [.. Enumerable.Range(0, picked[f].Length).Where(r => r % 2 == seed % 2)];
                foreach (var rows in new[] { null, some })
                {
                    using var reader = new BatchSpillReader(tmp.Combine($"f{f}"), schema, narrow);
                    if (!reader.ReadInts().SequenceEqual(picked[f])) return false.Label($"file {f}: positions");
                    var back = reader.Read(rows);
                    if (!reader.AtEnd) return false.Label($"file {f}: bytes left");
                    var bx = (Float64Column)back.Columns[0];
                    var bp = (Float64Column)back.Columns[1];
                    var bk = (Int64Column)back.Columns[2];
                    for (int r = 0; r < back.RowCount; r++)
                    {
                        int i = picked[f][rows?[r] ?? r];
                        if (bx.IsNull(r) != nulls[i]) return false.Label($"file {f} row {r}: null mask");
                        if (Written(bx.Values[r]) != Written(x[i])) return false.Label($"file {f} row {r}: {x[i]:R} read back as {bx.Values[r]:R}");
                        // A value the writer refuses reads back exactly (its error names it), and so do the values of its block.
                        if (Written(x[i]) is null && BitConverter.DoubleToInt64Bits(bx.Values[r]) != BitConverter.DoubleToInt64Bits(x[i])) return false.Label($"file {f} row {r}: {x[i]:R} not exact");
                        if (BitConverter.DoubleToInt64Bits(bp.Values[r]) != BitConverter.DoubleToInt64Bits(plain[i])) return false.Label($"file {f} row {r}: plain column changed");
                        if (bk.Values[r] != k[i]) return false.Label($"file {f} row {r}: k");
                    }
                }
            }
            return true.ToProperty();
        });
}
