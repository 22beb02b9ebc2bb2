using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace DataPrep.S3;

/// <summary>Turns SDK failures into one-line DataPrep errors that say what failed (never any secret).</summary>
internal static class S3Errors
{
    /// <summary>Whether a retry may help: throttling, 5xx, timeouts and dropped connections; not 4xx answers.</summary>
    public static bool IsTransient(Exception e)
    {
        if (e is OperationCanceledException or DataPrepException) return false;
        if (e is AmazonServiceException s && s.StatusCode != 0)
        {
            int code = (int)s.StatusCode;
            return code >= 500 || code is 408 or 429 || s.ErrorCode is "RequestTimeout" or "SlowDown" or "InternalError";
        }
        return true;
    }

    /// <summary>
    /// The DataPrep exception for an SDK failure while doing <paramref name="what"/> at <paramref name="where"/>: an
    /// unreachable endpoint or refused credentials are a <see cref="StorageException"/> (exit 6) for inputs and outputs
    /// alike; other S3 answers an <see cref="OutputException"/> (exit 4), which input readers turn into their own errors.
    /// </summary>
    public static Exception Map(Exception e, string what, string where, string? endpoint)
    {
        if (e is DataPrepException or OperationCanceledException) return e;
        var at = endpoint is null ? "" : $" at {endpoint}";
        if (Find<AmazonS3Exception>(e) is { } s3)
        {
            var code = s3.ErrorCode ?? s3.StatusCode.ToString();
            return code switch
            {
                "NoSuchBucket" => new OutputException($"{where}: the bucket does not exist{at} (NoSuchBucket) while {what}; create it or fix the bucket name.", e),
                "AccessDenied" or "AllAccessDisabled" => new StorageException($"{where}: access denied{at} (AccessDenied) while {what}; check the IAM policy for this bucket/prefix and the credentials in use (AWS_PROFILE, --profile).", e),
                "InvalidAccessKeyId" => new StorageException($"{where}: the access key id is not known{at} (InvalidAccessKeyId) while {what}; check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE, --profile).", e),
                "SignatureDoesNotMatch" => new StorageException($"{where}: the request signature does not match{at} (SignatureDoesNotMatch) while {what}; check the secret key of the credentials in use and --region.", e),
                "ExpiredToken" or "InvalidToken" => new StorageException($"{where}: the session token is expired or invalid{at} ({code}) while {what}; refresh the credentials.", e),
                // A 403 without an error code (HEAD and some list answers have no body): the credentials or the policy refuse.
                _ when s3.StatusCode == HttpStatusCode.Forbidden => new StorageException($"{where}: access refused{at} (403 {code}) while {what}; check the credentials in use (AWS_PROFILE, --profile, AWS_ACCESS_KEY_ID) and the IAM policy for this bucket/prefix.", e),
                _ => new OutputException($"{where}: S3 answered {(int)s3.StatusCode} {code}{at} while {what}: {OneLine(s3.Message)}", e),
            };
        }
        if (Find<HttpRequestException>(e) is not null || Find<SocketException>(e) is not null || Find<TimeoutException>(e) is not null)
        {
            return new StorageException($"{where}: cannot reach the S3 endpoint{(endpoint is null ? " (AWS)" : " " + endpoint)} while {what}: {OneLine(Innermost(e).Message)}; check --endpoint-url, --region and the network.", e);
        }
        if (e is AmazonClientException c && c.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            return new StorageException($"{where}: no AWS credentials found while {what}; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, or run where an instance role is available.", e);
        }
        if (e is AmazonServiceException a)
        {
            return new OutputException($"{where}: S3 answered {(int)a.StatusCode} {a.ErrorCode}{at} while {what}: {OneLine(a.Message)}", e);
        }
        if (e is AmazonClientException ac)
        {
            return new OutputException($"{where}: the S3 client failed{at} while {what}: {OneLine(ac.Message)}", e);
        }
        return e;
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T t) return t;
            if (e is AggregateException ag && ag.InnerExceptions.Count > 0 && Find<T>(ag.InnerExceptions[0]) is { } inner) return inner;
        }
        return null;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string OneLine(string? text) => (text ?? "").ReplaceLineEndings(" ").Trim().TrimEnd('.');

    /// <summary>Whether the error is a 404 for an object (HEAD answers have no error code).</summary>
    public static bool IsNotFound(Exception e) => e is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound } s && s.ErrorCode is null or "NoSuchKey" or "NotFound";
}
