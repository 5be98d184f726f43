using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// The answer to one request, passed to <see cref="IInferenceCompletion.Complete"/>. A ref struct
/// because its output spans point into the batch's output buffers, which are reused after the call.
/// </summary>
public readonly ref struct InferenceResponse
{
    private readonly ReadOnlySpan<ResponseOutput> _outputs;

    public InferenceResponse(string modelName, string modelVersion, ReadOnlySpan<ResponseOutput> outputs, long queueTicks, long computeTicks)
    {
        ModelName = modelName;
        ModelVersion = modelVersion;
        _outputs = outputs;
        QueueTicks = queueTicks;
        ComputeTicks = computeTicks;
        Error = ErrorCode.Ok;
        ErrorMessage = null;
    }

    private InferenceResponse(ErrorCode error, string message, string modelName, string modelVersion)
    {
        ModelName = modelName;
        ModelVersion = modelVersion;
        _outputs = default;
        Error = error;
        ErrorMessage = message;
    }

    /// <summary>An error found before any version was chosen (unknown model, not ready): no version to name.</summary>
    public static InferenceResponse Failure(ErrorCode error, string message) => new(error, message, "", "");

    /// <summary>An error of the version the request was routed to; front doors tell the client which one.</summary>
    public static InferenceResponse Failure(ErrorCode error, string message, string modelName, string modelVersion) =>
        new(error, message, modelName, modelVersion);

    public ErrorCode Error { get; }
    public string? ErrorMessage { get; }
    public bool IsSuccess => Error == ErrorCode.Ok;

    public string ModelName { get; }
    /// <summary>The version that answered, or refused (A/B routing makes this worth telling the client); "" when none was chosen.</summary>
    public string ModelVersion { get; }

    /// <summary>Time spent queued and running, in <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
    public long QueueTicks { get; }
    public long ComputeTicks { get; }

    public ReadOnlySpan<ResponseOutput> Outputs => _outputs;
}

/// <summary>One output tensor of one request: its rows of the batch output, not a copy.</summary>
public readonly unsafe struct ResponseOutput(string name, DataType dataType, long[] shape, byte* data, int length)
{
    public string Name { get; } = name;
    public DataType DataType { get; } = dataType;
    /// <summary>
    /// This request's shape (batch dimension = its own row count). Like <see cref="Data"/>, valid only
    /// during <see cref="IInferenceCompletion.Complete"/>: the scheduler reuses the array.
    /// </summary>
    public long[] Shape { get; } = shape;
    /// <summary>Valid only during <see cref="IInferenceCompletion.Complete"/>.</summary>
    public ReadOnlySpan<byte> Data => new(data, length);
}
