using System.Globalization;
using DataPrep.Data;
using DataPrep.Pipeline;

namespace DataPrep.Cli;

/// <summary>Parses the CLI's small value languages (sizes, COL=KIND lists) into option values.</summary>
internal static class OptionParsing
{
    /// <summary>"64MB", "1.5GiB", "500k", "1000" → bytes (k/M/G are powers of 1024); one parser for every size option.</summary>
    public static long ParseSize(string text, string option) => MemoryOptions.ParseSize(text, option);

    /// <summary>Splits repeated and comma-separated values: ["a,b", "c"] → [a, b, c].</summary>
    public static List<string> List(IEnumerable<string>? values)
        => values is null ? [] : values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();

    /// <summary>COL=KIND pairs.</summary>
    public static Dictionary<string, T> Pairs<T>(IEnumerable<string>? values, string option, Func<string, T?> parse, string expected) where T : struct
    {
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in List(values))
        {
            int eq = item.LastIndexOf('=');
            if (eq <= 0 || eq == item.Length - 1) throw new PipelineValidationException($"{option} {item} is not COLUMN=VALUE; expected e.g. {option} price=float.");
            var value = parse(item[(eq + 1)..].Trim().ToLowerInvariant());
            if (value is null) throw new PipelineValidationException($"{option} {item}: '{item[(eq + 1)..]}' is not one of {expected}.");
            result[item[..eq].Trim()] = value.Value;
        }
        return result;
    }

    public static ColumnKind? ParseKind(string s) => s switch
    {
        "float" or "double" or "float64" or "number" => ColumnKind.Float64,
        "int" or "integer" or "int64" or "long" => ColumnKind.Int64,
        "bool" or "boolean" => ColumnKind.Boolean,
        "string" or "text" or "category" or "categorical" => ColumnKind.String,
        "timestamp" or "date" or "datetime" or "time" => ColumnKind.Timestamp,
        _ => null,
    };

    public static FeatureEncoding? ParseEncoding(string s) => s switch
    {
        "none" => FeatureEncoding.None,
        "ordinal" => FeatureEncoding.Ordinal,
        "onehot" or "one-hot" => FeatureEncoding.OneHot,
        "epoch" or "epoch-seconds" => FeatureEncoding.Epoch,
        _ => null,
    };

    /// <summary>"error", "drop", "fill:VALUE".</summary>
    public static (MissingPolicy Policy, string? Fill) ParseMissing(string text)
    {
        if (text.Equals("error", StringComparison.OrdinalIgnoreCase)) return (MissingPolicy.Error, null);
        if (text.Equals("drop", StringComparison.OrdinalIgnoreCase)) return (MissingPolicy.Drop, null);
        if (text.StartsWith("fill:", StringComparison.OrdinalIgnoreCase) && text.Length > 5) return (MissingPolicy.Fill, text[5..]);
        throw new PipelineValidationException($"--missing {text} is not a policy; expected error, drop, fill:NUMBER, fill:mean or fill:TEXT.");
    }

    /// <summary>"error", "missing", "keep".</summary>
    public static NonFinitePolicy ParseNonFinite(string text) => text.ToLowerInvariant() switch
    {
        "error" => NonFinitePolicy.Error,
        "missing" => NonFinitePolicy.Missing,
        "keep" => NonFinitePolicy.Keep,
        _ => throw new PipelineValidationException($"--non-finite {text} is not a policy; expected error, missing or keep."),
    };

    /// <summary>"fail", "skip", "quarantine".</summary>
    public static BadRowPolicy ParseBadRow(string text) => text.ToLowerInvariant() switch
    {
        "fail" => BadRowPolicy.Fail,
        "skip" => BadRowPolicy.Skip,
        "quarantine" => BadRowPolicy.Quarantine,
        _ => throw new PipelineValidationException($"--on-bad-row {text} is not a policy; expected fail, skip or quarantine."),
    };

    public static DataPrep.Pipeline.TensorType ParseTensorType(string text, string option) => text.ToLowerInvariant() switch
    {
        "float32" or "float" => DataPrep.Pipeline.TensorType.Float32,
        "float64" or "double" => DataPrep.Pipeline.TensorType.Float64,
        "int32" or "int" => DataPrep.Pipeline.TensorType.Int32,
        _ => throw new PipelineValidationException($"{option} {text} is not a tensor type; expected float32, float64 or int32."),
    };

    /// <summary>--split: a method name, or fractions as a shorthand for a random split.</summary>
    public static (SplitMethod Method, (double, double, double)? Fractions) ParseSplitMethod(string? text) => text?.ToLowerInvariant() switch
    {
        null or "random" => (SplitMethod.Random, null),
        "time" => (SplitMethod.Time, null),
        "group" => (SplitMethod.Group, null),
        "noisy" or "noisy-clean" => (SplitMethod.NoisyClean, null),
        _ => (SplitMethod.Random, ParseSplit(text)),
    };

    /// <summary>An instant: ISO 8601 date or date-time (no offset means UTC).</summary>
    public static DateTimeOffset ParseInstant(string text)
        => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
            : throw new PipelineValidationException($"--cutoffs {text} is not an instant; expected an ISO 8601 date or date-time such as 2025-01-01 or 2025-01-01T12:00:00Z.");

    /// <summary>A duration: 7d, 12h, 30m, 45s, an ISO 8601 duration (P7D, PT12H) or d.hh:mm:ss.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var t = text.Trim();
        if (t.Length > 1 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double n))
        {
            switch (char.ToLowerInvariant(t[^1]))
            {
                case 'd': return TimeSpan.FromDays(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 's': return TimeSpan.FromSeconds(n);
                case 'w': return TimeSpan.FromDays(7 * n);
            }
        }
        if (t.StartsWith('P') || t.StartsWith('p'))
        {
            try { return System.Xml.XmlConvert.ToTimeSpan(t.ToUpperInvariant()); } catch (FormatException) { }
        }
        if (TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var span)) return span;
        throw new PipelineValidationException($"--gap {text} is not a duration; expected e.g. 7d, 12h, 30m, P7D or 7.00:00:00.");
    }

    /// <summary>
    /// Fractions come from one place only: <c>--split 80/10/10</c>, <c>--fractions</c>, or <c>--train/--validation/--test</c>.
    /// Two of them would silently let one win, so they are refused.
    /// </summary>
    public static void CheckFractionSources(string? split, bool splitHasFractions, string? fractions, double? train, double? validation, double? test)
    {
        var given = new List<string>();
        if (splitHasFractions) given.Add($"--split {split}");
        if (fractions is not null) given.Add($"--fractions {fractions}");
        var each = new[] { ("--train", train), ("--validation", validation), ("--test", test) }.Where(x => x.Item2 is not null)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Item1} {x.Item2}")).ToList();
        if (each.Count > 0) given.Add(string.Join(' ', each));
        if (given.Count > 1)
        {
            throw new PipelineValidationException($"{string.Join(" and ", given)} both set the split fractions; give them once (e.g. --fractions 70/15/15).");
        }
    }

    /// <summary>"80/10/10" or "0.8,0.1,0.1" → fractions.</summary>
    public static (double, double, double) ParseSplit(string text)
    {
        var parts = text.Split('/', ',', ':');
        if (parts.Length is < 2 or > 3 || !parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            throw new PipelineValidationException($"--split {text} is not a split; expected percentages or fractions such as 80/10/10, 0.7/0.15/0.15 or 90/10.");
        }
        var v = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        double sum = v.Sum();
        double scale = sum > 1.5 ? 100 : 1;
        return (v[0] / scale, v[1] / scale, v.Length > 2 ? v[2] / scale : 0);
    }

    /// <summary>Parses <c>--on-unseen reserve|error</c>.</summary>
    /// <exception cref="PipelineValidationException">Anything else.</exception>
    public static Pipeline.UnseenPolicy UnseenPolicy(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "reserve" or null => Pipeline.UnseenPolicy.Reserve,
        "error" => Pipeline.UnseenPolicy.Error,
        _ => throw new PipelineValidationException($"--on-unseen {text}: expected reserve or error."),
    };
}
