/* The CUDA runtime part of the shim (built with -DHPI_ENABLE_CUDA=ON): devices, streams, events, device
 * memory, asynchronous copies and the page-locked allocations behind the pinned pool. Every call maps its
 * cudaError_t to an HPI status and keeps the error for HpiNative_CudaLastError. */
#include "hpi_cuda.h"

#include <cuda_runtime_api.h>
#include <string.h>

static _Thread_local int32_t t_last_error;

int32_t hpi_cuda_check(int32_t cuda_error)
{
    if (cuda_error == (int32_t)cudaSuccess)
        return HPI_OK;
    t_last_error = cuda_error;
    return HPI_CUDA_ERROR;
}

static int32_t check(cudaError_t error)
{
    return hpi_cuda_check((int32_t)error);
}

int32_t hpi_cuda_use_device(int32_t device)
{
    cudaError_t error = cudaSetDevice(device);
    if (error == cudaErrorInvalidDevice || error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver) {
        t_last_error = (int32_t)error;
        return HPI_NO_DEVICE;
    }
    return check(error);
}

/* Running out of memory is its own status, so callers can tell it from a broken device. */
static int32_t check_alloc(cudaError_t error)
{
    if (error == cudaErrorMemoryAllocation) {
        t_last_error = (int32_t)error;
        return HPI_OUT_OF_MEMORY;
    }
    return check(error);
}

int32_t HpiNative_CudaLastError(void)
{
    return t_last_error;
}

const char* HpiNative_CudaErrorString(int32_t cuda_error)
{
    return cudaGetErrorString((cudaError_t)cuda_error);
}

int32_t HpiNative_CudaRuntimeVersion(int32_t* runtime_version, int32_t* driver_version)
{
    if (runtime_version == NULL || driver_version == NULL)
        return HPI_INVALID_ARGUMENT;
    int runtime = 0, driver = 0;
    /* Some runtimes answer cudaErrorInsufficientDriver here when there is no driver: that is reported. */
    int32_t status = check(cudaRuntimeGetVersion(&runtime));
    if (status != HPI_OK)
        return status;
    if (cudaDriverGetVersion(&driver) != cudaSuccess)
        driver = 0; /* no usable driver */
    *runtime_version = runtime;
    *driver_version = driver;
    return HPI_OK;
}

int32_t HpiNative_CudaDeviceCount(int32_t* count)
{
    if (count == NULL)
        return HPI_INVALID_ARGUMENT;
    int n = 0;
    cudaError_t error = cudaGetDeviceCount(&n);
    *count = 0;
    if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver) {
        t_last_error = (int32_t)error;
        return HPI_OK;
    }
    if (error != cudaSuccess)
        return check(error);
    *count = n;
    return HPI_OK;
}

int32_t HpiNative_CudaGetDeviceInfo(int32_t device, HpiCudaDeviceInfo* info)
{
    if (info == NULL)
        return HPI_INVALID_ARGUMENT;
    int32_t status = hpi_cuda_use_device(device);
    if (status != HPI_OK)
        return status;

    struct cudaDeviceProp prop;
    size_t free_bytes = 0, total_bytes = 0;
    if ((status = check(cudaGetDeviceProperties(&prop, device))) != HPI_OK
        || (status = check(cudaMemGetInfo(&free_bytes, &total_bytes))) != HPI_OK)
        return status;

    memset(info, 0, sizeof(*info));
    memcpy(info->name, prop.name, sizeof(info->name) - 1); /* both are char[256]; the last byte stays 0 */
    info->total_memory = total_bytes;
    info->free_memory = free_bytes;
    info->compute_major = prop.major;
    info->compute_minor = prop.minor;
    info->multiprocessor_count = prop.multiProcessorCount;
    info->pci_bus_id = prop.pciBusID;
    return HPI_OK;
}

int32_t HpiNative_CudaStreamCreate(int32_t device, int32_t flags, void** stream)
{
    if (stream == NULL)
        return HPI_INVALID_ARGUMENT;
    *stream = NULL;
    int32_t status = hpi_cuda_use_device(device);
    if (status != HPI_OK)
        return status;
    cudaStream_t created = NULL;
    unsigned int cuda_flags = (flags & HPI_STREAM_NON_BLOCKING) ? cudaStreamNonBlocking : cudaStreamDefault;
    if ((status = check(cudaStreamCreateWithFlags(&created, cuda_flags))) == HPI_OK)
        *stream = created;
    return status;
}

int32_t HpiNative_CudaStreamDestroy(void* stream)
{
    if (stream == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaStreamDestroy((cudaStream_t)stream));
}

int32_t HpiNative_CudaStreamSynchronize(void* stream)
{
    if (stream == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaStreamSynchronize((cudaStream_t)stream));
}

int32_t HpiNative_CudaEventCreate(int32_t device, int32_t flags, void** event)
{
    if (event == NULL)
        return HPI_INVALID_ARGUMENT;
    *event = NULL;
    int32_t status = hpi_cuda_use_device(device);
    if (status != HPI_OK)
        return status;
    cudaEvent_t created = NULL;
    unsigned int cuda_flags = (flags & HPI_EVENT_DISABLE_TIMING) ? cudaEventDisableTiming : cudaEventDefault;
    if ((status = check(cudaEventCreateWithFlags(&created, cuda_flags))) == HPI_OK)
        *event = created;
    return status;
}

int32_t HpiNative_CudaEventDestroy(void* event)
{
    if (event == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaEventDestroy((cudaEvent_t)event));
}

int32_t HpiNative_CudaEventRecord(void* event, void* stream)
{
    if (event == NULL || stream == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaEventRecord((cudaEvent_t)event, (cudaStream_t)stream));
}

int32_t HpiNative_CudaEventSynchronize(void* event)
{
    if (event == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaEventSynchronize((cudaEvent_t)event));
}

int32_t HpiNative_CudaEventElapsedTime(void* start, void* end, float* milliseconds)
{
    if (start == NULL || end == NULL || milliseconds == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaEventElapsedTime(milliseconds, (cudaEvent_t)start, (cudaEvent_t)end));
}

int32_t HpiNative_CudaDeviceAlloc(int32_t device, uint64_t size, void** out)
{
    if (out == NULL || size == 0)
        return HPI_INVALID_ARGUMENT;
    *out = NULL;
    int32_t status = hpi_cuda_use_device(device);
    if (status != HPI_OK)
        return status;
    return check_alloc(cudaMalloc(out, (size_t)size));
}

int32_t HpiNative_CudaDeviceFree(void* ptr)
{
    if (ptr == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaFree(ptr));
}

/* A copy needs no current device: it runs in the context of its stream. */
static int32_t copy_async(void* dst, const void* src, uint64_t size, enum cudaMemcpyKind kind, void* stream)
{
    if (dst == NULL || src == NULL || stream == NULL)
        return HPI_INVALID_ARGUMENT;
    return check(cudaMemcpyAsync(dst, src, (size_t)size, kind, (cudaStream_t)stream));
}

int32_t HpiNative_CudaCopyHostToDeviceAsync(void* device_dst, const void* host_src, uint64_t size, void* stream)
{
    return copy_async(device_dst, host_src, size, cudaMemcpyHostToDevice, stream);
}

int32_t HpiNative_CudaCopyDeviceToHostAsync(void* host_dst, const void* device_src, uint64_t size, void* stream)
{
    return copy_async(host_dst, device_src, size, cudaMemcpyDeviceToHost, stream);
}

int32_t hpi_pinned_usable(int32_t device)
{
    return hpi_cuda_use_device(device) == HPI_OK;
}

int32_t hpi_pinned_alloc(int32_t device, uint64_t size, void** out)
{
    int32_t status = hpi_cuda_use_device(device);
    if (status != HPI_OK)
        return status;
    /* Portable: the pages count as pinned for every device context, not only the current one. */
    return check_alloc(cudaHostAlloc(out, (size_t)size, cudaHostAllocPortable));
}

int32_t hpi_pinned_free(void* ptr)
{
    return check(cudaFreeHost(ptr));
}
