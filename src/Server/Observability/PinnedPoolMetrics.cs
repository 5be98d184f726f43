using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// The pinned memory pool of models on GPU, under Triton's names (nv_pinned_memory_pool_*) plus the pool's
/// own counters. Nothing is written until a model on GPU has created the pool: a CPU-only server exposes no
/// pinned memory figures at all, rather than zeros that look like an empty pool.
/// </summary>
internal sealed class PinnedPoolMetrics(PinnedMemory pinnedMemory) : IMetricsSource
{
    public void Write(PrometheusWriter writer)
    {
        if (pinnedMemory.Pool is not { } pool)
            return;
        var statistics = pool.Statistics;
        writer.Family("nv_pinned_memory_pool_total_bytes", MetricType.Gauge, "Bytes the pinned memory pool holds, rented and cached.")
            .Sample("nv_pinned_memory_pool_total_bytes", statistics.TotalBytes);
        writer.Family("nv_pinned_memory_pool_used_bytes", MetricType.Gauge, "Bytes of the pinned memory pool rented out as batch buffers.")
            .Sample("nv_pinned_memory_pool_used_bytes", statistics.UsedBytes);
        writer.Family("hpi_pinned_memory_pool_page_locked", MetricType.Gauge, "1 when the pool's memory is page-locked through CUDA, 0 for its aligned host memory fallback.")
            .Sample("hpi_pinned_memory_pool_page_locked", statistics.IsPinned ? 1 : 0);
        writer.Family("hpi_pinned_memory_pool_allocations_total", MetricType.Counter, "Blocks the pool obtained from the system.")
            .Sample("hpi_pinned_memory_pool_allocations_total", statistics.Allocations);
        writer.Family("hpi_pinned_memory_pool_rents_total", MetricType.Counter, "Blocks rented from the pool.")
            .Sample("hpi_pinned_memory_pool_rents_total", statistics.Rents);
        writer.Family("hpi_pinned_memory_pool_cache_hits_total", MetricType.Counter, "Rents served from a cached block.")
            .Sample("hpi_pinned_memory_pool_cache_hits_total", statistics.CacheHits);
    }
}
