using HighPerfInference.Server.Scheduling;
using Prometheus;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// The pinned memory pool of models on GPU, under Triton's names (nv_pinned_memory_pool_*) plus the pool's own
/// counters. The families are created only once a model on GPU has created the pool: a CPU-only server exposes
/// no pinned memory figures at all, rather than zeros that look like an empty pool.
/// </summary>
internal sealed class PinnedPoolMetrics(PinnedMemory pinnedMemory, IMetricFactory metrics) : IScrapedMetrics
{
    private Families? _families;

    public void Update()
    {
        if (pinnedMemory.Pool is not { } pool)
            return;
        var families = _families ??= new Families(metrics);
        var statistics = pool.Statistics;
        families.TotalBytes.Set(statistics.TotalBytes);
        families.UsedBytes.Set(statistics.UsedBytes);
        families.PageLocked.Set(statistics.IsPinned ? 1 : 0);
        families.Allocations.IncTo(statistics.Allocations);
        families.Rents.IncTo(statistics.Rents);
        families.CacheHits.IncTo(statistics.CacheHits);
    }

    private sealed class Families(IMetricFactory metrics)
    {
        public Gauge TotalBytes { get; } = metrics.CreateGauge("nv_pinned_memory_pool_total_bytes", "Bytes the pinned memory pool holds, rented and cached.");
        public Gauge UsedBytes { get; } = metrics.CreateGauge("nv_pinned_memory_pool_used_bytes", "Bytes of the pinned memory pool rented out as batch buffers.");
        public Gauge PageLocked { get; } = metrics.CreateGauge("hpi_pinned_memory_pool_page_locked", "1 when the pool's memory is page-locked through CUDA, 0 for its aligned host memory fallback.");
        public Counter Allocations { get; } = metrics.CreateCounter("hpi_pinned_memory_pool_allocations_total", "Blocks the pool obtained from the system.");
        public Counter Rents { get; } = metrics.CreateCounter("hpi_pinned_memory_pool_rents_total", "Blocks rented from the pool.");
        public Counter CacheHits { get; } = metrics.CreateCounter("hpi_pinned_memory_pool_cache_hits_total", "Rents served from a cached block.");
    }
}
