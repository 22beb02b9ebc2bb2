using System.Globalization;
using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.RecordIO;
using DataPrep.Sources;
using DataPrep.Tests.Formats;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.RecordIO;

/// <summary>
/// RecordIO-protobuf reads a row's numbers from the text the CSV source kept (FormatTraits.ReadsKeptText) instead of the
/// gathered columns: the bytes must be exactly those of the values parsed while reading, for every dtype and layout,
/// including rows whose text was formatted at read time ("1e5") or not kept at all (NaN, a missing value).
/// </summary>
public class RecordIOKeptTextTests
{
    /// <summary>Every record of the file, each batch's rows gathered in reverse across two batches as the shuffle does.</summary>
    /// <remarks>
    /// <paramref name="float32Only"/>: the float columns other than the label are read only as float32
    /// (<see cref="Float32OnlyColumns"/>), so rows kept as float32 keep no text.
    /// </remarks>
    internal static async Task<(byte[] Bytes, bool SawText, string? Error)> EncodeAllAsync(string path, bool keepText, RecordIOOptions options, bool float32 = false, string label = "y", int batchRows = 5, Float32OnlyColumns? float32Only = null)
    {
        var source = new CsvSource(path, new SourceOptions { KeepRawRecords = keepText, KeepFloat32 = float32, ValueColumns = [label], BatchRows = batchRows, NonFinite = NonFinitePolicy.Keep, Float32Only = float32Only });
        var batches = new List<RecordBatch>();
        await foreach (var batch in source.ReadAsync(0)) batches.Add(batch);
        var part = new List<int>();
        var row = new List<int>();
        for (int b = batches.Count - 1; b >= 0; b--)
        {
            for (int r = batches[b].RowCount - 1; r >= 0; r--) { part.Add(b); row.Add(r); }
        }
        var gathered = RecordBatch.Gather(batches, [.. part], [.. row], null, defer: true);
        var format = new RecordIOProtobufFormat(hasLabel: true, options);
        var bytes = new MemoryStream();
        try
        {
            for (int start = 0; start < gathered.RowCount; start += 3)
            {
                var chunk = format.Format(gathered, start, Math.Min(3, gathered.RowCount - start));
                bytes.Write(chunk.Data, 0, chunk.Length);
                chunk.Release();
            }
        }
        catch (DataFormatException e)
        {
            return ([], gathered.Raw is not null, e.Message);
        }
        return (bytes.ToArray(), gathered.Raw is not null, null);
    }

    private static readonly Gen<string> Field = Gen.OneOf(
        RawRecordsTests.NumberText.Where(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && !t.Contains(' ') && RawRecordsTests.ReadByInferredFloat(t)),
        Gen.Elements("0", "0.1", "16777217", "0.30000001192092896", "3.4028235e38", "1e39", "-2.5", "0.00001", "1e5", "NaN", "", "7"));

    [Property(MaxTest = 60)]
    public Property Records_from_kept_text_equal_records_from_the_parsed_values()
        => Prop.ForAll(Gen.ListOf(Field).Where(l => l.Count >= 8).ToArbitrary(), Gen.Choose(0, 5).ToArbitrary(), (values, mode) =>
        {
            // An integer label column and three feature columns; inference makes each Int64 or Float64.
            var lines = new List<string> { "y,a,b,c" };
            for (int i = 0; i + 2 < values.Count; i += 3) lines.Add($"{i % 4},{values[i]},{values[i + 1]},{values[i + 2]}");
            var options = mode switch
            {
                0 => new RecordIOOptions(),
                1 => new RecordIOOptions(Features: TensorType.Float64, Label: TensorType.Float64),
                2 => new RecordIOOptions(Sparse: true),
                3 => new RecordIOOptions(Label: TensorType.Int32, Uid: true, Metadata: true),
                4 => new RecordIOOptions(Escape: true, Features: TensorType.Float64),
                _ => new RecordIOOptions(Features: TensorType.Int32, Sparse: true),
            };
            var path = Path.Combine(Path.GetTempPath(), $"kept-{Guid.NewGuid():N}.csv");
            File.WriteAllLines(path, lines);
            try
            {
                var fromText = EncodeAllAsync(path, keepText: true, options).GetAwaiter().GetResult();
                var fromValues = EncodeAllAsync(path, keepText: false, options).GetAwaiter().GetResult();
                // Values kept as float32 beside the text (parsed once while reading): the writer copies them when it writes float32.
                var fromImage = EncodeAllAsync(path, keepText: true, options, float32: true).GetAwaiter().GetResult();
                if (fromValues.SawText) return false.Label("text kept without KeepRawRecords");
                if (fromText.Error != fromValues.Error) return false.Label($"errors differ: '{fromText.Error}' vs '{fromValues.Error}'");
                if (fromImage.Error != fromValues.Error) return false.Label($"errors differ: '{fromImage.Error}' (float32 kept) vs '{fromValues.Error}'");
                // Float32 dtypes (the only run that reads the features only as float32): rows kept as float32 alone, no text.
                if (mode == 0)
                {
                    var float32Only = new Float32OnlyColumns { Names = new HashSet<string> { "a", "b", "c" } };
                    var fromImageOnly = EncodeAllAsync(path, keepText: true, options, float32: true, float32Only: float32Only).GetAwaiter().GetResult();
                    if (fromImageOnly.Error != fromValues.Error) return false.Label($"errors differ: '{fromImageOnly.Error}' (float32 alone) vs '{fromValues.Error}'");
                    if (!fromImageOnly.Bytes.AsSpan().SequenceEqual(fromValues.Bytes)) return false.Label($"float32 alone\n{string.Join("\n", lines)}\n{Convert.ToHexString(fromImageOnly.Bytes)}\nvs\n{Convert.ToHexString(fromValues.Bytes)}");
                }
                return (fromText.Bytes.AsSpan().SequenceEqual(fromValues.Bytes) && fromImage.Bytes.AsSpan().SequenceEqual(fromValues.Bytes))
                    .Label($"{string.Join("\n", lines)}\n{Convert.ToHexString(fromText.Bytes)}\nand float32 kept\n{Convert.ToHexString(fromImage.Bytes)}\nvs\n{Convert.ToHexString(fromValues.Bytes)}");
            }
            finally
            {
                File.Delete(path);
            }
        });

    [Fact]
    public async Task W1_like_rows_are_read_from_their_text_and_give_the_column_bytes()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "w1.csv");
        var text = new StringBuilder("label,f0,f1,f2\n");
        text.Append("3,0.555964881,-1.40005,1041.83\n7,-21.1,0.00110831,951.3246\n0,259.75,0.1,16777217\n");
        text.Append("1,0.30000001192092896,1e-05,2.50\n");
        await File.WriteAllTextAsync(path, text.ToString());
        var fromText = await EncodeAllAsync(path, keepText: true, new RecordIOOptions());
        var fromValues = await EncodeAllAsync(path, keepText: false, new RecordIOOptions());
        Assert.True(fromText.SawText);
        Assert.Null(fromText.Error);
        Assert.Equal(Convert.ToHexString(fromValues.Bytes), Convert.ToHexString(fromText.Bytes));
        // 16777217 is not a float32: the record holds 16777216, rounded once from the double, as numpy's astype does.
        Assert.Contains("0000804B", Convert.ToHexString(fromText.Bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_kept_as_float32_alone_keep_no_text_and_read_back_as_their_float32()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "w1.csv");
        // Row 3 holds a value float32 cannot hold as itself (1e-50 rounds to zero): it keeps its text and its doubles.
        await File.WriteAllTextAsync(path, "y,a,b\n1,0.1,2.5\n2,16777217,-0.3\n3,1e-50,7\n0,0.0000123,1041.83\n");
        async Task<List<RecordBatch>> ReadAsync(Float32OnlyColumns? float32Only, bool keepText)
        {
            var source = new CsvSource(path, new SourceOptions { KeepRawRecords = keepText, KeepFloat32 = keepText, ValueColumns = ["y"], BatchRows = 3, Float32Only = float32Only });
            var batches = new List<RecordBatch>();
            await foreach (var batch in source.ReadAsync(0)) batches.Add(batch);
            return batches;
        }
        var values = await ReadAsync(null, keepText: false);
        var notAll = new Float32OnlyColumns { Names = new HashSet<string> { "a" } };
        var partial = await ReadAsync(notAll, keepText: true);
        var imageOnly = new Float32OnlyColumns { Names = new HashSet<string> { "a", "b" } };
        var alone = await ReadAsync(imageOnly, keepText: true);
        Assert.Equal(3, imageOnly.RowsWithoutText);
        Assert.Equal(0, notAll.RowsWithoutText);
        for (int b = 0; b < values.Count; b++)
        {
            var raw = alone[b].Raw!;
            for (int r = 0; r < values[b].RowCount; r++)
            {
                bool float32Alone = raw.Records[r].IsEmpty && !raw.Float32![r].IsEmpty;
                Assert.Equal(!(b == 0 && r == 2), float32Alone);
                for (int c = 1; c <= 2; c++)
                {
                    double value = ((Float64Column)values[b].Columns[c]).Values[r];
                    // Row by row (a deferred gather) and the whole column (a spill) give the same value.
                    double one = ((Float64Column)alone[b].Columns[c]).ValueAt(r);
                    double all = ((Float64Column)alone[b].Columns[c]).Values[r];
                    Assert.Equal(float32Alone ? (double)(float)value : value, one);
                    Assert.Equal(one, all);
                }
                Assert.Equal(((Int64Column)values[b].Columns[0]).Values[r], ((Int64Column)alone[b].Columns[0]).Values[r]);
            }
        }
        // Not every float column outside the value columns is read only as float32: every row keeps its text.
        Assert.All(partial.SelectMany(b => b.Raw!.Records), r => Assert.False(r.IsEmpty));

        // A run expected to spill (Float32AloneOnly): the same rows alone where the columns allow it, nothing otherwise.
        async Task<List<RecordBatch>> SpillingAsync(Float32OnlyColumns? float32Only)
        {
            var source = new CsvSource(path, new SourceOptions { KeepRawRecords = true, KeepFloat32 = true, Float32AloneOnly = true, ValueColumns = ["y"], BatchRows = 3, Float32Only = float32Only });
            var batches = new List<RecordBatch>();
            await foreach (var batch in source.ReadAsync(0)) batches.Add(batch);
            return batches;
        }
        var spilling = await SpillingAsync(new Float32OnlyColumns { Names = new HashSet<string> { "a", "b" } });
        Assert.Equal(alone.SelectMany(b => b.Raw!.Float32!).Select(m => m.ToArray()), spilling.SelectMany(b => b.Raw!.Float32!).Select(m => m.ToArray()));
        Assert.Equal(alone.SelectMany(b => b.Raw!.Records).Select(m => m.ToArray()), spilling.SelectMany(b => b.Raw!.Records).Select(m => m.ToArray()));
        foreach (var names in new[] { null, new HashSet<string> { "a" } })
        {
            var parsed = await SpillingAsync(names is null ? null : new Float32OnlyColumns { Names = names });
            Assert.All(parsed, b => Assert.Null(b.Raw));
            Assert.Equal(values.SelectMany(b => ((Float64Column)b.Columns[2]).Span.ToArray()), parsed.SelectMany(b => ((Float64Column)b.Columns[2]).Span.ToArray()));
        }
    }
}
