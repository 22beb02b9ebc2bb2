using System.Buffers;
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
    public static void Print(string path, DataPrep.Pipeline.InputFiles files, int limit, bool jsonl, TextWriter stdout, CancellationToken ct)
    {
        var labels = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var formats = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var offsets = new List<(long Offset, ulong Id)>();
        long count = 0, bytes = 0, printed = 0;
        int minW = int.MaxValue, maxW = 0, minH = int.MaxValue, maxH = 0;
        bool multi = false;
        var json = new ArrayBufferWriter<byte>(1024);
        if (!jsonl && limit != -1) stdout.WriteLine($"{path} (MXNet image RecordIO)\n{"record",7} {"offset",10} {"id",8} {"flag",4}  {"labels",-14} {"format",-6} {"size",-11} {"bytes",9}");
        foreach (var r in ImageRecordInspector.Read(path, files, ct))
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
                    JsonLine(stdout, json, w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("file", path);
                        w.WriteNumber("record", r.Record);
                        w.WriteNumber("offset", r.Offset);
                        w.WriteNumber("id", h.Id);
                        w.WriteNumber("id2", h.Id2);
                        w.WriteNumber("flag", h.Flag);
                        w.WriteStartArray("labels");
                        foreach (var l in h.Labels) Label(w, l);
                        w.WriteEndArray();
                        w.WriteString("format", r.Format ?? "unknown");
                        w.WriteNumber("width", r.Width);
                        w.WriteNumber("height", r.Height);
                        w.WriteNumber("bytes", h.Image.Length);
                        w.WriteEndObject();
                    });
                }
                else
                {
                    stdout.WriteLine($"{r.Record,7} {r.Offset,10} {h.Id,8} {h.Flag,4}  {labelText,-14} {r.Format ?? "?",-6} {(r.Width > 0 ? $"{r.Width}×{r.Height}" : "?"),-11} {h.Image.Length,9}");
                }
            }
        }
        var idx = ImageRecordInspector.FindIdx(path, files);
        var check = idx is null ? null : ImageRecordInspector.CheckIdx(idx, offsets, files);
        string sizes = maxW == 0 ? "unknown" : minW == maxW && minH == maxH ? $"{minW}x{minH}" : $"{minW}-{maxW} x {minH}-{maxH}";
        if (jsonl)
        {
            JsonLine(stdout, json, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteStartObject("summary");
                w.WriteString("format", "recordio-image");
                w.WriteNumber("records", count);
                w.WriteNumber("image_bytes", bytes);
                w.WriteBoolean("multi_label", multi);
                w.WriteString("sizes", sizes);
                w.WriteStartObject("labels");
                foreach (var (label, n) in labels) w.WriteNumber(label, n);
                w.WriteEndObject();
                w.WriteStartObject("image_formats");
                foreach (var (format, n) in formats) w.WriteNumber(format, n);
                w.WriteEndObject();
                if (check is null) w.WriteNull("idx");
                else
                {
                    w.WriteStartObject("idx");
                    w.WriteString("path", check.Path);
                    w.WriteNumber("entries", check.Entries);
                    w.WriteBoolean("ok", check.Problems.Count == 0);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            });
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

    /// <summary>Writes one JSON object and a line break (default escaping: non-ASCII as \\uXXXX, as System.Text.Json does by default).</summary>
    private static void JsonLine(TextWriter stdout, ArrayBufferWriter<byte> buffer, Action<Utf8JsonWriter> write)
    {
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>A label as a JSON number (shortest round-trip float32); NaN and infinities, which JSON has no numbers for, as strings.</summary>
    private static void Label(Utf8JsonWriter w, float label)
    {
        if (float.IsFinite(label)) w.WriteNumberValue(label);
        else w.WriteStringValue(label.ToString(CultureInfo.InvariantCulture));
    }
}
