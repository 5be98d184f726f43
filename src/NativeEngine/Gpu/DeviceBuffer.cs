using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>Device memory (<c>cudaMalloc</c>); <see cref="CudaStream"/> copies to and from it.</summary>
public sealed class DeviceBuffer : SafeHandle
{
    private DeviceBuffer(nint pointer, nuint byteLength, int deviceId)
        : base(0, ownsHandle: true)
    {
        SetHandle(pointer);
        ByteLength = byteLength;
        DeviceId = deviceId;
    }

    public nuint ByteLength { get; }

    public int DeviceId { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>The device address, for an ORT tensor over device memory; valid until the buffer is disposed.</summary>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>Allocates <paramref name="byteLength"/> bytes (uninitialised) on <paramref name="deviceId"/>.</summary>
    public static DeviceBuffer Allocate(nuint byteLength, int deviceId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfZero(byteLength);
        CudaRuntime.Check(CudaNative.DeviceAlloc(deviceId, byteLength, out nint pointer), "cudaMalloc", deviceId);
        return new DeviceBuffer(pointer, byteLength, deviceId);
    }

    protected override bool ReleaseHandle() => CudaNative.DeviceFree(handle) == HpiStatus.Ok;
}
