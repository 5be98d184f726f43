using System.Buffers.Binary;

namespace HighPerfInference.Conformance.Tests.Onnx;

/// <summary>
/// A TensorProto decoded into one contiguous little-endian buffer, whichever of raw_data or the
/// typed fields (float_data, int32_data, ...) the file used. STRING tensors keep their elements as
/// byte strings, since ONNX strings are bytes.
/// </summary>
internal sealed record ReferenceTensor
{
    public required string Name { get; init; }
    public required OnnxDataType DataType { get; init; }
    public required long[] Dims { get; init; }
    public byte[] Data { get; init; } = [];
    public byte[][] Strings { get; init; } = [];

    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var d in Dims)
                count *= d;
            return count;
        }
    }

    public string ShapeText => $"[{string.Join(',', Dims)}]";
}

/// <summary>
/// Parses onnx.proto's TensorProto with <see cref="ProtoReader"/>. Field numbers:
/// 1 dims, 2 data_type, 3 segment, 4 float_data, 5 int32_data, 6 string_data, 7 int64_data, 8 name,
/// 9 raw_data, 10 double_data, 11 uint64_data, 12 doc_string, 13 external_data, 14 data_location.
/// </summary>
internal static class TensorProtoReader
{
    public static ReferenceTensor Read(string path) => Read(File.ReadAllBytes(path));

    public static ReferenceTensor Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoReader(message);
        var dims = new List<ulong>();
        var dataType = OnnxDataType.Undefined;
        var name = "";
        byte[]? raw = null;
        var fixedData = new List<byte>(); // float_data, double_data: already little-endian
        var varintData = new List<ulong>(); // int32_data, int64_data, uint64_data
        var strings = new List<byte[]>();

        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: reader.ReadRepeatedVarint(wire, dims); break;
                case 2: dataType = (OnnxDataType)(int)reader.ReadVarint(); break;
                case 3: throw new NotSupportedException("segmented TensorProto");
                case 4 or 10: reader.ReadRepeatedFixed(wire, fixedData); break;
                case 5 or 7 or 11: reader.ReadRepeatedVarint(wire, varintData); break;
                case 6: strings.Add(reader.ReadBytes().ToArray()); break;
                case 8: name = reader.ReadString(); break;
                case 9: raw = reader.ReadBytes().ToArray(); break;
                case 13: throw new NotSupportedException("TensorProto with external data");
                case 14:
                    if (reader.ReadVarint() != 0)
                        throw new NotSupportedException("TensorProto with external data");
                    break;
                default: reader.Skip(wire); break;
            }
        }

        var shape = new long[dims.Count];
        for (var i = 0; i < shape.Length; i++)
            shape[i] = (long)dims[i];
        var tensor = new ReferenceTensor
        {
            Name = name,
            DataType = dataType,
            Dims = shape,
            Data = dataType == OnnxDataType.String ? [] : raw ?? Pack(dataType, fixedData, varintData),
            Strings = [.. strings],
        };
        Validate(tensor);
        return tensor;
    }

    /// <summary>Typed fields to raw bytes: int32_data carries every type of 32 bits or fewer, one value each.</summary>
    private static byte[] Pack(OnnxDataType type, List<byte> fixedData, List<ulong> varintData)
    {
        if (fixedData.Count > 0)
            return [.. fixedData];

        var size = type.ElementSize();
        var bytes = new byte[varintData.Count * size];
        for (var i = 0; i < varintData.Count; i++)
        {
            var destination = bytes.AsSpan(i * size, size);
            var value = varintData[i];
            switch (size)
            {
                case 1: destination[0] = (byte)value; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)value); break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)value); break;
                case 8: BinaryPrimitives.WriteUInt64LittleEndian(destination, value); break;
                default: throw new NotSupportedException($"TensorProto data_type {type}");
            }
        }

        return bytes;
    }

    private static void Validate(ReferenceTensor tensor)
    {
        var count = tensor.ElementCount;
        var (actual, expected) = tensor.DataType switch
        {
            OnnxDataType.String => (tensor.Strings.Length, count),
            OnnxDataType.Undefined => throw new InvalidDataException("TensorProto without data_type"),
            var t when t.ElementSize() == 0 => throw new NotSupportedException($"TensorProto data_type {(int)t}"),
            var t => (tensor.Data.LongLength, count * t.ElementSize()),
        };
        if (actual != expected)
        {
            throw new InvalidDataException(
                $"TensorProto '{tensor.Name}' {tensor.DataType}{tensor.ShapeText} holds {actual} units of data, expected {expected}");
        }
    }
}
