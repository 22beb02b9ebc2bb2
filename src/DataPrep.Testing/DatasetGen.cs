using System.Globalization;
using DataPrep.Data;
using FsCheck;
using FsCheck.Fluent;

namespace DataPrep.Testing;

/// <summary>Limits and value pools of the <see cref="DatasetGen"/> generators. Change one with <c>with</c>.</summary>
public sealed record DatasetGenOptions
{
    /// <summary>The default options.</summary>
    public static DatasetGenOptions Default { get; } = new();

    /// <summary>The most rows a dataset has (at FsCheck size 100; smaller sizes give fewer). Default 200; at least 10.</summary>
    public int MaxRows { get; init; } = 200;

    /// <summary>The most feature columns. Default 3.</summary>
    public int MaxFeatures { get; init; } = 3;

    /// <summary>The label values rows draw from. Default <c>a</c>, <c>b</c>, <c>c</c>.</summary>
    public IReadOnlyList<string> Labels { get; init; } = ["a", "b", "c"];

    /// <summary>The earliest timestamp (UTC). Default 2024-01-01T00:00:00Z.</summary>
    public DateTime Start { get; init; } = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Timestamps fall in [<see cref="Start"/>, <see cref="Start"/> + <see cref="Span"/>], on whole seconds. Default 365 days.</summary>
    public TimeSpan Span { get; init; } = TimeSpan.FromDays(365);

    /// <summary>The number of splits the data is meant for; <see cref="DatasetShape.FewerRowsThanSplits"/> has fewer rows. Default 3.</summary>
    public int Splits { get; init; } = 3;

    /// <summary>Row ids come from up to this many sources (<c>RowInfo.MakeRowId(source, row)</c>). Default 3.</summary>
    public int MaxSources { get; init; } = 3;

    internal void Validate()
    {
        var problems = new List<string>();
        if (MaxRows < 10) problems.Add($"MaxRows is {MaxRows}; it must be at least 10 (the dominant-group shape needs room).");
        if (MaxFeatures < 0) problems.Add($"MaxFeatures is {MaxFeatures}; it must not be negative.");
        if (Labels is null || Labels.Count == 0) problems.Add("Labels is empty; give at least one label.");
        if (Start.Kind != DateTimeKind.Utc) problems.Add($"Start is {Start.Kind}; it must be DateTimeKind.Utc.");
        if (Span < TimeSpan.Zero) problems.Add($"Span is {Span}; it must not be negative.");
        if (Splits < 1) problems.Add($"Splits is {Splits}; it must be at least 1.");
        if (MaxSources < 1) problems.Add($"MaxSources is {MaxSources}; it must be at least 1.");
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
    }
}

/// <summary>
/// FsCheck generators of small tabular datasets with labels, group keys and timestamps — the ordinary case and
/// the shapes that break splitters (<see cref="DatasetShape"/>): empty input, fewer rows than splits, a single
/// group, one group holding ~90 % of the rows, all timestamps equal, duplicate rows, one row per group.
/// </summary>
/// <example>
/// <code>
/// // Every shape, shrinking by removing rows:
/// Check.QuickThrowOnFailure(Prop.ForAll(DatasetGen.Any().ToArbitrary(),
///     ds => Leakage.Check.IsPartition(ds.Ids, ds.SplitBy(MySplitter.Tags(ds), r => r.Id)).ToProperty()));
///
/// // One shape, with other limits:
/// var dominant = DatasetGen.Of(DatasetShape.DominantGroup, DatasetGenOptions.Default with { MaxRows = 1000 });
///
/// // Or by attribute (FsCheck.Xunit): [Property(Arbitrary = [typeof(DatasetArbitraries)])]
/// </code>
/// </example>
public static class DatasetGen
{
    /// <summary>All shapes: <see cref="DatasetShape.Ordinary"/> four times as often as each nasty shape.</summary>
    public static Gen<GeneratedDataset> Any(DatasetGenOptions? options = null)
    {
        var o = Checked(options);
        return Gen.Frequency(Enum.GetValues<DatasetShape>().Select(s => (s == DatasetShape.Ordinary ? 4 : 1, Of(s, o))));
    }

    /// <summary>Only the nasty shapes (every shape but <see cref="DatasetShape.Ordinary"/>), equally often.</summary>
    public static Gen<GeneratedDataset> Nasty(DatasetGenOptions? options = null)
    {
        var o = Checked(options);
        return Gen.OneOf(Enum.GetValues<DatasetShape>().Where(s => s != DatasetShape.Ordinary).Select(s => Of(s, o)));
    }

    /// <summary>Datasets of one shape.</summary>
    /// <exception cref="ArgumentException">The options are invalid, or <paramref name="shape"/> is not a shape.</exception>
    public static Gen<GeneratedDataset> Of(DatasetShape shape, DatasetGenOptions? options = null)
    {
        var o = Checked(options);
        return shape switch
        {
            DatasetShape.Ordinary => Make(o, shape, RowCount(o, 0, o.MaxRows), n => SkewedGroups(n), n => Times(o, n)),
            DatasetShape.Empty => Make(o, shape, Gen.Constant(0), n => SkewedGroups(n), n => Times(o, n)),
            DatasetShape.FewerRowsThanSplits => Make(o, shape, Gen.Choose(0, o.Splits - 1), n => SkewedGroups(n), n => Times(o, n)),
            DatasetShape.SingleGroup => Make(o, shape, RowCount(o, 1, o.MaxRows), n => Gen.Constant(Enumerable.Repeat(GroupName(0), n).ToArray()), n => Times(o, n)),
            DatasetShape.DominantGroup => Make(o, shape, RowCount(o, 10, o.MaxRows), DominantGroups, n => Times(o, n)),
            DatasetShape.EqualTimestamps => Make(o, shape, RowCount(o, 2, o.MaxRows), n => SkewedGroups(n), n => SameTime(o, n)),
            DatasetShape.DuplicateRows => DuplicateRows(o),
            DatasetShape.SingletonGroups => Make(o, shape, RowCount(o, 1, o.MaxRows), n => Gen.Constant(Enumerable.Range(0, n).Select(GroupName).ToArray()), n => Times(o, n)),
            _ => throw new ArgumentException($"{shape} is not a dataset shape.", nameof(shape)),
        };
    }

    /// <summary>
    /// An arbitrary of the generator that shrinks a counterexample by removing rows (halves first, then single
    /// rows) and then the features, so FsCheck reports a small failing dataset.
    /// </summary>
    public static Arbitrary<GeneratedDataset> ToArbitrary(this Gen<GeneratedDataset> generator) => Arb.From(generator, Shrink);

    /// <summary>Smaller datasets to try when <paramref name="dataset"/> fails a property: fewer rows, then no features.</summary>
    public static IEnumerable<GeneratedDataset> Shrink(GeneratedDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        int n = dataset.Count;
        if (n >= 2)
        {
            int half = n / 2;
            yield return Slice(dataset, 0, half);
            yield return Slice(dataset, half, n - half);
        }
        // Single rows: enough to get from a chunk to a minimal example without an explosion of candidates.
        for (int i = 0; i < Math.Min(n, 32); i++)
        {
            int skip = i;
            yield return new GeneratedDataset(dataset.Shape, dataset.FeatureCount, dataset.Rows.Where((_, k) => k != skip));
        }
        if (dataset.FeatureCount > 0) yield return dataset.WithoutFeatures();
    }

    private static GeneratedDataset Slice(GeneratedDataset d, int start, int count)
        => new(d.Shape, d.FeatureCount, d.Rows.Skip(start).Take(count));

    private static DatasetGenOptions Checked(DatasetGenOptions? options)
    {
        var o = options ?? DatasetGenOptions.Default;
        o.Validate();
        return o;
    }

    private static string GroupName(int i) => "g" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Rows in [min, max], growing with FsCheck's size (2 rows per size step).</summary>
    private static Gen<int> RowCount(DatasetGenOptions o, int min, int max)
        => Gen.Sized(size => Gen.Choose(min, Math.Clamp(min + 2 * size, min, Math.Max(min, Math.Min(max, o.MaxRows)))));

    private static Gen<GeneratedDataset> Make(DatasetGenOptions o, DatasetShape shape, Gen<int> rowCount, Func<int, Gen<string[]>> groups, Func<int, Gen<DateTime[]>> times)
        => from n in rowCount
           from k in Gen.Choose(0, o.MaxFeatures)
           from ids in Ids(o, n)
           from g in groups(n)
           from t in times(n)
           from l in Gen.ArrayOf(Gen.Elements(o.Labels.ToArray()), n)
           from f in Gen.ArrayOf(Gen.ArrayOf(Feature, k), n)
           select new GeneratedDataset(shape, k, Enumerable.Range(0, n).Select(i => new GeneratedRow(ids[i], g[i], t[i], l[i], f[i])));

    /// <summary>Multiples of 1/8 in [−1000, 1000]: exact in binary, so they survive any text round trip.</summary>
    private static Gen<double> Feature { get; } = Gen.Choose(-8000, 8000).Select(x => x / 8.0);

    /// <summary>Unique ids (source &lt;&lt; 40) | row, rows numbered from 1 per source in input order, as DataPrep's readers do.</summary>
    private static Gen<long[]> Ids(DatasetGenOptions o, int n)
        => from sources in Gen.Choose(1, o.MaxSources)
           from sourceOfRow in Gen.ArrayOf(Gen.Choose(0, sources - 1), n)
           select Number(sourceOfRow, sources);

    private static long[] Number(int[] sourceOfRow, int sources)
    {
        var next = new long[sources];
        var ids = new long[sourceOfRow.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = RowInfo.MakeRowId(sourceOfRow[i], ++next[sourceOfRow[i]]);
        return ids;
    }

    /// <summary>1…n groups of skewed sizes (group index ~ k·u², so low-numbered groups are big).</summary>
    private static Gen<string[]> SkewedGroups(int n)
        => from k in Gen.Frequency((2, Gen.Choose(1, Math.Max(1, n / 4 + 1))), (1, Gen.Choose(1, Math.Max(1, n))))
           from u in Gen.ArrayOf(Gen.Choose(0, 999), n)
           select u.Select(x => GroupName((int)((long)k * x * x / 1_000_000))).ToArray();

    /// <summary>One group with 85–95 % of the rows (at least one row left over), the rest in 1… small groups, mixed in.</summary>
    private static Gen<string[]> DominantGroups(int n)
        => from share in Gen.Choose(85, 95)
           let big = Math.Clamp((int)Math.Round(n * share / 100.0, MidpointRounding.AwayFromZero), 1, n - 1)
           from others in Gen.Choose(1, n - big)
           from small in Gen.ArrayOf(Gen.Choose(1, others), n - big)
           from order in Gen.Shuffle(Enumerable.Repeat(GroupName(0), big).Concat(small.Select(GroupName)).ToArray())
           select order;

    /// <summary>Whole-second instants from a pool of 1…n distinct values, so ties are common.</summary>
    private static Gen<DateTime[]> Times(DatasetGenOptions o, int n)
    {
        int seconds = (int)Math.Min(int.MaxValue, (long)o.Span.TotalSeconds);
        return from distinct in Gen.Frequency((1, Gen.Choose(1, Math.Max(1, Math.Min(3, n)))), (3, Gen.Choose(1, Math.Max(1, n))))
               from pool in Gen.ArrayOf(Gen.Choose(0, seconds), distinct)
               from pick in Gen.ArrayOf(Gen.Choose(0, distinct - 1), n)
               select pick.Select(p => o.Start.AddSeconds(pool[p])).ToArray();
    }

    private static Gen<DateTime[]> SameTime(DatasetGenOptions o, int n)
        => Times(o, 1).Select(t => Enumerable.Repeat(t[0], n).ToArray());

    /// <summary>Ordinary rows plus copies of some of them (same content, new ids), shuffled together.</summary>
    private static Gen<GeneratedDataset> DuplicateRows(DatasetGenOptions o)
        => from b in Make(o, DatasetShape.DuplicateRows, RowCount(o, 1, o.MaxRows - 1), n => SkewedGroups(n), n => Times(o, n))
           from copies in Gen.Choose(1, Math.Max(1, Math.Min(b.Count, o.MaxRows - b.Count)))
           from source in Gen.ArrayOf(Gen.Choose(0, b.Count - 1), copies)
           from ids in Ids(o, b.Count + copies)
           from order in Gen.Shuffle(b.Rows.Concat(source.Select(s => b.Rows[s])).ToArray())
           select new GeneratedDataset(DatasetShape.DuplicateRows, b.FeatureCount, order.Select((r, i) => r with { Id = ids[i] }));
}

/// <summary>
/// Registers <see cref="GeneratedDataset"/> with FsCheck: every <see cref="DatasetShape"/>, shrinking by
/// removing rows. Use <c>[Property(Arbitrary = [typeof(DatasetArbitraries)])]</c> (FsCheck.Xunit) or
/// <c>Config.Quick.WithArbitrary([typeof(DatasetArbitraries)])</c>.
/// </summary>
public static class DatasetArbitraries
{
    /// <summary>Datasets of every shape with <see cref="DatasetGenOptions.Default"/>.</summary>
    public static Arbitrary<GeneratedDataset> Datasets() => DatasetGen.Any().ToArbitrary();
}
