using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>
/// One tensor as it lies in an infer request or response payload. The data is a slice of the
/// received buffer (no copy); name and shape live in the reader's scratch or the payload, so all
/// of it is valid only while the payload buffer is and until the next tensor is read.
/// </summary>
public readonly ref struct WireTensor(ReadOnlySpan<byte> name, DataType dataType, ReadOnlySpan<long> shape, ReadOnlySequence<byte> data)
{
    /// <summary>UTF-8 name.</summary>
    public ReadOnlySpan<byte> Name { get; } = name;
    public DataType DataType { get; } = dataType;
    public ReadOnlySpan<long> Shape { get; } = shape;
    /// <summary>Raw little-endian row-major bytes; for BYTES each element is a u32 length then its bytes.</summary>
    public ReadOnlySequence<byte> Data { get; } = data;
}

/// <summary>
/// The tensor layout shared by requests and responses:
/// <code>
/// u8 name length | name | u8 datatype | u8 rank | i64 dims[rank] | u32 byte length | zero pad to 8 | data
/// </code>
/// The pad makes the data start at a payload offset that is a multiple of 8.
/// </summary>
internal static class TensorCodec
{
    /// <summary>Bytes of the descriptor before the pad.</summary>
    public static int DescriptorLength(int nameLength, int rank) => 1 + nameLength + 1 + 1 + (8 * rank) + 4;

    public static int Padding(long payloadOffset) => (int)(-payloadOffset & (FrameLimits.TensorAlignment - 1));

    public static WireTensor Read(scoped ref PayloadReader payload, Span<byte> nameSlot, Span<long> shape)
    {
        var name = payload.ReadName(nameSlot);
        if (name.IsEmpty)
            ThrowHelper.ThrowInvalid("A tensor name is empty.");
        var dataType = (DataType)payload.ReadU8();
        if (dataType is < DataType.Bool or > DataType.Bytes)
            ThrowHelper.ThrowInvalid("A tensor has an unknown datatype.");
        int rank = payload.ReadU8();
        if (rank > FrameLimits.MaxRank)
            ThrowHelper.ThrowInvalid("A tensor has a rank above 16.");
        var dims = shape[..rank];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = payload.ReadI64();
            if (dims[i] < 0)
                ThrowHelper.ThrowInvalid("A tensor has a negative dimension.");
        }
        long byteLength = payload.ReadU32();
        payload.Skip(Padding(payload.Consumed));
        var data = payload.ReadSlice(byteLength);
        if (dataType == DataType.Bytes)
            ValidateBytesElements(data, ElementCount(dims));
        else if (ElementCount(dims) * dataType.ElementSize() != byteLength)
            ThrowHelper.ThrowInvalid("A tensor's byte length does not match its shape and datatype.");
        return new WireTensor(name, dataType, dims, data);
    }

    public static void Write(ref WireWriter writer, ReadOnlySpan<byte> name, DataType dataType, ReadOnlySpan<long> shape, long byteLength)
    {
        if (name.IsEmpty || name.Length > FrameLimits.MaxNameLength)
            throw new ArgumentException("A tensor name is 1 to 255 UTF-8 bytes.", nameof(name));
        if (dataType is < DataType.Bool or > DataType.Bytes)
            throw new ArgumentOutOfRangeException(nameof(dataType));
        if (shape.Length > FrameLimits.MaxRank)
            throw new ArgumentException("A tensor's rank is at most 16.", nameof(shape));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(byteLength, uint.MaxValue);
        var elements = ElementCount(shape);
        if (elements < 0 || (dataType != DataType.Bytes && elements * dataType.ElementSize() != byteLength))
            throw new ArgumentException("The byte length does not match the shape and datatype.", nameof(byteLength));

        writer.WriteName(name);
        writer.WriteU8((byte)dataType);
        writer.WriteU8((byte)shape.Length);
        foreach (var dim in shape)
            writer.WriteI64(dim);
        writer.WriteU32((uint)byteLength);
        writer.WriteZeros(Padding(writer.Written - FrameHeader.Size));
    }

    /// <summary>Elements in a shape of non-negative dims; -1 when it overflows (then no byte length can match).</summary>
    private static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0 || (dim != 0 && count > long.MaxValue / 8 / dim))
                return -1;
            count *= dim;
        }
        return count;
    }

    /// <summary>BYTES data must be exactly <paramref name="count"/> elements of u32 length + bytes.</summary>
    private static void ValidateBytesElements(ReadOnlySequence<byte> data, long count)
    {
        if (count < 0 || count > data.Length / 4)
            ThrowHelper.ThrowInvalid("A BYTES tensor has more elements than its data can hold.");
        var reader = new SequenceReader<byte>(data);
        for (long i = 0; i < count; i++)
        {
            if (!reader.TryReadLittleEndian(out int length) || (uint)length > reader.Remaining)
                ThrowHelper.ThrowInvalid("A BYTES tensor element runs past the tensor's data.");
            reader.Advance(length);
        }
        if (!reader.End)
            ThrowHelper.ThrowInvalid("A BYTES tensor's data is longer than its elements.");
    }
}
