using System.Buffers;
using System.Text;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Workload;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Wire;

/// <summary>
/// Whole binary-protocol frames built once with src/Protocol's writer. Per request only the header
/// is rewritten (its request id), so the per-request cost is one copy.
/// </summary>
public static class BinaryFrames
{
    public static byte[] InferRequest(string model, string? version, IReadOnlyList<InputTensor> inputs, IReadOnlyList<string> outputs)
    {
        var modelName = Encoding.UTF8.GetBytes(model);
        var modelVersion = Encoding.UTF8.GetBytes(version ?? "");
        var head = new InferRequestHead(modelName, modelVersion, 0, 0, default, outputs.Count, inputs.Count);
        var length = InferLayout.Head(head);
        foreach (var output in outputs)
            length = InferLayout.AddName(length, Encoding.UTF8.GetByteCount(output));
        foreach (var input in inputs)
            length = InferLayout.AddTensor(length, Encoding.UTF8.GetByteCount(input.Spec.Name), input.Spec.Shape.Length, input.Data.Length);

        var frame = new ArrayBufferWriter<byte>();
        var writer = InferFrameWriter.BeginRequest(frame, 1, head, length);
        foreach (var output in outputs)
            writer.WriteRequestedOutput(Encoding.UTF8.GetBytes(output));
        foreach (var input in inputs)
            writer.WriteTensor(Encoding.UTF8.GetBytes(input.Spec.Name), input.Spec.DataType, input.Spec.Shape, input.Data);
        writer.Complete();
        return frame.WrittenSpan.ToArray();
    }

    /// <summary>A response with zero-filled outputs, as a server would answer (the echo server's reply).</summary>
    public static byte[] InferResponse(string model, IReadOnlyList<TensorSpec> outputs)
    {
        var modelName = Encoding.UTF8.GetBytes(model);
        var head = new InferResponseHead(modelName, "1"u8, 0, 0, outputs.Count);
        var length = InferLayout.Head(head);
        foreach (var output in outputs)
            length = InferLayout.AddTensor(length, Encoding.UTF8.GetByteCount(output.Name), output.Shape.Length, output.ByteLength);

        var frame = new ArrayBufferWriter<byte>();
        var writer = InferFrameWriter.BeginResponse(frame, 1, head, length);
        foreach (var output in outputs)
            writer.WriteTensor(Encoding.UTF8.GetBytes(output.Name), output.DataType, output.Shape, new byte[output.ByteLength]);
        writer.Complete();
        return frame.WrittenSpan.ToArray();
    }

    /// <summary>Copies <paramref name="template"/> into <paramref name="output"/> with the header's request id set.</summary>
    public static void WriteWithRequestId(IBufferWriter<byte> output, byte[] template, MessageType type, ulong requestId)
    {
        var span = output.GetSpan(template.Length);
        template.CopyTo(span);
        new FrameHeader(type, requestId, (uint)(template.Length - FrameHeader.Size)).Write(span);
        output.Advance(template.Length);
    }
}
