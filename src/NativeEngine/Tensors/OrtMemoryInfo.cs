using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>ORT allocator kinds (<c>OrtAllocatorType</c>).</summary>
public enum OrtAllocatorType
{
    Device = 0,
    Arena = 1,
}

/// <summary>ORT memory kinds (<c>OrtMemType</c>).</summary>
public enum OrtMemType
{
    CpuInput = -2,
    /// <summary>CPU-accessible memory of a device provider, for example CUDA pinned host memory.</summary>
    CpuOutput = -1,
    Default = 0,
}

/// <summary>
/// Where a tensor's memory lives (<c>OrtMemoryInfo</c>): CPU, CUDA device memory ("Cuda") or CUDA pinned
/// host memory ("CudaPinned"). Used to wrap caller-owned memory and to bind IoBinding outputs to a device.
/// </summary>
public sealed unsafe class OrtMemoryInfo : IDisposable
{
    /// <summary>Plain CPU memory. Shared by the whole process and never disposed.</summary>
    public static OrtMemoryInfo Cpu { get; } = CreateCpu();

    private OrtMemoryInfo(MemoryInfoHandle handle)
    {
        Handle = handle;
        byte* name;
        int id;
        OrtStatus.Check(OrtApi.MemoryInfoGetName(handle.DangerousGetHandle(), &name));
        OrtStatus.Check(OrtApi.MemoryInfoGetId(handle.DangerousGetHandle(), &id));
        Name = Utf8.Read(name);
        DeviceId = id;
    }

    internal MemoryInfoHandle Handle { get; }

    /// <summary>The native <c>OrtMemoryInfo*</c>; throws once disposed.</summary>
    internal nint Pointer => Handle.GetPointer(this);

    /// <summary>The allocator name ORT uses: "Cpu", "Cuda", "CudaPinned", ...</summary>
    public string Name { get; }

    public int DeviceId { get; }

    /// <summary>A memory info by ORT allocator name ("Cpu", "Cuda", "CudaPinned"); creating one needs no device.</summary>
    public static OrtMemoryInfo Create(string name, OrtAllocatorType allocatorType, int deviceId, OrtMemType memType)
    {
        ArgumentNullException.ThrowIfNull(name);
        nint info;
        fixed (byte* utf8 = Utf8.NullTerminated(name))
            OrtStatus.Check(OrtApi.CreateMemoryInfo(utf8, (int)allocatorType, deviceId, (int)memType, &info));
        return new OrtMemoryInfo(new MemoryInfoHandle(info));
    }

    private static OrtMemoryInfo CreateCpu()
    {
        nint info;
        OrtStatus.Check(OrtApi.CreateCpuMemoryInfo((int)OrtAllocatorType.Device, (int)OrtMemType.Default, &info));
        return new OrtMemoryInfo(new MemoryInfoHandle(info));
    }

    public void Dispose()
    {
        if (!ReferenceEquals(this, Cpu))
            Handle.Dispose();
    }
}
