using System.Text.Json;

namespace DataPrep.Tests.Images;

/// <summary>
/// Image folders (issue 17, finding 8): files that are not images, nested subfolders and files beside the class folders
/// are counted and listed (first few) in the report and run.json, never skipped without a word; --strict refuses them.
/// </summary>
public class ImageFolderSkipTests
{
    /// <summary>The sample class folders plus a text file in a class, a nested folder with an image, and a file at the top.</summary>
    private static string MixedFolder(TempDir tmp)
    {
        var root = tmp.Combine("images");
        foreach (var file in Directory.EnumerateFiles(Paths.SampleData("images"), "*.png", SearchOption.AllDirectories))
        {
            var target = Path.Combine(root, Path.GetRelativePath(Paths.SampleData("images"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.WriteAllText(Path.Combine(root, "cat", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(root, "dog", "dog-5.png.bak"), "not an image either");
        Directory.CreateDirectory(Path.Combine(root, "dog", "puppies"));
        File.Copy(Path.Combine(root, "dog", "dog-1.png"), Path.Combine(root, "dog", "puppies", "puppy-1.png"));
        File.WriteAllText(Path.Combine(root, "README.md"), "# images");
        File.WriteAllText(Path.Combine(root, "cat", ".DS_Store"), "hidden files are not data");
        return root;
    }

    [Fact]
    public void Skipped_files_and_nested_folders_are_counted_and_listed_in_the_report_and_run_json()
    {
        using var tmp = new TempDir();
        var root = MixedFolder(tmp);
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", root, "--out", outDir, "--format", "images");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("skipped 2 files that are not images (by extension): cat/notes.txt, dog/dog-5.png.bak", r.Out);
        Assert.Contains("skipped 1 nested subfolders (their images count for the class folder above them): dog/puppies/", r.Out);
        Assert.Contains("skipped 1 files outside the class folders: README.md", r.Out);

        using var record = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "_dataprep", "run.json")));
        var skipped = record.RootElement.GetProperty("summary").GetProperty("skipped");
        var notImages = skipped.GetProperty("files that are not images (by extension)");
        Assert.Equal(2, notImages.GetProperty("count").GetInt64());
        Assert.Equal(["cat/notes.txt", "dog/dog-5.png.bak"], notImages.GetProperty("first").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(1, skipped.GetProperty("files outside the class folders").GetProperty("count").GetInt64());
        // The nested folder's image is read, as part of its class: 12 sample images + 1.
        Assert.Equal(13, record.RootElement.GetProperty("summary").GetProperty("rowsRead").GetInt64());
    }

    [Fact]
    public void Only_the_first_five_are_listed_but_all_are_counted()
    {
        using var tmp = new TempDir();
        var root = MixedFolder(tmp);
        for (int i = 0; i < 7; i++) File.WriteAllText(Path.Combine(root, "tiger", $"z{i}.txt"), "x");
        var r = CliRunner.Run("convert", root, "--out", tmp.Combine("out"), "--format", "images", "--json");
        Assert.True(r.Code == 0, r.Err);
        using var report = JsonDocument.Parse(r.Out);
        var notImages = report.RootElement.GetProperty("skipped").GetProperty("files that are not images (by extension)");
        Assert.Equal(9, notImages.GetProperty("count").GetInt64());
        Assert.Equal(5, notImages.GetProperty("first").GetArrayLength());
    }

    [Fact]
    public void Strict_refuses_them_with_exit_3_naming_the_file_and_writes_nothing()
    {
        using var tmp = new TempDir();
        var root = MixedFolder(tmp);
        var outDir = tmp.Combine("out");
        var r = CliRunner.Run("convert", root, "--out", outDir, "--format", "images", "--strict");
        Assert.True(r.Code == 3, $"exit {r.Code}: {r.Err}");
        Assert.StartsWith($"error: {root}: README.md: one of the files outside the class folders (and 3 more); --strict refuses", r.Err);
        Assert.False(Directory.Exists(outDir));

        var clean = tmp.Combine("clean");
        foreach (var dir in new[] { "cat", "dog", "tiger" })
        {
            Directory.CreateDirectory(Path.Combine(clean, dir));
            foreach (var f in Directory.EnumerateFiles(Path.Combine(Paths.SampleData("images"), dir))) File.Copy(f, Path.Combine(clean, dir, Path.GetFileName(f)));
        }
        var ok = CliRunner.Run("convert", clean, "--out", tmp.Combine("out2"), "--format", "images", "--strict", "--quiet");
        Assert.True(ok.Code == 0, ok.Err);
    }
}
