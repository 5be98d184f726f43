using HighPerfInference.Server.Http.Inference;

namespace HighPerfInference.Server.Http;

/// <summary>The REST front door: the Open Inference Protocol (V2), its Triton extensions and the simple predict API.</summary>
public static class HttpApi
{
    public static IServiceCollection AddHttpApi(this IServiceCollection services)
    {
        services.AddSingleton<InferCallPool>();
        services.AddSingleton<InferEndpoint>();
        services.AddSingleton<ModelEndpoints>();
        return services;
    }

    /// <summary>Maps every endpoint; docs/http-api.md describes them.</summary>
    public static IEndpointRouteBuilder MapHttpApi(this IEndpointRouteBuilder routes)
    {
        var models = routes.ServiceProvider.GetRequiredService<ModelEndpoints>();
        var infer = routes.ServiceProvider.GetRequiredService<InferEndpoint>();

        routes.MapGet("/v2/health/live", ModelEndpoints.LiveAsync);
        routes.MapGet("/v2/health/ready", models.ReadyAsync);
        routes.MapGet("/v2", ModelEndpoints.ServerMetadataAsync);

        // Every model route with and without /versions/{version}.
        foreach (var model in (string[])["/v2/models/{model}", "/v2/models/{model}/versions/{version}"])
        {
            routes.MapGet(model, models.ModelMetadataAsync);
            routes.MapGet(model + "/ready", models.ModelReadyAsync);
            routes.MapGet(model + "/config", models.ModelConfigAsync);
            routes.MapGet(model + "/stats", models.StatisticsAsync);
            routes.MapPost(model + "/infer", infer.InferAsync);
        }
        routes.MapGet("/v2/models/stats", models.StatisticsAsync);

        routes.MapPost("/v2/repository/index", models.RepositoryIndexAsync);
        routes.MapPost("/v2/repository/models/{model}/load", models.LoadAsync);
        routes.MapPost("/v2/repository/models/{model}/unload", models.UnloadAsync);

        // The simple API, in TensorFlow Serving's shape.
        routes.MapPost("/v1/models/{model}:predict", infer.PredictAsync);
        routes.MapPost("/v1/models/{model}/versions/{version}:predict", infer.PredictAsync);
        routes.MapGet("/v1/models/{model}", models.ModelStatusAsync);

        // Aliases for probes that expect short paths.
        routes.MapGet("/health", ModelEndpoints.LiveAsync);
        routes.MapGet("/ready", models.ReadyAsync);

        routes.MapFallback(static context => HttpErrors.WriteAsync(context, StatusCodes.Status404NotFound,
            $"no endpoint {context.Request.Method} {context.Request.Path}; see /docs for the API"));
        return routes;
    }
}
