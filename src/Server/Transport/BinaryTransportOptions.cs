using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Transport;

/// <summary>
/// Limits and settings of the binary protocol endpoint: section "BinaryProtocol" of the
/// configuration (the port is Server:BinaryPort). The limits are announced to clients in HelloAck.
/// </summary>
public sealed class BinaryTransportOptions
{
    public const string Section = "BinaryProtocol";

    /// <summary>Largest frame payload accepted; a larger one is a fatal PAYLOAD_TOO_LARGE.</summary>
    public uint MaxPayloadLength { get; set; } = FrameLimits.DefaultMaxPayloadLength;

    /// <summary>Requests one connection may have unanswered; more are answered OVERLOADED.</summary>
    public int MaxInFlight { get; set; } = (int)FrameLimits.DefaultMaxInFlight;

    /// <summary>When set, a Hello must carry this key or the connection is refused UNAUTHENTICATED.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>A connection that sends nothing this long is pinged, and closed if the ping gets no answer in as long again. 0: never.</summary>
    public double IdleTimeoutSeconds { get; set; } = 120;

    /// <summary>Time a new connection has to send its Hello.</summary>
    public double HandshakeTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// How long a draining connection (after GoAway) waits for its accepted requests before it
    /// answers the rest SHUTTING_DOWN and closes. At most 80% of Server:ShutdownTimeoutSeconds,
    /// after which Kestrel aborts connections without a word.
    /// </summary>
    public double DrainTimeoutSeconds { get; set; } = 25;

    /// <summary>Name announced in HelloAck.</summary>
    public string ServerName { get; set; } = "HighPerfInference";

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(IdleTimeoutSeconds);
    public TimeSpan HandshakeTimeout => TimeSpan.FromSeconds(HandshakeTimeoutSeconds);
    public TimeSpan DrainTimeout => TimeSpan.FromSeconds(DrainTimeoutSeconds);

    /// <summary>Throws with the key name when a value cannot work.</summary>
    public void Validate()
    {
        if (MaxPayloadLength < FrameLimits.HandshakeMaxPayloadLength)
            throw new InvalidOperationException($"{Section}:MaxPayloadLength must be at least {FrameLimits.HandshakeMaxPayloadLength} bytes, got {MaxPayloadLength}.");
        if (MaxInFlight is < 1 or > 65536)
            throw new InvalidOperationException($"{Section}:MaxInFlight must be 1..65536, got {MaxInFlight}.");
        if (!(IdleTimeoutSeconds >= 0) || !(HandshakeTimeoutSeconds > 0) || !(DrainTimeoutSeconds >= 0))
            throw new InvalidOperationException($"{Section}:IdleTimeoutSeconds and DrainTimeoutSeconds must be non-negative and HandshakeTimeoutSeconds positive.");
        if (System.Text.Encoding.UTF8.GetByteCount(ServerName) > FrameLimits.MaxNameLength)
            throw new InvalidOperationException($"{Section}:ServerName must be at most {FrameLimits.MaxNameLength} UTF-8 bytes.");
    }
}
