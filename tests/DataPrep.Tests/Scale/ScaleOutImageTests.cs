using System.Globalization;
using DataPrep.Scale;
using DataPrep.Tests.Images;
using DataPrep.Tests.S3;

namespace DataPrep.Tests.Scale;

/// <summary>
/// The image formats as N workers (issue 16): separate OS processes running each step's tasks in a shuffled order, a
/// task run twice, write exactly the files of the one-process run (the .rec and its .idx, image files and .lst lists,
/// augmented manifests, lineage), with rotated copies of the training images, for each split method.
/// </summary>
[Trait(NativePass.Name, NativePass.Value)]
public sealed class ScaleOutImageTests
{
    public static TheoryData<int, string> Cases() => new()
    {
        { 1, "rec-random" },
        { 2, "lst-stratified" },
        { 3, "rec-stratified" },
        { 2, "rec-kfold" },
        { 3, "manifest-skip" },
        { 2, "rec-quarantine" },
        { 3, "kfold-lst-quarantine" },
        { 2, "rec-group" },
        { 3, "group-folds-images" },
    };

    private static string[] CaseArgs(string name) => name switch
    {
        "rec-random" => ["--format", "recordio-image", "--augment", "rotate=90"],
        "lst-stratified" => ["--format", "images", "--stratify", "label", "--augment", "rotate=90,270", "--augment-fraction", "0.5"],
        "rec-stratified" => ["--format", "recordio-image", "--stratify", "label", "--augment", "rotate=90", "--train", "0.5", "--validation", "0.25", "--test", "0.25"],
        "rec-kfold" => ["--format", "recordio-image", "--folds", "3", "--augment", "rotate=90"],
        // A corrupt image left out by every worker that meets it, counted as in one process.
        "manifest-skip" => ["--format", "augmented-manifest", "--on-bad-image", "skip", "--augment", "rotate=90"],
        // Corrupt images in several classes (so in several buckets and channels), listed as one process lists them.
        "rec-quarantine" => ["--format", "recordio-image", "--on-bad-image", "quarantine", "--augment", "rotate=90"],
        "kfold-lst-quarantine" => ["--format", "images", "--folds", "3", "--on-bad-image", "quarantine", "--augment", "rotate=90"],
        // A group split planned from the group table (PlanKind.Groups), over an image list with a patient column.
        "rec-group" => ["--format", "recordio-image", "--split", "group", "--group", "patient", "--augment", "rotate=90"],
        // Group k-fold after a group test split, planned from the group table (PlanKind.GroupFolds): the image sink lists
        // each fold's training set from the plan's channels (every other fold, not forward chaining).
        "group-folds-images" => ["--format", "images", "--split", "group", "--group", "patient", "--folds", "3", "--augment", "rotate=90"],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Image_workers_as_separate_processes_write_the_files_of_one_process(int workers, string name)
    {
        using var tmp = new TempDir();
        var input = Folders(tmp);
        if (name.Contains("group", StringComparison.Ordinal))
        {
            // The folders' images as a list with a group column: twelve patients over the three classes.
            var images = Directory.GetFiles(input, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
            var list = new System.Text.StringBuilder("path,label,patient\n");
            for (int i = 0; i < images.Length; i++)
            {
                list.Append(CultureInfo.InvariantCulture, $"{Path.GetRelativePath(tmp.Path, images[i]).Replace('\\', '/')},{Path.GetFileName(Path.GetDirectoryName(images[i]))},p{i % 12}\n");
            }
            input = tmp.File("list.csv", list.ToString());
        }
        if (name == "manifest-skip") File.WriteAllBytes(Path.Combine(input, "dog", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        if (name.Contains("quarantine", StringComparison.Ordinal))
        {
            foreach (var c in new[] { "cat", "dog", "tiger" })
            {
                for (int i = 0; i < 3; i++) File.WriteAllBytes(Path.Combine(input, c, $"broken{i}.png"), [0x89, 0x50, 0x4E, 0x47, (byte)i, 2, 3]);
            }
        }
        // Both runs write to one folder, the one-process run first (its files and run.json taken, then removed): an
        // augmented manifest names its images by URI, so its bytes (their sha256 in run.json) depend on the output.
        var many = tmp.Combine("out");
        string[] options = [input, .. CaseArgs(name), "--seed", "7", "--quiet"];
        var single = CliProcess.Run(["convert", .. options, "--out", many]);
        Assert.True(single.Code == 0, single.Err);
        var files = RunOutputs.FileHashes(many);
        var record = RunOutputs.ComparableRecordOf(many);
        Directory.Delete(many, recursive: true);
        string[] common = ["convert", .. options, "--out", many, "--workers", Text(workers)];
        if (workers == 1)
        {
            // The local engine: every step here, each step's tasks as processes.
            var r = CliProcess.Run(common);
            Assert.True(r.Code == 0, r.Err);
        }
        else
        {
            var random = new Random(workers * 31 + name.Length);
            foreach (var step in ScaleOutTests.StepsOf(common))
            {
                foreach (int task in Enumerable.Range(0, step.Tasks).OrderBy(_ => random.Next()).ToList())
                {
                    string[] args = [.. common, "--step", step.Name, "--worker", Text(task)];
                    // An engine's retry: the encode task that does the images' work, and the commit that writes them, twice.
                    int times = (step.Name == ScaleStep.Encode && task == 0) || step.Name == ScaleStep.Commit ? 2 : 1;
                    for (int k = 0; k < times; k++)
                    {
                        var r = CliProcess.Run(args);
                        Assert.True(r.Code == 0, $"step {step.Name} task {task} (attempt {k + 1}): exit {r.Code}\n{r.Err}");
                    }
                    if (step.Name != ScaleStep.Commit) Assert.False(Directory.Exists(Path.Combine(many, "train")), "nothing is visible in the channels before the commit");
                }
            }
        }
        ScaleOutTests.AssertSameRun(files, record, many, workers);
        Assert.False(Directory.Exists(Path.Combine(many, "_dataprep", "work")), "the work area is removed after the commit");
        var written = files.Keys;
        Assert.Contains(written, f => f.Contains(".rotate", StringComparison.Ordinal) || f.EndsWith(".rec", StringComparison.Ordinal));
        if (name.StartsWith("rec", StringComparison.Ordinal)) Assert.Contains(written, f => f.EndsWith(".idx", StringComparison.Ordinal));
        if (name.StartsWith("lst", StringComparison.Ordinal)) Assert.Contains("train_lst/train.lst", written);
        if (name == "manifest-skip") Assert.Contains("bad image", File.ReadAllText(Path.Combine(many, "_dataprep", "run.json")), StringComparison.Ordinal);
        if (name.Contains("quarantine", StringComparison.Ordinal))
        {
            // All nine corrupt images listed (the header and one line each), in one process's order: the file is among
            // the compared files, so its bytes equal one process's.
            Assert.Contains("_dataprep/quarantine/images.csv", written);
            Assert.Equal(10, File.ReadAllLines(Path.Combine(many, "_dataprep", "quarantine", "images.csv")).Length);
        }
    }

    /// <summary>A change to an image folder (an image added) is another run: its work is never mixed with the earlier work.</summary>
    [Fact]
    public void An_image_added_to_the_folder_changes_the_runs_fingerprint()
    {
        using var tmp = new TempDir();
        var input = Folders(tmp);
        string[] common = ["convert", input, "--format", "recordio-image", "--out", tmp.Combine("out"), "--workers", "2", "--quiet"];
        Assert.Equal(0, CliRunner.Run([.. common, "--step", "scan", "--worker", "0"]).Code);
        Assert.Equal(0, CliRunner.Run([.. common, "--step", "scan", "--worker", "1"]).Code);
        File.WriteAllBytes(Path.Combine(input, "cat", "new.png"), ImageTestData.PngPattern(5, 5));
        var plan = CliRunner.Run([.. common, "--step", "plan"]);
        Assert.Equal(2, plan.Code);
        Assert.Contains("other options or inputs", plan.Err, StringComparison.Ordinal);
    }

    /// <summary>Three class folders of eight small PNGs each (distinct sizes, every pixel distinct).</summary>
    internal static string Folders(TempDir tmp) => ImageTestData.ClassFolders(tmp.Combine("images"), ["cat", "dog", "tiger"], 8);

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
