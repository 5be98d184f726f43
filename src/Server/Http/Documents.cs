using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Http;

// The small JSON documents of the REST API, serialized by System.Text.Json's source generator
// (no reflection). Field names follow the Open Inference Protocol and Triton's extensions.

internal sealed record ErrorDocument(string Error);

internal sealed record LiveDocument(bool Live);

internal sealed record ReadyDocument(bool Ready);

internal sealed record ModelReadyDocument(string Name, string? Version, bool Ready);

internal sealed record ServerMetadataDocument(string Name, string Version, IReadOnlyList<string> Extensions);

internal sealed record TensorMetadataDocument(string Name, string Datatype, IReadOnlyList<long> Shape)
{
    public static TensorMetadataDocument From(TensorMetadata tensor) => new(tensor.Name, tensor.DataType.WireName(), tensor.Shape);
}

internal sealed record ModelMetadataDocument(
    string Name,
    IReadOnlyList<string> Versions,
    string Platform,
    IReadOnlyList<TensorMetadataDocument> Inputs,
    IReadOnlyList<TensorMetadataDocument> Outputs)
{
    public static ModelMetadataDocument From(ModelMetadata model)
    {
        var inputs = new TensorMetadataDocument[model.Inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
            inputs[i] = TensorMetadataDocument.From(model.Inputs[i]);
        var outputs = new TensorMetadataDocument[model.Outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
            outputs[i] = TensorMetadataDocument.From(model.Outputs[i]);
        return new ModelMetadataDocument(model.Name, model.Versions, model.Platform, inputs, outputs);
    }
}

/// <summary>A row of POST /v2/repository/index.</summary>
internal sealed record RepositoryIndexEntryDocument(string Name, string? Version, string State, string Reason);

/// <summary>The optional body of POST /v2/repository/index.</summary>
internal sealed record RepositoryIndexRequest(bool? Ready);

/// <summary>The optional body of load and unload: {"parameters": {"config": "...", "unload_dependents": false}}.</summary>
internal sealed record RepositoryActionRequest(RepositoryActionParameters? Parameters);

internal sealed record RepositoryActionParameters(string? Config, bool? UnloadDependents);

internal sealed record DurationDocument(long Count, long Ns);

/// <summary>Triton's statistics extension: counts and cumulative nanoseconds per phase.</summary>
internal sealed record InferenceStatsDocument(
    DurationDocument Success,
    DurationDocument Fail,
    DurationDocument Queue,
    DurationDocument ComputeInput,
    DurationDocument ComputeInfer,
    DurationDocument ComputeOutput,
    DurationDocument CacheHit,
    DurationDocument CacheMiss);

internal sealed record ModelStatsDocument(
    string Name,
    string Version,
    long LastInference,
    long InferenceCount,
    long ExecutionCount,
    InferenceStatsDocument InferenceStats,
    IReadOnlyList<BatchStatsDocument> BatchStats)
{
    private static readonly DurationDocument s_zero = new(0, 0);

    public static ModelStatsDocument From(in ModelStatistics s)
    {
        // Triton's compute_* count is the number of batches (executions) that phase ran.
        var compute = s.ExecutionCount;
        return new ModelStatsDocument(
            s.Name,
            s.Version,
            s.LastInferenceUnixMs,
            s.InferenceCount,
            s.ExecutionCount,
            new InferenceStatsDocument(
                new DurationDocument(s.SuccessCount, s.SuccessNs),
                new DurationDocument(s.FailureCount, s.FailureNs),
                new DurationDocument(s.QueueCount, s.QueueNs),
                new DurationDocument(compute, s.ComputeInputNs),
                new DurationDocument(compute, s.ComputeInferNs),
                new DurationDocument(compute, s.ComputeOutputNs),
                s_zero,
                s_zero),
            [.. (s.BatchSizes ?? []).Select(static size => new BatchStatsDocument(
                size.BatchSize,
                new DurationDocument(size.Count, size.ComputeInputNs),
                new DurationDocument(size.Count, size.ComputeInferNs),
                new DurationDocument(size.Count, size.ComputeOutputNs)))]);
    }
}

/// <summary>Triton's batch_stats entry: the executions of one batch size, per phase.</summary>
internal sealed record BatchStatsDocument(
    long BatchSize,
    DurationDocument ComputeInput,
    DurationDocument ComputeInfer,
    DurationDocument ComputeOutput);

internal sealed record StatisticsDocument(IReadOnlyList<ModelStatsDocument> ModelStats);

/// <summary>TensorFlow Serving's GET /v1/models/{model}: the state of each version.</summary>
internal sealed record TfModelStatusDocument(IReadOnlyList<TfVersionStatus> ModelVersionStatus);

internal sealed record TfVersionStatus(string Version, string State, TfStatus Status);

internal sealed record TfStatus(string ErrorCode, string ErrorMessage);

[JsonSerializable(typeof(ErrorDocument))]
[JsonSerializable(typeof(LiveDocument))]
[JsonSerializable(typeof(ReadyDocument))]
[JsonSerializable(typeof(ModelReadyDocument))]
[JsonSerializable(typeof(ServerMetadataDocument))]
[JsonSerializable(typeof(ModelMetadataDocument))]
[JsonSerializable(typeof(IReadOnlyList<RepositoryIndexEntryDocument>))]
[JsonSerializable(typeof(RepositoryIndexRequest))]
[JsonSerializable(typeof(RepositoryActionRequest))]
[JsonSerializable(typeof(StatisticsDocument))]
[JsonSerializable(typeof(TfModelStatusDocument))]
internal sealed partial class HttpJson : JsonSerializerContext
{
    /// <summary>
    /// The context to use: snake_case names as in the protocol, nulls left out, and UTF-8 and quotes
    /// written as they are ("input 'X'") rather than \u-escaped for HTML.
    /// </summary>
    public static HttpJson Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
