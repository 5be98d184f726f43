using HighPerfInference.NativeEngine;
using HighPerfInference.Server.Scheduling;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HighPerfInference.Server.Models;

/// <summary>The one entry point the host calls to get the model repository and the scheduler behind it.</summary>
public static class ModelRepositoryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ModelRepository"/> as <see cref="IModelRepository"/> (the control plane) and its
    /// <see cref="ModelRepository.Router"/> as <see cref="IInferenceScheduler"/> (the data plane), with options bound from <paramref name="section"/>
    /// (see <see cref="ModelRepositoryOptions"/>), and a hosted service that loads the models at
    /// start and unloads them on shutdown. Models on GPU take their batch buffers from the
    /// <see cref="PinnedMemory"/> singleton; an <see cref="IBufferAllocator"/> registered beforehand
    /// replaces host memory for the others; an <see cref="IDurationObservers"/> (the server's metrics)
    /// receives every version's request and batch durations.
    /// </summary>
    public static IServiceCollection AddModelRepository(this IServiceCollection services, IConfiguration section) =>
        services.AddModelRepository(options => section.Bind(options));

    /// <inheritdoc cref="AddModelRepository(IServiceCollection, IConfiguration)"/>
    public static IServiceCollection AddModelRepository(this IServiceCollection services, Action<ModelRepositoryOptions> configure)
    {
        services.AddOptions<ModelRepositoryOptions>().Configure(configure);
        services.TryAddSingleton<PinnedMemory>();
        services.TryAddSingleton<IModelBackendFactory, OnnxBackendFactory>();
        services.TryAddSingleton(provider => new ModelRepository(
            provider.GetRequiredService<IOptions<ModelRepositoryOptions>>().Value,
            provider.GetRequiredService<IModelBackendFactory>(),
            provider.GetService<IBufferAllocator>(),
            provider.GetRequiredService<ILogger<ModelRepository>>(),
            provider.GetService<IDurationObservers>()));
        services.TryAddSingleton<IModelRepository>(provider => provider.GetRequiredService<ModelRepository>());
        services.TryAddSingleton<IInferenceScheduler>(provider => provider.GetRequiredService<ModelRepository>().Router);
        services.AddHostedService<ModelRepositoryHostedService>();
        return services;
    }
}

/// <summary>Loads the models when the host starts and drains and unloads them when it stops.</summary>
internal sealed partial class ModelRepositoryHostedService(ModelRepository repository, ILoggerFactory loggers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        RouteOrtLogs(loggers.CreateLogger("OnnxRuntime"));
        return repository.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => repository.StopAsync(cancellationToken);

    /// <summary>NativeEngine reports ONNX Runtime's log through a callback (standard error by default); the server sends it to ILogger.</summary>
    private static void RouteOrtLogs(ILogger logger) =>
        OrtEnvironment.Shared.Logger = (level, category, message) => LogOrt(logger, level switch
        {
            OrtLogLevel.Verbose => LogLevel.Trace,
            OrtLogLevel.Info => LogLevel.Information,
            OrtLogLevel.Warning => LogLevel.Warning,
            OrtLogLevel.Error => LogLevel.Error,
            _ => LogLevel.Critical,
        }, category, message);

    [LoggerMessage(Message = "{Category}: {Message}")]
    private static partial void LogOrt(ILogger logger, LogLevel level, string category, string message);
}
