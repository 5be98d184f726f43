using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Models;

/// <summary>A loaded, ready model version as the control plane keeps it: its configuration, backend and scheduler, and what the APIs report about it.</summary>
internal sealed class LoadedVersion(long number, ModelConfig config, IModelBackend backend, DynamicBatcher batcher) : RoutedVersion(number, batcher)
{
    public ModelConfig Config { get; } = config;
    public IModelBackend Backend { get; } = backend;
    public string ConfigJson { get; } = ModelConfigJson.Write(config, backend.Signature);
    public TensorMetadata[] Inputs { get; } = Metadata(backend.Signature.Inputs);
    public TensorMetadata[] Outputs { get; } = Metadata(backend.Signature.Outputs);

    private static TensorMetadata[] Metadata(IReadOnlyList<TensorSpec> specs)
    {
        var tensors = new TensorMetadata[specs.Count];
        for (var i = 0; i < tensors.Length; i++)
            tensors[i] = new TensorMetadata(specs[i].Name, specs[i].DataType, (long[])specs[i].Shape.Clone());
        return tensors;
    }
}
