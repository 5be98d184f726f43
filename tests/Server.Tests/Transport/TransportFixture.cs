using HighPerfInference.Server.Tests.Transport.Support;
using HighPerfInference.Server.Transport;

namespace HighPerfInference.Server.Tests.Transport;

/// <summary>One transport host per test class for tests that leave the server as they found it.</summary>
public sealed class TransportFixture : IAsyncLifetime
{
    private TransportHost? _host;

    internal TestRepository Repository { get; } = new();

    internal TransportHost Host => _host ?? throw new InvalidOperationException("The host has not started.");

    public async Task InitializeAsync() =>
        _host = await TransportHost.StartAsync(Repository, new BinaryTransportOptions { MaxInFlight = 256 });

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        Repository.Dispose();
    }
}
