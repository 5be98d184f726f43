using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.NativeEngine.Tests.Models;

/// <summary>A tensor dimension in a model's signature: a fixed size or a symbolic name.</summary>
internal readonly record struct Dim(long Value, string? Param)
{
    public static implicit operator Dim(long value) => new(value, null);

    public static implicit operator Dim(string param) => new(-1, param);
}

/// <summary>
/// Writes ONNX ModelProto bytes (IR version 8, default-domain opset 17) for tests that must not depend on
/// generated model files. Field numbers follow onnx.proto.
/// </summary>
internal sealed class OnnxModelBuilder
{
    private readonly List<Action<ProtoWriter>> _nodes = [];
    private readonly List<Action<ProtoWriter>> _inputs = [];
    private readonly List<Action<ProtoWriter>> _outputs = [];
    private readonly List<(string Key, string Value)> _metadata = [];

    public string ProducerName { get; init; } = "HighPerfInference.NativeEngine.Tests";
    public string Domain { get; init; } = "";
    public string Description { get; init; } = "";
    public long ModelVersion { get; init; }
    public string GraphName { get; init; } = "test_graph";
    public string GraphDescription { get; init; } = "";

    public OnnxModelBuilder Input(string name, TensorElementType type, params Dim[] shape)
    {
        _inputs.Add(ValueInfo(name, type, shape));
        return this;
    }

    public OnnxModelBuilder Output(string name, TensorElementType type, params Dim[] shape)
    {
        _outputs.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>A node with integer attributes only (enough for Cast's "to").</summary>
    public OnnxModelBuilder Node(string opType, string[] inputs, string[] outputs, params (string Name, long Value)[] intAttributes)
    {
        string name = $"{opType.ToLowerInvariant()}_{_nodes.Count}";
        _nodes.Add(node =>
        {
            foreach (string input in inputs)
                node.String(1, input);
            foreach (string output in outputs)
                node.String(2, output);
            node.String(3, name).String(4, opType);
            foreach (var (attributeName, value) in intAttributes)
                node.Message(5, attribute => attribute.String(1, attributeName).Varint(3, value).Varint(20, 2)); // type INT = 2
        });
        return this;
    }

    public OnnxModelBuilder Metadata(string key, string value)
    {
        _metadata.Add((key, value));
        return this;
    }

    public byte[] Build()
    {
        var model = new ProtoWriter()
            .Varint(1, 8) // ir_version
            .String(2, ProducerName)
            .String(3, "1.0");
        if (Domain.Length > 0)
            model.String(4, Domain);
        model.Varint(5, ModelVersion);
        if (Description.Length > 0)
            model.String(6, Description);
        model.Message(7, graph =>
        {
            foreach (var node in _nodes)
                graph.Message(1, node);
            graph.String(2, GraphName);
            if (GraphDescription.Length > 0)
                graph.String(10, GraphDescription);
            foreach (var input in _inputs)
                graph.Message(11, input);
            foreach (var output in _outputs)
                graph.Message(12, output);
        });
        model.Message(8, opset => opset.String(1, "").Varint(2, 17));
        foreach (var (key, value) in _metadata)
            model.Message(14, entry => entry.String(1, key).String(2, value));
        return model.ToArray();
    }

    // ValueInfoProto { name = 1; type = 2 } / TypeProto { tensor_type = 1 } / Tensor { elem_type = 1; shape = 2 }
    // TensorShapeProto { dim = 1 } / Dimension { dim_value = 1; dim_param = 2 }
    private static Action<ProtoWriter> ValueInfo(string name, TensorElementType type, Dim[] shape) => info => info
        .String(1, name)
        .Message(2, typeProto => typeProto.Message(1, tensor => tensor
            .Varint(1, (int)type)
            .Message(2, shapeProto =>
            {
                foreach (var dim in shape)
                {
                    shapeProto.Message(1, d =>
                    {
                        if (dim.Param != null)
                            d.String(2, dim.Param);
                        else
                            d.Varint(1, dim.Value);
                    });
                }
            })));
}
