using System.Buffers;
using System.Text;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// An ORT value (<c>OrtValue</c>): a tensor over caller-owned memory, a tensor ORT allocated (an output,
/// a string tensor), or a non-tensor output (sequence, map).
/// <para>Lifetimes. A tensor made by <see cref="CreateTensor(TensorElementType, ReadOnlySpan{long}, nint, nuint)"/>
/// only points at the caller's memory: that memory must stay valid, unmoved, until this value is disposed
/// and every Run using it has returned. Spans from <see cref="Shape"/>, <see cref="GetTensorData{T}"/> and
/// <see cref="GetTensorBytes"/> point straight into native memory: they are valid until this value is
/// disposed (and, over caller memory, while that memory lives); reading them afterwards reads freed memory.
/// Spans are for CPU tensors; a tensor in device memory exposes only <see cref="DataPointer"/>.</para>
/// </summary>
public sealed unsafe class OrtValue : IDisposable
{
    internal OrtValue(ValueHandle handle)
    {
        Handle = handle;
    }

    internal ValueHandle Handle { get; }

    /// <summary>The native <c>OrtValue*</c>; throws once disposed, so a Run can never pass a freed value.</summary>
    internal nint Pointer => Handle.GetPointer(this);

    /// <summary>A tensor over caller-owned CPU memory, without copying. See the class remarks for lifetimes.</summary>
    public static OrtValue CreateTensor(TensorElementType type, ReadOnlySpan<long> shape, nint data, nuint byteLength) =>
        CreateTensor(OrtMemoryInfo.Cpu, type, shape, data, byteLength);

    /// <summary>A tensor over caller-owned memory described by <paramref name="memoryInfo"/> (CPU, CUDA, CUDA pinned).</summary>
    public static OrtValue CreateTensor(OrtMemoryInfo memoryInfo, TensorElementType type, ReadOnlySpan<long> shape, nint data, nuint byteLength)
    {
        ArgumentNullException.ThrowIfNull(memoryInfo);
        if (type is TensorElementType.String or TensorElementType.Undefined)
            throw new ArgumentException($"A {type} tensor cannot wrap caller memory; use CreateStringTensor for strings.", nameof(type));
        nint value;
        fixed (long* dims = shape)
            OrtStatus.Check(OrtApi.CreateTensorWithDataAsOrtValue(memoryInfo.Pointer, data, byteLength, dims, (nuint)shape.Length, (int)type, &value));
        GC.KeepAlive(memoryInfo);
        return new OrtValue(new ValueHandle(value));
    }

    /// <summary>A tensor whose memory ORT allocates with its default CPU allocator (contents undefined); freed on dispose.</summary>
    public static OrtValue CreateTensor(TensorElementType type, ReadOnlySpan<long> shape)
    {
        nint value;
        fixed (long* dims = shape)
            OrtStatus.Check(OrtApi.CreateTensorAsOrtValue(OrtAllocator.Default, dims, (nuint)shape.Length, (int)type, &value));
        return new OrtValue(new ValueHandle(value));
    }

    /// <summary>A string tensor of empty strings; fill it with <see cref="SetStringElement(long, ReadOnlySpan{byte})"/>.</summary>
    public static OrtValue CreateStringTensor(ReadOnlySpan<long> shape) => CreateTensor(TensorElementType.String, shape);

    /// <summary>A string tensor holding <paramref name="values"/> (UTF-8), one per element in row-major order.</summary>
    public static OrtValue CreateStringTensor(ReadOnlySpan<long> shape, ReadOnlySpan<string> values)
    {
        var tensor = CreateStringTensor(shape);
        try
        {
            if (tensor.ElementCount != values.Length)
                throw new ArgumentException($"The shape holds {tensor.ElementCount} elements but {values.Length} strings were given.", nameof(values));
            for (int i = 0; i < values.Length; i++)
                tensor.SetStringElement(i, values[i]);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Sets one element of a string tensor to these bytes (binary-safe: NULs are kept).</summary>
    public void SetStringElement(long index, ReadOnlySpan<byte> bytes)
    {
        byte* buffer;
        OrtStatus.Check(OrtApi.GetResizedStringTensorElementBuffer(Pointer, (nuint)index, (nuint)bytes.Length, &buffer));
        bytes.CopyTo(new Span<byte>(buffer, bytes.Length));
    }

    /// <summary>Sets one element of a string tensor to the UTF-8 encoding of <paramref name="value"/>.</summary>
    public void SetStringElement(long index, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int length = Encoding.UTF8.GetByteCount(value);
        byte* buffer;
        OrtStatus.Check(OrtApi.GetResizedStringTensorElementBuffer(Pointer, (nuint)index, (nuint)length, &buffer));
        Encoding.UTF8.GetBytes(value, new Span<byte>(buffer, length));
    }

    public OnnxValueType ValueType
    {
        get
        {
            int type;
            OrtStatus.Check(OrtApi.GetValueType(Pointer, &type));
            return (OnnxValueType)type;
        }
    }

    public bool IsTensor => ValueType == OnnxValueType.Tensor;

    public TensorElementType ElementType
    {
        get
        {
            Describe(out var type, out _);
            return type;
        }
    }

    /// <summary>The tensor's dimensions, read in place from the value (no copy, no allocation).</summary>
    public ReadOnlySpan<long> Shape
    {
        get
        {
            Describe(out _, out var shape);
            return shape;
        }
    }

    /// <summary>A copy of <see cref="Shape"/>.</summary>
    public long[] GetShape() => Shape.ToArray();

    /// <summary>The number of elements (the product of the dimensions; 1 for a scalar).</summary>
    public long ElementCount => ElementCountOf(Shape);

    /// <summary>The address of the tensor's data (CPU or device memory).</summary>
    public nint DataPointer
    {
        get
        {
            nint data;
            OrtStatus.Check(OrtApi.GetTensorMutableData(Pointer, &data));
            return data;
        }
    }

    /// <summary>
    /// The tensor's elements as a span over its native memory, without copying. <typeparamref name="T"/> must
    /// have the element type's size (for example <see cref="Half"/> for Float16, <see cref="ushort"/> for
    /// BFloat16, <see cref="bool"/> or <see cref="byte"/> for Bool). Valid until this value is disposed.
    /// </summary>
    public Span<T> GetTensorData<T>()
        where T : unmanaged
    {
        Describe(out var type, out var shape);
        if (type == TensorElementType.String || type.SizeOf() != sizeof(T))
            throw new InvalidOperationException($"A {type} tensor cannot be read as {typeof(T).Name}.");
        nint data;
        OrtStatus.Check(OrtApi.GetTensorMutableData(Pointer, &data));
        return new Span<T>((void*)data, checked((int)ElementCountOf(shape)));
    }

    /// <summary>The tensor's raw bytes as a span over its native memory, without copying. Not for string tensors.</summary>
    public Span<byte> GetTensorBytes()
    {
        nuint size;
        nint data;
        OrtStatus.Check(OrtApi.GetTensorSizeInBytes(Pointer, &size));
        OrtStatus.Check(OrtApi.GetTensorMutableData(Pointer, &data));
        return new Span<byte>((void*)data, checked((int)size));
    }

    /// <summary>The byte length of one element of a string tensor.</summary>
    public int GetStringElementByteCount(long index)
    {
        nuint length;
        OrtStatus.Check(OrtApi.GetStringTensorElementLength(Pointer, (nuint)index, &length));
        return checked((int)length);
    }

    /// <summary>Copies one element of a string tensor into <paramref name="destination"/>; returns its byte length.</summary>
    public int CopyStringElement(long index, Span<byte> destination)
    {
        int length = GetStringElementByteCount(index);
        if (destination.Length < length)
            throw new ArgumentException($"The element is {length} bytes; the destination holds {destination.Length}.", nameof(destination));
        fixed (byte* target = destination)
            OrtStatus.Check(OrtApi.GetStringTensorElement(Pointer, (nuint)length, (nuint)index, target));
        return length;
    }

    /// <summary>Every element of a string tensor, decoded as UTF-8.</summary>
    public string[] GetStrings()
    {
        nint value = Pointer;
        int count = checked((int)ElementCount);
        nuint byteLength;
        OrtStatus.Check(OrtApi.GetStringTensorDataLength(value, &byteLength));

        byte[] bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, checked((int)byteLength)));
        nuint[] offsets = ArrayPool<nuint>.Shared.Rent(Math.Max(1, count));
        try
        {
            fixed (byte* content = bytes)
            fixed (nuint* starts = offsets)
                OrtStatus.Check(OrtApi.GetStringTensorContent(value, content, byteLength, starts, (nuint)count));

            var strings = new string[count];
            for (int i = 0; i < count; i++)
            {
                int start = (int)offsets[i];
                int end = i + 1 < count ? (int)offsets[i + 1] : (int)byteLength;
                strings[i] = Encoding.UTF8.GetString(bytes, start, end - start);
            }
            return strings;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<nuint>.Shared.Return(offsets);
        }
    }

    public void Dispose() => Handle.Dispose();

    private void Describe(out TensorElementType type, out ReadOnlySpan<long> shape)
    {
        int elementType;
        long* dims;
        nuint rank;
        OrtStatus.Check(OrtApi.GetTensorElementTypeAndShapeDataReference(Pointer, &elementType, &dims, &rank));
        type = (TensorElementType)elementType;
        shape = new ReadOnlySpan<long>(dims, (int)rank);
    }

    private static long ElementCountOf(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long dim in shape)
            count *= dim;
        return count;
    }
}
