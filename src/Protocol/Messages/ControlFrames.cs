using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>
/// Frames with fixed payloads, written and read with no allocation:
/// Ping/Pong (<c>u64 opaque</c>), Cancel and ServerReadyRequest (empty),
/// ServerReadyResponse and ModelReadyResponse (<c>u8 ready</c>: 0 or 1).
/// </summary>
public static class ControlFrames
{
    /// <summary>A frame whose payload is empty: Cancel, ServerReadyRequest.</summary>
    public static void WriteEmpty(IBufferWriter<byte> output, MessageType type, ulong requestId)
    {
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(type, requestId, 0));
        writer.Commit();
    }

    /// <summary>Ping, or Pong echoing a Ping's request id and opaque value.</summary>
    public static void WritePing(IBufferWriter<byte> output, bool pong, ulong requestId, ulong opaque)
    {
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(pong ? MessageType.Pong : MessageType.Ping, requestId, 8));
        writer.WriteU64(opaque);
        writer.Commit();
    }

    /// <summary>ServerReadyResponse or ModelReadyResponse.</summary>
    public static void WriteReady(IBufferWriter<byte> output, MessageType type, ulong requestId, bool ready)
    {
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(type, requestId, 1));
        writer.WriteU8(ready ? (byte)1 : (byte)0);
        writer.Commit();
    }

    public static ulong ReadPing(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var opaque = reader.ReadU64();
        reader.EnsureEnd();
        return opaque;
    }

    public static bool ReadReady(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var ready = reader.ReadU8();
        reader.EnsureEnd();
        if (ready > 1)
            ThrowHelper.ThrowInvalid("A readiness flag is neither 0 nor 1.");
        return ready == 1;
    }

    /// <summary>An empty payload (Cancel, ServerReadyRequest) must be empty.</summary>
    public static void ReadEmpty(ReadOnlySequence<byte> payload)
    {
        if (!payload.IsEmpty)
            ThrowHelper.ThrowInvalid("This message has no payload.");
    }
}

/// <summary>
/// Names a model, the payload of ModelMetadataRequest and ModelReadyRequest:
/// <code>name model | name version (empty: the version policy's choice)</code>
/// </summary>
public sealed record ModelRequest(string ModelName, string ModelVersion)
{
    public void Write(IBufferWriter<byte> output, MessageType type, ulong requestId)
    {
        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(type, requestId, (uint)(Utf8Length.Name(ModelName) + Utf8Length.Name(ModelVersion))));
        writer.WriteName(ModelName);
        writer.WriteName(ModelVersion);
        writer.Commit();
    }

    public static ModelRequest Read(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var request = new ModelRequest(reader.ReadNameString(), reader.ReadNameString());
        reader.EnsureEnd();
        if (request.ModelName.Length == 0)
            ThrowHelper.ThrowInvalid("The model name is empty.");
        return request;
    }
}
