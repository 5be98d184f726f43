using HighPerfInference.NativeEngine;
using HighPerfInference.Server.Models;

namespace HighPerfInference.Server.Tests.Gpu;

/// <summary>
/// A test that needs a model to run on the CUDA provider: skipped, with the reason, unless CUDA is built into
/// libhpinative, GPU 0 exists and ORT's CUDA provider loads (the GPU flavor, scripts/setup-gpu, and CUDA 13).
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public override string? Skip
    {
        get => base.Skip ?? GpuSupport.UnavailableReason(ExecutionProviderKind.Cuda, 0);
        set => base.Skip = value;
    }
}

/// <summary>A test of how a GPU config behaves where the CUDA provider cannot run: skipped where it can.</summary>
public sealed class NoGpuFactAttribute : FactAttribute
{
    public NoGpuFactAttribute()
    {
        if (GpuSupport.UnavailableReason(ExecutionProviderKind.Cuda, 0) is null)
            Skip = "The CUDA provider can run here, so a config asking for it loads.";
    }
}
