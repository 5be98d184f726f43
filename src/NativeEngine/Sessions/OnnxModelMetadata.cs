namespace HighPerfInference.NativeEngine;

/// <summary>The model's metadata (ModelProto fields and its <c>metadata_props</c>).</summary>
public sealed class OnnxModelMetadata
{
    public OnnxModelMetadata(string producerName, string graphName, string graphDescription, string domain, string description, long version,
        IReadOnlyDictionary<string, string> customMetadata)
    {
        ProducerName = producerName;
        GraphName = graphName;
        GraphDescription = graphDescription;
        Domain = domain;
        Description = description;
        Version = version;
        CustomMetadata = customMetadata;
    }

    public string ProducerName { get; }

    public string GraphName { get; }

    public string GraphDescription { get; }

    public string Domain { get; }

    /// <summary>The model's doc string.</summary>
    public string Description { get; }

    /// <summary>The model version (<c>model_version</c>).</summary>
    public long Version { get; }

    /// <summary>The model's <c>metadata_props</c> key/value pairs.</summary>
    public IReadOnlyDictionary<string, string> CustomMetadata { get; }
}
