using HighPerfInference.Server.Hosting;

namespace HighPerfInference.Server.Http;

/// <summary>The REST front door: the Open Inference Protocol (V2), its Triton extensions and the simple predict API.</summary>
public static class HttpApi
{
    public static IServiceCollection AddHttpApi(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapHttpApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v2/health/live", static context => Live(context));
        routes.MapGet("/health", static context => Live(context));
        routes.MapGet("/v2/health/ready", static context => Ready(context));
        routes.MapGet("/ready", static context => Ready(context));
        return routes;
    }

    private static Task Live(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("""{"live":true}""");
    }

    private static Task Ready(HttpContext context)
    {
        var ready = !context.RequestServices.GetRequiredService<ServerLifecycle>().IsDraining;
        context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(ready ? """{"ready":true}""" : """{"ready":false}""");
    }
}
