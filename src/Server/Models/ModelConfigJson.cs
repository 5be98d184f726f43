using System.Text;
using System.Text.Json;
using HighPerfInference.NativeEngine;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Models;

/// <summary>
/// Writes the effective configuration of a loaded model version as JSON in Triton's field names,
/// with every default filled in and the inputs and outputs taken from the model. The output reads
/// back through <see cref="ModelConfigReader"/> unchanged.
/// </summary>
public static class ModelConfigJson
{
    public static string Write(ModelConfig config, ModelSignature signature)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("name", config.Name);
            json.WriteString("platform", "onnxruntime_onnx");
            json.WriteString("backend", "onnxruntime");
            json.WriteString("default_model_filename", config.DefaultModelFilename);
            json.WriteNumber("max_batch_size", config.MaxBatchSize);
            WriteTensors(json, "input", signature.Inputs, signature.Batches);
            WriteTensors(json, "output", signature.Outputs, signature.Batches);
            if (config.DynamicBatching is { } batching)
                WriteDynamicBatching(json, batching);
            json.WriteStartArray("instance_group");
            foreach (var group in config.InstanceGroups)
            {
                json.WriteStartObject();
                json.WriteNumber("count", group.Count);
                json.WriteString("kind", group.Kind switch { InstanceKind.Cpu => "KIND_CPU", InstanceKind.Gpu => "KIND_GPU", _ => "KIND_AUTO" });
                WriteNumbers(json, "gpus", group.Gpus);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            WriteVersionPolicy(json, config.VersionPolicy);
            WriteExecutionProvider(json, config.ExecutionProvider);
            json.WriteNumber("intra_op_threads", config.IntraOpThreads);
            json.WriteStartObject("model_warmup");
            json.WriteNumber("batches", config.Warmup.Batches);
            json.WriteNumber("batch_size", config.Warmup.BatchSize);
            json.WriteEndObject();
            json.WriteStartObject("traffic_split");
            foreach (var (version, weight) in config.TrafficSplit)
                json.WriteNumber(version.ToString(System.Globalization.CultureInfo.InvariantCulture), weight);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>Triton's name of a datatype in model configurations ("TYPE_FP32").</summary>
    public static string TritonTypeName(DataType type) => type == DataType.Bytes ? "TYPE_STRING" : "TYPE_" + type.WireName();

    /// <summary>The datatype of a Triton config name, or <see cref="DataType.Invalid"/>.</summary>
    public static DataType ParseTritonType(string name)
    {
        if (name == "TYPE_STRING")
            return DataType.Bytes;
        return name.StartsWith("TYPE_", StringComparison.Ordinal) && name != "TYPE_BYTES" && DataTypes.TryParse(name[5..], out var type) ? type : DataType.Invalid;
    }

    private static void WriteTensors(Utf8JsonWriter json, string field, IReadOnlyList<TensorSpec> specs, bool batches)
    {
        json.WriteStartArray(field);
        foreach (var spec in specs)
        {
            json.WriteStartObject();
            json.WriteString("name", spec.Name);
            json.WriteString("data_type", TritonTypeName(spec.DataType));
            WriteNumbers(json, "dims", batches ? spec.Shape[1..] : spec.Shape);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteDynamicBatching(Utf8JsonWriter json, DynamicBatchingConfig batching)
    {
        json.WriteStartObject("dynamic_batching");
        WriteNumbers(json, "preferred_batch_size", batching.PreferredBatchSizes);
        json.WriteNumber("max_queue_delay_microseconds", batching.MaxQueueDelayMicroseconds);
        json.WriteNumber("priority_levels", batching.PriorityLevels);
        json.WriteNumber("default_priority_level", batching.DefaultPriorityLevel);
        var policy = batching.DefaultQueuePolicy;
        json.WriteStartObject("default_queue_policy");
        json.WriteNumber("max_queue_size", policy.MaxQueueSize == 0 ? QueuePolicyConfig.DefaultMaxQueueSize : policy.MaxQueueSize);
        json.WriteNumber("default_timeout_microseconds", policy.DefaultTimeoutMicroseconds);
        json.WriteString("timeout_action", "REJECT");
        json.WriteBoolean("allow_timeout_override", policy.AllowTimeoutOverride);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteVersionPolicy(Utf8JsonWriter json, VersionPolicy policy)
    {
        json.WriteStartObject("version_policy");
        switch (policy.Kind)
        {
            case VersionPolicyKind.Latest:
                json.WriteStartObject("latest");
                json.WriteNumber("num_versions", policy.NumVersions);
                json.WriteEndObject();
                break;
            case VersionPolicyKind.All:
                json.WriteStartObject("all");
                json.WriteEndObject();
                break;
            default:
                json.WriteStartObject("specific");
                WriteNumbers(json, "versions", policy.Versions);
                json.WriteEndObject();
                break;
        }
        json.WriteEndObject();
    }

    private static void WriteExecutionProvider(Utf8JsonWriter json, ExecutionProviderConfig provider)
    {
        json.WriteStartObject("execution_provider");
        json.WriteString("kind", provider.Kind switch { ExecutionProviderKind.Cuda => "cuda", ExecutionProviderKind.TensorRT => "tensorrt", _ => "cpu" });
        if (provider.Kind == ExecutionProviderKind.TensorRT)
        {
            json.WriteBoolean("fp16", provider.Fp16);
            if (provider.EngineCachePath is not null)
                json.WriteString("engine_cache_path", provider.EngineCachePath);
            json.WriteNumber("workspace_size", provider.WorkspaceSize);
        }
        if (provider.Kind == ExecutionProviderKind.Cuda)
            json.WriteNumber("memory_limit", provider.MemoryLimit);
        json.WriteBoolean("fallback_to_cpu", provider.FallbackToCpu);
        json.WriteEndObject();
    }

    private static void WriteNumbers<T>(Utf8JsonWriter json, string field, IEnumerable<T> values)
        where T : struct, IConvertible
    {
        json.WriteStartArray(field);
        foreach (var value in values)
            json.WriteNumberValue(value.ToInt64(System.Globalization.CultureInfo.InvariantCulture));
        json.WriteEndArray();
    }
}
