using System.Text;

namespace HighPerfInference.Protocol;

/// <summary>
/// Tensor element types, the Open Inference Protocol's set. Values are part of the binary wire
/// format: never renumber, only append.
/// </summary>
public enum DataType : byte
{
    Invalid = 0,
    Bool = 1,
    UInt8 = 2,
    UInt16 = 3,
    UInt32 = 4,
    UInt64 = 5,
    Int8 = 6,
    Int16 = 7,
    Int32 = 8,
    Int64 = 9,
    Fp16 = 10,
    Bf16 = 11,
    Fp32 = 12,
    Fp64 = 13,
    /// <summary>Variable-length byte strings; each element is a 4-byte little-endian length, then the bytes.</summary>
    Bytes = 14,
}

public static class DataTypes
{
    /// <summary>Bytes per element; 0 for <see cref="DataType.Bytes"/> (variable) and <see cref="DataType.Invalid"/>.</summary>
    public static int ElementSize(this DataType type) => type switch
    {
        DataType.Bool or DataType.UInt8 or DataType.Int8 => 1,
        DataType.UInt16 or DataType.Int16 or DataType.Fp16 or DataType.Bf16 => 2,
        DataType.UInt32 or DataType.Int32 or DataType.Fp32 => 4,
        DataType.UInt64 or DataType.Int64 or DataType.Fp64 => 8,
        _ => 0,
    };

    /// <summary>The Open Inference Protocol name: "FP32", "INT64", "BYTES", ...</summary>
    public static string WireName(this DataType type) => type switch
    {
        DataType.Bool => "BOOL",
        DataType.UInt8 => "UINT8",
        DataType.UInt16 => "UINT16",
        DataType.UInt32 => "UINT32",
        DataType.UInt64 => "UINT64",
        DataType.Int8 => "INT8",
        DataType.Int16 => "INT16",
        DataType.Int32 => "INT32",
        DataType.Int64 => "INT64",
        DataType.Fp16 => "FP16",
        DataType.Bf16 => "BF16",
        DataType.Fp32 => "FP32",
        DataType.Fp64 => "FP64",
        DataType.Bytes => "BYTES",
        _ => "INVALID",
    };

    /// <summary>Parses an Open Inference Protocol datatype name given as UTF-8 (no allocation).</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Name, out DataType type)
    {
        type = utf8Name switch
        {
            _ when utf8Name.SequenceEqual("BOOL"u8) => DataType.Bool,
            _ when utf8Name.SequenceEqual("UINT8"u8) => DataType.UInt8,
            _ when utf8Name.SequenceEqual("UINT16"u8) => DataType.UInt16,
            _ when utf8Name.SequenceEqual("UINT32"u8) => DataType.UInt32,
            _ when utf8Name.SequenceEqual("UINT64"u8) => DataType.UInt64,
            _ when utf8Name.SequenceEqual("INT8"u8) => DataType.Int8,
            _ when utf8Name.SequenceEqual("INT16"u8) => DataType.Int16,
            _ when utf8Name.SequenceEqual("INT32"u8) => DataType.Int32,
            _ when utf8Name.SequenceEqual("INT64"u8) => DataType.Int64,
            _ when utf8Name.SequenceEqual("FP16"u8) => DataType.Fp16,
            _ when utf8Name.SequenceEqual("BF16"u8) => DataType.Bf16,
            _ when utf8Name.SequenceEqual("FP32"u8) => DataType.Fp32,
            _ when utf8Name.SequenceEqual("FP64"u8) => DataType.Fp64,
            _ when utf8Name.SequenceEqual("BYTES"u8) => DataType.Bytes,
            _ => DataType.Invalid,
        };
        return type != DataType.Invalid;
    }

    /// <summary>Parses an Open Inference Protocol datatype name.</summary>
    public static bool TryParse(string name, out DataType type)
    {
        Span<byte> utf8 = stackalloc byte[8];
        if (name.Length > utf8.Length || Encoding.UTF8.GetBytes(name, utf8) != name.Length)
        {
            type = DataType.Invalid;
            return false;
        }
        return TryParse(utf8[..name.Length], out type);
    }
}
