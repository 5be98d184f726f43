using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using HighPerfInference.Protocol;

namespace HighPerfInference.Benchmarks;

/// <summary>
/// The binary protocol's hot path for add_sub (two FP32 [1,16] inputs, two outputs): reading a
/// request frame and writing its response frame. The budget for every method is 0 bytes allocated.
/// </summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private static readonly long[] s_shape = [1, 16];

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private readonly byte[] _sum = new byte[64];
    private readonly byte[] _difference = new byte[64];
    private ReadOnlySequence<byte> _request;
    private ReadOnlySequence<byte> _splitRequest;

    [GlobalSetup]
    public void Setup()
    {
        var input0 = new byte[64];
        var input1 = new byte[64];
        MemoryMarshal.Cast<byte, float>(input1.AsSpan()).Fill(1);
        var head = new InferRequestHead("add_sub"u8, default, 0, 0, default, 0, 2);
        var length = InferLayout.AddTensor(InferLayout.AddTensor(InferLayout.Head(head), 6, 2, 64), 6, 2, 64);
        var writer = InferFrameWriter.BeginRequest(_output, 1, head, length);
        writer.WriteTensor("INPUT0"u8, DataType.Fp32, s_shape, input0);
        writer.WriteTensor("INPUT1"u8, DataType.Fp32, s_shape, input1);
        writer.Complete();
        var bytes = _output.WrittenSpan.ToArray();
        _request = new ReadOnlySequence<byte>(bytes);
        _splitRequest = Split(bytes, bytes.Length / 2);
    }

    /// <summary>Frame reader + request reader over one buffer segment: the common case.</summary>
    [Benchmark]
    public long ReadAddSubRequest() => Read(_request);

    /// <summary>The same frame cut in the middle of a tensor, as a pipe segment boundary cuts it.</summary>
    [Benchmark]
    public long ReadAddSubRequestTwoSegments() => Read(_splitRequest);

    [Benchmark]
    public int WriteAddSubResponse()
    {
        _output.ResetWrittenCount();
        var head = new InferResponseHead("add_sub"u8, "1"u8, 12, 9, 2);
        var length = InferLayout.AddTensor(InferLayout.AddTensor(InferLayout.Head(head), 7, 2, 64), 7, 2, 64);
        var writer = InferFrameWriter.BeginResponse(_output, 1, head, length);
        writer.WriteTensor("OUTPUT0"u8, DataType.Fp32, s_shape, _sum);
        writer.WriteTensor("OUTPUT1"u8, DataType.Fp32, s_shape, _difference);
        writer.Complete();
        return _output.WrittenCount;
    }

    [Benchmark]
    public int WriteErrorFrame()
    {
        _output.ResetWrittenCount();
        ErrorMessage.Write(_output, 1, ErrorCode.Overloaded, "The connection has 128 requests in flight.");
        return _output.WrittenCount;
    }

    private static long Read(ReadOnlySequence<byte> buffer)
    {
        FrameReader.TryReadFrame(ref buffer, FrameLimits.DefaultMaxPayloadLength, out var header, out var payload);
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferRequestReader(payload, scratch);
        long bytes = reader.Head.ModelName.Length + (long)header.RequestId;
        while (reader.TryReadInput(out var tensor))
            bytes += tensor.Data.Length + tensor.Shape[^1];
        return bytes;
    }

    private static ReadOnlySequence<byte> Split(byte[] bytes, int at)
    {
        var first = new Segment(bytes.AsMemory(0, at), 0);
        var second = new Segment(bytes.AsMemory(at), at);
        first.SetNext(second);
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
