using HighPerfInference.NativeEngine;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Tests.Models;

public sealed class ModelConfigReaderTests
{
    private static ModelConfig Parse(string json) => ModelConfigReader.Parse("m", "models/m/config.json", json, yaml: false);

    [Fact]
    public void Every_field_is_read_with_triton_names()
    {
        var config = Parse("""
            {
              "name": "m", "platform": "onnxruntime_onnx", "backend": "onnxruntime", "default_model_filename": "net.onnx",
              "max_batch_size": 16,
              "input": [{ "name": "x", "data_type": "TYPE_FP32", "dims": [4, -1] }],
              "output": [{ "name": "y", "data_type": "TYPE_INT64", "dims": ["3"] }],
              "dynamic_batching": {
                "preferred_batch_size": [4, 8], "max_queue_delay_microseconds": 100, "preserve_ordering": false,
                "priority_levels": 3, "default_priority_level": 2,
                "default_queue_policy": { "max_queue_size": 10, "default_timeout_microseconds": 5000, "timeout_action": "REJECT", "allow_timeout_override": false }
              },
              "instance_group": [{ "name": "g", "count": 2, "kind": "KIND_CPU" }, { "count": 1, "kind": "KIND_GPU", "gpus": [0, 1] }],
              "version_policy": { "specific": { "versions": [1, 3] } },
              "execution_provider": { "kind": "tensorrt", "fp16": true, "engine_cache_path": "/tmp/trt", "workspace_size": 1024, "fallback_to_cpu": true },
              "intra_op_threads": 2,
              "model_warmup": { "batches": 3, "batch_size": 8 },
              "traffic_split": { "1": 90, "3": 10 }
            }
            """);
        Assert.Equal("net.onnx", config.DefaultModelFilename);
        Assert.Equal(16, config.MaxBatchSize);
        Assert.Equal(new TensorConfig("x", DataType.Fp32, [4, -1]).Dims, config.Inputs[0].Dims);
        Assert.Equal(DataType.Int64, config.Outputs[0].DataType);
        Assert.Equal([4, 8], config.DynamicBatching!.PreferredBatchSizes);
        Assert.Equal(100, config.DynamicBatching.MaxQueueDelayMicroseconds);
        Assert.Equal(3, config.DynamicBatching.PriorityLevels);
        Assert.Equal(2, config.DynamicBatching.DefaultPriorityLevel);
        Assert.Equal(10, config.DynamicBatching.DefaultQueuePolicy.MaxQueueSize);
        Assert.False(config.DynamicBatching.DefaultQueuePolicy.AllowTimeoutOverride);
        Assert.Equal(4, config.InstanceCount);
        Assert.Equal(
            [new(ExecutionProviderKind.Cpu, 0), new(ExecutionProviderKind.Cpu, 0), new(ExecutionProviderKind.TensorRT, 0), new(ExecutionProviderKind.TensorRT, 1)],
            config.InstancePlacements());
        Assert.Equal([3L, 1L], config.VersionPolicy.Select([1, 2, 3, 4]));
        Assert.True(config.ExecutionProvider.Fp16);
        Assert.Equal(2, config.IntraOpThreads);
        Assert.Equal(new WarmupConfig { Batches = 3, BatchSize = 8 }, config.Warmup);
        Assert.Equal(90, config.TrafficSplit[1]);

        var scheduler = config.SchedulerOptions();
        Assert.True(scheduler.DynamicBatching);
        Assert.Equal(TimeSpan.FromMicroseconds(100), scheduler.MaxQueueDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(5), scheduler.DefaultTimeout);
        Assert.Equal(4, scheduler.InstanceCount);
    }

    [Fact]
    public void The_cuda_memory_limit_is_read_and_written_back()
    {
        var config = Parse("""{ "max_batch_size": 4, "execution_provider": { "kind": "cuda", "memory_limit": 2147483648 } }""");
        Assert.Equal(ExecutionProviderKind.Cuda, config.ExecutionProvider.Kind);
        Assert.Equal(2147483648L, config.ExecutionProvider.MemoryLimit);

        var signature = new ModelSignature([new TensorSpec("X", DataType.Fp32, [-1, 2])], [new TensorSpec("Y", DataType.Fp32, [-1, 2])], 4);
        var again = Parse(ModelConfigJson.Write(config, signature));
        Assert.Equal(config.ExecutionProvider, again.ExecutionProvider);
    }

    [Fact]
    public void Defaults_follow_triton_where_it_has_them()
    {
        var config = Parse("{}");
        Assert.Equal("m", config.Name);
        Assert.Equal(0, config.MaxBatchSize);
        Assert.Null(config.DynamicBatching);
        Assert.Equal(1, config.InstanceCount);
        Assert.Equal([4L], config.VersionPolicy.Select([1, 4, 2]));
        Assert.Equal(1, config.IntraOpThreads);
        var scheduler = config.SchedulerOptions();
        Assert.False(scheduler.DynamicBatching);
        Assert.Equal(QueuePolicyConfig.DefaultMaxQueueSize, scheduler.MaxQueueSize);
        Assert.Equal(1, scheduler.PriorityLevels);
    }

    [Fact]
    public void Priority_levels_without_a_default_make_unmarked_requests_the_lowest_priority()
    {
        var config = Parse("""{ "max_batch_size": 4, "dynamic_batching": { "priority_levels": 3 } }""");
        Assert.Equal(3, config.SchedulerOptions().DefaultPriorityLevel);
    }

    [Fact]
    public void Yaml_reads_as_the_same_document()
    {
        var yaml = ModelConfigReader.Parse("m", "models/m/config.yaml", """
            max_batch_size: 8
            dynamic_batching:
              preferred_batch_size: [2, 4]
              max_queue_delay_microseconds: 50
              default_queue_policy:
                allow_timeout_override: false
            instance_group:
              - count: 2
                kind: KIND_CPU
            version_policy:
              all: {}
            traffic_split:
              "1": 50
              "2": 50
            """, yaml: true);
        Assert.Equal(8, yaml.MaxBatchSize);
        Assert.Equal([2, 4], yaml.DynamicBatching!.PreferredBatchSizes);
        Assert.False(yaml.DynamicBatching.DefaultQueuePolicy.AllowTimeoutOverride);
        Assert.Equal(2, yaml.InstanceCount);
        Assert.Equal(VersionPolicyKind.All, yaml.VersionPolicy.Kind);
        Assert.Equal(50, yaml.TrafficSplit[2]);
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { """{ "max_batch_size": 8, "dynamic_batching": { "max_queue_delay_microsecond": 5 } }""",
          "models/m/config.json: dynamic_batching.max_queue_delay_microsecond: unknown field (did you mean 'max_queue_delay_microseconds'?)" },
        { """{ "max_batch_sise": 8 }""", "models/m/config.json: max_batch_sise: unknown field (did you mean 'max_batch_size'?)" },
        { """{ "optimization": {} }""", "models/m/config.json: optimization: unknown field" },
        { """{ "max_batch_size": -1 }""", "models/m/config.json: max_batch_size: -1 is outside 0..65535" },
        { """{ "max_batch_size": "many" }""", "models/m/config.json: max_batch_size: expected an integer, got \"many\"" },
        { """{ "max_batch_size": 1.5 }""", "models/m/config.json: max_batch_size: expected an integer, got 1.5" },
        { """{ "name": "other" }""", "models/m/config.json: name: is 'other' but the model's folder is 'm'" },
        { """{ "platform": "tensorflow_savedmodel" }""", "models/m/config.json: platform: 'tensorflow_savedmodel' is not supported" },
        { """{ "dynamic_batching": {} }""", "models/m/config.json: dynamic_batching: needs max_batch_size > 0" },
        { """{ "max_batch_size": 8, "dynamic_batching": { "preferred_batch_size": [4, 16] } }""", "models/m/config.json: dynamic_batching.preferred_batch_size[1]: 16 is outside 1..8" },
        { """{ "max_batch_size": 8, "dynamic_batching": { "preserve_ordering": true } }""", "models/m/config.json: dynamic_batching.preserve_ordering: true is not supported" },
        { """{ "max_batch_size": 8, "dynamic_batching": { "priority_levels": 2, "default_priority_level": 3 } }""", "models/m/config.json: dynamic_batching.default_priority_level: 3 is outside 1..2" },
        { """{ "max_batch_size": 8, "dynamic_batching": { "default_queue_policy": { "timeout_action": "DELAY" } } }""", "models/m/config.json: dynamic_batching.default_queue_policy.timeout_action: DELAY is not supported" },
        { """{ "max_batch_size": 8, "dynamic_batching": { "default_queue_policy": { "max_queue_size": 2000000 } } }""", "models/m/config.json: dynamic_batching.default_queue_policy.max_queue_size: 2000000 is outside 0..1000000" },
        { """{ "instance_group": [{ "count": 0 }] }""", "models/m/config.json: instance_group[0].count: 0 is outside 1..64" },
        { """{ "instance_group": [{ "kind": "KIND_TPU" }] }""", "models/m/config.json: instance_group[0].kind: 'KIND_TPU' is not KIND_CPU, KIND_GPU or KIND_AUTO" },
        { """{ "instance_group": [{ "kind": "KIND_CPU", "gpus": [0] }] }""", "models/m/config.json: instance_group[0].gpus: lists GPUs for a KIND_CPU group" },
        { """{ "instance_group": { "count": 1 } }""", "models/m/config.json: instance_group: expected a list, got an object" },
        { """{ "version_policy": { "latest": { "num_versions": 1 }, "all": {} } }""", "models/m/config.json: version_policy: must hold exactly one of latest, all or specific" },
        { """{ "version_policy": { "specific": { "versions": [] } } }""", "models/m/config.json: version_policy.specific.versions: must list at least one version" },
        { """{ "version_policy": { "newest": {} } }""", "models/m/config.json: version_policy.newest: unknown field" },
        { """{ "execution_provider": { "kind": "openvino" } }""", "models/m/config.json: execution_provider.kind: 'openvino' is not cpu, cuda or tensorrt" },
        { """{ "execution_provider": { "kind": "cuda", "fp16": true } }""", "models/m/config.json: execution_provider.kind: fp16, engine_cache_path and workspace_size apply to the tensorrt provider only" },
        { """{ "execution_provider": { "kind": "tensorrt", "memory_limit": 1024 } }""", "models/m/config.json: execution_provider.kind: memory_limit applies to the cuda provider only" },
        { """{ "execution_provider": { "kind": "cuda", "memory_limit": -1 } }""", "models/m/config.json: execution_provider.memory_limit: -1 is outside 0.." },
        { """{ "intra_op_threads": 1000 }""", "models/m/config.json: intra_op_threads: 1000 is outside 0..256" },
        { """{ "model_warmup": { "batches": 1, "batch_size": 2 } }""", "models/m/config.json: model_warmup.batch_size: 2 is outside 1..1" },
        { """{ "model_warmup": [{ "name": "w" }] }""", "models/m/config.json: model_warmup: expected an object, got a list" },
        { """{ "traffic_split": { "v1": 50 } }""", "models/m/config.json: traffic_split.v1: keys are version numbers" },
        { """{ "traffic_split": { "1": -5 } }""", "models/m/config.json: traffic_split.1: weights are integers in 0..1000000" },
        { """{ "traffic_split": { "1": 0, "2": 0 } }""", "models/m/config.json: traffic_split: the weights add up to 0" },
        { """{ "input": [{ "name": "x", "data_type": "FLOAT", "dims": [1] }] }""", "models/m/config.json: input[0].data_type: 'FLOAT' is not a datatype" },
        { """{ "input": [{ "name": "x", "data_type": "TYPE_FP32" }] }""", "models/m/config.json: input[0].dims: is required" },
        { """{ "max_batch_size": 1, "max_batch_size": 2 }""", "models/m/config.json: max_batch_size: is given twice" },
        { """[1, 2]""", "models/m/config.json: (document): expected an object, got a list" },
        { """{ "max_batch_size": """, "models/m/config.json: (document): not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void A_bad_config_fails_with_a_message_naming_the_file_and_the_field(string json, string message)
    {
        var error = Assert.Throws<ModelConfigException>(() => Parse(json));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Two_config_files_for_one_model_are_refused()
    {
        var directory = Directory.CreateTempSubdirectory("hpi-config-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "config.json"), "{}");
            File.WriteAllText(Path.Combine(directory.FullName, "config.yaml"), "{}");
            var error = Assert.Throws<ModelConfigException>(() => ModelConfigReader.ReadDirectory(directory.FullName));
            Assert.Contains("both config.json and config.yaml exist", error.Message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_effective_config_reads_back_to_the_same_settings()
    {
        var config = Parse("""
            {
              "max_batch_size": 16,
              "dynamic_batching": { "preferred_batch_size": [8], "max_queue_delay_microseconds": 100, "priority_levels": 2 },
              "instance_group": [{ "count": 2, "kind": "KIND_CPU" }],
              "version_policy": { "latest": { "num_versions": 2 } },
              "model_warmup": { "batches": 1, "batch_size": 4 },
              "traffic_split": { "1": 3, "2": 1 }
            }
            """);
        var signature = new ModelSignature(
            [new TensorSpec("INPUT0", DataType.Fp32, [-1, 16])], [new TensorSpec("OUTPUT0", DataType.Fp32, [-1, 16])], 16);
        var json = ModelConfigJson.Write(config, signature);
        Assert.Contains("\"data_type\": \"TYPE_FP32\"", json);
        var again = Parse(json);
        Assert.Equal(config.SchedulerOptions().PreferredBatchSizes, again.SchedulerOptions().PreferredBatchSizes);
        Assert.Equal(config.SchedulerOptions().MaxQueueDelay, again.SchedulerOptions().MaxQueueDelay);
        Assert.Equal(config.SchedulerOptions().MaxQueueSize, again.SchedulerOptions().MaxQueueSize);
        Assert.Equal(config.InstancePlacements(), again.InstancePlacements());
        Assert.Equal(config.VersionPolicy, again.VersionPolicy with { Versions = config.VersionPolicy.Versions });
        Assert.Equal(config.Warmup, again.Warmup);
        Assert.Equal(config.TrafficSplit, again.TrafficSplit);
        Assert.Equal([16L], again.Inputs[0].Dims);
    }
}
