using System.IO.Hashing;
using System.Text;
using DataPrep.Data;
using DataPrep.Pipeline;
using DataPrep.Splits;

namespace DataPrep.Scale;

/// <summary>
/// A group split as the plan step decided it (<see cref="PlanKind.Groups"/>): each row's split is its group's, looked up by
/// the row's group key (<see cref="RandomSplitAssigner.KeyOf"/>), the same tag <see cref="GroupSplitAssigner"/> gives it over
/// all rows. A noisy/clean split by group (<see cref="PlanKind.NoisyGroups"/>): the split of the group's clean or noisy rows,
/// by the row's side as the run's own <see cref="NoisyCleanAssigner"/> tells it. Group folds (<see cref="PlanKind.GroupFolds"/>,
/// <paramref name="folds"/>): the split (train or test) and the fold of the row's group; a row without a key is in the group
/// one process counts such rows in (<see cref="RandomSplitAssigner.KeyOf"/>), since group folds without a test split
/// accept it (with a group test split the plan stopped at it). The order is left to the split stage
/// (shuffle hash or input order), as one process's group and noisy/clean splits and folds leave it.
/// </summary>
/// <param name="groupColumn">The group key column.</param>
/// <param name="splits">The split of every group's clean and noisy rows, by key (both the same for a group split).</param>
/// <param name="noisy">A noisy/clean split's own assigner (which rows are noisy), or null for a group split.</param>
/// <param name="bucket">What the assigner splits, for <see cref="Describe"/>.</param>
/// <param name="folds">Whether the table holds group folds (each group's fold besides its split).</param>
internal sealed class GroupAssigner(string groupColumn, IReadOnlyDictionary<string, GroupSplits> splits, NoisyCleanAssigner? noisy, string bucket, bool folds = false) : ISplitAssigner
{
    private int _groupIndex = -1;

    /// <inheritdoc />
    public string Describe() => $"{(folds ? "group folds" : noisy is null ? "group split" : "noisy/clean split")} of {bucket} by {groupColumn}, decided by the plan";

    /// <inheritdoc />
    public void Bind(Schema input)
    {
        _groupIndex = input.IndexOf(groupColumn);
        if (_groupIndex < 0) throw new InvalidOperationException($"The plan's group column '{groupColumn}' is not a column of the split's input.");
        noisy?.Bind(input);
    }

    /// <summary>Only the group column (and the noisy column) besides row ids, so the split stage can spill every other column under a memory budget.</summary>
    public IReadOnlyCollection<int>? KeyColumns => noisy is null ? [_groupIndex] : [.. noisy.KeyColumns!.Append(_groupIndex).Distinct()];

    /// <inheritdoc />
    public SplitAssignment Assign(SplitInput input, RunContext context)
    {
        var column = input.Column(input.Schema.IndexOf(groupColumn));
        var noisyRows = noisy?.NoisyRows(input, context);
        var tags = new SplitTag[input.Count];
        var rowFolds = folds ? new short[input.Count] : null;
        string? last = null;
        var tag = default(GroupSplits);
        for (int i = 0; i < tags.Length; i++)
        {
            if (noisy is null && !folds && column.IsNull(i))
            {
                throw new PipelineValidationException($"{bucket}: a row has no key in --group column '{groupColumn}', though the plan step read every key; the work area mixes runs. Run scan, plan and encode again with the same arguments.");
            }
            var key = RandomSplitAssigner.KeyOf(column, i);
            if (!string.Equals(key, last, StringComparison.Ordinal))
            {
                tag = splits.TryGetValue(key, out var s) ? s
                    : throw new PipelineValidationException($"{bucket}: a row of group '{key}' in --group column '{groupColumn}' is not among the groups the plan step decided; the rows changed after the scan step. Run the scan step again.");
                last = key;
            }
            tags[i] = noisyRows is not null && noisyRows[i] ? tag.Noisy : tag.Clean;
            if (rowFolds is not null) rowFolds[i] = tag.Fold;
        }
        if (rowFolds is null) return new SplitAssignment(tags);
        // Every fold trains on all the others, as one process's group folds tell the sink.
        context.ForwardChainingFolds = false;
        return new SplitAssignment(tags, Folds: rowFolds);
    }
}

/// <summary>
/// The split of a group's clean rows and of its noisy rows (a group split: both its split), and under group folds the
/// group's fold (−1 for a test group or when there are no folds).
/// </summary>
internal readonly record struct GroupSplits(SplitTag Clean, SplitTag Noisy, short Fold = -1);

/// <summary>
/// The plan's group → split table as a work object (<see cref="PlanKind.Groups"/>, <see cref="PlanKind.NoisyGroups"/>): the
/// groups in ordinal key order, each a length-prefixed UTF-8 key and two split bytes (its clean rows', its noisy rows'),
/// and under group folds (<see cref="PlanKind.GroupFolds"/>) its fold as a 16-bit integer after them, after a count. The
/// plan's report carries the count, whether folds are present and the object's hash, so an encode task never tags by a
/// table another plan wrote.
/// </summary>
internal static class GroupSplitsObject
{
    public const string Key = "group-splits";

    /// <summary>
    /// Writes the split (and with <paramref name="folds"/> the fold) of every group of <paramref name="table"/> to
    /// <paramref name="path"/>; returns what the report records of it.
    /// </summary>
    public static GroupSplitsInfo Write(GroupTable table, IReadOnlyList<SplitTag> clean, IReadOnlyList<SplitTag> noisy, IReadOnlyList<short>? folds, string path)
    {
        var order = Enumerable.Range(0, table.Count).ToArray();
        Array.Sort(order, (a, b) => string.CompareOrdinal(table.Keys[a], table.Keys[b]));
        using (var file = File.Create(path))
        using (var writer = new BinaryWriter(file, new UTF8Encoding(false, true)))
        {
            writer.Write((long)order.Length);
            foreach (int g in order)
            {
                writer.Write(table.Keys[g]);
                writer.Write((byte)clean[g]);
                writer.Write((byte)noisy[g]);
                if (folds is not null) writer.Write(folds[g]);
            }
        }
        return new GroupSplitsInfo { Groups = order.Length, Folds = folds is not null, Hash = HashOf(path) };
    }

    /// <summary>The table as a dictionary (the plan's own fit pass tags by it as encode tasks do).</summary>
    public static Dictionary<string, GroupSplits> ToDictionary(GroupTable table, IReadOnlyList<SplitTag> clean, IReadOnlyList<SplitTag> noisy, IReadOnlyList<short>? folds)
    {
        var splits = new Dictionary<string, GroupSplits>(table.Count, StringComparer.Ordinal);
        for (int g = 0; g < table.Count; g++) splits[table.Keys[g]] = new GroupSplits(clean[g], noisy[g], folds?[g] ?? -1);
        return splits;
    }

    /// <summary>Reads the table back, checking it is the one <paramref name="info"/> describes.</summary>
    public static Dictionary<string, GroupSplits> Read(string path, GroupSplitsInfo info, string who)
    {
        if (HashOf(path) != info.Hash) throw new PipelineValidationException($"{who}: the plan's group table is not the one its report describes (another plan wrote it); run step {ScaleStep.Plan} again.");
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file, new UTF8Encoding(false, true));
        long count = reader.ReadInt64();
        var splits = new Dictionary<string, GroupSplits>((int)Math.Min(count, int.MaxValue), StringComparer.Ordinal);
        for (long g = 0; g < count; g++)
        {
            string key = reader.ReadString();
            var clean = (SplitTag)reader.ReadByte();
            var noisy = (SplitTag)reader.ReadByte();
            splits.Add(key, new GroupSplits(clean, noisy, info.Folds ? reader.ReadInt16() : (short)-1));
        }
        return splits;
    }

    private static string HashOf(string path)
    {
        var hash = new XxHash3();
        using var file = File.OpenRead(path);
        hash.Append(file);
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }
}

/// <summary>What the plan's report records of its group table (<see cref="GroupSplitsObject"/>).</summary>
internal sealed class GroupSplitsInfo
{
    public long Groups { get; set; }

    /// <summary>Whether each group's fold follows its split bytes (<see cref="PlanKind.GroupFolds"/>).</summary>
    public bool Folds { get; set; }

    public string Hash { get; set; } = "";
}
