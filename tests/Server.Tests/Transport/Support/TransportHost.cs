using System.Net;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HighPerfInference.Server.Tests.Transport.Support;

/// <summary>
/// Kestrel on a loopback port serving only the binary protocol, in front of a given repository:
/// the transport alone, with no HTTP API or model loading in the way.
/// </summary>
internal sealed class TransportHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TransportHost(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        EndPoint = endpoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Starts the transport over a stand-in that is both the control plane (metadata) and the data plane (inference).</summary>
    public static async Task<TransportHost> StartAsync<TRepository>(TRepository repository, BinaryTransportOptions? options = null)
        where TRepository : IModelRepository, IInferenceScheduler
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IModelRepository>(repository);
        builder.Services.AddSingleton<IInferenceScheduler>(repository);
        builder.Services.AddSingleton(options ?? new BinaryTransportOptions());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BinaryConnectionHandler>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? binary = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => binary = listen.UseBinaryProtocol()));
        var app = builder.Build();
        await app.StartAsync();
        return new TransportHost(app, binary!.IPEndPoint!);
    }

    /// <summary>A graceful stop: Kestrel asks every connection to close (GoAway) and waits for them.</summary>
    public Task StopAsync() => _app.StopAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
