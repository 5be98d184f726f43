namespace HighPerfInference.NativeEngine;

public enum ExecutionProviderKind
{
    /// <summary>ORT's CPU provider: always present, and what every other provider falls back to per node.</summary>
    Cpu,
    Cuda,
    TensorRT,
}

/// <summary>
/// An execution provider to append to ORT's SessionOptions (<see cref="ExecutionProviders.AppendExecutionProvider"/>),
/// configured through ORT's CUDA and TensorRT provider options. Settable properties, so hosts can bind them from configuration.
/// </summary>
public sealed class ExecutionProviderOptions
{
    public ExecutionProviderKind Kind { get; set; } = ExecutionProviderKind.Cpu;

    /// <summary>The CUDA device ordinal (<c>device_id</c>; CUDA and TensorRT).</summary>
    public int DeviceId { get; set; }

    /// <summary>A <c>cudaStream_t</c> the provider runs on instead of its own (<c>user_compute_stream</c>; CUDA and TensorRT); 0 keeps the provider's stream.</summary>
    public nint UserComputeStream { get; set; }

    /// <summary>The most device memory the CUDA provider's arena may hold, in bytes (<c>gpu_mem_limit</c>); 0 keeps ORT's default (no limit). CUDA only.</summary>
    public long MemoryLimit { get; set; }

    /// <summary>Let TensorRT build FP16 kernels (<c>trt_fp16_enable</c>). TensorRT only.</summary>
    public bool Fp16 { get; set; }

    /// <summary>Directory for serialized TensorRT engines, so later sessions skip the engine build (<c>trt_engine_cache_enable</c>, <c>trt_engine_cache_path</c>). TensorRT only.</summary>
    public string? EngineCachePath { get; set; }

    /// <summary>The most GPU memory TensorRT may use as builder workspace, in bytes (<c>trt_max_workspace_size</c>); 0 keeps TensorRT's default. TensorRT only.</summary>
    public long WorkspaceSize { get; set; }

    /// <summary>
    /// The optimization profile for dynamic input dimensions, as ORT's <c>trt_profile_min_shapes</c>,
    /// <c>trt_profile_opt_shapes</c> and <c>trt_profile_max_shapes</c>: <c>name:1x3x224x224,other:1x16</c>.
    /// Null or empty leaves TensorRT to rebuild its engine for the shapes it meets. TensorRT only; all three or none.
    /// </summary>
    public string? ProfileMinShapes { get; set; }

    /// <inheritdoc cref="ProfileMinShapes"/>
    public string? ProfileOptShapes { get; set; }

    /// <inheritdoc cref="ProfileMinShapes"/>
    public string? ProfileMaxShapes { get; set; }

    /// <summary>
    /// When the provider cannot be used (the CPU package has none; the GPU package's libraries or theirs are
    /// missing), skip it with a warning through <see cref="OrtEnvironment.Logger"/> instead of throwing; the
    /// session then runs on the CPU.
    /// </summary>
    public bool FallbackToCpu { get; set; }
}

/// <summary>A requested execution provider cannot be used here; the message says why (ORT's words: the missing library, or "not enabled in this build").</summary>
public sealed class ExecutionProviderUnavailableException(ExecutionProviderKind provider, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public ExecutionProviderKind Provider { get; } = provider;
}
