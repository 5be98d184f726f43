using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Transport;

/// <summary>
/// A pooled request of one connection with the per-input shape arrays it reuses, so a steady
/// stream of requests to the same model allocates nothing. It rides in <see cref="InferenceRequest.State"/>.
/// </summary>
internal sealed class PooledRequest
{
    private long[][] _shapes = [];

    public InferenceRequest Request { get; } = new();

    /// <summary>A shape array of exactly <paramref name="dims"/>' rank for input <paramref name="input"/>, reused when the rank repeats.</summary>
    public long[] Shape(int input, ReadOnlySpan<long> dims)
    {
        if (input >= _shapes.Length)
            Array.Resize(ref _shapes, Math.Max(4, input * 2));
        var shape = _shapes[input];
        if (shape is null || shape.Length != dims.Length)
            shape = _shapes[input] = dims.ToArray();
        else
            dims.CopyTo(shape);
        return shape;
    }
}

/// <summary>
/// The requests one connection has in flight, by request id, and its pool of request objects.
/// The read loop rents; completions (on model instance threads) return.
/// </summary>
internal sealed class RequestSlots(int limit)
{
    private readonly Lock _sync = new();
    private readonly Dictionary<ulong, PooledRequest> _inFlight = new(limit);
    private readonly Stack<PooledRequest> _free = new();
    private TaskCompletionSource? _idle;

    private int _answering;

    /// <summary>Requests in flight or still having their answer written.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
                return _inFlight.Count + _answering;
        }
    }

    /// <summary>
    /// Takes a request object for request <paramref name="id"/>: <see cref="ErrorCode.Overloaded"/>
    /// past the in-flight limit, <see cref="ErrorCode.InvalidArgument"/> when the id is in flight already.
    /// </summary>
    public ErrorCode TryRent(ulong id, out PooledRequest? pooled)
    {
        lock (_sync)
        {
            pooled = null;
            if (_inFlight.Count >= limit)
                return ErrorCode.Overloaded;
            if (_inFlight.ContainsKey(id))
                return ErrorCode.InvalidArgument;
            pooled = _free.Count > 0 ? _free.Pop() : new PooledRequest();
            _inFlight.Add(id, pooled);
        }
        pooled.Request.Id = id;
        pooled.Request.State = pooled;
        return ErrorCode.Ok;
    }

    /// <summary>
    /// Frees the request's id and its place under the limit before its answer is written: a client
    /// may send a new request with the same id the moment it reads the answer. The object itself
    /// stays out of the pool until <see cref="EndAnswer"/>.
    /// </summary>
    public void BeginAnswer(PooledRequest pooled)
    {
        lock (_sync)
        {
            _inFlight.Remove(pooled.Request.Id);
            _answering++;
        }
    }

    /// <summary>Gives back a request whose answer was written; returns how many stay in flight.</summary>
    public int EndAnswer(PooledRequest pooled)
    {
        pooled.Request.Reset();
        lock (_sync)
        {
            _answering--;
            _free.Push(pooled);
            var count = _inFlight.Count + _answering;
            if (count != 0)
                return count;
            _idle?.TrySetResult();
            _idle = null;
            return 0;
        }
    }

    /// <summary>Gives back a request that was never submitted.</summary>
    public void Return(PooledRequest pooled)
    {
        BeginAnswer(pooled);
        EndAnswer(pooled);
    }

    /// <summary>The submitted request with this id, or null.</summary>
    public InferenceRequest? Find(ulong id)
    {
        lock (_sync)
            return _inFlight.TryGetValue(id, out var pooled) ? pooled.Request : null;
    }

    /// <summary>Asks the scheduler to cancel every request in flight; each is still answered once.</summary>
    public void CancelAll(IInferenceScheduler scheduler)
    {
        InferenceRequest[] requests;
        lock (_sync)
        {
            requests = new InferenceRequest[_inFlight.Count];
            var i = 0;
            foreach (var pooled in _inFlight.Values)
                requests[i++] = pooled.Request;
        }
        foreach (var request in requests)
            scheduler.Cancel(request);
    }

    /// <summary>Completes when no request is in flight.</summary>
    public Task WhenIdle()
    {
        lock (_sync)
        {
            if (_inFlight.Count + _answering == 0)
                return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }
}
