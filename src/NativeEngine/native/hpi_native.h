/* HighPerfInference native shim: the ABI NativeEngine calls through LibraryImport.
 * Rules: HpiNative_ prefix, fixed-width integer types, int32_t status codes (HpiStatus),
 * no C++ exceptions or longjmp across this boundary. */
#ifndef HPI_NATIVE_H
#define HPI_NATIVE_H

#include <stdint.h>

#if defined(_WIN32)
#define HPI_EXPORT __declspec(dllexport)
#else
#define HPI_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes, mirrored by NativeEngine's HpiStatus enum. */
enum {
    HPI_OK = 0,
    HPI_INVALID_ARGUMENT = 1,
    HPI_OUT_OF_MEMORY = 2,
    HPI_LOCK_FAILED = 3,      /* mlock refused (RLIMIT_MEMLOCK); the memory was released */
    HPI_NOT_AVAILABLE = 4     /* the feature is not built in (for example CUDA in a CPU build) */
};

/* Host allocation flags. */
enum {
    HPI_HOST_ALLOC_LOCKED = 1 /* mlock the pages so they are never swapped out */
};

HPI_EXPORT int32_t HpiNative_Version(void);

/* Allocates size bytes aligned to alignment (a power of two, at least sizeof(void*)).
 * The memory is zeroed. With HPI_HOST_ALLOC_LOCKED the pages are locked in RAM. */
HPI_EXPORT int32_t HpiNative_HostAlloc(uint64_t size, uint64_t alignment, int32_t flags, void** out);

/* Frees memory from HpiNative_HostAlloc; size and flags must be the ones it was allocated with. */
HPI_EXPORT int32_t HpiNative_HostFree(void* ptr, uint64_t size, int32_t flags);

/* ---- GPU: pinned memory pool, CUDA streams/events/copies, the preprocessing transform ----
 * Built with -DHPI_ENABLE_CUDA=ON (docs/gpu.md). In a CPU build every HpiNative_Cuda* call returns
 * HPI_NOT_AVAILABLE; the pinned pool and the CPU preprocessing reference work in both builds. */

/* Status codes of the GPU part (they extend the list above). */
enum {
    HPI_NO_DEVICE = 5,        /* CUDA is built in, but the device id does not exist (or there is no device) */
    HPI_CUDA_ERROR = 6        /* a CUDA runtime call failed: HpiNative_CudaLastError() says which error */
};

/* Stream and event flags. */
enum {
    HPI_STREAM_NON_BLOCKING = 1, /* no implicit synchronisation with the legacy default stream */
    HPI_EVENT_DISABLE_TIMING = 1 /* cheaper event, for ordering only (no HpiNative_CudaEventElapsedTime) */
};

/* The cudaError_t of the last failed CUDA call on this thread (0 when none). */
HPI_EXPORT int32_t HpiNative_CudaLastError(void);

/* A static, never freed description of a cudaError_t value. */
HPI_EXPORT const char* HpiNative_CudaErrorString(int32_t cuda_error);

/* CUDA runtime and driver versions as 1000*major + 10*minor (driver is 0 without a usable driver; some
 * runtimes then fail the whole call with cudaErrorInsufficientDriver). */
HPI_EXPORT int32_t HpiNative_CudaRuntimeVersion(int32_t* runtime_version, int32_t* driver_version);

/* Number of devices; HPI_OK with 0 when the driver or a device is missing (HpiNative_CudaLastError says why). */
HPI_EXPORT int32_t HpiNative_CudaDeviceCount(int32_t* count);

typedef struct HpiCudaDeviceInfo {
    char name[256];               /* NUL-terminated */
    uint64_t total_memory;        /* bytes */
    uint64_t free_memory;         /* bytes, at the time of the call */
    int32_t compute_major;        /* compute capability, for example 9.0 for an H100 */
    int32_t compute_minor;
    int32_t multiprocessor_count;
    int32_t pci_bus_id;
} HpiCudaDeviceInfo;

HPI_EXPORT int32_t HpiNative_CudaGetDeviceInfo(int32_t device, HpiCudaDeviceInfo* info);

/* Streams (cudaStream_t); the handle can be given to ORT as user_compute_stream. */
HPI_EXPORT int32_t HpiNative_CudaStreamCreate(int32_t device, int32_t flags, void** stream);
HPI_EXPORT int32_t HpiNative_CudaStreamDestroy(void* stream);
HPI_EXPORT int32_t HpiNative_CudaStreamSynchronize(void* stream);

/* Events (cudaEvent_t). Elapsed time is in milliseconds between two recorded, completed events. */
HPI_EXPORT int32_t HpiNative_CudaEventCreate(int32_t device, int32_t flags, void** event);
HPI_EXPORT int32_t HpiNative_CudaEventDestroy(void* event);
HPI_EXPORT int32_t HpiNative_CudaEventRecord(void* event, void* stream);
HPI_EXPORT int32_t HpiNative_CudaEventSynchronize(void* event);
HPI_EXPORT int32_t HpiNative_CudaEventElapsedTime(void* start, void* end, float* milliseconds);

/* Device memory. */
HPI_EXPORT int32_t HpiNative_CudaDeviceAlloc(int32_t device, uint64_t size, void** out);
HPI_EXPORT int32_t HpiNative_CudaDeviceFree(void* ptr);

/* Asynchronous copies on a stream. The host memory must stay valid until the stream has passed the copy;
 * the copy overlaps with other work only when the host memory is pinned. */
HPI_EXPORT int32_t HpiNative_CudaCopyHostToDeviceAsync(void* device_dst, const void* host_src, uint64_t size, void* stream);
HPI_EXPORT int32_t HpiNative_CudaCopyDeviceToHostAsync(void* host_dst, const void* device_src, uint64_t size, void* stream);

/* Pinned host memory pool: blocks in size classes (4 KiB, then four per power of two, so at most a quarter is
 * wasted), page-aligned, cached on return for reuse. Page-locked with cudaHostAlloc when CUDA is built in and
 * the device exists; otherwise plain aligned host memory (stats.pinned says which). Thread-safe. A rented
 * block's contents are undefined. Destroy (once) frees the cached blocks at once and the pool itself when the
 * last rented block comes back, so returning a block after destroy is valid. */
typedef struct HpiPinnedPool HpiPinnedPool;

typedef struct HpiPinnedPoolStats {
    uint64_t total_bytes;     /* held from the system: rented plus cached */
    uint64_t used_bytes;      /* rented out now (capacities, not requested sizes) */
    uint64_t allocations;     /* blocks obtained from the system since creation */
    uint64_t rents;           /* successful rents since creation */
    uint64_t cache_hits;      /* rents served from a cached block */
    int32_t pinned;           /* 1: page-locked (cudaHostAlloc); 0: aligned host memory */
    int32_t device;           /* the device the pool was created for (-1: none requested) */
} HpiPinnedPoolStats;

/* device -1 asks for plain aligned memory. max_cached_bytes bounds what returned blocks may keep cached. */
HPI_EXPORT int32_t HpiNative_PinnedPoolCreate(int32_t device, uint64_t max_cached_bytes, HpiPinnedPool** out);
HPI_EXPORT int32_t HpiNative_PinnedPoolDestroy(HpiPinnedPool* pool);
/* Rents at least size bytes (at most 1 TiB); *capacity receives the block's size, which Return needs. */
HPI_EXPORT int32_t HpiNative_PinnedPoolRent(HpiPinnedPool* pool, uint64_t size, void** out, uint64_t* capacity);
HPI_EXPORT int32_t HpiNative_PinnedPoolReturn(HpiPinnedPool* pool, void* ptr, uint64_t capacity);
/* Gives every cached block back to the system. */
HPI_EXPORT int32_t HpiNative_PinnedPoolTrim(HpiPinnedPool* pool);
HPI_EXPORT int32_t HpiNative_PinnedPoolGetStats(HpiPinnedPool* pool, HpiPinnedPoolStats* stats);

/* The image input transform: a batch of uint8 HWC images becomes normalized fp32 NCHW,
 *   dst[n][c][y][x] = ((float)src[n][y][x][c] - mean[c]) * scale[c]
 * (for ImageNet-style normalisation: mean = 255 * m, scale = 1 / (255 * s)). */
#define HPI_PREPROCESS_MAX_CHANNELS 4

typedef struct HpiPreprocessParams {
    int32_t batch;
    int32_t height;
    int32_t width;
    int32_t channels;         /* 1 to HPI_PREPROCESS_MAX_CHANNELS */
    float mean[HPI_PREPROCESS_MAX_CHANNELS];
    float scale[HPI_PREPROCESS_MAX_CHANNELS];
} HpiPreprocessParams;

/* The CPU reference (present in every build); src and dst must not overlap. */
HPI_EXPORT int32_t HpiNative_PreprocessHwcToNchwCpu(const uint8_t* src, float* dst, const HpiPreprocessParams* params);

/* The same transform as a CUDA kernel launched on a stream of the given device; src and dst are device memory.
 * Returns after the launch; synchronise the stream (or record an event) before reading dst. */
HPI_EXPORT int32_t HpiNative_CudaPreprocessHwcToNchw(const uint8_t* src, float* dst, const HpiPreprocessParams* params,
                                                     int32_t device, void* stream);

#ifdef __cplusplus
}
#endif

#endif
