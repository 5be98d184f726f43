using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>
/// A CUDA stream (<c>cudaStream_t</c>) on one device: work queued on it runs in order, and work on different
/// streams may overlap. Each model instance owns one and gives it to ORT as <c>user_compute_stream</c>
/// (<see cref="ExecutionProviderOptions.UserComputeStream"/> = <see cref="NativeHandle"/>).
/// </summary>
public sealed class CudaStream : SafeHandle
{
    private CudaStream(nint stream, int deviceId)
        : base(0, ownsHandle: true)
    {
        SetHandle(stream);
        DeviceId = deviceId;
    }

    public int DeviceId { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>The <c>cudaStream_t</c>; valid until the stream is disposed.</summary>
    public nint NativeHandle
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>
    /// Creates a stream on <paramref name="deviceId"/>. A non-blocking stream does not wait for the legacy
    /// default stream, which is what lets several instances overlap.
    /// </summary>
    public static CudaStream Create(int deviceId = 0, bool nonBlocking = true)
    {
        int flags = nonBlocking ? CudaNative.StreamNonBlocking : 0;
        CudaRuntime.Check(CudaNative.StreamCreate(deviceId, flags, out nint stream), "cudaStreamCreateWithFlags", deviceId);
        return new CudaStream(stream, deviceId);
    }

    /// <summary>
    /// Queues a copy of <paramref name="byteCount"/> bytes from host memory to device memory and returns at once.
    /// The host memory must stay valid and unchanged until the stream has passed the copy (synchronize the
    /// stream, or an event recorded after it). Only a copy from pinned memory (<see cref="PinnedMemoryPool"/>)
    /// overlaps with other streams' work; from pageable memory the driver stages it and the call may block.
    /// </summary>
    public void CopyHostToDeviceAsync(nint deviceDestination, nint hostSource, nuint byteCount) =>
        CudaRuntime.Check(CudaNative.CopyHostToDeviceAsync(deviceDestination, hostSource, byteCount, this), "cudaMemcpyAsync (host to device)", DeviceId);

    /// <summary>
    /// Queues a copy of <paramref name="byteCount"/> bytes from device memory (a <see cref="DeviceBuffer"/>, or an
    /// ORT output bound to the device) to host memory, which must stay valid until the stream has passed it.
    /// </summary>
    public void CopyDeviceToHostAsync(nint hostDestination, nint deviceSource, nuint byteCount) =>
        CudaRuntime.Check(CudaNative.CopyDeviceToHostAsync(hostDestination, deviceSource, byteCount, this), "cudaMemcpyAsync (device to host)", DeviceId);

    /// <summary>Blocks until all work queued on the stream has finished.</summary>
    public void Synchronize() => CudaRuntime.Check(CudaNative.StreamSynchronize(this), "cudaStreamSynchronize", DeviceId);

    protected override bool ReleaseHandle() => CudaNative.StreamDestroy(handle) == HpiStatus.Ok;
}
