/* The GPU exports of a CPU build (HPI_ENABLE_CUDA=OFF): each answers HPI_NOT_AVAILABLE, so NativeEngine can
 * say plainly that CUDA is not built in. The pinned pool falls back to aligned host memory through
 * hpi_pinned_usable. */
#include "hpi_cuda.h"

#include <stddef.h>

int32_t hpi_pinned_usable(int32_t device)
{
    (void)device;
    return 0;
}

int32_t hpi_pinned_alloc(int32_t device, uint64_t size, void** out)
{
    (void)device, (void)size, (void)out;
    return HPI_NOT_AVAILABLE;
}

int32_t hpi_pinned_free(void* ptr)
{
    (void)ptr;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaLastError(void)
{
    return 0;
}

const char* HpiNative_CudaErrorString(int32_t cuda_error)
{
    (void)cuda_error;
    return "CUDA support not built into libhpinative";
}

int32_t HpiNative_CudaRuntimeVersion(int32_t* runtime_version, int32_t* driver_version)
{
    (void)runtime_version, (void)driver_version;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaDeviceCount(int32_t* count)
{
    if (count != NULL)
        *count = 0;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaGetDeviceInfo(int32_t device, HpiCudaDeviceInfo* info)
{
    (void)device, (void)info;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaStreamCreate(int32_t device, int32_t flags, void** stream)
{
    (void)device, (void)flags, (void)stream;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaStreamDestroy(void* stream)
{
    (void)stream;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaStreamSynchronize(void* stream)
{
    (void)stream;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaEventCreate(int32_t device, int32_t flags, void** event)
{
    (void)device, (void)flags, (void)event;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaEventDestroy(void* event)
{
    (void)event;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaEventRecord(void* event, void* stream)
{
    (void)event, (void)stream;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaEventSynchronize(void* event)
{
    (void)event;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaEventElapsedTime(void* start, void* end, float* milliseconds)
{
    (void)start, (void)end, (void)milliseconds;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaDeviceAlloc(int32_t device, uint64_t size, void** out)
{
    (void)device, (void)size, (void)out;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaDeviceFree(void* ptr)
{
    (void)ptr;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaCopyHostToDeviceAsync(void* device_dst, const void* host_src, uint64_t size, void* stream)
{
    (void)device_dst, (void)host_src, (void)size, (void)stream;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaCopyDeviceToHostAsync(void* host_dst, const void* device_src, uint64_t size, void* stream)
{
    (void)host_dst, (void)device_src, (void)size, (void)stream;
    return HPI_NOT_AVAILABLE;
}

int32_t HpiNative_CudaPreprocessHwcToNchw(const uint8_t* src, float* dst, const HpiPreprocessParams* params,
                                          int32_t device, void* stream)
{
    (void)src, (void)dst, (void)params, (void)device, (void)stream;
    return HPI_NOT_AVAILABLE;
}
