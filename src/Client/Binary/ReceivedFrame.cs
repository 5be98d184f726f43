using System.Buffers;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Binary;

/// <summary>
/// A response frame's payload, copied out of the receive buffer into a pooled array so the
/// receive loop can move on. Whoever ends up holding it disposes it (or hands the array to an
/// <see cref="InferResult"/>).
/// </summary>
internal readonly struct ReceivedFrame(MessageType type, byte[] buffer, int length) : IDisposable
{
    public MessageType Type { get; } = type;
    public byte[] Buffer { get; } = buffer;
    public int Length { get; } = length;

    public ReadOnlySequence<byte> Payload => new(Buffer, 0, Length);

    public static ReceivedFrame Copy(MessageType type, in ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        payload.CopyTo(buffer);
        return new ReceivedFrame(type, buffer, length);
    }

    /// <summary>Throws unless the server answered with <paramref name="expected"/>; disposes the frame when it throws.</summary>
    public void Expect(MessageType expected)
    {
        if (Type == expected)
            return;
        Dispose();
        throw new InferenceException(ErrorCode.ProtocolError, $"The server answered {Type} where {expected} was due.");
    }

    public void Dispose()
    {
        if (Buffer is { Length: > 0 })
            ArrayPool<byte>.Shared.Return(Buffer);
    }
}
