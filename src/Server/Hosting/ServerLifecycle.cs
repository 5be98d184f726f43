
namespace HighPerfInference.Server.Hosting;

/// <summary>
/// Graceful shutdown, step one. The host calls <see cref="StoppingAsync"/> before it stops Kestrel:
/// readiness turns false here, then (after <see cref="ServerOptions.DrainDelay"/>) Kestrel stops
/// accepting connections and waits up to <see cref="ServerOptions.ShutdownTimeout"/> for in-flight
/// requests, and only then do the model repository and its instances stop.
/// </summary>
public sealed partial class ServerLifecycle(ServerOptions options, ServerEndpoints endpoints, ILogger<ServerLifecycle> logger) : IHostedLifecycleService
{
    private volatile bool _draining;

    /// <summary>True from the moment shutdown begins; readiness reports false from then on.</summary>
    public bool IsDraining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        LogDraining(logger, options.DrainDelay.TotalMilliseconds);
        if (options.DrainDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(options.DrainDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The shutdown timeout ran out first: stop now.
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        // Kestrel warns that a cleartext endpoint serves HTTP/1.1 only; CleartextHttp2 serves h2c there too.
        LogListening(logger, endpoints.HttpEndPoint.ToString(), endpoints.BinaryEndPoint?.ToString() ?? "off (no handler registered)");
        return Task.CompletedTask;
    }
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "REST API on http://{Http} (HTTP/1.1, and HTTP/2 for clients that open with the HTTP/2 preface: Kestrel's warning above that HTTP/2 is not enabled does not apply, the server's h2c detection enables it); binary protocol: {Binary}")]
    private static partial void LogListening(ILogger logger, string http, string binary);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: readiness is now false; draining for {DelayMs} ms before closing the listeners")]
    private static partial void LogDraining(ILogger logger, double delayMs);
}
