using System.Collections;
using System.Runtime.InteropServices;
using DataPrep.Data;

namespace DataPrep.Splits;

/// <summary>
/// What a group split decides from (<see cref="GroupSplitAssigner.Decide"/>): every group key with its rows, and when
/// stratified its rows per class (<see cref="RandomSplitAssigner.KeyOf"/> keys). Built row by row or batch by batch in any
/// order, and merged from tables of other shares of the rows: the decision and the report depend only on its contents,
/// never on the order rows or tables came in. Memory grows with the groups (and the (group, class) pairs), not the rows.
/// </summary>
/// <remarks>
/// Compact (issue 16): the keys are held once, as bytes, in <see cref="GroupKeySet"/> (about 20–28 bytes a group beyond the
/// key's text), the rows in an array (8 bytes a group), and when stratified each group's one class (4 bytes a group);
/// only a group with rows of more than one class keeps its (group, class) counts in a map (about 40 bytes a pair). Keys
/// are never merged by a hash collision: two keys are one group only when their text is.
/// </remarks>
/// <param name="stratified">Whether the table counts each group's rows per class.</param>
public sealed class GroupTable(bool stratified)
{
    private readonly GroupKeySet _keys = new();
    private long[] _rows = new long[4];
    private readonly Dictionary<string, int> _classIds = new(StringComparer.Ordinal);
    private readonly List<string> _classes = [];
    private int[] _onlyClass = stratified ? new int[4] : [];
    private readonly PairCounts _mixed = new();

    /// <summary>A table whose key index hashes with <paramref name="hasher"/> (tests force collisions with a poor one).</summary>
    internal GroupTable(bool stratified, GroupKeySet.Hasher hasher) : this(stratified) => _keys = new GroupKeySet(0, hasher);

    /// <summary>Whether the table counts rows per class.</summary>
    public bool Stratified => stratified;

    /// <summary>The number of groups.</summary>
    public int Count => _keys.Count;

    /// <summary>All rows counted.</summary>
    public long TotalRows { get; private set; }

    /// <summary>The group keys, in the table's own (first-appearance) numbering.</summary>
    /// <remarks>Each access decodes the key into a new string; the decisions read <see cref="GroupKeySet"/>' bytes instead.</remarks>
    public IReadOnlyList<string> Keys => new KeyList(_keys);

    /// <summary>The rows of each group (the table's numbering).</summary>
    public IReadOnlyList<long> Rows => new ArraySegment<long>(_rows, 0, Count);

    /// <summary>The class keys seen, in first-appearance order (stratified only).</summary>
    public IReadOnlyList<string> ClassKeys => _classes;

    /// <summary>Every (group, class) pair with its rows, classes by <see cref="ClassKeys"/> index (stratified only), in no particular order.</summary>
    public IEnumerable<(int Group, int Class, long Rows)> PerClass
    {
        get
        {
            if (!stratified) yield break;
            for (int g = 0; g < Count; g++)
            {
                if (_onlyClass[g] >= 0) yield return (g, _onlyClass[g], _rows[g]);
            }
            foreach (var pair in _mixed.Entries()) yield return pair;
        }
    }

    /// <summary>The keys (bytes, index, order), for the decisions and the plan's group → split table.</summary>
    internal GroupKeySet KeySet => _keys;

    /// <summary>The rows of each group, by number (at least <see cref="Count"/> long; read the first <see cref="Count"/>).</summary>
    internal long[] RowsArray => _rows;

    /// <summary>Group <paramref name="group"/>'s key.</summary>
    public string KeyOf(int group) => _keys.KeyOf(group);

    /// <summary>Counts <paramref name="rows"/> rows of group <paramref name="key"/> (of class <paramref name="classKey"/> when stratified); returns the group's number.</summary>
    public int Add(string key, string? classKey, long rows = 1)
    {
        ArgumentNullException.ThrowIfNull(key);
        int g = _keys.Add(key, out bool added);
        return Tally(g, added, stratified ? ClassId(classKey) : -1, rows);
    }

    /// <summary>Counts rows of the group held as <paramref name="key"/>'s bytes, of class number <paramref name="classId"/>.</summary>
    private int Add(ReadOnlySpan<byte> key, int classId, long rows)
    {
        int g = _keys.Add(key, out bool added);
        return Tally(g, added, classId, rows);
    }

    private int ClassId(string? classKey)
    {
        ArgumentNullException.ThrowIfNull(classKey);
        ref int c = ref CollectionsMarshal.GetValueRefOrAddDefault(_classIds, classKey, out bool known);
        if (!known)
        {
            c = _classes.Count;
            _classes.Add(classKey);
        }
        return c;
    }

    private int Tally(int g, bool added, int classId, long rows)
    {
        if (added)
        {
            if (g == _rows.Length)
            {
                int grown = (int)Math.Min(int.MaxValue - 64, (long)_rows.Length * 2);
                Array.Resize(ref _rows, grown);
                if (stratified) Array.Resize(ref _onlyClass, grown);
            }
            _rows[g] = 0;
            if (stratified) _onlyClass[g] = classId;
        }
        if (stratified && _onlyClass[g] != classId)
        {
            // A second class: this group's counts move to the map of mixed groups.
            if (_onlyClass[g] >= 0)
            {
                _mixed.Add(g, _onlyClass[g], _rows[g]);
                _onlyClass[g] = -1;
            }
            _mixed.Add(g, classId, rows);
        }
        _rows[g] += rows;
        TotalRows += rows;
        return g;
    }

    /// <summary>
    /// Counts the first <paramref name="count"/> rows of a batch: the group column <paramref name="groups"/> and, when
    /// stratified, the class column <paramref name="classes"/>. Returns the first row whose group key is missing (the rows
    /// before it counted, none after), or −1. With <paramref name="missingIsGroup"/> a missing key is counted as a group of
    /// its own instead (<see cref="RandomSplitAssigner.KeyOf"/>'s key for it), as group folds without a test split count it.
    /// With <paramref name="numbers"/> (at least <paramref name="count"/> long), each counted row's group number goes there.
    /// </summary>
    public int Add(Column groups, Column? classes, int count, bool missingIsGroup = false, Span<int> numbers = default)
    {
        ArgumentNullException.ThrowIfNull(groups);
        bool numbered = !numbers.IsEmpty;
        if (numbered && numbers.Length < count) throw new ArgumentException("Fewer numbers than rows.", nameof(numbers));
        string? last = null;
        int lastId = -1;
        for (int r = 0; r < count; r++)
        {
            if (!missingIsGroup && groups.IsNull(r)) return r;
            string key = RandomSplitAssigner.KeyOf(groups, r);
            if (!stratified && lastId >= 0 && string.Equals(key, last, StringComparison.Ordinal))
            {
                // Runs of one group (sorted inputs) skip the index.
                _rows[lastId]++;
                TotalRows++;
                if (numbered) numbers[r] = lastId;
                continue;
            }
            lastId = Add(key, stratified ? RandomSplitAssigner.KeyOf(classes!, r) : null);
            last = key;
            if (numbered) numbers[r] = lastId;
        }
        return -1;
    }

    /// <summary>Adds every group (and class count) of <paramref name="other"/>.</summary>
    public void Merge(GroupTable other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Stratified != stratified) throw new ArgumentException("Both tables must count classes, or neither.", nameof(other));
        if (!stratified)
        {
            for (int g = 0; g < other.Count; g++) Add(other._keys.KeyBytes(g), -1, other._rows[g]);
            return;
        }
        var classIds = other._classes.Select(ClassId).ToArray();
        foreach (var (g, c, rows) in other.PerClass) Add(other._keys.KeyBytes(g), classIds[c], rows);
    }

    private sealed class KeyList(GroupKeySet keys) : IReadOnlyList<string>
    {
        public string this[int index] => keys.KeyOf(index);

        public int Count => keys.Count;

        public IEnumerator<string> GetEnumerator()
        {
            for (int g = 0; g < keys.Count; g++) yield return keys.KeyOf(g);
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>(group, class) → rows of the groups with more than one class: open addressing over one 64-bit key a pair.</summary>
    private sealed class PairCounts
    {
        private ulong[] _pairs = new ulong[16];
        private long[] _rows = new long[16];
        private int _count;

        public void Add(int group, int classId, long rows)
        {
            ulong pair = (((ulong)(uint)group << 32) | (uint)classId) + 1;
            int slot = Find(_pairs, pair);
            if (_pairs[slot] == 0)
            {
                _pairs[slot] = pair;
                if (++_count * 2 > _pairs.Length)
                {
                    Grow();
                    slot = Find(_pairs, pair);
                }
            }
            _rows[slot] += rows;
        }

        public IEnumerable<(int Group, int Class, long Rows)> Entries()
        {
            for (int s = 0; s < _pairs.Length; s++)
            {
                if (_pairs[s] == 0) continue;
                ulong pair = _pairs[s] - 1;
                yield return ((int)(pair >> 32), (int)(uint)pair, _rows[s]);
            }
        }

        private static int Find(ulong[] pairs, ulong pair)
        {
            int mask = pairs.Length - 1;
            int slot = (int)((pair * 0x9E3779B97F4A7C15UL) >> 32) & mask;
            while (pairs[slot] != 0 && pairs[slot] != pair) slot = (slot + 1) & mask;
            return slot;
        }

        private void Grow()
        {
            var pairs = new ulong[_pairs.Length * 2];
            var rows = new long[pairs.Length];
            for (int s = 0; s < _pairs.Length; s++)
            {
                if (_pairs[s] == 0) continue;
                int at = Find(pairs, _pairs[s]);
                pairs[at] = _pairs[s];
                rows[at] = _rows[s];
            }
            (_pairs, _rows) = (pairs, rows);
        }
    }
}
