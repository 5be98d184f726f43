using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>
/// Writes an infer request or response frame straight into an <see cref="IBufferWriter{T}"/>
/// (a PipeWriter) with no allocation. The payload length goes in the header first, so compute it
/// with <see cref="InferLayout"/>; <see cref="Complete"/> checks that what was written matches it.
/// </summary>
/// <example>
/// <code>
/// var length = InferLayout.Head(head);
/// length = InferLayout.AddTensor(length, "sum"u8.Length, 2, sum.Length);
/// var writer = InferFrameWriter.BeginResponse(pipeWriter, requestId, head, length);
/// writer.WriteTensor("sum"u8, DataType.Fp32, shape, sum);
/// writer.Complete();
/// </code>
/// </example>
public ref struct InferFrameWriter
{
    private WireWriter _writer;
    private readonly long _frameLength;
    private int _namesLeft;
    private int _tensorsLeft;
    private long _dataLeft;

    private InferFrameWriter(IBufferWriter<byte> output, MessageType type, ulong requestId, long payloadLength)
    {
        if ((ulong)payloadLength > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(payloadLength), "A payload is at most 4 GiB - 1.");
        _writer = new WireWriter(output);
        _writer.WriteHeader(new FrameHeader(type, requestId, (uint)payloadLength));
        _frameLength = FrameHeader.Size + payloadLength;
    }

    public static InferFrameWriter BeginRequest(IBufferWriter<byte> output, ulong requestId, in InferRequestHead head, long payloadLength)
    {
        if (head.ModelName.IsEmpty)
            throw new ArgumentException("The model name is empty.", nameof(head));
        var writer = new InferFrameWriter(output, MessageType.InferRequest, requestId, payloadLength)
        {
            _namesLeft = checked((ushort)head.RequestedOutputCount),
            _tensorsLeft = checked((ushort)head.InputCount),
        };
        writer._writer.WriteName(head.ModelName);
        writer._writer.WriteName(head.ModelVersion);
        writer._writer.WriteU32(head.TimeoutMicroseconds);
        writer._writer.WriteU8(head.Priority);
        writer._writer.WriteName(head.RoutingKey);
        writer._writer.WriteU16((ushort)head.RequestedOutputCount);
        writer._writer.WriteU16((ushort)head.InputCount);
        return writer;
    }

    public static InferFrameWriter BeginResponse(IBufferWriter<byte> output, ulong requestId, in InferResponseHead head, long payloadLength)
    {
        var writer = new InferFrameWriter(output, MessageType.InferResponse, requestId, payloadLength)
        {
            _tensorsLeft = checked((ushort)head.OutputCount),
        };
        writer._writer.WriteName(head.ModelName);
        writer._writer.WriteName(head.ModelVersion);
        writer._writer.WriteU32(head.QueueMicroseconds);
        writer._writer.WriteU32(head.ComputeMicroseconds);
        writer._writer.WriteU16((ushort)head.OutputCount);
        return writer;
    }

    /// <summary>Writes the next requested output name (requests only, before the tensors).</summary>
    public void WriteRequestedOutput(ReadOnlySpan<byte> name)
    {
        if (_namesLeft == 0)
            throw new InvalidOperationException("More requested outputs than the head announced.");
        if (name.IsEmpty)
            throw new ArgumentException("A requested output name is empty.", nameof(name));
        _namesLeft--;
        _writer.WriteName(name);
    }

    /// <summary>Writes a whole tensor: descriptor, pad and data.</summary>
    public void WriteTensor(ReadOnlySpan<byte> name, DataType dataType, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        WriteTensorDescriptor(name, dataType, shape, data.Length);
        WriteTensorData(data);
    }

    /// <summary>
    /// Writes a tensor's descriptor and pad; then write exactly <paramref name="byteLength"/> bytes of
    /// data with <see cref="WriteTensorData"/>, in as many pieces as convenient.
    /// </summary>
    public void WriteTensorDescriptor(ReadOnlySpan<byte> name, DataType dataType, ReadOnlySpan<long> shape, long byteLength)
    {
        if (_namesLeft != 0)
            throw new InvalidOperationException("Requested outputs come before the tensors.");
        if (_dataLeft != 0)
            throw new InvalidOperationException("The previous tensor's data is incomplete.");
        if (_tensorsLeft == 0)
            throw new InvalidOperationException("More tensors than the head announced.");
        _tensorsLeft--;
        TensorCodec.Write(ref _writer, name, dataType, shape, byteLength);
        _dataLeft = byteLength;
    }

    public void WriteTensorData(ReadOnlySpan<byte> data)
    {
        if (data.Length > _dataLeft)
            throw new InvalidOperationException("More data than the tensor's byte length.");
        _dataLeft -= data.Length;
        _writer.WriteBytes(data);
    }

    /// <summary>Commits the frame to the output; throws when it does not match the announced layout.</summary>
    public void Complete()
    {
        if (_namesLeft != 0 || _tensorsLeft != 0 || _dataLeft != 0)
            throw new InvalidOperationException("The frame has fewer names, tensors or data bytes than announced.");
        if (_writer.Written != _frameLength)
            throw new InvalidOperationException($"The payload written ({_writer.Written - FrameHeader.Size} bytes) differs from the announced length ({_frameLength - FrameHeader.Size}).");
        _writer.Commit();
    }
}
