using System.Runtime.InteropServices;

// Every native import of this assembly (HpiNative, CudaNative) is a library copied beside it.
[assembly: DefaultDllImportSearchPaths(DllImportSearchPath.AssemblyDirectory)]

namespace HighPerfInference.NativeEngine.Interop;

/// <summary>Status codes of the HpiNative shim (native/hpi_native.h).</summary>
internal enum HpiStatus
{
    Ok = 0,
    InvalidArgument = 1,
    OutOfMemory = 2,
    LockFailed = 3,
    NotAvailable = 4,
    NoDevice = 5,
    CudaError = 6,
}

/// <summary>Host allocation flags (native/hpi_native.h).</summary>
[Flags]
internal enum HpiHostAllocFlags
{
    None = 0,
    Locked = 1,
}

/// <summary>The C shim libhpinative.so, built by CMake and copied beside the application.</summary>
internal static partial class HpiNative
{
    private const string Library = "hpinative";

    // int32_t HpiNative_HostAlloc(uint64_t size, uint64_t alignment, int32_t flags, void** out)
    [LibraryImport(Library, EntryPoint = "HpiNative_HostAlloc")]
    public static partial HpiStatus HostAlloc(ulong size, ulong alignment, HpiHostAllocFlags flags, out nint pointer);

    // int32_t HpiNative_HostFree(void* ptr, uint64_t size, int32_t flags)
    [LibraryImport(Library, EntryPoint = "HpiNative_HostFree")]
    public static partial HpiStatus HostFree(nint pointer, ulong size, HpiHostAllocFlags flags);
}
