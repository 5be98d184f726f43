/* The image input transform on the CPU: the reference the CUDA kernel (hpi_cuda_preprocess.cu) is tested
 * against, and the transform itself where there is no GPU. */
#include "hpi_cuda.h"

#include <stddef.h>

/* Keeps every index of the flattened tensors inside int64 arithmetic. */
#define MAX_ELEMENTS ((uint64_t)1 << 62)

int32_t hpi_preprocess_validate(const HpiPreprocessParams* params, uint64_t* pixels)
{
    if (params == NULL || params->batch <= 0 || params->height <= 0 || params->width <= 0
        || params->channels <= 0 || params->channels > HPI_PREPROCESS_MAX_CHANNELS)
        return HPI_INVALID_ARGUMENT;
    uint64_t count = (uint64_t)params->batch * (uint64_t)params->height;  /* < 2^62: both are below 2^31 */
    if (count > MAX_ELEMENTS / (uint64_t)params->width)
        return HPI_INVALID_ARGUMENT;
    count *= (uint64_t)params->width;
    if (count > MAX_ELEMENTS / (uint64_t)params->channels)
        return HPI_INVALID_ARGUMENT;
    *pixels = count;
    return HPI_OK;
}

int32_t HpiNative_PreprocessHwcToNchwCpu(const uint8_t* src, float* dst, const HpiPreprocessParams* params)
{
    uint64_t pixels;
    if (src == NULL || dst == NULL || hpi_preprocess_validate(params, &pixels) != HPI_OK)
        return HPI_INVALID_ARGUMENT;

    const int channels = params->channels;
    const uint64_t plane = (uint64_t)params->height * (uint64_t)params->width;
    for (uint64_t image = 0; image < (uint64_t)params->batch; image++) {
        const uint8_t* in = src + image * plane * channels;
        float* out = dst + image * plane * channels;
        for (int c = 0; c < channels; c++) {
            const float mean = params->mean[c], scale = params->scale[c];
            float* out_plane = out + (uint64_t)c * plane;
            for (uint64_t p = 0; p < plane; p++)
                out_plane[p] = ((float)in[p * channels + c] - mean) * scale;
        }
    }
    return HPI_OK;
}
