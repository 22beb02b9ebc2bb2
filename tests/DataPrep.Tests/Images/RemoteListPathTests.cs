using DataPrep.Images;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DataPrep.Tests.Images;

/// <summary>Paths of an input list stored in S3 resolve against the list's prefix exactly as local lists resolve against their folder.</summary>
public sealed class RemoteListPathTests
{
    private static readonly string[] s_segments = ["a", "b", "c.png", ".", "..", "lists", "data"];

    [Property(MaxTest = 300)]
    public Property RemoteResolution_AgreesWithLocalResolution_AndNeverLeavesThePrefix(NonEmptyArray<byte> picks)
    {
        var path = string.Join('/', picks.Get.Take(8).Select(b => s_segments[b % s_segments.Length]));
        const string root = "/data/lists";
        var rel = Path.GetRelativePath(root, Path.GetFullPath(Path.Combine(root, path))).Replace('\\', '/');
        // Locally, leaving the folder is refused and the folder itself is not an image (a missing-file error).
        string? expected = rel == "." || rel == ".." || rel.StartsWith("../", StringComparison.Ordinal) ? null : rel;
        // The bucket plays "/data", but a bucket has nothing above it: a path that climbs past it and comes back
        // (../../data/lists/a) leaves the bucket remotely, while locally "/.." is "/" and the climb goes unnoticed.
        if (ClimbsAbove(["lists"], path)) expected = null;
        var remote = ImageInputs.ResolveRemote("s3://data/lists/", path); // the bucket plays the local "/data"
        return (remote == expected).Label($"{path}: remote {remote ?? "refused"}, local {expected ?? "refused"}");
    }

    /// <summary>Whether <paramref name="path"/>, walked from <paramref name="start"/> (segments below the root), ever goes above the root.</summary>
    private static bool ClimbsAbove(List<string> start, string path)
    {
        var at = new List<string>(start);
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or ".") continue;
            if (segment != "..") { at.Add(segment); continue; }
            if (at.Count == 0) return true;
            at.RemoveAt(at.Count - 1);
        }
        return false;
    }

    [Fact]
    public void A_path_that_climbs_above_the_bucket_is_refused_even_when_it_comes_back()
        => Assert.Null(ImageInputs.ResolveRemote("s3://data/lists/", "../../data/lists/a"));

    [Theory]
    [InlineData("cat/1.png", "cat/1.png")]
    [InlineData("./cat/../dog/2.png", "dog/2.png")]
    [InlineData("s3://bucket/lists/cat/1.png", "cat/1.png")]
    [InlineData("s3://other/lists/cat/1.png", null)]
    [InlineData("s3://bucket/listsX/cat/1.png", null)]
    [InlineData("/cat/1.png", null)]
    [InlineData("../raw/1.png", null)]
    [InlineData("cat/../../lists/1.png", "1.png")]
    [InlineData("cat/../../other/1.png", null)]
    [InlineData("../../../x.png", null)]
    [InlineData("cat/..", null)]
    public void RemoteResolution_Examples(string path, string? expected)
        => Assert.Equal(expected, ImageInputs.ResolveRemote("s3://bucket/lists/", path));
}
