using System.Buffers;
using System.IO.Pipelines;

namespace HighPerfInference.LoadGen.Load;

/// <summary>
/// One protocol's request encoding and response decoding on one connection. The request payload is
/// built once per run; per request a codec only copies it and stamps the request id, so the
/// generator measures the server, not its own serialisation.
/// </summary>
public interface IWireCodec
{
    /// <summary>True when responses come back in send order (HTTP/1.1); then request ids are not on the wire.</summary>
    bool InOrder { get; }

    /// <summary>Per-connection start (the binary handshake); HTTP has none.</summary>
    ValueTask OpenAsync(PipeReader reader, PipeWriter writer, int slotCount, CancellationToken cancellationToken);

    /// <summary>Writes one request; <paramref name="requestId"/> is non-zero and unique on the connection.</summary>
    void WriteRequest(IBufferWriter<byte> writer, ulong requestId);

    /// <summary>
    /// Consumes one complete response, or nothing and false when the buffer holds only part of one.
    /// <paramref name="status"/> is 0 for success, else a protocol-specific error key that
    /// <see cref="ErrorName"/> names.
    /// </summary>
    bool TryReadResponse(ref SequenceReader<byte> reader, out ulong requestId, out int status);

    /// <summary>The report name of an error key, e.g. "OVERLOADED" or "HTTP 429".</summary>
    string ErrorName(int status);
}

/// <summary>Error keys that the generator itself assigns, above any protocol's codes.</summary>
public static class LocalErrors
{
    /// <summary>Space for protocol codes: HTTP statuses and the binary ErrorCode values both fit below it.</summary>
    public const int ProtocolKeyLimit = 1000;

    /// <summary>The connection closed or failed with requests outstanding.</summary>
    public const int ConnectionLost = ProtocolKeyLimit;

    /// <summary>No answer came before the drain timeout at the end of the step.</summary>
    public const int NoResponse = ProtocolKeyLimit + 1;

    /// <summary>The server sent bytes the codec could not read as a response.</summary>
    public const int BadResponse = ProtocolKeyLimit + 2;

    public const int KeyCount = ProtocolKeyLimit + 3;

    public static string? Name(int key) => key switch
    {
        ConnectionLost => "CONNECTION_LOST",
        NoResponse => "NO_RESPONSE",
        BadResponse => "BAD_RESPONSE",
        _ => null,
    };
}

/// <summary>A response that no amount of further bytes can make valid; the connection is given up.</summary>
public sealed class BadResponseException(string message) : Exception(message);
