using System.Globalization;
using System.Runtime.CompilerServices;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Encoders;

/// <summary>
/// Turns the planned columns into the numeric output layout: label first (text classes → 0…K−1),
/// then features (booleans 0/1, categories ordinal or one-hot, timestamps epoch seconds, fills).
/// Everything learned is learned from rows tagged train only; validation and test rows are encoded
/// with those maps, unseen values going to the reserved code K.
/// </summary>
public sealed class EncodeStage : IPipelineStage
{
    private readonly ConvertOptions _options;
    private ColumnPlan? _plan;
    private EncodingRecord? _fitted;

    /// <summary>An encoder that fits on the train split.</summary>
    public EncodeStage(ConvertOptions options) => _options = options;

    /// <summary>An encoder that applies maps learned by an earlier run (for <c>dataprep apply</c> and <c>--like</c>).</summary>
    /// <param name="options">The run's options.</param>
    /// <param name="fitted">The earlier run's maps.</param>
    /// <param name="unseen">
    /// <c>dataprep apply</c>: count values the maps do not hold per column (<see cref="RunReport.Unseen"/>) and reserve or
    /// refuse them; null (<c>--like</c>): map them to the reserved code without counting.
    /// </param>
    public EncodeStage(ConvertOptions options, EncodingRecord fitted, UnseenPolicy? unseen = null)
    {
        _options = options;
        _fitted = fitted;
        _unseen = unseen;
    }

    private readonly UnseenPolicy? _unseen;

    /// <summary>The learned encoding, after the stage ran.</summary>
    public EncodingRecord? Encoding => _fitted;

    /// <inheritdoc />
    public string Describe() => _fitted is null ? "encode (fitted on train)" : "encode (maps of an earlier run)";

    /// <inheritdoc />
    public Schema Bind(Schema input)
    {
        _plan = ColumnPlan.Create(input, _options);
        return OutputSchema(_plan, _fitted);
    }

    private static Schema OutputSchema(ColumnPlan plan, EncodingRecord? fitted)
    {
        var fields = new List<Field>();
        if (plan.LabelIndex >= 0)
        {
            var l = plan.Input[plan.LabelIndex];
            fields.Add(new Field(l.Name, l.Kind == ColumnKind.Float64 ? ColumnKind.Float64 : ColumnKind.Int64));
        }
        for (int k = 0; k < plan.Features.Count; k++)
        {
            var (i, enc) = plan.Features[k];
            var f = plan.Input[i];
            fields.Add(enc switch
            {
                FeatureEncoding.OneHot => new Field(f.Name, ColumnKind.Sparse, fitted?.Features[k].Width ?? 1),
                FeatureEncoding.Ordinal => new Field(f.Name, ColumnKind.Int64),
                FeatureEncoding.Epoch => new Field(f.Name, ColumnKind.Float64),
                _ => new Field(f.Name, f.Kind == ColumnKind.Boolean ? ColumnKind.Int64 : f.Kind, f.Width),
            });
        }
        return new Schema(fields);
    }

    /// <inheritdoc />
    /// <remarks>
    /// When nothing has to be learned from data (numeric label and features, no fill:mean, no categories),
    /// batches stream straight through. Otherwise all batches are held until train has been seen; beyond a
    /// quarter of the memory budget they go to a spill file and only the columns the fit reads stay in memory.
    /// </remarks>
    public async IAsyncEnumerable<RecordBatch> RunAsync(IAsyncEnumerable<RecordBatch> input, RunContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var plan = _plan ?? throw new InvalidOperationException("Bind first.");
        if (_fitted is null && FitColumns(plan, _options) is { Count: 0 }) _fitted = Fit(plan, [], _options);
        if (_fitted is not null)
        {
            context.Report.Encoding = _fitted;
            var streamed = OutputSchema(plan, _fitted);
            await foreach (var b in input.WithCancellation(cancellationToken).ConfigureAwait(false)) yield return Encode(plan, _fitted, streamed, b, context, _unseen);
            yield break;
        }
        var keep = FitColumns(plan, _options);
        var batches = new List<RecordBatch>();
        long bytes = 0, threshold = _options.Memory.EncodeThreshold;
        using var folder = new SpillFolder(_options.Memory.EffectiveTempDirectory);
        BatchSpillWriter? spill = null;
        Schema? inputSchema = null;
        // Only the columns this stage reads are spilled (the split's spill may already have left the others out).
        var unread = UnreadColumns();
        try
        {
            await foreach (var b in input.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                inputSchema = b.Schema;
                if (spill is null)
                {
                    bytes += BatchSize.Estimate(b);
                    batches.Add(b);
                    if (bytes <= threshold) continue;
                    spill = new BatchSpillWriter(folder.NewFile("encode.spill"), unreadColumns: unread);
                    for (int i = 0; i < batches.Count; i++) { spill.Write(batches[i]); batches[i] = Skeleton(batches[i], keep); }
                    continue;
                }
                spill.Write(b);
                batches.Add(Skeleton(b, keep));
            }
            _fitted = Fit(plan, batches, _options);
            foreach (var (name, classes) in UnseenLabels(plan, batches, _fitted))
            {
                context.Report.Warnings.Add(UnseenWarning(name, classes, _fitted));
            }
            context.Report.Encoding = _fitted;
            var schema = OutputSchema(plan, _fitted);
            if (spill is null)
            {
                foreach (var batch in batches)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return Encode(plan, _fitted, schema, batch, context, _unseen);
                }
                yield break;
            }
            spill.Dispose();
            batches.Clear();
            using var reader = new BatchSpillReader(spill.Path, inputSchema!, unreadColumns: unread);
            while (!reader.AtEnd)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return Encode(plan, _fitted, schema, reader.Read(), context, _unseen);
            }
        }
        finally
        {
            spill?.Dispose();
        }
    }

    /// <summary>By input column, after <see cref="Bind"/>, whether this stage never reads it: neither the label nor a feature (a new array each call).</summary>
    internal bool[] UnreadColumns()
    {
        var plan = _plan ?? throw new InvalidOperationException("Bind first.");
        var unread = new bool[plan.Input.Count];
        Array.Fill(unread, true);
        foreach (int c in plan.Used) unread[c] = false;
        return unread;
    }

    /// <summary>
    /// The input Float64 features this stage hands on as they are, after <see cref="Bind"/>: no encoding, no fill (no
    /// <c>--missing fill</c>, so nothing reads their values to fill or fit), not the label. Their values reach the sink
    /// untouched and nothing here reads them.
    /// </summary>
    internal IReadOnlyCollection<int> PassedThroughFloat64Features
    {
        get
        {
            var plan = _plan ?? throw new InvalidOperationException("Bind first.");
            if (_options.Missing == MissingPolicy.Fill) return [];
            var fit = FitColumns(plan, _options);
            var passed = new List<int>();
            for (int k = 0; k < plan.Features.Count; k++)
            {
                var (i, enc) = plan.Features[k];
                if (enc != FeatureEncoding.None || i == plan.LabelIndex || fit.Contains(i) || plan.Input[i].Kind != ColumnKind.Float64) continue;
                if (_fitted is not null && (_fitted.Features.Count <= k || _fitted.Features[k].Fill is not null || _fitted.Features[k].Encoding != "none")) continue;
                passed.Add(i);
            }
            return passed;
        }
    }

    /// <summary>
    /// Whether every batch leaves this stage with the columns it came with, as they are and in order, after <see cref="Bind"/>:
    /// the label (if any) is the first column and numeric, the features are all the others in order, none encoded, filled
    /// (<c>--missing fill</c>) or fitted, none Boolean (written as 0/1 integers), also under an earlier run's maps. Such a
    /// batch keeps its rows' text (<see cref="RecordBatch.Raw"/>) for the writer.
    /// </summary>
    internal bool HandsOnEveryColumn
    {
        get
        {
            var plan = _plan ?? throw new InvalidOperationException("Bind first.");
            if (_options.Missing == MissingPolicy.Fill || FitColumns(plan, _options).Count > 0) return false;
            int next = 0;
            if (plan.LabelIndex >= 0)
            {
                if (plan.LabelIndex != 0 || plan.Input[0].Kind is not (ColumnKind.Float64 or ColumnKind.Int64)) return false;
                next = 1;
            }
            for (int k = 0; k < plan.Features.Count; k++)
            {
                var (i, enc) = plan.Features[k];
                if (i != next++ || enc != FeatureEncoding.None || plan.Input[i].Kind is not (ColumnKind.Float64 or ColumnKind.Int64)) return false;
                if (_fitted is not null && (_fitted.Features.Count <= k || _fitted.Features[k].Fill is not null || _fitted.Features[k].Encoding != "none")) return false;
            }
            return next == plan.Input.Count;
        }
    }

    /// <summary>The label's input column, or −1 without a label (after <see cref="Bind"/>).</summary>
    internal int LabelIndex => (_plan ?? throw new InvalidOperationException("Bind first.")).LabelIndex;

    /// <summary>Whether the stage learns from the data (it has no maps given and some column needs fitting).</summary>
    internal bool Learns => _fitted is null && FitColumns(_plan ?? throw new InvalidOperationException("Bind first."), _options).Count > 0;

    /// <summary>
    /// The input columns whose train values the fit averages (<c>--missing fill:mean</c>: the numeric features), after
    /// <see cref="Bind"/>. Their means are exact whatever the order (<see cref="ExactMean"/>), so a plan may sum them
    /// apart (<see cref="AddTrainValue"/>) and hand them to <see cref="FitApart"/>.
    /// </summary>
    internal IReadOnlyCollection<int> MeanColumnIndexes => MeanColumns(_plan ?? throw new InvalidOperationException("Bind first."), _options);

    /// <summary>
    /// The input columns whose fit is a set of values (a text label, categories), after <see cref="Bind"/>: one row for
    /// every new (column, split, value) teaches the fit as much as every row.
    /// </summary>
    internal IReadOnlyCollection<int> SetColumnIndexes
    {
        get
        {
            var plan = _plan ?? throw new InvalidOperationException("Bind first.");
            var set = FitColumns(plan, _options);
            set.ExceptWith(MeanColumns(plan, _options));
            return set;
        }
    }

    /// <summary>Adds the value of row <paramref name="r"/> of <paramref name="column"/> to <paramref name="mean"/> unless it is missing.</summary>
    internal static void AddTrainValue(ExactMean mean, Column column, int r)
    {
        if (!MissingValuesStage.IsMissing(column, r)) mean.Add(NumericValue(column, r));
    }

    /// <summary>The input columns the fit reads (after <see cref="Bind"/>).</summary>
    internal IReadOnlyCollection<int> FitColumnIndexes => FitColumns(_plan ?? throw new InvalidOperationException("Bind first."), _options);

    /// <summary>
    /// Fits on rows given apart from the stage's run (a scaled-out run's plan step): <paramref name="batches"/> are the
    /// rows in the order this stage would receive them (split by split, in output order) with at least the
    /// <see cref="FitColumnIndexes"/> columns and split tags. Returns what <see cref="RunAsync"/> learns and warns.
    /// </summary>
    /// <paramref name="means"/>, when given, holds the train values of every <see cref="MeanColumnIndexes"/> column,
    /// summed apart; the batches then need only the <see cref="SetColumnIndexes"/> columns.
    internal (EncodingRecord Fitted, List<string> Warnings) FitApart(List<RecordBatch> batches, IReadOnlyDictionary<int, ExactMean>? means = null)
    {
        var plan = _plan ?? throw new InvalidOperationException("Bind first.");
        var fitted = _fitted ?? Fit(plan, batches, _options, means);
        var warnings = new List<string>();
        if (_fitted is null)
        {
            foreach (var (name, classes) in UnseenLabels(plan, batches, fitted))
            {
                warnings.Add(UnseenWarning(name, classes, fitted));
            }
        }
        return (fitted, warnings);
    }

    private static string UnseenWarning(string split, List<string> classes, EncodingRecord fitted)
        => $"Label classes {string.Join(", ", classes.Take(5).Select(c => $"'{c}'"))} of split {split} never occur in train; their rows get the reserved class id {fitted.Label!.Classes!.Count}.";

    /// <summary>The input columns <see cref="Fit"/> reads: a text label, categories, and columns filled with their mean.</summary>
    private static HashSet<int> FitColumns(ColumnPlan plan, ConvertOptions options)
    {
        var keep = new HashSet<int>();
        if (plan.LabelIndex >= 0 && plan.Input[plan.LabelIndex].Kind == ColumnKind.String) keep.Add(plan.LabelIndex);
        bool fillMean = FillsMean(options);
        foreach (var (i, enc) in plan.Features)
        {
            if (enc is FeatureEncoding.Ordinal or FeatureEncoding.OneHot || fillMean) keep.Add(i);
        }
        return keep;
    }

    private static bool FillsMean(ConvertOptions options)
        => options.Missing == MissingPolicy.Fill && string.Equals(options.FillValue, "mean", StringComparison.OrdinalIgnoreCase);

    /// <summary>The features filled with their mean (numeric ones: a text feature with fill:mean is refused by the fit).</summary>
    private static HashSet<int> MeanColumns(ColumnPlan plan, ConvertOptions options)
        => FillsMean(options) ? plan.Features.Where(f => IsNumeric(plan.Input[f.Index].Kind)).Select(f => f.Index).ToHashSet() : [];

    private static bool IsNumeric(ColumnKind kind) => kind is ColumnKind.Float64 or ColumnKind.Int64 or ColumnKind.Boolean or ColumnKind.Timestamp;

    /// <summary>A batch reduced to the columns the fit reads and the split tags; the rest was spilled.</summary>
    private static RecordBatch Skeleton(RecordBatch b, HashSet<int> keep)
    {
        var cols = new Column[b.Columns.Count];
        for (int c = 0; c < cols.Length; c++) cols[c] = keep.Contains(c) ? b.Columns[c] : new SpilledColumn(b.Columns[c].Kind, b.RowCount);
        return new RecordBatch(b.Schema, cols, b.RowCount, new RowInfo([], [], [], b.Rows.Splits));
    }

    private static bool IsTrain(RecordBatch b, int r) => b.Rows.Splits is null || b.Rows.Splits[r] == SplitTag.Train;

    /// <summary>Learns label classes, vocabularies and fills from the rows tagged train.</summary>
    /// <remarks><paramref name="means"/>: as in <see cref="FitApart"/>.</remarks>
    internal static EncodingRecord Fit(ColumnPlan plan, IReadOnlyList<RecordBatch> batches, ConvertOptions options, IReadOnlyDictionary<int, ExactMean>? means = null)
    {
        var record = new EncodingRecord { Missing = options.Missing.ToString().ToLowerInvariant() };
        if (plan.LabelIndex >= 0)
        {
            var field = plan.Input[plan.LabelIndex];
            record.Label = new LabelRecord { Name = field.Name, Kind = field.Kind };
            if (field.Kind == ColumnKind.String) record.Label.Classes = TrainValues(batches, plan.LabelIndex, fill: null);
        }
        int offset = 0;
        foreach (var (i, enc) in plan.Features)
        {
            var field = plan.Input[i];
            var fr = new FeatureRecord { Name = field.Name, Kind = field.Kind, Encoding = enc.ToString().ToLowerInvariant(), Offset = offset };
            if (field.Kind == ColumnKind.Boolean && enc == FeatureEncoding.None) fr.Encoding = "boolean01";
            if (options.Missing == MissingPolicy.Fill) fr.Fill = FitFill(batches, i, field, options.FillValue!, means);
            // A filled category is a category like any other, so the fill joins the vocabulary when train needs it.
            if (enc is FeatureEncoding.Ordinal or FeatureEncoding.OneHot) fr.Vocabulary = TrainValues(batches, i, fr.Fill);
            if (enc == FeatureEncoding.OneHot) fr.Width = fr.Vocabulary!.Count + 1;
            else fr.Width = field.Width; // sparse inputs (LibSVM) keep their width
            record.Features.Add(fr);
            offset += fr.Width;
        }
        record.FeatureWidth = offset;
        return record;
    }

    private static string FitFill(IReadOnlyList<RecordBatch> batches, int col, Field field, string fill, IReadOnlyDictionary<int, ExactMean>? means)
    {
        if (!fill.Equals("mean", StringComparison.OrdinalIgnoreCase)) return fill;
        if (!IsNumeric(field.Kind))
        {
            throw new PipelineValidationException($"--missing fill:mean cannot fill text column '{field.Name}'; use fill:TEXT or --missing drop.");
        }
        var mean = means?.GetValueOrDefault(col);
        if (mean is null)
        {
            mean = new ExactMean();
            foreach (var b in batches)
            {
                var c = b.Columns[col];
                for (int r = 0; r < b.RowCount; r++)
                {
                    if (IsTrain(b, r)) AddTrainValue(mean, c, r);
                }
            }
        }
        if (!mean.TryMean(out double value))
        {
            throw new DataFormatException(
                $"--missing fill:mean: train holds both +Infinity ({mean.PositiveInfinities:N0} rows) and -Infinity ({mean.NegativeInfinities:N0} rows), so the mean is undefined; use fill:VALUE or --missing drop.",
                column: field.Name);
        }
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    private static List<string> TrainValues(IReadOnlyList<RecordBatch> batches, int col, string? fill)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in batches)
        {
            var c = b.Columns[col];
            for (int r = 0; r < b.RowCount; r++)
            {
                if (!IsTrain(b, r)) continue;
                if (!c.IsNull(r)) set.Add(TextOf(c, r));
                else if (fill is not null) set.Add(fill);
            }
        }
        return set.Order(StringComparer.Ordinal).ToList();
    }

    private static IEnumerable<(string Split, List<string> Classes)> UnseenLabels(ColumnPlan plan, List<RecordBatch> batches, EncodingRecord fitted)
    {
        if (fitted.Label?.Classes is not { } classes) yield break;
        var known = new HashSet<string>(classes, StringComparer.Ordinal);
        var unseen = new SortedDictionary<SplitTag, SortedSet<string>>();
        foreach (var b in batches)
        {
            var c = b.Columns[plan.LabelIndex];
            for (int r = 0; r < b.RowCount; r++)
            {
                if (c.IsNull(r) || known.Contains(TextOf(c, r))) continue;
                var tag = b.Rows.Splits?[r] ?? SplitTag.None;
                if (!unseen.TryGetValue(tag, out var set)) unseen[tag] = set = new SortedSet<string>(StringComparer.Ordinal);
                set.Add(TextOf(c, r));
            }
        }
        foreach (var (tag, set) in unseen) yield return (tag.Name(), set.ToList());
    }

    /// <summary>The text of a categorical value (strings as they are, integers and booleans invariant).</summary>
    internal static string TextOf(Column c, int r) => c switch
    {
        StringColumn s => s.Values[r]!,
        Int64Column l => l.Values[r].ToString(CultureInfo.InvariantCulture),
        BooleanColumn b => b.Values[r] ? "true" : "false",
        _ => throw new NotSupportedException(c.Kind.ToString()),
    };

    private static double NumericValue(Column c, int r) => c switch
    {
        Float64Column d => d.Values[r],
        Int64Column l => l.Values[r],
        BooleanColumn b => b.Values[r] ? 1 : 0,
        TimestampColumn t => t.EpochSeconds(r),
        _ => throw new NotSupportedException(c.Kind.ToString()),
    };

    private static RecordBatch Encode(ColumnPlan plan, EncodingRecord fitted, Schema schema, RecordBatch batch, RunContext context, UnseenPolicy? unseen)
    {
        var cols = new List<Column>(schema.Count);
        int n = batch.RowCount;
        var check = unseen is { } policy ? new UnseenCheck(policy, batch, context) : null;
        if (plan.LabelIndex >= 0)
        {
            var src = batch.Columns[plan.LabelIndex];
            cols.Add(src switch
            {
                StringColumn s => Codes(s, n, fitted.Label!.Classes!, check, batch.Schema[plan.LabelIndex].Name),
                BooleanColumn b => ToInt(b, n),
                Float64Column or Int64Column => src,
                _ => throw new NotSupportedException(src.Kind.ToString()),
            });
        }
        for (int k = 0; k < plan.Features.Count; k++)
        {
            var (i, enc) = plan.Features[k];
            var fr = fitted.Features[k];
            var src = batch.Columns[i];
            if (fr.Fill is not null && src.Nulls is not null || src is Float64Column && fr.Fill is not null)
            {
                src = Filled(src, fr, n, context);
            }
            cols.Add(enc switch
            {
                FeatureEncoding.Ordinal => Codes(src, n, fr.Vocabulary!, check, fr.Name),
                FeatureEncoding.OneHot => OneHot(src, n, fr.Vocabulary!, check, fr.Name),
                FeatureEncoding.Epoch => Epoch((TimestampColumn)src, n),
                _ => src is BooleanColumn b ? ToInt(b, n) : src,
            });
        }
        // Columns passed through unchanged, in the input's order and names: the input text still describes them.
        bool unchanged = cols.Count == batch.Columns.Count && schema.Count == batch.Schema.Count;
        for (int c = 0; unchanged && c < cols.Count; c++)
        {
            unchanged = ReferenceEquals(cols[c], batch.Columns[c]) && string.Equals(schema[c].Name, batch.Schema[c].Name, StringComparison.Ordinal);
        }
        return new RecordBatch(schema, cols, n, batch.Rows) { Raw = unchanged ? batch.Raw : null };
    }

    private static Column Filled(Column src, FeatureRecord fr, int n, RunContext context)
    {
        int filled = 0;
        Column result;
        switch (src)
        {
            case Float64Column d:
            {
                double fill = ParseFill(fr);
                var v = d.Span.ToArray();
                for (int r = 0; r < n; r++) if (MissingValuesStage.IsMissing(d, r)) { v[r] = fill; filled++; }
                result = new Float64Column(v);
                break;
            }
            case Int64Column l:
            {
                double fill = ParseFill(fr);
                if (fill != Math.Floor(fill))
                {
                    // A fractional fill turns an integer column into floats rather than rounding silently.
                    var v = new double[n];
                    for (int r = 0; r < n; r++) { if (l.IsNull(r)) { v[r] = fill; filled++; } else v[r] = l.Values[r]; }
                    result = new Float64Column(v);
                }
                else
                {
                    var v = l.Span.ToArray();
                    for (int r = 0; r < n; r++) if (l.IsNull(r)) { v[r] = (long)fill; filled++; }
                    result = new Int64Column(v);
                }
                break;
            }
            case BooleanColumn b:
            {
                double fill = ParseFill(fr);
                var v = b.Span.ToArray();
                for (int r = 0; r < n; r++) if (b.IsNull(r)) { v[r] = fill != 0; filled++; }
                result = new BooleanColumn(v);
                break;
            }
            case StringColumn s:
            {
                var v = s.Span.ToArray();
                for (int r = 0; r < n; r++) if (v[r] is null) { v[r] = fr.Fill; filled++; }
                result = new StringColumn(v);
                break;
            }
            case TimestampColumn t:
            {
                double fill = ParseFill(fr);
                var v = t.Span.ToArray();
                long ticks = DateTime.UnixEpoch.Ticks + (long)(fill * TimeSpan.TicksPerSecond);
                for (int r = 0; r < n; r++) if (t.IsNull(r)) { v[r] = ticks; filled++; }
                result = new TimestampColumn(v, null, n);
                break;
            }
            default:
                return src;
        }
        if (filled > 0)
        {
            lock (context.Report.Filled) context.Report.Filled[fr.Name] = context.Report.Filled.GetValueOrDefault(fr.Name) + filled;
        }
        return result;
    }

    private static double ParseFill(FeatureRecord fr)
        => double.TryParse(fr.Fill, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new PipelineValidationException($"--missing fill:{fr.Fill} cannot fill numeric column '{fr.Name}'; expected a number or mean.");

    private static Int64Column ToInt(BooleanColumn b, int n)
    {
        var v = new long[n];
        for (int r = 0; r < n; r++) v[r] = b.Values[r] ? 1 : 0;
        return new Int64Column(v, b.Nulls, n);
    }

    private static Int64Column Codes(Column src, int n, List<string> vocabulary, UnseenCheck? check = null, string? column = null)
    {
        var map = Lookup(vocabulary);
        var v = new long[n];
        for (int r = 0; r < n; r++) v[r] = src.IsNull(r) ? vocabulary.Count : map.GetValueOrDefault(TextOf(src, r), vocabulary.Count);
        check?.Count(src, v, vocabulary, column!);
        return new Int64Column(v);
    }

    private static SparseColumn OneHot(Column src, int n, List<string> vocabulary, UnseenCheck? check = null, string? column = null)
    {
        var map = Lookup(vocabulary);
        var offsets = new int[n + 1];
        var idx = new int[n];
        var val = new double[n];
        for (int r = 0; r < n; r++)
        {
            idx[r] = src.IsNull(r) ? vocabulary.Count : map.GetValueOrDefault(TextOf(src, r), vocabulary.Count);
            val[r] = 1;
            offsets[r + 1] = r + 1;
        }
        if (check is not null)
        {
            var codes = new long[n];
            for (int r = 0; r < n; r++) codes[r] = idx[r];
            check.Count(src, codes, vocabulary, column!);
        }
        return new SparseColumn(vocabulary.Count + 1, offsets, idx, val, n);
    }

    /// <summary>
    /// <c>dataprep apply</c>: counts the values of a column that the earlier run's map does not hold (code K, the value
    /// present: a missing value is not "unseen") into <see cref="RunReport.Unseen"/>, or stops at the first one.
    /// </summary>
    private sealed class UnseenCheck(UnseenPolicy policy, RecordBatch batch, RunContext context)
    {
        public void Count(Column src, long[] codes, List<string> vocabulary, string column)
        {
            long unseen = 0;
            for (int r = 0; r < codes.Length; r++)
            {
                if (codes[r] != vocabulary.Count || src.IsNull(r)) continue;
                if (policy == UnseenPolicy.Error)
                {
                    int source = batch.Rows.Sources[r];
                    string file = source < context.Inputs.Count ? context.Inputs[source] : $"input {source}";
                    string value = TextOf(src, r);
                    if (value.Length > 60) value = value[..60] + "…";
                    string known = string.Join(", ", vocabulary.Take(8).Select(v => $"'{v}'")) + (vocabulary.Count > 8 ? $", … ({vocabulary.Count} in all)" : "");
                    throw Throw.Format(
                        $"found '{value}', which the run's train split never had; expected one of {known}, or --on-unseen reserve to map it to the reserved code {vocabulary.Count}",
                        file, row: batch.Rows.SourceRows[r], column: column);
                }
                unseen++;
            }
            var counts = context.Report.Unseen ??= new SortedDictionary<string, long>(StringComparer.Ordinal);
            lock (counts) counts[column] = counts.GetValueOrDefault(column) + unseen;
        }
    }

    private static Dictionary<string, int> Lookup(List<string> vocabulary)
    {
        var map = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int k = 0; k < vocabulary.Count; k++) map[vocabulary[k]] = k;
        return map;
    }

    private static Float64Column Epoch(TimestampColumn t, int n)
    {
        var v = new double[n];
        for (int r = 0; r < n; r++) v[r] = t.EpochSeconds(r);
        return new Float64Column(v, t.Nulls, n);
    }
}
