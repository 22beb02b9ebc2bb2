using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPrep.Images;

namespace DataPrep.Cli;

/// <summary><c>dataprep inspect</c> for MXNet image RecordIO (.rec): headers, labels, image formats and sizes, and the .idx check.</summary>
internal static class ImageInspect
{
    /// <summary>Prints up to <paramref name="limit"/> records (all for 0, none for −1) and the summary.</summary>
    /// <exception cref="DataFormatException">Broken framing, or an .idx that disagrees with the records.</exception>
    public static void Print(string path, int limit, bool jsonl, TextWriter stdout, CancellationToken ct)
    {
        var labels = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var formats = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var offsets = new List<(long Offset, ulong Id)>();
        long count = 0, bytes = 0, printed = 0;
        int minW = int.MaxValue, maxW = 0, minH = int.MaxValue, maxH = 0;
        bool multi = false;
        if (!jsonl && limit != -1) stdout.WriteLine($"{path} (MXNet image RecordIO)\n{"record",7} {"offset",10} {"id",8} {"flag",4}  {"labels",-14} {"format",-6} {"size",-11} {"bytes",9}");
        foreach (var r in ImageRecordInspector.Read(path, ct))
        {
            count++;
            var h = r.Header;
            var labelText = string.Join(";", h.Labels.Select(l => l.ToString("R", CultureInfo.InvariantCulture)));
            multi |= h.Flag > 0;
            foreach (var l in h.Labels) { var k = l.ToString("R", CultureInfo.InvariantCulture); labels[k] = labels.GetValueOrDefault(k) + 1; }
            formats[r.Format ?? "unknown"] = formats.GetValueOrDefault(r.Format ?? "unknown") + 1;
            offsets.Add((r.Offset, h.Id));
            bytes += h.Image.Length;
            if (r.Width > 0) { minW = Math.Min(minW, r.Width); maxW = Math.Max(maxW, r.Width); minH = Math.Min(minH, r.Height); maxH = Math.Max(maxH, r.Height); }
            if (limit == 0 || (limit > 0 && printed < limit))
            {
                printed++;
                if (jsonl)
                {
                    stdout.WriteLine($"{{\"file\":{Json(path)},\"record\":{r.Record},\"offset\":{r.Offset},\"id\":{h.Id},\"id2\":{h.Id2},\"flag\":{h.Flag},\"labels\":[{string.Join(",", h.Labels.Select(l => l.ToString("R", CultureInfo.InvariantCulture)))}],\"format\":{Json(r.Format ?? "unknown")},\"width\":{r.Width},\"height\":{r.Height},\"bytes\":{h.Image.Length}}}");
                }
                else
                {
                    stdout.WriteLine($"{r.Record,7} {r.Offset,10} {h.Id,8} {h.Flag,4}  {labelText,-14} {r.Format ?? "?",-6} {(r.Width > 0 ? $"{r.Width}×{r.Height}" : "?"),-11} {h.Image.Length,9}");
                }
            }
        }
        var idx = ImageRecordInspector.FindIdx(path);
        var check = idx is null ? null : ImageRecordInspector.CheckIdx(idx, offsets);
        string sizes = maxW == 0 ? "unknown" : minW == maxW && minH == maxH ? $"{minW}x{minH}" : $"{minW}-{maxW} x {minH}-{maxH}";
        if (jsonl)
        {
            var sb = new StringBuilder();
            sb.Append($"{{\"file\":{Json(path)},\"summary\":{{\"format\":\"recordio-image\",\"records\":{count},\"image_bytes\":{bytes},\"multi_label\":{(multi ? "true" : "false")},\"sizes\":{Json(sizes)},");
            sb.Append("\"labels\":{").Append(string.Join(",", labels.Select(kv => $"{Json(kv.Key)}:{kv.Value}"))).Append("},");
            sb.Append("\"image_formats\":{").Append(string.Join(",", formats.Select(kv => $"{Json(kv.Key)}:{kv.Value}"))).Append("},");
            sb.Append("\"idx\":").Append(check is null ? "null" : $"{{\"path\":{Json(check.Path)},\"entries\":{check.Entries},\"ok\":{(check.Problems.Count == 0 ? "true" : "false")}}}").Append("}}");
            stdout.WriteLine(sb.ToString());
        }
        else
        {
            stdout.WriteLine($"{path}: MXNet image RecordIO, {count:N0} records{(multi ? " (multi-label)" : "")}, {bytes:N0} image bytes");
            stdout.WriteLine($"  labels: {string.Join(" ", labels.Select(kv => $"{kv.Key}:{kv.Value}"))}");
            stdout.WriteLine($"  images: {string.Join(" ", formats.Select(kv => $"{kv.Key}:{kv.Value}"))}, sizes {sizes}");
            stdout.WriteLine(check is null ? "  idx: none found (looked next to the .rec and in ../_dataprep/)" : $"  idx: {check.Path}, {check.Entries:N0} entries{(check.Problems.Count == 0 ? ", every key and offset matches" : "")}");
        }
        if (check is { Problems.Count: > 0 }) throw new DataFormatException($"the .idx does not match the .rec: {string.Join("; ", check.Problems)}", path);
    }

    private static string Json(string s) => JsonSerializer.Serialize(s, CliJson.Default.String);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class CliJson : System.Text.Json.Serialization.JsonSerializerContext;
