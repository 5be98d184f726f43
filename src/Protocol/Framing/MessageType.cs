namespace HighPerfInference.Protocol;

/// <summary>
/// The frame's message type. Values are part of the wire format: never renumber, only append.
/// Requests carry a non-zero request id that their response (or <see cref="Error"/>) echoes.
/// </summary>
public enum MessageType : byte
{
    /// <summary>Client → server, first frame, request id 0: version range, client name, API key.</summary>
    Hello = 0x01,
    /// <summary>Server → client, request id 0: chosen version and the server's limits.</summary>
    HelloAck = 0x02,
    /// <summary>Either direction, any request id: 8 opaque bytes the peer echoes in a Pong.</summary>
    Ping = 0x03,
    /// <summary>Answer to Ping with the same request id and payload.</summary>
    Pong = 0x04,
    /// <summary>Server → client, request id 0: draining; no new requests on this connection.</summary>
    GoAway = 0x05,
    /// <summary>Server → client: the request with this id failed; request id 0 means the connection is closing.</summary>
    Error = 0x06,

    InferRequest = 0x10,
    InferResponse = 0x11,
    /// <summary>Client → server: cancel the in-flight request with this id. Has no answer of its own.</summary>
    Cancel = 0x12,

    ModelMetadataRequest = 0x20,
    ModelMetadataResponse = 0x21,
    ServerReadyRequest = 0x22,
    ServerReadyResponse = 0x23,
    ModelReadyRequest = 0x24,
    ModelReadyResponse = 0x25,
}
