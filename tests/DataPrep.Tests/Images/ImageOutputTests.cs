using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using DataPrep.Data;
using DataPrep.Fluent;
using DataPrep.Images;
using DataPrep.Pipeline;
using DataPrep.RecordIO;
using DataPrep.Splits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using DataPrep.Conversion;

namespace DataPrep.Tests.Images;

public class ImageOutputTests
{
    private static string Sample => Paths.SampleData("images");

    private static string[] Convert(string output, params string[] extra)
    {
        var r = CliRunner.Run(["convert", Sample, "--out", output, "-q", .. extra]);
        Assert.True(r.Code == 0, r.Err);
        return Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public void Recordio_image_matches_the_golden_bytes_and_reads_back()
    {
        using var dir = new TempDir();
        var output = dir.Combine("out");
        var files = Convert(output, "--format", "recordio-image", "--augment", "rotate=90");
        Assert.Contains("train/train.rec", files);
        Assert.Contains("_dataprep/train.idx", files);
        foreach (var split in new[] { "train", "validation", "test" })
        {
            Assert.Equal(File.ReadAllBytes(Paths.Fixture("..", "Golden", "images", $"{split}.rec")), File.ReadAllBytes(Path.Combine(output, split, $"{split}.rec")));
            Assert.Equal(File.ReadAllText(Paths.Fixture("..", "Golden", "images", $"{split}.idx")), File.ReadAllText(Path.Combine(output, "_dataprep", $"{split}.idx")));
        }
        // Round trip: every record's header id is its .idx key, labels are the class ids, images decode to the listed sizes.
        var records = ImageRecordInspector.Read(Path.Combine(output, "train", "train.rec")).ToList();
        var check = ImageRecordInspector.CheckIdx(Path.Combine(output, "_dataprep", "train.idx"), records.Select(r => (r.Offset, r.Header.Id)).ToList());
        Assert.Empty(check.Problems);
        var lineage = File.ReadAllLines(Path.Combine(output, "_dataprep", "lineage", "train.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(records.Count, lineage.Count);
        for (int i = 0; i < records.Count; i++)
        {
            var image = lineage[i][6];
            Assert.Equal(image.Split('/')[0] switch { "cat" => 0f, "dog" => 1f, _ => 2f }, records[i].Header.Label);
            Assert.Equal(0u, records[i].Header.Flag);
            // Sample images are 16×12; rotated copies 12×16.
            Assert.Equal(lineage[i][7] == "original" ? (16, 12) : (12, 16), (records[i].Width, records[i].Height));
        }
        var run = RunRecord.Load(Path.Combine(output, "_dataprep", "run.json"));
        Assert.Equal(["cat", "dog", "tiger"], run.Encoding!.Label!.Classes);
        Assert.Equal("application/x-recordio", run.ContentType);
    }

    [Fact]
    public void Output_bytes_do_not_depend_on_threads()
    {
        using var dir = new TempDir();
        Convert(dir.Combine("a"), "--format", "recordio-image", "--augment", "rotate=90,180,33", "--threads", "1");
        Convert(dir.Combine("b"), "--format", "recordio-image", "--augment", "rotate=90,180,33", "--threads", "4");
        foreach (var split in new[] { "train", "validation", "test" })
        {
            Assert.Equal(File.ReadAllBytes(dir.Combine("a", split, $"{split}.rec")), File.ReadAllBytes(dir.Combine("b", split, $"{split}.rec")));
        }
    }

    [Fact]
    public void Images_format_writes_files_and_lst_with_indexes_unique_across_splits()
    {
        using var dir = new TempDir();
        var output = dir.Combine("out");
        var files = Convert(output, "--format", "images", "--augment", "rotate=270");
        var lines = new[] { "train", "validation", "test" }.SelectMany(s => File.ReadAllLines(Path.Combine(output, $"{s}_lst", $"{s}.lst")).Select(l => (Split: s, Cols: l.Split('\t')))).ToList();
        Assert.Equal(12 + 10, lines.Count); // 12 images, 10 of them in train get a copy
        Assert.Equal(lines.Count, lines.Select(l => l.Cols[0]).Distinct().Count());
        foreach (var (split, cols) in lines)
        {
            Assert.Equal(3, cols.Length);
            Assert.Contains($"{split}/{cols[2]}", files);
            Assert.Equal(cols[2].Split('/')[0] switch { "cat" => "0", "dog" => "1", _ => "2" }, cols[1]);
        }
        Assert.All(lines.Where(l => l.Cols[2].Contains(".rotate270.")), l => Assert.Equal("train", l.Split));
        var run = RunRecord.Load(Path.Combine(output, "_dataprep", "run.json"));
        Assert.Equal("application/x-image", run.ContentType);
        Assert.Equal(10, run.Splits["train"].Augmented!["rotate270"]);
        Assert.Equal("train_lst/train.lst", Assert.Single(run.Splits["train_lst"].Shards).Path);
    }

    [Fact]
    public void Augmented_manifest_points_source_refs_at_the_written_images_and_sets_channel_hints()
    {
        using var dir = new TempDir();
        var output = dir.Combine("out");
        var files = Convert(output, "--format", "augmented-manifest", "--augment", "rotate=90");
        var lines = File.ReadAllLines(Path.Combine(output, "train", "train.jsonl"));
        Assert.Equal(20, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var uri = new Uri(doc.RootElement.GetProperty("source-ref").GetString()!);
            Assert.Equal("file", uri.Scheme);
            Assert.True(File.Exists(uri.LocalPath), uri.LocalPath);
            Assert.StartsWith(Path.Combine(Path.GetFullPath(output), "images", "train"), uri.LocalPath);
            Assert.Contains(doc.RootElement.GetProperty("class").GetString(), new[] { "0", "1", "2" });
        }
        // Channel prefixes hold the manifest only; images live under images/.
        Assert.Equal(["train/train.jsonl"], files.Where(f => f.StartsWith("train/", StringComparison.Ordinal)));
        Assert.Equal("application/x-recordio", RunRecord.Load(Path.Combine(output, "_dataprep", "run.json")).ContentType);
    }

    [Fact]
    public async Task Channel_hints_of_each_format()
    {
        using var dir = new TempDir();
        var am = await ImagePipeline.ReadImages(Sample).Rotate(90).WriteAugmentedManifest(dir.Combine("am")).RunAsync();
        Assert.Equal("AugmentedManifestFile", am.Channel.S3DataType);
        Assert.Equal("RecordIO", am.Channel.RecordWrapperType);
        Assert.Equal("Pipe", am.Channel.InputMode);
        Assert.Equal(["source-ref", "class"], am.Channel.AttributeNames);
        var rec = await ImagePipeline.ReadImages(Sample).WriteRecordIOImages(dir.Combine("rec")).RunAsync();
        Assert.Equal("FullyReplicated", rec.Channel.Distribution);
        Assert.Equal("application/x-recordio", rec.ContentType);
    }

    [Fact]
    public async Task Fluent_pipeline_reads_rotates_and_writes_recordio()
    {
        using var dir = new TempDir();
        var report = await ImagePipeline.ReadImages(Sample).SplitRandom(0.5, 0.25, 0.25).Rotate(90, 180)
            .WriteRecordIOImages(dir.Combine("out")).RunAsync();
        Assert.Equal(6, report.Splits["train"].Augmented!["rotate90"]);
        Assert.Equal(6, report.Splits["train"].Augmented!["rotate180"]);
        Assert.Equal(18, report.Splits["train"].Rows);
        Assert.Null(report.Splits["test"].Augmented);
        Assert.True(File.Exists(dir.Combine("out", "train", "train.rec")));
    }

    [Fact]
    public void Multi_label_list_writes_flag_and_float_labels()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.Combine("a.png"), ImageTestData.PngPattern(3, 2));
        File.WriteAllBytes(dir.Combine("b.png"), ImageTestData.PngPattern(2, 3));
        var list = dir.File("list.jsonl", "{\"path\":\"a.png\",\"label\":[1,3]}\n{\"path\":\"b.png\",\"label\":\"2\"}\n");
        var r = CliRunner.Run("convert", list, "--out", dir.Combine("out"), "--format", "recordio-image", "--train", "1", "--validation", "0", "--test", "0", "--no-shuffle", "-q");
        Assert.Equal(0, r.Code);
        var recs = ImageRecordInspector.Read(dir.Combine("out", "train", "train.rec")).ToList();
        Assert.Equal(2u, recs[0].Header.Flag);
        Assert.Equal([1f, 3f], recs[0].Header.Labels);
        Assert.Equal(0f, recs[0].Header.Label);
        Assert.Equal(1u, recs[1].Header.Flag); // a multi-label dataset writes every record in the multi-label layout
        Assert.Equal([2f], recs[1].Header.Labels);
        Assert.Equal((3, 2), (recs[0].Width, recs[0].Height));
    }

    [Fact]
    public void Class_ids_follow_ordinal_order_of_folder_names()
    {
        using var dir = new TempDir();
        ImageTestData.ClassFolders(dir.Combine("in"), ["b", "a", "C"], 1);
        var input = ImageInputs.ReadClassFolders(dir.Combine("in"));
        Assert.Equal(["C", "a", "b"], input.Classes);
        Assert.Equal(["C/img0.png", "a/img0.png", "b/img0.png"], input.Entries.Select(e => e.RelativePath));
        Assert.Equal([0f, 1f, 2f], input.Entries.Select(e => e.Labels[0]));
    }

    [Fact]
    public void Payloads_holding_the_magic_word_are_escaped_like_mxnet_and_read_back()
    {
        var image = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(8), RecordIOFraming.Magic); // payload offset 24 + 8: aligned
        var payload = ImageRecord.Pack([5f], false, 7, image);
        var framed = new ArrayBufferWriter<byte>();
        ImageRecord.Frame(payload, framed);
        var bytes = framed.WrittenSpan.ToArray();
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) >> 29); // first part
        using var reader = new RecordIOReader(new MemoryStream(bytes));
        Assert.True(reader.TryRead(out var rec));
        var back = ImageRecord.Unpack(rec.Payload);
        Assert.Equal((5f, 7ul), (back.Label, back.Id));
        Assert.Equal(image, back.Image.ToArray());
    }

    /// <summary>
    /// Leakage: whatever the images, groups and fraction, augmented copies exist only for train rows, each
    /// copy keeps its source's split and group, and no group is in two splits.
    /// </summary>
    [Property(MaxTest = 60)]
    public Property Augmented_rows_only_in_train_and_share_their_sources_group(PositiveInt count, PositiveInt groups, bool half)
    {
        int n = 3 + count.Get % 60;
        int g = 1 + groups.Get % 12;
        var entries = Enumerable.Range(0, n).Select(i => new ImageEntry($"/none/{i}.png", $"{i}.png", [i % 3], $"g{(i * 7) % g}", i + 2)).ToList();
        var input = ImageInputs.FromEntries("list.csv", entries);
        var options = new ConvertOptions
        {
            Inputs = ["list.csv"], Output = "unused", Format = RecordIOImageFormatDefinition.FormatName, SplitBy = SplitMethod.Group, GroupColumn = "group",
            Images = new ImageOptions { Rotations = [90, 270], AugmentFraction = half ? 0.5 : 1 },
        };
        var rows = Plan(options, input.Batch);
        var originals = rows.Where(r => r.Operation == ImageAugmentStage.Original).ToList();
        var copies = rows.Where(r => r.Operation != ImageAugmentStage.Original).ToList();
        var byId = originals.ToDictionary(r => r.RowId);
        bool onlyTrain = copies.All(c => c.Split == SplitTag.Train);
        bool allTrainWhenFull = half || originals.Where(o => o.Split == SplitTag.Train).All(o => copies.Count(c => c.From == o.RowId) == 2);
        // A copy keeps its source's split and group, and follows it.
        bool keep = copies.All(c => byId[c.From].Split == c.Split && byId[c.From].Group == c.Group);
        var groupSplits = rows.GroupBy(r => r.Group).All(x => x.Select(r => r.Split).Distinct().Count() == 1);
        bool distinctIds = rows.Select(r => r.RowId).Distinct().Count() == rows.Count;
        return (onlyTrain && allTrainWhenFull && keep && groupSplits && originals.Count == n && distinctIds)
            .Label($"n={n} g={g} onlyTrain={onlyTrain} full={allTrainWhenFull} groups={groupSplits}");
    }

    /// <summary>The rows the split and augmentation stages make of an image batch, in output order.</summary>
    internal static List<(long RowId, long From, string Operation, SplitTag Split, short Fold, string? Group)> Plan(ConvertOptions options, RecordBatch batch)
    {
        var context = new RunContext();
        var split = new SplitStage(ConvertRunner.CreateAssigner(options, context), options.Seed, options.EffectiveShuffle, lineageGroup: options.GroupColumn);
        var augment = new ImageAugmentStage(options.Images, options.Seed);
        augment.Bind(split.Bind(batch.Schema));
        var result = new List<(long, long, string, SplitTag, short, string?)>();
        foreach (var b in augment.RunAsync(split.RunAsync(new[] { batch }.ToAsyncEnumerable(), context, default), context, default).ToBlockingEnumerable())
        {
            var rows = b.Rows;
            var group = options.GroupColumn is { } g ? (StringColumn)b[g] : null;
            for (int r = 0; r < b.RowCount; r++)
            {
                result.Add((rows.RowIds[r], rows.AugmentedFrom?[r] ?? rows.RowIds[r], rows.Operations?[r] ?? ImageAugmentStage.Original, rows.Splits![r], rows.Folds?[r] ?? -1, group?.Values[r]));
            }
        }
        return result;
    }

    [Fact]
    public void Lineage_records_source_row_operation_and_group_of_every_copy()
    {
        using var dir = new TempDir();
        var sb = new System.Text.StringBuilder("path,label,patient\n");
        for (int i = 0; i < 12; i++)
        {
            File.WriteAllBytes(dir.Combine($"{i}.png"), ImageTestData.PngPattern(2 + i % 3, 2));
            sb.Append($"{i}.png,{i % 2},p{i % 4}\n");
        }
        var list = dir.File("list.csv", sb.ToString());
        var r = CliRunner.Run("convert", list, "--out", dir.Combine("out"), "--format", "recordio-image", "--split", "group", "--group", "patient", "--augment", "rotate=90", "--allow-empty-split", "-q");
        Assert.Equal(0, r.Code);
        var bySplit = new[] { "train", "validation", "test" }.Where(s => File.Exists(dir.Combine("out", "_dataprep", "lineage", $"{s}.csv")))
            .ToDictionary(s => s, s => File.ReadAllLines(dir.Combine("out", "_dataprep", "lineage", $"{s}.csv")));
        Assert.Equal("row_id,source,source_row,shard,record,content_hash,group,image,operation,source_row_id,output", bySplit["train"][0]);
        var rows = bySplit.SelectMany(kv => kv.Value.Skip(1).Select(l => (Split: kv.Key, C: l.Split(',')))).ToList();
        var originals = rows.Where(x => x.C[8] == "original").ToDictionary(x => x.C[0]);
        foreach (var copy in rows.Where(x => x.C[8] != "original"))
        {
            Assert.Equal("rotate90", copy.C[8]);
            Assert.Equal("train", copy.Split);
            var source = originals[copy.C[9]];
            Assert.Equal((source.Split, source.C[6], source.C[7], source.C[2]), (copy.Split, copy.C[6], copy.C[7], copy.C[2]));
        }
        Assert.Equal(rows.Count(x => x.Split == "train" && x.C[8] == "original"), rows.Count(x => x.C[8] == "rotate90"));
        // No patient in two splits.
        Assert.All(rows.GroupBy(x => x.C[6]), grp => Assert.Single(grp.Select(x => x.Split).Distinct()));
    }
}
