using System.Collections.Concurrent;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using DataPrep.Pipeline;

namespace DataPrep.S3;

/// <summary>
/// The S3 clients of one registry: one per distinct connection settings (clients are thread-safe and pool connections).
/// Values are held as <see cref="object"/> so that creating the cache loads no AWS SDK type (local runs never load it).
/// </summary>
internal sealed class S3Clients
{
    private readonly ConcurrentDictionary<S3Options, object> _clients = new();

    /// <summary>The client for these settings (upload knobs ignored).</summary>
    public IAmazonS3 For(S3Options o) => (IAmazonS3)_clients.GetOrAdd(o with { Resume = false, PartSize = 0, Concurrency = 0, CopyConcurrency = 0 }, static k => S3Factory.Create(k));
}

/// <summary>Creates S3 clients from <see cref="S3Options"/> (standard credential chain, profile, region, endpoint).</summary>
internal static class S3Factory
{
    public static Output.IOutputStore CreateStore(ConvertOptions options, S3Clients clients)
        => new S3OutputStore(options.Output, clients.For(options.S3), options.EffectiveS3);

    public static Output.IWorkArea CreateWorkArea(string location, S3Options settings, S3Clients clients) => new S3WorkArea(location, clients.For(settings), settings);

    public static Pipeline.IInputFileSystem CreateFileSystem(S3Options settings, S3Clients clients) => new S3InputFileSystem(clients.For(settings), settings);

    public static IAmazonS3 Create(S3Options o)
    {
        var config = new AmazonS3Config
        {
            MaxErrorRetry = 3,
            RetryMode = RequestRetryMode.Standard,
            Timeout = TimeSpan.FromMinutes(2),
        };
        AWSCredentials? credentials = null;
        string? region = o.Region;
        if (o.Profile is { } profile)
        {
            var chain = new CredentialProfileStoreChain();
            if (!chain.TryGetAWSCredentials(profile, out credentials))
            {
                throw new PipelineValidationException($"--profile {profile}: no such profile with credentials in the shared AWS config (~/.aws/credentials, ~/.aws/config).");
            }
            if (region is null && chain.TryGetProfile(profile, out var p) && p.Region is { } r) region = r.SystemName;
        }
        region ??= Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION");
        if (o.EndpointUrl is { } endpoint)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region ?? "us-east-1";
            config.ForcePathStyle = o.ForcePathStyle ?? true;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region ?? "us-east-1");
            config.ForcePathStyle = o.ForcePathStyle ?? false;
        }
        if (o.DisableChunkEncoding)
        {
            // No checksums of the SDK's own (they would go in aws-chunked trailers, whose framing such stores often store
            // as data). DataPrep's data bodies are plain in any case, with their CRC-32C in a header (S3Checksum.WithCrc).
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
        }
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }
}
