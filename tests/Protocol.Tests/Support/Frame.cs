using System.Buffers;
using System.Globalization;
using System.Text;

namespace HighPerfInference.Protocol.Tests.Support;

/// <summary>A tensor with its bytes, as tests build and compare them.</summary>
public sealed record TensorModel(string Name, DataType DataType, long[] Shape, byte[] Data)
{
    public static TensorModel Fp32(string name, long[] shape, params float[] values)
    {
        var data = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
            BitConverter.TryWriteBytes(data.AsSpan(i * 4), values[i]);
        return new TensorModel(name, DataType.Fp32, shape, data);
    }

    /// <summary>A BYTES tensor: each element a u32 length and its UTF-8 bytes.</summary>
    public static TensorModel Strings(string name, long[] shape, params string[] values)
    {
        var data = new List<byte>();
        foreach (var value in values)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            data.AddRange(BitConverter.GetBytes(bytes.Length));
            data.AddRange(bytes);
        }
        return new TensorModel(name, DataType.Bytes, shape, [.. data]);
    }

    public static TensorModel Read(in WireTensor tensor) =>
        new(Encoding.UTF8.GetString(tensor.Name), tensor.DataType, tensor.Shape.ToArray(), tensor.Data.ToArray());

    public override string ToString() =>
        $"{Name}:{DataType.WireName()}[{string.Join(',', Shape)}]={Convert.ToHexString(Data)}";
}

public sealed record InferRequestModel(string Model, string Version, uint TimeoutUs, byte Priority, string RoutingKey, string[] RequestedOutputs, TensorModel[] Inputs)
{
    public override string ToString() =>
        $"model={Model} version={Version} timeout={TimeoutUs} priority={Priority} key={RoutingKey} outputs=[{string.Join(',', RequestedOutputs)}] inputs=[{string.Join<TensorModel>(' ', Inputs)}]";
}

public sealed record InferResponseModel(string Model, string Version, uint QueueUs, uint ComputeUs, TensorModel[] Outputs)
{
    public override string ToString() =>
        $"model={Model} version={Version} queue={QueueUs} compute={ComputeUs} outputs=[{string.Join<TensorModel>(' ', Outputs)}]";
}

/// <summary>
/// A whole frame as a value: encoded with the library's writers, decoded with its readers, and
/// compared through <see cref="Describe"/>, a canonical text of every field.
/// </summary>
public sealed record Frame(MessageType Type, ulong RequestId, object? Body)
{
    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>();
        EncodeTo(output);
        return output.WrittenSpan.ToArray();
    }

    public void EncodeTo(IBufferWriter<byte> output)
    {
        switch (Body)
        {
            case Hello hello:
                hello.Write(output);
                break;
            case HelloAck ack:
                ack.Write(output);
                break;
            case GoAway goAway:
                goAway.Write(output);
                break;
            case ErrorMessage error:
                ErrorMessage.Write(output, RequestId, error.Code, error.Message);
                break;
            case ulong opaque:
                ControlFrames.WritePing(output, Type == MessageType.Pong, RequestId, opaque);
                break;
            case bool ready:
                ControlFrames.WriteReady(output, Type, RequestId, ready);
                break;
            case ModelRequest model:
                model.Write(output, Type, RequestId);
                break;
            case ModelMetadata metadata:
                metadata.Write(output, RequestId);
                break;
            case InferRequestModel request:
                WriteRequest(output, RequestId, request);
                break;
            case InferResponseModel response:
                WriteResponse(output, RequestId, response);
                break;
            case null:
                ControlFrames.WriteEmpty(output, Type, RequestId);
                break;
            default:
                throw new InvalidOperationException($"No encoder for {Body.GetType()}.");
        }
    }

    /// <summary>Decodes a frame's payload by its type; unknown types keep their raw payload.</summary>
    public static Frame Decode(in FrameHeader header, ReadOnlySequence<byte> payload)
    {
        object? body = header.Type switch
        {
            MessageType.Hello => Hello.Read(payload),
            MessageType.HelloAck => HelloAck.Read(payload),
            MessageType.Ping or MessageType.Pong => ControlFrames.ReadPing(payload),
            MessageType.GoAway => GoAway.Read(payload),
            MessageType.Error => ErrorMessage.Read(payload),
            MessageType.InferRequest => ReadRequest(payload),
            MessageType.InferResponse => ReadResponse(payload),
            MessageType.Cancel or MessageType.ServerReadyRequest => ReadEmpty(payload),
            MessageType.ModelMetadataRequest or MessageType.ModelReadyRequest => ModelRequest.Read(payload),
            MessageType.ModelMetadataResponse => ModelMetadata.Read(payload),
            MessageType.ServerReadyResponse or MessageType.ModelReadyResponse => ControlFrames.ReadReady(payload),
            _ => "raw:" + Convert.ToHexString(payload.ToArray()),
        };
        return new Frame(header.Type, header.RequestId, body);
    }

    /// <summary>Reads exactly one frame from a whole buffer.</summary>
    public static Frame Decode(ReadOnlySequence<byte> bytes, uint maxPayloadLength = FrameLimits.DefaultMaxPayloadLength)
    {
        Assert.True(FrameReader.TryReadFrame(ref bytes, maxPayloadLength, out var header, out var payload));
        Assert.True(bytes.IsEmpty, "bytes after the frame");
        return Decode(header, payload);
    }

    public string Describe() => $"{Type} id={RequestId.ToString(CultureInfo.InvariantCulture)} {DescribeBody(Body)}";

    private static string DescribeBody(object? body) => body switch
    {
        null => "-",
        ModelMetadata m => $"name={m.Name} versions=[{string.Join(',', m.Versions)}] platform={m.Platform} inputs=[{DescribeTensors(m.Inputs)}] outputs=[{DescribeTensors(m.Outputs)}]",
        _ => Convert.ToString(body, CultureInfo.InvariantCulture) ?? "",
    };

    private static string DescribeTensors(TensorMetadata[] tensors)
    {
        var parts = new string[tensors.Length];
        for (var i = 0; i < tensors.Length; i++)
            parts[i] = $"{tensors[i].Name}:{tensors[i].DataType.WireName()}[{string.Join(',', tensors[i].Shape)}]";
        return string.Join(' ', parts);
    }

    private static object? ReadEmpty(ReadOnlySequence<byte> payload)
    {
        ControlFrames.ReadEmpty(payload);
        return null;
    }

    private static InferRequestModel ReadRequest(ReadOnlySequence<byte> payload)
    {
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferRequestReader(payload, scratch);
        var head = reader.Head;
        string model = Utf8(head.ModelName), version = Utf8(head.ModelVersion), key = Utf8(head.RoutingKey);
        var outputs = new List<string>();
        while (reader.TryReadRequestedOutput(out var name))
            outputs.Add(Utf8(name));
        var inputs = new List<TensorModel>();
        while (reader.TryReadInput(out var tensor))
            inputs.Add(TensorModel.Read(tensor));
        return new InferRequestModel(model, version, head.TimeoutMicroseconds, head.Priority, key, [.. outputs], [.. inputs]);
    }

    private static InferResponseModel ReadResponse(ReadOnlySequence<byte> payload)
    {
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferResponseReader(payload, scratch);
        var head = reader.Head;
        string model = Utf8(head.ModelName), version = Utf8(head.ModelVersion);
        var outputs = new List<TensorModel>();
        while (reader.TryReadOutput(out var tensor))
            outputs.Add(TensorModel.Read(tensor));
        return new InferResponseModel(model, version, head.QueueMicroseconds, head.ComputeMicroseconds, [.. outputs]);
    }

    private static void WriteRequest(IBufferWriter<byte> output, ulong requestId, InferRequestModel request)
    {
        var head = new InferRequestHead(Bytes(request.Model), Bytes(request.Version), request.TimeoutUs, request.Priority,
            Bytes(request.RoutingKey), request.RequestedOutputs.Length, request.Inputs.Length);
        var length = InferLayout.Head(head);
        foreach (var name in request.RequestedOutputs)
            length = InferLayout.AddName(length, Bytes(name).Length);
        foreach (var tensor in request.Inputs)
            length = InferLayout.AddTensor(length, Bytes(tensor.Name).Length, tensor.Shape.Length, tensor.Data.Length);
        var writer = InferFrameWriter.BeginRequest(output, requestId, head, length);
        foreach (var name in request.RequestedOutputs)
            writer.WriteRequestedOutput(Bytes(name));
        foreach (var tensor in request.Inputs)
            writer.WriteTensor(Bytes(tensor.Name), tensor.DataType, tensor.Shape, tensor.Data);
        writer.Complete();
    }

    private static void WriteResponse(IBufferWriter<byte> output, ulong requestId, InferResponseModel response)
    {
        var head = new InferResponseHead(Bytes(response.Model), Bytes(response.Version), response.QueueUs, response.ComputeUs, response.Outputs.Length);
        var length = InferLayout.Head(head);
        foreach (var tensor in response.Outputs)
            length = InferLayout.AddTensor(length, Bytes(tensor.Name).Length, tensor.Shape.Length, tensor.Data.Length);
        var writer = InferFrameWriter.BeginResponse(output, requestId, head, length);
        foreach (var tensor in response.Outputs)
            writer.WriteTensor(Bytes(tensor.Name), tensor.DataType, tensor.Shape, tensor.Data);
        writer.Complete();
    }

    private static byte[] Bytes(string value) => Encoding.UTF8.GetBytes(value);

    private static string Utf8(ReadOnlySpan<byte> value) => Encoding.UTF8.GetString(value);
}
