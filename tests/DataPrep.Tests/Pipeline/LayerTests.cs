using System.Reflection;
using System.Text.RegularExpressions;

namespace DataPrep.Tests.Pipeline;

/// <summary>
/// DataPrep.Core's folders are layers (docs/architecture.md): each folder is one namespace, and a file may use
/// types of its own layer and of the layers below it, never above. So the base (Data, errors, hashing, the run
/// model in Pipeline) can be read and tested alone, and the runner sits on top.
/// </summary>
public sealed partial class LayerTests
{
    /// <summary>The layers, bottom up; namespaces on one line may use each other's types only if listed in the same layer and never cyclically (none do today).</summary>
    private static readonly string[][] s_layers =
    [
        ["DataPrep", "DataPrep.Data", "DataPrep.Hashing"],
        ["DataPrep.Pipeline"],
        ["DataPrep.Sources"],
        ["DataPrep.Encoders", "DataPrep.Splits"],
        ["DataPrep.Output"],
        ["DataPrep.RecordIO", "DataPrep.RecordIO.Protobuf"],
        ["DataPrep.Inspect"],
        ["DataPrep.Formats"],
        ["DataPrep.Audit", "DataPrep.Conversion", "DataPrep.Scale"],
        ["DataPrep.Fluent"],
    ];

    [Fact]
    public void Every_namespace_of_the_core_has_a_layer_and_its_folder()
    {
        var core = typeof(DataPrep.Conversion.DataPrepRegistry).Assembly;
        var namespaces = core.GetTypes().Where(t => !IsGenerated(t)).Select(t => t.Namespace!).Distinct().ToList();
        Assert.All(namespaces, ns => Assert.True(Layer(ns) >= 0, $"namespace {ns} has no layer in LayerTests"));
        foreach (var file in SourceFiles())
        {
            var ns = NamespaceOf(File.ReadAllText(file));
            if (ns is null || ns == "DataPrep") continue;
            var folder = Path.GetRelativePath(CoreFolder, Path.GetDirectoryName(file)!).Replace('\\', '/').Split('/')[0];
            Assert.True(ns == "DataPrep." + folder || (ns.StartsWith("DataPrep." + folder + ".", StringComparison.Ordinal)) || Layer(ns) == Layer("DataPrep." + folder),
                $"{Path.GetRelativePath(CoreFolder, file)} is in folder {folder} but namespace {ns}");
        }
    }

    [Fact]
    public void No_file_of_the_core_uses_a_type_from_a_layer_above_its_own()
    {
        var core = typeof(DataPrep.Conversion.DataPrepRegistry).Assembly;
        // Simple names that mean one type only (a name in two namespaces, such as ShardRecord, cannot be told apart by text).
        // protoc's generated message types (Value, Bytes, Record) are left out: their names are everyday words.
        var byName = core.GetTypes().Where(t => !IsGenerated(t) && !t.IsNested && t.Namespace != "DataPrep.RecordIO.Protobuf")
            .GroupBy(t => t.Name.Split('`')[0])
            .Where(g => g.Select(t => t.Namespace).Distinct().Count() == 1)
            .ToDictionary(g => g.Key, g => g.First().Namespace!);
        var problems = new List<string>();
        foreach (var file in SourceFiles())
        {
            var text = File.ReadAllText(file);
            var ns = NamespaceOf(text);
            if (ns is null) continue;
            int own = Layer(ns);
            foreach (Match u in UsingDirective().Matches(text))
            {
                if (Layer(u.Groups[1].Value) > own) problems.Add($"{Rel(file)}: using {u.Groups[1].Value} (layer above {ns})");
            }
            var code = Comments().Replace(Strings().Replace(text, "\"\""), "");
            foreach (Match w in Word().Matches(code))
            {
                if (byName.TryGetValue(w.Value, out var other) && other != ns && Layer(other) > own)
                {
                    problems.Add($"{Rel(file)}: {w.Value} ({other}) is above {ns}");
                }
            }
        }
        Assert.True(problems.Count == 0, "Upward references:\n" + string.Join("\n", problems.Distinct()));
    }

    private static int Layer(string ns)
    {
        for (int i = 0; i < s_layers.Length; i++) if (s_layers[i].Contains(ns)) return i;
        return -1;
    }

    private static string CoreFolder => Path.Combine(Paths.Repo, "src", "DataPrep.Core");

    private static IEnumerable<string> SourceFiles() => Directory.EnumerateFiles(CoreFolder, "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static string Rel(string file) => Path.GetRelativePath(CoreFolder, file);

    private static string? NamespaceOf(string text) => NamespaceLine().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    private static bool IsGenerated(Type t) => t.Namespace is null || t.Name.Contains('<', StringComparison.Ordinal)
        || t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)) || t.Namespace.StartsWith("System", StringComparison.Ordinal)
        || t.Namespace.StartsWith("Microsoft", StringComparison.Ordinal);

    [GeneratedRegex(@"^namespace ([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using (DataPrep[\w.]*);", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex Comments();

    [GeneratedRegex(@"@?""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Word();
}
