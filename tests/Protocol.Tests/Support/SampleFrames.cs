namespace HighPerfInference.Protocol.Tests.Support;

/// <summary>
/// One valid frame of every message type, with options and datatypes worth covering. They are the
/// golden frames (Golden/&lt;name&gt;.hex, also read by the Python client's tests), the valid-frame
/// table and the fuzzer's seeds.
/// </summary>
public static class SampleFrames
{
    public static readonly IReadOnlyList<(string Name, Frame Frame)> All =
    [
        ("hello", new Frame(MessageType.Hello, 0, new Hello(1, 1, "hpi-test", "s3cret"))),
        ("hello_ack", new Frame(MessageType.HelloAck, 0, new HelloAck(1, FrameLimits.DefaultMaxPayloadLength, 128, 30_000, "HighPerfInference", "1.0.0"))),
        ("infer_request_add_sub", new Frame(MessageType.InferRequest, 1, AddSubRequest())),
        ("infer_response_add_sub", new Frame(MessageType.InferResponse, 1, AddSubResponse())),
        ("infer_request_options", new Frame(MessageType.InferRequest, 0x0102030405060708, new InferRequestModel(
            "identity_all_types", "1", 250_000, 2, "user-42", ["OUT_BYTES", "OUT_INT64"],
            [
                TensorModel.Strings("IN_BYTES", [1, 3], "ab", "", "h\u00e9llo"),
                new TensorModel("IN_INT64", DataType.Int64, [1, 2], [.. BitConverter.GetBytes(-1L), .. BitConverter.GetBytes(1L << 40)]),
                new TensorModel("IN_BOOL", DataType.Bool, [], [1]),
                new TensorModel("IN_FP16", DataType.Fp16, [1, 0], []),
            ]))),
        ("infer_response_bytes", new Frame(MessageType.InferResponse, 0x0102030405060708, new InferResponseModel(
            "identity_all_types", "1", 0, uint.MaxValue,
            [
                TensorModel.Strings("OUT_BYTES", [1, 3], "ab", "", "h\u00e9llo"),
                new TensorModel("OUT_INT64", DataType.Int64, [1, 2], [.. BitConverter.GetBytes(-1L), .. BitConverter.GetBytes(1L << 40)]),
            ]))),
        ("error_not_found", new Frame(MessageType.Error, 7, new ErrorMessage(ErrorCode.NotFound, "model 'nope' is not found"))),
        ("error_fatal", new Frame(MessageType.Error, 0, new ErrorMessage(ErrorCode.ProtocolError, "Frame does not start with the magic 'HPIB'."))),
        ("goaway", new Frame(MessageType.GoAway, 0, new GoAway(41, ErrorCode.ShuttingDown, "server is shutting down"))),
        ("ping", new Frame(MessageType.Ping, 0, 0x1122334455667788UL)),
        ("pong", new Frame(MessageType.Pong, 5, 0x1122334455667788UL)),
        ("cancel", new Frame(MessageType.Cancel, 3, null)),
        ("server_ready_request", new Frame(MessageType.ServerReadyRequest, 9, null)),
        ("server_ready_response", new Frame(MessageType.ServerReadyResponse, 9, true)),
        ("model_ready_request", new Frame(MessageType.ModelReadyRequest, 10, new ModelRequest("add_sub", ""))),
        ("model_ready_response", new Frame(MessageType.ModelReadyResponse, 10, false)),
        ("model_metadata_request", new Frame(MessageType.ModelMetadataRequest, 11, new ModelRequest("add_sub", "1"))),
        ("model_metadata_response", new Frame(MessageType.ModelMetadataResponse, 11, new ModelMetadata(
            "add_sub", ["1"], "onnxruntime_onnx",
            [new TensorMetadata("INPUT0", DataType.Fp32, [-1, 16]), new TensorMetadata("INPUT1", DataType.Fp32, [-1, 16])],
            [new TensorMetadata("OUTPUT0", DataType.Fp32, [-1, 16]), new TensorMetadata("OUTPUT1", DataType.Fp32, [-1, 16])]))),
    ];

    /// <summary>add_sub's inputs: INPUT0 = 0..15, INPUT1 = all ones, FP32 [1,16].</summary>
    public static InferRequestModel AddSubRequest() => new("add_sub", "", 0, 0, "", [],
        [TensorModel.Fp32("INPUT0", [1, 16], Range(i => i)), TensorModel.Fp32("INPUT1", [1, 16], Range(_ => 1))]);

    /// <summary>add_sub's answer to <see cref="AddSubRequest"/>: the sum and the difference.</summary>
    public static InferResponseModel AddSubResponse() => new("add_sub", "1", 12, 9,
        [TensorModel.Fp32("OUTPUT0", [1, 16], Range(i => i + 1)), TensorModel.Fp32("OUTPUT1", [1, 16], Range(i => i - 1))]);

    private static float[] Range(Func<int, float> value)
    {
        var values = new float[16];
        for (var i = 0; i < values.Length; i++)
            values[i] = value(i);
        return values;
    }
}
