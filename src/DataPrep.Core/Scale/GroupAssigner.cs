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
/// by the row's side as the run's own <see cref="NoisyCleanAssigner"/> tells it. The order is left to the split stage
/// (shuffle hash or input order), as one process's group and noisy/clean splits leave it.
/// </summary>
/// <param name="groupColumn">The group key column.</param>
/// <param name="splits">The split of every group's clean and noisy rows, by key (both the same for a group split).</param>
/// <param name="noisy">A noisy/clean split's own assigner (which rows are noisy), or null for a group split.</param>
/// <param name="bucket">What the assigner splits, for <see cref="Describe"/>.</param>
internal sealed class GroupAssigner(string groupColumn, IReadOnlyDictionary<string, GroupSplits> splits, NoisyCleanAssigner? noisy, string bucket) : ISplitAssigner
{
    private int _groupIndex = -1;

    /// <inheritdoc />
    public string Describe() => $"{(noisy is null ? "group" : "noisy/clean")} split of {bucket} by {groupColumn}, decided by the plan";

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
        string? last = null;
        var tag = default(GroupSplits);
        for (int i = 0; i < tags.Length; i++)
        {
            if (noisy is null && column.IsNull(i))
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
        }
        return new SplitAssignment(tags);
    }
}

/// <summary>The split of a group's clean rows and of its noisy rows (a group split: both its split).</summary>
internal readonly record struct GroupSplits(SplitTag Clean, SplitTag Noisy);

/// <summary>
/// The plan's group → split table as a work object (<see cref="PlanKind.Groups"/>, <see cref="PlanKind.NoisyGroups"/>): the
/// groups in ordinal key order, each a length-prefixed UTF-8 key and two split bytes (its clean rows', its noisy rows'),
/// after a count. The plan's report carries the count and the object's hash, so
/// an encode task never tags by a table another plan wrote.
/// </summary>
internal static class GroupSplitsObject
{
    public const string Key = "group-splits";

    /// <summary>Writes the split of every group of <paramref name="table"/> to <paramref name="path"/>; returns what the report records of it.</summary>
    public static GroupSplitsInfo Write(GroupTable table, IReadOnlyList<SplitTag> clean, IReadOnlyList<SplitTag> noisy, string path)
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
            }
        }
        return new GroupSplitsInfo { Groups = order.Length, Hash = HashOf(path) };
    }

    /// <summary>The table as a dictionary (the plan's own fit pass tags by it as encode tasks do).</summary>
    public static Dictionary<string, GroupSplits> ToDictionary(GroupTable table, IReadOnlyList<SplitTag> clean, IReadOnlyList<SplitTag> noisy)
    {
        var splits = new Dictionary<string, GroupSplits>(table.Count, StringComparer.Ordinal);
        for (int g = 0; g < table.Count; g++) splits[table.Keys[g]] = new GroupSplits(clean[g], noisy[g]);
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
            splits.Add(key, new GroupSplits(clean, (SplitTag)reader.ReadByte()));
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
    public string Hash { get; set; } = "";
}
