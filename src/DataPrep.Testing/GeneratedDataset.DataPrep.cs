using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Testing;

public sealed partial class GeneratedDataset
{
    private const long RowMask = (1L << 40) - 1;

    /// <summary>
    /// The DataPrep schema of the dataset: <c>id</c> Int64, <c>group</c> String, <c>timestamp</c> Timestamp,
    /// <c>label</c> String, then <c>f0</c>, <c>f1</c>, … Float64.
    /// </summary>
    public Schema Schema
    {
        get
        {
            var fields = new List<Field>
            {
                new(IdColumn, ColumnKind.Int64),
                new(GroupColumn, ColumnKind.String),
                new(TimeColumn, ColumnKind.Timestamp),
                new(LabelColumn, ColumnKind.String),
            };
            for (int f = 0; f < FeatureCount; f++) fields.Add(new Field(FeatureColumn(f), ColumnKind.Float64));
            return new Schema(fields);
        }
    }

    /// <summary>
    /// All rows as one <see cref="RecordBatch"/> of <see cref="Schema"/>. Row info comes from the ids: row id =
    /// <see cref="GeneratedRow.Id"/>, source = id &gt;&gt; 40, source row = the low 40 bits.
    /// </summary>
    public RecordBatch ToRecordBatch() => Batch(0, Count);

    /// <summary>
    /// The rows cut into batches of at most <paramref name="batchRows"/> rows, in order — to check that a stage's
    /// result does not depend on batch boundaries. An empty dataset gives one empty batch, so a schema still
    /// reaches the stage.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchRows"/> is less than 1.</exception>
    public IReadOnlyList<RecordBatch> ToRecordBatches(int batchRows = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRows, 1);
        if (Count == 0) return [Batch(0, 0)];
        var batches = new List<RecordBatch>();
        for (int start = 0; start < Count; start += batchRows) batches.Add(Batch(start, Math.Min(batchRows, Count - start)));
        return batches;
    }

    /// <summary>
    /// The dataset as the <see cref="SplitInput"/> a split assigner sees (positions 0…Count−1 in row order),
    /// built from batches of at most <paramref name="batchRows"/> rows.
    /// </summary>
    /// <remarks>
    /// <see cref="SplitInput"/> has no public constructor, so this runs a <see cref="SplitStage"/> over the
    /// batches with an assigner that captures its input and drops every row. It completes synchronously.
    /// </remarks>
    public SplitInput ToSplitInput(int batchRows = int.MaxValue)
    {
        var capture = new CapturingAssigner();
        var stage = new SplitStage(capture, seed: 0, shuffle: false);
        stage.Bind(Schema);
        Drain(stage.RunAsync(ToAsync(ToRecordBatches(batchRows)), new RunContext(), CancellationToken.None));
        return capture.Captured ?? throw new InvalidOperationException("The split stage did not call its assigner; DataPrep.Core changed how SplitStage works.");
    }

    /// <summary>
    /// Binds <paramref name="assigner"/> to <see cref="Schema"/> and lets it tag every row, as the split stage would.
    /// Tags are by position: <c>Tags[i]</c> belongs to <c>Rows[i]</c>.
    /// </summary>
    /// <exception cref="PipelineValidationException">The assigner's options do not fit the schema.</exception>
    public SplitAssignment Assign(ISplitAssigner assigner, int batchRows = int.MaxValue, RunContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(assigner);
        assigner.Bind(Schema);
        var input = ToSplitInput(batchRows);
        return assigner.Assign(input, context ?? new RunContext());
    }

    /// <summary>
    /// Runs the whole <see cref="SplitStage"/> (assign, order, gather) over the dataset and returns the batches it
    /// emits, each tagged with its split in <c>Rows.Splits</c>. Read them with <see cref="SplitView.FromBatches{T}"/>.
    /// </summary>
    public IReadOnlyList<RecordBatch> RunSplitStage(ISplitAssigner assigner, ulong seed = 0, bool shuffle = true, int inputBatchRows = int.MaxValue, int outputBatchRows = 65_536, RunContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(assigner);
        var stage = new SplitStage(assigner, seed, shuffle, outputBatchRows);
        stage.Bind(Schema);
        return Drain(stage.RunAsync(ToAsync(ToRecordBatches(inputBatchRows)), context ?? new RunContext(), CancellationToken.None));
    }

    /// <summary>
    /// The selected value of every row, grouped by split in train, validation, test order (rows tagged
    /// <see cref="SplitTag.None"/> are left out): the input of the <see cref="Leakage"/> checks.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="tags"/> does not have one tag per row.</exception>
    public (string Name, IEnumerable<T> Items)[] SplitBy<T>(IReadOnlyList<SplitTag> tags, Func<GeneratedRow, T> select)
    {
        ArgumentNullException.ThrowIfNull(select);
        if (tags.Count != Count) throw new ArgumentException($"{tags.Count} tags for {Count} rows; expected one tag per row.", nameof(tags));
        return SplitView.ByTag(Rows.Select(select).ToArray(), tags);
    }

    /// <summary>The selected value of the rows tagged <see cref="SplitTag.None"/> (dropped), in row order.</summary>
    public T[] DroppedBy<T>(IReadOnlyList<SplitTag> tags, Func<GeneratedRow, T> select)
    {
        ArgumentNullException.ThrowIfNull(select);
        if (tags.Count != Count) throw new ArgumentException($"{tags.Count} tags for {Count} rows; expected one tag per row.", nameof(tags));
        return SplitView.Dropped(Rows.Select(select).ToArray(), tags);
    }

    private RecordBatch Batch(int start, int n)
    {
        var ids = new long[n];
        var sources = new int[n];
        var sourceRows = new long[n];
        var groups = new string?[n];
        var times = new long[n];
        var labels = new string?[n];
        var features = new double[FeatureCount][];
        for (int f = 0; f < FeatureCount; f++) features[f] = new double[n];
        for (int i = 0; i < n; i++)
        {
            var r = Rows[start + i];
            ids[i] = r.Id;
            sources[i] = (int)(r.Id >> 40);
            sourceRows[i] = r.Id & RowMask;
            groups[i] = r.Group;
            times[i] = r.Timestamp.Ticks;
            labels[i] = r.Label;
            for (int f = 0; f < FeatureCount; f++) features[f][i] = r.Features[f];
        }
        var columns = new List<Column>
        {
            new Int64Column(ids.ToArray()),
            new StringColumn(groups),
            new TimestampColumn(times, null, n),
            new StringColumn(labels),
        };
        foreach (var f in features) columns.Add(new Float64Column(f));
        return new RecordBatch(Schema, columns, n, new RowInfo(ids, sources, sourceRows));
    }

#pragma warning disable CS1998 // an async iterator over data already in memory
    private static async IAsyncEnumerable<RecordBatch> ToAsync(IEnumerable<RecordBatch> batches)
    {
        foreach (var b in batches) yield return b;
    }
#pragma warning restore CS1998

    /// <summary>Runs an async stream that completes synchronously (all our inputs are in memory) to the end.</summary>
    private static List<RecordBatch> Drain(IAsyncEnumerable<RecordBatch> stream)
    {
        var result = new List<RecordBatch>();
        var e = stream.GetAsyncEnumerator();
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) result.Add(e.Current);
        }
        finally
        {
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return result;
    }

    /// <summary>Remembers the <see cref="SplitInput"/> it is given and drops every row.</summary>
    private sealed class CapturingAssigner : ISplitAssigner
    {
        public SplitInput? Captured { get; private set; }

        public string Describe() => "capture input (DataPrep.Testing)";

        public void Bind(Schema input) { }

        public SplitAssignment Assign(SplitInput input, RunContext context)
        {
            Captured = input;
            var tags = new SplitTag[input.Count];
            Array.Fill(tags, SplitTag.None);
            return new SplitAssignment(tags);
        }
    }
}
