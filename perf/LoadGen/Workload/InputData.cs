using System.Buffers.Binary;
using System.Text.Json;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Workload;

/// <summary>
/// Fills the inputs once per run: <c>random</c> (seeded: floats in [0, 1), integers in [0, 100), bools
/// 0/1), <c>zeros</c>, or a JSON file <c>{"NAME": [numbers, nested or flat], ...}</c>; Triton
/// perf_analyzer's <c>{"data": [{"NAME": [...]}]}</c> is read too (its first entry).
/// </summary>
public static class InputData
{
    public static IReadOnlyList<InputTensor> Create(IReadOnlyList<TensorSpec> specs, string source, int seed)
    {
        var tensors = new List<InputTensor>(specs.Count);
        switch (source)
        {
            case "random":
                var random = new Random(seed);
                foreach (var spec in specs)
                    tensors.Add(new InputTensor(spec, Random(spec, random)));
                break;
            case "zeros":
                foreach (var spec in specs)
                    tensors.Add(new InputTensor(spec, new byte[spec.ByteLength]));
                break;
            default:
                var values = ReadFile(source);
                foreach (var spec in specs)
                {
                    if (!values.TryGetValue(spec.Name, out var numbers))
                        throw new UsageException($"--input-data {source}: no values for input '{spec.Name}'");
                    if (numbers.Count != spec.ElementCount)
                        throw new UsageException($"--input-data {source}: input '{spec.Name}' has {numbers.Count} values, its shape needs {spec.ElementCount}");
                    tensors.Add(new InputTensor(spec, Encode(spec.DataType, numbers)));
                }
                break;
        }
        return tensors;
    }

    private static byte[] Random(TensorSpec spec, Random random)
    {
        var count = (int)spec.ElementCount;
        var numbers = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            numbers.Add(spec.DataType switch
            {
                DataType.Fp16 or DataType.Bf16 or DataType.Fp32 or DataType.Fp64 => random.NextDouble(),
                DataType.Bool => random.Next(2),
                _ => random.Next(100),
            });
        }
        return Encode(spec.DataType, numbers);
    }

    /// <summary>Numbers to little-endian element bytes of <paramref name="type"/>.</summary>
    public static byte[] Encode(DataType type, IReadOnlyList<double> numbers)
    {
        var size = type.ElementSize();
        var bytes = new byte[numbers.Count * size];
        for (var i = 0; i < numbers.Count; i++)
        {
            var span = bytes.AsSpan(i * size, size);
            var value = numbers[i];
            switch (type)
            {
                case DataType.Bool: span[0] = value != 0 ? (byte)1 : (byte)0; break;
                case DataType.UInt8: span[0] = (byte)value; break;
                case DataType.Int8: span[0] = (byte)(sbyte)value; break;
                case DataType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
                case DataType.Int16: BinaryPrimitives.WriteInt16LittleEndian(span, (short)value); break;
                case DataType.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value); break;
                case DataType.Int32: BinaryPrimitives.WriteInt32LittleEndian(span, (int)value); break;
                case DataType.UInt64: BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)value); break;
                case DataType.Int64: BinaryPrimitives.WriteInt64LittleEndian(span, (long)value); break;
                case DataType.Fp16: BinaryPrimitives.WriteHalfLittleEndian(span, (Half)value); break;
                case DataType.Bf16: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)(BitConverter.SingleToUInt32Bits((float)value) >> 16)); break;
                case DataType.Fp32: BinaryPrimitives.WriteSingleLittleEndian(span, (float)value); break;
                case DataType.Fp64: BinaryPrimitives.WriteDoubleLittleEndian(span, value); break;
                default: throw new UsageException($"datatype {type.WireName()} cannot be generated");
            }
        }
        return bytes;
    }

    /// <summary>Element <paramref name="index"/> of little-endian <paramref name="data"/> as a number (for JSON bodies).</summary>
    public static double Decode(DataType type, ReadOnlySpan<byte> data, int index)
    {
        var span = data[(index * type.ElementSize())..];
        return type switch
        {
            DataType.Bool or DataType.UInt8 => span[0],
            DataType.Int8 => (sbyte)span[0],
            DataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(span),
            DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(span),
            DataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(span),
            DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(span),
            DataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(span),
            DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(span),
            DataType.Fp16 => (double)BinaryPrimitives.ReadHalfLittleEndian(span),
            DataType.Bf16 => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(span) << 16),
            DataType.Fp32 => BinaryPrimitives.ReadSingleLittleEndian(span),
            DataType.Fp64 => BinaryPrimitives.ReadDoubleLittleEndian(span),
            _ => throw new UsageException($"datatype {type.WireName()} cannot be written as JSON numbers"),
        };
    }

    private static Dictionary<string, List<double>> ReadFile(string path)
    {
        if (!File.Exists(path))
            throw new UsageException($"--input-data '{path}': expected random, zeros, or an existing JSON file");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            root = data.GetArrayLength() > 0 ? data[0] : throw new UsageException($"--input-data '{path}': \"data\" is empty");
        if (root.ValueKind != JsonValueKind.Object)
            throw new UsageException($"--input-data '{path}': expected a JSON object of input name -> numbers");
        var values = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            var numbers = new List<double>();
            Flatten(property.Value, numbers, path, property.Name);
            values[property.Name] = numbers;
        }
        return values;
    }

    private static void Flatten(JsonElement element, List<double> numbers, string path, string name)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    Flatten(item, numbers, path, name);
                break;
            case JsonValueKind.Number:
                numbers.Add(element.GetDouble());
                break;
            case JsonValueKind.True or JsonValueKind.False:
                numbers.Add(element.GetBoolean() ? 1 : 0);
                break;
            case JsonValueKind.Object when element.TryGetProperty("content", out var content):
                Flatten(content, numbers, path, name);
                break;
            default:
                throw new UsageException($"--input-data '{path}': input '{name}' holds {element.ValueKind}, expected numbers");
        }
    }
}
