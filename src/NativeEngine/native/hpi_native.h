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

#ifdef __cplusplus
}
#endif

#endif
