using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Binary;

/// <summary>
/// The requests one connection has in flight, by id. Its size is the in-flight limit the server
/// announced (or the client's own, if lower): a caller waits for a free slot rather than earn an
/// Overloaded answer. Slots and their <see cref="PendingRequest"/>s are allocated once.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "The semaphore never creates its wait handle (only Wait and WaitAsync are used), so it holds nothing to dispose; the table lives as long as its connection.")]
internal sealed class PendingTable
{
    private readonly PendingRequest[] _slots;
    private readonly Stack<int> _free;
    private readonly SemaphoreSlim _available;
    private readonly Action<ulong> _onAbandoned;
    private uint _generation;

    /// <param name="capacity">Requests in flight at most.</param>
    /// <param name="onAbandoned">Called with the id of a request whose caller gave up while the server still owes its answer.</param>
    public PendingTable(int capacity, Action<ulong> onAbandoned)
    {
        _onAbandoned = onAbandoned;
        _slots = new PendingRequest[capacity];
        _free = new Stack<int>(capacity);
        for (var i = capacity - 1; i >= 0; i--)
        {
            _slots[i] = new PendingRequest(this, i);
            _free.Push(i);
        }
        _available = new SemaphoreSlim(capacity, capacity);
    }

    public int Capacity => _slots.Length;

    /// <summary>Requests in flight: slots taken, whether or not their callers still wait.</summary>
    public int InFlight => Capacity - _available.CurrentCount;

    /// <summary>Takes a slot, waiting while all are taken, and arms it for a new request.</summary>
    public async ValueTask<PendingRequest> RentAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_available.Wait(0, CancellationToken.None)) // a free slot now: no wait, nothing to cancel
            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Take(timeout, cancellationToken);
    }

    /// <summary>Takes a slot if one is free right now.</summary>
    public PendingRequest? TryRent(TimeSpan timeout, CancellationToken cancellationToken) =>
        _available.Wait(0, CancellationToken.None) ? Take(timeout, cancellationToken) : null;

    private PendingRequest Take(TimeSpan timeout, CancellationToken cancellationToken)
    {
        int slot;
        lock (_free)
            slot = _free.Pop();
        var pending = _slots[slot];
        // The generation makes every use of a slot a new id, so a late answer to an abandoned request
        // cannot be taken for the answer to the slot's next one.
        var id = ((ulong)Interlocked.Increment(ref _generation) << 32) | (uint)slot;
        pending.Start(id, timeout, cancellationToken);
        return pending;
    }

    /// <summary>The request the server answered, or null for an id not in flight (a late or bogus answer).</summary>
    public PendingRequest? Find(ulong id)
    {
        var slot = (uint)id;
        if (slot >= (uint)_slots.Length)
            return null;
        var pending = _slots[slot];
        return pending.IsOnWire && pending.Id == id ? pending : null;
    }

    /// <summary>Fails every request still on the wire, each with its own exception; the connection is gone.</summary>
    public void FailAll(ErrorCode code, string message)
    {
        foreach (var pending in _slots)
        {
            if (!pending.IsOnWire)
                continue;
            pending.Fail(new InferenceException(code, message));
            pending.ReleaseWire();
        }
    }

    internal void OnAbandoned(ulong id) => _onAbandoned(id);

    internal void Return(PendingRequest pending)
    {
        lock (_free)
            _free.Push(pending.Slot);
        _available.Release();
    }
}
