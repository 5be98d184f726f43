using System.Buffers;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Binary;

/// <summary>A request the client sends: writes its frame once the connection has given it an id.</summary>
internal interface IRequestFrame
{
    /// <summary>Writes the whole frame. <paramref name="timeout"/> is the caller's time left.</summary>
    void Write(IBufferWriter<byte> output, ulong requestId, TimeSpan timeout);
}

internal readonly struct InferFrame(InferRequest request) : IRequestFrame
{
    public void Write(IBufferWriter<byte> output, ulong requestId, TimeSpan timeout) => request.WriteFrame(output, requestId, timeout);
}

/// <summary>ModelMetadataRequest or ModelReadyRequest.</summary>
internal readonly struct ModelQueryFrame(MessageType type, ModelRequest model) : IRequestFrame
{
    public void Write(IBufferWriter<byte> output, ulong requestId, TimeSpan timeout) => model.Write(output, type, requestId);
}

internal readonly struct ServerReadyFrame : IRequestFrame
{
    public void Write(IBufferWriter<byte> output, ulong requestId, TimeSpan timeout) =>
        ControlFrames.WriteEmpty(output, MessageType.ServerReadyRequest, requestId);
}

internal readonly struct PingFrame(ulong opaque) : IRequestFrame
{
    public void Write(IBufferWriter<byte> output, ulong requestId, TimeSpan timeout) =>
        ControlFrames.WritePing(output, pong: false, requestId, opaque);
}
