using System.Collections.Frozen;

namespace DataPrep.Pipeline;

/// <summary>
/// Which of DataPrep's own plug-in packages adds an output format the core does not register, for messages that say
/// what to add (a fixed table of our packages; format names normalised: lower case, no '-' or '_').
/// </summary>
public static class KnownPlugIns
{
    /// <summary>DataPrep's own formats that a plug-in package adds (names and aliases as normalized), and how to add them.</summary>
    private static readonly FrozenDictionary<string, string> s_formats = new Dictionary<string, string>
    {
        ["parquet"] = "DataPrep.Parquet (registry.AddParquet())",
        ["images"] = "DataPrep.Images (registry.AddImages())",
        ["image"] = "DataPrep.Images (registry.AddImages())",
        ["recordioimage"] = "DataPrep.Images (registry.AddImages())",
        ["rec"] = "DataPrep.Images (registry.AddImages())",
        ["im2rec"] = "DataPrep.Images (registry.AddImages())",
        ["augmentedmanifest"] = "DataPrep.Images (registry.AddImages())",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The package (and the call that adds it) of a normalised format name, or null.</summary>
    public static string? Of(string normalizedFormatName) => s_formats.GetValueOrDefault(normalizedFormatName);
}
