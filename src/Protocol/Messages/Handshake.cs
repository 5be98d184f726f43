using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>
/// The client's first frame (request id 0, header version <see cref="ProtocolVersion.Handshake"/>):
/// <code>u8 min version | u8 max version | name client name | text API key (empty: none)</code>
/// </summary>
public sealed record Hello(byte MinVersion, byte MaxVersion, string ClientName, string ApiKey)
{
    /// <summary>A Hello offering every version this implementation speaks.</summary>
    public static Hello ForThisVersion(string clientName, string apiKey = "") =>
        new(ProtocolVersion.Min, ProtocolVersion.Max, clientName, apiKey);

    public void Write(IBufferWriter<byte> output)
    {
        var length = 2 + Utf8Length.Name(ClientName) + Utf8Length.Text(ApiKey);
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(MessageType.Hello, 0, (uint)length, ProtocolVersion.Handshake));
        writer.WriteU8(MinVersion);
        writer.WriteU8(MaxVersion);
        writer.WriteName(ClientName);
        writer.WriteText(ApiKey);
        writer.Commit();
    }

    public static Hello Read(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var min = reader.ReadU8();
        var max = reader.ReadU8();
        if (min == 0 || min > max)
            ThrowHelper.ThrowInvalid("Hello offers an empty version range.");
        var hello = new Hello(min, max, reader.ReadNameString(), reader.ReadTextString());
        reader.EnsureEnd();
        return hello;
    }
}

/// <summary>
/// The server's answer to <see cref="Hello"/> (request id 0, header version = the chosen version):
/// <code>u8 version | u32 max payload length | u32 max in flight | u32 idle timeout ms (0: none) |
/// name server name | name server version</code>
/// </summary>
public sealed record HelloAck(byte Version, uint MaxPayloadLength, uint MaxInFlight, uint IdleTimeoutMilliseconds, string ServerName, string ServerVersion)
{
    public void Write(IBufferWriter<byte> output)
    {
        var length = 13 + Utf8Length.Name(ServerName) + Utf8Length.Name(ServerVersion);
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(MessageType.HelloAck, 0, (uint)length, Version));
        writer.WriteU8(Version);
        writer.WriteU32(MaxPayloadLength);
        writer.WriteU32(MaxInFlight);
        writer.WriteU32(IdleTimeoutMilliseconds);
        writer.WriteName(ServerName);
        writer.WriteName(ServerVersion);
        writer.Commit();
    }

    public static HelloAck Read(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var version = reader.ReadU8();
        var maxPayload = reader.ReadU32();
        var maxInFlight = reader.ReadU32();
        var idle = reader.ReadU32();
        if (maxInFlight == 0)
            ThrowHelper.ThrowInvalid("HelloAck allows no request in flight.");
        var ack = new HelloAck(version, maxPayload, maxInFlight, idle, reader.ReadNameString(), reader.ReadNameString());
        reader.EnsureEnd();
        return ack;
    }
}
