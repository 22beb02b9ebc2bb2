using System.Collections.Frozen;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace DataPrep.Cli;

/// <summary>
/// The ranges of the numeric options (one table for every command), checked by System.CommandLine validators while
/// parsing, and the one rendering of a parse error: a short line naming the option and what was expected, then
/// where to look (exit 2; no .NET type names, no help dump).
/// </summary>
internal static class OptionRules
{
    /// <summary>
    /// Option name → the smallest and largest value it accepts, and how to say so: the options whose range the libraries
    /// do not check themselves (0 or a negative number would mean "not given" there, or be taken silently).
    /// Ranges the option records check (--batch-rows, --folds, --train, --jpeg-quality, --upload-concurrency, --workers …)
    /// stay there, in one place, and reach the user as the same exit 2.
    /// </summary>
    private static readonly FrozenDictionary<string, (double Min, double Max, string Expected)> s_ranges = new Dictionary<string, (double Min, double Max, string Expected)>
    {
        ["--threads"] = (1, int.MaxValue, "at least 1 thread (leave it out for all cores)"),
        ["--num-features"] = (1, int.MaxValue, "at least 1 feature"),
        ["--shards"] = (1, int.MaxValue, "at least 1 shard per split"),
        ["--shard-rows"] = (1, long.MaxValue, "at least 1 row per shard"),
        ["--instances"] = (1, int.MaxValue, "at least 1 instance"),
        ["--noisy-validation"] = (0, 1, "a fraction between 0 and 1"),
        ["--max-examples"] = (0, int.MaxValue, "0 (none) or a positive number"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Adds the range validators to every option of <paramref name="root"/> and its subcommands that has a range.</summary>
    public static void AddTo(Command root)
    {
        foreach (var option in root.Options)
        {
            if (s_ranges.TryGetValue(option.Name, out var range)) option.Validators.Add(r => CheckRange(r, range));
        }
        foreach (var sub in root.Subcommands) AddTo(sub);
    }

    private static void CheckRange(OptionResult result, (double Min, double Max, string Expected) range)
    {
        // Defaults are not the user's; a value that is not a number gets the type error instead (see Describe).
        if (result.Implicit) return;
        foreach (var token in result.Tokens)
        {
            if (!double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) continue;
            if (v < range.Min || v > range.Max || double.IsNaN(v))
            {
                result.AddError($"{result.Option.Name} {token.Value} is out of range; expected {range.Expected}.");
                return;
            }
        }
    }

    /// <summary>
    /// The message of a parse that failed, or null when it did not (or asked for help, which wins over errors): the
    /// first error in words, then "See 'dataprep COMMAND --help'." for the command that was being parsed.
    /// </summary>
    public static string? Render(ParseResult parse)
    {
        if (parse.Errors.Count == 0 || parse.Action is not System.CommandLine.Invocation.ParseErrorAction) return null;
        return $"error: {Describe(parse.Errors[0])}\nSee '{CommandPath(parse.CommandResult.Command)} --help' for the options.";
    }

    /// <summary>"dataprep", "dataprep convert", … for a command of the tree.</summary>
    public static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Add(c is RootCommand ? "dataprep" : c.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>One error in the user's terms: a value that does not convert names the option, the value and what it takes.</summary>
    private static string Describe(ParseError error)
    {
        var option = error.SymbolResult switch
        {
            OptionResult o => o,
            ArgumentResult { Parent: OptionResult o } => o,
            _ => null,
        };
        if (option is not null && (error.Message.Contains("expected type", StringComparison.Ordinal) || error.Message.Contains("Cannot parse", StringComparison.Ordinal)))
        {
            // System.CommandLine's conversion message names the .NET type ('System.UInt64'): say what the option takes instead.
            var value = string.Join(' ', option.Tokens.Select(t => t.Value));
            return $"{option.Option.Name} {(value.Length == 0 ? "(no value)" : value)} is not {Expected(option.Option.ValueType)}.";
        }
        return error.Message;
    }

    private static string Expected(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "a whole number",
        var t when t == typeof(ulong) || t == typeof(uint) => "a whole number of 0 or more",
        var t when t == typeof(double) || t == typeof(float) => "a number (e.g. 0.5)",
        var t when t == typeof(bool) => "true or false",
        _ => "a valid value",
    };
}
