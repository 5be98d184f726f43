namespace HighPerfInference.Protocol;

/// <summary>
/// The one error code set both protocols share. The binary protocol sends the numeric value in its
/// error frame; HTTP maps it with <see cref="ErrorCodes.HttpStatus"/> and writes the V2 body
/// <c>{"error": "..."}</c>. Values are part of the wire format: never renumber, only append.
/// </summary>
public enum ErrorCode : ushort
{
    Ok = 0,
    /// <summary>The request is malformed or does not fit the model (shape, datatype, missing input).</summary>
    InvalidArgument = 1,
    /// <summary>Unknown model, version, input or output name.</summary>
    NotFound = 2,
    /// <summary>The model exists but is not ready (loading, unloading, failed). Retryable.</summary>
    Unavailable = 3,
    /// <summary>A bounded queue or the in-flight limit is full. Retryable after a short delay.</summary>
    Overloaded = 4,
    /// <summary>The request's deadline passed before it ran. It never ran. Retryable.</summary>
    Timeout = 5,
    /// <summary>The client cancelled the request.</summary>
    Cancelled = 6,
    /// <summary>An unexpected server fault. The connection and other requests are unaffected.</summary>
    Internal = 7,
    /// <summary>The feature, datatype or message is not supported by this server or model.</summary>
    Unsupported = 8,
    /// <summary>The frame or body is larger than the announced limit.</summary>
    PayloadTooLarge = 9,
    /// <summary>The handshake carried no API key or a wrong one.</summary>
    Unauthenticated = 10,
    /// <summary>The server is draining for shutdown and takes no new requests. Retry on another server.</summary>
    ShuttingDown = 11,
    /// <summary>The byte stream broke the framing rules; the server closes the connection after sending it.</summary>
    ProtocolError = 12,
    /// <summary>The model itself failed while running (ONNX Runtime returned an error).</summary>
    ModelError = 13,
}

/// <summary>Facts about each <see cref="ErrorCode"/>: HTTP status, retryability, wire name.</summary>
public static class ErrorCodes
{
    /// <summary>The HTTP status the REST API answers with, as Triton and KServe use them.</summary>
    public static int HttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.Ok => 200,
        ErrorCode.InvalidArgument => 400,
        ErrorCode.NotFound => 404,
        ErrorCode.Unavailable => 503,
        ErrorCode.Overloaded => 429,
        ErrorCode.Timeout => 504,
        ErrorCode.Cancelled => 499,
        ErrorCode.Unsupported => 501,
        ErrorCode.PayloadTooLarge => 413,
        ErrorCode.Unauthenticated => 401,
        ErrorCode.ShuttingDown => 503,
        ErrorCode.ProtocolError => 400,
        _ => 500,
    };

    /// <summary>True when the same request may succeed if sent again later.</summary>
    public static bool IsRetryable(this ErrorCode code) =>
        code is ErrorCode.Unavailable or ErrorCode.Overloaded or ErrorCode.Timeout or ErrorCode.ShuttingDown;

    /// <summary>The stable upper-snake name used in logs, metrics labels and docs.</summary>
    public static string Name(this ErrorCode code) => code switch
    {
        ErrorCode.Ok => "OK",
        ErrorCode.InvalidArgument => "INVALID_ARGUMENT",
        ErrorCode.NotFound => "NOT_FOUND",
        ErrorCode.Unavailable => "UNAVAILABLE",
        ErrorCode.Overloaded => "OVERLOADED",
        ErrorCode.Timeout => "TIMEOUT",
        ErrorCode.Cancelled => "CANCELLED",
        ErrorCode.Internal => "INTERNAL",
        ErrorCode.Unsupported => "UNSUPPORTED",
        ErrorCode.PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        ErrorCode.Unauthenticated => "UNAUTHENTICATED",
        ErrorCode.ShuttingDown => "SHUTTING_DOWN",
        ErrorCode.ProtocolError => "PROTOCOL_ERROR",
        ErrorCode.ModelError => "MODEL_ERROR",
        _ => "UNKNOWN",
    };
}

/// <summary>An error with a code, thrown where a request is refused and caught at the protocol edge.</summary>
public sealed class InferenceException(ErrorCode code, string message) : Exception(message)
{
    public ErrorCode Code { get; } = code;
}
