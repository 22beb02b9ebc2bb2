using System.Text.Json;
using System.Text.Json.Nodes;

namespace DataPrep.Tests.Deploy;

/// <summary>
/// A strict reader for the YAML that deploy/kubernetes/job.yaml is written in (no YAML package in the project):
/// block maps and block sequences by indentation, plain scalars, JSON double-quoted strings and JSON flow
/// collections (<c>[2, 3, 4]</c>, <c>{}</c>, the rendered args), whole-line comments. Anything else (tabs,
/// anchors, tags, block scalars, several documents, trailing comments) is an error rather than a guess.
/// </summary>
/// <remarks>
/// Maps become <see cref="Dictionary{TKey, TValue}"/> of string to node, sequences <see cref="List{T}"/> of node,
/// scalars <see cref="string"/> (quoted or plain) or <see cref="long"/> (a plain or JSON whole number).
/// </remarks>
internal static class MiniYaml
{
    public static object Parse(string text)
    {
        var lines = new List<(int Indent, string Text, int Number)>();
        var raw = text.Split('\n');
        for (int n = 0; n < raw.Length; n++)
        {
            string line = raw[n].TrimEnd('\r');
            if (line.Contains('\t')) throw Error(n + 1, "a tab");
            string trimmed = line.TrimStart(' ');
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            if (trimmed.StartsWith("---", StringComparison.Ordinal)) throw Error(n + 1, "a second document ('---')");
            lines.Add((line.Length - trimmed.Length, trimmed.TrimEnd(' '), n + 1));
        }
        if (lines.Count == 0) throw new FormatException("YAML: no content");
        int i = 0;
        var root = Block(lines, ref i, lines[0].Indent);
        if (i < lines.Count) throw Error(lines[i].Number, $"'{lines[i].Text}' at an indentation that fits no block");
        return root;
    }

    /// <summary>The node at a dotted path with [i] indexes, e.g. <c>spec.template.spec.containers[0].args</c>.</summary>
    public static object? At(object node, string path)
    {
        object? current = node;
        foreach (var part in path.Split('.'))
        {
            string key = part;
            int? index = null;
            if (part.EndsWith(']'))
            {
                int open = part.IndexOf('[');
                key = part[..open];
                index = int.Parse(part[(open + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
            }
            if (current is not Dictionary<string, object?> map || !map.TryGetValue(key, out current))
            {
                throw new KeyNotFoundException($"YAML: no '{key}' on the way to '{path}'");
            }
            if (index is { } k)
            {
                current = current is List<object?> list && k < list.Count ? list[k] : throw new KeyNotFoundException($"YAML: no item {k} of '{key}' in '{path}'");
            }
        }
        return current;
    }

    private static object Block(List<(int Indent, string Text, int Number)> lines, ref int i, int indent)
    {
        if (lines[i].Text.StartsWith("- ", StringComparison.Ordinal) || lines[i].Text == "-") return Sequence(lines, ref i, indent);
        return Map(lines, ref i, indent);
    }

    private static Dictionary<string, object?> Map(List<(int Indent, string Text, int Number)> lines, ref int i, int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (i < lines.Count && lines[i].Indent == indent && !lines[i].Text.StartsWith('-'))
        {
            var (_, text, number) = lines[i];
            int colon = text.IndexOf(": ", StringComparison.Ordinal);
            string key = colon >= 0 ? text[..colon] : text.EndsWith(':') ? text[..^1] : throw Error(number, $"'{text}' is not 'key: value' or 'key:'");
            if (key.Length == 0 || key.Any(c => c is '"' or '\'' or '{' or '[' or '&' or '*' or '!' or '?' or ' ')) throw Error(number, $"key '{key}'");
            if (!map.TryAdd(key, null)) throw Error(number, $"'{key}' twice");
            i++;
            if (colon >= 0)
            {
                map[key] = Scalar(text[(colon + 2)..], number);
            }
            else
            {
                if (i >= lines.Count || lines[i].Indent <= indent) throw Error(number, $"'{key}:' with nothing under it");
                map[key] = Block(lines, ref i, lines[i].Indent);
            }
        }
        if (i < lines.Count && lines[i].Indent > indent) throw Error(lines[i].Number, $"'{lines[i].Text}' indented deeper than its map");
        return map;
    }

    private static List<object?> Sequence(List<(int Indent, string Text, int Number)> lines, ref int i, int indent)
    {
        var list = new List<object?>();
        while (i < lines.Count && lines[i].Indent == indent && lines[i].Text.StartsWith("- ", StringComparison.Ordinal))
        {
            var (_, text, number) = lines[i];
            string item = text[2..].TrimStart(' ');
            int itemIndent = indent + (text.Length - item.Length);
            if (item.Contains(": ", StringComparison.Ordinal) || item.EndsWith(':'))
            {
                // "- key: value" opens a map whose other keys sit under the first one.
                lines[i] = (itemIndent, item, number);
                list.Add(Map(lines, ref i, itemIndent));
            }
            else
            {
                list.Add(Scalar(item, number));
                i++;
            }
        }
        return list;
    }

    private static object? Scalar(string text, int number)
    {
        if (text.StartsWith('"') || text.StartsWith('[') || text.StartsWith('{'))
        {
            JsonNode? node;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e) { throw Error(number, $"'{text}' is not a JSON value ({e.Message})"); }
            return FromJson(node, number);
        }
        if (text.Length == 0 || "'&*!|>%@`".Contains(text[0]) || text.Contains(" #", StringComparison.Ordinal) || text.Contains(": ", StringComparison.Ordinal))
        {
            throw Error(number, $"'{text}' is not a plain scalar this reader takes");
        }
        return long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long n) ? n : text;
    }

    private static object? FromJson(JsonNode? node, int number) => node switch
    {
        null => null,
        JsonArray a => a.Select(x => FromJson(x, number)).ToList(),
        JsonObject o => o.ToDictionary(p => p.Key, p => FromJson(p.Value, number), StringComparer.Ordinal),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out long n) => n,
        _ => throw Error(number, $"JSON value '{node.ToJsonString()}' (only strings, whole numbers, arrays and objects)"),
    };

    private static FormatException Error(int line, string what) => new($"YAML line {line}: {what}");
}
