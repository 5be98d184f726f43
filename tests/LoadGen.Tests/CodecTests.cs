using System.Buffers;
using System.Text;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Load;
using HighPerfInference.LoadGen.Wire;
using HighPerfInference.LoadGen.Workload;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Tests;

public class CodecTests
{
    private static readonly InputTensor[] s_addSubInputs =
    [
        new(new TensorSpec("INPUT0", DataType.Fp32, [1, 16]), InputData.Encode(DataType.Fp32, Enumerable.Range(0, 16).Select(i => (double)i).ToList())),
        new(new TensorSpec("INPUT1", DataType.Fp32, [1, 16]), new byte[64]),
    ];

    [Fact]
    public void Http_responses_with_a_content_length_or_chunks_are_read_whole()
    {
        var codec = new HttpCodec([]);
        var stream = Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 5\r\n\r\nhello" +
            "HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 1\r\n\r\n4\r\nbusy\r\n3;ext=1\r\n!!!\r\n0\r\nX-Trailer: t\r\n\r\n" +
            "HTTP/1.1 204 No Content\r\n\r\n");
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(stream));

        Assert.True(codec.TryReadResponse(ref reader, out _, out var first));
        Assert.Equal(0, first);
        Assert.True(codec.TryReadResponse(ref reader, out _, out var second));
        Assert.Equal(429, second);
        Assert.Equal("HTTP 429", codec.ErrorName(second));
        Assert.True(codec.TryReadResponse(ref reader, out _, out var third));
        Assert.Equal(0, third);
        Assert.True(reader.End);
    }

    [Fact]
    public void A_partial_http_response_consumes_nothing_at_every_split_point()
    {
        var codec = new HttpCodec([]);
        var response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        for (var cut = 0; cut < response.Length; cut++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(response, 0, cut));
            Assert.False(codec.TryReadResponse(ref reader, out _, out _));
            Assert.Equal(0, reader.Consumed);
        }
        // Split over one-byte segments, the whole response still reads.
        var segmented = new SequenceReader<byte>(OneBytePerSegment(response));
        Assert.True(codec.TryReadResponse(ref segmented, out _, out var status));
        Assert.Equal(0, status);
        Assert.True(segmented.End);
    }

    [Theory]
    [InlineData("SMTP ready\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n")]
    public void Garbage_is_a_bad_response(string text)
    {
        var codec = new HttpCodec([]);
        Assert.Throws<BadResponseException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)));
            codec.TryReadResponse(ref reader, out _, out _);
        });
    }

    [Fact]
    public void The_json_request_is_an_open_inference_protocol_body_with_exact_headers()
    {
        var request = Encoding.UTF8.GetString(HttpRequestBuilder.Build("127.0.0.1", 8000, "add_sub", null, s_addSubInputs, ["OUTPUT0"], binary: false));
        var split = request.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var body = request[(split + 4)..];
        Assert.StartsWith("POST /v2/models/add_sub/infer HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n", request, StringComparison.Ordinal);
        Assert.Contains($"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n", request, StringComparison.Ordinal);
        Assert.Equal(
            """{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"FP32","data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},""" +
            """{"name":"INPUT1","shape":[1,16],"datatype":"FP32","data":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}],"outputs":[{"name":"OUTPUT0"}]}""",
            body);
    }

    [Fact]
    public void The_binary_extension_request_puts_raw_tensors_after_its_json_header()
    {
        var bytes = HttpRequestBuilder.Build("h", 1, "add_sub", "3", s_addSubInputs, [], binary: true);
        var text = Encoding.Latin1.GetString(bytes);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var json = """{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}},""" +
            """{"name":"INPUT1","shape":[1,16],"datatype":"FP32","parameters":{"binary_data_size":64}}],"parameters":{"binary_data_output":true}}""";
        Assert.StartsWith("POST /v2/models/add_sub/versions/3/infer HTTP/1.1\r\n", text, StringComparison.Ordinal);
        Assert.Contains($"Inference-Header-Content-Length: {json.Length}\r\n", text, StringComparison.Ordinal);
        Assert.Contains($"Content-Length: {json.Length + 128}\r\n", text, StringComparison.Ordinal);
        Assert.Equal(json, text.Substring(split, json.Length));
        Assert.Equal(s_addSubInputs[0].Data, bytes.AsSpan(split + json.Length, 64).ToArray());
        Assert.Equal(bytes.Length, split + json.Length + 128);
    }

    [Fact]
    public void Binary_requests_are_valid_frames_that_differ_only_in_request_id()
    {
        var codec = new BinaryCodec(BinaryFrames.InferRequest("add_sub", null, s_addSubInputs, []));
        var output = new ArrayBufferWriter<byte>();
        codec.WriteRequest(output, 1);
        codec.WriteRequest(output, 42);
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        foreach (var expectedId in (ulong[])[1, 42])
        {
            Assert.True(FrameReader.TryReadFrame(ref buffer, FrameLimits.DefaultMaxPayloadLength, out var header, out var payload));
            Assert.Equal((MessageType.InferRequest, expectedId), (header.Type, header.RequestId));
            var request = new InferRequestReader(payload, scratch);
            Assert.True(request.Head.ModelName.SequenceEqual("add_sub"u8));
            Assert.True(request.TryReadInput(out var input0));
            Assert.True(input0.Name.SequenceEqual("INPUT0"u8));
            Assert.Equal(s_addSubInputs[0].Data, input0.Data.ToArray());
            Assert.True(request.TryReadInput(out _));
            Assert.False(request.TryReadInput(out _));
        }
    }

    [Fact]
    public void Binary_responses_and_error_frames_give_their_request_ids_and_codes()
    {
        var codec = new BinaryCodec([]);
        var output = new ArrayBufferWriter<byte>();
        BinaryFrames.WriteWithRequestId(output, BinaryFrames.InferResponse("add_sub", [new TensorSpec("OUTPUT0", DataType.Fp32, [1, 16])]), MessageType.InferResponse, 7);
        ErrorMessage.Write(output, 3, ErrorCode.Overloaded, "queue full");
        var stream = output.WrittenSpan.ToArray();

        var reader = new SequenceReader<byte>(OneBytePerSegment(stream));
        Assert.True(codec.TryReadResponse(ref reader, out var okId, out var okStatus));
        Assert.Equal((7ul, 0), (okId, okStatus));
        Assert.True(codec.TryReadResponse(ref reader, out var errorId, out var errorStatus));
        Assert.Equal((3ul, (int)ErrorCode.Overloaded), (errorId, errorStatus));
        Assert.Equal("OVERLOADED", codec.ErrorName(errorStatus));
        Assert.False(codec.TryReadResponse(ref reader, out _, out _));

        var partial = new SequenceReader<byte>(new ReadOnlySequence<byte>(stream, 0, 30));
        Assert.False(codec.TryReadResponse(ref partial, out _, out _));
        Assert.Equal(0, partial.Consumed);
    }

    [Fact]
    public void A_fatal_error_frame_ends_the_connection()
    {
        var output = new ArrayBufferWriter<byte>();
        ErrorMessage.Write(output, 0, ErrorCode.ProtocolError, "bad magic");
        var error = Assert.Throws<BadResponseException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
            new BinaryCodec([]).TryReadResponse(ref reader, out _, out _);
        });
        Assert.Contains("PROTOCOL_ERROR: bad magic", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Input_data_round_trips_through_every_fixed_size_datatype()
    {
        double[] values = [0, 1, 2, 100];
        foreach (var type in Enum.GetValues<DataType>())
        {
            if (type is DataType.Invalid or DataType.Bytes)
                continue;
            var expected = type == DataType.Bool ? [0, 1, 1, 1] : values;
            var bytes = InputData.Encode(type, values);
            Assert.Equal(values.Length * type.ElementSize(), bytes.Length);
            for (var i = 0; i < values.Length; i++)
                Assert.Equal(expected[i], InputData.Decode(type, bytes, i));
        }
    }

    [Fact]
    public void Input_data_comes_from_random_zeros_or_a_file()
    {
        var spec = new TensorSpec("X", DataType.Int32, [2, 2]);
        Assert.Equal(InputData.Create([spec], "random", 5)[0].Data, InputData.Create([spec], "random", 5)[0].Data);
        Assert.All(InputData.Create([spec], "zeros", 5)[0].Data, b => Assert.Equal(0, b));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """{"data": [{"X": [[1, 2], [3, 4]]}]}""");
            var data = InputData.Create([spec], path, 5)[0].Data;
            Assert.Equal([1.0, 2, 3, 4], Enumerable.Range(0, 4).Select(i => InputData.Decode(DataType.Int32, data, i)));
            File.WriteAllText(path, """{"X": [1, 2, 3]}""");
            Assert.Contains("has 3 values, its shape needs 4", Assert.Throws<UsageException>(() => InputData.Create([spec], path, 5)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Model_metadata_fills_the_batch_and_asks_for_other_dynamic_dimensions()
    {
        const string metadata = """
            {"name":"cls","versions":["1"],"platform":"onnxruntime_onnx",
             "inputs":[{"name":"x","datatype":"FP32","shape":[-1,3,48,-1]}],"outputs":[{"name":"y","datatype":"FP32","shape":[-1,2]}]}
            """;
        var error = Assert.Throws<UsageException>(() => ModelInputs.FromMetadata(metadata, new Dictionary<string, long[]>(), 8));
        Assert.Contains("--shape x:", error.Message, StringComparison.Ordinal);
        var given = ModelInputs.FromMetadata(metadata, new Dictionary<string, long[]> { ["x"] = [2, 3, 48, 192] }, 8);
        Assert.Equal([2L, 3, 48, 192], given[0].Shape);
        var addSub = ModelInputs.FromMetadata("""{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[-1,16]}]}""", new Dictionary<string, long[]>(), 8);
        Assert.Equal([8L, 16], addSub[0].Shape);
    }

    private static ReadOnlySequence<byte> OneBytePerSegment(byte[] bytes)
    {
        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
            last = last.Append(bytes.AsMemory(i, 1));
        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
