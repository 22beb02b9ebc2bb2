using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Fluent;
using DataPrep.Images;
using DataPrep.S3;

namespace DataPrep.Tests.S3;

/// <summary>
/// The image formats through the S3 store and image inputs from S3, against moto: byte-exact round trips
/// against the same job on local files, the layout of DESIGN §4, ManifestFiles / channels.json / snippet per
/// format, augmented-manifest source-refs, and abort / overwrite semantics.
/// </summary>
[Collection("moto")]
[Trait(NativePass.Name, NativePass.Value)]
public sealed class S3ImageTests(MotoServer moto)
{
    private static readonly string s_images = Paths.SampleData("images");

    private CliRunner.Result Convert(string input, string output, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", output, "--endpoint-url", moto.Endpoint, .. extra]);

    private static CliRunner.Result Local(string input, string output, params string[] extra)
        => CliRunner.Run(["convert", input, "--out", output, .. extra]);

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static void Upload(IAmazonS3 client, string bucket, string key, byte[] bytes)
    {
        using var m = new MemoryStream(bytes);
        client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = m }).GetAwaiter().GetResult();
    }

    /// <summary>Uploads a local folder's files to <paramref name="prefix"/> (relative paths kept).</summary>
    private static void UploadFolder(IAmazonS3 client, string bucket, string prefix, string folder)
    {
        foreach (var (rel, bytes) in S3Data.Local(folder)) Upload(client, bucket, prefix + rel, bytes);
    }

    [Theory]
    [InlineData("recordio-image")]
    [InlineData("images")]
    [InlineData("augmented-manifest")]
    public void ImageFormat_ToS3_IsByteIdenticalToALocalRun_WithTheLayoutManifestsAndChannelsOfTheFormat(string format)
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("img");
        string[] args = ["--format", format, "--augment", "rotate=90", "--seed", "7"];
        var r = Convert(s_images, $"s3://{bucket}/p/", args);
        Assert.True(r.Code == 0, r.Err);
        var localRoot = tmp.Combine("local");
        Assert.Equal(0, Local(s_images, localRoot, [.. args, "--quiet"]).Code);
        using var client = moto.Client();
        var remote = S3Data.Download(client, bucket, "p/");
        var local = S3Data.Local(localRoot);
        string root = $"s3://{bucket}/p/";
        string localUri = new Uri(Path.GetFullPath(localRoot) + "/").AbsoluteUri;

        // Every data object and sidecar has the local run's bytes; augmented manifests differ only in the root of their source-refs.
        var expected = S3Data.DataOnly(local);
        foreach (var k in expected.Keys.Where(k => k.EndsWith(".jsonl", StringComparison.Ordinal)).ToList())
        {
            Assert.Contains(localUri, Text(expected[k]));
            expected[k] = Encoding.UTF8.GetBytes(Text(expected[k]).Replace(localUri, root, StringComparison.Ordinal));
        }
        S3Data.AssertSameBytes(expected, S3Data.DataOnly(remote));
        Assert.Equal(local.Keys.ToList(), remote.Keys.ToList());
        Assert.Contains("_dataprep/run.json", remote.Keys);
        Assert.Contains("_dataprep/channels.json", remote.Keys);

        // DESIGN §4: data only under <split>/ (and <split>_lst/, images/ for augmented manifests); the rest under _dataprep/.
        var splits = remote.Keys.Where(k => !k.StartsWith("_dataprep/")).Select(k => k[..k.IndexOf('/')]).Distinct().ToList();
        using var channels = JsonDocument.Parse(remote["_dataprep/channels.json"]);
        var ch = channels.RootElement.GetProperty("channels");
        var train = ch.GetProperty("train");
        switch (format)
        {
            case "recordio-image":
                Assert.Equal(["test", "train", "validation"], splits.Order(StringComparer.Ordinal));
                Assert.All(remote.Keys.Where(k => !k.StartsWith("_dataprep/")), k => Assert.Matches("^(train|validation|test)/\\1\\.rec$", k));
                Assert.Contains("_dataprep/train.idx", remote.Keys);
                Assert.Equal("[{\"prefix\": \"" + root + "\"},\n \"train/train.rec\"]\n", Text(remote["_dataprep/train.manifest"]));
                Assert.Equal(root + "_dataprep/train.manifest", train.GetProperty("s3Uri").GetString());
                Assert.Equal("ManifestFile", train.GetProperty("s3DataType").GetString());
                Assert.Equal("application/x-recordio", train.GetProperty("contentType").GetString());
                Assert.Equal("FullyReplicated", train.GetProperty("distribution").GetString());
                Assert.Equal(remote["train/train.rec"].Length, train.GetProperty("bytes").GetInt64());
                Assert.Contains($"\"train\": TrainingInput(\"{root}_dataprep/train.manifest\", s3_data_type=\"ManifestFile\", distribution=\"FullyReplicated\", content_type=\"application/x-recordio\"", r.Out);
                break;
            case "images":
                Assert.Equal(["test", "test_lst", "train", "train_lst", "validation", "validation_lst"], splits.Order(StringComparer.Ordinal));
                // Manifests list objects relative to the split, as the .lst does, so File mode puts them where the .lst says.
                var manifest = JsonDocument.Parse(remote["_dataprep/train.manifest"]).RootElement;
                Assert.Equal(root + "train/", manifest[0].GetProperty("prefix").GetString());
                var listed = manifest.EnumerateArray().Skip(1).Select(e => e.GetString()!).Order(StringComparer.Ordinal).ToList();
                Assert.Equal(remote.Keys.Where(k => k.StartsWith("train/")).Select(k => k["train/".Length..]).Order(StringComparer.Ordinal), listed);
                var lstPaths = Text(remote["train_lst/train.lst"]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[^1]).Order(StringComparer.Ordinal).ToList();
                Assert.Equal(listed, lstPaths);
                Assert.Equal("[{\"prefix\": \"" + root + "train_lst/\"},\n \"train.lst\"]\n", Text(remote["_dataprep/train_lst.manifest"]));
                var lst = ch.GetProperty("train_lst");
                Assert.Equal(root + "_dataprep/train_lst.manifest", lst.GetProperty("s3Uri").GetString());
                Assert.Equal("application/x-image", lst.GetProperty("contentType").GetString());
                Assert.Equal("application/x-image", train.GetProperty("contentType").GetString());
                Assert.Equal("FullyReplicated", train.GetProperty("distribution").GetString());
                Assert.Equal("File", train.GetProperty("inputMode").GetString());
                Assert.Equal(remote.Where(kv => kv.Key.StartsWith("train/")).Sum(kv => (long)kv.Value.Length), train.GetProperty("bytes").GetInt64());
                Assert.Contains($"\"train_lst\": TrainingInput(\"{root}_dataprep/train_lst.manifest\", s3_data_type=\"ManifestFile\", distribution=\"FullyReplicated\", content_type=\"application/x-image\"", r.Out);
                break;
            default:
                Assert.Equal(["images", "test", "train", "validation"], splits.Order(StringComparer.Ordinal));
                Assert.All(remote.Keys.Where(k => k.StartsWith("train/")), k => Assert.Equal("train/train.jsonl", k));
                Assert.DoesNotContain(remote.Keys, k => k.EndsWith(".manifest", StringComparison.Ordinal)); // the .jsonl is the channel's source
                Assert.Equal(root + "train/train.jsonl", train.GetProperty("s3Uri").GetString());
                Assert.Equal("AugmentedManifestFile", train.GetProperty("s3DataType").GetString());
                Assert.Equal("Pipe", train.GetProperty("inputMode").GetString());
                Assert.Equal("RecordIO", train.GetProperty("recordWrapperType").GetString());
                Assert.Equal("FullyReplicated", train.GetProperty("distribution").GetString());
                Assert.Equal(["source-ref", "class"], train.GetProperty("attributeNames").EnumerateArray().Select(e => e.GetString()));
                Assert.Contains($"\"train\": TrainingInput(\"{root}train/train.jsonl\", s3_data_type=\"AugmentedManifestFile\", distribution=\"FullyReplicated\", content_type=\"application/x-recordio\", record_wrapping=\"RecordIO\", attribute_names=[\"source-ref\",\"class\"], input_mode=\"Pipe\")", r.Out);
                Assert.Contains("\"AttributeNames\": [", r.Out);
                // Every source-ref is an uploaded object with the local run's image bytes.
                int refs = 0;
                foreach (var split in new[] { "train", "validation", "test" })
                {
                    foreach (var line in Text(remote[$"{split}/{split}.jsonl"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    {
                        var uri = JsonDocument.Parse(line).RootElement.GetProperty("source-ref").GetString()!;
                        Assert.StartsWith(root + "images/" + split + "/", uri);
                        var rel = uri[root.Length..];
                        Assert.True(remote.ContainsKey(rel), $"{uri} is not in the bucket");
                        Assert.Equal(local[rel], remote[rel]);
                        refs++;
                    }
                }
                Assert.True(refs >= 12, $"only {refs} source-refs");
                break;
        }
        // Local runs describe themselves the same way, with file:// URIs.
        Assert.Contains("\"s3Uri\": \"file://", Text(local["_dataprep/channels.json"]));
    }

    [Fact]
    public void Instances_WithRecordIOImage_WarnThatEveryInstanceReadsAllTheData()
    {
        using var tmp = new TempDir();
        var r = Local(s_images, tmp.Combine("o"), "--format", "recordio-image", "--instances", "4");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("--instances 4: this format needs S3DataDistributionType FullyReplicated", r.Out + r.Err);
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Combine("o"), "_dataprep", "channels.json")));
        Assert.Equal("FullyReplicated", run.RootElement.GetProperty("channels").GetProperty("train").GetProperty("distribution").GetString());
    }

    [Fact]
    public void AwsSdk_IsNotLoaded_ForLocalImageRuns()
    {
        using var tmp = new TempDir();
        var local = CliProcess.RunFrameworkDependent(["convert", s_images, "--out", tmp.Combine("o"), "--format", "augmented-manifest", "--quiet"], new() { ["DATAPREP_TRACE_ASSEMBLIES"] = "1" });
        Assert.True(local.Code == 0, local.Err);
        Assert.Contains("assembly: DataPrep.Images", local.Err);
        Assert.DoesNotContain("AWSSDK", local.Err);
    }

    [Fact]
    public void ImageInputs_FromS3_ClassFolderPrefixAndList_GiveTheSameOutputAsLocalFiles()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("imgin");
        using var client = moto.Client();
        UploadFolder(client, bucket, "raw/", s_images);
        string[] args = ["--format", "recordio-image", "--augment", "rotate=90", "--seed", "3", "--quiet"];

        // A class-folder prefix (subfolders = classes); generate.sh at the top level is not an image and is ignored, as locally.
        Assert.Equal(0, Local(s_images, tmp.Combine("local"), args).Code);
        var r = CliRunner.Run(["convert", $"s3://{bucket}/raw/", "--out", tmp.Combine("remote"), "--endpoint-url", moto.Endpoint, .. args]);
        Assert.True(r.Code == 0, r.Err);
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local"))), S3Data.DataOnly(S3Data.Local(tmp.Combine("remote"))));
        using (var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Combine("remote"), "_dataprep", "run.json"))))
        {
            var classes = run.RootElement.GetProperty("encoding").GetProperty("label").GetProperty("classes").EnumerateArray().Select(e => e.GetString());
            Assert.Equal(["cat", "dog", "tiger"], classes);
        }

        // An input list: relative paths (with ./ and a harmless ..) resolve against the list's prefix.
        var listDir = tmp.Combine("list");
        Directory.CreateDirectory(listDir);
        var lines = new StringBuilder("path,label,patient\n");
        int n = 0;
        foreach (var f in Directory.EnumerateFiles(s_images, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(s_images, f).Replace('\\', '/');
            Directory.CreateDirectory(Path.Combine(listDir, "pics", Path.GetDirectoryName(rel)!));
            File.Copy(f, Path.Combine(listDir, "pics", rel));
            string listed = n % 3 == 0 ? "./pics/" + rel : n % 3 == 1 ? "pics/cat/../" + rel : "pics/" + rel;
            lines.Append(listed).Append(',').Append(rel[..rel.IndexOf('/')]).Append(",p").Append(n % 5).Append('\n');
            n++;
        }
        File.WriteAllText(Path.Combine(listDir, "list.csv"), lines.ToString());
        UploadFolder(client, bucket, "lists/", listDir);
        // Five patients for three splits: a split may end up empty, which this test does not care about.
        string[] listArgs = ["--format", "images", "--split", "group", "--group", "patient", "--augment", "rotate=90,180", "--allow-empty-split", "--quiet"];
        Assert.Equal(0, Local(Path.Combine(listDir, "list.csv"), tmp.Combine("local-list"), listArgs).Code);
        r = CliRunner.Run(["convert", $"s3://{bucket}/lists/list.csv", "--out", tmp.Combine("remote-list"), "--endpoint-url", moto.Endpoint, .. listArgs]);
        Assert.True(r.Code == 0, r.Err);
        var fromS3 = S3Data.Local(tmp.Combine("remote-list"));
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local-list"))), S3Data.DataOnly(fromS3));
        Assert.Contains(fromS3.Keys, k => k.EndsWith("/pics/cat/cat-1.png", StringComparison.Ordinal) && !k.StartsWith("_dataprep/"));
        using (var run = JsonDocument.Parse(fromS3["_dataprep/run.json"]))
        {
            Assert.Contains($"s3://{bucket}/lists/list.csv", run.RootElement.GetProperty("inputs").GetRawText());
            Assert.Contains("etag:", run.RootElement.GetRawText());
        }

        // Escaping the list's prefix is refused, and a missing object names its list line; nothing is written.
        Upload(client, bucket, "lists/escape.csv", Encoding.UTF8.GetBytes("path,label\npics/cat/cat-1.png,0\n../raw/cat/cat-1.png,0\n"));
        r = CliRunner.Run(["convert", $"s3://{bucket}/lists/escape.csv", "--out", tmp.Combine("bad1"), "--endpoint-url", moto.Endpoint, "--format", "images"]);
        Assert.Equal(3, r.Code);
        Assert.Contains("'../raw/cat/cat-1.png' resolves outside the list's prefix", r.Err);
        Assert.Contains("line 3", r.Err);
        Assert.False(Directory.Exists(tmp.Combine("bad1")));
        Upload(client, bucket, "lists/missing.csv", Encoding.UTF8.GetBytes("path,label\npics/cat/cat-1.png,0\npics/cat/cat-9.png,0\n"));
        r = CliRunner.Run(["convert", $"s3://{bucket}/lists/missing.csv", "--out", tmp.Combine("bad2"), "--endpoint-url", moto.Endpoint, "--format", "images"]);
        Assert.Equal(3, r.Code);
        Assert.Contains($"image 'pics/cat/cat-9.png' does not exist (looked for s3://{bucket}/lists/pics/cat/cat-9.png)", r.Err);
        Assert.Contains("line 3", r.Err);
        Assert.False(Directory.Exists(tmp.Combine("bad2")));
    }

    [Fact]
    public async Task FluentApi_JsonLinesListInS3_ToAnAugmentedManifestInS3_HasTheLocalRunsImagesBehindItsSourceRefs()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("imgfluent");
        using var client = moto.Client();
        var listDir = tmp.Combine("in");
        var lines = new StringBuilder();
        foreach (var (rel, bytes) in S3Data.Local(s_images).Where(kv => kv.Key.EndsWith(".png", StringComparison.Ordinal)))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(listDir, rel))!);
            File.WriteAllBytes(Path.Combine(listDir, rel), bytes);
            // Multi-label: the class name plus "any".
            lines.Append("{\"path\": \"").Append(rel).Append("\", \"labels\": [\"").Append(rel[..rel.IndexOf('/')]).Append("\", \"any\"]}\n");
        }
        File.WriteAllText(Path.Combine(listDir, "list.jsonl"), lines.ToString());
        UploadFolder(client, bucket, "in/", listDir);

        var report = await ImagePipeline.ReadImages($"s3://{bucket}/in/list.jsonl").Label("labels").Rotate(180)
            .UseS3(s => s with { EndpointUrl = moto.Endpoint }).WriteAugmentedManifest($"s3://{bucket}/out/").RunAsync();
        Assert.Equal($"s3://{bucket}/out/", report.Output);
        var local = await ImagePipeline.ReadImages(Path.Combine(listDir, "list.jsonl")).Label("labels").Rotate(180)
            .WriteAugmentedManifest(tmp.Combine("local")).RunAsync();
        var remote = S3Data.Download(client, bucket, "out/");
        var localFiles = S3Data.Local(tmp.Combine("local"));
        Assert.Equal(localFiles.Keys.ToList(), remote.Keys.ToList());
        var first = JsonDocument.Parse(Text(remote["train/train.jsonl"]).Split('\n')[0]).RootElement;
        Assert.Equal(JsonValueKind.Array, first.GetProperty("class").ValueKind); // class-id format for multi-label
        foreach (var line in Text(remote["train/train.jsonl"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var uri = JsonDocument.Parse(line).RootElement.GetProperty("source-ref").GetString()!;
            var rel = uri[$"s3://{bucket}/out/".Length..];
            Assert.Equal(localFiles[rel], remote[rel]);
        }
        using var channels = JsonDocument.Parse(remote["_dataprep/channels.json"]);
        Assert.Equal("application/x-recordio; label-format=class-id", channels.RootElement.GetProperty("channels").GetProperty("train").GetProperty("contentType").GetString());
    }

    [Fact]
    public void FailedImageRun_LeavesNoRunRecordOrManifest_AndOverwriteReplacesAnEarlierImageRun()
    {
        using var tmp = new TempDir();
        var bucket = moto.NewBucket("imgfail");
        using var client = moto.Client();
        // A class folder whose last image is truncated: the run fails after other images were uploaded.
        var bad = tmp.Combine("bad");
        foreach (var (rel, bytes) in S3Data.Local(s_images).Where(kv => kv.Key.EndsWith(".png", StringComparison.Ordinal)))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(bad, rel))!);
            File.WriteAllBytes(Path.Combine(bad, rel), rel == "tiger/tiger-4.png" ? bytes[..(bytes.Length / 2)] : bytes);
        }
        var r = Convert(bad, $"s3://{bucket}/p/", "--format", "images", "--quiet");
        Assert.Equal(3, r.Code);
        Assert.Contains("tiger-4.png", r.Err);
        var keys = S3Data.Keys(client, bucket, "p/");
        Assert.DoesNotContain("p/_dataprep/run.json", keys);
        Assert.DoesNotContain(keys, k => k.EndsWith(".manifest", StringComparison.Ordinal) || k.EndsWith("channels.json", StringComparison.Ordinal));

        // Refused without --resume; with it (the image repaired) the run completes with the local run's bytes.
        r = Convert(bad, $"s3://{bucket}/p/", "--format", "images", "--quiet");
        Assert.Equal(4, r.Code);
        File.Copy(Path.Combine(s_images, "tiger", "tiger-4.png"), Path.Combine(bad, "tiger", "tiger-4.png"), overwrite: true);
        r = Convert(bad, $"s3://{bucket}/p/", "--format", "images", "--resume", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(0, Local(s_images, tmp.Combine("local0"), "--format", "images", "--quiet").Code);
        S3Data.AssertSameBytes(S3Data.DataOnly(S3Data.Local(tmp.Combine("local0"))), S3Data.DataOnly(S3Data.Download(client, bucket, "p/")));

        // A recordio-image run, then --overwrite with the images format: nothing of the first run remains.
        r = Convert(s_images, $"s3://{bucket}/p/", "--format", "recordio-image", "--overwrite", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        r = Convert(s_images, $"s3://{bucket}/p/", "--format", "images", "--quiet");
        Assert.Equal(4, r.Code);
        Assert.Contains("--overwrite", r.Err);
        r = Convert(s_images, $"s3://{bucket}/p/", "--format", "images", "--overwrite", "--quiet");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(0, Local(s_images, tmp.Combine("local"), "--format", "images", "--quiet").Code);
        var remote = S3Data.Download(client, bucket, "p/");
        Assert.Equal(S3Data.Local(tmp.Combine("local")).Keys.ToList(), remote.Keys.ToList());
        Assert.DoesNotContain(remote.Keys, k => k.EndsWith(".rec", StringComparison.Ordinal) || k.EndsWith(".idx", StringComparison.Ordinal));
        Assert.Contains("train_lst/train.lst", remote.Keys);
    }
}
