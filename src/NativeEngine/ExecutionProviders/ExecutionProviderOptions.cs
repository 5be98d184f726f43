using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

public enum ExecutionProviderKind
{
    /// <summary>ORT's CPU provider: always present, and what every other provider falls back to per node.</summary>
    Cpu,
    Cuda,
    TensorRT,
}

/// <summary>
/// An execution provider to append to <see cref="SessionOptions"/>, configured through ORT's V2 provider
/// options. Settable properties, so hosts can bind them from configuration.
/// </summary>
public sealed class ExecutionProviderOptions
{
    public ExecutionProviderKind Kind { get; set; } = ExecutionProviderKind.Cpu;

    /// <summary>The CUDA device ordinal (CUDA and TensorRT).</summary>
    public int DeviceId { get; set; }

    /// <summary>A <c>cudaStream_t</c> the provider runs on instead of its own (CUDA and TensorRT); 0 keeps the provider's stream.</summary>
    public nint UserComputeStream { get; set; }

    /// <summary>Let TensorRT build FP16 kernels (<c>trt_fp16_enable</c>). TensorRT only.</summary>
    public bool Fp16 { get; set; }

    /// <summary>Directory for serialized TensorRT engines, so later sessions skip the engine build (<c>trt_engine_cache_path</c>). TensorRT only.</summary>
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
    /// When the provider cannot be used (its libraries are missing or fail to load), skip it with a warning
    /// through <see cref="OrtEnvironment.Logger"/> instead of throwing; the session then runs on the CPU.
    /// </summary>
    public bool FallbackToCpu { get; set; }

    /// <summary>
    /// The full path of the first library <paramref name="kind"/> needs that is not beside libonnxruntime.so.1
    /// (where ORT loads providers from), or null when all are there. Lets a host report a missing provider
    /// before it opens a session.
    /// </summary>
    public static string? FindMissingLibrary(ExecutionProviderKind kind) =>
        ExecutionProviders.FindMissingLibrary(kind, OrtLibrary.Directory) is { } missing ? Path.Combine(OrtLibrary.Directory, missing) : null;
}

/// <summary>A requested execution provider cannot be used; <see cref="MissingFile"/> names the absent library when that is why.</summary>
public sealed class ExecutionProviderUnavailableException : OrtException
{
    public ExecutionProviderUnavailableException(ExecutionProviderKind provider, string? missingFile, OrtErrorCode code, string message, Exception? innerException = null)
        : base(code, message, innerException)
    {
        Provider = provider;
        MissingFile = missingFile;
    }

    public ExecutionProviderKind Provider { get; }

    /// <summary>The provider library that is not beside libonnxruntime.so.1, or null when the failure came from ORT.</summary>
    public string? MissingFile { get; }
}
