using System.Buffers;
using System.Text;
using HighPerfInference.Protocol.Tests.Support;

namespace HighPerfInference.Protocol.Tests;

public class InferMessageTests
{
    private static readonly long[] s_row16 = [1, 16];

    public static TheoryData<string, byte[]> InvalidRequests() => new()
    {
        { "empty payload", [] },
        { "empty model name", PayloadBuilder.RequestHead("", 0, 0).ToSequence().ToArray() },
        { "cut inside the head", new PayloadBuilder().Name("add_sub").Name("").U32(0).ToSequence().ToArray() },
        { "name length past the end", new PayloadBuilder().U8(200).Raw("add_sub"u8.ToArray()).ToSequence().ToArray() },
        { "missing tensor", Bytes(PayloadBuilder.RequestHead("m", 0, 1)) },
        { "empty tensor name", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("", 12, [1], 4).Raw(0, 0, 0, 0)) },
        { "datatype 0", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 0, [1], 4).Raw(0, 0, 0, 0)) },
        { "datatype 15", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 15, [1], 4).Raw(0, 0, 0, 0)) },
        { "rank 17", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 2, new long[17], 0)) },
        { "negative dimension", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 2, [-1], 0)) },
        { "byte length one short", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 12, [2], 7).Raw(new byte[7])) },
        { "byte length one over", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 12, [2], 9).Raw(new byte[9])) },
        { "shape overflows", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 13, [1L << 40, 1L << 40], 0)) },
        { "overflow to the byte length", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 13, [1L << 61], 0)) },
        { "data past the payload", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 12, [4], 16).Raw(new byte[12])) },
        { "bytes after the last tensor", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("x", 12, [1], 4).Raw(new byte[5])) },
        { "BYTES element past the data", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("s", 14, [1], 8).U32(5).Raw(1, 2, 3, 4)) },
        { "BYTES data longer than its elements", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("s", 14, [1], 9).U32(4).Raw(1, 2, 3, 4, 5)) },
        { "BYTES more elements than bytes", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("s", 14, [3], 8).U32(0).U32(0)) },
        { "BYTES element count overflows", Bytes(PayloadBuilder.RequestHead("m", 0, 1).Tensor("s", 14, [1L << 62, 4], 0)) },
        { "empty requested output", Bytes(PayloadBuilder.RequestHead("m", 1, 0).Name("")) },
        { "requested output cut short", Bytes(PayloadBuilder.RequestHead("m", 2, 0).Name("a")) },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public void Malformed_request_payload_is_a_per_request_error(string why, byte[] payload)
    {
        foreach (var buffer in new[] { new ReadOnlySequence<byte>(payload), Segments.OneBytePerSegment(payload) })
        {
            var error = Assert.Throws<ProtocolException>(() => ReadAll(buffer));
            Assert.Equal(ErrorCode.InvalidArgument, error.Code);
            Assert.False(error.IsFatal, why);
        }
    }

    [Fact]
    public void Malformed_response_payload_is_rejected()
    {
        var payload = Bytes(new PayloadBuilder().Name("m").Name("1").U32(0).U32(0).U16(1).Tensor("y", 12, [2], 4).Raw(new byte[4]));
        var error = Assert.Throws<ProtocolException>(() =>
        {
            Span<byte> scratch = stackalloc byte[InferScratch.Size];
            var reader = new InferResponseReader(new ReadOnlySequence<byte>(payload), scratch);
            reader.TryReadOutput(out _);
        });
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void Tensor_data_is_8_aligned_in_the_payload_and_not_copied()
    {
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        foreach (var (_, frame) in SampleFrames.All)
        {
            if (frame.Type is not (MessageType.InferRequest or MessageType.InferResponse))
                continue;
            var bytes = frame.Encode();
            var buffer = new ReadOnlySequence<byte>(bytes);
            Assert.True(FrameReader.TryReadFrame(ref buffer, FrameLimits.DefaultMaxPayloadLength, out var header, out var payload));
            var count = 0;
            if (header.Type == MessageType.InferRequest)
            {
                var reader = new InferRequestReader(payload, scratch);
                while (reader.TryReadInput(out var tensor))
                    count += CheckInPlace(bytes, tensor);
            }
            else
            {
                var reader = new InferResponseReader(payload, scratch);
                while (reader.TryReadOutput(out var tensor))
                    count += CheckInPlace(bytes, tensor);
            }
            Assert.True(count > 0);
        }
    }

    [Fact]
    public void Reader_skips_requested_outputs_not_read()
    {
        var bytes = FrameReaderTests.Find("infer_request_options").Encode();
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferRequestReader(new ReadOnlySequence<byte>(bytes, FrameHeader.Size, bytes.Length - FrameHeader.Size), scratch);
        Assert.Equal("identity_all_types", Encoding.UTF8.GetString(reader.Head.ModelName));
        Assert.Equal(2, reader.Head.RequestedOutputCount);
        Assert.True(reader.TryReadInput(out var first));
        Assert.Equal("IN_BYTES", Encoding.UTF8.GetString(first.Name));
    }

    [Fact]
    public void Names_straddling_segments_are_read_into_the_scratch()
    {
        var frame = FrameReaderTests.Find("infer_request_options");
        var bytes = frame.Encode();
        // Cut inside the model name, the version, the routing key, an output name and a tensor name.
        var payload = Segments.Split(bytes.AsSpan(FrameHeader.Size), 5, 31, 42, 53, 62);
        var header = new FrameHeader(MessageType.InferRequest, frame.RequestId, (uint)payload.Length);
        Assert.Equal(frame.Describe(), Frame.Decode(header, payload).Describe());
    }

    [Fact]
    public void Writer_output_is_the_same_through_tiny_output_buffers()
    {
        foreach (var (_, frame) in SampleFrames.All)
        {
            var tiny = new TinyBufferWriter();
            frame.EncodeTo(tiny);
            Assert.Equal(frame.Encode(), tiny.Written.ToArray());
        }
    }

    [Fact]
    public void Writer_refuses_a_layout_it_did_not_announce()
    {
        var output = new ArrayBufferWriter<byte>();
        var head = new InferResponseHead("m"u8, "1"u8, 0, 0, 1);
        var length = InferLayout.AddTensor(InferLayout.Head(head), 1, 2, 64);
        var data = new byte[64];

        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = InferFrameWriter.BeginResponse(output, 1, new InferResponseHead("m"u8, "1"u8, 0, 0, 1), length);
            writer.Complete();
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = InferFrameWriter.BeginResponse(output, 1, new InferResponseHead("m"u8, "1"u8, 0, 0, 1), length + 8);
            writer.WriteTensor("y"u8, DataType.Fp32, s_row16, data);
            writer.Complete();
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = InferFrameWriter.BeginResponse(output, 1, new InferResponseHead("m"u8, "1"u8, 0, 0, 1), length);
            writer.WriteTensor("y"u8, DataType.Fp32, s_row16, data);
            writer.WriteTensor("z"u8, DataType.Fp32, s_row16, data);
        });
        Assert.Throws<ArgumentException>(() =>
        {
            var writer = InferFrameWriter.BeginResponse(output, 1, new InferResponseHead("m"u8, "1"u8, 0, 0, 1), length);
            writer.WriteTensor("y"u8, DataType.Fp32, s_row16, data.AsSpan(1));
        });
        Assert.Throws<ArgumentException>(() =>
        {
            var writer = InferFrameWriter.BeginResponse(output, 1, new InferResponseHead("m"u8, "1"u8, 0, 0, 1), length);
            writer.WriteTensor(new byte[256], DataType.Fp32, s_row16, data);
        });
    }

    [Fact]
    public void Tensor_data_can_be_written_in_pieces()
    {
        var expected = FrameReaderTests.Find("infer_response_add_sub").Encode();
        var response = SampleFrames.AddSubResponse();
        var head = new InferResponseHead("add_sub"u8, "1"u8, 12, 9, 2);
        var length = InferLayout.Head(head);
        foreach (var output in response.Outputs)
            length = InferLayout.AddTensor(length, output.Name.Length, 2, output.Data.Length);
        var buffer = new ArrayBufferWriter<byte>();
        var writer = InferFrameWriter.BeginResponse(buffer, 1, head, length);
        foreach (var output in response.Outputs)
        {
            writer.WriteTensorDescriptor(Encoding.UTF8.GetBytes(output.Name), DataType.Fp32, output.Shape, output.Data.Length);
            writer.WriteTensorData(output.Data.AsSpan(0, 10));
            writer.WriteTensorData(output.Data.AsSpan(10));
        }
        writer.Complete();
        Assert.Equal(expected, buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Reading_and_writing_add_sub_allocates_nothing()
    {
        var request = FrameReaderTests.Find("infer_request_add_sub").Encode();
        var output = new ArrayBufferWriter<byte>(4096);
        var sum = new byte[64];
        var difference = new byte[64];
        RoundTrip(request, output, sum, difference);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            RoundTrip(request, output, sum, difference);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(FrameReaderTests.Find("infer_response_add_sub").Encode(), output.WrittenSpan.ToArray());
    }

    /// <summary>The transport's hot path for add_sub: read the request frame, write the response frame.</summary>
    private static void RoundTrip(byte[] request, ArrayBufferWriter<byte> output, byte[] sum, byte[] difference)
    {
        output.ResetWrittenCount();
        var buffer = new ReadOnlySequence<byte>(request);
        Assert.True(FrameReader.TryReadFrame(ref buffer, FrameLimits.DefaultMaxPayloadLength, out var header, out var payload));
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferRequestReader(payload, scratch);
        Span<long> shape = stackalloc long[2];
        var inputs = 0;
        while (reader.TryReadInput(out var tensor))
        {
            tensor.Shape.CopyTo(shape);
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.Data.FirstSpan);
            var s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(sum.AsSpan());
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(difference.AsSpan());
            for (var i = 0; i < values.Length; i++)
            {
                s[i] = inputs == 0 ? values[i] : s[i] + values[i];
                d[i] = inputs == 0 ? values[i] : d[i] - values[i];
            }
            inputs++;
        }

        var head = new InferResponseHead("add_sub"u8, "1"u8, 12, 9, 2);
        var length = InferLayout.AddTensor(InferLayout.AddTensor(InferLayout.Head(head), 7, 2, 64), 7, 2, 64);
        var writer = InferFrameWriter.BeginResponse(output, header.RequestId, head, length);
        writer.WriteTensor("OUTPUT0"u8, DataType.Fp32, shape, sum);
        writer.WriteTensor("OUTPUT1"u8, DataType.Fp32, shape, difference);
        writer.Complete();
    }

    private static int CheckInPlace(byte[] frame, in WireTensor tensor)
    {
        if (tensor.Data.IsEmpty)
            return 1;
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(tensor.Data.First, out var segment));
        Assert.Same(frame, segment.Array);
        Assert.Equal(0, (segment.Offset - FrameHeader.Size) % FrameLimits.TensorAlignment);
        return 1;
    }

    private static void ReadAll(ReadOnlySequence<byte> payload)
    {
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferRequestReader(payload, scratch);
        while (reader.TryReadRequestedOutput(out _))
        {
        }
        while (reader.TryReadInput(out _))
        {
        }
    }

    private static byte[] Bytes(PayloadBuilder builder) => builder.ToSequence().ToArray();
}
