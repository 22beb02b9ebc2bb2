using System.Text;
using System.Text.Json;
using DataPrep.Data;
using DataPrep.Images;
using DataPrep.Pipeline;
using DataPrep.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using DataPrep.Conversion;

namespace DataPrep.Tests.Images;

/// <summary>
/// Images in the one pipeline: the split features of tables work for images too (k-fold, --like, noisy/clean,
/// stable assignment), with rotation train-only and inheriting its original's split, group and fold.
/// </summary>
public class ImagePipelineTests
{
    private static string Sample => Paths.SampleData("images");

    /// <summary>One lineage row of an image output.</summary>
    private sealed record Lineage(string Channel, long RowId, int Source, string Image, string Operation, long From, string Output);

    private static List<Lineage> ReadLineage(string output)
    {
        var result = new List<Lineage>();
        foreach (var file in Directory.GetFiles(Path.Combine(output, "_dataprep", "lineage"), "*.csv"))
        {
            var lines = File.ReadAllLines(file);
            var header = lines[0].Split(',').ToList();
            int Col(string name) => header.IndexOf(name);
            foreach (var c in lines.Skip(1).Select(l => l.Split(',')))
            {
                result.Add(new Lineage(Path.GetFileNameWithoutExtension(file), long.Parse(c[Col("row_id")]), int.Parse(c[Col("source")]), c[Col("image")],
                    c[Col("operation")], long.Parse(c[Col("source_row_id")]), c[Col("output")]));
            }
        }
        return result;
    }

    private static string Convert(string input, string output, params string[] extra)
    {
        var r = CliRunner.Run(["convert", input, "--out", output, "-q", .. extra]);
        Assert.True(r.Code == 0, r.Err);
        return output;
    }

    /// <summary>Each image's split (or fold) by its path, from the .lst files of an <c>images</c> run.</summary>
    private static Dictionary<string, string> ChannelsByImage(string output)
        => Directory.GetDirectories(output, "*_lst").SelectMany(d => Directory.GetFiles(d, "*.lst"))
            .SelectMany(f => File.ReadAllLines(f).Select(l => (Channel: Path.GetFileName(Path.GetDirectoryName(f))![..^4], Path: l.Split('\t')[^1])))
            .Where(x => !x.Path.Contains(".rotate", StringComparison.Ordinal))
            .ToDictionary(x => x.Path, x => x.Channel, StringComparer.Ordinal);

    /// <summary>Each image's class id by its path, from the .lst files of an <c>images</c> run.</summary>
    private static Dictionary<string, string> ClassIdsByImage(string output)
        => Directory.GetDirectories(output, "*_lst").SelectMany(d => Directory.GetFiles(d, "*.lst"))
            .Select(f => File.ReadAllLines(f)).SelectMany(l => l).Select(l => l.Split('\t'))
            .ToDictionary(c => c[^1], c => c[1], StringComparer.Ordinal);

    [Theory]
    [InlineData("recordio-image")]
    [InlineData("images")]
    [InlineData("augmented-manifest")]
    public void Folds_put_each_image_in_exactly_one_fold_and_its_copies_in_that_fold(string format)
    {
        using var dir = new TempDir();
        var output = Convert(Sample, dir.Combine("out"), "--format", format, "--folds", "3", "--augment", "rotate=90,180");
        var rows = ReadLineage(output);
        var originals = rows.Where(r => r.Operation == "original").ToList();
        // Every input image is in exactly one fold (or the held-out test split), none lost, none twice.
        var images = Directory.GetFiles(Sample, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Sample, f).Replace('\\', '/'));
        Leakage.IsPartition(images, originals.GroupBy(r => r.Channel).Select(g => (g.Key, g.Select(r => r.Image))));
        Assert.Equal(["fold-0", "fold-1", "fold-2", "test"], originals.Select(r => r.Channel).Distinct().Order(StringComparer.Ordinal));
        // Copies: two per fold image (fold rows train), none of the test image, each in its original's fold.
        var byId = originals.ToDictionary(r => r.RowId);
        var copies = rows.Where(r => r.Operation != "original").ToList();
        Assert.Equal(2 * originals.Count(r => r.Channel.StartsWith("fold-", StringComparison.Ordinal)), copies.Count);
        Assert.All(copies, c => Assert.Equal((byId[c.From].Channel, byId[c.From].Image), (c.Channel, c.Image)));
        // No copy of an image is in another fold than the image (no fold validates on what its training set holds).
        Leakage.NoGroupOverlap(rows.GroupBy(r => r.Channel).Select(g => (g.Key, g.Select(r => r.From))));

        var run = RunRecord.Load(Path.Combine(output, "_dataprep", "run.json"));
        for (int k = 0; k < 3; k++)
        {
            var validation = ManifestPaths(output, $"fold-{k}.validation.manifest");
            var train = ManifestPaths(output, $"fold-{k}.train.manifest");
            // A fold validates on its own images only (no rotated copies); it trains on the other folds with their copies.
            var own = run.Splits[$"fold-{k}"].Shards;
            Assert.Equal(own.Where(s => s.Augmented != true).Select(s => s.Path), validation);
            Assert.Equal(Enumerable.Range(0, 3).Where(j => j != k).SelectMany(j => run.Splits[$"fold-{j}"].Shards.Select(s => s.Path)), train);
            Assert.Contains(train, p => p.Contains(".augmented.", StringComparison.Ordinal) || p.Contains(".rotate", StringComparison.Ordinal));
            Assert.DoesNotContain(validation, p => p.Contains(".augmented.", StringComparison.Ordinal) || p.Contains(".rotate", StringComparison.Ordinal));
            if (format == "images")
            {
                // The lists of the fold's training and validation sets name exactly the images their ManifestFiles place.
                foreach (var (role, placed) in new[] { ("train", train), ("validation", validation) })
                {
                    var list = File.ReadAllLines(Path.Combine(output, "_dataprep", $"fold-{k}.{role}.lst")).Select(l => l.Split('\t')[^1]);
                    Assert.Equal(placed, list);
                    Assert.Equal([$"_dataprep/fold-{k}.{role}.lst"], ManifestPaths(output, $"fold-{k}.{role}_lst.manifest"));
                }
            }
            if (format == "augmented-manifest")
            {
                // The training set's augmented manifest: the other folds' lines, copies included (in output order).
                var lines = File.ReadAllLines(Path.Combine(output, "_dataprep", $"fold-{k}.train.jsonl"));
                var expected = train.SelectMany(p => File.ReadAllLines(Path.Combine(output, p)));
                Assert.Equal(expected.Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
            }
        }
        // Copies are written to the files marked augmented.
        Assert.All(copies, c => Assert.True(c.Output.Contains(".augmented.", StringComparison.Ordinal) || c.Output.Contains(".rotate", StringComparison.Ordinal), c.Output));
    }

    private static List<string> ManifestPaths(string output, string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "_dataprep", name)));
        return doc.RootElement.EnumerateArray().Skip(1).Select(e => e.GetString()!).ToList();
    }

    [Fact]
    public void Folds_of_recordio_images_read_back_with_unique_indexes()
    {
        using var dir = new TempDir();
        var output = Convert(Sample, dir.Combine("out"), "--format", "recordio-image", "--folds", "3", "--augment", "rotate=90");
        var ids = new List<ulong>();
        foreach (var rec in Directory.GetFiles(output, "*.rec", SearchOption.AllDirectories))
        {
            var records = ImageRecordInspector.Read(rec).ToList();
            var idx = Path.Combine(output, "_dataprep", Path.GetFileNameWithoutExtension(rec) + ".idx");
            Assert.Empty(ImageRecordInspector.CheckIdx(idx, records.Select(r => (r.Offset, r.Header.Id)).ToList()).Problems);
            ids.AddRange(records.Select(r => r.Header.Id));
        }
        Assert.Equal(12 + 11, ids.Count); // 11 fold images get a copy, the test image none
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    /// <summary>Leakage: with k-fold, whatever the images and fold count, every copy is in its original's fold and only fold rows get copies.</summary>
    [Property(MaxTest = 60)]
    public Property Fold_copies_stay_in_their_originals_fold(PositiveInt count, PositiveInt folds, bool half)
    {
        int n = 6 + count.Get % 60;
        int k = 2 + folds.Get % 4;
        var entries = Enumerable.Range(0, n).Select(i => new ImageEntry($"/none/{i}.png", $"{i}.png", [i % 3], null, i + 2)).ToList();
        var options = new ConvertOptions
        {
            Inputs = ["list.csv"], Output = "unused", Format = RecordIOImageFormatDefinition.FormatName, Folds = k,
            Images = new ImageOptions { Rotations = [90, 270], AugmentFraction = half ? 0.5 : 1 },
        };
        var rows = ImageOutputTests.Plan(options, ImageInputs.FromEntries("list.csv", entries).Batch);
        var byId = rows.Where(r => r.Operation == ImageAugmentStage.Original).ToDictionary(r => r.RowId);
        var copies = rows.Where(r => r.Operation != ImageAugmentStage.Original).ToList();
        bool sameFold = copies.All(c => byId[c.From].Fold == c.Fold && byId[c.From].Split == c.Split);
        bool onlyFolds = copies.All(c => c.Fold >= 0);
        bool partition = byId.Count == n && byId.Values.All(r => r.Fold >= 0 ? r.Split == SplitTag.Train : r.Split == SplitTag.Test);
        return (sameFold && onlyFolds && partition).Label($"n={n} k={k} sameFold={sameFold} onlyFolds={onlyFolds} partition={partition}");
    }

    [Fact]
    public void Like_keeps_the_earlier_runs_splits_and_class_ids_when_images_are_added()
    {
        using var dir = new TempDir();
        var first = Convert(Sample, dir.Combine("first"), "--format", "images", "--assignment", "stable", "--allow-empty-split");
        // More images, among them a new class that sorts first ("ant") and images that sort between the old ones.
        var more = dir.Combine("more");
        foreach (var f in Directory.GetFiles(Sample, "*.png", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(Sample, f);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(more, rel))!);
            File.Copy(f, Path.Combine(more, rel));
        }
        Directory.CreateDirectory(Path.Combine(more, "ant"));
        File.WriteAllBytes(Path.Combine(more, "ant", "ant-1.png"), ImageTestData.PngPattern(5, 4));
        File.WriteAllBytes(Path.Combine(more, "cat", "cat-15.png"), ImageTestData.PngPattern(6, 4));
        File.WriteAllBytes(Path.Combine(more, "dog", "dog-0.png"), ImageTestData.PngPattern(7, 4));
        var r = CliRunner.Run("convert", more, "--out", dir.Combine("second"), "--format", "images", "--like", Path.Combine(first, "_dataprep", "run.json"), "--allow-empty-split", "--json");
        Assert.True(r.Code == 0, r.Err);
        var second = dir.Combine("second");

        var before = ChannelsByImage(first);
        var after = ChannelsByImage(second);
        Assert.Equal(15, after.Count);
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        var idsBefore = ClassIdsByImage(first);
        var idsAfter = ClassIdsByImage(second);
        Assert.All(idsBefore, kv => Assert.Equal(kv.Value, idsAfter[kv.Key]));
        Assert.Equal("3", idsAfter["ant/ant-1.png"]);
        var run = RunRecord.Load(Path.Combine(second, "_dataprep", "run.json"));
        Assert.Equal(["cat", "dog", "tiger", "ant"], run.Encoding!.Label!.Classes);
        Assert.Contains(run.Summary.Warnings, w => w.Contains("get ids 3…3 (ant)", StringComparison.Ordinal));
        // Without --like, the classes are numbered afresh in name order.
        var fresh = Convert(more, dir.Combine("fresh"), "--format", "images", "--assignment", "stable");
        Assert.Equal("0", ClassIdsByImage(fresh)["ant/ant-1.png"]);
    }

    [Fact]
    public void Stable_assignment_never_moves_an_image_when_images_are_added()
    {
        using var dir = new TempDir();
        var a = ImageTestData.ClassFolders(dir.Combine("a"), ["x", "y"], 20);
        var b = ImageTestData.ClassFolders(dir.Combine("b"), ["w", "x", "y"], 30);
        var before = ChannelsByImage(Convert(a, dir.Combine("out-a"), "--format", "images", "--assignment", "stable", "--augment", "rotate=90"));
        var after = ChannelsByImage(Convert(b, dir.Combine("out-b"), "--format", "images", "--assignment", "stable", "--augment", "rotate=90"));
        Assert.Equal(40, before.Count);
        Assert.Equal(90, after.Count);
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        Assert.Equal(3, after.Values.Distinct().Count());
    }

    /// <summary>Stable assignment keys images on their path: inserting images anywhere never moves the others.</summary>
    [Property(MaxTest = 40)]
    public Property Stable_assignment_is_a_function_of_the_path(PositiveInt count, PositiveInt inserted, PositiveInt seed)
    {
        int n = 3 + count.Get % 50;
        var names = Enumerable.Range(0, n).Select(i => $"c{i % 3}/img-{i * 2:D4}.png").ToList();
        var more = names.Concat(Enumerable.Range(0, 1 + inserted.Get % 30).Select(i => $"c{i % 4}/img-{i * 2 + 1:D4}.png")).Order(StringComparer.Ordinal).ToList();
        var (resolved, _) = new DataPrepRegistry().AddImages().Resolve(new ConvertOptions
        {
            Inputs = ["in"], Output = "unused", Format = ImageFilesFormatDefinition.FormatName, Assignment = Assignment.Stable, Seed = (ulong)seed.Get,
        });
        Dictionary<string, SplitTag> Splits(List<string> paths)
        {
            var entries = paths.Select((p, i) => new ImageEntry("/none/" + p, p, [0], null, i + 2)).ToList();
            var rows = ImageOutputTests.Plan(resolved, ImageInputs.FromEntries("list.csv", entries).Batch);
            var byId = entries.Select((e, i) => (e.RelativePath, Id: (long)i + 1)).ToDictionary(x => x.Id, x => x.RelativePath);
            return rows.ToDictionary(r => byId[r.RowId], r => r.Split, StringComparer.Ordinal);
        }
        var before = Splits(names);
        var after = Splits(more);
        return before.All(kv => after[kv.Key] == kv.Value).Label($"n={n}, added {more.Count - n}");
    }

    [Fact]
    public void Noisy_inputs_train_only_on_clean_images_and_test_only_on_noisy_ones()
    {
        using var dir = new TempDir();
        // Noisy images of the same classes plus one class only the noisy input has: the class map spans both inputs.
        var noisy = ImageTestData.ClassFolders(dir.Combine("noisy"), ["ant", "cat", "dog"], 4);
        var output = Convert(Sample, dir.Combine("out"), "--format", "recordio-image", "--split", "noisy", "--noisy", noisy, "--augment", "rotate=90");
        var rows = ReadLineage(output);
        Assert.All(rows.Where(r => r.Channel == "train"), r => Assert.Equal(0, r.Source));
        Assert.All(rows.Where(r => r.Channel == "test"), r => Assert.Equal(1, r.Source));
        Assert.All(rows.Where(r => r.Operation != "original"), r => Assert.Equal("train", r.Channel));
        Assert.Equal(12, rows.Count(r => r.Channel == "train" && r.Operation == "original"));
        Assert.Equal(12, rows.Count(r => r.Source == 1));
        var run = RunRecord.Load(Path.Combine(output, "_dataprep", "run.json"));
        Assert.Equal(["ant", "cat", "dog", "tiger"], run.Encoding!.Label!.Classes);
        // Class ids are the run's: a clean tiger is 3 (its own folder's id was 2), a noisy cat is 1.
        foreach (var rec in Directory.GetFiles(output, "*.rec", SearchOption.AllDirectories))
        {
            var channel = Path.GetFileNameWithoutExtension(rec);
            var lineage = rows.Where(r => r.Channel == channel).ToList();
            var records = ImageRecordInspector.Read(rec).ToList();
            Assert.Equal(lineage.Count, records.Count);
            for (int i = 0; i < records.Count; i++)
            {
                Assert.Equal(Array.IndexOf<string>(["ant", "cat", "dog", "tiger"], lineage[i].Image.Split('/')[0]), (int)records[i].Header.Label);
            }
        }
    }

    [Fact]
    public void A_noisy_column_of_an_input_list_marks_noisy_images()
    {
        using var dir = new TempDir();
        var sb = new StringBuilder("path,label,quality\n");
        for (int i = 0; i < 20; i++)
        {
            File.WriteAllBytes(dir.Combine($"{i}.png"), ImageTestData.PngPattern(2 + i % 4, 3));
            sb.Append(Line(i)).Append('\n');
        }
        var list = dir.File("list.csv", sb.ToString());
        var output = Convert(list, dir.Combine("out"), "--format", "images", "--split", "noisy", "--noisy-column", "quality", "--augment", "rotate=180");
        var channels = ChannelsByImage(output);
        bool Noisy(string path) => int.Parse(Path.GetFileNameWithoutExtension(path)) % 4 == 0;
        Assert.All(channels.Where(kv => kv.Value == "train"), kv => Assert.False(Noisy(kv.Key), kv.Key));
        Assert.All(channels.Where(kv => kv.Value == "test"), kv => Assert.True(Noisy(kv.Key), kv.Key));
        Assert.Equal(15, channels.Count(kv => kv.Value == "train"));
        Assert.All(ReadLineage(output).Where(r => r.Operation != "original"), r => Assert.Equal("train", r.Channel));

        static string Line(int i) => $"{i}.png,{(i % 2 == 0 ? "cat" : "dog")},{(i % 4 == 0 ? "noisy" : "clean")}";
    }

    [Fact]
    public void Inputs_mixing_class_names_and_numeric_ids_are_refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.Combine("a.png"), ImageTestData.PngPattern(2, 2));
        var list = dir.File("list.csv", "path,label\na.png,3\n");
        var r = CliRunner.Run("convert", Sample, "--noisy", list, "--split", "noisy", "--out", dir.Combine("out"), "--format", "images", "-q");
        Assert.Equal(2, r.Code);
        Assert.Contains("mix class names", r.Err);
        Assert.False(Directory.Exists(dir.Combine("out")));
    }

    [Fact]
    public void Apply_refuses_an_image_run_and_points_at_like()
    {
        using var dir = new TempDir();
        var output = Convert(Sample, dir.Combine("out"), "--format", "recordio-image");
        var r = CliRunner.Run("apply", "--run", Path.Combine(output, "_dataprep", "run.json"), Sample, "--out", dir.Combine("applied"), "-q");
        Assert.Equal(2, r.Code);
        Assert.Contains("--like", r.Err);
    }
}
