using System.Globalization;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Encoders;

/// <summary>
/// Which input column is the label and which are features, with their encodings: resolved against the
/// input schema before any data is read, so every option mistake is reported at once.
/// </summary>
public sealed class ColumnPlan
{
    private ColumnPlan(int label, IReadOnlyList<(int Index, FeatureEncoding Encoding)> features, Schema input)
    {
        LabelIndex = label;
        Features = features;
        Input = input;
    }

    /// <summary>The input schema.</summary>
    public Schema Input { get; }

    /// <summary>The label's column index, or -1.</summary>
    public int LabelIndex { get; }

    /// <summary>Feature column indexes with their encodings, in output order.</summary>
    public IReadOnlyList<(int Index, FeatureEncoding Encoding)> Features { get; }

    /// <summary>Every input column the output uses.</summary>
    public IEnumerable<int> Used => (LabelIndex >= 0 ? [LabelIndex] : Array.Empty<int>()).Concat(Features.Select(f => f.Index));

    /// <summary>Resolves a label spec: a name, a 0-based index, "first" or "last".</summary>
    public static int ResolveColumn(Schema schema, string spec, string option)
    {
        int i = schema.IndexOfSpec(spec);
        if (i >= 0) return i;
        if (int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new PipelineValidationException($"{option} {spec} is out of range: the input has {schema.Count} columns (0 to {schema.Count - 1}).");
        }
        var near = schema.Fields.FirstOrDefault(f => f.Name.Equals(spec, StringComparison.OrdinalIgnoreCase) || f.Name.Trim() == spec.Trim());
        throw new PipelineValidationException(
            $"{option} names column '{spec}', which the input does not have"
            + (near is not null ? $" (did you mean '{near.Name}'?)" : "")
            + $"; expected one of: {ColumnList(schema)}, a 0-based index, first or last.");
    }

    internal static string ColumnList(Schema schema)
    {
        var names = schema.Fields.Select(f => f.Name).ToList();
        return names.Count <= 20 ? string.Join(", ", names) : string.Join(", ", names.Take(20)) + $", … ({names.Count} columns)";
    }

    /// <summary>Builds the plan, collecting every problem into one <see cref="PipelineValidationException"/>.</summary>
    public static ColumnPlan Create(Schema schema, ConvertOptions options)
    {
        var problems = new List<string>();
        int label = -1;
        if (!options.NoLabel && options.Label is not null)
        {
            try { label = ResolveColumn(schema, options.Label, "--label"); }
            catch (PipelineValidationException e) { problems.Add(e.Message); }
        }
        if (label >= 0 && schema[label].Kind is ColumnKind.Sparse or ColumnKind.Binary or ColumnKind.Timestamp)
        {
            problems.Add($"The label column '{schema[label].Name}' is {schema[label].Kind}; expected numbers, booleans or text classes.");
        }

        var drop = new HashSet<int>();
        foreach (var d in options.Drop)
        {
            try
            {
                int i = ResolveColumn(schema, d, "--drop");
                // The label is written whatever --drop says; naming it there was ignored without a word.
                if (i == label) problems.Add($"--drop names the label column '{schema[i].Name}', which every record holds first; leave it out of --drop, or name another --label (or --no-label for features only).");
                drop.Add(i);
            }
            catch (PipelineValidationException e) { problems.Add(e.Message); }
        }
        var featureIndexes = new List<int>();
        if (options.Features.Count > 0)
        {
            foreach (var f in options.Features)
            {
                try
                {
                    int i = ResolveColumn(schema, f, "--features");
                    if (i == label) problems.Add($"--features names the label column '{schema[i].Name}'; the label is written first on its own.");
                    else if (featureIndexes.Contains(i)) problems.Add($"--features names '{schema[i].Name}' twice.");
                    else if (drop.Contains(i)) problems.Add($"--features lists '{schema[i].Name}', and --drop leaves it out; name it in one of the two.");
                    else featureIndexes.Add(i);
                }
                catch (PipelineValidationException e) { problems.Add(e.Message); }
            }
        }
        else
        {
            for (int i = 0; i < schema.Count; i++) if (i != label && !drop.Contains(i)) featureIndexes.Add(i);
        }
        foreach (var key in options.Encodings.Keys)
        {
            int i = schema.IndexOf(key);
            // Only features are encoded: an encoding of any other column was ignored without a word.
            if (i < 0) problems.Add($"--encode names column '{key}', which the input does not have; expected one of: {ColumnList(schema)}.");
            else if (i == label) problems.Add($"--encode names the label column '{key}'; only features are encoded (a label of text classes is numbered on its own).");
            else if (drop.Contains(i)) problems.Add($"--encode names column '{key}', and --drop leaves it out; drop the one or the other.");
            else if (!featureIndexes.Contains(i)) problems.Add($"--encode names column '{key}', which is not among --features ({string.Join(", ", featureIndexes.Select(f => schema[f].Name))}); add it there, or leave out its encoding.");
        }

        var features = new List<(int, FeatureEncoding)>();
        foreach (int i in featureIndexes)
        {
            var field = schema[i];
            var enc = options.Encodings.TryGetValue(field.Name, out var e) ? e
                : field.Kind == ColumnKind.String ? options.CategoricalEncoding
                : field.Kind == ColumnKind.Timestamp ? options.TimestampEncoding
                : FeatureEncoding.None;
            switch (field.Kind, enc)
            {
                case (ColumnKind.String, FeatureEncoding.None):
                    problems.Add($"Feature '{field.Name}' holds text{(field.KindEvidence is { } why ? $" ({why})" : "")}, and features must be numeric. Encode it (--encode {field.Name}=onehot or {field.Name}=ordinal, or --categorical onehot for every text column), drop it (--drop {field.Name}), or make it the label.");
                    break;
                case (ColumnKind.Timestamp, FeatureEncoding.None):
                    problems.Add($"Feature '{field.Name}' holds timestamps, and features must be numeric. Encode it as seconds since 1970 (--encode {field.Name}=epoch, or --timestamps epoch), or drop it (--drop {field.Name}).");
                    break;
                case (ColumnKind.Timestamp, not FeatureEncoding.Epoch):
                    problems.Add($"--encode {field.Name}={enc.ToString().ToLowerInvariant()} does not fit a timestamp column; expected epoch.");
                    break;
                case (not ColumnKind.Timestamp, FeatureEncoding.Epoch):
                    problems.Add($"--encode {field.Name}=epoch needs a timestamp column, but '{field.Name}' is {field.Kind}.");
                    break;
                case (ColumnKind.Float64 or ColumnKind.Sparse or ColumnKind.Binary, FeatureEncoding.Ordinal or FeatureEncoding.OneHot):
                    problems.Add($"--encode {field.Name}={enc.ToString().ToLowerInvariant()} needs a text, integer or boolean column, but '{field.Name}' is {field.Kind}.");
                    break;
                case (ColumnKind.Binary, _):
                    problems.Add($"Feature '{field.Name}' is binary (image bytes); tabular output cannot hold it. Drop it with --drop {field.Name}.");
                    break;
            }
            features.Add((i, enc));
        }
        if (features.Count == 0 && problems.Count == 0) problems.Add("No feature columns are left after the label and --drop; expected at least one.");
        if (problems.Count > 0) throw new PipelineValidationException(problems);
        return new ColumnPlan(label, features, schema);
    }
}
