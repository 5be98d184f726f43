using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Http;

/// <summary>
/// Tensor values as the V2 JSON "data" array (flat, row-major) to and from raw little-endian bytes.
/// FP16 and BF16 travel only as binary data in the Open Inference Protocol.
/// </summary>
internal static class JsonTensorData
{
    /// <summary>True when the datatype has a JSON form this client writes.</summary>
    public static bool HasJsonForm(DataType type) => type is not (DataType.Fp16 or DataType.Bf16 or DataType.Bytes);

    /// <summary>Writes the elements of <paramref name="bytes"/> as a flat JSON array.</summary>
    public static void Write(Utf8JsonWriter json, DataType type, ReadOnlySpan<byte> bytes)
    {
        json.WriteStartArray();
        var size = type.ElementSize();
        for (var at = 0; at < bytes.Length; at += size)
        {
            var element = bytes.Slice(at, size);
            switch (type)
            {
                case DataType.Bool:
                    json.WriteBooleanValue(element[0] != 0);
                    break;
                case DataType.UInt8:
                    json.WriteNumberValue(element[0]);
                    break;
                case DataType.Int8:
                    json.WriteNumberValue((sbyte)element[0]);
                    break;
                case DataType.UInt16:
                    json.WriteNumberValue(BinaryPrimitives.ReadUInt16LittleEndian(element));
                    break;
                case DataType.Int16:
                    json.WriteNumberValue(BinaryPrimitives.ReadInt16LittleEndian(element));
                    break;
                case DataType.UInt32:
                    json.WriteNumberValue(BinaryPrimitives.ReadUInt32LittleEndian(element));
                    break;
                case DataType.Int32:
                    json.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(element));
                    break;
                case DataType.UInt64:
                    json.WriteNumberValue(BinaryPrimitives.ReadUInt64LittleEndian(element));
                    break;
                case DataType.Int64:
                    json.WriteNumberValue(BinaryPrimitives.ReadInt64LittleEndian(element));
                    break;
                case DataType.Fp32:
                    json.WriteNumberValue(BinaryPrimitives.ReadSingleLittleEndian(element));
                    break;
                case DataType.Fp64:
                    json.WriteNumberValue(BinaryPrimitives.ReadDoubleLittleEndian(element));
                    break;
                default:
                    throw new NotSupportedException($"{type.WireName()} has no JSON form; send it as binary data.");
            }
        }
        json.WriteEndArray();
    }

    /// <summary>The raw bytes of a JSON "data" array (flat or nested) of the given datatype.</summary>
    public static byte[] Read(DataType type, JsonElement data)
    {
        var bytes = new List<byte>();
        Span<byte> element = stackalloc byte[8];
        foreach (var value in Flatten(data))
        {
            if (type == DataType.Bytes)
            {
                var text = Encoding.UTF8.GetBytes(value.GetString() ?? "");
                BinaryPrimitives.WriteInt32LittleEndian(element, text.Length);
                bytes.AddRange(element[..4]);
                bytes.AddRange(text);
                continue;
            }
            var size = type.ElementSize();
            switch (type)
            {
                case DataType.Bool:
                    element[0] = value.GetBoolean() ? (byte)1 : (byte)0;
                    break;
                case DataType.UInt8:
                    element[0] = value.GetByte();
                    break;
                case DataType.Int8:
                    element[0] = (byte)value.GetSByte();
                    break;
                case DataType.UInt16:
                    BinaryPrimitives.WriteUInt16LittleEndian(element, value.GetUInt16());
                    break;
                case DataType.Int16:
                    BinaryPrimitives.WriteInt16LittleEndian(element, value.GetInt16());
                    break;
                case DataType.UInt32:
                    BinaryPrimitives.WriteUInt32LittleEndian(element, value.GetUInt32());
                    break;
                case DataType.Int32:
                    BinaryPrimitives.WriteInt32LittleEndian(element, value.GetInt32());
                    break;
                case DataType.UInt64:
                    BinaryPrimitives.WriteUInt64LittleEndian(element, value.GetUInt64());
                    break;
                case DataType.Int64:
                    BinaryPrimitives.WriteInt64LittleEndian(element, value.GetInt64());
                    break;
                case DataType.Fp32:
                    BinaryPrimitives.WriteSingleLittleEndian(element, value.GetSingle());
                    break;
                case DataType.Fp64:
                    BinaryPrimitives.WriteDoubleLittleEndian(element, value.GetDouble());
                    break;
                default:
                    throw new InferenceException(ErrorCode.Unsupported, $"The server sent {type.WireName()} as JSON; it travels only as binary data.");
            }
            bytes.AddRange(element[..size]);
        }
        return [.. bytes];
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Array)
        {
            yield return data;
            yield break;
        }
        foreach (var item in data.EnumerateArray())
        {
            foreach (var value in Flatten(item))
                yield return value;
        }
    }
}
