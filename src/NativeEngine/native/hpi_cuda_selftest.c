/* hpi_cuda_selftest: checks the CUDA part of libhpinative on a real device through its HpiNative_ exports and
 * prints the figures docs/gpu.md asks for. It needs no .NET, which the GPU machines lack; the xunit GPU tests
 * (tests/NativeEngine.Tests/Gpu) check the same through the C# wrappers. Built with HPI_ENABLE_CUDA=ON.
 * Exit status 0 when every check passes, 1 when one fails, 2 when there is no device. */
#define _POSIX_C_SOURCE 200112L
#include "hpi_native.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE 0
#define MIB ((uint64_t)1 << 20)

static int s_failures;

static void check(int ok, const char* what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        s_failures++;
}

/* Stops at the first failing call: what follows depends on it. */
static void must(int32_t status, const char* call)
{
    if (status == HPI_OK)
        return;
    int32_t error = HpiNative_CudaLastError();
    printf("FAIL %s: status %d, cudaError %d (%s)\n", call, status, error, HpiNative_CudaErrorString(error));
    exit(1);
}

static void fill_random(uint8_t* bytes, uint64_t size, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (uint64_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        bytes[i] = (uint8_t)x;
    }
}

static float elapsed(void* start, void* end)
{
    float ms = 0;
    must(HpiNative_CudaEventSynchronize(end), "event synchronize");
    must(HpiNative_CudaEventElapsedTime(start, end, &ms), "event elapsed time");
    return ms;
}

/* A batch of images in pinned memory with its device buffers and pinned result: copy in, kernel, copy out. */
typedef struct Job {
    HpiPreprocessParams params;
    uint64_t in_bytes, out_bytes, in_capacity, out_capacity;
    uint8_t* image;
    float* result;
    void* device_image;
    void* device_result;
} Job;

static void job_init(Job* job, HpiPinnedPool* pool, int32_t channels, int32_t batch, int32_t height, int32_t width,
                     unsigned seed)
{
    static const float mean[] = {123.675f, 116.28f, 103.53f, 127.5f};
    static const float scale[] = {1 / 58.395f, 1 / 57.12f, 1 / 57.375f, 1 / 127.5f};
    memset(job, 0, sizeof(*job));
    job->params = (HpiPreprocessParams){.batch = batch, .height = height, .width = width, .channels = channels};
    memcpy(job->params.mean, mean, sizeof(mean));
    memcpy(job->params.scale, scale, sizeof(scale));
    job->in_bytes = (uint64_t)batch * height * width * channels;
    job->out_bytes = job->in_bytes * sizeof(float);
    must(HpiNative_PinnedPoolRent(pool, job->in_bytes, (void**)&job->image, &job->in_capacity), "pool rent");
    must(HpiNative_PinnedPoolRent(pool, job->out_bytes, (void**)&job->result, &job->out_capacity), "pool rent");
    must(HpiNative_CudaDeviceAlloc(DEVICE, job->in_bytes, &job->device_image), "device alloc");
    must(HpiNative_CudaDeviceAlloc(DEVICE, job->out_bytes, &job->device_result), "device alloc");
    fill_random(job->image, job->in_bytes, seed);
}

static void job_enqueue(Job* job, void* stream)
{
    must(HpiNative_CudaCopyHostToDeviceAsync(job->device_image, job->image, job->in_bytes, stream), "copy in");
    must(HpiNative_CudaPreprocessHwcToNchw(job->device_image, job->device_result, &job->params, DEVICE, stream), "kernel");
    must(HpiNative_CudaCopyDeviceToHostAsync(job->result, job->device_result, job->out_bytes, stream), "copy out");
}

/* Bit for bit: the kernel does the reference's arithmetic, operation for operation. */
static int job_matches_cpu(const Job* job)
{
    float* expected = malloc(job->out_bytes);
    must(expected ? HPI_OK : HPI_OUT_OF_MEMORY, "malloc");
    must(HpiNative_PreprocessHwcToNchwCpu(job->image, expected, &job->params), "CPU reference");
    int same = memcmp(expected, job->result, job->out_bytes) == 0;
    free(expected);
    return same;
}

static void job_free(Job* job, HpiPinnedPool* pool)
{
    HpiNative_CudaDeviceFree(job->device_result);
    HpiNative_CudaDeviceFree(job->device_image);
    HpiNative_PinnedPoolReturn(pool, job->result, job->out_capacity);
    HpiNative_PinnedPoolReturn(pool, job->image, job->in_capacity);
}

int main(void)
{
    int32_t count = 0, runtime = 0, driver = 0;
    must(HpiNative_CudaDeviceCount(&count), "device count");
    if (count == 0) {
        int32_t error = HpiNative_CudaLastError();
        printf("no CUDA device (cudaError %d: %s)\n", error, HpiNative_CudaErrorString(error));
        return 2;
    }
    HpiCudaDeviceInfo info;
    must(HpiNative_CudaGetDeviceInfo(DEVICE, &info), "device info");
    must(HpiNative_CudaRuntimeVersion(&runtime, &driver), "runtime version");
    printf("device %d: %s, compute %d.%d, %d SMs, %llu MiB (%llu free); CUDA runtime %d, driver %d\n", DEVICE,
           info.name, info.compute_major, info.compute_minor, info.multiprocessor_count,
           (unsigned long long)(info.total_memory / MIB), (unsigned long long)(info.free_memory / MIB), runtime, driver);

    void *stream, *second, *start, *end, *start2, *end2;
    must(HpiNative_CudaStreamCreate(DEVICE, HPI_STREAM_NON_BLOCKING, &stream), "stream create");
    must(HpiNative_CudaStreamCreate(DEVICE, HPI_STREAM_NON_BLOCKING, &second), "stream create");
    must(HpiNative_CudaEventCreate(DEVICE, 0, &start), "event create");
    must(HpiNative_CudaEventCreate(DEVICE, 0, &end), "event create");
    must(HpiNative_CudaEventCreate(DEVICE, 0, &start2), "event create");
    must(HpiNative_CudaEventCreate(DEVICE, 0, &end2), "event create");

    /* The pool pins and reuses. */
    HpiPinnedPool* pool;
    HpiPinnedPoolStats stats;
    void *block, *again;
    uint64_t capacity;
    must(HpiNative_PinnedPoolCreate(DEVICE, UINT64_MAX, &pool), "pool create");
    must(HpiNative_PinnedPoolRent(pool, MIB, &block, &capacity), "pool rent");
    must(HpiNative_PinnedPoolReturn(pool, block, capacity), "pool return");
    must(HpiNative_PinnedPoolRent(pool, MIB, &again, &capacity), "pool rent");
    must(HpiNative_PinnedPoolGetStats(pool, &stats), "pool stats");
    check(stats.pinned == 1, "pool blocks are page-locked");
    check(again == block && stats.allocations == 1 && stats.cache_hits == 1, "pool reuses a returned block");
    must(HpiNative_PinnedPoolReturn(pool, again, capacity), "pool return");

    /* Round trip, and host-to-device bandwidth from pinned and from pageable memory. */
    const uint64_t size = 64 * MIB;
    uint8_t *pinned, *back, *pageable;
    uint64_t pinned_capacity, back_capacity;
    void* device;
    must(HpiNative_PinnedPoolRent(pool, size, (void**)&pinned, &pinned_capacity), "pool rent");
    must(HpiNative_PinnedPoolRent(pool, size, (void**)&back, &back_capacity), "pool rent");
    must(posix_memalign((void**)&pageable, 4096, size) == 0 ? HPI_OK : HPI_OUT_OF_MEMORY, "posix_memalign");
    must(HpiNative_CudaDeviceAlloc(DEVICE, size, &device), "device alloc");
    fill_random(pageable, size, 7);
    memcpy(pinned, pageable, size);
    float copy_ms[2];
    const uint8_t* sources[2] = {pinned, pageable};
    for (int i = 0; i < 2; i++) {
        must(HpiNative_CudaCopyHostToDeviceAsync(device, sources[i], size, stream), "copy in"); /* warm-up */
        must(HpiNative_CudaEventRecord(start, stream), "event record");
        must(HpiNative_CudaCopyHostToDeviceAsync(device, sources[i], size, stream), "copy in");
        must(HpiNative_CudaEventRecord(end, stream), "event record");
        copy_ms[i] = elapsed(start, end);
    }
    memset(back, 0, size);
    must(HpiNative_CudaCopyDeviceToHostAsync(back, device, size, stream), "copy out");
    must(HpiNative_CudaStreamSynchronize(stream), "stream synchronize");
    check(memcmp(back, pageable, size) == 0, "64 MiB make the round trip host -> device -> host");
    printf("figure: 64 MiB host to device: pinned %.3f ms (%.1f GB/s), pageable %.3f ms (%.1f GB/s), %.1fx\n",
           copy_ms[0], size / copy_ms[0] / 1e6, copy_ms[1], size / copy_ms[1] / 1e6, copy_ms[1] / copy_ms[0]);
    HpiNative_CudaDeviceFree(device);
    free(pageable);
    HpiNative_PinnedPoolReturn(pool, back, back_capacity);
    HpiNative_PinnedPoolReturn(pool, pinned, pinned_capacity);

    /* The kernel against the CPU reference; odd sizes so no thread block lines up with a row. */
    for (int32_t channels = 1; channels <= HPI_PREPROCESS_MAX_CHANNELS; channels++) {
        Job job;
        job_init(&job, pool, channels, 4, 37, 53, (unsigned)channels);
        job_enqueue(&job, stream);
        must(HpiNative_CudaStreamSynchronize(stream), "stream synchronize");
        char what[96];
        snprintf(what, sizeof(what), "kernel = CPU reference, bit for bit (%d channels, 4x37x53)", channels);
        check(job_matches_cpu(&job), what);
        job_free(&job, pool);
    }

    /* Two preprocessing jobs on one stream, then on two streams. */
    Job first, other;
    job_init(&first, pool, 3, 32, 224, 224, 1);
    job_init(&other, pool, 3, 32, 224, 224, 2);
    job_enqueue(&first, stream); /* warm-up */
    must(HpiNative_CudaStreamSynchronize(stream), "stream synchronize");
    must(HpiNative_CudaEventRecord(start, stream), "event record");
    job_enqueue(&first, stream);
    job_enqueue(&other, stream);
    must(HpiNative_CudaEventRecord(end, stream), "event record");
    float serial = elapsed(start, end);
    must(HpiNative_CudaEventRecord(start, stream), "event record");
    must(HpiNative_CudaEventRecord(start2, second), "event record");
    job_enqueue(&first, stream);
    job_enqueue(&other, second);
    must(HpiNative_CudaEventRecord(end, stream), "event record");
    must(HpiNative_CudaEventRecord(end2, second), "event record");
    float one = elapsed(start, end), two = elapsed(start2, end2);
    /* Both streams start within microseconds of each other, so the longer one bounds the pair. */
    float overlapped = one > two ? one : two;
    check(job_matches_cpu(&first) && job_matches_cpu(&other), "two streams: both results = CPU reference");
    printf("figure: two 32x224x224x3 preprocess jobs (copy in, kernel, copy out): one stream %.3f ms, two streams %.3f ms\n",
           serial, overlapped);
    job_free(&other, pool);
    job_free(&first, pool);

    must(HpiNative_PinnedPoolGetStats(pool, &stats), "pool stats");
    printf("pool: %llu bytes held, %llu used, %llu allocations, %llu rents, %llu cache hits\n",
           (unsigned long long)stats.total_bytes, (unsigned long long)stats.used_bytes,
           (unsigned long long)stats.allocations, (unsigned long long)stats.rents, (unsigned long long)stats.cache_hits);
    check(stats.used_bytes == 0, "every block went back to the pool");
    HpiNative_PinnedPoolDestroy(pool);
    HpiNative_CudaEventDestroy(end2);
    HpiNative_CudaEventDestroy(start2);
    HpiNative_CudaEventDestroy(end);
    HpiNative_CudaEventDestroy(start);
    HpiNative_CudaStreamDestroy(second);
    HpiNative_CudaStreamDestroy(stream);
    printf("%s\n", s_failures == 0 ? "all checks passed" : "SOME CHECKS FAILED");
    return s_failures == 0 ? 0 : 1;
}
