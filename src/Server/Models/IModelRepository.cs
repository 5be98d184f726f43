using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Models;

/// <summary>
/// What the front doors (HTTP, binary transport) and the metrics endpoint see of the model
/// repository, the control plane: the index, metadata, configuration, readiness, lifecycle control and
/// statistics. Inference itself goes through the data plane, <see cref="IInferenceScheduler"/>. Register both with
/// services.AddModelRepository(configuration.GetSection("ModelRepository")) (Models/ModelRepositoryServiceCollectionExtensions.cs).
/// </summary>
/// <remarks>
/// Versions are the names of the numeric version folders ("1", "2", ...). Where a version argument
/// is null, the call means the model as a whole: readiness = some version is ready; metadata and
/// configuration = the version the policy serves by default (the highest ready one).
/// Lookups that fail throw <see cref="InferenceException"/> with <see cref="ErrorCode.NotFound"/>
/// (no such model or version) or <see cref="ErrorCode.Unavailable"/> (known but not ready).
/// </remarks>
public interface IModelRepository
{
    /// <summary>Server readiness: every model meant to load at start (or loaded since) is ready.</summary>
    bool IsReady { get; }

    /// <summary>True when the model (any version, or the given one) is <see cref="ModelState.Ready"/>.</summary>
    bool IsModelReady(string name, string? version = null);

    /// <summary>Every model in the repository folder and every version known for it, with state and reason.</summary>
    IReadOnlyList<ModelIndexEntry> GetIndex(bool readyOnly = false);

    /// <summary>
    /// Name, versions (the ready ones highest first, or the one asked for), platform "onnxruntime_onnx", and the
    /// inputs and outputs of the first version listed (the default one, or the one asked for); shapes include the batch dimension (-1) when the model batches, -1 marks every variable
    /// dimension. The same record the binary protocol writes (<see cref="ModelMetadata.Write"/>).
    /// </summary>
    ModelMetadata GetMetadata(string name, string? version = null);

    /// <summary>max_batch_size of the model (the default version, or the one asked for); 0 = no batch dimension.</summary>
    int GetMaxBatchSize(string name, string? version = null);

    /// <summary>The effective configuration of a loaded model as JSON (Triton's field names, defaults filled in).</summary>
    string GetConfigJson(string name, string? version = null);

    /// <summary>
    /// Loads a model, or reloads it when it is already loaded: the new versions become ready before
    /// the old ones stop taking requests, and the old ones finish their queued and running work before
    /// they are disposed. <paramref name="configJson"/> replaces the config file for this load
    /// (Triton's "config" load parameter). Throws <see cref="InferenceException"/> when the model is
    /// unknown (NotFound) or fails to load (InvalidArgument for a bad config, Unavailable otherwise).
    /// </summary>
    Task LoadAsync(string name, string? configJson = null, CancellationToken cancellationToken = default);

    /// <summary>Stops routing to the model, answers or runs what is queued, waits for running batches, then frees it.</summary>
    Task UnloadAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cumulative statistics per loaded model version (or of one model / version). A model that was
    /// never loaded throws NotFound. Counters restart when a version is loaded again.
    /// </summary>
    IReadOnlyList<ModelStatistics> GetStatistics(string? name = null, string? version = null);
}

/// <summary>The lifecycle states Triton reports in its repository index.</summary>
public enum ModelState
{
    Unavailable,
    Loading,
    Ready,
    Unloading,
}

public static class ModelStates
{
    /// <summary>The upper-case name used in the repository index ("READY", ...).</summary>
    public static string Name(this ModelState state) => state switch
    {
        ModelState.Loading => "LOADING",
        ModelState.Ready => "READY",
        ModelState.Unloading => "UNLOADING",
        _ => "UNAVAILABLE",
    };
}

/// <summary>One row of the repository index; <see cref="Version"/> is null for a model with no version loaded or tried.</summary>
public sealed record ModelIndexEntry(string Name, string? Version, ModelState State, string Reason);
