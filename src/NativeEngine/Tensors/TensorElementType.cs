namespace HighPerfInference.NativeEngine;

/// <summary>ONNX tensor element types (<c>ONNXTensorElementDataType</c>), with ONNX's values.</summary>
public enum TensorElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    /// <summary>Variable-length byte strings (OIP BYTES); no fixed element size.</summary>
    String = 8,
    /// <summary>One byte per element, 0 or 1.</summary>
    Bool = 9,
    /// <summary>IEEE half precision; <see cref="Half"/> in .NET.</summary>
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    /// <summary>bfloat16: the upper 16 bits of a float. .NET has no type for it; read it as <see cref="ushort"/>.</summary>
    BFloat16 = 16,
}

/// <summary>ONNX value kinds (<c>ONNXType</c>).</summary>
public enum OnnxValueType
{
    Unknown = 0,
    Tensor = 1,
    Sequence = 2,
    Map = 3,
    Opaque = 4,
    SparseTensor = 5,
    Optional = 6,
}

public static class TensorElementTypes
{
    /// <summary>Bytes per element; 0 for <see cref="TensorElementType.String"/> and <see cref="TensorElementType.Undefined"/>.</summary>
    public static int SizeOf(this TensorElementType type) => type switch
    {
        TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
        TensorElementType.UInt16 or TensorElementType.Int16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.Float or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Double or TensorElementType.Complex64 => 8,
        TensorElementType.Complex128 => 16,
        _ => 0,
    };
}
