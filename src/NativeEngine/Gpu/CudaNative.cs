using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>The GPU exports of libhpinative (native/hpi_native.h, "GPU" section), in header order.</summary>
internal static unsafe partial class CudaNative
{
    private const string Library = "hpinative";

    /// <summary>HPI_PREPROCESS_MAX_CHANNELS.</summary>
    public const int MaxChannels = 4;

    public const int StreamNonBlocking = 1;
    public const int EventDisableTiming = 1;

    /// <summary>HpiCudaDeviceInfo.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct DeviceInfo
    {
        public fixed byte Name[256];
        public ulong TotalMemory;
        public ulong FreeMemory;
        public int ComputeMajor;
        public int ComputeMinor;
        public int MultiprocessorCount;
        public int PciBusId;
    }

    /// <summary>HpiPinnedPoolStats.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PinnedPoolStats
    {
        public ulong TotalBytes;
        public ulong UsedBytes;
        public ulong Allocations;
        public ulong Rents;
        public ulong CacheHits;
        public int Pinned;
        public int Device;
    }

    /// <summary>HpiPreprocessParams.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PreprocessParams
    {
        public int Batch;
        public int Height;
        public int Width;
        public int Channels;
        public fixed float Mean[MaxChannels];
        public fixed float Scale[MaxChannels];
    }

    // int32_t HpiNative_CudaLastError(void)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaLastError")]
    public static partial int LastError();

    // const char* HpiNative_CudaErrorString(int32_t cuda_error)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaErrorString")]
    public static partial byte* ErrorString(int cudaError);

    // int32_t HpiNative_CudaRuntimeVersion(int32_t* runtime_version, int32_t* driver_version)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaRuntimeVersion")]
    public static partial HpiStatus RuntimeVersion(out int runtimeVersion, out int driverVersion);

    // int32_t HpiNative_CudaDeviceCount(int32_t* count)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaDeviceCount")]
    public static partial HpiStatus DeviceCount(out int count);

    // int32_t HpiNative_CudaGetDeviceInfo(int32_t device, HpiCudaDeviceInfo* info)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaGetDeviceInfo")]
    public static partial HpiStatus GetDeviceInfo(int device, DeviceInfo* info);

    // int32_t HpiNative_CudaStreamCreate(int32_t device, int32_t flags, void** stream)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaStreamCreate")]
    public static partial HpiStatus StreamCreate(int device, int flags, out nint stream);

    // int32_t HpiNative_CudaStreamDestroy(void* stream)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaStreamDestroy")]
    public static partial HpiStatus StreamDestroy(nint stream);

    // int32_t HpiNative_CudaStreamSynchronize(void* stream)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaStreamSynchronize")]
    public static partial HpiStatus StreamSynchronize(CudaStream stream);

    // int32_t HpiNative_CudaEventCreate(int32_t device, int32_t flags, void** event)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaEventCreate")]
    public static partial HpiStatus EventCreate(int device, int flags, out nint cudaEvent);

    // int32_t HpiNative_CudaEventDestroy(void* event)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaEventDestroy")]
    public static partial HpiStatus EventDestroy(nint cudaEvent);

    // int32_t HpiNative_CudaEventRecord(void* event, void* stream)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaEventRecord")]
    public static partial HpiStatus EventRecord(CudaEvent cudaEvent, CudaStream stream);

    // int32_t HpiNative_CudaEventSynchronize(void* event)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaEventSynchronize")]
    public static partial HpiStatus EventSynchronize(CudaEvent cudaEvent);

    // int32_t HpiNative_CudaEventElapsedTime(void* start, void* end, float* milliseconds)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaEventElapsedTime")]
    public static partial HpiStatus EventElapsedTime(CudaEvent start, CudaEvent end, out float milliseconds);

    // int32_t HpiNative_CudaDeviceAlloc(int32_t device, uint64_t size, void** out)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaDeviceAlloc")]
    public static partial HpiStatus DeviceAlloc(int device, ulong size, out nint pointer);

    // int32_t HpiNative_CudaDeviceFree(void* ptr)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaDeviceFree")]
    public static partial HpiStatus DeviceFree(nint pointer);

    // int32_t HpiNative_CudaCopyHostToDeviceAsync(void* device_dst, const void* host_src, uint64_t size, void* stream)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaCopyHostToDeviceAsync")]
    public static partial HpiStatus CopyHostToDeviceAsync(nint destination, nint source, ulong size, CudaStream stream);

    // int32_t HpiNative_CudaCopyDeviceToHostAsync(void* host_dst, const void* device_src, uint64_t size, void* stream)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaCopyDeviceToHostAsync")]
    public static partial HpiStatus CopyDeviceToHostAsync(nint destination, nint source, ulong size, CudaStream stream);

    // int32_t HpiNative_PinnedPoolCreate(int32_t device, uint64_t max_cached_bytes, HpiPinnedPool** out)
    [LibraryImport(Library, EntryPoint = "HpiNative_PinnedPoolCreate")]
    public static partial HpiStatus PinnedPoolCreate(int device, ulong maxCachedBytes, out nint pool);

    // int32_t HpiNative_PinnedPoolDestroy(HpiPinnedPool* pool)
    [LibraryImport(Library, EntryPoint = "HpiNative_PinnedPoolDestroy")]
    public static partial HpiStatus PinnedPoolDestroy(nint pool);

    // int32_t HpiNative_PinnedPoolRent(HpiPinnedPool* pool, uint64_t size, void** out, uint64_t* capacity)
    [LibraryImport(Library, EntryPoint = "HpiNative_PinnedPoolRent")]
    public static partial HpiStatus PinnedPoolRent(PinnedMemoryPool pool, ulong size, out nint pointer, out ulong capacity);

    // int32_t HpiNative_PinnedPoolReturn(HpiPinnedPool* pool, void* ptr, uint64_t capacity)
    [LibraryImport(Library, EntryPoint = "HpiNative_PinnedPoolReturn")]
    public static partial HpiStatus PinnedPoolReturn(nint pool, nint pointer, ulong capacity);

    // int32_t HpiNative_PinnedPoolTrim(HpiPinnedPool* pool)
    [LibraryImport(Library, EntryPoint = "HpiNative_PinnedPoolTrim")]
    public static partial HpiStatus PinnedPoolTrim(PinnedMemoryPool pool);

    // int32_t HpiNative_PinnedPoolGetStats(HpiPinnedPool* pool, HpiPinnedPoolStats* stats)
    [LibraryImport(Library, EntryPoint = "HpiNative_PinnedPoolGetStats")]
    public static partial HpiStatus PinnedPoolGetStats(PinnedMemoryPool pool, out PinnedPoolStats stats);

    // int32_t HpiNative_PreprocessHwcToNchwCpu(const uint8_t* src, float* dst, const HpiPreprocessParams* params)
    [LibraryImport(Library, EntryPoint = "HpiNative_PreprocessHwcToNchwCpu")]
    public static partial HpiStatus PreprocessHwcToNchwCpu(byte* source, float* destination, PreprocessParams* parameters);

    // int32_t HpiNative_CudaPreprocessHwcToNchw(const uint8_t* src, float* dst, const HpiPreprocessParams* params, int32_t device, void* stream)
    [LibraryImport(Library, EntryPoint = "HpiNative_CudaPreprocessHwcToNchw")]
    public static partial HpiStatus PreprocessHwcToNchw(DeviceBuffer source, DeviceBuffer destination, PreprocessParams* parameters, int device, CudaStream stream);
}
