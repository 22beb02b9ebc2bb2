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
/// <param name="splits">The split of every group's clean and noisy rows, by key (both the same for a group split), and its fold.</param>
/// <param name="noisy">A noisy/clean split's own assigner (which rows are noisy), or null for a group split.</param>
/// <param name="bucket">What the assigner splits, for <see cref="Describe"/>.</param>
/// <param name="folds">Whether the table holds group folds (each group's fold besides its split).</param>
internal sealed class GroupAssigner(string groupColumn, GroupSplitsTable splits, NoisyCleanAssigner? noisy, string bucket, bool folds = false) : IRowLocalAssigner
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
                tag = splits.TryGet(key, out var s) ? s
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
/// The plan's group → split (and fold) table in memory, as the plan's fit pass and every encode task look rows up in it:
/// the keys as <see cref="GroupKeySet"/> (their bytes in an arena, an open-addressing index) and per key number its clean
/// rows' split, its noisy rows' split and its fold, about 20–28 bytes a group beyond the key's text (issue 16; a
/// <c>Dictionary&lt;string, GroupSplits&gt;</c> took about 100 besides the key's string).
/// </summary>
internal sealed class GroupSplitsTable
{
    private readonly GroupKeySet _keys;
    private readonly SplitTag[] _clean;
    private readonly SplitTag[] _noisy;
    private readonly short[]? _folds;

    /// <param name="keys">The groups' keys.</param>
    /// <param name="clean">Each key's clean rows' split (a group split: its split), by key number.</param>
    /// <param name="noisy">Each key's noisy rows' split (a group split: its split), by key number.</param>
    /// <param name="folds">Each key's fold (−1: a test group), by key number, or null without folds.</param>
    public GroupSplitsTable(GroupKeySet keys, SplitTag[] clean, SplitTag[] noisy, short[]? folds)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (clean.Length < keys.Count || noisy.Length < keys.Count || (folds is not null && folds.Length < keys.Count)) throw new ArgumentException("Every group needs its splits (and fold).");
        (_keys, _clean, _noisy, _folds) = (keys, clean, noisy, folds);
    }

    /// <summary>The number of groups.</summary>
    public int Count => _keys.Count;

    /// <summary>Bytes held (keys, index, splits and folds).</summary>
    public long Bytes => _keys.Bytes + _clean.Length * 2L + (_folds?.Length ?? 0) * 2L;

    /// <summary>The splits and fold of group <paramref name="key"/>, or false when the plan did not decide it.</summary>
    public bool TryGet(string key, out GroupSplits splits)
    {
        int g = _keys.IndexOf(key);
        splits = g < 0 ? default : new GroupSplits(_clean[g], _noisy[g], _folds?[g] ?? -1);
        return g >= 0;
    }

    /// <summary>
    /// Writes the table to <paramref name="path"/> as <see cref="GroupSplitsObject"/> describes: the groups in ordinal key
    /// order, each key as <see cref="BinaryWriter.Write(string)"/> writes it (length prefix, UTF-8), its two split bytes and
    /// with folds its fold, after the count. Returns what the report records of it.
    /// </summary>
    public GroupSplitsInfo Write(string path)
    {
        var order = new int[_keys.Count];
        for (int g = 0; g < order.Length; g++) order[g] = g;
        Array.Sort(order, _keys.Compare);
        using (var file = File.Create(path))
        using (var writer = new BinaryWriter(file, new UTF8Encoding(false, true)))
        {
            writer.Write((long)order.Length);
            foreach (int g in order)
            {
                // A key with an unpaired surrogate fails here as a strict UTF-8 writer fails on its string.
                if (_keys.IsValid(g)) writer.Write(_keys.Entry(g));
                else writer.Write(_keys.KeyOf(g));
                writer.Write((byte)_clean[g]);
                writer.Write((byte)_noisy[g]);
                if (_folds is not null) writer.Write(_folds[g]);
            }
        }
        return new GroupSplitsInfo { Groups = order.Length, Folds = _folds is not null, Hash = GroupSplitsObject.HashOf(path) };
    }
}

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

    /// <summary>Reads the table back into the compact form (<see cref="GroupSplitsTable"/>), checking it is the one <paramref name="info"/> describes.</summary>
    public static GroupSplitsTable Read(string path, GroupSplitsInfo info, string who)
    {
        if (HashOf(path) != info.Hash) throw new PipelineValidationException($"{who}: the plan's group table is not the one its report describes (another plan wrote it); run step {ScaleStep.Plan} again.");
        using var file = new BufferedStream(File.OpenRead(path), 1 << 16);
        using var reader = new BinaryReader(file, new UTF8Encoding(false, true));
        long count = reader.ReadInt64();
        if (count < 0 || count >= int.MaxValue) throw Corrupt();
        int n = (int)count;
        var keys = new GroupKeySet(n);
        var clean = new SplitTag[n];
        var noisy = new SplitTag[n];
        var folds = info.Folds ? new short[n] : null;
        var buffer = new byte[256];
        for (int g = 0; g < n; g++)
        {
            int length = reader.Read7BitEncodedInt();
            if (length < 0) throw Corrupt();
            if (buffer.Length < length) buffer = new byte[Math.Max(length, buffer.Length * 2)];
            var bytes = buffer.AsSpan(0, length);
            reader.BaseStream.ReadExactly(bytes);
            if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw Corrupt();
            if (keys.Add(bytes, out bool added) != g || !added) throw Corrupt();
            clean[g] = (SplitTag)reader.ReadByte();
            noisy[g] = (SplitTag)reader.ReadByte();
            if (folds is not null) folds[g] = reader.ReadInt16();
        }
        return new GroupSplitsTable(keys, clean, noisy, folds);

        PipelineValidationException Corrupt() => new($"{who}: the plan's group table is not well formed; run step {ScaleStep.Plan} again.");
    }

    internal static string HashOf(string path)
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
