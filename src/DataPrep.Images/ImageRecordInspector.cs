using System.Globalization;
using DataPrep.Output;
using DataPrep.Pipeline;
using DataPrep.RecordIO;
using SixLabors.ImageSharp;

namespace DataPrep.Images;

/// <summary>One record of an image RecordIO file as <c>dataprep inspect</c> shows it.</summary>
/// <param name="Record">0-based record number.</param>
/// <param name="Offset">Byte offset of the record in the .rec file (what .idx files hold).</param>
/// <param name="Header">The unpacked header, labels and image bytes.</param>
/// <param name="Format">The image format found from its header (jpeg, png, …) or null.</param>
/// <param name="Width">Width from the image header (not decoded), or 0.</param>
/// <param name="Height">Height from the image header, or 0.</param>
public sealed record ImageRecordInfo(long Record, long Offset, ImageRecord Header, string? Format, int Width, int Height);

/// <summary>How a .rec file's records agree with its .idx file.</summary>
/// <param name="Path">The .idx file.</param>
/// <param name="Entries">Lines in it.</param>
/// <param name="Problems">Disagreements (an offset that is no record start, an id that differs, a count mismatch); empty when they agree.</param>
public sealed record IdxCheck(string Path, long Entries, IReadOnlyList<string> Problems);

/// <summary>Reads MXNet image RecordIO (.rec) files: headers, labels and image sizes (from the image header only).</summary>
public static class ImageRecordInspector
{
    /// <summary>Whether the file's first record looks like an image record (24-byte header, labels, then a known image signature).</summary>
    /// <param name="path">A local file, or a URI read through <paramref name="files"/>.</param>
    /// <param name="files">How to open it (local files only by default).</param>
    public static bool IsImageRecordIO(string path, InputFiles? files = null)
    {
        try
        {
            using var reader = RecordIOReader.Open(path, files);
            if (!reader.TryRead(out var first)) return false;
            var rec = ImageRecord.Unpack(first.Payload, path);
            return Signature(rec.Image.Span) is not null;
        }
        catch (Exception e) when (e is DataFormatException or IOException or InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>Every record of a .rec file.</summary>
    /// <param name="path">A local file, or a URI read through <paramref name="files"/>.</param>
    /// <param name="files">How to open it (local files only by default).</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <exception cref="DataFormatException">Broken framing or a header that does not fit its record.</exception>
    public static IEnumerable<ImageRecordInfo> Read(string path, InputFiles? files = null, CancellationToken cancellationToken = default)
    {
        using var reader = RecordIOReader.Open(path, files);
        foreach (var r in reader.ReadAll(cancellationToken))
        {
            var rec = ImageRecord.Unpack(r.Payload, path, r.Index + 1);
            int w = 0, h = 0;
            string? format = Signature(rec.Image.Span);
            try
            {
                var info = Image.Identify(rec.Image.ToArray(), out var f);
                if (info is not null) { w = info.Width; h = info.Height; format = f?.Name.ToLowerInvariant() ?? format; }
            }
            catch (Exception e) when (ImageTransformer.IsDecoderFailure(e))
            {
                // Shown as an unknown size: inspect describes what is there.
            }
            yield return new ImageRecordInfo(r.Index, r.Offset, rec, format, w, h);
        }
    }

    /// <summary>The .idx of a .rec: next to it (<c>x.idx</c>) or in the run's <c>_dataprep/</c> folder; null if none.</summary>
    /// <param name="recPath">A local file (the .idx is returned as a full path), or a URI looked up through <paramref name="files"/>.</param>
    /// <param name="files">How to look for it (local files only by default).</param>
    public static string? FindIdx(string recPath, InputFiles? files = null)
    {
        files ??= InputFiles.Local;
        var full = InputFiles.IsUri(recPath) ? recPath : Path.GetFullPath(recPath);
        var name = Path.GetFileNameWithoutExtension(InputFiles.NameOf(full)) + ".idx";
        var dir = InputFiles.FolderOf(full);
        foreach (var candidate in new[] { InputFiles.Combine(dir, name), InputFiles.Combine(InputFiles.FolderOf(dir), $"{RunLayout.MetaFolder}/{name}") })
        {
            if (files.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Checks an .idx (<c>key\toffset</c> lines) against the records read.</summary>
    /// <param name="idxPath">A local file, or a URI read through <paramref name="files"/>.</param>
    /// <param name="records">The offsets and header ids of the .rec's records.</param>
    /// <param name="files">How to open it (local files only by default).</param>
    public static IdxCheck CheckIdx(string idxPath, IReadOnlyList<(long Offset, ulong Id)> records, InputFiles? files = null)
    {
        var problems = new List<string>();
        var byOffset = records.ToDictionary(r => r.Offset, r => r.Id);
        long n = 0;
        foreach (var line in Lines(idxPath, files ?? InputFiles.Local))
        {
            n++;
            var parts = line.Split('\t');
            if (parts.Length != 2 || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong key) || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
            {
                problems.Add($"{idxPath}, line {n}: '{line}' is not key<TAB>offset");
                continue;
            }
            if (!byOffset.TryGetValue(offset, out ulong id)) problems.Add($"{idxPath}, line {n}: offset {offset} is not the start of a record");
            else if (id != key) problems.Add($"{idxPath}, line {n}: key {key} points at a record whose header id is {id}");
            if (problems.Count >= 10) break;
        }
        if (n != records.Count && problems.Count < 10) problems.Add($"{idxPath} has {n} lines but the .rec holds {records.Count} records");
        return new IdxCheck(idxPath, n, problems);
    }

    private static IEnumerable<string> Lines(string path, InputFiles files)
    {
        using var reader = new StreamReader(files.Open(path));
        while (reader.ReadLine() is { } line) yield return line;
    }

    private static string? Signature(ReadOnlySpan<byte> b) => b switch
    {
        [0xFF, 0xD8, 0xFF, ..] => "jpeg",
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "png",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "gif",
        [(byte)'B', (byte)'M', ..] => "bmp",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "webp",
        [(byte)'I', (byte)'I', 42, 0, ..] or [(byte)'M', (byte)'M', 0, 42, ..] => "tiff",
        _ => null,
    };
}
