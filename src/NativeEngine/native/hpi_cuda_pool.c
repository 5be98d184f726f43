/* The pinned host memory pool behind the scheduler's batch buffers on GPU. Blocks come in size classes and
 * are cached on return, so steady-state renting never reaches cudaHostAlloc (which is slow: it maps and
 * locks pages). A free block holds the next pointer of its class's list in its own first bytes, so caching
 * costs no bookkeeping memory. One mutex: blocks are rented per batch, not per request. */
#include "hpi_cuda.h"

#include <pthread.h>
#include <stdlib.h>

#define MIN_BLOCK_SHIFT 12                                    /* 4 KiB: one page */
#define MAX_BLOCK_SHIFT 40                                    /* 1 TiB */
#define CLASS_COUNT (4 * (MAX_BLOCK_SHIFT - MIN_BLOCK_SHIFT) + 1)
#define PAGE_ALIGNMENT ((uint64_t)1 << MIN_BLOCK_SHIFT)

struct HpiPinnedPool {
    pthread_mutex_t lock;
    void* free_lists[CLASS_COUNT];
    uint64_t max_cached_bytes;
    uint64_t cached_bytes;
    HpiPinnedPoolStats stats;
    int destroyed;
};

/* The smallest class that holds size: 4 KiB, then 1, 1.25, 1.5, 1.75 x 2^k. Returns 0 when size is too big. */
static uint64_t size_class(uint64_t size, int* index)
{
    if (size <= PAGE_ALIGNMENT) {
        *index = 0;
        return PAGE_ALIGNMENT;
    }
    if (size > ((uint64_t)1 << MAX_BLOCK_SHIFT))
        return 0;
    int k = 63 - __builtin_clzll(size - 1);                   /* 2^k < size <= 2^(k+1) */
    uint64_t step = (uint64_t)1 << (k - 2);
    uint64_t capacity = (size + step - 1) & ~(step - 1);      /* 5, 6, 7 or 8 steps */
    *index = 4 * (k - MIN_BLOCK_SHIFT) + (int)(capacity >> (k - 2)) - 4;
    return capacity;
}

/* The inverse of size_class: the capacity of class index. */
static uint64_t class_capacity(int index)
{
    if (index == 0)
        return PAGE_ALIGNMENT;
    int k = MIN_BLOCK_SHIFT + (index - 1) / 4;
    return (uint64_t)(5 + (index - 1) % 4) << (k - 2);
}

static int32_t block_alloc(const HpiPinnedPool* pool, uint64_t capacity, void** out)
{
    if (pool->stats.pinned)
        return hpi_pinned_alloc(pool->stats.device, capacity, out);
    return HpiNative_HostAlloc(capacity, PAGE_ALIGNMENT, 0, out);
}

static void block_free(const HpiPinnedPool* pool, void* block, uint64_t capacity)
{
    if (pool->stats.pinned)
        hpi_pinned_free(block);
    else
        HpiNative_HostFree(block, capacity, 0);
}

static void free_cached(HpiPinnedPool* pool)
{
    for (int i = 0; i < CLASS_COUNT; i++) {
        uint64_t capacity = class_capacity(i);
        while (pool->free_lists[i] != NULL) {
            void* block = pool->free_lists[i];
            pool->free_lists[i] = *(void**)block;
            block_free(pool, block, capacity);
            pool->stats.total_bytes -= capacity;
        }
    }
    pool->cached_bytes = 0;
}

static void pool_free(HpiPinnedPool* pool)
{
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

int32_t HpiNative_PinnedPoolCreate(int32_t device, uint64_t max_cached_bytes, HpiPinnedPool** out)
{
    if (out == NULL || device < -1)
        return HPI_INVALID_ARGUMENT;
    *out = NULL;
    HpiPinnedPool* pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return HPI_OUT_OF_MEMORY;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return HPI_OUT_OF_MEMORY;
    }
    pool->max_cached_bytes = max_cached_bytes;
    pool->stats.device = device;
    pool->stats.pinned = device >= 0 && hpi_pinned_usable(device);
    *out = pool;
    return HPI_OK;
}

int32_t HpiNative_PinnedPoolDestroy(HpiPinnedPool* pool)
{
    if (pool == NULL)
        return HPI_INVALID_ARGUMENT;
    pthread_mutex_lock(&pool->lock);
    pool->destroyed = 1;
    free_cached(pool);
    int last = pool->stats.used_bytes == 0;
    pthread_mutex_unlock(&pool->lock);
    if (last)
        pool_free(pool);
    return HPI_OK;
}

int32_t HpiNative_PinnedPoolRent(HpiPinnedPool* pool, uint64_t size, void** out, uint64_t* capacity)
{
    if (pool == NULL || out == NULL || capacity == NULL || size == 0)
        return HPI_INVALID_ARGUMENT;
    int index;
    uint64_t block_capacity = size_class(size, &index);
    if (block_capacity == 0)
        return HPI_INVALID_ARGUMENT;
    *out = NULL;

    pthread_mutex_lock(&pool->lock);
    int32_t status = HPI_OK;
    void* block = pool->free_lists[index];
    if (pool->destroyed) {
        status = HPI_INVALID_ARGUMENT;
    } else if (block != NULL) {
        pool->free_lists[index] = *(void**)block;
        pool->cached_bytes -= block_capacity;
        pool->stats.cache_hits++;
    } else if ((status = block_alloc(pool, block_capacity, &block)) == HPI_OK) {
        pool->stats.allocations++;
        pool->stats.total_bytes += block_capacity;
    }
    if (status == HPI_OK) {
        pool->stats.rents++;
        pool->stats.used_bytes += block_capacity;
        *out = block;
        *capacity = block_capacity;
    }
    pthread_mutex_unlock(&pool->lock);
    return status;
}

int32_t HpiNative_PinnedPoolReturn(HpiPinnedPool* pool, void* ptr, uint64_t capacity)
{
    int index;
    if (pool == NULL || ptr == NULL || size_class(capacity, &index) != capacity)
        return HPI_INVALID_ARGUMENT;

    pthread_mutex_lock(&pool->lock);
    if (capacity > pool->stats.used_bytes) {
        pthread_mutex_unlock(&pool->lock);
        return HPI_INVALID_ARGUMENT;
    }
    pool->stats.used_bytes -= capacity;
    if (!pool->destroyed && pool->cached_bytes + capacity <= pool->max_cached_bytes) {
        *(void**)ptr = pool->free_lists[index];
        pool->free_lists[index] = ptr;
        pool->cached_bytes += capacity;
    } else {
        block_free(pool, ptr, capacity);
        pool->stats.total_bytes -= capacity;
    }
    int last = pool->destroyed && pool->stats.used_bytes == 0;
    pthread_mutex_unlock(&pool->lock);
    if (last)
        pool_free(pool);
    return HPI_OK;
}

int32_t HpiNative_PinnedPoolTrim(HpiPinnedPool* pool)
{
    if (pool == NULL)
        return HPI_INVALID_ARGUMENT;
    pthread_mutex_lock(&pool->lock);
    free_cached(pool);
    pthread_mutex_unlock(&pool->lock);
    return HPI_OK;
}

int32_t HpiNative_PinnedPoolGetStats(HpiPinnedPool* pool, HpiPinnedPoolStats* stats)
{
    if (pool == NULL || stats == NULL)
        return HPI_INVALID_ARGUMENT;
    pthread_mutex_lock(&pool->lock);
    *stats = pool->stats;
    pthread_mutex_unlock(&pool->lock);
    return HPI_OK;
}
