using Amazon.S3;
using Amazon.S3.Model;
using DataPrep.Pipeline;

namespace DataPrep.S3;

/// <summary>
/// <c>--sse</c> and <c>--sse-kms-key-id</c> on every request that creates an object: single uploads, multipart
/// uploads and server-side copies (a copy does not keep its source's encryption: it takes the request's, else the
/// bucket's default).
/// </summary>
internal static class S3Encryption
{
    private static ServerSideEncryptionMethod? Method(S3Options options)
        => options.Sse is { } sse ? (sse == "aws:kms" ? ServerSideEncryptionMethod.AWSKMS : ServerSideEncryptionMethod.AES256) : null;

    public static PutObjectRequest Encrypted(this PutObjectRequest request, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        if (Method(options) is { } method) request.ServerSideEncryptionMethod = method;
        if (options.SseKmsKeyId is { } key) request.ServerSideEncryptionKeyManagementServiceKeyId = key;
        return request;
    }

    public static InitiateMultipartUploadRequest Encrypted(this InitiateMultipartUploadRequest request, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        if (Method(options) is { } method) request.ServerSideEncryptionMethod = method;
        if (options.SseKmsKeyId is { } key) request.ServerSideEncryptionKeyManagementServiceKeyId = key;
        return request;
    }

    public static CopyObjectRequest Encrypted(this CopyObjectRequest request, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        if (Method(options) is { } method) request.ServerSideEncryptionMethod = method;
        if (options.SseKmsKeyId is { } key) request.ServerSideEncryptionKeyManagementServiceKeyId = key;
        return request;
    }
}
