using System.Text;
using DataPrep.Data;
using DataPrep.Hashing;
using DataPrep.Pipeline;
using DataPrep.Scale;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Tests.Splits;

/// <summary>
/// The compact group table (issue 16): <see cref="GroupKeySet"/> (keys as bytes in an arena, an open-addressing index) under
/// <see cref="GroupTable"/>, and the encode tasks' lookup <see cref="GroupSplitsTable"/>. Checked against the
/// dictionaries they replaced: the same groups, rows, classes, numbering, order and object bytes, whatever the keys
/// (equal but for case, empty, control characters, non-ASCII, unpaired surrogates) and whatever the index's hash does
/// (a hash that puts every key in one bucket, or a few).
/// </summary>
public class GroupKeySetTests
{
    /// <summary>Keys that stress the encoding and the order: case, empty, NUL, combining marks, BMP above the surrogates, supplementary characters, unpaired surrogates.</summary>
    private static readonly string[] s_tricky =
    [
        "", " ", "a", "A", "a ", "ab", "aB", "Ab", "\0missing", "\0", "é", "e\u0301", "É", "ß", "SS", "日本", "日本語",
        "\uE000", "\uFFFD", "\uFFFF", "😀", "😁", "a😀", "a\uE000", "\uD800", "\uDC00", "x\uD83D", "\uDE00y", "\uD83D\uD83D",
        "\u007F", "\u0080", "\u07FF", "\u0800", new string('k', 300), new string('é', 200) + "😀",
    ];

    private static readonly GroupKeySet.Hasher?[] s_hashers = [null, _ => 0, b => (ulong)b.Length % 3, b => b.Length == 0 ? 7UL : b[0]];

    private static Gen<string> Key()
        => Gen.OneOf(
            Gen.Elements(s_tricky),
            Gen.ArrayOf(Gen.Elements('a', 'A', 'é', '\0', '日', '\uD83D', '\uDE00', '\uE000', 'z')).Select(c => new string(c)),
            Gen.Choose(0, 40).Select(i => $"g{i}"));

    /// <summary>
    /// A table built from rows (key, class, rows) in any order holds the groups a <c>Dictionary&lt;string, …&gt;</c> holds:
    /// the same keys numbered in first-appearance order, rows, class keys and (group, class) counts; its key order is
    /// <see cref="string.CompareOrdinal(string, string)"/>'s, its hash of a key <see cref="KeyedHash.Hash(string)"/>'s, and
    /// its hash order the one a comparison sort of (hash, key) gives. Tables merged from any partition hold the same.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property A_compact_table_holds_what_a_dictionary_holds()
        => Prop.ForAll(
            (from rows in Gen.ListOf(from key in Key() from cls in Gen.Elements("x", "X", "y", "", "é") from n in Gen.Choose(0, 3) select (key, cls, n: (long)n))
             from stratified in Gen.Elements(false, true)
             from hasher in Gen.Choose(0, s_hashers.Length - 1)
             from parts in Gen.Choose(1, 3)
             from partition in Gen.Choose(0, int.MaxValue)
             select (rows: rows.ToArray(), stratified, hasher, parts, partition)).ToArbitrary(),
            x =>
            {
                var (rows, stratified, hasherIndex, parts, partition) = x;
                var hasher = s_hashers[hasherIndex];
                var table = hasher is null ? new GroupTable(stratified) : new GroupTable(stratified, hasher);

                // The reference: dictionaries, as the table was before.
                var ids = new Dictionary<string, int>(StringComparer.Ordinal);
                var keys = new List<string>();
                var counts = new List<long>();
                var classes = new List<string>();
                var perClass = new Dictionary<(string, string), long>();
                foreach (var (key, cls, n) in rows)
                {
                    int g = table.Add(key, stratified ? cls : null, n);
                    if (!ids.TryGetValue(key, out int id)) { ids[key] = id = keys.Count; keys.Add(key); counts.Add(0); }
                    if (g != id) return false.Label($"number {g} for '{Escape(key)}', expected {id}");
                    counts[id] += n;
                    if (!stratified) continue;
                    if (!classes.Contains(cls, StringComparer.Ordinal)) classes.Add(cls);
                    perClass[(key, cls)] = perClass.GetValueOrDefault((key, cls)) + n;
                }
                string? problem = Differs(table, keys, counts, stratified ? classes : [], perClass);
                if (problem is not null) return false.Label("built: " + problem);

                // Any partition, merged in any order, into a table of any hasher: the same groups (numbered by the merge).
                var random = new Random(partition);
                var tables = Enumerable.Range(0, parts).Select(p => s_hashers[(hasherIndex + p) % s_hashers.Length] is { } h ? new GroupTable(stratified, h) : new GroupTable(stratified)).ToArray();
                foreach (var (key, cls, n) in rows) tables[random.Next(parts)].Add(key, stratified ? cls : null, n);
                var merged = hasher is null ? new GroupTable(stratified) : new GroupTable(stratified, hasher);
                foreach (var t in tables.OrderBy(_ => random.Next())) merged.Merge(t);
                var mergedKeys = merged.Keys.ToList();
                if (!mergedKeys.Order(StringComparer.Ordinal).SequenceEqual(keys.Order(StringComparer.Ordinal))) return false.Label("merged: other keys");
                var mergedCounts = mergedKeys.Select(k => counts[ids[k]]).ToList();
                problem = Differs(merged, mergedKeys, mergedCounts, stratified ? merged.ClassKeys.ToList() : [], perClass);
                return (problem is null).Label("merged: " + problem);
            });

    /// <summary>What differs between a table and the reference (keys by number, rows, classes, per-class counts, order, hashes), or null.</summary>
    private static string? Differs(GroupTable table, List<string> keys, List<long> counts, List<string> classes, Dictionary<(string, string), long> perClass)
    {
        if (table.Count != keys.Count) return $"{table.Count} groups, expected {keys.Count}";
        for (int g = 0; g < keys.Count; g++)
        {
            if (!string.Equals(table.Keys[g], keys[g], StringComparison.Ordinal)) return $"key {g} is '{Escape(table.Keys[g])}', expected '{Escape(keys[g])}'";
            if (table.Rows[g] != counts[g]) return $"group '{Escape(keys[g])}' has {table.Rows[g]} rows, expected {counts[g]}";
            if (table.KeySet.IndexOf(keys[g]) != g) return $"'{Escape(keys[g])}' not found";
        }
        if (table.TotalRows != counts.Sum()) return $"{table.TotalRows} rows, expected {counts.Sum()}";
        if (!table.ClassKeys.SequenceEqual(classes)) return "other class keys";
        if (table.Stratified)
        {
            var got = table.PerClass.ToDictionary(p => (keys[p.Group], table.ClassKeys[p.Class]), p => p.Rows);
            if (got.Count != perClass.Count || perClass.Any(kv => !got.TryGetValue(kv.Key, out long n) || n != kv.Value)) return "other (group, class) counts";
        }
        foreach (var absent in new[] { "never-a-key", "\uD800\uDC00", "A\0" }.Where(k => !keys.Contains(k, StringComparer.Ordinal)))
        {
            if (table.KeySet.IndexOf(absent) != -1) return $"found absent '{Escape(absent)}'";
        }
        var hash = new KeyedHash(42, "split");
        for (int a = 0; a < keys.Count; a++)
        {
            if (table.KeySet.HashOf(a, hash) != hash.Hash(keys[a])) return $"hash of '{Escape(keys[a])}'";
            for (int b = 0; b < keys.Count; b++)
            {
                if (Math.Sign(table.KeySet.Compare(a, b)) != Math.Sign(string.CompareOrdinal(keys[a], keys[b]))) return $"order of '{Escape(keys[a])}' and '{Escape(keys[b])}'";
            }
        }
        var hashes = keys.Select(k => hash.Hash(k)).ToArray();
        var expected = Enumerable.Range(0, keys.Count).ToArray();
        Array.Sort(expected, (a, b) => hashes[a] != hashes[b] ? hashes[a].CompareTo(hashes[b]) : string.CompareOrdinal(keys[a], keys[b]));
        if (!table.KeySet.HashOrder(hash).SequenceEqual(expected)) return "hash order";
        return null;
    }

    /// <summary>Hash order breaks ties of the 64-bit hash by ordinal key, as the comparison sort did (forced with a poor hash).</summary>
    [Fact]
    public void Ties_of_the_hash_are_ordered_by_key()
    {
        var keys = new GroupKeySet(0, _ => 1);
        foreach (var k in new[] { "b", "\uE000", "😀", "a", "B" }) keys.Add(k, out _);
        var order = Enumerable.Range(0, keys.Count).ToArray();
        Array.Sort(order, keys.Compare);
        Assert.Equal(["B", "a", "b", "😀", "\uE000"], order.Select(keys.KeyOf));
    }

    /// <summary>
    /// The encode tasks' lookup: the object the compact table writes is the bytes the dictionary version wrote (keys in
    /// ordinal order, <see cref="BinaryWriter.Write(string)"/>, split bytes, fold), read back it finds every key with its
    /// splits and fold, and it rejects a key the plan did not decide (one differing only by case, or a prefix) as the
    /// dictionary did, with the encode task's error.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_lookup_finds_every_key_and_rejects_unknown_ones(bool folds)
    {
        var keys = s_tricky.Where(k => !k.Any(char.IsSurrogate) || k.Contains("😀", StringComparison.Ordinal)).Concat(Enumerable.Range(0, 5000).Select(i => $"user-{i}")).ToArray();
        var table = new GroupTable(stratified: false);
        foreach (var k in keys) table.Add(k, null, 1 + k.Length % 3);
        int n = table.Count;
        var clean = Enumerable.Range(0, n).Select(g => (SplitTag)(g % 3)).ToArray();
        var noisy = Enumerable.Range(0, n).Select(g => (SplitTag)((g + 1) % 3)).ToArray();
        var foldOf = folds ? Enumerable.Range(0, n).Select(g => (short)(g % 4 - 1)).ToArray() : null;
        using var tmp = new TempDir();
        var info = new GroupSplitsTable(table.KeySet, clean, noisy, foldOf).Write(tmp.Combine("group-splits"));

        // The dictionary version's writer.
        var reference = new MemoryStream();
        using (var writer = new BinaryWriter(reference, new UTF8Encoding(false, true), leaveOpen: true))
        {
            var order = Enumerable.Range(0, n).OrderBy(g => table.Keys[g], StringComparer.Ordinal).ToArray();
            writer.Write((long)n);
            foreach (int g in order)
            {
                writer.Write(table.Keys[g]);
                writer.Write((byte)clean[g]);
                writer.Write((byte)noisy[g]);
                if (foldOf is not null) writer.Write(foldOf[g]);
            }
        }
        Assert.Equal(reference.ToArray(), File.ReadAllBytes(tmp.Combine("group-splits")));
        Assert.Equal(n, info.Groups);
        Assert.Equal(folds, info.Folds);

        var read = GroupSplitsObject.Read(tmp.Combine("group-splits"), info, "test");
        Assert.Equal(n, read.Count);
        for (int g = 0; g < n; g++)
        {
            Assert.True(read.TryGet(table.Keys[g], out var s));
            Assert.Equal(new GroupSplits(clean[g], noisy[g], foldOf?[g] ?? -1), s);
        }
        foreach (var unknown in new[] { "USER-1", "user-", "user-50000", "\uD83D", "e", "日" }) Assert.False(read.TryGet(unknown, out _));

        // An encode task's assigner stops at a row of an unknown group with the error it gave before.
        var schema = new Schema([new Field("g", ColumnKind.String)]);
        var ids = new long[] { 1, 2, 3 };
        var batch = new RecordBatch(schema, [new StringColumn(["user-1", "user-2", "USER-1"])], 3, new RowInfo(ids, new int[3], ids.ToArray()));
        var assigner = new GroupAssigner("g", read, null, "task 0", folds);
        assigner.Bind(schema);
        var error = Assert.Throws<PipelineValidationException>(() => assigner.Assign(new SplitInput([batch], schema), new RunContext()));
        Assert.Contains("a row of group 'USER-1' in --group column 'g' is not among the groups the plan step decided", error.Message, StringComparison.Ordinal);

        // A hash that does not match the report's is refused before reading.
        Assert.Throws<PipelineValidationException>(() => GroupSplitsObject.Read(tmp.Combine("group-splits"), new GroupSplitsInfo { Groups = n, Folds = folds, Hash = "0" }, "test"));
    }

    /// <summary>A key with an unpaired surrogate is its own group, and writing it fails as the strict UTF-8 writer failed on it.</summary>
    [Fact]
    public void An_unpaired_surrogate_is_its_own_key_and_cannot_be_written()
    {
        var table = new GroupTable(stratified: false);
        int a = table.Add("\uD800", null);
        int b = table.Add("\uFFFD", null);
        int c = table.Add("\uDC00", null);
        Assert.Equal([0, 1, 2], new[] { a, b, c });
        Assert.Equal("\uD800", table.KeyOf(0));
        Assert.Equal(new KeyedHash(7, "split").Hash("\uD800"), table.KeySet.HashOf(0, new KeyedHash(7, "split")));
        using var tmp = new TempDir();
        var splits = new SplitTag[3];
        Assert.ThrowsAny<ArgumentException>(() => new GroupSplitsTable(table.KeySet, splits, splits, null).Write(tmp.Combine("group-splits")));
    }

    private static string Escape(string s) => string.Concat(s.Select(c => c < 0x20 || c > 0x7E ? $"\\u{(int)c:X4}" : c.ToString()));
}
