using System.Security.Cryptography;
using System.Text;
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
        => FileDigests(outDir).ToDictionary(kv => kv.Key, kv => kv.Value.Sha256);

    /// <summary>
    /// <see cref="FileHashes"/> with each file's size: both taken after the output folder's URI was replaced by
    /// <c>file:///OUT</c> wherever a file names it (ManifestFiles and channels.json always do; an augmented manifest's
    /// <c>source-ref</c>s do too), so neither depends on where the run wrote.
    /// </summary>
    public static Dictionary<string, FileDigest> FileDigests(string outDir)
    {
        var root = Encoding.UTF8.GetBytes(new Uri(Path.GetFullPath(outDir)).AbsoluteUri);
        return Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "run.json")
            .ToDictionary(f => Path.GetRelativePath(outDir, f).Replace('\\', '/'), f =>
            {
                var raw = File.ReadAllBytes(f);
                var bytes = ReplaceAll(raw, root, s_placeholder);
                if (f.EndsWith(".manifest", StringComparison.Ordinal) || Path.GetFileName(f) == "channels.json")
                {
                    Assert.True(raw.AsSpan().IndexOf(root) >= 0, $"{f} does not name the output folder {Encoding.UTF8.GetString(root)}");
                }
                return new FileDigest(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length);
            });
    }

    /// <summary>A file's SHA-256 (lower-case hex) and size in bytes.</summary>
    public readonly record struct FileDigest(string Sha256, long Bytes);

    private static readonly byte[] s_placeholder = Encoding.UTF8.GetBytes("file:///OUT");

    /// <summary><paramref name="data"/> with every <paramref name="find"/> replaced; the same array when there is none.</summary>
    private static byte[] ReplaceAll(byte[] data, byte[] find, byte[] with)
    {
        var rest = data.AsSpan();
        int at = rest.IndexOf(find);
        if (at < 0) return data;
        using var result = new MemoryStream(data.Length);
        for (; at >= 0; at = rest.IndexOf(find))
        {
            result.Write(rest[..at]);
            result.Write(with);
            rest = rest[(at + find.Length)..];
        }
        result.Write(rest);
        return result.ToArray();
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
