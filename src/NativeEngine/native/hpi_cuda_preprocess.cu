/* The image input transform as a CUDA kernel: one thread per pixel reads its channels (adjacent bytes) and
 * writes one float per channel plane, so neighbouring threads write neighbouring floats. The arithmetic is
 * the CPU reference's, operation for operation (a subtraction then a multiplication: nothing to fuse), so
 * the results are bit-identical. */
#include "hpi_cuda.h"

#include <cuda_runtime.h>

namespace {

constexpr int kThreadsPerBlock = 256;
constexpr unsigned int kMaxBlocks = 65535;

__global__ void hwc_to_nchw(const uint8_t* __restrict__ src, float* __restrict__ dst, HpiPreprocessParams params,
                            uint64_t plane, uint64_t pixels)
{
    const int channels = params.channels;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t pixel = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; pixel < pixels; pixel += stride) {
        const uint64_t image = pixel / plane;
        const uint64_t offset = pixel - image * plane;
        const uint8_t* in = src + pixel * channels;
        float* out = dst + image * plane * channels + offset;
        for (int c = 0; c < channels; c++)
            out[(uint64_t)c * plane] = ((float)in[c] - params.mean[c]) * params.scale[c];
    }
}

}  // namespace

extern "C" int32_t HpiNative_CudaPreprocessHwcToNchw(const uint8_t* src, float* dst, const HpiPreprocessParams* params,
                                                     int32_t device, void* stream)
{
    uint64_t pixels;
    if (src == nullptr || dst == nullptr || stream == nullptr || hpi_preprocess_validate(params, &pixels) != HPI_OK)
        return HPI_INVALID_ARGUMENT;
    /* A kernel must be launched with its stream's device current. */
    int32_t status = hpi_cuda_use_device(device);
    if (status != HPI_OK)
        return status;

    const uint64_t plane = (uint64_t)params->height * (uint64_t)params->width;
    const uint64_t wanted = (pixels + kThreadsPerBlock - 1) / kThreadsPerBlock;
    const unsigned int blocks = wanted < kMaxBlocks ? (unsigned int)wanted : kMaxBlocks;
    hwc_to_nchw<<<blocks, kThreadsPerBlock, 0, (cudaStream_t)stream>>>(src, dst, *params, plane, pixels);
    return hpi_cuda_check((int32_t)cudaGetLastError());
}
