namespace HighPerfInference.Protocol;

/// <summary>
/// The fields of an infer request before its tensors:
/// <code>
/// name model | name version | u32 timeout us | u8 priority | name routing key |
/// u16 requested output count | u16 input count | names of requested outputs | input tensors
/// </code>
/// (a "name" is a u8 length and that many UTF-8 bytes).
/// </summary>
public readonly ref struct InferRequestHead(
    ReadOnlySpan<byte> modelName,
    ReadOnlySpan<byte> modelVersion,
    uint timeoutMicroseconds,
    byte priority,
    ReadOnlySpan<byte> routingKey,
    int requestedOutputCount,
    int inputCount)
{
    public ReadOnlySpan<byte> ModelName { get; } = modelName;
    /// <summary>Empty: the server's version policy (and A/B split) chooses.</summary>
    public ReadOnlySpan<byte> ModelVersion { get; } = modelVersion;
    /// <summary>0: the model's default queue policy.</summary>
    public uint TimeoutMicroseconds { get; } = timeoutMicroseconds;
    /// <summary>1 is the highest; 0: the model's default.</summary>
    public byte Priority { get; } = priority;
    /// <summary>Requests with the same key reach the same model version; empty: no stickiness.</summary>
    public ReadOnlySpan<byte> RoutingKey { get; } = routingKey;
    /// <summary>0: every output.</summary>
    public int RequestedOutputCount { get; } = requestedOutputCount;
    public int InputCount { get; } = inputCount;

    internal long Length => 1 + ModelName.Length + 1 + ModelVersion.Length + 4 + 1 + 1 + RoutingKey.Length + 2 + 2;
}

/// <summary>
/// The fields of an infer response before its tensors:
/// <code>
/// name model | name version | u32 queue us | u32 compute us | u16 output count | output tensors
/// </code>
/// </summary>
public readonly ref struct InferResponseHead(
    ReadOnlySpan<byte> modelName,
    ReadOnlySpan<byte> modelVersion,
    uint queueMicroseconds,
    uint computeMicroseconds,
    int outputCount)
{
    public ReadOnlySpan<byte> ModelName { get; } = modelName;
    /// <summary>The version that answered.</summary>
    public ReadOnlySpan<byte> ModelVersion { get; } = modelVersion;
    /// <summary>Time the request waited in the server's queue.</summary>
    public uint QueueMicroseconds { get; } = queueMicroseconds;
    /// <summary>Time the batch holding the request took to run.</summary>
    public uint ComputeMicroseconds { get; } = computeMicroseconds;
    public int OutputCount { get; } = outputCount;

    internal long Length => 1 + ModelName.Length + 1 + ModelVersion.Length + 4 + 4 + 2;
}

/// <summary>
/// Payload lengths of infer frames, computed before writing because the header comes first.
/// Start from a head and add each requested output name and each tensor in order:
/// <code>
/// var length = InferLayout.Head(head);
/// foreach (var output in outputs) length = InferLayout.AddTensor(length, nameLength, rank, byteLength);
/// </code>
/// </summary>
public static class InferLayout
{
    public static long Head(in InferRequestHead head) => head.Length;

    public static long Head(in InferResponseHead head) => head.Length;

    /// <summary>Adds a requested output name of <paramref name="nameLength"/> UTF-8 bytes.</summary>
    public static long AddName(long payloadLength, int nameLength) => payloadLength + 1 + nameLength;

    /// <summary>Adds a tensor: its descriptor, the pad that aligns its data to 8, and the data.</summary>
    public static long AddTensor(long payloadLength, int nameLength, int rank, long byteLength)
    {
        var descriptorEnd = payloadLength + TensorCodec.DescriptorLength(nameLength, rank);
        return descriptorEnd + TensorCodec.Padding(descriptorEnd) + byteLength;
    }
}
