using HighPerfInference.NativeEngine.Gpu;

namespace HighPerfInference.NativeEngine.Tests.Gpu;

/// <summary>
/// A test that needs a CUDA device: skipped, with the reason, where <see cref="CudaRuntime.DeviceCount"/> is 0
/// (CI, a CPU build of libhpinative, no driver). With <see cref="RequiresCudaProvider"/> it also needs ORT's
/// CUDA provider to load: the GPU package (-p:OnnxRuntimeFlavor=Gpu, scripts/setup-gpu) and CUDA 13.
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
        return requiresCudaProvider ? ExecutionProviders.UnavailableReason(ExecutionProviderKind.Cuda) : null;
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
