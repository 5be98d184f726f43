using System.Collections.Concurrent;
using System.Net;

namespace HighPerfInference.Client.Binary;

/// <summary>
/// A fixed number of connection slots. Calls go round-robin, skipping a full connection for one
/// with room. A slot whose connection closed or got GoAway is reconnected by the next call that
/// lands on it; concurrent callers share that one connect attempt.
/// </summary>
internal sealed class ConnectionPool
{
    private readonly EndPoint _endpoint;
    private readonly InferenceClientOptions _options;
    private readonly Slot[] _slots;
    // Every connection not closed yet, draining ones (out of their slot after GoAway) included.
    private readonly ConcurrentDictionary<ClientConnection, byte> _open = new();
    private uint _next;
    private volatile bool _disposed;

    public ClientCounters Counters { get; }

    public ConnectionPool(EndPoint endpoint, InferenceClientOptions options, ClientCounters counters)
    {
        Counters = counters;
        _endpoint = endpoint;
        _options = options;
        _slots = new Slot[options.Connections];
        for (var i = 0; i < _slots.Length; i++)
            _slots[i] = new Slot();
    }

    /// <summary>A usable connection, opening one when the chosen slot has none.</summary>
    public ValueTask<ClientConnection> GetAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(InferenceClient));
        var start = Interlocked.Increment(ref _next);
        var slot = _slots[start % (uint)_slots.Length];
        if (slot.Connection is not { IsUsable: true } chosen)
            return new ValueTask<ClientConnection>(slot.ConnectAsync(this, cancellationToken));
        if (chosen.HasRoom)
            return new ValueTask<ClientConnection>(chosen);
        for (var i = 1; i < _slots.Length; i++)
        {
            if (_slots[(start + i) % (uint)_slots.Length].Connection is { IsUsable: true, HasRoom: true } other)
                return new ValueTask<ClientConnection>(other);
        }
        // All full: queue on the chosen one.
        return new ValueTask<ClientConnection>(chosen);
    }

    /// <summary>Opens every slot's connection now rather than on first use.</summary>
    public async Task ConnectAllAsync(CancellationToken cancellationToken)
    {
        var connecting = new Task<ClientConnection>[_slots.Length];
        for (var i = 0; i < _slots.Length; i++)
            connecting[i] = _slots[i].Connection is { IsUsable: true } open ? Task.FromResult(open) : _slots[i].ConnectAsync(this, cancellationToken);
        await Task.WhenAll(connecting).ConfigureAwait(false);
    }

    /// <summary>The server announcement of any open connection, or null.</summary>
    public Protocol.HelloAck? Server
    {
        get
        {
            foreach (var slot in _slots)
            {
                if (slot.Connection is { } connection)
                    return connection.Server;
            }
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        var closing = new List<Task>();
        foreach (var connection in _open.Keys)
            closing.Add(connection.CloseAsync());
        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    private sealed class Slot
    {
        private readonly Lock _sync = new();
        private Task<ClientConnection>? _connecting;
        private volatile ClientConnection? _connection;

        public ClientConnection? Connection => _connection;

        public Task<ClientConnection> ConnectAsync(ConnectionPool pool, CancellationToken cancellationToken)
        {
            lock (_sync)
            {
                // Join an attempt under way; start a new one after a failure or a closed connection.
                // The attempt is shared, so no caller's token may cancel it; ConnectTimeout bounds it.
                if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled || (_connecting.IsCompletedSuccessfully && !_connecting.Result.IsUsable))
                    _connecting = OpenAsync(pool);
                return cancellationToken.CanBeCanceled ? _connecting.WaitAsync(cancellationToken) : _connecting;
            }
        }

        private async Task<ClientConnection> OpenAsync(ConnectionPool pool)
        {
            var connection = await ClientConnection.ConnectAsync(pool._endpoint, pool._options, unusable => OnUnusable(pool, unusable), pool.Counters, CancellationToken.None).ConfigureAwait(false);
            pool._open.TryAdd(connection, 0);
            if (connection.IsClosed)
                pool._open.TryRemove(connection, out _);
            _connection = connection;
            if (pool._disposed)
            {
                await connection.CloseAsync().ConfigureAwait(false);
                ObjectDisposedException.ThrowIf(true, typeof(InferenceClient));
            }
            return connection;
        }

        /// <summary>The connection closed or is draining: forget it, so the next call opens a new one.</summary>
        private void OnUnusable(ConnectionPool pool, ClientConnection connection)
        {
            lock (_sync)
            {
                if (_connection == connection)
                    _connection = null;
            }
            if (connection.IsClosed)
                pool._open.TryRemove(connection, out _);
        }
    }
}
