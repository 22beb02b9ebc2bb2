using System.CommandLine;
using DataPrep.Pipeline;

namespace DataPrep.Cli;

/// <summary>
/// The S3 flags, mapped one-to-one onto <see cref="S3Options"/> (names as the AWS CLI spells them where it has them):
/// the connection flags on every command that reads <c>s3://</c>, the upload flags on the commands that write it.
/// </summary>
internal sealed class S3Flags
{
    public readonly Option<string> Profile = new("--profile") { Description = "S3: the AWS shared-config profile (default: AWS_PROFILE, then the standard credential chain)." };
    public readonly Option<string> Region = new("--region") { Description = "S3: the AWS region (default: AWS_REGION or the profile's region)." };
    public readonly Option<string> EndpointUrl = new("--endpoint-url") { Description = "S3: an S3-compatible endpoint, e.g. http://127.0.0.1:9000 (MinIO, Ceph, moto); path-style addressing is then the default." };
    public readonly Option<bool> PathStyle = new("--path-style") { Description = "S3: path-style addressing (endpoint/bucket/key) instead of virtual-hosted buckets." };
    public readonly Option<bool> NoChunked = new("--no-chunked-encoding") { Description = "S3: no checksums computed by the AWS SDK itself (they travel in aws-chunked trailers, which some S3-compatible stores corrupt or reject). Data is never sent aws-chunked: each object or part goes whole, signed, with DataPrep's CRC-32C in a header." };
    public readonly Option<string> Sse = new("--sse") { Description = "S3: server-side encryption, AES256 (SSE-S3) or aws:kms (SSE-KMS)." };
    public readonly Option<string> SseKmsKeyId = new("--sse-kms-key-id") { Description = "S3: the KMS key id/ARN for --sse aws:kms." };
    public readonly Option<string> PartSize = new("--part-size") { Description = "S3: multipart part size (default 16MB, minimum 5MB); smaller objects use one PUT. A --memory below 1GB lowers it to a 64th of the budget (5MB at least).", DefaultValueFactory = _ => "16MB" };
    public readonly Option<int> Concurrency = new("--upload-concurrency") { Description = "S3: parts uploaded at the same time (default 8). A --memory below 1GB keeps them within an eighth of the budget.", DefaultValueFactory = _ => 8 };
    public readonly Option<int> CopyConcurrency = new("--copy-concurrency") { Description = "S3: server-side copies (how a run with --workers publishes its shards at the commit), and the size checks and deletes around them, sent at the same time (default 64). They carry no data through this machine, so --memory does not lower it.", DefaultValueFactory = _ => S3Options.DefaultCopyConcurrency };
    public readonly Option<bool> Resume = new("--resume") { Description = "S3: finish a run that died before committing: matching objects are kept, the rest uploaded, leftovers deleted." };

    /// <summary>convert only (added by it): shards for ShardedByS3Key.</summary>
    public readonly Option<int> Instances = new("--instances") { Description = "Training instances reading with ShardedByS3Key: each split's shard count becomes a multiple of N (balanced by bytes)." };

    private readonly bool _uploads;

    /// <summary>The flags of a command.</summary>
    /// <param name="uploads">Whether the command writes to S3 (upload flags); false: it only reads (connection flags).</param>
    public S3Flags(bool uploads = true) => _uploads = uploads;

    /// <summary>The flags <see cref="AddTo"/> adds: the connection flags, and the upload flags when the command writes.</summary>
    public IReadOnlyList<Option> Flags => _uploads
        ? [Profile, Region, EndpointUrl, PathStyle, NoChunked, Sse, SseKmsKeyId, PartSize, Concurrency, CopyConcurrency, Resume]
        : [Profile, Region, EndpointUrl, PathStyle];

    /// <summary>Adds <see cref="Flags"/>.</summary>
    public void AddTo(Command c)
    {
        foreach (var o in Flags) c.Options.Add(o);
    }

    public S3Options Options(ParseResult r)
    {
        var connection = new S3Options
        {
            Profile = r.GetValue(Profile),
            Region = r.GetValue(Region),
            EndpointUrl = r.GetValue(EndpointUrl),
            ForcePathStyle = r.GetValue(PathStyle) ? true : null,
        };
        return !_uploads ? connection : connection with
        {
            DisableChunkEncoding = r.GetValue(NoChunked),
            Sse = r.GetValue(Sse),
            SseKmsKeyId = r.GetValue(SseKmsKeyId),
            PartSize = OptionParsing.ParseSize(r.GetValue(PartSize)!, "--part-size"),
            Concurrency = r.GetValue(Concurrency),
            CopyConcurrency = r.GetValue(CopyConcurrency),
            Resume = r.GetValue(Resume),
        };
    }
}
