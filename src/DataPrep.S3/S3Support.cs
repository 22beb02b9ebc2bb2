using DataPrep.Output;
using DataPrep.Sources;

namespace DataPrep.S3;

/// <summary>
/// Plugs <c>s3://</c> into DataPrep: <c>--out s3://bucket/prefix/</c> through <see cref="OutputStores"/> and
/// <c>s3://</c> inputs through <see cref="InputFiles"/>. Call <see cref="Register"/> once at start-up.
/// </summary>
/// <remarks>
/// Registration only stores delegates: no AWS SDK type is touched until an <c>s3://</c> location is used,
/// so the AWSSDK assemblies are not even loaded for local runs (network-isolated containers).
/// </remarks>
public static class S3Support
{
    /// <summary>Registers the s3 scheme for outputs and inputs (idempotent).</summary>
    public static void Register()
    {
        OutputStores.Register("s3", options => S3Factory.CreateStore(options));
        InputFiles.Register("s3", settings => S3Factory.CreateFileSystem(settings));
    }
}
