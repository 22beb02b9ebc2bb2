using System.Globalization;
using System.Text;
using CsvHelper;

namespace DataPrep.Testing;

/// <summary>Which generator made a <see cref="GeneratedDataset"/>: the ordinary case or one of the shapes that break splitters.</summary>
public enum DatasetShape
{
    /// <summary>Random rows: several groups of random sizes, timestamps with some ties, a few labels.</summary>
    Ordinary,
    /// <summary>No rows at all.</summary>
    Empty,
    /// <summary>Fewer rows than splits (0 … splits − 1 rows), so some split must stay empty.</summary>
    FewerRowsThanSplits,
    /// <summary>Every row in one group, so a group split can fill only one split.</summary>
    SingleGroup,
    /// <summary>One group holds about 90 % of the rows (85–95 %); the rest are small groups.</summary>
    DominantGroup,
    /// <summary>Every row has the same timestamp, so a strict time split can fill only one split.</summary>
    EqualTimestamps,
    /// <summary>Some rows repeat another row's content (group, timestamp, label, features) under a new id.</summary>
    DuplicateRows,
    /// <summary>Every row is its own group.</summary>
    SingletonGroups,
}

/// <summary>
/// One generated row: a stable row id, a group key, a UTC timestamp, a label and numeric features.
/// Equality compares every member, features by value.
/// </summary>
/// <param name="Id">The stable row id, as DataPrep makes it: <c>RowInfo.MakeRowId(source, row)</c>; unique within a dataset.</param>
/// <param name="Group">The group key (speaker, customer, patient…).</param>
/// <param name="Timestamp">The instant of the row, UTC.</param>
/// <param name="Label">The label.</param>
/// <param name="Features">The feature values, one per feature column.</param>
public sealed record GeneratedRow(long Id, string Group, DateTime Timestamp, string Label, IReadOnlyList<double> Features)
{
    /// <summary>
    /// Everything but the id as one invariant string: two rows with the same content key are duplicates,
    /// which is what <see cref="Leakage.NoDuplicateContent{T}"/> looks for across splits.
    /// </summary>
    public string ContentKey
    {
        get
        {
            var sb = new StringBuilder();
            sb.Append(Group).Append('|').Append(GeneratedDataset.FormatTime(Timestamp)).Append('|').Append(Label);
            foreach (double f in Features) sb.Append('|').Append(f.ToString("R", CultureInfo.InvariantCulture));
            return sb.ToString();
        }
    }

    /// <inheritdoc />
    public bool Equals(GeneratedRow? other)
        => other is not null && Id == other.Id && Group == other.Group && Timestamp == other.Timestamp
           && Label == other.Label && Features.SequenceEqual(other.Features);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Id);
        h.Add(Group);
        h.Add(Timestamp);
        h.Add(Label);
        foreach (double f in Features) h.Add(f);
        return h.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => $"#{Id} {ContentKey}";
}

/// <summary>
/// A small tabular dataset as plain data — rows of id, group, timestamp, label and features — made by
/// <see cref="DatasetGen"/> for property tests, or by hand. Turn it into DataPrep input with
/// <see cref="ToRecordBatch"/>, <see cref="ToSplitInput"/> or <see cref="Assign"/>.
/// </summary>
/// <example>
/// <code>
/// var ds = new GeneratedDataset(DatasetShape.Ordinary, featureCount: 1,
/// [
///     new GeneratedRow(1, "spk1", new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), "yes", [0.5]),
///     new GeneratedRow(2, "spk2", new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Utc), "no", [1.5]),
/// ]);
/// var tags = ds.Assign(new RandomSplitAssigner([0.8, 0.1, 0.1], seed: 7, stratify: null)).Tags;
/// Leakage.IsPartition(ds.Ids, ds.SplitBy(tags, r => r.Id));
/// </code>
/// </example>
public sealed partial class GeneratedDataset
{
    /// <summary>The name of the row id column (Int64) in <see cref="Schema"/>.</summary>
    public const string IdColumn = "id";

    /// <summary>The name of the group key column (String).</summary>
    public const string GroupColumn = "group";

    /// <summary>The name of the timestamp column (Timestamp, UTC ticks).</summary>
    public const string TimeColumn = "timestamp";

    /// <summary>The name of the label column (String).</summary>
    public const string LabelColumn = "label";

    /// <summary>Creates a dataset.</summary>
    /// <param name="shape">Which generator made it (for display; nothing checks that the rows have that shape).</param>
    /// <param name="featureCount">The number of feature columns; every row must have that many features.</param>
    /// <param name="rows">The rows, in input order.</param>
    /// <exception cref="ArgumentException">Two rows share an id, a row has the wrong number of features, or a timestamp is not UTC.</exception>
    public GeneratedDataset(DatasetShape shape, int featureCount, IEnumerable<GeneratedRow> rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(featureCount);
        Shape = shape;
        FeatureCount = featureCount;
        Rows = rows.ToArray();
        var seen = new Dictionary<long, int>();
        for (int i = 0; i < Rows.Count; i++)
        {
            var r = Rows[i];
            if (!seen.TryAdd(r.Id, i)) throw new ArgumentException($"Rows {seen[r.Id]} and {i} (0-based) share the id {r.Id}; row ids must be unique.", nameof(rows));
            if (r.Features.Count != featureCount) throw new ArgumentException($"Row {i} (id {r.Id}) has {r.Features.Count} features, expected {featureCount}.", nameof(rows));
            if (r.Timestamp.Kind != DateTimeKind.Utc) throw new ArgumentException($"Row {i} (id {r.Id}) has a {r.Timestamp.Kind} timestamp; expected DateTimeKind.Utc.", nameof(rows));
            if (r.Id < 0) throw new ArgumentException($"Row {i} has the negative id {r.Id}; DataPrep row ids are (source << 40) | row.", nameof(rows));
        }
    }

    /// <summary>Which generator made the dataset. A dataset shrunk by FsCheck keeps its shape name but may have lost the shape.</summary>
    public DatasetShape Shape { get; }

    /// <summary>The number of feature columns (<c>f0</c>, <c>f1</c>, …).</summary>
    public int FeatureCount { get; }

    /// <summary>The rows in input order.</summary>
    public IReadOnlyList<GeneratedRow> Rows { get; }

    /// <summary>The number of rows.</summary>
    public int Count => Rows.Count;

    /// <summary>The row ids in input order.</summary>
    public long[] Ids => Rows.Select(r => r.Id).ToArray();

    /// <summary>The group keys in input order.</summary>
    public string[] Groups => Rows.Select(r => r.Group).ToArray();

    /// <summary>The timestamps in input order.</summary>
    public DateTime[] Times => Rows.Select(r => r.Timestamp).ToArray();

    /// <summary>The labels in input order.</summary>
    public string[] Labels => Rows.Select(r => r.Label).ToArray();

    /// <summary>The name of feature column <paramref name="index"/>: <c>f0</c>, <c>f1</c>, ….</summary>
    public static string FeatureColumn(int index) => "f" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The same dataset (shape, features) with only the rows that pass <paramref name="keep"/>.</summary>
    public GeneratedDataset Where(Func<GeneratedRow, bool> keep) => new(Shape, FeatureCount, Rows.Where(keep));

    /// <summary>The same dataset with the features removed.</summary>
    public GeneratedDataset WithoutFeatures() => new(Shape, 0, Rows.Select(r => r with { Features = [] }));

    /// <summary>Rows per group key, largest first (ties by key, ordinal).</summary>
    public IReadOnlyList<(string Group, int Rows)> GroupSizes()
        => Rows.GroupBy(r => r.Group, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count()))
            .OrderByDescending(g => g.Item2).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToArray();

    /// <summary>
    /// The rows as CSV (header <c>id,group,timestamp,label,f0,…</c>; timestamps ISO 8601 UTC; invariant numbers;
    /// LF line endings), for tests that go through files and the CLI.
    /// </summary>
    public string ToCsv()
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, CsvWriterOptions.Default with { NewLine = "\n" }, leaveOpen: true))
        {
            csv.WriteRecord([IdColumn, GroupColumn, TimeColumn, LabelColumn, .. Enumerable.Range(0, FeatureCount).Select(FeatureColumn)]);
            foreach (var r in Rows)
            {
                csv.WriteField(r.Id);
                csv.WriteField(r.Group);
                csv.WriteField(FormatTime(r.Timestamp));
                csv.WriteField(r.Label);
                foreach (double v in r.Features) csv.WriteField(v);
                csv.EndRecord();
            }
        }
        return text.ToString();
    }

    /// <summary>A one-line summary and, for small datasets, every row: what FsCheck prints for a counterexample.</summary>
    public override string ToString()
    {
        const int shown = 20;
        var sizes = GroupSizes();
        var sb = new StringBuilder();
        sb.Append(Shape).Append(": ").Append(Count).Append(Count == 1 ? " row" : " rows")
          .Append(", ").Append(sizes.Count).Append(sizes.Count == 1 ? " group" : " groups");
        if (sizes.Count > 0) sb.Append(" (largest '").Append(sizes[0].Group).Append("' ").Append(sizes[0].Rows).Append(')');
        int times = Rows.Select(r => r.Timestamp).Distinct().Count();
        sb.Append(", ").Append(times).Append(times == 1 ? " distinct timestamp, " : " distinct timestamps, ")
          .Append(FeatureCount).Append(FeatureCount == 1 ? " feature" : " features");
        for (int i = 0; i < Math.Min(shown, Count); i++) sb.Append("\n  ").Append(Rows[i]);
        if (Count > shown) sb.Append("\n  … ").Append(Count - shown).Append(" more");
        return sb.ToString();
    }

    /// <summary>ISO 8601 UTC with only as many fractional digits as needed.</summary>
    internal static string FormatTime(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);
}
