using System.Buffers;
using System.Runtime.InteropServices;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Tests;

/// <summary>InferRequest validation and framing, InferResult reading, RetryPolicy arithmetic.</summary>
public sealed class RequestAndResultTests
{
    [Fact]
    public void A_request_frame_reads_back_field_for_field()
    {
        var request = new InferRequest("add_sub", "2") { Priority = 1, RoutingKey = "user-7" }
            .AddInput("INPUT0", [1, 3], new float[] { 1, 2, 3 })
            .AddInput("RAW", DataType.UInt8, [2], new byte[] { 9, 8 })
            .AddRequestedOutput("OUTPUT1");
        var output = new ArrayBufferWriter<byte>();

        request.WriteFrame(output, requestId: 42, TimeSpan.FromMilliseconds(1.5));

        var frame = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.True(FrameReader.TryReadFrame(ref frame, uint.MaxValue, out var header, out var payload));
        Assert.Equal((MessageType.InferRequest, 42ul), (header.Type, header.RequestId));
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferRequestReader(payload, scratch);
        Assert.Equal("add_sub"u8.ToArray(), reader.Head.ModelName.ToArray());
        Assert.Equal("2"u8.ToArray(), reader.Head.ModelVersion.ToArray());
        Assert.Equal("user-7"u8.ToArray(), reader.Head.RoutingKey.ToArray());
        Assert.Equal((1500u, (byte)1), (reader.Head.TimeoutMicroseconds, reader.Head.Priority));
        Assert.True(reader.TryReadRequestedOutput(out var requested));
        Assert.Equal("OUTPUT1"u8.ToArray(), requested.ToArray());
        Assert.True(reader.TryReadInput(out var input0));
        Assert.Equal(new float[] { 1, 2, 3 }, MemoryMarshal.Cast<byte, float>(input0.Data.ToArray()).ToArray());
        Assert.True(reader.TryReadInput(out var raw));
        Assert.Equal(DataType.UInt8, raw.DataType);
        Assert.Equal(new byte[] { 9, 8 }, raw.Data.ToArray());
        Assert.False(reader.TryReadInput(out _));
    }

    [Fact]
    public void Inputs_that_cannot_be_sent_are_refused_when_added()
    {
        var request = new InferRequest("m");

        Assert.Throws<ArgumentException>(() => request.AddInput("x", [2, 2], new float[3]));
        Assert.Throws<ArgumentException>(() => request.AddInput("x", [-1], new float[1]));
        Assert.Throws<ArgumentException>(() => request.AddInput("", [1], new float[1]));
        Assert.Throws<ArgumentException>(() => request.AddInput(new string('n', 256), [1], new float[1]));
        Assert.Throws<ArgumentException>(() => request.AddInput("x", new long[17], Array.Empty<float>()));
        Assert.Throws<ArgumentException>(() => new InferRequest(""));
        Assert.Throws<NotSupportedException>(() => request.AddInput("x", [1], new decimal[1]));
    }

    [Fact]
    public void A_result_reads_its_outputs_in_place_and_gives_its_buffer_back_once()
    {
        var frame = Response(("EMPTY", DataType.Fp32, [0, 4], []), ("Y", DataType.Int64, [2], [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]));
        var buffer = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(buffer, 0);

        var result = new InferResult(buffer, FrameHeader.Size, frame.Length - FrameHeader.Size);

        Assert.Equal(("model", "3", 2), (result.ModelName, result.ModelVersion, result.OutputCount));
        Assert.Equal(0, result["EMPTY"].Data.Length);
        Assert.Equal([0L, 4], result["EMPTY"].Shape.ToArray());
        Assert.Equal([1L, 2], result["Y"].AsSpan<long>().ToArray());
        Assert.Throws<KeyNotFoundException>(() => result["Z"].Data.Length);
        result.Dispose();
        result.Dispose();
        Assert.Throws<ObjectDisposedException>(() => result.ModelName);
    }

    [Fact]
    public void Backoff_grows_to_its_cap_and_jitter_stays_below_it()
    {
        var policy = new RetryPolicy { MaxAttempts = 10, InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50), Jitter = false };

        Assert.Equal([10.0, 20, 40, 50, 50], Enumerable.Range(1, 5).Select(attempt => policy.Backoff(attempt).TotalMilliseconds));
        var jittered = policy with { Jitter = true };
        Assert.All(Enumerable.Range(0, 100), _ => Assert.InRange(jittered.Backoff(3).TotalMilliseconds, 0, 40));
        Assert.True(policy.TryGetBackoff(ErrorCode.Overloaded, 1, Timeout.InfiniteTimeSpan, out _));
        Assert.False(policy.TryGetBackoff(ErrorCode.Overloaded, 1, TimeSpan.FromMilliseconds(5), out _));
        Assert.False(policy.TryGetBackoff(ErrorCode.InvalidArgument, 1, Timeout.InfiniteTimeSpan, out _));
        Assert.False(policy.TryGetBackoff(ErrorCode.Overloaded, 10, Timeout.InfiniteTimeSpan, out _));
        Assert.False(RetryPolicy.None.ShouldRetry(ErrorCode.Unavailable, 1));
    }

    private static byte[] Response(params (string Name, DataType Type, long[] Shape, byte[] Data)[] outputs)
    {
        var head = new InferResponseHead("model"u8, "3"u8, 5, 6, outputs.Length);
        var length = InferLayout.Head(head);
        foreach (var output in outputs)
            length = InferLayout.AddTensor(length, output.Name.Length, output.Shape.Length, output.Data.Length);
        var writer = new ArrayBufferWriter<byte>();
        var frame = InferFrameWriter.BeginResponse(writer, 1, head, length);
        foreach (var output in outputs)
            frame.WriteTensor(System.Text.Encoding.UTF8.GetBytes(output.Name), output.Type, output.Shape, output.Data);
        frame.Complete();
        return writer.WrittenSpan.ToArray();
    }
}
