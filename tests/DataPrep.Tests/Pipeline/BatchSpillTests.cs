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
}

