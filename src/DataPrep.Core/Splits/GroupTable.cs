using System.Runtime.InteropServices;
using DataPrep.Data;

namespace DataPrep.Splits;

/// <summary>
/// What a group split decides from (<see cref="GroupSplitAssigner.Decide"/>): every group key with its rows, and when
/// stratified its rows per class (<see cref="RandomSplitAssigner.KeyOf"/> keys). Built row by row or batch by batch in any
/// order, and merged from tables of other shares of the rows: the decision and the report depend only on its contents,
/// never on the order rows or tables came in. Memory grows with the groups (and the (group, class) pairs), not the rows.
/// </summary>
/// <param name="stratified">Whether the table counts each group's rows per class.</param>
public sealed class GroupTable(bool stratified)
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];
    private readonly List<long> _rows = [];
    private readonly Dictionary<string, int> _classIds = new(StringComparer.Ordinal);
    private readonly List<string> _classes = [];
    private readonly Dictionary<(int Group, int Class), long> _perClass = [];

    /// <summary>Whether the table counts rows per class.</summary>
    public bool Stratified => stratified;

    /// <summary>The number of groups.</summary>
    public int Count => _keys.Count;

    /// <summary>All rows counted.</summary>
    public long TotalRows { get; private set; }

    /// <summary>The group keys, in the table's own (first-appearance) numbering.</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>The rows of each group (the table's numbering).</summary>
    public IReadOnlyList<long> Rows => _rows;

    /// <summary>The class keys seen, in first-appearance order (stratified only).</summary>
    public IReadOnlyList<string> ClassKeys => _classes;

    /// <summary>Every (group, class) pair with its rows, classes by <see cref="ClassKeys"/> index (stratified only).</summary>
    public IReadOnlyDictionary<(int Group, int Class), long> PerClass => _perClass;

    /// <summary>Counts <paramref name="rows"/> rows of group <paramref name="key"/> (of class <paramref name="classKey"/> when stratified); returns the group's number.</summary>
    public int Add(string key, string? classKey, long rows = 1)
    {
        ArgumentNullException.ThrowIfNull(key);
        ref int id = ref CollectionsMarshal.GetValueRefOrAddDefault(_ids, key, out bool exists);
        if (!exists)
        {
            id = _keys.Count;
            _keys.Add(key);
            _rows.Add(0);
        }
        int g = id;
        _rows[g] += rows;
        TotalRows += rows;
        if (stratified)
        {
            ArgumentNullException.ThrowIfNull(classKey);
            ref int c = ref CollectionsMarshal.GetValueRefOrAddDefault(_classIds, classKey, out bool known);
            if (!known)
            {
                c = _classes.Count;
                _classes.Add(classKey);
            }
            CollectionsMarshal.GetValueRefOrAddDefault(_perClass, (g, c), out _) += rows;
        }
        return g;
    }

    /// <summary>
    /// Counts the first <paramref name="count"/> rows of a batch: the group column <paramref name="groups"/> and, when
    /// stratified, the class column <paramref name="classes"/>. Returns the first row whose group key is missing (the rows
    /// before it counted, none after), or −1. With <paramref name="missingIsGroup"/> a missing key is counted as a group of
    /// its own instead (<see cref="RandomSplitAssigner.KeyOf"/>'s key for it), as group folds without a test split count it.
    /// </summary>
    public int Add(Column groups, Column? classes, int count, bool missingIsGroup = false)
    {
        string? last = null;
        int lastId = -1;
        for (int r = 0; r < count; r++)
        {
            if (!missingIsGroup && groups.IsNull(r)) return r;
            string key = RandomSplitAssigner.KeyOf(groups, r);
            if (!stratified && lastId >= 0 && string.Equals(key, last, StringComparison.Ordinal))
            {
                // Runs of one group (sorted inputs) skip the dictionary.
                _rows[lastId]++;
                TotalRows++;
                continue;
            }
            lastId = Add(key, stratified ? RandomSplitAssigner.KeyOf(classes!, r) : null);
            last = key;
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
            for (int g = 0; g < other.Count; g++) Add(other._keys[g], null, other._rows[g]);
            return;
        }
        foreach (var ((g, c), rows) in other._perClass) Add(other._keys[g], other._classes[c], rows);
    }
}
