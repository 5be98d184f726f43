using HighPerfInference.Server.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HighPerfInference.Server.Transport;

public static class BinaryTransportExtensions
{
    /// <summary>
    /// Registers the binary protocol: its options (section "BinaryProtocol"), its connection handler,
    /// and the endpoint on Server:BinaryPort, in the same Kestrel as the HTTP API.
    /// </summary>
    public static WebApplicationBuilder AddBinaryTransport(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(BinaryTransportOptions.Section).Get<BinaryTransportOptions>() ?? new BinaryTransportOptions();
        // A drain must end, and its last answers go out, before Kestrel's shutdown timeout aborts the connections.
        var shutdown = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        options.DrainTimeoutSeconds = Math.Min(options.DrainTimeoutSeconds, 0.8 * shutdown.ShutdownTimeoutSeconds);
        options.Validate();
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BinaryConnectionHandler>();
        builder.UseBinaryProtocol(listen => listen.UseBinaryProtocol());
        return builder;
    }

    /// <summary>Serves the binary protocol on this endpoint (the handler must be registered, see <see cref="AddBinaryTransport"/>).</summary>
    public static ListenOptions UseBinaryProtocol(this ListenOptions listen)
    {
        listen.UseConnectionHandler<BinaryConnectionHandler>();
        return listen;
    }
}
