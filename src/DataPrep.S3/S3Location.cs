namespace DataPrep.S3;

/// <summary>A parsed <c>s3://bucket/key-or-prefix</c>.</summary>
/// <param name="Bucket">The bucket name.</param>
/// <param name="Key">The key or prefix (no leading '/'; may be empty).</param>
public readonly record struct S3Location(string Bucket, string Key)
{
    /// <summary>Parses an <c>s3://</c> URI.</summary>
    /// <exception cref="PipelineValidationException">Not an s3:// URI with a bucket.</exception>
    public static S3Location Parse(string uri, string what = "--out")
    {
        if (!uri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            throw new PipelineValidationException($"{what} {uri}: expected s3://bucket/prefix/.");
        }
        var rest = uri[5..];
        int slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var key = slash < 0 ? "" : rest[(slash + 1)..];
        if (bucket.Length == 0) throw new PipelineValidationException($"{what} {uri}: no bucket name; expected s3://bucket/prefix/.");
        return new S3Location(bucket, key);
    }

    /// <summary>The location as a URI.</summary>
    public override string ToString() => $"s3://{Bucket}/{Key}";
}
