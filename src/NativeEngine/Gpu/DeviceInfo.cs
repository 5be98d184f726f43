namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>A CUDA device as <see cref="CudaRuntime.GetDevice"/> saw it.</summary>
/// <param name="Id">The device ordinal.</param>
/// <param name="Name">For example "NVIDIA H100 80GB HBM3".</param>
/// <param name="TotalMemoryBytes">Device memory.</param>
/// <param name="FreeMemoryBytes">Free device memory when the device was queried.</param>
/// <param name="ComputeCapability">For example 9.0 for an H100.</param>
/// <param name="MultiprocessorCount">Streaming multiprocessors.</param>
/// <param name="PciBusId">Where the device sits, to tell identical cards apart.</param>
public sealed record DeviceInfo(
    int Id,
    string Name,
    ulong TotalMemoryBytes,
    ulong FreeMemoryBytes,
    Version ComputeCapability,
    int MultiprocessorCount,
    int PciBusId);
