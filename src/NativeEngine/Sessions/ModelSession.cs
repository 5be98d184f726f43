using Microsoft.ML.OnnxRuntime;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// A loaded model: ORT's <see cref="InferenceSession"/> with its inputs and outputs in the session's order,
/// symbolic dimensions included, read once at load. Run it through a <see cref="BatchRunner"/>.
/// </summary>
public sealed class ModelSession : IDisposable
{
    private ModelSession(InferenceSession session)
    {
        try
        {
            Session = session;
            Inputs = Infos(session.InputNames, session.InputMetadata);
            Outputs = Infos(session.OutputNames, session.OutputMetadata);
            Metadata = session.ModelMetadata;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>ORT's session, for what the adapter does not wrap.</summary>
    public InferenceSession Session { get; }

    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>Producer, graph name and description, domain, version and the model's custom metadata_props.</summary>
    public ModelMetadata Metadata { get; }

    /// <summary>Loads a model from an .onnx file (external data files are found relative to it).</summary>
    public static ModelSession Load(string path, SessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _ = OrtEnvironment.Shared;
        return new ModelSession(options is null ? new InferenceSession(path) : new InferenceSession(path, options));
    }

    /// <summary>Loads a model from its serialized ModelProto bytes.</summary>
    public static ModelSession FromBytes(byte[] model, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _ = OrtEnvironment.Shared;
        return new ModelSession(options is null ? new InferenceSession(model) : new InferenceSession(model, options));
    }

    public void Dispose() => Session.Dispose();

    private static TensorInfo[] Infos(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var infos = new TensorInfo[names.Count];
        for (var i = 0; i < infos.Length; i++)
            infos[i] = TensorInfo.From(names[i], metadata[names[i]]);
        return infos;
    }
}
