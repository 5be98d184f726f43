using HighPerfInference.Server.Scheduling;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// GET /metrics: the server's own prometheus-net registry in the Prometheus text format. A registry per server
/// (not prometheus-net's static default), so that servers in one process (tests) never share a series.
/// </summary>
public static class MetricsEndpoint
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services)
    {
        services.AddSingleton(_ => Metrics.NewCustomRegistry());
        services.AddSingleton<IMetricFactory>(provider => Metrics.WithCustomRegistry(provider.GetRequiredService<CollectorRegistry>()));
        services.AddSingleton<HttpMetrics>();
        services.AddSingleton<ModelHistograms>();
        services.AddSingleton<IDurationObservers>(provider => provider.GetRequiredService<ModelHistograms>());
        services.AddSingleton<IScrapedMetrics, ModelMetrics>();
        services.AddSingleton<IScrapedMetrics, ProcessMetrics>();
        services.TryAddSingleton<PinnedMemory>();
        services.AddSingleton<IScrapedMetrics, PinnedPoolMetrics>();
        return services;
    }

    public static IEndpointRouteBuilder MapPrometheusMetrics(this IEndpointRouteBuilder routes)
    {
        var registry = routes.ServiceProvider.GetRequiredService<CollectorRegistry>();
        // Resolved here, so every family exists before the first scrape.
        _ = routes.ServiceProvider.GetRequiredService<HttpMetrics>();
        _ = routes.ServiceProvider.GetRequiredService<ModelHistograms>();
        var scraped = routes.ServiceProvider.GetServices<IScrapedMetrics>().ToArray();
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var metrics in scraped)
                metrics.Update();
        });
        routes.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = ContentType;
            await registry.CollectAndExportAsTextAsync(context.Response.Body, ExpositionFormat.PrometheusText, context.RequestAborted).ConfigureAwait(false);
        });
        return routes;
    }
}

/// <summary>Metrics read from elsewhere when Prometheus scrapes (the scheduler's statistics, the process): brings their series up to date.</summary>
public interface IScrapedMetrics
{
    void Update();
}

/// <summary>The bucket bounds every duration histogram of the server shares.</summary>
public static class DurationBuckets
{
    /// <summary>
    /// Upper bounds in seconds: fine between 10 µs and 2 ms, where batches and answers of small models land
    /// (a p99 read from them is off by at most one bucket's width), coarser up to 10 s.
    /// </summary>
    public static readonly double[] Seconds =
    [
        0.00001, 0.000025, 0.00005, 0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.002, 0.003,
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ];
}
