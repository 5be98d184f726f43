using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>
/// Splits a byte stream into frames, in the style of Kestrel's Http2FrameReader.
/// </summary>
/// <remarks>
/// <code>
/// +------------------------+--------------------------------------+
/// | header (24 bytes)      | payload (header.PayloadLength bytes) |
/// | magic version type     |  message fields, then for infer      |
/// | flags id length rsvd   |  messages the tensors (8-aligned)    |
/// +------------------------+--------------------------------------+
/// </code>
/// See <see cref="FrameHeader"/> for the header layout and docs/protocol.md for every payload.
/// </remarks>
public static class FrameReader
{
    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>. On success the payload is a slice
    /// of the buffer (no copy) and <paramref name="buffer"/> is advanced past the frame. Returns false
    /// and leaves <paramref name="buffer"/> untouched when the frame is not complete yet.
    /// </summary>
    /// <exception cref="ProtocolException">Fatal: bad magic, version or reserved field, or a payload
    /// length over <paramref name="maxPayloadLength"/> (checked as soon as the header is in, before the
    /// payload is buffered).</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, uint maxPayloadLength, out FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        if (buffer.Length < FrameHeader.Size)
        {
            header = default;
            payload = default;
            return false;
        }

        header = FrameHeader.Read(buffer);
        if (header.PayloadLength > maxPayloadLength)
            ThrowHelper.ThrowPayloadTooLarge(header.PayloadLength, maxPayloadLength);

        if (buffer.Length - FrameHeader.Size < header.PayloadLength)
        {
            payload = default;
            return false;
        }

        payload = buffer.Slice(FrameHeader.Size, header.PayloadLength);
        buffer = buffer.Slice(payload.End);
        return true;
    }
}
