using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HighPerfInference.Server.Hosting;

/// <summary>
/// The server's listening endpoints. Kestrel rewrites each one with the port it really bound, so
/// after start these tell the actual ports even when the configuration asked for port 0 (tests).
/// </summary>
public sealed class ServerEndpoints
{
    internal ListenOptions? Http { get; set; }
    internal ListenOptions? Binary { get; set; }

    /// <summary>The bound HTTP endpoint; valid once the server has started.</summary>
    public IPEndPoint HttpEndPoint => Http?.IPEndPoint ?? throw new InvalidOperationException("The HTTP endpoint is not configured.");

    /// <summary>The bound binary-protocol endpoint, or null when no binary protocol handler is registered.</summary>
    public IPEndPoint? BinaryEndPoint => Binary?.IPEndPoint;
}

/// <summary>
/// What the binary-protocol endpoint runs (its connection handler), registered by the transport
/// with <see cref="ServerHost.UseBinaryProtocol"/>. Without one the binary port is not opened.
/// </summary>
public sealed class BinaryProtocolEndpoint(Action<ListenOptions> configure)
{
    public Action<ListenOptions> Configure { get; } = configure;
}
