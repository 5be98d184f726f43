using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Http.Tensors;

/// <summary>
/// Writes a tensor's raw little-endian bytes as JSON values with <see cref="Utf8JsonWriter"/>: flat
/// (the Open Inference Protocol's usual form) or nested by shape (TensorFlow Serving's form).
/// FP16 and BF16 become numbers; non-finite floats the strings "NaN", "Infinity", "-Infinity";
/// BYTES elements strings (bytes that are not UTF-8 get U+FFFD replacements: ask for binary data
/// to get them exactly).
/// </summary>
internal static class JsonTensorWriter
{
    /// <summary>Writes every element as one flat JSON array.</summary>
    public static void WriteFlat(Utf8JsonWriter writer, DataType type, ReadOnlySpan<byte> data)
    {
        writer.WriteStartArray();
        var position = 0;
        while (position < data.Length)
            WriteElement(writer, type, data, ref position);
        writer.WriteEndArray();
    }

    /// <summary>
    /// Writes the elements from <paramref name="position"/> on as arrays nested by
    /// <paramref name="shape"/> (one scalar for rank 0), and moves past them.
    /// </summary>
    public static void WriteNested(Utf8JsonWriter writer, DataType type, ReadOnlySpan<byte> data, ref int position, ReadOnlySpan<long> shape)
    {
        if (shape.IsEmpty)
        {
            WriteElement(writer, type, data, ref position);
            return;
        }
        writer.WriteStartArray();
        for (long i = 0; i < shape[0]; i++)
            WriteNested(writer, type, data, ref position, shape[1..]);
        writer.WriteEndArray();
    }

    /// <summary>Writes one element of <paramref name="data"/> (the one at <paramref name="position"/>) and moves past it.</summary>
    public static void WriteElement(Utf8JsonWriter writer, DataType type, ReadOnlySpan<byte> data, ref int position)
    {
        var element = data[position..];
        switch (type)
        {
            case DataType.Bool: writer.WriteBooleanValue(element[0] != 0); break;
            case DataType.UInt8: writer.WriteNumberValue(element[0]); break;
            case DataType.Int8: writer.WriteNumberValue((sbyte)element[0]); break;
            case DataType.UInt16: writer.WriteNumberValue(MemoryMarshal.Read<ushort>(element)); break;
            case DataType.Int16: writer.WriteNumberValue(MemoryMarshal.Read<short>(element)); break;
            case DataType.UInt32: writer.WriteNumberValue(MemoryMarshal.Read<uint>(element)); break;
            case DataType.Int32: writer.WriteNumberValue(MemoryMarshal.Read<int>(element)); break;
            case DataType.UInt64: writer.WriteNumberValue(MemoryMarshal.Read<ulong>(element)); break;
            case DataType.Int64: writer.WriteNumberValue(MemoryMarshal.Read<long>(element)); break;
            case DataType.Fp16: WriteSingle(writer, (float)BitConverter.UInt16BitsToHalf(MemoryMarshal.Read<ushort>(element))); break;
            case DataType.Bf16: WriteSingle(writer, BFloat16Bits.ToSingle(MemoryMarshal.Read<ushort>(element))); break;
            case DataType.Fp32: WriteSingle(writer, MemoryMarshal.Read<float>(element)); break;
            case DataType.Fp64: WriteDouble(writer, MemoryMarshal.Read<double>(element)); break;
            case DataType.Bytes:
                var length = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(element));
                WriteBytes(writer, element.Slice(4, length));
                position += 4 + length;
                return;
            default:
                throw new InferenceException(ErrorCode.Unsupported, $"datatype {type.WireName()} cannot be written as JSON");
        }
        position += type.ElementSize();
    }

    private static void WriteSingle(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
            writer.WriteNumberValue(value);
        else
            WriteNonFinite(writer, value);
    }

    private static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
            writer.WriteNumberValue(value);
        else
            WriteNonFinite(writer, value);
    }

    private static void WriteNonFinite(Utf8JsonWriter writer, double value) =>
        writer.WriteStringValue(double.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);

    private static void WriteBytes(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
            writer.WriteStringValue(bytes);
        else
            writer.WriteStringValue(Encoding.UTF8.GetString(bytes));
    }
}
