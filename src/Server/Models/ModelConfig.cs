using HighPerfInference.NativeEngine;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Models;

/// <summary>
/// A model's configuration: <c>&lt;repository&gt;/&lt;model&gt;/config.json</c> (or config.yaml), read by
/// <see cref="ModelConfigReader"/>. Field names follow Triton's model configuration where one exists;
/// docs/model-configuration.md lists every field with its default and limits.
/// </summary>
public sealed record ModelConfig
{
    public required string Name { get; init; }
    /// <summary>The file the configuration came from (or "load request" for a config sent with a load call); named in errors.</summary>
    public required string Source { get; init; }
    public string DefaultModelFilename { get; init; } = "model.onnx";
    /// <summary>0 = the model has no batch dimension.</summary>
    public int MaxBatchSize { get; init; }
    /// <summary>Null = requests are not combined: each runs as its own batch (Triton without dynamic_batching).</summary>
    public DynamicBatchingConfig? DynamicBatching { get; init; }
    public IReadOnlyList<InstanceGroupConfig> InstanceGroups { get; init; } = [new()];
    public VersionPolicy VersionPolicy { get; init; } = VersionPolicy.Latest(1);
    public ExecutionProviderConfig ExecutionProvider { get; init; } = new();
    /// <summary>ORT intra-op threads of each instance's session; 0 = ORT's default (one per core).</summary>
    public int IntraOpThreads { get; init; } = 1;
    public WarmupConfig Warmup { get; init; } = new();
    /// <summary>Weights by version for requests that name no version; empty = the policy's latest ready version takes them all.</summary>
    public IReadOnlyDictionary<long, int> TrafficSplit { get; init; } = new Dictionary<long, int>();
    /// <summary>Inputs and outputs the config declares (optional); they must match the model.</summary>
    public IReadOnlyList<TensorConfig> Inputs { get; init; } = [];
    public IReadOnlyList<TensorConfig> Outputs { get; init; } = [];

    /// <summary>The total instance count over every instance group.</summary>
    public int InstanceCount
    {
        get
        {
            var count = 0;
            foreach (var group in InstanceGroups)
                count += group.Count * Math.Max(1, group.Kind == InstanceKind.Cpu ? 1 : group.Gpus.Count);
            return count;
        }
    }

    /// <summary>Where each instance runs, in instance order: KIND_GPU instances once per listed GPU (GPU 0 when none is listed).</summary>
    public IReadOnlyList<InstancePlacement> InstancePlacements()
    {
        var gpuProvider = ExecutionProvider.Kind == ExecutionProviderKind.Cpu ? ExecutionProviderKind.Cuda : ExecutionProvider.Kind;
        var placements = new List<InstancePlacement>();
        foreach (var group in InstanceGroups)
        {
            var kind = group.Kind == InstanceKind.Auto
                ? (ExecutionProvider.Kind == ExecutionProviderKind.Cpu ? InstanceKind.Cpu : InstanceKind.Gpu)
                : group.Kind;
            if (kind == InstanceKind.Cpu)
            {
                for (var i = 0; i < group.Count; i++)
                    placements.Add(new InstancePlacement(ExecutionProviderKind.Cpu, 0));
                continue;
            }
            IReadOnlyList<int> gpus = group.Gpus.Count > 0 ? group.Gpus : [0];
            foreach (var gpu in gpus)
            {
                for (var i = 0; i < group.Count; i++)
                    placements.Add(new InstancePlacement(gpuProvider, gpu));
            }
        }
        return placements;
    }

    /// <summary>The scheduler settings this configuration asks for.</summary>
    public SchedulerOptions SchedulerOptions(IBufferAllocator? allocator = null, IDurationObserver? durationObserver = null, ILogger? logger = null)
    {
        var batching = DynamicBatching;
        var policy = batching?.DefaultQueuePolicy ?? new QueuePolicyConfig();
        return new SchedulerOptions
        {
            DynamicBatching = batching is not null,
            PreferredBatchSizes = batching?.PreferredBatchSizes ?? [],
            MaxQueueDelay = TimeSpan.FromMicroseconds(batching?.MaxQueueDelayMicroseconds ?? 0),
            PriorityLevels = Math.Max(1, batching?.PriorityLevels ?? 0),
            DefaultPriorityLevel = Math.Max(1, batching?.DefaultPriorityLevel ?? 0),
            MaxQueueSize = policy.MaxQueueSize == 0 ? QueuePolicyConfig.DefaultMaxQueueSize : policy.MaxQueueSize,
            DefaultTimeout = TimeSpan.FromMicroseconds(policy.DefaultTimeoutMicroseconds),
            AllowTimeoutOverride = policy.AllowTimeoutOverride,
            InstanceCount = InstanceCount,
            Allocator = allocator,
            DurationObserver = durationObserver,
            Logger = logger,
        };
    }
}

/// <summary>Triton's dynamic_batching block.</summary>
public sealed record DynamicBatchingConfig
{
    public int[] PreferredBatchSizes { get; init; } = [];
    public long MaxQueueDelayMicroseconds { get; init; }
    /// <summary>0 = priorities off.</summary>
    public int PriorityLevels { get; init; }
    /// <summary>Level of requests that name none; defaults to the lowest priority (= PriorityLevels).</summary>
    public int DefaultPriorityLevel { get; init; }
    public QueuePolicyConfig DefaultQueuePolicy { get; init; } = new();
}

/// <summary>Triton's default_queue_policy block.</summary>
public sealed record QueuePolicyConfig
{
    /// <summary>What max_queue_size 0 (Triton's "unbounded") means here: the server never buffers without bound.</summary>
    public const int DefaultMaxQueueSize = 4096;

    public int MaxQueueSize { get; init; }
    public long DefaultTimeoutMicroseconds { get; init; }
    public bool AllowTimeoutOverride { get; init; } = true;
}

public enum InstanceKind
{
    /// <summary>GPU when the execution provider is CUDA or TensorRT, else CPU.</summary>
    Auto,
    Cpu,
    Gpu,
}

/// <summary>One instance_group entry.</summary>
public sealed record InstanceGroupConfig
{
    public int Count { get; init; } = 1;
    public InstanceKind Kind { get; init; } = InstanceKind.Auto;
    public IReadOnlyList<int> Gpus { get; init; } = [];
}

public enum VersionPolicyKind
{
    Latest,
    All,
    Specific,
}

/// <summary>Which version folders are loaded: the newest N, all, or a list.</summary>
public sealed record VersionPolicy(VersionPolicyKind Kind, int NumVersions, IReadOnlyList<long> Versions)
{
    public static VersionPolicy Latest(int numVersions) => new(VersionPolicyKind.Latest, numVersions, []);
    public static VersionPolicy All { get; } = new(VersionPolicyKind.All, 0, []);
    public static VersionPolicy Specific(IReadOnlyList<long> versions) => new(VersionPolicyKind.Specific, 0, versions);

    /// <summary>The versions to load out of those present, highest first.</summary>
    public IReadOnlyList<long> Select(IReadOnlyList<long> available)
    {
        var sorted = new List<long>(available);
        sorted.Sort((a, b) => b.CompareTo(a));
        return Kind switch
        {
            VersionPolicyKind.Latest => sorted.GetRange(0, Math.Min(NumVersions, sorted.Count)),
            VersionPolicyKind.Specific => sorted.FindAll(Versions.Contains),
            _ => sorted,
        };
    }
}

/// <summary>Our execution_provider block; maps to NativeEngine's <see cref="ExecutionProviderOptions"/>.</summary>
public sealed record ExecutionProviderConfig
{
    public ExecutionProviderKind Kind { get; init; } = ExecutionProviderKind.Cpu;
    public bool Fp16 { get; init; }
    public string? EngineCachePath { get; init; }
    public long WorkspaceSize { get; init; }
    /// <summary>CUDA only: the most device memory ORT's arena may hold, in bytes (0: no limit).</summary>
    public long MemoryLimit { get; init; }
    public bool FallbackToCpu { get; init; }
}

/// <summary>Our model_warmup block: batches of zeros each instance runs before the version reports READY.</summary>
public sealed record WarmupConfig
{
    public int Batches { get; init; }
    public int BatchSize { get; init; } = 1;
}

/// <summary>An input or output a config declares: datatype and dims without the batch dimension (-1 = variable).</summary>
public sealed record TensorConfig(string Name, DataType DataType, long[] Dims);

/// <summary>A configuration that cannot work; the message names the file and the field.</summary>
public sealed class ModelConfigException(string source, string field, string problem)
    : Exception($"{source}: {field}: {problem}")
{
    /// <summary>The config file (or other source) at fault.</summary>
    public string ConfigSource { get; } = source;
    /// <summary>The field at fault, as a dotted path ("dynamic_batching.max_queue_delay_microseconds").</summary>
    public string Field { get; } = field;
}
