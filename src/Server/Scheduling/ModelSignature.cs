using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Scheduling;

/// <summary>One input or output of a model: name, datatype and the shape the model declares (-1 = variable).</summary>
public sealed class TensorSpec(string name, DataType dataType, long[] shape)
{
    public string Name { get; } = name;
    public DataType DataType { get; } = dataType;
    /// <summary>The model's full shape, including the batch dimension when the model batches.</summary>
    public long[] Shape { get; } = shape;
}

/// <summary>
/// The inputs and outputs of a model version and whether it batches. With <see cref="MaxBatchSize"/>
/// &gt; 0 the first dimension of every input and output is the batch dimension; the others are the
/// "non-batch" dimensions a batch's requests must agree on.
/// </summary>
public sealed class ModelSignature
{
    public ModelSignature(IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs, int maxBatchSize)
    {
        Inputs = inputs;
        Outputs = outputs;
        MaxBatchSize = maxBatchSize;
        var batchDims = maxBatchSize > 0 ? 1 : 0;
        var fixedRows = true;
        foreach (var input in inputs)
        {
            for (var d = batchDims; d < input.Shape.Length; d++)
                fixedRows &= input.Shape[d] >= 0;
        }
        HasFixedInputShapes = fixedRows;
        foreach (var input in inputs)
            HasBytes |= input.DataType == DataType.Bytes;
        foreach (var output in outputs)
            HasBytes |= output.DataType == DataType.Bytes;
    }

    public IReadOnlyList<TensorSpec> Inputs { get; }
    public IReadOnlyList<TensorSpec> Outputs { get; }
    /// <summary>0 = the model has no batch dimension and runs one request at a time.</summary>
    public int MaxBatchSize { get; }
    public bool Batches => MaxBatchSize > 0;
    /// <summary>True when no input has a variable non-batch dimension: every request fits one open batch.</summary>
    public bool HasFixedInputShapes { get; }
    /// <summary>
    /// True when an input or output is BYTES: such requests run one per batch (variable-length
    /// elements do not fit fixed rows), even where the model batches.
    /// </summary>
    public bool HasBytes { get; }

    public int IndexOfInput(string name) => IndexOf(Inputs, name);
    public int IndexOfOutput(string name) => IndexOf(Outputs, name);

    private static int IndexOf(IReadOnlyList<TensorSpec> specs, string name)
    {
        for (var i = 0; i < specs.Count; i++)
        {
            if (string.Equals(specs[i].Name, name, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }
}
