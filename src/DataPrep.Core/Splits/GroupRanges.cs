using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Splits;

/// <summary>
/// Where a split starts in a group split over many groups (<see cref="GroupRangeWalk"/>): the first group, in the order of
/// (<c>hash(seed, "split", key)</c>, ordinal key), whose rows go to <see cref="Split"/>.
/// </summary>
internal sealed class GroupCut
{
    /// <summary>The split whose groups start at this cut (1 validation, 2 test; under group folds' ranges, the fold).</summary>
    public int Split { get; set; }

    /// <summary>The split hash of the cut's group key.</summary>
    public ulong Hash { get; set; }

    /// <summary>The cut's group key (orders groups of one hash, ordinally).</summary>
    public string Key { get; set; } = "";

    /// <summary>The split of group <paramref name="key"/> with split hash <paramref name="hash"/> under <paramref name="cuts"/> (in order).</summary>
    public static SplitTag TagOf(IReadOnlyList<GroupCut> cuts, ulong hash, string key) => (SplitTag)PartOf(cuts, hash, key);

    /// <summary>
    /// The part (split, or fold under group folds' ranges) of group <paramref name="key"/> with hash <paramref name="hash"/>
    /// (the hash the cuts were walked by) under <paramref name="cuts"/> (in order): the part of the last cut at or before it, 0 before the first.
    /// </summary>
    public static int PartOf(IReadOnlyList<GroupCut> cuts, ulong hash, string key)
    {
        ArgumentNullException.ThrowIfNull(cuts);
        int part = 0;
        for (int i = 0; i < cuts.Count; i++)
        {
            var c = cuts[i];
            if (hash < c.Hash || (hash == c.Hash && string.CompareOrdinal(key, c.Key) < 0)) break;
            part = c.Split;
        }
        return part;
    }

    /// <summary>
    /// <see cref="PartOf"/> from a group's hash alone, for a walk no two of whose groups around a cut share a hash
    /// (<see cref="GroupRangeWalk.SharedCutHash"/> false): a group whose hash equals a cut's is then that cut's group.
    /// </summary>
    public static int PartOfHash(IReadOnlyList<GroupCut> cuts, ulong hash)
    {
        int part = 0;
        for (int i = 0; i < cuts.Count; i++)
        {
            if (hash < cuts[i].Hash) break;
            part = cuts[i].Split;
        }
        return part;
    }
}

/// <summary>
/// A group split over more than <see cref="GroupSplitAssigner.ExactGroups"/> groups (not stratified): the groups in hash
/// order (<c>hash(seed, "split", key)</c>, ties by ordinal key) cut into three ranges by rows. Fed the groups one at a time
/// in that order, it decides each group's split on the spot and holds nothing per group, so the plan of a scaled-out run
/// needs no table of every group and an encode task only the two cuts (<see cref="GroupCut"/>).
/// </summary>
/// <remarks>
/// <para><b>Rule.</b> With prefix sums P_j (rows of the first j groups, P_0 = 0, P_m = N) and targets
/// T = <see cref="RandomSplitter.ExactCounts"/>(N, f): train is the first c₁ groups, where P_c₁ is the prefix nearest to
/// T_train (ties to the smaller); test starts at c₂, where P_c₂ is the prefix nearest to T_train + T_validation. A split with fraction 0 gets no group (its cut meets the previous one, or is at the end).</para>
/// <para><b>Bound.</b> Consecutive prefixes differ by one group's rows w ≤ W (the largest group), so e₁ = P_c₁ − T_train
/// and e₂ = P_c₂ − (T_train + T_validation) lie in [−w/2, w/2), the upper end open because a tie goes to the smaller
/// prefix (the nearest prefix never decreases as the target grows, so c₂ ≥ c₁ holds by itself). So train is off by |e₁| ≤ W/2, test by |e₂| ≤ W/2, validation by |e₂ − e₁| &lt; W, hence
/// ≤ W − 1 rows (integers), as the exact planner's theorem gives: every split's row fraction is within W ÷ N of its
/// target (leakage contract §3.2). With one row a group it is exact.</para>
/// </remarks>
internal sealed class GroupRangeWalk
{
    private readonly long[] _targets;
    private readonly long[] _cutAt;
    private readonly bool[] _pending;
    private readonly GroupCut?[] _cuts;
    private long _index;
    private long _prefix;
    private byte[] _largestKey = [];
    private ulong _lastHash;
    private bool _lastStartedCut;

    /// <param name="rows">The rows of all groups (N).</param>
    /// <param name="fractions">The parts' fractions: train, validation and test; or, for group folds, the folds'
    /// (<see cref="KFoldAssigner.FoldFractions"/>). Part p starts at the cut nearest to the first p parts' exact counts.</param>
    public GroupRangeWalk(long rows, IReadOnlyList<double> fractions)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        if (fractions.Count < 2) throw new ArgumentException("A walk cuts at least two parts.", nameof(fractions));
        var t = RandomSplitter.ExactCounts(rows, fractions);
        int cuts = fractions.Count - 1;
        _targets = new long[cuts];
        long sum = 0;
        for (int k = 0; k < cuts; k++) _targets[k] = sum += t[k];
        _cutAt = new long[cuts];
        Array.Fill(_cutAt, long.MaxValue);
        _pending = new bool[cuts];
        _cuts = new GroupCut?[cuts];
        TotalRows = rows;
        Rows = new long[fractions.Count];
        Groups = new long[fractions.Count];
    }

    /// <summary>The rows the walk expects in all (N).</summary>
    public long TotalRows { get; }

    /// <summary>Rows per part (split or fold) so far.</summary>
    public long[] Rows { get; }

    /// <summary>Groups per part (split or fold) so far.</summary>
    public long[] Groups { get; }

    /// <summary>The groups walked so far.</summary>
    public long Count => _index;

    /// <summary>The rows walked so far.</summary>
    public long Walked => _prefix;

    /// <summary>
    /// Whether a group that starts a cut shares its hash with the group before or after it (different keys, one 64-bit
    /// hash): then a row's part does not follow from its key's hash alone (<see cref="GroupCut.PartOfHash"/>), only from
    /// its key (<see cref="GroupCut.PartOf"/>).
    /// </summary>
    public bool SharedCutHash { get; private set; }

    /// <summary>The largest group (most rows; ties to the smaller key) so far, as its key bytes (<see cref="GroupKeySet.KeyBytes"/>' form) and rows.</summary>
    public (string Key, long Rows) Largest => (GroupKeySet.Decode(_largestKey), LargestRows);

    private long LargestRows { get; set; }

    /// <summary>
    /// The next group in hash order: its hash, key (<see cref="GroupKeySet.KeyBytes"/>' form) and rows (≥ 1). Returns its
    /// part (its split: train 0, validation 1, test 2; or its fold).
    /// </summary>
    public int Add(ulong hash, ReadOnlySpan<byte> key, long rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        long j = _index;
        int parts = _targets.Length;
        bool startsCut = false;
        for (int k = 0; k < parts; k++)
        {
            if (_pending[k])
            {
                _cuts[k] = new GroupCut { Split = k + 1, Hash = hash, Key = GroupKeySet.Decode(key) };
                _pending[k] = false;
                startsCut = true;
            }
        }
        for (int k = 0; k < parts; k++)
        {
            long target = _targets[k];
            if (_cutAt[k] != long.MaxValue || target >= _prefix + rows) continue;
            // The target lies in [P_j, P_j + rows): cut before this group or after it, whichever prefix is nearer.
            long cut = target - _prefix <= _prefix + rows - target ? j : j + 1;
            _cutAt[k] = cut;
            if (cut == j)
            {
                _cuts[k] = new GroupCut { Split = k + 1, Hash = hash, Key = GroupKeySet.Decode(key) };
                startsCut = true;
            }
            else _pending[k] = true;
        }
        if (j > 0 && hash == _lastHash && (startsCut || _lastStartedCut)) SharedCutHash = true;
        (_lastHash, _lastStartedCut) = (hash, startsCut);
        // The cuts never decrease (the nearest prefix never does as the target grows): the part is the cuts at or before j.
        int split = 0;
        while (split < parts && j >= _cutAt[split]) split++;
        Rows[split] += rows;
        Groups[split]++;
        if (rows > LargestRows || (rows == LargestRows && GroupKeySet.CompareUtf16(key, _largestKey) < 0))
        {
            LargestRows = rows;
            _largestKey = key.ToArray();
        }
        _prefix += rows;
        _index++;
        return split;
    }

    /// <summary>
    /// The most groups one table of <see cref="Plan"/> holds under a memory budget of <paramref name="budget"/> bytes: a
    /// walked partition's groups take about 100 bytes each, at most a quarter of the budget (at least 4,096, at most 2^20).
    /// </summary>
    public static int PartitionGroups(long budget) => (int)Math.Clamp(budget / 4 / 100, 1 << 12, GroupSplitAssigner.DefaultExactGroups);

    /// <summary>
    /// Walks the groups of <paramref name="runs"/> (runs of one key's rows, in any order, a key in as many runs as it likes)
    /// in hash order, in memory bounded by <paramref name="partitionGroups"/> groups whatever their number: every run goes
    /// (key bytes, rows) to one of 256 spill files by the top 8 bits of its hash (<paramref name="purpose"/>); the files, in hash order, are each
    /// counted into a table of their groups, sorted by (hash, key) and walked; a file with more than
    /// <paramref name="partitionGroups"/> groups is split again by the next 8 bits. Each file is deleted once walked.
    /// </summary>
    /// <param name="runs">The rows by key; enumerated once (its errors, such as a missing key, pass through).</param>
    /// <param name="rows">The rows in all (<see cref="TotalRows"/>).</param>
    /// <param name="fractions">The parts' fractions (train, validation and test; or the folds').</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="folder">Where the spill files go.</param>
    /// <param name="partitionGroups">The most groups one file's table holds before it is split again.</param>
    /// <param name="purpose">The hash's purpose: "split" (the split hash), or "fold" for group folds.</param>
    /// <param name="cancellationToken">Stops between files.</param>
    public static GroupRangeWalk Plan(IEnumerable<(string Key, long Rows)> runs, long rows, IReadOnlyList<double> fractions, ulong seed,
        SpillFolder folder, int partitionGroups, string purpose = "split", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return PlanEncoded(Encoded(runs), rows, fractions, seed, folder, partitionGroups, purpose, cancellationToken);

        static IEnumerable<(ReadOnlyMemory<byte> Key, long Rows)> Encoded(IEnumerable<(string Key, long Rows)> runs)
        {
            var bytes = new byte[256];
            foreach (var (key, count) in runs)
            {
                int length = GroupKeySet.Encode(key, ref bytes);
                yield return (bytes.AsMemory(0, length), count);
            }
        }
    }

    /// <summary>
    /// <see cref="Plan"/> over runs whose keys are already in <see cref="GroupKeySet.KeyBytes"/>' form (each valid until the next is asked
    /// for): a spilled run's key-run file, read without a string a run.
    /// </summary>
    public static GroupRangeWalk PlanEncoded(IEnumerable<(ReadOnlyMemory<byte> Key, long Rows)> runs, long rows, IReadOnlyList<double> fractions, ulong seed,
        SpillFolder folder, int partitionGroups, string purpose = "split", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionGroups, 1);
        var hash = new KeyedHash(seed, purpose);
        var walk = new GroupRangeWalk(rows, fractions);
        using (var files = new GroupPartitions(folder, shift: 56))
        {
            foreach (var (key, count) in runs) files.Write(GroupKeySet.HashOf(key.Span, hash), key.Span, count);
            files.Close();
            foreach (var file in files.Paths) WalkFile(file, 56);
        }
        return walk;

        void WalkFile(string file, int shift)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var set = new GroupKeySet();
            var counts = new long[1024];
            bool tooMany = false;
            using (var reader = GroupPartitions.Open(file))
            {
                foreach (var (key, count) in GroupPartitions.Records(reader))
                {
                    int id = set.Add(key.Span, out bool added);
                    if (added && set.Count > partitionGroups && shift > 0) { tooMany = true; break; }
                    if (id == counts.Length) Array.Resize(ref counts, counts.Length * 2);
                    counts[id] += count;
                }
            }
            if (!tooMany)
            {
                foreach (int id in set.HashOrder(hash)) walk.Add(set.HashOf(id, hash), set.KeyBytes(id), counts[id]);
                File.Delete(file);
                return;
            }
            set = null;
            counts = null;
            using var parts = new GroupPartitions(folder, shift - 8);
            using (var reader = GroupPartitions.Open(file))
            {
                foreach (var (key, count) in GroupPartitions.Records(reader)) parts.Write(GroupKeySet.HashOf(key.Span, hash), key.Span, count);
            }
            File.Delete(file);
            parts.Close();
            foreach (var part in parts.Paths) WalkFile(part, shift - 8);
        }
    }

    /// <summary>
    /// <see cref="Cuts"/>, for rows tagged by their keys' hashes alone (<see cref="GroupCut.PartOfHash"/>): throws when a cut's
    /// group shares its 64-bit hash with a neighbour (<see cref="SharedCutHash"/>), which those hashes cannot tell apart.
    /// </summary>
    public List<GroupCut> HashCuts()
    {
        var cuts = Cuts();
        if (SharedCutHash)
        {
            throw new InvalidOperationException($"Two group keys share one 64-bit hash at a boundary between parts (near {string.Join(", ", cuts.Select(c => Throw.Quote(c.Key)))}), "
                + "which a spilled one-process run cannot tell apart by hashes; run it without --memory, or with --workers 1, whose tasks read each row's key.");
        }
        return cuts;
    }

    /// <summary>
    /// The cuts, in order, once every group was walked: a cut at the end (no group after it) is left out, so a split that
    /// received no group at the end has none. Throws when the groups' rows do not add up to <see cref="TotalRows"/>.
    /// </summary>
    public List<GroupCut> Cuts()
    {
        if (_prefix != TotalRows) throw new InvalidOperationException($"The groups hold {_prefix:N0} rows, not {TotalRows:N0}.");
        var cuts = new List<GroupCut>(_cuts.Length);
        for (int k = 0; k < _cuts.Length; k++)
        {
            if (_cuts[k] is { } c && !_pending[k]) cuts.Add(c);
        }
        return cuts;
    }
}

/// <summary>
/// Runs of group keys (key bytes in <see cref="GroupKeySet.KeyBytes"/>' form, rows) written to 256 spill files by 8 bits of
/// their split hash (the bits from <c>shift</c>), so the files in order hold the groups in hash order.
/// </summary>
internal sealed class GroupPartitions : IDisposable
{
    private readonly BinaryWriter?[] _writers = new BinaryWriter?[256];
    private readonly string[] _paths = new string[256];
    private readonly SpillFolder _folder;
    private readonly int _shift;

    public GroupPartitions(SpillFolder folder, int shift) => (_folder, _shift) = (folder, shift);

    /// <summary>The files written, in hash order (a partition that received nothing has none).</summary>
    public IEnumerable<string> Paths => _paths.Where(p => p is not null);

    public void Write(ulong hash, ReadOnlySpan<byte> key, long rows)
    {
        int p = (int)((hash >> _shift) & 0xFF);
        var writer = _writers[p];
        if (writer is null)
        {
            _paths[p] = _folder.NewFile($"groups-{_shift}-{p:x2}");
            writer = _writers[p] = new BinaryWriter(new FileStream(_paths[p], FileMode.CreateNew, FileAccess.Write, FileShare.None, 8192));
        }
        writer.Write7BitEncodedInt(key.Length);
        writer.Write(key);
        writer.Write7BitEncodedInt64(rows);
    }

    /// <summary>Flushes and closes every file.</summary>
    public void Close()
    {
        for (int p = 0; p < _writers.Length; p++)
        {
            _writers[p]?.Dispose();
            _writers[p] = null;
        }
    }

    public void Dispose()
    {
        Close();
        foreach (var path in _paths)
        {
            if (path is not null && File.Exists(path)) File.Delete(path);
        }
    }

    public static BinaryReader Open(string path) => new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16));

    /// <summary>The file's records in written order; the key's memory is reused from record to record.</summary>
    public static IEnumerable<(ReadOnlyMemory<byte> Key, long Rows)> Records(BinaryReader reader)
    {
        var buffer = new byte[256];
        var stream = reader.BaseStream;
        // The length once: asking the file for it at every record cost a system call each.
        long end = stream.Length;
        while (stream.Position < end)
        {
            int length = reader.Read7BitEncodedInt();
            if (buffer.Length < length) buffer = new byte[Math.Max(length, buffer.Length * 2)];
            stream.ReadExactly(buffer, 0, length);
            long rows = reader.Read7BitEncodedInt64();
            yield return (buffer.AsMemory(0, length), rows);
        }
    }
}

/// <summary>
/// One spill file of runs of group keys (key bytes in <see cref="GroupKeySet.KeyBytes"/>' form, rows), in written order:
/// what a spilling one-process group split keeps of its keys once it has more groups than a table holds
/// (<see cref="IRowGroupAssigner.RangeGroups"/>), read back as runs for <see cref="GroupRangeWalk.PlanEncoded"/>.
/// </summary>
internal sealed class GroupRunsFile : IDisposable
{
    private readonly BinaryWriter _writer;
    private byte[] _last = new byte[256];
    private int _lastLength = -1;
    private long _repeat;

    public GroupRunsFile(string path)
    {
        Path = path;
        _writer = new BinaryWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16));
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Appends <paramref name="rows"/> rows of the group with key bytes <paramref name="key"/> (a row after one of the same key lengthens its run).</summary>
    public void Add(ReadOnlySpan<byte> key, long rows = 1)
    {
        if (_lastLength >= 0 && key.SequenceEqual(_last.AsSpan(0, _lastLength)))
        {
            _repeat += rows;
            return;
        }
        Flush();
        if (_last.Length < key.Length) _last = new byte[Math.Max(key.Length, 2 * _last.Length)];
        key.CopyTo(_last);
        _lastLength = key.Length;
        _repeat = rows;
    }

    /// <summary>One more row of the last run's key.</summary>
    public void Repeat()
    {
        if (_lastLength < 0) throw new InvalidOperationException("No run to lengthen.");
        _repeat++;
    }

    private void Flush()
    {
        if (_lastLength < 0) return;
        _writer.Write7BitEncodedInt(_lastLength);
        _writer.Write(_last, 0, _lastLength);
        _writer.Write7BitEncodedInt64(_repeat);
        _lastLength = -1;
    }

    /// <summary>Writes the last run and closes the file.</summary>
    public void Close()
    {
        Flush();
        _writer.Dispose();
    }

    /// <summary>The runs of <paramref name="path"/>, in written order, keys as bytes (each valid until the next is asked for).</summary>
    public static IEnumerable<(ReadOnlyMemory<byte> Key, long Rows)> Runs(string path)
    {
        using var reader = GroupPartitions.Open(path);
        foreach (var run in GroupPartitions.Records(reader)) yield return run;
    }

    public void Dispose() => _writer.Dispose();
}
