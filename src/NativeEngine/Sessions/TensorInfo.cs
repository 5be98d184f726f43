namespace HighPerfInference.NativeEngine;

/// <summary>A model input or output as the session reports it.</summary>
public sealed class TensorInfo
{
    public TensorInfo(string name, OnnxValueType valueType, TensorElementType elementType, long[] shape, string[] symbolicDimensions)
    {
        Name = name;
        ValueType = valueType;
        ElementType = elementType;
        Shape = shape;
        SymbolicDimensions = symbolicDimensions;
    }

    public string Name { get; }

    /// <summary>Tensor for nearly every model; sequences and maps have no element type or shape here.</summary>
    public OnnxValueType ValueType { get; }

    public TensorElementType ElementType { get; }

    /// <summary>The dimensions, -1 where the model leaves one dynamic (symbolic or unnamed).</summary>
    public long[] Shape { get; }

    /// <summary>The dimension names ("batch"), one per dimension; "" where the dimension has none.</summary>
    public string[] SymbolicDimensions { get; }

    public override string ToString() => $"{Name}: {ElementType}[{string.Join(',', Shape)}]";
}
