using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.NativeEngine;

/// <summary>A model input or output as the session reports it.</summary>
public sealed record TensorInfo(string Name, OnnxValueType ValueType, TensorElementType ElementType, long[] Shape, string[] SymbolicDimensions)
{
    /// <summary>Tensor for nearly every model; sequences, maps and optionals have no element type or shape here.</summary>
    public bool IsTensor => ValueType == OnnxValueType.ONNX_TYPE_TENSOR;

    internal static TensorInfo From(string name, NodeMetadata metadata)
    {
        if (metadata.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR)
            return new TensorInfo(name, metadata.OnnxValueType, default, [], []); // element type 0: undefined
        var shape = new long[metadata.Dimensions.Length];
        for (var d = 0; d < shape.Length; d++)
            shape[d] = metadata.Dimensions[d];
        return new TensorInfo(name, metadata.OnnxValueType, metadata.ElementDataType, shape, metadata.SymbolicDimensions);
    }

    public override string ToString() => $"{Name}: {ElementType}[{string.Join(',', Shape)}]";
}

public static class TensorElementTypes
{
    /// <summary>Bytes per element; 0 for strings and for the types the server does not carry (4-bit, complex, float8).</summary>
    public static int SizeOf(this TensorElementType type) => type switch
    {
        TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
        TensorElementType.UInt16 or TensorElementType.Int16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.Float or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Double => 8,
        _ => 0,
    };
}
