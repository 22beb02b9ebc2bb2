using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace DataPrep.Tests;

/// <summary>Compares what two runs wrote, for the tests that must get the same files by different paths.</summary>
public static class RunOutputs
{
    /// <summary>
    /// SHA-256 of every file a run wrote except the run record (data shards, lineage, manifests); ManifestFiles and
    /// channels.json name the output folder's URI, which differs per run, so it is replaced by a placeholder first.
    /// </summary>
    public static Dictionary<string, string> FileHashes(string outDir)
    {
        var root = new Uri(Path.GetFullPath(outDir)).AbsoluteUri;
        return Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "run.json")
            .ToDictionary(f => Path.GetRelativePath(outDir, f).Replace('\\', '/'), f =>
            {
                var bytes = File.ReadAllBytes(f);
                if (f.EndsWith(".manifest", StringComparison.Ordinal) || Path.GetFileName(f) == "channels.json")
                {
                    var text = System.Text.Encoding.UTF8.GetString(bytes);
                    Assert.Contains(root, text);
                    bytes = System.Text.Encoding.UTF8.GetBytes(text.Replace(root, "file:///OUT"));
                }
                return Convert.ToHexString(SHA256.HashData(bytes));
            });
    }

    /// <summary>The run record without time stamps, paths and the named options (those a test varies).</summary>
    public static JsonNode ComparableRecord(string json, params string[] variedOptions)
    {
        var node = JsonNode.Parse(json)!;
        var keys = new[] { "createdUtc", "seconds", "output", "prefix", "uri" }.Concat(variedOptions).ToArray();
        Strip(node);
        return node;

        void Strip(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (var key in keys) o.Remove(key);
                foreach (var (_, child) in o.ToList()) Strip(child);
            }
            else if (n is JsonArray a)
            {
                foreach (var child in a) Strip(child);
            }
        }
    }

    /// <summary>The comparable run record of an output folder.</summary>
    public static JsonNode ComparableRecordOf(string outDir, params string[] variedOptions)
        => ComparableRecord(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")), variedOptions);
}
