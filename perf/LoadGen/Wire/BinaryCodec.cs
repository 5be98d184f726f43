using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Load;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Wire;

/// <summary>
/// The binary protocol (docs/protocol.md): a Hello/HelloAck handshake per connection, then infer
/// request frames with the connection's request ids, answered in completion order. Only the frame header is
/// read per response; an Error frame's code is the error key.
/// </summary>
public sealed class BinaryCodec(byte[] requestFrame) : IWireCodec
{
    private uint _maxPayloadLength = FrameLimits.HandshakeMaxPayloadLength;

    public bool InOrder => false;

    public async ValueTask OpenAsync(PipeReader reader, PipeWriter writer, int slotCount, CancellationToken cancellationToken)
    {
        Hello.ForThisVersion("hpi-loadgen").Write(writer);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (FrameReader.TryReadFrame(ref buffer, FrameLimits.HandshakeMaxPayloadLength, out var header, out var payload))
            {
                var ack = header.Type switch
                {
                    MessageType.HelloAck => HelloAck.Read(payload),
                    MessageType.Error => throw new UsageException($"the server refused the handshake: {Describe(ErrorMessage.Read(payload))}"),
                    _ => throw new BadResponseException($"expected HelloAck, got {header.Type}"),
                };
                reader.AdvanceTo(buffer.Start);
                if (ack.MaxInFlight < slotCount)
                    throw new UsageException($"the server allows {ack.MaxInFlight} requests in flight per connection, the step needs {slotCount}: use more --connections");
                if (requestFrame.Length - FrameHeader.Size > ack.MaxPayloadLength)
                    throw new UsageException($"the request payload ({requestFrame.Length - FrameHeader.Size} bytes) is over the server's limit of {ack.MaxPayloadLength}");
                _maxPayloadLength = ack.MaxPayloadLength;
                return;
            }
            if (result.IsCompleted)
                throw new BadResponseException("the server closed the connection during the handshake");
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public void WriteRequest(IBufferWriter<byte> writer, ulong requestId) =>
        BinaryFrames.WriteWithRequestId(writer, requestFrame, MessageType.InferRequest, requestId);

    public bool TryReadResponse(ref SequenceReader<byte> reader, out ulong requestId, out int status)
    {
        while (true)
        {
            var buffer = reader.UnreadSequence;
            if (!FrameReader.TryReadFrame(ref buffer, _maxPayloadLength, out var header, out var payload))
            {
                requestId = 0;
                status = 0;
                return false;
            }
            reader.Advance(FrameHeader.Size + header.PayloadLength);
            switch (header.Type)
            {
                case MessageType.InferResponse:
                    requestId = header.RequestId;
                    status = 0;
                    return true;
                case MessageType.Error when header.RequestId != 0:
                    requestId = header.RequestId;
                    status = ReadErrorCode(payload);
                    return true;
                case MessageType.Error:
                    throw new BadResponseException($"the server closed the connection: {Describe(ErrorMessage.Read(payload))}");
                default:
                    // Ping, Pong, GoAway: nothing to count. After a GoAway the server answers SHUTTING_DOWN, which is counted.
                    continue;
            }
        }
    }

    public string ErrorName(int status) => LocalErrors.Name(status) ?? ((ErrorCode)status).Name() switch
    {
        "UNKNOWN" => $"ERROR {status}",
        var name => name,
    };

    /// <summary>The u16 code at the start of an Error payload, read without allocating its message.</summary>
    private static int ReadErrorCode(ReadOnlySequence<byte> payload)
    {
        Span<byte> code = stackalloc byte[2];
        if (payload.Length < 2)
            throw new BadResponseException("an Error frame without a code");
        payload.Slice(0, 2).CopyTo(code);
        return Math.Min((int)BinaryPrimitives.ReadUInt16LittleEndian(code), LocalErrors.ProtocolKeyLimit - 1);
    }

    private static string Describe(ErrorMessage error) => $"{error.Code.Name()}: {error.Message}";
}
