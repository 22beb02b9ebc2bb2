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
    public static PutObjectRequest Encrypted(this PutObjectRequest request, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(request);
        Apply(options, m => request.ServerSideEncryptionMethod = m, k => request.ServerSideEncryptionKeyManagementServiceKeyId = k);
        return request;
    }

    public static InitiateMultipartUploadRequest Encrypted(this InitiateMultipartUploadRequest request, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(request);
        Apply(options, m => request.ServerSideEncryptionMethod = m, k => request.ServerSideEncryptionKeyManagementServiceKeyId = k);
        return request;
    }

    public static CopyObjectRequest Encrypted(this CopyObjectRequest request, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(request);
        Apply(options, m => request.ServerSideEncryptionMethod = m, k => request.ServerSideEncryptionKeyManagementServiceKeyId = k);
        return request;
    }

    // The SDK's request types share no interface for these two properties.
    private static void Apply(S3Options options, Action<ServerSideEncryptionMethod> method, Action<string> kmsKey)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Sse is { } sse) method(sse == "aws:kms" ? ServerSideEncryptionMethod.AWSKMS : ServerSideEncryptionMethod.AES256);
        if (options.SseKmsKeyId is { } key) kmsKey(key);
    }
}
