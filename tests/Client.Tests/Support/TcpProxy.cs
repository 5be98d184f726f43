using System.Net;
using System.Net.Sockets;

namespace HighPerfInference.Client.Tests.Support;

/// <summary>
/// A loopback TCP relay between a client and a server, so a test can cut live connections (the
/// network failing) or point new connections at another server.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<(Socket Client, Socket Server)> _pairs = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile IPEndPoint _target;
    private int _accepted;

    public TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Where new connections go from now on.</summary>
    public IPEndPoint Target
    {
        set => _target = value;
    }

    /// <summary>Resets every relayed connection at once.</summary>
    public void CutAll()
    {
        lock (_pairs)
        {
            foreach (var (client, server) in _pairs)
            {
                try
                {
                    client.LingerState = new LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                    // The relay already ended.
                }
                client.Dispose();
                server.Dispose();
            }
            _pairs.Clear();
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                client.NoDelay = true;
                try
                {
                    await server.ConnectAsync(_target, _stop.Token);
                }
                catch (SocketException)
                {
                    client.Dispose();
                    server.Dispose();
                    continue;
                }
                Interlocked.Increment(ref _accepted);
                lock (_pairs)
                    _pairs.Add((client, server));
                _ = RelayAsync(client, server);
                _ = RelayAsync(server, client);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task RelayAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
            to.Dispose();
            from.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        CutAll();
        _stop.Dispose();
    }
}
