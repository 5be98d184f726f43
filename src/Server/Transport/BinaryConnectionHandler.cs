using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using Microsoft.AspNetCore.Connections;

namespace HighPerfInference.Server.Transport;

/// <summary>
/// Kestrel's entry point for the binary protocol port: one <see cref="BinaryConnection"/> per TCP
/// connection, and a heartbeat that enforces the handshake, idle and drain timeouts of all of them
/// (one timer for the server, as Kestrel does for HTTP, rather than one per connection).
/// </summary>
public sealed partial class BinaryConnectionHandler : ConnectionHandler, IDisposable
{
    private readonly ConcurrentDictionary<BinaryConnection, byte> _connections = new();
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly byte[] _apiKey;
    private readonly ITimer _heartbeat;

    public BinaryConnectionHandler(IModelRepository repository, IInferenceScheduler scheduler, BinaryTransportOptions options, TimeProvider time,
        ILogger<BinaryConnectionHandler> logger, IHostApplicationLifetime? lifetime = null)
    {
        Repository = repository;
        Scheduler = scheduler;
        Options = options;
        Time = time;
        Logger = logger;
        _lifetime = lifetime;
        _apiKey = Encoding.UTF8.GetBytes(options.ApiKey);
        // A quarter of the shortest timeout, within 50 ms..1 s: timeouts fire at most a quarter late.
        var shortest = Math.Min(options.HandshakeTimeout.TotalMilliseconds, options.DrainTimeout.TotalMilliseconds);
        if (options.IdleTimeout > TimeSpan.Zero)
            shortest = Math.Min(shortest, options.IdleTimeout.TotalMilliseconds);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(shortest / 4, 50, 1000));
        _heartbeat = time.CreateTimer(static state => ((BinaryConnectionHandler)state!).Heartbeat(), this, period, period);
    }

    /// <summary>The version announced in HelloAck: the server assembly's.</summary>
    internal static string ServerVersion { get; } =
        typeof(BinaryConnectionHandler).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    internal IModelRepository Repository { get; }
    internal IInferenceScheduler Scheduler { get; }
    internal BinaryTransportOptions Options { get; }
    internal TimeProvider Time { get; }
    internal ILogger Logger { get; }

    /// <summary>Ready = the repository is ready and the server is not shutting down.</summary>
    internal bool IsServerReady => Repository.IsReady && _lifetime?.ApplicationStopping.IsCancellationRequested != true;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var binary = new BinaryConnection(connection, this);
        _connections.TryAdd(binary, 0);
        try
        {
            await binary.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(binary, out _);
        }
    }

    /// <summary>True when no key is configured, or the Hello's key matches it (compared in constant time).</summary>
    internal bool IsAuthorized(string apiKey)
    {
        if (_apiKey.Length == 0)
            return true;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(apiKey), _apiKey);
    }

    private void Heartbeat()
    {
        var now = Time.GetTimestamp();
        foreach (var connection in _connections.Keys)
        {
            try
            {
                connection.OnHeartbeat(now);
            }
            catch (Exception error)
            {
                LogHeartbeatFailed(Logger, error);
            }
        }
    }

    public void Dispose() => _heartbeat.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "Binary protocol heartbeat failed")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception error);
}
