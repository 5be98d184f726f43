using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>
/// A CUDA event (<c>cudaEvent_t</c>): a marker recorded into a stream, to wait for the work before it or to
/// time the work between two of them on the GPU's own clock.
/// </summary>
public sealed class CudaEvent : SafeHandle
{
    private CudaEvent(nint cudaEvent, int deviceId)
        : base(0, ownsHandle: true)
    {
        SetHandle(cudaEvent);
        DeviceId = deviceId;
    }

    public int DeviceId { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>Creates an event on <paramref name="deviceId"/>; without timing it is cheaper but cannot be timed.</summary>
    public static CudaEvent Create(int deviceId = 0, bool timing = true)
    {
        int flags = timing ? 0 : CudaNative.EventDisableTiming;
        CudaRuntime.Check(CudaNative.EventCreate(deviceId, flags, out nint cudaEvent), "cudaEventCreateWithFlags", deviceId);
        return new CudaEvent(cudaEvent, deviceId);
    }

    /// <summary>Marks the point in <paramref name="stream"/> after everything queued on it so far.</summary>
    public void Record(CudaStream stream) =>
        CudaRuntime.Check(CudaNative.EventRecord(this, stream), "cudaEventRecord", DeviceId);

    /// <summary>Blocks until the work before the recorded point has finished.</summary>
    public void Synchronize() =>
        CudaRuntime.Check(CudaNative.EventSynchronize(this), "cudaEventSynchronize", DeviceId);

    /// <summary>GPU time in milliseconds between two recorded, completed events (about 0.5 µs resolution).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        CudaRuntime.Check(CudaNative.EventElapsedTime(start, end, out float milliseconds), "cudaEventElapsedTime", start.DeviceId);
        return milliseconds;
    }

    protected override bool ReleaseHandle() => CudaNative.EventDestroy(handle) == HpiStatus.Ok;
}
