/* Aligned, optionally page-locked host buffers: the CPU backing store for batch buffers. */
#define _POSIX_C_SOURCE 200112L
#include "hpi_native.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HPI_NATIVE_VERSION 1

int32_t HpiNative_Version(void)
{
    return HPI_NATIVE_VERSION;
}

static int is_power_of_two(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

int32_t HpiNative_HostAlloc(uint64_t size, uint64_t alignment, int32_t flags, void** out)
{
    if (out == NULL || size == 0 || !is_power_of_two(alignment) || alignment < sizeof(void*))
        return HPI_INVALID_ARGUMENT;
    *out = NULL;

    void* ptr = NULL;
    if (posix_memalign(&ptr, (size_t)alignment, (size_t)size) != 0)
        return HPI_OUT_OF_MEMORY;
    memset(ptr, 0, (size_t)size);

    if ((flags & HPI_HOST_ALLOC_LOCKED) && mlock(ptr, (size_t)size) != 0) {
        free(ptr);
        return HPI_LOCK_FAILED;
    }
    *out = ptr;
    return HPI_OK;
}

int32_t HpiNative_HostFree(void* ptr, uint64_t size, int32_t flags)
{
    if (ptr == NULL)
        return HPI_INVALID_ARGUMENT;
    if (flags & HPI_HOST_ALLOC_LOCKED)
        munlock(ptr, (size_t)size);
    free(ptr);
    return HPI_OK;
}
