namespace HighPerfInference.Conformance.Tests.Onnx;

/// <summary>TensorProto.DataType from onnx.proto (the values ONNX Runtime's element types share).</summary>
internal enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

internal static class OnnxDataTypeExtensions
{
    /// <summary>Bytes per element in raw_data; 0 for STRING (and for types ONNX 1.12 does not define).</summary>
    public static int ElementSize(this OnnxDataType type) => type switch
    {
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        OnnxDataType.UInt16 or OnnxDataType.Int16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Int64 or OnnxDataType.UInt64 or OnnxDataType.Double or OnnxDataType.Complex64 => 8,
        OnnxDataType.Complex128 => 16,
        _ => 0,
    };

    public static bool IsFloatingPoint(this OnnxDataType type) => type is OnnxDataType.Float or OnnxDataType.Double
        or OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Complex64 or OnnxDataType.Complex128;
}
