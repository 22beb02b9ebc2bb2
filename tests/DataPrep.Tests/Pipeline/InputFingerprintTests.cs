using System.IO.Hashing;
using DataPrep.Pipeline;

namespace DataPrep.Tests.Pipeline;

/// <summary>An input's fingerprint is the XxHash3-64 of all its bytes, read in buffer-sized pieces.</summary>
public class InputFingerprintTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(1 << 20)]
    [InlineData((1 << 20) + 7)]
    [InlineData((3 << 20) + 1)]
    public void Hash_is_of_the_whole_file(int length)
    {
        var path = Path.Combine(Path.GetTempPath(), $"dataprep-fingerprint-{Guid.NewGuid():N}.bin");
        try
        {
            var bytes = new byte[length];
            new Random(length).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
            var fingerprint = InputFingerprint.Of(path);
            Assert.Equal(length, fingerprint.Bytes);
            Assert.Equal(Convert.ToHexStringLower(XxHash3.Hash(bytes)), fingerprint.XxHash3);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_has_an_empty_fingerprint()
    {
        var fingerprint = InputFingerprint.Of(Path.Combine(Path.GetTempPath(), $"dataprep-missing-{Guid.NewGuid():N}.csv"));
        Assert.Equal(0, fingerprint.Bytes);
        Assert.Equal("", fingerprint.XxHash3);
    }
}
