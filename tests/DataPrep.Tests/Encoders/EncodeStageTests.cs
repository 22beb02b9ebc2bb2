using DataPrep.Data;
using DataPrep.Encoders;
using DataPrep.Pipeline;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Encoders;

public class EncodeStageTests
{
    private static readonly Schema s_schema = new([new Field("label", ColumnKind.String), new Field("color", ColumnKind.String), new Field("x", ColumnKind.Float64)]);

    private static RecordBatch Batch(string?[] labels, string?[] colors, double[] xs, SplitTag[] splits)
    {
        int n = labels.Length;
        var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
        return new RecordBatch(s_schema, [new StringColumn(labels), new StringColumn(colors), new Float64Column(xs)], n,
            new RowInfo(ids, new int[n], ids.ToArray(), splits));
    }

    private static ConvertOptions Options(FeatureEncoding enc = FeatureEncoding.OneHot) => new()
    {
        Inputs = ["x.csv"], Output = "out", Label = "label",
        Encodings = new Dictionary<string, FeatureEncoding> { ["color"] = enc },
    };

    private static async Task<List<RecordBatch>> RunAsync(EncodeStage stage, RecordBatch batch)
    {
        stage.Bind(batch.Schema);
        var result = new List<RecordBatch>();
        await foreach (var b in stage.RunAsync(One(batch), new RunContext(), default)) result.Add(b);
        return result;

        static async IAsyncEnumerable<RecordBatch> One(RecordBatch b)
        {
            await Task.Yield();
            yield return b;
        }
    }

    [Fact]
    public async Task Classes_and_vocabularies_are_sorted_and_learned_from_train_only()
    {
        var batch = Batch(["b", "a", "c", "z"], ["red", "blue", "green", "violet"], [1, 2, 3, 4],
            [SplitTag.Train, SplitTag.Train, SplitTag.Validation, SplitTag.Test]);
        var stage = new EncodeStage(Options());
        var output = (await RunAsync(stage, batch)).Single();
        Assert.Equal(["a", "b"], stage.Encoding!.Label!.Classes);
        Assert.Equal(["blue", "red"], stage.Encoding.Features[0].Vocabulary);
        // Label ids: b → 1, a → 0, unseen c and z → the reserved id 2.
        Assert.Equal([1L, 0, 2, 2], ((Int64Column)output.Columns[0]).Span.ToArray());
        // One-hot: width 3 (blue, red, unseen); green and violet go to the unseen column.
        var onehot = (SparseColumn)output.Columns[1];
        Assert.Equal(3, onehot.Width);
        Assert.Equal([1, 0, 2, 2], onehot.Indices);
    }

    [Fact]
    public async Task Ordinal_maps_unseen_values_to_the_reserved_code()
    {
        var batch = Batch(["a", "a", "b"], ["red", "blue", "pink"], [1, 2, 3], [SplitTag.Train, SplitTag.Train, SplitTag.Test]);
        var output = (await RunAsync(new EncodeStage(Options(FeatureEncoding.Ordinal)), batch)).Single();
        Assert.Equal([1L, 0, 2], ((Int64Column)output.Columns[1]).Span.ToArray());
    }

    /// <summary>Leakage contract 6: whatever validation/test rows hold, the learned maps are the same.</summary>
    [Property(MaxTest = 100)]
    public Property Encoders_never_see_validation_or_test_values(NonEmptyArray<byte> values, byte[] splitBytes, string[] others)
    {
        int n = values.Get.Length;
        var splits = Enumerable.Range(0, n).Select(i => (SplitTag)(i < splitBytes.Length ? splitBytes[i] % 3 : 0)).ToArray();
        splits[0] = SplitTag.Train;
        string?[] labels = values.Get.Select(v => $"L{v % 4}").ToArray();
        string?[] colors = values.Get.Select(v => $"C{v % 7}").ToArray();
        var original = Batch(labels, colors, new double[n], splits);
        // Replace every non-train value with something else.
        var labels2 = labels.ToArray();
        var colors2 = colors.ToArray();
        for (int i = 0; i < n; i++)
        {
            if (splits[i] == SplitTag.Train) continue;
            var o = others.Length > 0 ? others[i % others.Length] ?? "null" : "other";
            labels2[i] = "X" + o;
            colors2[i] = "Y" + o;
        }
        var changed = Batch(labels2, colors2, new double[n], splits);
        var a = new EncodeStage(Options());
        var b = new EncodeStage(Options());
        RunAsync(a, original).GetAwaiter().GetResult();
        RunAsync(b, changed).GetAwaiter().GetResult();
        return (a.Encoding!.Label!.Classes!.SequenceEqual(b.Encoding!.Label!.Classes!)
                && a.Encoding.Features[0].Vocabulary!.SequenceEqual(b.Encoding.Features[0].Vocabulary!)).ToProperty();
    }

    [Fact]
    public async Task Fill_mean_uses_train_rows_only()
    {
        var schema = new Schema([new Field("y", ColumnKind.Int64), new Field("x", ColumnKind.Float64)]);
        var ids = new long[] { 1, 2, 3, 4 };
        var batch = new RecordBatch(schema, [new Int64Column([1, 0, 1, 0]), new Float64Column([2, double.NaN, 4, 1000])], 4,
            new RowInfo(ids, new int[4], ids, [SplitTag.Train, SplitTag.Train, SplitTag.Train, SplitTag.Test]));
        var stage = new EncodeStage(new ConvertOptions { Inputs = ["x"], Output = "o", Label = "y", Missing = MissingPolicy.Fill, FillValue = "mean" });
        var output = (await RunAsync(stage, batch)).Single();
        Assert.Equal("3", stage.Encoding!.Features[0].Fill);
        Assert.Equal([2.0, 3, 4, 1000], ((Float64Column)output.Columns[1]).Span.ToArray());
    }
}
