namespace HighPerfInference.Conformance.Tests.Onnx;

/// <summary>The kind of value a graph input or output holds: TypeProto's oneof.</summary>
internal enum ValueKind
{
    Unknown,
    Tensor,
    Sequence,
    Map,
    SparseTensor,
    Optional,
}

internal readonly record struct GraphValue(string Name, ValueKind Kind, OnnxDataType ElementType);

/// <summary>
/// A model's graph inputs (less those an initializer feeds) and outputs, read straight from
/// model.onnx. The suite uses it to tell which cases hold sequences, maps or optionals before
/// anything reaches ONNX Runtime, and which .pb file format (TensorProto or not) an input has.
/// </summary>
internal sealed class ModelSignature
{
    public required IReadOnlyList<GraphValue> Inputs { get; init; }
    public required IReadOnlyList<GraphValue> Outputs { get; init; }

    // ModelProto.graph = 7; GraphProto: initializer = 5, input = 11, output = 12.
    public static ModelSignature Read(string modelPath)
    {
        var model = new ProtoReader(File.ReadAllBytes(modelPath));
        while (model.TryReadTag(out var field, out var wire))
        {
            if (field == 7)
                return ReadGraph(model.ReadBytes());
            model.Skip(wire);
        }

        throw new InvalidDataException($"{modelPath} holds no graph");
    }

    private static ModelSignature ReadGraph(ReadOnlySpan<byte> graph)
    {
        var reader = new ProtoReader(graph);
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        var inputs = new List<GraphValue>();
        var outputs = new List<GraphValue>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 5: initializers.Add(ReadName(reader.ReadBytes(), nameField: 8)); break;
                case 11: inputs.Add(ReadValueInfo(reader.ReadBytes())); break;
                case 12: outputs.Add(ReadValueInfo(reader.ReadBytes())); break;
                default: reader.Skip(wire); break;
            }
        }

        // IR < 4 lists initializers among the inputs too; ONNX Runtime does not ask for those.
        inputs.RemoveAll(input => initializers.Contains(input.Name));
        return new ModelSignature { Inputs = inputs, Outputs = outputs };
    }

    private static string ReadName(ReadOnlySpan<byte> message, int nameField)
    {
        var reader = new ProtoReader(message);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == nameField)
                return reader.ReadString();
            reader.Skip(wire);
        }

        return "";
    }

    // ValueInfoProto: name = 1, type = 2.
    private static GraphValue ReadValueInfo(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoReader(message);
        var name = "";
        var kind = ValueKind.Unknown;
        var elementType = OnnxDataType.Undefined;
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: name = reader.ReadString(); break;
                case 2: (kind, elementType) = ReadType(reader.ReadBytes()); break;
                default: reader.Skip(wire); break;
            }
        }

        return new GraphValue(name, kind, elementType);
    }

    // TypeProto: tensor_type = 1 (elem_type = 1), sequence_type = 4, map_type = 5,
    // sparse_tensor_type = 8, optional_type = 9.
    private static (ValueKind Kind, OnnxDataType ElementType) ReadType(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoReader(message);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: return (ValueKind.Tensor, ReadElementType(reader.ReadBytes()));
                case 4: return (ValueKind.Sequence, OnnxDataType.Undefined);
                case 5: return (ValueKind.Map, OnnxDataType.Undefined);
                case 8: return (ValueKind.SparseTensor, ReadElementType(reader.ReadBytes()));
                case 9: return (ValueKind.Optional, OnnxDataType.Undefined);
                default: reader.Skip(wire); break;
            }
        }

        return (ValueKind.Unknown, OnnxDataType.Undefined);
    }

    private static OnnxDataType ReadElementType(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoReader(message);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1)
                return (OnnxDataType)(int)reader.ReadVarint();
            reader.Skip(wire);
        }

        return OnnxDataType.Undefined;
    }
}
