using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Http;

/// <summary>
/// Error answers of the REST API: {"error": "..."} with the status <see cref="ErrorCodes.HttpStatus"/>
/// gives the code, and Retry-After on the retryable overload answer.
/// </summary>
internal static class HttpErrors
{
    /// <summary>Seconds a client is told to wait after 429 (the queue drains in far less; this keeps retries from piling up).</summary>
    private const string RetryAfterSeconds = "1";

    /// <summary>The version that answered, or refused: on every inference answer that has one.</summary>
    public const string ModelVersionHeader = "X-Model-Version";

    /// <summary>The error document for <paramref name="code"/>; <paramref name="modelVersion"/>, the version that refused the request, goes out as X-Model-Version (none when null or "").</summary>
    public static Task WriteAsync(HttpContext context, ErrorCode code, string? message, string? modelVersion = null) =>
        WriteAsync(context, code.HttpStatus(), message ?? code.Name(), retryAfter: code == ErrorCode.Overloaded, modelVersion);

    public static Task WriteAsync(HttpContext context, int status, string message, bool retryAfter = false, string? modelVersion = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Too late for a status: the best answer left is to cut the response short.
            context.Abort();
            return Task.CompletedTask;
        }
        response.Clear();
        response.StatusCode = status;
        if (retryAfter)
            response.Headers.RetryAfter = RetryAfterSeconds;
        if (!string.IsNullOrEmpty(modelVersion))
            response.Headers[ModelVersionHeader] = modelVersion;
        return response.WriteAsJsonAsync(new ErrorDocument(message), HttpJson.Relaxed.ErrorDocument, cancellationToken: context.RequestAborted);
    }
}
