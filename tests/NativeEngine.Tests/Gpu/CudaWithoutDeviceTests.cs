using HighPerfInference.NativeEngine.Gpu;

namespace HighPerfInference.NativeEngine.Tests.Gpu;

/// <summary>
/// Where there is no device (CI: a CPU build of libhpinative), the GPU path says so plainly: not available,
/// and every CUDA operation throws an error that tells how to get it, never a crash or a silent no-op.
/// </summary>
public sealed class CudaWithoutDeviceTests
{
    [NoGpuFact]
    public void Cuda_is_reported_unavailable_with_the_reason()
    {
        Assert.False(CudaRuntime.IsAvailable);
        Assert.Equal(0, CudaRuntime.DeviceCount);
        string? reason = CudaRuntime.UnavailableReason;
        Assert.NotNull(reason);
        if (CudaRuntime.IsBuiltIn)
            Assert.StartsWith("No CUDA device", reason, StringComparison.Ordinal);
        else
            Assert.Equal(CudaRuntime.NotBuiltInMessage, reason);
    }

    [NoGpuFact]
    public void Every_cuda_operation_fails_with_an_error_that_says_why()
    {
        Action[] deviceOperations =
        [
            () => CudaStream.Create().Dispose(),
            () => CudaEvent.Create().Dispose(),
            () => DeviceBuffer.Allocate(4096).Dispose(),
            () => CudaRuntime.GetDevice(0),
        ];
        if (CudaRuntime.IsBuiltIn)
        {
            foreach (Action operation in deviceOperations)
            {
                var error = Assert.Throws<CudaException>(operation);
                Assert.Contains("CUDA device 0 does not exist", error.Message, StringComparison.Ordinal);
            }
            return;
        }
        foreach (Action operation in (Action[])[.. deviceOperations, () => _ = CudaRuntime.RuntimeVersion])
        {
            var error = Assert.Throws<NotSupportedException>(operation);
            Assert.Equal(CudaRuntime.NotBuiltInMessage, error.Message);
            Assert.Contains("-DHPI_ENABLE_CUDA=ON", error.Message, StringComparison.Ordinal);
        }
    }

    [NoGpuFact]
    public void A_pool_asked_to_pin_for_a_missing_device_falls_back_to_aligned_host_memory()
    {
        using var pool = PinnedMemoryPool.Create(deviceId: 0);
        using var buffer = pool.Rent(10_000);

        Assert.False(pool.IsPinned);
        Assert.Equal(0, buffer.Pointer % 4096);
        buffer.AsSpan<byte>().Fill(7);
    }
}
