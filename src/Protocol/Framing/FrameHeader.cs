using System.Buffers;
using System.Buffers.Binary;

namespace HighPerfInference.Protocol;

/// <summary>
/// The fixed 24-byte header in front of every frame. All integers are little-endian.
/// </summary>
/// <remarks>
/// <code>
///  0       1       2       3       4       5       6       7
/// +-------+-------+-------+-------+-------+-------+-------+-------+
/// |  'H'  |  'P'  |  'I'  |  'B'  |version| type  |    flags      |  0
/// +-------+-------+-------+-------+-------+-------+-------+-------+
/// |                     request id (u64)                          |  8
/// +-------+-------+-------+-------+-------+-------+-------+-------+
/// |     payload length (u32)      |       reserved (u32) = 0      | 16
/// +-------+-------+-------+-------+-------+-------+-------+-------+
/// |  payload (payload length bytes) ...                             24
/// </code>
/// The header is 24 bytes so that an 8-byte aligned payload offset is also 8-byte aligned
/// relative to the frame start (tensor data is 8-aligned within the payload).
/// </remarks>
public readonly struct FrameHeader
{
    /// <summary>Bytes in a header.</summary>
    public const int Size = 24;

    /// <summary>"HPIB" read as a little-endian u32.</summary>
    public const uint Magic = 'H' | ('P' << 8) | ('I' << 16) | ('B' << 24);

    public FrameHeader(MessageType type, ulong requestId, uint payloadLength, byte version = ProtocolVersion.Current, FrameFlags flags = FrameFlags.None)
    {
        Version = version;
        Type = type;
        Flags = flags;
        RequestId = requestId;
        PayloadLength = payloadLength;
    }

    public byte Version { get; }
    public MessageType Type { get; }
    public FrameFlags Flags { get; }
    /// <summary>Matches a response to its request; 0 for connection-level frames (see docs/protocol.md).</summary>
    public ulong RequestId { get; }
    /// <summary>Bytes after the header.</summary>
    public uint PayloadLength { get; }

    /// <summary>
    /// Reads and validates a header (magic, reserved field, version). Throws a fatal
    /// <see cref="ProtocolException"/> when the stream cannot be trusted any more.
    /// The payload length is checked against the limit by <see cref="FrameReader"/>.
    /// </summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
            ThrowHelper.ThrowTruncatedHeader();
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
            ThrowHelper.ThrowBadMagic();
        var version = source[4];
        if (version < ProtocolVersion.Min || version > ProtocolVersion.Max)
            ThrowHelper.ThrowUnsupportedVersion(version);
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[20..]) != 0)
            ThrowHelper.ThrowReservedNotZero();
        return new FrameHeader(
            (MessageType)source[5],
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[16..]),
            version,
            (FrameFlags)BinaryPrimitives.ReadUInt16LittleEndian(source[6..]));
    }

    /// <summary>Reads a header from the start of a sequence (one that straddles segments is copied first).</summary>
    public static FrameHeader Read(in ReadOnlySequence<byte> source)
    {
        var first = source.FirstSpan;
        if (first.Length >= Size)
            return Read(first);
        if (source.Length < Size)
            ThrowHelper.ThrowTruncatedHeader();
        Span<byte> copy = stackalloc byte[Size];
        source.Slice(0, Size).CopyTo(copy);
        return Read(copy);
    }

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = Version;
        destination[5] = (byte)Type;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], RequestId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], PayloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], 0);
    }
}

/// <summary>Header flags. None are defined in version 1: senders write 0, receivers ignore them.</summary>
[Flags]
public enum FrameFlags : ushort
{
    None = 0,
}

/// <summary>Protocol versions this implementation speaks, negotiated in the handshake.</summary>
public static class ProtocolVersion
{
    public const byte Min = 1;
    public const byte Max = 1;
    /// <summary>The version a Hello frame's header always carries, whatever range its payload offers.</summary>
    public const byte Handshake = 1;
    public const byte Current = Max;

    /// <summary>The highest version both ranges contain, or 0 when they do not overlap.</summary>
    public static byte Negotiate(byte peerMin, byte peerMax)
    {
        var high = Math.Min(peerMax, Max);
        return high >= Math.Max(peerMin, Min) ? high : (byte)0;
    }
}

/// <summary>Default limits; the server announces its own in <see cref="HelloAck"/>.</summary>
public static class FrameLimits
{
    /// <summary>Default largest payload a server accepts: 64 MiB.</summary>
    public const uint DefaultMaxPayloadLength = 64 * 1024 * 1024;
    /// <summary>Largest payload accepted before the handshake completes (a Hello fits easily).</summary>
    public const uint HandshakeMaxPayloadLength = 128 * 1024;
    /// <summary>Default number of requests one connection may have in flight.</summary>
    public const uint DefaultMaxInFlight = 128;
    /// <summary>Longest name (model, version, tensor, routing key) in UTF-8 bytes: its length is one byte.</summary>
    public const int MaxNameLength = 255;
    /// <summary>Longest text (error message, API key) in UTF-8 bytes: its length is two bytes.</summary>
    public const int MaxTextLength = ushort.MaxValue;
    /// <summary>Largest tensor rank on the wire.</summary>
    public const int MaxRank = 16;
    /// <summary>Tensor data starts at a payload offset that is a multiple of this.</summary>
    public const int TensorAlignment = 8;
}
