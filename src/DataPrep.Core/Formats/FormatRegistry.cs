using System.Collections.Frozen;
using DataPrep.Pipeline;

namespace DataPrep.Formats;

/// <summary>
/// The output formats a composition knows, each one <see cref="OutputFormatDefinition"/> registered once (by
/// <c>AddX(this FormatRegistry)</c> extensions in the format's own folder). <c>--format</c>'s accepted names and
/// help, the fluent API and the run record all come from here. An instance, never a static.
/// </summary>
public sealed class FormatRegistry
{
    private readonly List<OutputFormatDefinition> _formats = [];

    /// <summary>The formats in registration order.</summary>
    public IReadOnlyList<OutputFormatDefinition> All => _formats;

    /// <summary>Adds a format; a later format with the same name replaces the earlier one.</summary>
    /// <returns>The same registry, for chaining.</returns>
    /// <exception cref="ArgumentException">One of its names already names another format.</exception>
    public FormatRegistry Add(OutputFormatDefinition format)
    {
        ArgumentNullException.ThrowIfNull(format);
        _formats.RemoveAll(f => f.Name.Equals(format.Name, StringComparison.OrdinalIgnoreCase));
        foreach (var name in Names(format))
        {
            if (_formats.FirstOrDefault(f => Names(f).Contains(name)) is { } other)
            {
                throw new ArgumentException($"The format name '{name}' of {format.Name} already names {other.Name}.", nameof(format));
            }
        }
        _formats.Add(format);
        return this;
    }

    /// <summary>The format of a name or alias (case, '-' and '_' ignored), or null.</summary>
    public OutputFormatDefinition? Find(string name)
    {
        var key = Normalize(name);
        return _formats.FirstOrDefault(f => Names(f).Contains(key));
    }

    /// <summary>The format of a name or alias.</summary>
    /// <exception cref="PipelineValidationException">No registered format has that name; the message lists them.</exception>
    public OutputFormatDefinition Get(string name)
        => Find(name) ?? throw new PipelineValidationException(Unknown(name));

    /// <summary>
    /// The message for a format name no registered format has: the names this registry knows, and which plug-in adds the
    /// format when it is one of DataPrep's own (<c>parquet</c>: DataPrep.Parquet).
    /// </summary>
    public string Unknown(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string text = $"--format {name} is not an output format; expected {Expected()}.";
        return PlugIn(name) is { } plugIn ? $"{text} {name} comes with the plug-in {plugIn}: add it to the registry." : text;
    }

    /// <summary>The plug-in package (and the call that adds it) of one of DataPrep's own formats that the core does not register, or null.</summary>
    public static string? PlugIn(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return KnownPlugIns.Of(Normalize(name));
    }

    /// <summary>
    /// The reader of a shard format found by content: the registered output format's own (Parquet's comes with
    /// DataPrep.Parquet), else the core's, which reads the text and RecordIO formats and names the plug-in a Parquet
    /// file needs.
    /// </summary>
    public Inspect.IShardReader ReaderOf(Inspect.ShardFormat format)
        => Find(Inspect.ShardFormats.Name(format))?.Reader ?? new Inspect.ShardFormatReader(format);

    /// <summary>The names <c>--format</c> takes, for messages: "csv, recordio-protobuf, … or jsonl".</summary>
    public string Expected()
    {
        var names = _formats.Select(f => f.Name).ToList();
        return names.Count <= 1 ? string.Join("", names) : string.Join(", ", names[..^1]) + " or " + names[^1];
    }

    /// <summary>One line per format for <c>--help</c>: "name: summary".</summary>
    public string Help() => string.Join("\n", _formats.Select(f => $"{f.Name}: {f.Summary}"));

    private static IEnumerable<string> Names(OutputFormatDefinition f) => f.Aliases.Prepend(f.Name).Select(Normalize);

    private static string Normalize(string name) => name.Trim().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
}
