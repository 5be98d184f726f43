using HighPerfInference.NativeEngine.Gpu;

namespace HighPerfInference.NativeEngine.Tests.Gpu;

/// <summary>
/// A test that needs a CUDA device: skipped, with the reason, where <see cref="CudaRuntime.DeviceCount"/> is 0
/// (CI, a CPU build of libhpinative, no driver). With <see cref="RequiresCudaProvider"/> it also needs ORT's
/// CUDA provider libraries beside libonnxruntime.so.1 (scripts/setup-gpu puts them there).
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public bool RequiresCudaProvider { get; set; }

    public override string? Skip
    {
        get => base.Skip ?? WhyNot(RequiresCudaProvider);
        set => base.Skip = value;
    }

    private static string? WhyNot(bool requiresCudaProvider)
    {
        if (CudaRuntime.DeviceCount == 0)
            return CudaRuntime.UnavailableReason;
        string? missing = requiresCudaProvider ? ExecutionProviders.FindMissingLibrary(ExecutionProviderKind.Cuda, AppContext.BaseDirectory) : null;
        return missing == null ? null : $"{missing} is not beside libonnxruntime.so.1 (run scripts/setup-gpu).";
    }
}

/// <summary>A test of how the GPU path behaves without a device: skipped where a device is present.</summary>
public sealed class NoGpuFactAttribute : FactAttribute
{
    public NoGpuFactAttribute()
    {
        if (CudaRuntime.DeviceCount > 0)
            Skip = "A CUDA device is present, so the no-device behaviour cannot be observed.";
    }
}
