using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client;

/// <summary>
/// The answer to an inference: the response payload in one pooled buffer, its outputs read in
/// place. Dispose it to give the buffer back; the spans it handed out are invalid from then on.
/// </summary>
public sealed class InferResult : IDisposable
{
    private byte[] _buffer;
    private OutputEntry[] _outputs;
    private long[] _dims;
    private readonly Range _modelName;
    private readonly Range _modelVersion;

    /// <summary>
    /// Takes ownership of <paramref name="buffer"/> (an <see cref="ArrayPool{T}"/> array) holding an
    /// InferResponse payload of <paramref name="length"/> bytes at <paramref name="offset"/>, and indexes its outputs.
    /// </summary>
    internal InferResult(byte[] buffer, int offset, int length)
    {
        _buffer = buffer;
        _outputs = [];
        _dims = [];
        try
        {
            Span<byte> scratch = stackalloc byte[InferScratch.Size];
            var reader = new InferResponseReader(new ReadOnlySequence<byte>(buffer, offset, length), scratch);
            var head = reader.Head;
            _modelName = RangeOf(head.ModelName);
            _modelVersion = RangeOf(head.ModelVersion);
            QueueTime = TimeSpan.FromMicroseconds(head.QueueMicroseconds);
            ComputeTime = TimeSpan.FromMicroseconds(head.ComputeMicroseconds);
            _outputs = ArrayPool<OutputEntry>.Shared.Rent(head.OutputCount);
            _dims = ArrayPool<long>.Shared.Rent(head.OutputCount * FrameLimits.MaxRank);
            var dims = 0;
            while (reader.TryReadOutput(out var tensor))
            {
                // A single-segment payload: names and data are spans of our own buffer.
                tensor.Shape.CopyTo(_dims.AsSpan(dims));
                _outputs[OutputCount++] = new OutputEntry(RangeOf(tensor.Name), tensor.DataType, new Range(dims, dims + tensor.Shape.Length), RangeOf(tensor.Data.FirstSpan));
                dims += tensor.Shape.Length;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string ModelName => Encoding.UTF8.GetString(Buffer[_modelName]);

    /// <summary>The version that answered.</summary>
    public string ModelVersion => Encoding.UTF8.GetString(Buffer[_modelVersion]);

    /// <summary>Time the request waited in the server's queue.</summary>
    public TimeSpan QueueTime { get; }

    /// <summary>Run time of the batch that held the request.</summary>
    public TimeSpan ComputeTime { get; }

    public int OutputCount { get; private set; }

    public InferOutput this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)OutputCount, nameof(index));
            var entry = _outputs[index];
            return new InferOutput(Buffer[entry.Name], entry.DataType, _dims.AsSpan(entry.Shape), Buffer[entry.Data]);
        }
    }

    /// <summary>The output with this name; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public InferOutput this[string name] =>
        TryGetOutput(name, out var output) ? output : throw new KeyNotFoundException($"The result has no output '{name}'.");

    public bool TryGetOutput(string name, out InferOutput output)
    {
        Span<byte> utf8 = stackalloc byte[FrameLimits.MaxNameLength];
        if (Encoding.UTF8.TryGetBytes(name, utf8, out var length))
        {
            for (var i = 0; i < OutputCount; i++)
            {
                if (Buffer[_outputs[i].Name].SequenceEqual(utf8[..length]))
                {
                    output = this[i];
                    return true;
                }
            }
        }
        output = default;
        return false;
    }

    private ReadOnlySpan<byte> Buffer => _buffer is { Length: > 0 } buffer ? buffer : throw new ObjectDisposedException(nameof(InferResult));

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length == 0)
            return;
        ArrayPool<byte>.Shared.Return(buffer);
        if (_outputs.Length > 0)
            ArrayPool<OutputEntry>.Shared.Return(_outputs);
        if (_dims.Length > 0)
            ArrayPool<long>.Shared.Return(_dims);
        _outputs = [];
        _dims = [];
        OutputCount = 0;
    }

    /// <summary>Where a span of the payload lies in the buffer.</summary>
    private Range RangeOf(ReadOnlySpan<byte> span)
    {
        if (span.IsEmpty)
            return default;
        var start = (int)Unsafe.ByteOffset(ref MemoryMarshal.GetArrayDataReference(_buffer), ref MemoryMarshal.GetReference(span));
        return new Range(start, start + span.Length);
    }

    private readonly record struct OutputEntry(Range Name, DataType DataType, Range Shape, Range Data);
}

/// <summary>One output of an <see cref="InferResult"/>, read in place; valid until the result is disposed.</summary>
public readonly ref struct InferOutput(ReadOnlySpan<byte> nameUtf8, DataType dataType, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
{
    public ReadOnlySpan<byte> NameUtf8 { get; } = nameUtf8;
    public string Name => Encoding.UTF8.GetString(NameUtf8);
    public DataType DataType { get; } = dataType;
    public ReadOnlySpan<long> Shape { get; } = shape;

    /// <summary>Raw little-endian row-major bytes (BYTES: a u32 length before each element).</summary>
    public ReadOnlySpan<byte> Data { get; } = data;

    /// <summary>The data as elements of <typeparamref name="T"/>, which must match <see cref="DataType"/>.</summary>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        if (InferRequest.DataTypeOf<T>() != DataType)
            throw new InvalidOperationException($"The output is {DataType.WireName()}, not {typeof(T).Name}.");
        return MemoryMarshal.Cast<byte, T>(Data);
    }
}
