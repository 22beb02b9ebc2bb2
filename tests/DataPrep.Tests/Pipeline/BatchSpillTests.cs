using DataPrep.Data;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// The split's spill files: writing a batch's rows spread over many files column by column across the files
/// (<see cref="BatchSpillWriter.WriteSpread"/>) gives each file exactly the bytes of writing its rows file by file, and
/// those bytes read back as the picked rows.
/// </summary>
public class BatchSpillTests
{
    private static RecordBatch Batch(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n];
        var xNulls = new bool[n];
        var k = new long[n];
        var t = new long[n];
        var b = new bool[n];
        var s = new string?[n];
        var offsets = new int[n + 1];
        var indices = new List<int>();
        var values = new List<double>();
        for (int i = 0; i < n; i++)
        {
            x[i] = rng.NextDouble() * 100 - 50;
            xNulls[i] = rng.Next(7) == 0;
            k[i] = rng.NextInt64(long.MinValue, long.MaxValue);
            t[i] = rng.NextInt64(0, 3_000_000_000_000_000);
            b[i] = rng.Next(2) == 0;
            s[i] = rng.Next(5) == 0 ? null : new string((char)('a' + rng.Next(26)), rng.Next(0, 6)) + "é";
            for (int j = 0; j < 6; j++)
            {
                if (rng.Next(3) != 0) continue;
                indices.Add(j);
                values.Add(rng.Next(1, 9));
            }
            offsets[i + 1] = indices.Count;
        }
        var schema = new Schema([new Field("x", ColumnKind.Float64), new Field("k", ColumnKind.Int64), new Field("t", ColumnKind.Timestamp),
            new Field("b", ColumnKind.Boolean), new Field("s", ColumnKind.String), new Field("v", ColumnKind.Sparse, 6)]);
        var ids = Enumerable.Range(0, n).Select(i => 1000L + i).ToArray();
        var rows = new RowInfo(ids, new int[n], ids) { Folds = Enumerable.Range(0, n).Select(i => (short)(i % 3)).ToArray(), GroupKeys = s };
        return new RecordBatch(schema, [new Float64Column(x, xNulls, n), new Int64Column(k), new TimestampColumn(t, null, n), new BooleanColumn(b),
            new StringColumn(s), new SparseColumn(6, offsets, [.. indices], [.. values], n)], n, rows);
    }

    [Property(MaxTest = 40)]
    public Property Spread_writes_give_each_file_the_bytes_of_file_by_file_writes()
        => Prop.ForAll(Gen.Choose(1, 300).ToArbitrary(), Gen.Choose(1, 9).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), (n, files, seed) =>
        {
            using var tmp = new TempDir();
            var batch = Batch(n, seed);
            var rng = new Random(seed + 1);
            var fileOf = Enumerable.Range(0, n).Select(_ => rng.Next(files)).ToArray();
            var picked = Enumerable.Range(0, files).Select(f => Enumerable.Range(0, n).Where(i => fileOf[i] == f).ToArray()).ToArray();
            var spread = Enumerable.Range(0, files).Select(f => new BatchSpillWriter(tmp.Combine($"spread-{f}"))).ToArray();
            var each = Enumerable.Range(0, files).Select(f => new BatchSpillWriter(tmp.Combine($"each-{f}"))).ToArray();
            // Files that get no row of the batch are left out, as the split leaves them out.
            var parts = Enumerable.Range(0, files).Where(f => picked[f].Length > 0).Select(f => (spread[f], picked[f].Select(i => 7 * i).ToArray(), picked[f])).ToList();
            BatchSpillWriter.WriteSpread(batch, parts);
            foreach (var (writer, positions, rows) in parts.Select(p => (each[Array.IndexOf(spread, p.Item1)], p.Item2, p.Item3)))
            {
                writer.WriteInts(positions);
                writer.Write(batch, rows);
            }
            foreach (var w in spread.Concat(each)) w.Dispose();
            for (int f = 0; f < files; f++)
            {
                var a = File.ReadAllBytes(tmp.Combine($"spread-{f}"));
                if (!a.AsSpan().SequenceEqual(File.ReadAllBytes(tmp.Combine($"each-{f}")))) return false.Label($"file {f} differs");
                if (picked[f].Length == 0) continue;
                using var reader = new BatchSpillReader(tmp.Combine($"spread-{f}"), batch.Schema);
                var positions = reader.ReadInts();
                var back = reader.Read(null);
                if (!positions.SequenceEqual(picked[f].Select(i => 7 * i))) return false.Label($"file {f}: positions");
                if (!back.Rows.RowIds.Take(back.RowCount).SequenceEqual(picked[f].Select(i => batch.Rows.RowIds[i]))) return false.Label($"file {f}: row ids");
                var x = (Float64Column)back.Columns[0];
                for (int r = 0; r < back.RowCount; r++)
                {
                    int i = picked[f][r];
                    if (x.IsNull(r) != batch.Columns[0].IsNull(i)) return false.Label($"file {f} row {r}: null mask");
                    if (!x.IsNull(r) && x.Values[r] != ((Float64Column)batch.Columns[0]).Values[i]) return false.Label($"file {f} row {r}: x");
                    if (((StringColumn)back.Columns[4]).Values[r] != ((StringColumn)batch.Columns[4]).Values[i]) return false.Label($"file {f} row {r}: s");
                }
            }
            return true.ToProperty();
        });

    /// <summary>Values whose float32 is itself or a rounding, never beyond float32's range or a non-zero rounded to zero.</summary>
    private static readonly double[] Edges = [0, -0.0, 0.1, -1.5, 16777217, 1e-40, -1.401298464324817E-45, 3.4028234663852886E+38, 123456.789];

    /// <summary>
    /// Float columns x and y, an integer label k, and, beside them, each row's values as float32 as the CSV source keeps
    /// them (<see cref="RawRecords.Float32"/>: <c>(float)</c> of each value; empty for row <paramref name="noImageAt"/>).
    /// </summary>
    private static (RecordBatch WithImages, RecordBatch Without) Float32Batch(int n, int seed, int noImageAt)
    {
        var rng = new Random(seed);
        double Value() => rng.Next(4) == 0 ? Edges[rng.Next(Edges.Length)] : (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 9));
        var x = Enumerable.Range(0, n).Select(_ => Value()).ToArray();
        var y = Enumerable.Range(0, n).Select(_ => Value()).ToArray();
        var k = Enumerable.Range(0, n).Select(_ => (long)rng.Next(-3, 4)).ToArray();
        var schema = new Schema([new Field("k", ColumnKind.Int64), new Field("x", ColumnKind.Float64), new Field("y", ColumnKind.Float64)]);
        var images = new ReadOnlyMemory<byte>[n];
        for (int r = 0; r < n; r++)
        {
            if (r == noImageAt) continue;
            var image = new byte[12];
            BitConverter.TryWriteBytes(image.AsSpan(0), (float)k[r]);
            BitConverter.TryWriteBytes(image.AsSpan(4), (float)x[r]);
            BitConverter.TryWriteBytes(image.AsSpan(8), (float)y[r]);
            images[r] = image;
        }
        var ids = Enumerable.Range(0, n).Select(i => 500L + i).ToArray();
        RecordBatch Make() => new(schema, [new Int64Column(k), new Float64Column(x), new Float64Column(y)], n, new RowInfo(ids, new int[n], ids));
        var with = Make();
        with = new RecordBatch(with.Schema, with.Columns, n, with.Rows) { Raw = new RawRecords(["k", "x", "y"], new ReadOnlyMemory<byte>[n], images) };
        return (with, Make());
    }

    [Property(MaxTest = 60)]
    public Property Float32_columns_spill_from_the_rows_kept_float32_values_with_the_bytes_of_their_doubles()
        => Prop.ForAll(Gen.Choose(1, 300).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), Gen.Choose(0, 19).ToArbitrary(), (n, seed, filesAndMode) =>
        {
            int files = 1 + filesAndMode % 5, mode = filesAndMode / 5;
            // mode 0: every row has float32 values (taken from them); 1: one row has none (the doubles are narrowed);
            // 2: y is not a float32 column; 3: the batch's names differ from the values' (the doubles again).
            using var tmp = new TempDir();
            var (with, without) = Float32Batch(n, seed, mode == 1 ? seed % n : -1);
            if (mode == 3) with = new RecordBatch(with.Schema, with.Columns, n, with.Rows) { Raw = new RawRecords(["k", "y", "x"], with.Raw!.Records, with.Raw.Float32) };
            bool[] float32 = [false, true, mode != 2];
            using (var taken = Float32Images.Take(with, float32))
            {
                if ((taken is not null) != (mode is 0 or 2)) return false.Label($"images taken: {taken is not null}");
                if (taken is not null && (taken.Has(0) || !taken.Has(1) || taken.Has(2) != (mode != 2))) return false.Label("columns taken");
            }
            var rng = new Random(seed + 1);
            var fileOf = Enumerable.Range(0, n).Select(_ => rng.Next(files)).ToArray();
            var picked = Enumerable.Range(0, files).Select(f => Enumerable.Range(0, n).Where(i => fileOf[i] == f).ToArray()).ToArray();
            foreach (var (name, batch) in new[] { ("with", with), ("without", without) })
            {
                var writers = Enumerable.Range(0, files).Select(f => new BatchSpillWriter(tmp.Combine($"{name}-{f}"), float32)).ToArray();
                BatchSpillWriter.WriteSpread(batch, Enumerable.Range(0, files).Where(f => picked[f].Length > 0).Select(f => (writers[f], picked[f], picked[f])).ToList());
                using (var whole = new BatchSpillWriter(tmp.Combine($"{name}-whole"), float32)) whole.Write(batch);
                foreach (var w in writers) w.Dispose();
            }
            foreach (var file in Enumerable.Range(0, files).Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("whole"))
            {
                if (!File.ReadAllBytes(tmp.Combine($"with-{file}")).AsSpan().SequenceEqual(File.ReadAllBytes(tmp.Combine($"without-{file}")))) return false.Label($"file {file} differs");
            }
            using var reader = new BatchSpillReader(tmp.Combine("with-whole"), with.Schema, float32);
            var back = reader.Read(null);
            for (int r = 0; r < n; r++)
            {
                if (((Float64Column)back.Columns[1]).Values[r] != (float)((Float64Column)with.Columns[1]).Values[r]) return false.Label($"row {r}: x");
            }
            return true.ToProperty();
        });

    [Property(MaxTest = 60)]
    public Property Rows_placed_as_float32_values_hold_what_placing_doubles_gives_narrowed()
        => Prop.ForAll(Gen.Choose(1, 300).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), (n, seed, batches) =>
        {
            // One file (spread over output batches of 1..n rows in shuffled order) read twice: as doubles, and as images.
            using var tmp = new TempDir();
            var (with, without) = Float32Batch(n, seed, -1);
            bool[] float32 = [false, true, true];
            using (var writer = new BatchSpillWriter(tmp.Combine("file"), float32))
            {
                writer.Write(seed % 2 == 0 ? with : without);
                if (!writer.Float32Finite) return false.Label("finite values not seen as finite");
            }
            var rng = new Random(seed);
            var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
            int batchRows = (n + batches - 1) / batches;
            var slot = order.Select(o => o / batchRows).ToArray();
            var offset = order.Select(o => o % batchRows).ToArray();
            // A row of another channel (slot −1) is skipped by both.
            if (n > 1) slot[seed % n] = -1;
            List<PlacedRows> Window(bool[]? asImage) => Enumerable.Range(0, (n + batchRows - 1) / batchRows).Select(b => new PlacedRows(with.Schema, Math.Min(batchRows, n - b * batchRows), null, asImage)).ToList();
            var doubles = Window(null);
            var images = Window(float32);
            var byValue = Window(float32);
            using (var reader = new BatchSpillReader(tmp.Combine("file"), with.Schema, float32)) reader.ReadPlaced(slot, offset, doubles, times: false);
            // A batch read whole, then row by row; and (a batch larger than the reader transposes) a value at a time.
            using (var reader = new BatchSpillReader(tmp.Combine("file"), with.Schema, float32)) reader.ReadPlaced(slot, offset, images, times: false);
            using (var reader = new BatchSpillReader(tmp.Combine("file"), with.Schema, float32) { MaxTransposedValues = 0 }) reader.ReadPlaced(slot, offset, byValue, times: false);
            for (int b = 0; b < images.Count; b++)
            {
                for (int r = 0; r < images[b].Count; r++)
                {
                    // Rows of another channel are left as allocated (uninitialized): only placed rows compare.
                    int i = Array.FindIndex(order, o => o == b * batchRows + r);
                    if (slot[i] < 0) continue;
                    if (!images[b].Image.AsSpan(12 * r, 12).SequenceEqual(byValue[b].Image.AsSpan(12 * r, 12))) return false.Label($"batch {b} row {r}: transposed and by value differ");
                    if (((long[])images[b].Columns[0]!)[r] != ((long[])byValue[b].Columns[0]!)[r]) return false.Label($"batch {b} row {r}: k by value");
                }
            }
            for (int i = 0; i < n; i++)
            {
                if (slot[i] < 0) continue;
                var a = doubles[slot[i]].ToBatch(with.Schema, SplitTag.Train);
                var b = images[slot[i]].ToBatch(with.Schema, SplitTag.Train, ["k", "x", "y"]);
                int o = offset[i];
                if (b.Raw is not { Float32: { } kept } raw || !raw.Matches(b.Schema) || !raw.Records[o].IsEmpty) return false.Label("no float32 values");
                var image = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(kept[o].Span);
                if (((Int64Column)b.Columns[0]).Values[o] != ((Int64Column)a.Columns[0]).Values[o] || image[0] != (float)(double)((Int64Column)a.Columns[0]).Values[o]) return false.Label($"row {i}: k");
                for (int c = 1; c < 3; c++)
                {
                    double placed = ((Float64Column)a.Columns[c]).Values[o];
                    if (BitConverter.SingleToInt32Bits(image[c]) != BitConverter.SingleToInt32Bits((float)placed)) return false.Label($"row {i}: column {c}'s image");
                    // One value before the column is computed, then the whole column.
                    if (BitConverter.DoubleToInt64Bits(((Float64Column)b.Columns[c]).ValueAt(o)) != BitConverter.DoubleToInt64Bits(placed)) return false.Label($"row {i}: column {c} read alone");
                    if (BitConverter.DoubleToInt64Bits(((Float64Column)b.Columns[c]).Values[o]) != BitConverter.DoubleToInt64Bits(placed)) return false.Label($"row {i}: column {c} widened");
                    if (BitConverter.SingleToInt32Bits((float)placed) != BitConverter.SingleToInt32Bits((float)((Float64Column)with.Columns[c]).Values[i])) return false.Label($"row {i}: column {c} is not the row's");
                }
            }
            return true.ToProperty();
        });

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(1e300)]
    public void A_file_with_a_value_that_is_not_a_finite_float32_is_not_placed_as_float32_values(double value)
    {
        using var tmp = new TempDir();
        var (_, without) = Float32Batch(50, 3, -1);
        ((Float64Column)without.Columns[2]).Values[40] = value;
        using var writer = new BatchSpillWriter(tmp.Combine("file"), [false, true, true]);
        writer.Write(without, [.. Enumerable.Range(0, 30)]);
        Assert.True(writer.Float32Finite);
        writer.Write(without);
        Assert.False(writer.Float32Finite);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_value_that_is_not_finite_among_the_rows_float32_values_is_seen_whole_and_spread(float value)
    {
        // The rows' own float32 values are written straight into the file's buffer (a few rows a file when spread); the
        // check that they are finite goes with them.
        using var tmp = new TempDir();
        var (with, _) = Float32Batch(50, 3, -1);
        ((Float64Column)with.Columns[2]).Values[40] = value;
        var image = with.Raw!.Float32![40].ToArray();
        BitConverter.TryWriteBytes(image.AsSpan(8), value);
        with.Raw.Float32[40] = image;
        bool[] float32 = [false, true, true];
        using (var whole = new BatchSpillWriter(tmp.Combine("whole"), float32))
        {
            whole.Write(with, [.. Enumerable.Range(0, 30)]);
            Assert.True(whole.Float32Finite);
            whole.Write(with);
            Assert.False(whole.Float32Finite);
        }
        using var a = new BatchSpillWriter(tmp.Combine("a"), float32);
        using var b = new BatchSpillWriter(tmp.Combine("b"), float32);
        BatchSpillWriter.WriteSpread(with, [(a, [0, 1, 2], [0, 1, 2]), (b, [40, 41], [40, 41])]);
        Assert.True(a.Float32Finite);
        Assert.False(b.Float32Finite);
    }

    [Fact]
    public void Rows_placed_as_float32_values_from_a_file_of_many_small_batches_match_placing_them_a_value_at_a_time()
    {
        // A file of batches of a few rows (what a shuffled spill of wide rows leaves in each of its files), larger than the
        // reader's 64 KiB buffer: its blocks lie whole in the buffer or across a refill, at every alignment.
        using var tmp = new TempDir();
        bool[] float32 = [false, true, true];
        var sizes = new List<int>();
        using (var writer = new BatchSpillWriter(tmp.Combine("file"), float32))
        {
            for (int k = 0; writer.Length < 200_000; k++)
            {
                int n = 1 + k % 7;
                var (with, _) = Float32Batch(n, k, -1);
                writer.Write(with);
                sizes.Add(n);
            }
        }
        Assert.True(sizes.Count > 500, $"{sizes.Count} batches");
        var schema = Float32Batch(1, 0, -1).WithImages.Schema;
        using var transposed = new BatchSpillReader(tmp.Combine("file"), schema, float32);
        using var byValue = new BatchSpillReader(tmp.Combine("file"), schema, float32) { MaxTransposedValues = 0 };
        for (int k = 0; k < sizes.Count; k++)
        {
            int n = sizes[k];
            var slot = new int[n];
            var offset = Enumerable.Range(0, n).Reverse().ToArray();
            var one = new List<PlacedRows> { new(schema, n, null, float32) };
            var other = new List<PlacedRows> { new(schema, n, null, float32) };
            transposed.ReadPlaced(slot, offset, one, times: false);
            byValue.ReadPlaced(slot, offset, other, times: false);
            Assert.True(one[0].Image.AsSpan(0, 12 * n).SequenceEqual(other[0].Image.AsSpan(0, 12 * n)), $"batch {k} of {n} rows");
            var (expected, _) = Float32Batch(n, k, -1);
            for (int r = 0; r < n; r++)
            {
                float x = System.Runtime.InteropServices.MemoryMarshal.Read<float>(one[0].Image.AsSpan(12 * offset[r] + 4));
                Assert.Equal(BitConverter.SingleToInt32Bits((float)((Float64Column)expected.Columns[1]).Values[r]), BitConverter.SingleToInt32Bits(x));
            }
        }
        Assert.True(transposed.AtEnd);
    }

    [Fact]
    public void A_temp_file_replaces_a_file_at_its_path_and_holds_only_what_is_written()
    {
        using var tmp = new TempDir();
        var path = tmp.File("spill", "an earlier, longer file's bytes");
        using (var file = TempFile.Create(path, 16)) file.Write("new"u8);
        Assert.Equal("new", File.ReadAllText(path));
        File.Delete(path);
        using (var file = TempFile.Create(path, 16)) file.Write("fresh"u8);
        Assert.Equal("fresh", File.ReadAllText(path));
    }

    private static Gen<string?> SpillStrings() => Gen.Frequency(
        (4, Gen.Elements<string?>("red", "green", "blue", "", "v17", "ünïcode", "a\u00e9", "x")),
        (2, from n in Gen.Choose(0, 80) from c in Gen.Choose('a', 'z') select (string?)new string((char)c, n)),
        (1, Gen.Constant<string?>(null)),
        (1, from n in Gen.Choose(60, 70) select (string?)("\uD83D\uDE00" + new string('q', n))),
        (1, from c in Gen.Choose(0, 0x7F) select (string?)((char)c).ToString()));

    /// <summary>
    /// A string column read back from a spill (through <see cref="Utf8StringCache"/>) holds the written values, nulls and
    /// empty strings included, whatever their length or alphabet, in rows and across batches; a value that repeats within a
    /// read comes back as one object when it is ASCII of at most 64 bytes (a category column's 1,000 values stay 1,000
    /// objects, not one a row), unless another value took its slot in between.
    /// </summary>
    [Property(MaxTest = 200)]
    public Property Strings_read_back_are_the_values_written_and_repeats_share_one_object()
        => Prop.ForAll(Gen.ListOf(SpillStrings()).Select(l => l.ToArray()).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (values, batches) =>
        {
            using var tmp = new TempDir();
            var schema = new Schema([new Field("s", ColumnKind.String)]);
            int n = values.Length;
            var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
            var batch = new RecordBatch(schema, [new StringColumn(values)], n, new RowInfo(ids, new int[n], ids));
            using (var writer = new BatchSpillWriter(tmp.Combine("spill")))
            {
                for (int b = 0; b < batches; b++) writer.Write(batch);
            }
            using var reader = new BatchSpillReader(tmp.Combine("spill"), schema);
            var back = new List<string?>();
            for (int b = 0; b < batches; b++) back.AddRange(((StringColumn)reader.Read().Columns[0]).Values.Take(n));
            bool same = back.SequenceEqual(Enumerable.Range(0, batches).SelectMany(_ => values), StringComparer.Ordinal);
            // Consecutive equal short ASCII values: nothing came between them, so the second is the first's object.
            bool shared = Enumerable.Range(1, back.Count - 1 < 0 ? 0 : back.Count - 1)
                .Where(i => back[i] is { Length: > 0 and <= 64 } v && System.Text.Ascii.IsValid(v) && back[i - 1] == v)
                .All(i => ReferenceEquals(back[i], back[i - 1]));
            return (same && shared).Label($"same={same} shared={shared}");
        });
    [Property(MaxTest = 60)]
    public Property A_text_spill_gives_back_each_rows_text_and_the_other_columns_values()
        => Prop.ForAll(Gen.Choose(1, 300).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), (n, seed, batches) =>
        {
            // y (values) and two columns the rows' text carries (placeholders once read); rows of 1..90 bytes of text, some
            // long enough that a text arena array holds few of them. Read three ways: whole, picked rows, placed.
            using var tmp = new TempDir();
            var rng = new Random(seed);
            var schema = new Schema([new Field("y", ColumnKind.Int64), new Field("a", ColumnKind.Float64), new Field("b", ColumnKind.Float64)]);
            var y = Enumerable.Range(0, n).Select(_ => rng.NextInt64(-9, 9)).ToArray();
            var texts = Enumerable.Range(0, n).Select(i => (ReadOnlyMemory<byte>)System.Text.Encoding.ASCII.GetBytes($"{y[i]},{new string('7', rng.Next(0, 80))},{i}")).ToArray();
            string[] names = ["y", "a", "b"];
            var ids = Enumerable.Range(0, n).Select(i => 500L + i).ToArray();
            var batch = new RecordBatch(schema, [new Int64Column(y), new Float64Column(new double[n]), new Float64Column(new double[n])], n, new RowInfo(ids, new int[n], ids))
            { Raw = new RawRecords(names, texts) };
            bool[] text = [false, true, true];
            var picked = Enumerable.Range(0, n).Where(i => rng.Next(3) != 0).ToArray();
            using (var writer = new BatchSpillWriter(tmp.Combine("file"), textColumns: text))
            {
                writer.Write(batch);
                if (!writer.FixedWidthOnly) return false.Label("the text made the file not fixed-width");
            }
            using (var reader = new BatchSpillReader(tmp.Combine("file"), schema, textColumns: text, textNames: names))
            {
                var all = reader.Read();
                if (!ReferenceEquals(all.Raw?.FieldNames, names)) return false.Label("the text's field names are not the array given");
                if (all.Columns[1] is not SpilledColumn || all.Columns[2] is not SpilledColumn) return false.Label("a text column came back with values");
                if (!((Int64Column)all.Columns[0]).Span.SequenceEqual(y)) return false.Label("y differs");
                for (int i = 0; i < n; i++) if (!all.Raw!.Records[i].Span.SequenceEqual(texts[i].Span)) return false.Label($"row {i}'s text differs");
            }
            using (var reader = new BatchSpillReader(tmp.Combine("file"), schema, textColumns: text))
            {
                var some = reader.Read(picked);
                if (some.RowCount != picked.Length) return false.Label("picked rows: wrong count");
                for (int k = 0; k < picked.Length; k++)
                {
                    if (!some.Raw!.Records[k].Span.SequenceEqual(texts[picked[k]].Span)) return false.Label($"picked row {picked[k]}'s text differs");
                    if (((Int64Column)some.Columns[0]).Values[k] != y[picked[k]]) return false.Label($"picked row {picked[k]}'s y differs");
                }
            }
            var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
            int batchRows = (n + batches - 1) / batches;
            var slot = order.Select(o => o / batchRows).ToArray();
            var offset = order.Select(o => o % batchRows).ToArray();
            if (n > 1) slot[seed % n] = -1;
            var window = Enumerable.Range(0, (n + batchRows - 1) / batchRows).Select(b => new PlacedRows(schema, Math.Min(batchRows, n - b * batchRows), text, null, texts: true)).ToList();
            using (var reader = new BatchSpillReader(tmp.Combine("file"), schema, textColumns: text)) reader.ReadPlaced(slot, offset, window, times: false);
            for (int i = 0; i < n; i++)
            {
                if (slot[i] < 0) continue;
                var into = window[slot[i]];
                if (!into.Texts![offset[i]].Span.SequenceEqual(texts[i].Span)) return false.Label($"placed row {i}'s text differs");
                if (((long[])into.Columns[0]!)[offset[i]] != y[i]) return false.Label($"placed row {i}'s y differs");
                if (into.Columns[1] is not null || into.Columns[2] is not null) return false.Label("a text column was given values' arrays");
            }
            var placed = window[0].ToBatch(schema, SplitTag.Train, names);
            return (placed.Raw is { } raw && ReferenceEquals(raw.FieldNames, names) && placed.Columns[1] is SpilledColumn).Label("a placed batch carries its text and placeholders");
        });
}

