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
        var remote = ImageInputs.ResolveRemote("s3://data/lists/", path); // the bucket plays the local "/data"
        return (remote == expected).Label($"{path}: remote {remote ?? "refused"}, local {expected ?? "refused"}");
    }

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
