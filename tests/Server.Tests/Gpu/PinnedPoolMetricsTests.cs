using HighPerfInference.Server.Observability;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Http;
using Prometheus;

namespace HighPerfInference.Server.Tests.Gpu;

/// <summary>The pinned pool's figures in /metrics, from a pool in its aligned host memory mode (no device needed).</summary>
public sealed class PinnedPoolMetricsTests : IDisposable
{
    private readonly PinnedMemory _pinnedMemory = new();
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly PinnedPoolMetrics _metrics;

    public PinnedPoolMetricsTests() => _metrics = new PinnedPoolMetrics(_pinnedMemory, Metrics.WithCustomRegistry(_registry));

    public void Dispose() => _pinnedMemory.Dispose();

    private string Scrape()
    {
        _metrics.Update();
        using var text = new MemoryStream();
        _registry.CollectAndExportAsTextAsync(text).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(text.ToArray());
    }

    [Fact]
    public void Nothing_is_written_while_no_model_on_gpu_created_the_pool() => Assert.Equal("", Scrape());

    [Fact]
    public async Task The_pool_figures_are_a_valid_exposition_that_follows_the_rented_buffers()
    {
        var allocator = _pinnedMemory.Allocator(deviceId: -1);
        var buffer = allocator.Allocate(10_000);

        var text = Scrape();
        MetricsTests.AssertWellFormed(text);
        await MetricsTests.AssertPromtoolAcceptsAsync(text);
        var samples = MetricsTests.Samples(text);
        Assert.True(samples["nv_pinned_memory_pool_used_bytes"] >= 10_000);
        Assert.True(samples["nv_pinned_memory_pool_total_bytes"] >= samples["nv_pinned_memory_pool_used_bytes"]);
        Assert.Equal(0, samples["hpi_pinned_memory_pool_page_locked"]);
        Assert.Equal(1, samples["hpi_pinned_memory_pool_rents_total"]);
        Assert.Equal(1, samples["hpi_pinned_memory_pool_allocations_total"]);
        Assert.Equal(0, samples["hpi_pinned_memory_pool_cache_hits_total"]);

        buffer.Dispose();
        allocator.Allocate(10_000).Dispose();
        samples = MetricsTests.Samples(Scrape());
        Assert.Equal(0, samples["nv_pinned_memory_pool_used_bytes"]);
        Assert.True(samples["nv_pinned_memory_pool_total_bytes"] >= 10_000); // the block stays cached
        Assert.Equal(1, samples["hpi_pinned_memory_pool_cache_hits_total"]);
    }
}
