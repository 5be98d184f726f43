using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>
/// An Error frame: <code>u16 error code | text message</code>
/// Request id N: request N failed, the connection carries on. Request id 0: the connection
/// failed (protocol error, failed handshake) and the server closes it after this frame.
/// </summary>
public readonly record struct ErrorMessage(ErrorCode Code, string Message)
{
    /// <summary>Writes an Error frame with no allocation; a message over 65,535 UTF-8 bytes is cut.</summary>
    public static void Write(IBufferWriter<byte> output, ulong requestId, ErrorCode code, ReadOnlySpan<char> message)
    {
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(MessageType.Error, requestId, (uint)(2 + Utf8Length.Text(message))));
        writer.WriteU16((ushort)code);
        writer.WriteText(message);
        writer.Commit();
    }

    /// <summary>Reads an Error payload. A code this version does not know is kept as its number.</summary>
    public static ErrorMessage Read(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var code = (ErrorCode)reader.ReadU16();
        var message = reader.ReadTextString();
        reader.EnsureEnd();
        return new ErrorMessage(code, message);
    }
}

/// <summary>
/// A GoAway frame (request id 0), the server's drain notice:
/// <code>u64 last accepted request id | u16 reason (an error code) | text message</code>
/// Every request the server read before sending it is still answered; the client sends no new
/// requests on this connection and the server closes it once they are answered.
/// </summary>
public sealed record GoAway(ulong LastAcceptedRequestId, ErrorCode Reason, string Message)
{
    public void Write(IBufferWriter<byte> output)
    {
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(MessageType.GoAway, 0, (uint)(10 + Utf8Length.Text(Message))));
        writer.WriteU64(LastAcceptedRequestId);
        writer.WriteU16((ushort)Reason);
        writer.WriteText(Message);
        writer.Commit();
    }

    public static GoAway Read(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var last = reader.ReadU64();
        var reason = (ErrorCode)reader.ReadU16();
        var goAway = new GoAway(last, reason, reader.ReadTextString());
        reader.EnsureEnd();
        return goAway;
    }
}
