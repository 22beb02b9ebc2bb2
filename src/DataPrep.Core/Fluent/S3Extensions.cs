using DataPrep.Pipeline;

namespace DataPrep.Fluent;

/// <summary>
/// S3 settings for writing to (<c>.WriteTo("s3://bucket/prefix/", format)</c>) and reading from <c>s3://</c>;
/// needs DataPrep.S3 referenced and added to the builder's registry (<c>b.Registry.AddS3()</c>).
/// </summary>
public static class S3Extensions
{
    /// <summary>S3 connection and upload settings (endpoint, profile, part size, concurrency, SSE, resume).</summary>
    /// <example><c>.WithS3(s => s with { EndpointUrl = "http://127.0.0.1:9000", PartSize = 8 &lt;&lt; 20 })</c></example>
    public static DataPrepBuilder WithS3(this DataPrepBuilder b, Func<S3Options, S3Options> configure)
        => b.With(o => o with { S3 = configure(o.S3) });

    /// <summary>Shard counts become a multiple of the training instance count (ShardedByS3Key).</summary>
    public static DataPrepBuilder ForInstances(this DataPrepBuilder b, int instances) => b.With(o => o with { Instances = instances });
}
