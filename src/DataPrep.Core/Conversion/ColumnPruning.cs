using DataPrep.Pipeline;
using DataPrep.Data;

namespace DataPrep.Conversion;

/// <summary>
/// The columns a run can use, so that sources with a columnar layout (Parquet) read only those and the split
/// does not gather the rest. Only when every column is named: with the default feature list (all but the
/// label and --drop), list formats, or columns given by index, first or last, every column is kept.
/// </summary>
internal static class ColumnPruning
{
    /// <summary>The names of the columns the run reads, or null for all.</summary>
    public static IReadOnlySet<string>? Needed(ConvertOptions options)
    {
        if (options.KeepsColumns || options.Features.Count == 0) return null;
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!options.NoLabel && options.Label is { } label) names.Add(label);
        names.UnionWith(options.Features);
        foreach (var c in new[] { options.TimeColumn, options.GroupColumn, options.Stratify, options.NoisyColumn, options.SeriesColumn }) if (c is not null) names.Add(c);
        names.UnionWith(options.DeepArCat);
        names.UnionWith(options.Encodings.Keys);
        // --drop's names too, so that the plan checks them against the input (pruned away, a dropped column that exists
        // was refused as one the input does not have).
        names.UnionWith(options.Drop);
        foreach (var n in names)
        {
            if (n.Length == 0 || n.Equals("first", StringComparison.OrdinalIgnoreCase) || n.Equals("last", StringComparison.OrdinalIgnoreCase) || n.All(char.IsAsciiDigit)) return null;
        }
        return names;
    }

    /// <summary>The schema without the columns the run does not read (unchanged when it reads none of them).</summary>
    public static Schema Prune(Schema schema, IReadOnlySet<string>? needed)
    {
        if (needed is null) return schema;
        var kept = schema.Fields.Where(f => needed.Contains(f.Name)).ToList();
        return kept.Count == 0 || kept.Count == schema.Count ? schema : new Schema(kept);
    }
}
