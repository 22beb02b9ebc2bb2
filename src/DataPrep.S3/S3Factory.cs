using System.Collections.Concurrent;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using DataPrep.Pipeline;

namespace DataPrep.S3;

/// <summary>Creates S3 clients from <see cref="S3Options"/> (standard credential chain, profile, region, endpoint).</summary>
internal static class S3Factory
{
    private static readonly ConcurrentDictionary<S3Options, IAmazonS3> s_clients = new();

    public static Output.IOutputStore CreateStore(ConvertOptions options)
        => new S3OutputStore(options.Output, Client(options.S3), options.S3);

    public static Sources.IInputFileSystem CreateFileSystem(S3Options settings) => new S3InputFileSystem(Client(settings), settings);

    /// <summary>One client per distinct settings (clients are thread-safe and pool connections).</summary>
    public static IAmazonS3 Client(S3Options o) => s_clients.GetOrAdd(o with { Resume = false, PartSize = 0, Concurrency = 0 }, Create);

    private static IAmazonS3 Create(S3Options o)
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
            // No trailing (aws-chunked) checksums either: such stores often store the chunk framing as data.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
        }
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }
}
