namespace DataPrep.Pipeline;

/// <summary>
/// How DataPrep talks to S3 (and S3-compatible stores) for <c>s3://</c> outputs and inputs. Plain data: the
/// core never references the AWS SDK; DataPrep.S3 reads these. Credentials are never part of the options:
/// they come from the standard AWS chain (environment, shared profile, instance role).
/// The CLI maps <c>--profile --region --endpoint-url --path-style --no-chunked-encoding --sse
/// --sse-kms-key-id --part-size --upload-concurrency --copy-concurrency --resume</c> one-to-one onto these.
/// </summary>
public sealed record S3Options
{
    /// <summary>The shared-config profile (~/.aws/credentials, ~/.aws/config); null: AWS_PROFILE or "default".</summary>
    public string? Profile { get; init; }

    /// <summary>The region; null: AWS_REGION / the profile's region / us-east-1.</summary>
    public string? Region { get; init; }

    /// <summary>An S3-compatible endpoint, e.g. http://127.0.0.1:9000 (MinIO, moto, Ceph); null: AWS.</summary>
    public string? EndpointUrl { get; init; }

    /// <summary>Path-style addressing (http://host/bucket/key) instead of virtual hosts; on by default with <see cref="EndpointUrl"/>.</summary>
    public bool? ForcePathStyle { get; init; }

    /// <summary>
    /// No checksums computed by the SDK itself (trailing checksums need aws-chunked bodies, which some S3-compatible
    /// stores corrupt or reject). DataPrep's own data bodies are never aws-chunked whatever this says: each is sent
    /// whole, signed, with its CRC-32C in a header (S3Checksum.WithCrc).
    /// </summary>
    public bool DisableChunkEncoding { get; init; }

    /// <summary>Server-side encryption: null (bucket default), <c>AES256</c> (SSE-S3) or <c>aws:kms</c> (SSE-KMS).</summary>
    public string? Sse { get; init; }

    /// <summary>The KMS key id or ARN for <c>aws:kms</c>; null: the account's default key.</summary>
    public string? SseKmsKeyId { get; init; }

    /// <summary>Multipart part size in bytes (default 16 MiB; S3's minimum is 5 MiB). Objects smaller than one part use a single PUT.</summary>
    public long PartSize { get; init; } = 16L << 20;

    /// <summary>Parts uploaded at the same time across all objects (default 8); memory is about (this + open shards) × part size.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>
    /// Requests that carry no data through this process sent at the same time (default 64): server-side copies (a
    /// scaled-out run's commit publishes every shard by one), the size checks before them and deletes. They hold no
    /// buffer, so <c>--memory</c> does not lower this as it lowers <see cref="Concurrency"/>.
    /// </summary>
    public int CopyConcurrency { get; init; } = DefaultCopyConcurrency;

    /// <summary>The default <see cref="CopyConcurrency"/>: 64.</summary>
    public const int DefaultCopyConcurrency = 64;

    /// <summary>Retries per part or object after the SDK's own retries (default 4, exponential backoff from 250 ms).</summary>
    public int Retries { get; init; } = 4;

    /// <summary>
    /// Continue a run that died before committing: objects already under the prefix whose size and checksum
    /// match what this (deterministic) run produces are kept, the rest uploaded, leftovers deleted.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>The minimum part size S3 accepts (5 MiB).</summary>
    public const long MinPartSize = 5L << 20;

    /// <summary>Checks the values; problems are added to <paramref name="problems"/>.</summary>
    public void Validate(List<string> problems)
    {
        if (PartSize < MinPartSize) problems.Add($"--part-size {PartSize} bytes is below S3's minimum part size of 5 MiB (5242880 bytes); expected e.g. 8MB or 16MB.");
        if (PartSize > 5L << 30) problems.Add($"--part-size {PartSize} bytes is above S3's maximum part size of 5 GiB.");
        if (Concurrency < 1) problems.Add($"--upload-concurrency {Concurrency}: expected at least 1.");
        if (CopyConcurrency < 1) problems.Add($"--copy-concurrency {CopyConcurrency}: expected at least 1.");
        if (Retries < 0) problems.Add($"S3 retries {Retries}: expected 0 or more.");
        if (Sse is not null && Sse is not ("AES256" or "aws:kms")) problems.Add($"--sse {Sse}: expected AES256 (SSE-S3) or aws:kms (SSE-KMS).");
        if (SseKmsKeyId is not null && Sse != "aws:kms") problems.Add("--sse-kms-key-id needs --sse aws:kms.");
        if (EndpointUrl is not null && !Uri.TryCreate(EndpointUrl, UriKind.Absolute, out _)) problems.Add($"--endpoint-url {EndpointUrl}: expected an absolute URL such as http://127.0.0.1:9000.");
    }
}
