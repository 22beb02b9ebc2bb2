using DataPrep.Fluent;
using DataPrep.Pipeline;
using DataPrep.Conversion;

namespace DataPrep.S3;

/// <summary>
/// Plugs <c>s3://</c> into a <see cref="DataPrepRegistry"/>: <c>--out s3://bucket/prefix/</c> as an output store and
/// <c>s3://</c> inputs as a remote file system, each run with its own <see cref="S3Options"/>.
/// </summary>
/// <remarks>
/// Registration only stores delegates: no AWS SDK type is touched until an <c>s3://</c> location is used, so the
/// AWSSDK assemblies are not even loaded for local runs (network-isolated containers). Clients are cached per
/// registry and per distinct connection settings (they are thread-safe and pool connections).
/// </remarks>
public static class S3Support
{
    /// <summary>Registers the s3 scheme for outputs and inputs.</summary>
    /// <returns>The same registry, for chaining.</returns>
    public static DataPrepRegistry AddS3(this DataPrepRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var clients = new S3Clients();
        registry.Stores
            .AddOutput("s3", options => S3Factory.CreateStore(options, clients))
            .AddInput("s3", settings => S3Factory.CreateFileSystem(settings, clients))
            .AddWorkArea("s3", (location, settings) => S3Factory.CreateWorkArea(location, settings, clients));
        return registry;
    }
}

/// <summary>S3 in the fluent API.</summary>
public static class S3BuilderExtensions
{
    /// <summary>
    /// Reads from and writes to <c>s3://</c> in this pipeline: adds S3 to the builder's registry and, optionally,
    /// changes the connection and upload settings (endpoint, profile, part size, concurrency, SSE, resume).
    /// </summary>
    /// <example><c>.UseS3(s => s with { EndpointUrl = "http://127.0.0.1:9000" })</c></example>
    public static DataPrepBuilder UseS3(this DataPrepBuilder b, Func<S3Options, S3Options>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (!b.Registry.Stores.OutputSchemes.Contains("s3", StringComparer.OrdinalIgnoreCase)) b.Registry.AddS3();
        return configure is null ? b : b.WithS3(configure);
    }
}
