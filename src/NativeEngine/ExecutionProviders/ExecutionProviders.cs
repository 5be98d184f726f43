using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// Appends CUDA and TensorRT through their V2 options objects. ORT loads a provider's shared library from
/// the directory libonnxruntime.so.1 was loaded from (never from LD_LIBRARY_PATH), so the libraries are
/// looked for there first: a missing one gives an error that names it, instead of ORT's generic
/// "Failed to load shared library".
/// </summary>
internal static unsafe class ExecutionProviders
{
    public const string SharedLibrary = "libonnxruntime_providers_shared.so";
    public const string CudaLibrary = "libonnxruntime_providers_cuda.so";
    public const string TensorRTLibrary = "libonnxruntime_providers_tensorrt.so";

    public static string[] RequiredLibraries(ExecutionProviderKind kind) => kind switch
    {
        ExecutionProviderKind.Cuda => [SharedLibrary, CudaLibrary],
        ExecutionProviderKind.TensorRT => [SharedLibrary, TensorRTLibrary],
        _ => [],
    };

    /// <summary>The first library <paramref name="kind"/> needs that is not in <paramref name="directory"/>, or null.</summary>
    public static string? FindMissingLibrary(ExecutionProviderKind kind, string directory)
    {
        foreach (string library in RequiredLibraries(kind))
        {
            if (!File.Exists(Path.Combine(directory, library)))
                return library;
        }
        return null;
    }

    public static bool Append(nint sessionOptions, ExecutionProviderOptions options) =>
        Append(sessionOptions, options, OrtLibrary.Directory);

    internal static bool Append(nint sessionOptions, ExecutionProviderOptions options, string libraryDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Kind == ExecutionProviderKind.Cpu)
            return true;
        try
        {
            string? missing = FindMissingLibrary(options.Kind, libraryDirectory);
            if (missing != null)
            {
                throw new ExecutionProviderUnavailableException(options.Kind, missing, OrtErrorCode.NoSuchFile,
                    $"The {options.Kind} execution provider is not available: {missing} is missing from {libraryDirectory} (it must sit beside {OrtLibrary.FileName}).");
            }
            try
            {
                if (options.Kind == ExecutionProviderKind.Cuda)
                    AppendCuda(sessionOptions, options);
                else
                    AppendTensorRT(sessionOptions, options);
            }
            catch (OrtException e) when (e is not ExecutionProviderUnavailableException)
            {
                throw new ExecutionProviderUnavailableException(options.Kind, null, e.Code,
                    $"The {options.Kind} execution provider could not be loaded: {e.Message}", e);
            }
            return true;
        }
        catch (ExecutionProviderUnavailableException e) when (options.FallbackToCpu)
        {
            OrtEnvironment.Shared.Log(OrtLogLevel.Warning, $"{e.Message} Falling back to the CPU execution provider.");
            return false;
        }
    }

    private static void AppendCuda(nint sessionOptions, ExecutionProviderOptions options)
    {
        nint cuda;
        OrtStatus.Check(OrtApi.CreateCUDAProviderOptions(&cuda));
        using var handle = new CudaProviderOptionsHandle(cuda);
        // Update rewrites every field, so all keys go in one call; the stream pointer goes after it.
        Update(cuda, OrtApi.UpdateCUDAProviderOptions, [("device_id", Invariant(options.DeviceId))]);
        if (options.UserComputeStream != 0)
        {
            fixed (byte* key = "user_compute_stream"u8)
                OrtStatus.Check(OrtApi.UpdateCUDAProviderOptionsWithValue(cuda, key, options.UserComputeStream));
        }
        OrtStatus.Check(OrtApi.SessionOptionsAppendExecutionProvider_CUDA_V2(sessionOptions, cuda));
    }

    private static void AppendTensorRT(nint sessionOptions, ExecutionProviderOptions options)
    {
        nint tensorRT;
        OrtStatus.Check(OrtApi.CreateTensorRTProviderOptions(&tensorRT));
        using var handle = new TensorRTProviderOptionsHandle(tensorRT);
        var settings = new List<(string Key, string Value)>
        {
            ("device_id", Invariant(options.DeviceId)),
            ("trt_fp16_enable", options.Fp16 ? "1" : "0"),
        };
        if (options.WorkspaceSize > 0)
            settings.Add(("trt_max_workspace_size", Invariant(options.WorkspaceSize)));
        if (!string.IsNullOrEmpty(options.EngineCachePath))
        {
            settings.Add(("trt_engine_cache_enable", "1"));
            settings.Add(("trt_engine_cache_path", options.EngineCachePath));
        }
        if (!string.IsNullOrEmpty(options.ProfileMinShapes))
        {
            settings.Add(("trt_profile_min_shapes", options.ProfileMinShapes));
            settings.Add(("trt_profile_opt_shapes", options.ProfileOptShapes ?? options.ProfileMinShapes));
            settings.Add(("trt_profile_max_shapes", options.ProfileMaxShapes ?? options.ProfileMinShapes));
        }
        Update(tensorRT, OrtApi.UpdateTensorRTProviderOptions, settings);
        if (options.UserComputeStream != 0)
        {
            fixed (byte* key = "user_compute_stream"u8)
                OrtStatus.Check(OrtApi.UpdateTensorRTProviderOptionsWithValue(tensorRT, key, options.UserComputeStream));
        }
        OrtStatus.Check(OrtApi.SessionOptionsAppendExecutionProvider_TensorRT_V2(sessionOptions, tensorRT));
    }

    private static void Update(nint providerOptions, delegate* unmanaged<nint, byte**, byte**, nuint, nint> update, IReadOnlyList<(string Key, string Value)> settings)
    {
        var keys = new string[settings.Count];
        var values = new string[settings.Count];
        for (int i = 0; i < settings.Count; i++)
            (keys[i], values[i]) = settings[i];

        var nativeKeys = NativeUtf8Array.Create(keys);
        var nativeValues = NativeUtf8Array.Create(values);
        try
        {
            OrtStatus.Check(update(providerOptions, nativeKeys.Pointers, nativeValues.Pointers, (nuint)settings.Count));
        }
        finally
        {
            nativeKeys.Free();
            nativeValues.Free();
        }
    }

    private static string Invariant(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
