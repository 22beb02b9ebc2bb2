using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DataPrep.Tests.Golden;

/// <summary>
/// Pins the exact bytes of every output format (and split method) on the sample data: each case runs the real CLI and
/// compares the SHA-256 and size of every file it wrote (run.json aside; the output folder's URI replaced by a
/// placeholder, see <see cref="RunOutputs.FileDigests"/>) and a few stable fields of run.json (per split: rows and each
/// shard's rows, size and SHA-256) with <c>Golden/sample-data/&lt;case&gt;.json</c>, read from the source tree.
/// A missing golden file fails; <c>DATAPREP_UPDATE_GOLDEN=1</c> (re)writes them from the current code instead — review
/// the diff before committing it. Gzip shards also depend on the runtime's zlib-ng build (as sample-data/README.md
/// notes), so a .NET update may change only the <c>.gz</c> lines.
/// </summary>
public class SampleDataGoldenTests
{
    private const string UpdateVariable = "DATAPREP_UPDATE_GOLDEN";

    private static readonly string s_goldenFolder = Path.Combine(Paths.Repo, "tests", "DataPrep.Tests", "Golden", "sample-data");

    /// <summary>
    /// The length of every case's output folder URI. An augmented manifest names its images by URI and channels.json
    /// records the manifest's size, which therefore depends on the folder's length even after the placeholder: the
    /// folder's name is padded so that the size is the same whatever the temp folder is.
    /// </summary>
    private const int OutUriLength = 160;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, NewLine = "\n" };

    /// <summary>Every option a case passes to <c>convert</c> besides <c>--out</c>; <c>sample-data/…</c> resolves against the repository.</summary>
    private static readonly Dictionary<string, string> s_cases = new()
    {
        // README's first command, train in 3 shards.
        ["csv-churn"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --shard-rows 700",
        ["csv-churn-no-label"] = "sample-data/churn.csv --no-label --drop customer_id,churn --encode plan=onehot,region=onehot",
        ["csv-churn-gzip"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --compress gzip --shard-rows 700",
        ["csv-churn-stratified"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --stratify churn",
        ["csv-churn-kfold3"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --folds 3",
        ["csv-churn-stable"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --assignment stable",
        ["csv-churn-jsonl-input"] = "sample-data/churn.jsonl --label churn --drop customer_id --encode plan=onehot,region=onehot",
        ["csv-sensors-gzip-input"] = "sample-data/sensors.csv.gz --label label",
        // Ordinal encodings keep the rows dense; one-hot columns make every row sparse, as does --sparse.
        ["recordio-churn-dense"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=ordinal,region=ordinal --format recordio-protobuf --shard-rows 700",
        ["recordio-churn-sparse"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=ordinal,region=ordinal --format recordio-protobuf --sparse",
        ["recordio-churn-onehot"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --format recordio-protobuf",
        ["recordio-churn-float64-int32"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=ordinal,region=ordinal --format recordio-protobuf --dtype float64 --label-dtype int32",
        // int32 features: monthly_spend (decimals) would not fit.
        ["recordio-churn-int32-float64"] = "sample-data/churn.csv --label churn --drop customer_id,monthly_spend --encode plan=ordinal,region=ordinal --format recordio-protobuf --dtype int32 --label-dtype float64",
        ["recordio-churn-uid-metadata-escape"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --format recordio-protobuf --uid --metadata --recordio-escape",
        ["libsvm-churn"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --format libsvm --shard-rows 700",
        // Parquet.Net's version is in each footer (created_by): an update of the package changes these bytes.
        ["parquet-churn"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --format parquet --shard-rows 700",
        // --shard-size alone: the pure rule over uncompressed rows, less a file's overhead (many small shards); and the spilled count mode.
        ["parquet-churn-size"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=onehot,region=onehot --format parquet --shard-size 8KB --stratify churn --fractions 70/15/15",
        ["parquet-churn-kfold-shards"] = "sample-data/churn.csv --label churn --drop customer_id --encode plan=ordinal,region=onehot --format parquet --folds 3 --shards 2",
        ["deepar-demand"] = "sample-data/demand.csv --label demand --split time --time date --series product --format deepar --fractions 70/15/15 --gap 7d",
        // --deepar-cat product is refused (the series column is no feature); promo is accepted with a warning (not static).
        ["deepar-demand-cat"] = "sample-data/demand.csv --label demand --split time --time date --series product --format deepar --deepar-cat promo --cutoffs 2025-07-01,2025-10-01",
        ["csv-demand-time-gap"] = "sample-data/demand.csv --label demand --split time --time date --fractions 70/15/15 --gap 7d --timestamps epoch --encode product=onehot --shard-rows 1000",
        ["csv-speech-group"] = "sample-data/speech/utterances.csv --label label --split group --group speaker_id --drop path,transcript,speaker_id",
        ["csv-header-speech-group"] = "sample-data/speech/utterances.csv --split group --group speaker_id --format csv-header --shard-rows 1500",
        ["jsonl-speech-group"] = "sample-data/speech/utterances.csv --split group --group speaker_id --format jsonl --shards 2",
        ["csv-speech-noisy"] = "sample-data/speech/clean.csv --noisy sample-data/speech/noisy.csv --label label --split noisy --group speaker_id --drop path,transcript,speaker_id,noise_db",
        ["csv-speech-noisy-approach2"] = "sample-data/speech/clean.csv --noisy sample-data/speech/noisy.csv --label label --split noisy --group speaker_id --drop path,transcript,speaker_id,noise_db --noisy-approach 2 --fractions 90/10",
        ["images"] = "sample-data/images --format images",
        ["images-rotate90"] = "sample-data/images --format images --augment rotate=90",
        ["images-resize-pad"] = "sample-data/images --format images --resize 8x8 --resize-mode pad",
        ["recordio-image"] = "sample-data/images --format recordio-image",
        ["recordio-image-rotate90"] = "sample-data/images --format recordio-image --augment rotate=90",
        ["recordio-image-rotate90-resize"] = "sample-data/images --format recordio-image --augment rotate=90 --resize 8x8",
        ["augmented-manifest"] = "sample-data/images --format augmented-manifest",
        ["augmented-manifest-rotate90"] = "sample-data/images --format augmented-manifest --augment rotate=90",
    };

    public static TheoryData<string> Cases() => new(s_cases.Keys);

    private static string[] Args(string name) => [.. s_cases[name].Split(' '), "--seed", "7", "--threads", "2"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Output_matches_the_golden_file(string name)
    {
        var args = Args(name);
        using var tmp = new TempDir();
        var outDir = OutputFolder(tmp);
        var r = CliRunner.Run(["convert", .. args.Select(Resolve), "--out", outDir, "--quiet"]);
        Assert.True(r.Code == 0, $"{name}: exit code {r.Code}\n{r.Err}");
        var text = Snapshot(args, outDir).ToJsonString(s_json) + "\n";
        var goldenPath = Path.Combine(s_goldenFolder, name + ".json");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(s_goldenFolder);
            File.WriteAllText(goldenPath, text);
            return;
        }
        Assert.True(File.Exists(goldenPath), $"{goldenPath} is missing: run this test with {UpdateVariable}=1 to write it from the current code, then review and commit it.");
        var problems = Compare(JsonNode.Parse(File.ReadAllText(goldenPath))!, JsonNode.Parse(text)!);
        Assert.True(problems.Count == 0,
            $"{name}: the output differs from {goldenPath}:\n  {string.Join("\n  ", problems)}\n" +
            $"If the change is intended, rerun with {UpdateVariable}=1 and review the diff of the golden file.");
    }

    /// <summary>Every case (every format runs as workers), each with a worker count (2, 3 or 7 in turn).</summary>
    public static TheoryData<string, int> WorkerCases()
    {
        var data = new TheoryData<string, int>();
        int k = 0;
        foreach (var name in s_cases.Keys) data.Add(name, new[] { 2, 3, 7 }[k++ % 3]);
        return data;
    }

    /// <summary>
    /// The same case run as N workers, in one process, each step's tasks in a shuffled order (fixed per case), writes the
    /// golden bytes of the one-process run: every data file, lineage sidecar, ManifestFile and run.json's splits. Plain
    /// CSV inputs are read by byte ranges.
    /// </summary>
    [Theory]
    [MemberData(nameof(WorkerCases))]
    public void Workers_write_the_golden_bytes(string name, int workers)
    {
        var args = Args(name);
        using var tmp = new TempDir();
        var outDir = OutputFolder(tmp);
        // CSV inputs divided into byte ranges of 1 KB (a few dozen of them), so every scan task but the first starts
        // reading in the middle of a file: its rows' ids (byte positions) and, after the plan, their source rows are the
        // one process's.
        string[] common = ["convert", .. args.Select(Resolve), "--out", outDir, "--quiet", "--workers", workers.ToString(System.Globalization.CultureInfo.InvariantCulture), "--input-split-size", "1KB"];
        var steps = CliRunner.Run([.. common, "--steps"]);
        Assert.True(steps.Code == 0, $"{name}: --steps exit code {steps.Code}\n{steps.Err}");
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) ^ workers);
        foreach (var line in steps.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            var order = Enumerable.Range(0, int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)).OrderBy(_ => random.Next()).ToList();
            foreach (int task in order)
            {
                var r = CliRunner.Run([.. common, "--step", parts[0], "--worker", task.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                Assert.True(r.Code == 0, $"{name}: step {parts[0]} task {task} exit code {r.Code}\n{r.Err}");
            }
        }
        var goldenPath = Path.Combine(s_goldenFolder, name + ".json");
        var problems = Compare(JsonNode.Parse(File.ReadAllText(goldenPath))!, Snapshot(args, outDir));
        Assert.True(problems.Count == 0, $"{name} as {workers} workers: the output differs from {goldenPath}:\n  {string.Join("\n  ", problems)}");
    }

    [Fact]
    public void Every_golden_file_belongs_to_a_case()
    {
        var orphans = Directory.Exists(s_goldenFolder)
            ? Directory.GetFiles(s_goldenFolder).Where(f => !(f.EndsWith(".json", StringComparison.Ordinal) && s_cases.ContainsKey(Path.GetFileNameWithoutExtension(f)))).ToList()
            : [];
        Assert.True(orphans.Count == 0, $"golden files without a case in {s_goldenFolder}: {string.Join(", ", orphans)}");
    }

    private static string OutputFolder(TempDir tmp)
    {
        var folder = tmp.Combine("out");
        int pad = OutUriLength - new Uri(Path.GetFullPath(folder)).AbsoluteUri.Length;
        Assert.True(pad >= 0, $"the temp folder's path is too long for an output folder URI of {OutUriLength} characters: {folder}");
        return folder + new string('-', pad);
    }

    private static string Resolve(string arg)
        => arg.StartsWith("sample-data/", StringComparison.Ordinal) ? Paths.SampleData(arg["sample-data/".Length..]) : arg;

    /// <summary>What a golden file holds: the case's options, every file's digest and the stable fields of run.json.</summary>
    private static JsonObject Snapshot(string[] args, string outDir)
    {
        var digests = RunOutputs.FileDigests(outDir);
        var files = new JsonObject();
        foreach (var (path, digest) in digests.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            files[path] = new JsonObject { ["sha256"] = digest.Sha256, ["bytes"] = digest.Bytes };
        }
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "_dataprep", "run.json")))!;
        var splits = new JsonObject();
        foreach (var (split, node) in record["splits"]!.AsObject().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var entry = new JsonObject { ["rows"] = node!["rows"]!.DeepClone() };
            if (node["shards"] is JsonArray shards)
            {
                entry["shards"] = new JsonArray([.. shards.Select(s => Shard(s!.AsObject(), outDir, digests))]);
            }
            splits[split] = entry;
        }
        return new JsonObject
        {
            ["args"] = new JsonArray([.. args.Select(a => JsonValue.Create(a))]),
            ["files"] = files,
            ["run"] = new JsonObject { ["contentType"] = record["contentType"]?.DeepClone(), ["splits"] = splits },
        };
    }

    /// <summary>
    /// A shard of run.json: path, rows, size and SHA-256. When its size and hash are those of the file as written and the
    /// file names the output folder (an augmented manifest), they are replaced by the file's placeholder digest.
    /// </summary>
    private static JsonObject Shard(JsonObject shard, string outDir, Dictionary<string, RunOutputs.FileDigest> digests)
    {
        var result = new JsonObject();
        foreach (var key in new[] { "path", "rows", "bytes", "sha256" })
        {
            if (shard[key] is { } value) result[key] = value.DeepClone();
        }
        if (shard["path"]?.GetValue<string>() is { } path && digests.TryGetValue(path, out var digest))
        {
            var bytes = File.ReadAllBytes(Path.Combine(outDir, path));
            if (shard["sha256"]?.GetValue<string>() == Convert.ToHexStringLower(SHA256.HashData(bytes)) && shard["bytes"]?.GetValue<long>() == bytes.Length)
            {
                result["bytes"] = digest.Bytes;
                result["sha256"] = digest.Sha256;
            }
        }
        return result;
    }

    /// <summary>One line per difference: options, missing, extra or changed files, run.json fields.</summary>
    private static List<string> Compare(JsonNode expected, JsonNode actual)
    {
        var problems = new List<string>();
        if (!JsonNode.DeepEquals(expected["args"], actual["args"]))
        {
            problems.Add($"the case's options changed: golden {expected["args"]?.ToJsonString()}, now {actual["args"]?.ToJsonString()}");
        }
        var goldenFiles = expected["files"]?.AsObject() ?? new JsonObject();
        var files = actual["files"]!.AsObject();
        foreach (var (path, digest) in goldenFiles)
        {
            if (!files.TryGetPropertyValue(path, out var now)) problems.Add($"missing: {path} (golden {Describe(digest)})");
            else if (!JsonNode.DeepEquals(digest, now))
            {
                var gzip = path.EndsWith(".gz", StringComparison.Ordinal) ? " (gzip bytes also depend on the runtime's zlib-ng)" : "";
                problems.Add($"differs: {path}: golden {Describe(digest)}, now {Describe(now)}{gzip}");
            }
        }
        foreach (var (path, digest) in files)
        {
            if (!goldenFiles.ContainsKey(path)) problems.Add($"extra: {path} ({Describe(digest)})");
        }
        var goldenRun = expected["run"];
        var run = actual["run"]!;
        if (!JsonNode.DeepEquals(goldenRun?["contentType"], run["contentType"]))
        {
            problems.Add($"run.json contentType: golden {goldenRun?["contentType"]?.ToJsonString()}, now {run["contentType"]?.ToJsonString()}");
        }
        var goldenSplits = goldenRun?["splits"]?.AsObject() ?? new JsonObject();
        var splits = run["splits"]!.AsObject();
        foreach (var name in goldenSplits.Select(kv => kv.Key).Union(splits.Select(kv => kv.Key)))
        {
            var a = goldenSplits[name];
            var b = splits[name];
            if (!JsonNode.DeepEquals(a?["rows"], b?["rows"]))
            {
                problems.Add($"run.json split '{name}' rows: golden {a?["rows"]?.ToJsonString() ?? "(none)"}, now {b?["rows"]?.ToJsonString() ?? "(none)"}");
            }
            var goldenShards = a?["shards"]?.AsArray() ?? new JsonArray();
            var shards = b?["shards"]?.AsArray() ?? new JsonArray();
            for (int i = 0; i < Math.Max(goldenShards.Count, shards.Count); i++)
            {
                var g = i < goldenShards.Count ? goldenShards[i] : null;
                var s = i < shards.Count ? shards[i] : null;
                if (!JsonNode.DeepEquals(g, s))
                {
                    problems.Add($"run.json split '{name}' shard {i}: golden {g?.ToJsonString() ?? "(none)"}, now {s?.ToJsonString() ?? "(none)"}");
                }
            }
        }
        return problems;
    }

    private static string Describe(JsonNode? digest) => $"sha256 {digest?["sha256"]}, {digest?["bytes"]} bytes";
}
