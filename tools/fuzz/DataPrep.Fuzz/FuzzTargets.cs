using System.Text;
using DataPrep.Conversion;
using DataPrep.Images;
using DataPrep.Inspect;
using DataPrep.Pipeline;
using DataPrep.Sources;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;

namespace DataPrep.Fuzz;

/// <summary>One reader under test: its seeds, the tokens its mutations insert, and how the CLI runs it.</summary>
/// <param name="Name">The reader's name on the command line (csv, csv-gz, jsonl, …).</param>
/// <param name="Extension">The file name ending the case is written under (it picks the source, as for a user's file).</param>
/// <param name="Seeds">Real files: the seeds' contents.</param>
/// <param name="Tokens">Format tokens the mutator inserts (delimiters, quotes, keywords, magic bytes).</param>
/// <param name="Gzip">Whether the seeds are gzip files (then some cases mutate inside the compression).</param>
/// <param name="Run">Reads the case's file to the end the way <c>dataprep convert</c> or <c>inspect</c> does; returns the records read.</param>
public sealed record FuzzTarget(string Name, string Extension, IReadOnlyList<byte[]> Seeds, IReadOnlyList<byte[]> Tokens, bool Gzip, Func<string, long, CancellationToken, Task<long>> Run)
{
    /// <summary>
    /// DataPrep's own errors for bad data: what the CLI maps to exit 3 (<see cref="DataFormatException"/>), and for
    /// images <see cref="BadImageException"/>, which the image stage turns into one (or skips under --on-bad-image).
    /// </summary>
    public static bool IsOwnError(Exception e) => e is DataFormatException or BadImageException;
}

/// <summary>The eight readers the fuzzer covers, with seeds from sample-data/, the test fixtures and tools/fuzz/seeds/.</summary>
public static class FuzzTargets
{
    /// <summary>The names, in the order tools/fuzz.sh runs them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["csv", "csv-gz", "jsonl", "libsvm", "parquet", "recordio-protobuf", "image-recordio", "image"];

    /// <summary>The largest part of a text seed kept (whole lines): small seeds make 100,000 cases take minutes, not hours.</summary>
    private const int TextSeedBytes = 3000;

    private static readonly byte[][] s_textTokens = Tokens(
        ",", "\"", "\"\"", "\n", "\r\n", "\r", "\t", ";", " ", "NaN", "nan", "Inf", "-inf", "Infinity", "1e400", "-1e-400",
        "9223372036854775808", "-9223372036854775809", "0x10", "1_000", "١٢", "true", "NULL", "NA", "",
        "2025-13-45T25:61:61Z", "0001-01-01", "9999-12-31T23:59:59.9999999Z", "\u00e9", "\u00ef\u00bb\u00bf") // é and a BOM as text
        .Concat([[0xEF, 0xBB, 0xBF], [0xC3, 0x28], [0xE9], [0xFF, 0xFE], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x00]])
        .ToArray();

    private static readonly byte[][] s_jsonTokens = Tokens(
        "{", "}", "[", "]", ":", ",", "\"", "\\", "\\u0000", "\\ud800", "null", "true", "false", "1e999", "-0", "NaN",
        "{\"a\":", "[[[[[[[[[[[[[[[[", "]]]]]]]]", "\"\":1", "\n", "\r\n", "123456789012345678901234567890", "1.5e-400")
        .Concat([[0xC3, 0x28], [0xEF, 0xBB, 0xBF], [0x00]])
        .ToArray();

    private static readonly byte[][] s_libSvmTokens = Tokens(
        " ", ":", "\n", "#", "qid:", "0:", "-1:", "2147483648:1", "99999999:1", "1:NaN", "1:inf", "1e400", "3:1 2:1", "1:1 1:1", "\t", "+1", "-1")
        .Concat([[0xC3, 0x28], [0x00]])
        .ToArray();

    private static readonly byte[][] s_binaryTokens =
    [
        "PAR1"u8.ToArray(), [0x0A, 0x23, 0xD7, 0xCE], [0x1F, 0x8B, 0x08], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], [0xFF, 0xD8, 0xFF],
        "IEND"u8.ToArray(), "IDAT"u8.ToArray(), "IHDR"u8.ToArray(), "PLTE"u8.ToArray(), "tRNS"u8.ToArray(), [0xFF, 0xD9], [0xFF, 0xDA], [0xFF, 0xC0], [0xFF, 0xC4], [0xFF, 0xDB],
        "values"u8.ToArray(), [0x0A, 0x08, 0x0A, 0x06], [0x12, 0x00], [0x1A, 0x00],
    ];

    /// <summary>Creates a target by name, its seeds read from the repository.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="repo">The repository root (holding DataPrep.sln).</param>
    /// <param name="budget">The memory budget (<c>--memory</c>) of the run the readers belong to.</param>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static FuzzTarget Create(string name, string repo, long budget)
    {
        var registry = new DataPrepRegistry().AddParquet().AddImages();
        string Sample(string p) => Path.Combine(repo, "sample-data", p);
        string Fixture(string p) => Path.Combine(repo, "tests", "DataPrep.Tests", p);
        string Own(string p) => Path.Combine(repo, "tools", "fuzz", "seeds", p);
        var source = new SourceOptions();
        return name switch
        {
            "csv" => new(name, ".csv",
                [Head(Sample("churn.csv")), Head(Sample("demand.csv")), Head(Sample("speech/utterances.csv")), Head(Sample("speech/noisy.csv")),
                 File.ReadAllBytes(Fixture("Golden/label-first.csv")), File.ReadAllBytes(Fixture("Golden/no-label.csv"))],
                s_textTokens, false, (p, _, ct) => ReadSourceAsync(registry, p, source, ct)),
            "csv-gz" => new(name, ".csv.gz",
                [File.ReadAllBytes(Sample("sensors.csv.gz")), Mutator.Gzip(Head(Sample("churn.csv"))), Mutator.Gzip(Head(Sample("demand.csv")))],
                s_textTokens, true, (p, _, ct) => ReadSourceAsync(registry, p, source, ct)),
            "jsonl" => new(name, ".jsonl",
                [Head(Sample("churn.jsonl")), Head(Fixture("Fixtures/parquet/expected-types.jsonl")), Head(Fixture("Fixtures/parquet/expected-dict.jsonl"))],
                s_jsonTokens, false, (p, _, ct) => ReadSourceAsync(registry, p, source, ct)),
            "libsvm" => new(name, ".libsvm",
                Directory.GetFiles(Own("libsvm")).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList(),
                s_libSvmTokens, false, (p, _, ct) => ReadSourceAsync(registry, p, source, ct)),
            "parquet" => new(name, ".parquet",
                Directory.GetFiles(Fixture("Fixtures/parquet"), "*.parquet").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList(),
                s_binaryTokens, false, (p, _, ct) => ReadSourceAsync(registry, p, source, ct)),
            "recordio-protobuf" => new(name, ".pbr",
                Directory.GetFiles(Own("recordio-protobuf")).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList(),
                s_binaryTokens, false, (p, _, ct) => InspectAsync(registry, p, ShardFormat.RecordIOProtobuf, ct)),
            "image-recordio" => new(name, ".rec",
                Directory.GetFiles(Fixture("Golden/images"), "*.rec").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList(),
                s_binaryTokens, false, (p, _, ct) => Task.FromResult(ReadImageRecordIO(p, ct))),
            "image" => ImageTarget(Sample("images"), budget),
            _ => throw new ArgumentException($"unknown reader '{name}'; expected one of {string.Join(", ", Names)}", nameof(name)),
        };
    }

    /// <summary>What <c>dataprep convert</c> does with an input: the registry picks the source by name, opens it (schema, type inference) and streams every batch.</summary>
    private static async Task<long> ReadSourceAsync(DataPrepRegistry registry, string path, SourceOptions options, CancellationToken ct)
    {
        var source = registry.Sources.Create(path, options);
        await source.OpenAsync(ct).ConfigureAwait(false);
        long rows = 0;
        await foreach (var batch in source.ReadAsync(0, ct).ConfigureAwait(false)) rows += batch.RowCount;
        return rows;
    }

    /// <summary>What <c>dataprep inspect --format F</c> does: the format's reader streams the records into the summary.</summary>
    private static async Task<long> InspectAsync(DataPrepRegistry registry, string path, ShardFormat format, CancellationToken ct)
    {
        var builder = new ShardSummaryBuilder(path, format);
        await foreach (var record in registry.Formats.ReaderOf(format).ReadAsync(path, new InspectOptions { Format = format }, ct).ConfigureAwait(false)) builder.Add(record);
        return builder.Build().Records;
    }

    /// <summary>What <c>dataprep inspect x.rec</c> does: sniff the first record, then read every header and image size.</summary>
    private static long ReadImageRecordIO(string path, CancellationToken ct)
    {
        ImageRecordInspector.IsImageRecordIO(path);
        long n = 0;
        foreach (var _ in ImageRecordInspector.Read(path, null, ct)) n++;
        return n;
    }

    /// <summary>
    /// PNG and JPEG images as the image stage reads them (<see cref="ImageTransformer.Process"/>): even cases only
    /// identify and pass the bytes through (the default run), odd cases decode and rotate 90° (an augmented run). The
    /// decoded-size limit is the memory budget, as a run under <c>--memory</c> should set it.
    /// </summary>
    private static FuzzTarget ImageTarget(string folder, long budget)
    {
        var pngs = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        var jpegs = pngs.Take(6).Select(ToJpeg).ToList();
        var transformer = new ImageTransformer(new ImageOptions { MaxImageBytes = Math.Min(budget / 2, new ImageOptions().MaxImageBytes) });
        return new FuzzTarget("image", ".png", [.. pngs, .. jpegs], s_binaryTokens, false, (p, i, _) =>
        {
            var images = transformer.Process(p, File.ReadAllBytes(p), i % 2 == 0 ? [] : [90.0]);
            return Task.FromResult((long)images.Count);
        });
    }

    private static byte[] ToJpeg(byte[] png)
    {
        using var image = Image.Load(png);
        using var ms = new MemoryStream();
        image.Save(ms, new JpegEncoder { Quality = 80 });
        return ms.ToArray();
    }

    /// <summary>The first whole lines of a text file, up to <see cref="TextSeedBytes"/>.</summary>
    private static byte[] Head(string path)
    {
        var all = File.ReadAllBytes(path);
        if (all.Length <= TextSeedBytes) return all;
        int end = Array.LastIndexOf(all, (byte)'\n', TextSeedBytes);
        return all[..(end > 0 ? end + 1 : TextSeedBytes)];
    }

    private static IEnumerable<byte[]> Tokens(params string[] tokens) => tokens.Select(Encoding.UTF8.GetBytes);
}
