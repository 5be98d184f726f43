using HighPerfInference.Server.Scheduling;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HighPerfInference.Server.Observability;

/// <summary>GET /metrics: every <see cref="IMetricsSource"/> in the Prometheus text format.</summary>
public static class MetricsEndpoint
{
    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services)
    {
        services.AddSingleton<HttpMetrics>();
        services.AddSingleton<IMetricsSource>(static services => services.GetRequiredService<HttpMetrics>());
        services.AddSingleton<IMetricsSource, ModelMetrics>();
        services.AddSingleton<IMetricsSource, ProcessMetrics>();
        services.TryAddSingleton<PinnedMemory>();
        services.AddSingleton<IMetricsSource, PinnedPoolMetrics>();
        return services;
    }

    public static IEndpointRouteBuilder MapPrometheusMetrics(this IEndpointRouteBuilder routes)
    {
        var sources = routes.ServiceProvider.GetServices<IMetricsSource>().ToArray();
        routes.MapGet("/metrics", context =>
        {
            var writer = new PrometheusWriter();
            foreach (var source in sources)
                source.Write(writer);
            context.Response.ContentType = PrometheusWriter.ContentType;
            return context.Response.WriteAsync(writer.ToString(), context.RequestAborted);
        });
        return routes;
    }
}
