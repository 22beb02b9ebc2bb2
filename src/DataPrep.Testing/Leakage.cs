using System.Globalization;
using System.Text;

namespace DataPrep.Testing;

/// <summary>
/// Assertions of the leakage contract (DESIGN §3) over values grouped by split. Each assertion throws a
/// <see cref="LeakageException"/> whose message names the first offending keys and rows; the same checks in
/// <see cref="Check"/> return a <see cref="LeakageResult"/> instead, for FsCheck properties.
/// </summary>
/// <remarks>
/// <para>
/// A split is a (name, values) pair and the splits are given in order (train, validation, test): the order
/// matters only to <see cref="TimeOrdered{T}"/>. <see cref="SplitView"/> and
/// <see cref="GeneratedDataset.SplitBy{T}"/> build these lists from per-row tags or from a split stage's
/// output. Messages refer to rows as <c>name[i]</c>: the i-th value (0-based) of that split's list.
/// </para>
/// <para>Every check is one pass over the values with a hash table: linear in the number of rows.</para>
/// </remarks>
/// <example>
/// <code>
/// // xUnit + FsCheck: any dataset, including the nasty shapes, splits into a partition.
/// [Property(Arbitrary = [typeof(DatasetArbitraries)])]
/// public Property Random_split_is_a_partition(GeneratedDataset ds, ulong seed)
/// {
///     var tags = ds.Assign(new RandomSplitAssigner([0.8, 0.1, 0.1], seed, stratify: null)).Tags;
///     return Leakage.Check.IsPartition(ds.Ids, ds.SplitBy(tags, r => r.Id)).ToProperty();
/// }
///
/// // Plain assertion: throws LeakageException "Group leakage: 1 of 3 group keys occur in more than one split. …"
/// Leakage.NoGroupOverlap([("train", new[] { "spk1", "spk2" }), ("test", new[] { "spk2", "spk3" })]);
/// </code>
/// </example>
public static class Leakage
{
    /// <summary>The name of the partition check.</summary>
    public const string PartitionCheck = "partition";

    /// <summary>The name of the group-overlap check.</summary>
    public const string GroupOverlapCheck = "group-overlap";

    /// <summary>The name of the time-order check.</summary>
    public const string TimeOrderCheck = "time-order";

    /// <summary>The name of the duplicate-content check.</summary>
    public const string DuplicateContentCheck = "duplicate-content";

    /// <summary>How many offending keys or rows a message lists per kind of problem.</summary>
    public const int MaxExamples = 5;

    /// <summary>
    /// Asserts DESIGN §3.1: every input id is in exactly one split, or in <paramref name="dropped"/>; no id is
    /// lost, duplicated (within or across splits) or unknown.
    /// </summary>
    /// <param name="inputIds">The ids of the input rows; they must be unique.</param>
    /// <param name="splits">The ids in each split.</param>
    /// <param name="dropped">Ids dropped on purpose (counted and reported by the splitter), or <see langword="null"/>.</param>
    /// <param name="comparer">How ids compare; default equality when <see langword="null"/>.</param>
    /// <exception cref="LeakageException">The splits are not a partition of the input.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputIds"/> holds an id twice.</exception>
    public static void IsPartition<T>(IEnumerable<T> inputIds, IEnumerable<(string Name, IEnumerable<T> Ids)> splits, IEnumerable<T>? dropped = null, IEqualityComparer<T>? comparer = null)
        => Check.IsPartition(inputIds, splits, dropped, comparer).ThrowIfLeaked();

    /// <summary>Asserts DESIGN §3.2: no group key occurs in two splits (a key may repeat within one split).</summary>
    /// <param name="groupsBySplit">The group key of every row, per split.</param>
    /// <param name="comparer">How keys compare; default equality when <see langword="null"/>. A <see langword="null"/> key is a key like any other.</param>
    /// <exception cref="LeakageException">A group key occurs in more than one split.</exception>
    public static void NoGroupOverlap<T>(IEnumerable<(string Name, IEnumerable<T> Groups)> groupsBySplit, IEqualityComparer<T>? comparer = null)
        => Check.NoGroupOverlap(groupsBySplit, comparer).ThrowIfLeaked();

    /// <summary>
    /// Asserts DESIGN §3.3, strictly: every split starts after all earlier splits end,
    /// <c>max(train) &lt; min(validation)</c>, <c>max(validation) &lt; min(test)</c>, … Empty splits are skipped,
    /// so <c>max(train) &lt; min(test)</c> is checked when validation is empty. Equal timestamps in two splits fail.
    /// </summary>
    /// <param name="timesBySplit">The timestamp of every row, per split, in split order.</param>
    /// <param name="comparer">How times compare; <see cref="Comparer{T}.Default"/> when <see langword="null"/>.</param>
    /// <exception cref="LeakageException">A split has a row at or before the latest row of an earlier split.</exception>
    /// <exception cref="ArgumentException">A time is <see langword="null"/>.</exception>
    public static void TimeOrdered<T>(IEnumerable<(string Name, IEnumerable<T> Times)> timesBySplit, IComparer<T>? comparer = null)
        => Check.TimeOrdered(timesBySplit, comparer).ThrowIfLeaked();

    /// <summary>
    /// Asserts that no row content occurs in two splits (an exact copy of a test row in train is leakage even with
    /// another id). Pass what "content" means: the feature vector, <see cref="GeneratedRow.ContentKey"/>, a hash.
    /// Duplicates within one split are allowed.
    /// </summary>
    /// <param name="rowsBySplit">The content of every row, per split.</param>
    /// <param name="comparer">How contents compare; default equality when <see langword="null"/>.</param>
    /// <exception cref="LeakageException">The same content occurs in more than one split.</exception>
    public static void NoDuplicateContent<T>(IEnumerable<(string Name, IEnumerable<T> Rows)> rowsBySplit, IEqualityComparer<T>? comparer = null)
        => Check.NoDuplicateContent(rowsBySplit, comparer).ThrowIfLeaked();

    /// <summary>
    /// The same checks as <see cref="Leakage"/>, returning a <see cref="LeakageResult"/> (convertible to
    /// <see langword="bool"/>, or to an FsCheck property with <see cref="LeakageResult.ToProperty"/>) instead of throwing.
    /// </summary>
    public static class Check
    {
        /// <summary>Checks <see cref="Leakage.IsPartition{T}"/>.</summary>
        /// <exception cref="ArgumentException"><paramref name="inputIds"/> holds an id twice.</exception>
        public static LeakageResult IsPartition<T>(IEnumerable<T> inputIds, IEnumerable<(string Name, IEnumerable<T> Ids)> splits, IEnumerable<T>? dropped = null, IEqualityComparer<T>? comparer = null)
        {
            ArgumentNullException.ThrowIfNull(inputIds);
            ArgumentNullException.ThrowIfNull(splits);
            var keys = new BoxComparer<T>(comparer);
            var input = new Dictionary<Box<T>, int>(keys);
            var inputOrder = new List<T>();
            foreach (var id in inputIds)
            {
                if (!input.TryAdd(new Box<T>(id), inputOrder.Count))
                {
                    throw new ArgumentException($"The input ids hold {Text.Show(id)} twice (input[{input[new Box<T>(id)]}] and input[{inputOrder.Count}]); input ids must be unique.", nameof(inputIds));
                }
                inputOrder.Add(id);
            }

            var seen = new Dictionary<Box<T>, Places>(keys);
            var duplicated = new List<T>();
            var unknown = new List<string>();
            int unknownCount = 0;
            var sizes = new List<string>();
            var lists = splits.Select(s => (s.Name, s.Ids)).ToList();
            if (dropped is not null) lists.Add(("dropped", dropped));
            foreach (var (name, ids) in lists)
            {
                int i = 0;
                foreach (var id in ids)
                {
                    var box = new Box<T>(id);
                    if (!input.ContainsKey(box))
                    {
                        if (unknownCount++ < MaxExamples) unknown.Add($"{Text.Show(id)} at {name}[{i}]");
                    }
                    else if (seen.TryGetValue(box, out var places))
                    {
                        if (places.Add($"{name}[{i}]") == 2) duplicated.Add(id);
                    }
                    else
                    {
                        seen[box] = new Places($"{name}[{i}]");
                    }
                    i++;
                }
                sizes.Add($"{name} {Text.N(i)}");
            }
            var lost = inputOrder.Select((id, i) => (id, i)).Where(x => !seen.ContainsKey(new Box<T>(x.id))).ToList();
            if (lost.Count == 0 && duplicated.Count == 0 && unknownCount == 0) return new LeakageResult(PartitionCheck, null);

            var sb = new StringBuilder();
            sb.Append($"Not a partition of the {Text.Plural(inputOrder.Count, "input id", "input ids")}: {Text.N(lost.Count)} lost, {Text.N(duplicated.Count)} duplicated, {Text.N(unknownCount)} unknown.");
            if (lost.Count > 0)
            {
                sb.Append($"\n  lost (in no split{(dropped is null ? "" : " and not dropped")}): ")
                  .Append(Text.List(lost.Select(x => $"{Text.Show(x.id)} (input[{x.i}])"), lost.Count, ", "));
            }
            if (duplicated.Count > 0)
            {
                sb.Append("\n  duplicated: ")
                  .Append(Text.List(duplicated.Select(id => $"{Text.Show(id)} at {seen[new Box<T>(id)]}"), duplicated.Count, "; "));
            }
            if (unknownCount > 0)
            {
                sb.Append("\n  unknown (not an input id): ").Append(Text.List(unknown, unknownCount, "; "));
            }
            sb.Append($"\n  sizes: {string.Join(", ", sizes)} (input {Text.N(inputOrder.Count)})");
            return new LeakageResult(PartitionCheck, sb.ToString());
        }

        /// <summary>Checks <see cref="Leakage.NoGroupOverlap{T}"/>.</summary>
        public static LeakageResult NoGroupOverlap<T>(IEnumerable<(string Name, IEnumerable<T> Groups)> groupsBySplit, IEqualityComparer<T>? comparer = null)
        {
            var (overlaps, keyCount, names) = Overlaps(groupsBySplit, comparer);
            if (overlaps.Count == 0) return new LeakageResult(GroupOverlapCheck, null);
            var sb = new StringBuilder();
            sb.Append($"Group leakage: {Text.N(overlaps.Count)} of {Text.Plural(keyCount, "group key", "group keys")} {(overlaps.Count == 1 ? "occurs" : "occur")} in more than one split.");
            foreach (var o in overlaps.Take(MaxExamples))
            {
                sb.Append("\n  ").Append(Text.Show(o.Key)).Append(": ")
                  .Append(string.Join(", ", o.Entry.Splits().Select(s => $"{names[s.Split]} {Text.Plural(s.Count, "row", "rows")} (first at {names[s.Split]}[{s.First}])")));
            }
            if (overlaps.Count > MaxExamples) sb.Append($"\n  … and {Text.N(overlaps.Count - MaxExamples)} more");
            return new LeakageResult(GroupOverlapCheck, sb.ToString());
        }

        /// <summary>Checks <see cref="Leakage.TimeOrdered{T}"/>.</summary>
        /// <exception cref="ArgumentException">A time is <see langword="null"/>.</exception>
        public static LeakageResult TimeOrdered<T>(IEnumerable<(string Name, IEnumerable<T> Times)> timesBySplit, IComparer<T>? comparer = null)
        {
            ArgumentNullException.ThrowIfNull(timesBySplit);
            comparer ??= Comparer<T>.Default;
            var problems = new List<string>();
            var earlier = new List<string>();
            bool haveMax = false;
            T max = default!;
            string maxAt = "";
            foreach (var (name, times) in timesBySplit)
            {
                var values = times.ToList();
                for (int i = 0; i < values.Count; i++)
                {
                    if (values[i] is null) throw new ArgumentException($"{name}[{i}] is null; every row needs a time.", nameof(timesBySplit));
                }
                if (values.Count > 0 && haveMax)
                {
                    int minAt = 0;
                    for (int i = 1; i < values.Count; i++) if (comparer.Compare(values[i], values[minAt]) < 0) minAt = i;
                    if (comparer.Compare(max, values[minAt]) >= 0)
                    {
                        var offending = Enumerable.Range(0, values.Count).Where(i => comparer.Compare(values[i], max) <= 0).ToList();
                        string before = earlier.Count == 1 ? $"max({earlier[0]})" : $"the max of the earlier splits ({string.Join(", ", earlier)})";
                        problems.Add(
                            $"{name}: min = {Text.Show(values[minAt])} at {name}[{minAt}] is not after {before} = {Text.Show(max)} at {maxAt}; "
                            + $"{Text.N(offending.Count)} of {Text.Plural(values.Count, name + " row", name + " rows")} {(offending.Count == 1 ? "is" : "are")} at or before it: "
                            + Text.List(offending.Select(i => $"{name}[{i}] = {Text.Show(values[i])}"), offending.Count, ", "));
                    }
                }
                for (int i = 0; i < values.Count; i++)
                {
                    if (!haveMax || comparer.Compare(values[i], max) > 0)
                    {
                        haveMax = true;
                        max = values[i];
                        maxAt = $"{name}[{i}]";
                    }
                }
                if (values.Count > 0) earlier.Add(name);
            }
            if (problems.Count == 0) return new LeakageResult(TimeOrderCheck, null);
            return new LeakageResult(TimeOrderCheck,
                $"Time leakage: {Text.Plural(problems.Count, "split does", "splits do")} not start strictly after the splits before {(problems.Count == 1 ? "it" : "them")} end.\n  "
                + string.Join("\n  ", problems));
        }

        /// <summary>Checks <see cref="Leakage.NoDuplicateContent{T}"/>.</summary>
        public static LeakageResult NoDuplicateContent<T>(IEnumerable<(string Name, IEnumerable<T> Rows)> rowsBySplit, IEqualityComparer<T>? comparer = null)
        {
            var (overlaps, _, names) = Overlaps(rowsBySplit, comparer);
            if (overlaps.Count == 0) return new LeakageResult(DuplicateContentCheck, null);
            var sb = new StringBuilder();
            sb.Append($"Duplicate content across splits: {Text.Plural(overlaps.Count, "distinct row occurs", "distinct rows occur")} in more than one split.");
            foreach (var o in overlaps.Take(MaxExamples))
            {
                var splits = o.Entry.Splits().ToList();
                sb.Append("\n  ").Append(string.Join(", ", splits.Select(s => $"{names[s.Split]}[{s.First}]")))
                  .Append(" (").Append(string.Join(", ", splits.Select(s => $"{Text.N(s.Count)} in {names[s.Split]}"))).Append("): ")
                  .Append(Text.Show(o.Key));
            }
            if (overlaps.Count > MaxExamples) sb.Append($"\n  … and {Text.N(overlaps.Count - MaxExamples)} more");
            return new LeakageResult(DuplicateContentCheck, sb.ToString());
        }

        /// <summary>Keys found in more than one split, in the order the second split was reached while scanning.</summary>
        private static (List<(T Key, SplitCounts Entry)> Overlaps, int KeyCount, List<string> Names) Overlaps<T>(IEnumerable<(string Name, IEnumerable<T> Items)> bySplit, IEqualityComparer<T>? comparer)
        {
            ArgumentNullException.ThrowIfNull(bySplit);
            // The key shown is the first one seen: with a lenient comparer later rows may spell it differently.
            var table = new Dictionary<Box<T>, (T First, SplitCounts Counts)>(new BoxComparer<T>(comparer));
            var overlaps = new List<(T, SplitCounts)>();
            var names = new List<string>();
            foreach (var (name, items) in bySplit)
            {
                int split = names.Count;
                names.Add(name);
                int i = 0;
                foreach (var item in items)
                {
                    var box = new Box<T>(item);
                    if (!table.TryGetValue(box, out var entry)) table[box] = entry = (item, new SplitCounts());
                    if (entry.Counts.Add(split, i) && entry.Counts.SplitCount == 2) overlaps.Add((entry.First, entry.Counts));
                    i++;
                }
            }
            return (overlaps, table.Count, names);
        }
    }

    /// <summary>Rows of one key per split: count and first position, in the order the splits were first seen.</summary>
    private sealed class SplitCounts
    {
        private readonly List<(int Split, int Count, int First)> _splits = [];

        public int SplitCount => _splits.Count;

        /// <summary>Counts a row; true when it is the key's first row in that split.</summary>
        public bool Add(int split, int position)
        {
            for (int k = 0; k < _splits.Count; k++)
            {
                if (_splits[k].Split != split) continue;
                _splits[k] = (split, _splits[k].Count + 1, _splits[k].First);
                return false;
            }
            _splits.Add((split, 1, position));
            return true;
        }

        public IEnumerable<(int Split, int Count, int First)> Splits() => _splits;
    }

    /// <summary>Where an id was seen (the first few places) and how often.</summary>
    private sealed class Places(string first)
    {
        private const int Kept = 4;
        private readonly List<string> _places = [first];
        private int _count = 1;

        /// <summary>Adds a place; returns the new count.</summary>
        public int Add(string place)
        {
            if (_places.Count < Kept) _places.Add(place);
            return ++_count;
        }

        public override string ToString()
            => string.Join(", ", _places) + (_count > _places.Count ? $" and {_count - _places.Count} more" : "");
    }

    /// <summary>A key that may be <see langword="null"/>, so any value can go in a dictionary.</summary>
    private readonly record struct Box<T>(T Value);

    private sealed class BoxComparer<T>(IEqualityComparer<T>? inner) : IEqualityComparer<Box<T>>
    {
        private readonly IEqualityComparer<T> _inner = inner ?? EqualityComparer<T>.Default;

        public bool Equals(Box<T> x, Box<T> y)
            => x.Value is null ? y.Value is null : y.Value is not null && _inner.Equals(x.Value, y.Value);

        public int GetHashCode(Box<T> box) => box.Value is null ? 0 : _inner.GetHashCode(box.Value);
    }

    /// <summary>How values and lists appear in messages: invariant, quoted, truncated.</summary>
    private static class Text
    {
        private const int MaxChars = 80;

        public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

        public static string Plural(long n, string one, string many) => $"{N(n)} {(n == 1 ? one : many)}";

        public static string List(IEnumerable<string> items, long total, string separator)
        {
            var shown = items.Take(MaxExamples).ToList();
            return string.Join(separator, shown) + (total > shown.Count ? $" … and {N(total - shown.Count)} more" : "");
        }

        public static string Show(object? value) => value switch
        {
            null => "null",
            string s => "'" + Truncate(s) + "'",
            DateTime t => t.Kind == DateTimeKind.Utc
                ? GeneratedDataset.FormatTime(t)
                : t.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture) + (t.Kind == DateTimeKind.Local ? " (local)" : ""),
            DateTimeOffset t => t.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => Truncate(value.ToString() ?? ""),
        };

        private static string Truncate(string s) => s.Length <= MaxChars ? s : string.Concat(s.AsSpan(0, MaxChars - 1), "…");
    }
}
