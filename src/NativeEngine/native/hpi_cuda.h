/* Internal to the shim: what the GPU sources share. Free of CUDA types, so the CPU build includes it too. */
#ifndef HPI_CUDA_H
#define HPI_CUDA_H

#include "hpi_native.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Records a cudaError_t as this thread's last error and maps it to HPI_OK or HPI_CUDA_ERROR. */
int32_t hpi_cuda_check(int32_t cuda_error);

/* Makes device current on this thread: HPI_OK, HPI_NO_DEVICE (no such device, or no driver) or HPI_CUDA_ERROR. */
int32_t hpi_cuda_use_device(int32_t device);

/* Page-locked host memory for the pinned pool. hpi_pinned_usable is 1 when CUDA is built in and the device
 * exists; in a CPU build it is 0 and the other two return HPI_NOT_AVAILABLE. */
int32_t hpi_pinned_usable(int32_t device);
int32_t hpi_pinned_alloc(int32_t device, uint64_t size, void** out);
int32_t hpi_pinned_free(void* ptr);

/* Checks the transform's parameters and gives the number of pixels (batch * height * width). */
int32_t hpi_preprocess_validate(const HpiPreprocessParams* params, uint64_t* pixels);

#ifdef __cplusplus
}
#endif

#endif
