using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client;

/// <summary>
/// An inference request: the model, its input tensors and the outputs wanted. It only references
/// the input data (no copy until the frame is written), and may be reused for many calls, also
/// concurrently, as long as it is not changed meanwhile. Both clients (binary and HTTP) take it.
/// </summary>
public sealed class InferRequest
{
    private readonly List<InferInput> _inputs = [];
    private readonly List<string> _requestedOutputs = [];
    private string? _routingKey;

    /// <param name="modelName">The model to run.</param>
    /// <param name="modelVersion">A version, or null for the one the server's version policy serves.</param>
    public InferRequest(string modelName, string? modelVersion = null)
    {
        CheckName(modelName, nameof(modelName));
        if (modelVersion is not null)
            CheckName(modelVersion, nameof(modelVersion));
        ModelName = modelName;
        ModelVersion = modelVersion;
    }

    public string ModelName { get; }

    public string? ModelVersion { get; }

    /// <summary>1 is the highest; 0 uses the model's default.</summary>
    public byte Priority { get; set; }

    /// <summary>Requests with the same key reach the same model version (sticky A/B routing).</summary>
    public string? RoutingKey
    {
        get => _routingKey;
        set
        {
            if (value is not null)
                CheckName(value, nameof(value));
            _routingKey = value;
        }
    }

    public IReadOnlyList<InferInput> Inputs => _inputs;

    /// <summary>Output names to return; empty returns every output.</summary>
    public IReadOnlyList<string> RequestedOutputs => _requestedOutputs;

    /// <summary>Adds an input of raw little-endian row-major bytes (BYTES: a u32 length before each element).</summary>
    public InferRequest AddInput(string name, DataType dataType, long[] shape, ReadOnlyMemory<byte> data)
    {
        _inputs.Add(InferInput.Create(name, dataType, shape, data, null));
        return this;
    }

    /// <summary>Adds an input over an array of a fixed-size element type (float, int, long, Half, bool, ...), without copying it.</summary>
    public InferRequest AddInput<T>(string name, long[] shape, T[] data)
        where T : unmanaged
    {
        _inputs.Add(InferInput.Create(name, DataTypeOf<T>(), shape, default, data));
        return this;
    }

    public InferRequest AddRequestedOutput(string name)
    {
        CheckName(name, nameof(name));
        _requestedOutputs.Add(name);
        return this;
    }

    /// <summary>Removes every input, to fill the request again.</summary>
    public void ClearInputs() => _inputs.Clear();

    /// <summary>Writes the InferRequest frame. <paramref name="timeout"/> is sent as the server-side deadline.</summary>
    internal void WriteFrame(IBufferWriter<byte> output, ulong requestId, TimeSpan timeout)
    {
        Span<byte> model = stackalloc byte[FrameLimits.MaxNameLength];
        Span<byte> version = stackalloc byte[FrameLimits.MaxNameLength];
        Span<byte> routingKey = stackalloc byte[FrameLimits.MaxNameLength];
        Span<byte> name = stackalloc byte[FrameLimits.MaxNameLength];
        var head = new InferRequestHead(
            model[..Encoding.UTF8.GetBytes(ModelName, model)],
            version[..Encoding.UTF8.GetBytes(ModelVersion ?? "", version)],
            TimeoutMicroseconds(timeout),
            Priority,
            routingKey[..Encoding.UTF8.GetBytes(_routingKey ?? "", routingKey)],
            _requestedOutputs.Count,
            _inputs.Count);

        var length = InferLayout.Head(head);
        foreach (var requested in _requestedOutputs)
            length = InferLayout.AddName(length, Encoding.UTF8.GetByteCount(requested));
        foreach (var input in _inputs)
            length = InferLayout.AddTensor(length, Encoding.UTF8.GetByteCount(input.Name), input.Shape.Length, input.ByteLength);

        var writer = InferFrameWriter.BeginRequest(output, requestId, head, length);
        foreach (var requested in _requestedOutputs)
            writer.WriteRequestedOutput(name[..Encoding.UTF8.GetBytes(requested, name)]);
        foreach (var input in _inputs)
            writer.WriteTensor(name[..Encoding.UTF8.GetBytes(input.Name, name)], input.DataType, input.Shape, input.Data);
        writer.Complete();
    }

    private static uint TimeoutMicroseconds(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? 0 : (uint)Math.Clamp(timeout.TotalMicroseconds, 1, uint.MaxValue);

    internal static void CheckName(string name, string parameter)
    {
        var length = Encoding.UTF8.GetByteCount(name);
        if (length is 0 or > FrameLimits.MaxNameLength)
            throw new ArgumentException($"A name is 1 to {FrameLimits.MaxNameLength} UTF-8 bytes: '{name}'.", parameter);
    }

    /// <summary>The datatype of a .NET element type.</summary>
    public static DataType DataTypeOf<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return DataType.Fp32;
        if (typeof(T) == typeof(double))
            return DataType.Fp64;
        if (typeof(T) == typeof(Half))
            return DataType.Fp16;
        if (typeof(T) == typeof(int))
            return DataType.Int32;
        if (typeof(T) == typeof(long))
            return DataType.Int64;
        if (typeof(T) == typeof(short))
            return DataType.Int16;
        if (typeof(T) == typeof(sbyte))
            return DataType.Int8;
        if (typeof(T) == typeof(uint))
            return DataType.UInt32;
        if (typeof(T) == typeof(ulong))
            return DataType.UInt64;
        if (typeof(T) == typeof(ushort))
            return DataType.UInt16;
        if (typeof(T) == typeof(byte))
            return DataType.UInt8;
        if (typeof(T) == typeof(bool))
            return DataType.Bool;
        throw new NotSupportedException($"{typeof(T)} has no tensor datatype; pass its bytes with an explicit DataType.");
    }
}

/// <summary>One input tensor of an <see cref="InferRequest"/>: a reference to the caller's data, not a copy.</summary>
public readonly struct InferInput
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly Array? _array;

    private InferInput(string name, DataType dataType, long[] shape, ReadOnlyMemory<byte> bytes, Array? array, int byteLength)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        _bytes = bytes;
        _array = array;
        ByteLength = byteLength;
    }

    public string Name { get; }
    public DataType DataType { get; }
    public long[] Shape { get; }
    public int ByteLength { get; }

    /// <summary>The raw bytes; for an array input, a view of the array's memory.</summary>
    public ReadOnlySpan<byte> Data => _array is null
        ? _bytes.Span
        : MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(_array), ByteLength);

    internal static InferInput Create(string name, DataType dataType, long[] shape, ReadOnlyMemory<byte> bytes, Array? array)
    {
        InferRequest.CheckName(name, nameof(name));
        if (dataType is < DataType.Bool or > DataType.Bytes)
            throw new ArgumentOutOfRangeException(nameof(dataType));
        if (shape.Length > FrameLimits.MaxRank)
            throw new ArgumentException($"A tensor's rank is at most {FrameLimits.MaxRank}.", nameof(shape));
        long elements = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException("Dimensions are non-negative.", nameof(shape));
            elements = checked(elements * dim);
        }
        var byteLength = array is null ? bytes.Length : checked(array.Length * dataType.ElementSize());
        if (dataType != DataType.Bytes && elements * dataType.ElementSize() != byteLength)
            throw new ArgumentException($"'{name}': {byteLength} bytes do not hold {elements} {dataType.WireName()} elements.", nameof(shape));
        return new InferInput(name, dataType, shape, bytes, array, byteLength);
    }
}
