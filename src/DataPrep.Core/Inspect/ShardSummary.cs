using System.Globalization;

namespace DataPrep.Inspect;

/// <summary>What a whole shard holds: counts, types, widths and the label distribution.</summary>
public sealed record ShardSummary
{
    /// <summary>The most distinct label values <see cref="LabelCounts"/> holds; records with other values are counted in <see cref="OtherLabelRecords"/>.</summary>
    public const int MaxDistinctLabels = 50;

    /// <summary>The file.</summary>
    public required string File { get; init; }

    /// <summary>The format.</summary>
    public required ShardFormat Format { get; init; }

    /// <summary>The number of records.</summary>
    public long Records { get; init; }

    /// <summary>The feature dtype (several joined by ", " when records differ); null without records.</summary>
    public string? DType { get; init; }

    /// <summary>The label dtype (several joined by ", " when records differ); null when no record has a label.</summary>
    public string? LabelDType { get; init; }

    /// <summary>Records with dense features.</summary>
    public long DenseRecords { get; init; }

    /// <summary>Records with sparse features.</summary>
    public long SparseRecords { get; init; }

    /// <summary>dense, sparse, dense+sparse, or null without records.</summary>
    public string? Layout => (DenseRecords, SparseRecords) switch
    {
        (0, 0) => null,
        (_, 0) => "dense",
        (0, _) => "sparse",
        _ => "dense+sparse",
    };

    /// <summary>The feature width: the largest dense length or sparse shape.</summary>
    public ulong FeatureWidth { get; init; }

    /// <summary>The smallest dense length or sparse shape; differs from <see cref="FeatureWidth"/> when rows are ragged.</summary>
    public ulong MinFeatureWidth { get; init; }

    /// <summary>Stored feature values in all records (for sparse records: the non-zeros).</summary>
    public long StoredValues { get; init; }

    /// <summary>Feature values that are NaN.</summary>
    public long NaNValues { get; init; }

    /// <summary>Feature values that are ±infinity.</summary>
    public long InfiniteValues { get; init; }

    /// <summary>Records with a label.</summary>
    public long LabeledRecords { get; init; }

    /// <summary>Records per label value (multi-value labels joined by ","), for at most <see cref="MaxDistinctLabels"/> values, ordered by value.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> LabelCounts { get; init; } = [];

    /// <summary>Labeled records whose value is not in <see cref="LabelCounts"/> because more than <see cref="MaxDistinctLabels"/> values occur.</summary>
    public long OtherLabelRecords { get; init; }

    /// <summary>Whether more than <see cref="MaxDistinctLabels"/> distinct label values occur.</summary>
    public bool LabelsCapped => OtherLabelRecords > 0;

    /// <summary>Records with a uid.</summary>
    public long UidRecords { get; init; }

    /// <summary>Records with metadata.</summary>
    public long MetadataRecords { get; init; }

    /// <summary>Things a trainer would likely trip over (ragged widths, records without labels, mixed dtypes).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>Accumulates a <see cref="ShardSummary"/> one record at a time.</summary>
public sealed class ShardSummaryBuilder(string file, ShardFormat format)
{
    private readonly Dictionary<string, (double Sort, long Count)> _labels = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _dtypes = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _labelDTypes = new(StringComparer.Ordinal);
    private long _records, _dense, _sparse, _stored, _nan, _inf, _labeled, _other, _uid, _metadata;
    private ulong _maxWidth, _minWidth = ulong.MaxValue;

    /// <summary>Adds one record.</summary>
    public void Add(ShardRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _records++;
        _dtypes.Add(record.DType);
        if (record.IsSparse) _sparse++;
        else _dense++;
        ulong width = record.Width;
        _maxWidth = Math.Max(_maxWidth, width);
        _minWidth = Math.Min(_minWidth, width);
        _stored += record.Values.Length;
        foreach (double v in record.Values)
        {
            if (double.IsNaN(v)) _nan++;
            else if (double.IsInfinity(v)) _inf++;
        }
        if (record.Uid is not null) _uid++;
        if (record.Metadata is not null) _metadata++;
        if (record.Label is { } label)
        {
            _labeled++;
            if (record.LabelDType is { } ld) _labelDTypes.Add(ld);
            string key = LabelKey(label, record.LabelDType);
            if (_labels.TryGetValue(key, out var entry)) _labels[key] = (entry.Sort, entry.Count + 1);
            else if (_labels.Count < ShardSummary.MaxDistinctLabels) _labels[key] = (label.Length > 0 ? label[0] : double.NegativeInfinity, 1);
            else _other++;
        }
    }

    /// <summary>The summary of the records added so far.</summary>
    public ShardSummary Build()
    {
        var warnings = new List<string>();
        if (_records > 0 && _minWidth != _maxWidth)
        {
            warnings.Add(FormattableString.Invariant($"records have from {_minWidth} to {_maxWidth} feature columns; trainers expect one width"));
        }
        if (_labeled > 0 && _labeled < _records)
        {
            warnings.Add(FormattableString.Invariant($"{_records - _labeled:N0} of {_records:N0} records have no label"));
        }
        if (_dtypes.Count > 1) warnings.Add(FormattableString.Invariant($"records mix feature dtypes ({string.Join(", ", _dtypes)})"));
        if (_dense > 0 && _sparse > 0) warnings.Add(FormattableString.Invariant($"records mix dense ({_dense:N0}) and sparse ({_sparse:N0}) features"));
        if (_nan > 0) warnings.Add(FormattableString.Invariant($"{_nan:N0} feature values are NaN"));
        if (_inf > 0) warnings.Add(FormattableString.Invariant($"{_inf:N0} feature values are infinite"));
        return new ShardSummary
        {
            File = file,
            Format = format,
            Records = _records,
            DType = _dtypes.Count == 0 ? null : string.Join(", ", _dtypes),
            LabelDType = _labelDTypes.Count == 0 ? null : string.Join(", ", _labelDTypes),
            DenseRecords = _dense,
            SparseRecords = _sparse,
            FeatureWidth = _maxWidth,
            MinFeatureWidth = _records == 0 ? 0 : _minWidth,
            StoredValues = _stored,
            NaNValues = _nan,
            InfiniteValues = _inf,
            LabeledRecords = _labeled,
            LabelCounts = _labels
                .OrderBy(kv => kv.Value.Sort).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Count))
                .ToList(),
            OtherLabelRecords = _other,
            UidRecords = _uid,
            MetadataRecords = _metadata,
            Warnings = warnings,
        };
    }

    /// <summary>A label as text: shortest round-trip (as float32 for float32 labels), several values joined by ",".</summary>
    public static string LabelKey(double[] label, string? dtype)
        => string.Join(",", label.Select(v => FormatNumber(v, dtype)));

    /// <summary>A number as text: shortest round-trip, as float32 for float32 values; NaN, Infinity, -Infinity.</summary>
    public static string FormatNumber(double value, string? dtype)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        return dtype == RecordIO.TensorDTypes.Float32
            ? ((float)value).ToString("R", CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);
    }
}
