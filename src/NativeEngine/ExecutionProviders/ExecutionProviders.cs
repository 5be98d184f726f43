using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// Appends CUDA and TensorRT through ORT's provider options objects. Whether a provider can run is found out
/// by appending it: ORT's GetAvailableProviders lists CUDA and TensorRT in the GPU package even where their
/// libraries cannot load. The CPU package answers "not enabled in this build"; the GPU package loads
/// libonnxruntime_providers_*.so, whose CUDA, cuBLAS or TensorRT dependencies may be missing (ORT's message
/// names the file); an older native library without the entry point throws EntryPointNotFoundException.
/// </summary>
public static class ExecutionProviders
{
    private static readonly ConcurrentDictionary<ExecutionProviderKind, string> s_unavailable = new();

    /// <summary>
    /// Appends the provider <paramref name="options"/> describe; ORT tries providers in the order appended and
    /// runs what they do not take on the CPU. Returns false when the provider is unavailable and
    /// <see cref="ExecutionProviderOptions.FallbackToCpu"/> let it be skipped (a warning is logged); throws
    /// <see cref="ExecutionProviderUnavailableException"/> otherwise.
    /// </summary>
    public static bool AppendExecutionProvider(this SessionOptions sessionOptions, ExecutionProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(sessionOptions);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Kind == ExecutionProviderKind.Cpu)
            return true;
        _ = OrtEnvironment.Shared;
        try
        {
            Append(sessionOptions, options);
            return true;
        }
        catch (ExecutionProviderUnavailableException e) when (options.FallbackToCpu)
        {
            OrtEnvironment.Shared.Log(OrtLogLevel.Warning, $"{e.Message} Falling back to the CPU execution provider.");
            return false;
        }
    }

    /// <summary>
    /// Why <paramref name="kind"/> cannot be appended in this process, or null when it can (found out once, by
    /// appending it to scratch options). A provider that appends may still fail when a session opens: cuDNN is
    /// loaded then, and the GPU itself is checked then.
    /// </summary>
    public static string? UnavailableReason(ExecutionProviderKind kind)
    {
        if (kind == ExecutionProviderKind.Cpu)
            return null;
        _ = OrtEnvironment.Shared;
        var reason = s_unavailable.GetOrAdd(kind, static k =>
        {
            using var scratch = new SessionOptions();
            try
            {
                Append(scratch, new ExecutionProviderOptions { Kind = k });
                return "";
            }
            catch (ExecutionProviderUnavailableException e)
            {
                return e.Message;
            }
        });
        return reason.Length == 0 ? null : reason;
    }

    private static void Append(SessionOptions sessionOptions, ExecutionProviderOptions options)
    {
        try
        {
            if (options.Kind == ExecutionProviderKind.Cuda)
                AppendCuda(sessionOptions, options);
            else
                AppendTensorRT(sessionOptions, options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            throw new ExecutionProviderUnavailableException(options.Kind,
                $"The {options.Kind} execution provider is not available in this process: {e.Message.Trim()}", e);
        }
    }

    private static void AppendCuda(SessionOptions sessionOptions, ExecutionProviderOptions options)
    {
        using var cuda = new OrtCUDAProviderOptions();
        var settings = Common(options);
        if (options.MemoryLimit > 0)
            settings["gpu_mem_limit"] = Invariant(options.MemoryLimit);
        cuda.UpdateOptions(settings); // one call: each update resets the keys it omits
        sessionOptions.AppendExecutionProvider_CUDA(cuda);
    }

    private static void AppendTensorRT(SessionOptions sessionOptions, ExecutionProviderOptions options)
    {
        using var tensorRT = new OrtTensorRTProviderOptions();
        var settings = Common(options);
        settings["trt_fp16_enable"] = options.Fp16 ? "1" : "0";
        if (options.WorkspaceSize > 0)
            settings["trt_max_workspace_size"] = Invariant(options.WorkspaceSize);
        if (!string.IsNullOrEmpty(options.EngineCachePath))
        {
            settings["trt_engine_cache_enable"] = "1";
            settings["trt_engine_cache_path"] = options.EngineCachePath;
        }
        if (!string.IsNullOrEmpty(options.ProfileMinShapes))
        {
            settings["trt_profile_min_shapes"] = options.ProfileMinShapes;
            settings["trt_profile_opt_shapes"] = options.ProfileOptShapes ?? options.ProfileMinShapes;
            settings["trt_profile_max_shapes"] = options.ProfileMaxShapes ?? options.ProfileMinShapes;
        }
        tensorRT.UpdateOptions(settings);
        sessionOptions.AppendExecutionProvider_Tensorrt(tensorRT);
    }

    /// <summary>The keys both providers take; the stream pointer goes as its decimal value, as ORT parses it.</summary>
    private static Dictionary<string, string> Common(ExecutionProviderOptions options)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["device_id"] = Invariant(options.DeviceId) };
        if (options.UserComputeStream != 0)
        {
            settings["has_user_compute_stream"] = "1";
            settings["user_compute_stream"] = Invariant(options.UserComputeStream);
        }
        return settings;
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
