using DataPrep.Data;

namespace DataPrep.Testing;

/// <summary>
/// Turns a split result — per-row tags, or the tagged batches a split stage emits — into the
/// "values by split" lists the <see cref="Leakage"/> checks take: train, validation, test, in that order.
/// </summary>
/// <example>
/// <code>
/// var output = dataset.RunSplitStage(new RandomSplitAssigner([0.8, 0.1, 0.1], seed, null));
/// Leakage.IsPartition(dataset.Ids, SplitView.RowIds(output));
/// Leakage.NoGroupOverlap(SplitView.FromBatches(output, (b, i) => RandomSplitAssigner.KeyOf(b["group"], i)));
/// </code>
/// </example>
public static class SplitView
{
    /// <summary>
    /// The values grouped by their row's tag, as (name, values) for train, validation and test — all three,
    /// possibly empty. Values tagged <see cref="SplitTag.None"/> are left out (see <see cref="Dropped{T}"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, or a tag is not a split.</exception>
    public static (string Name, IEnumerable<T> Items)[] ByTag<T>(IReadOnlyList<T> values, IReadOnlyList<SplitTag> tags)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(tags);
        if (values.Count != tags.Count) throw new ArgumentException($"{values.Count} values but {tags.Count} tags; expected one tag per value.", nameof(tags));
        var lists = NewLists<T>();
        for (int i = 0; i < values.Count; i++)
        {
            if (tags[i] == SplitTag.None) continue;
            IndexOf(tags[i], i).Add(values[i]);
        }
        return Named(lists);

        List<T> IndexOf(SplitTag tag, int row) => (int)tag < lists.Length
            ? lists[(int)tag]
            : throw new ArgumentException($"Tag {row} is {tag} ({(int)tag}), which is not a split.", nameof(tags));
    }

    /// <summary>The values whose tag is <see cref="SplitTag.None"/> (dropped rows), in order.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static T[] Dropped<T>(IReadOnlyList<T> values, IReadOnlyList<SplitTag> tags)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(tags);
        if (values.Count != tags.Count) throw new ArgumentException($"{values.Count} values but {tags.Count} tags; expected one tag per value.", nameof(tags));
        var dropped = new List<T>();
        for (int i = 0; i < values.Count; i++) if (tags[i] == SplitTag.None) dropped.Add(values[i]);
        return dropped.ToArray();
    }

    /// <summary>
    /// A value of every row of the batches, grouped by the split each row is tagged with
    /// (<c>batch.Rows.Splits</c>), in batch and row order within a split.
    /// </summary>
    /// <param name="batches">Batches a split stage emitted.</param>
    /// <param name="value">The value of row <c>i</c> of a batch, e.g. <c>(b, i) =&gt; b.Rows.RowIds[i]</c>.</param>
    /// <exception cref="ArgumentException">A batch has no split tags, or a row is tagged <see cref="SplitTag.None"/>.</exception>
    public static (string Name, IEnumerable<T> Items)[] FromBatches<T>(IEnumerable<RecordBatch> batches, Func<RecordBatch, int, T> value)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(value);
        var lists = NewLists<T>();
        int b = 0;
        foreach (var batch in batches)
        {
            var tags = batch.Rows.Splits ?? throw new ArgumentException($"Batch {b} (0-based) has no split tags; pass the batches a split stage emitted.", nameof(batches));
            for (int i = 0; i < batch.RowCount; i++)
            {
                if ((int)tags[i] >= lists.Length) throw new ArgumentException($"Row {i} of batch {b} (row id {batch.Rows.RowIds[i]}) is tagged {tags[i]}; a split stage emits only train, validation and test rows.", nameof(batches));
                lists[(int)tags[i]].Add(value(batch, i));
            }
            b++;
        }
        return Named(lists);
    }

    /// <summary>The stable row ids of the batches by split: <c>FromBatches(batches, (b, i) =&gt; b.Rows.RowIds[i])</c>.</summary>
    public static (string Name, IEnumerable<long> Items)[] RowIds(IEnumerable<RecordBatch> batches)
        => FromBatches(batches, (b, i) => b.Rows.RowIds[i]);

    private static List<T>[] NewLists<T>() => SplitNames.All.Select(_ => new List<T>()).ToArray();

    private static (string Name, IEnumerable<T> Items)[] Named<T>(List<T>[] lists)
        => SplitNames.All.Select(s => (s.Name(), (IEnumerable<T>)lists[(int)s])).ToArray();
}
