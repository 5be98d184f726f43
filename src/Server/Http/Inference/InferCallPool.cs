using System.Collections.Concurrent;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Http.Inference;

/// <summary>
/// Reuses <see cref="InferCall"/>s (their requests, buffers, JSON writer and awaitable) across HTTP
/// requests. Keeps at most <see cref="MaxRetained"/>; above that, calls are created and dropped.
/// </summary>
internal sealed class InferCallPool(IInferenceScheduler scheduler)
{
    /// <summary>Enough for the concurrency a 2-core server sees; each retained call keeps only small buffers.</summary>
    private const int MaxRetained = 256;

    private readonly ConcurrentQueue<InferCall> _calls = new();
    private int _retained;

    public InferCall Rent()
    {
        if (_calls.TryDequeue(out var call))
        {
            Interlocked.Decrement(ref _retained);
            return call;
        }
        return new InferCall(scheduler);
    }

    /// <summary>Takes a call back once its request is answered and its response written.</summary>
    public void Return(InferCall call)
    {
        call.Reset();
        if (Interlocked.Increment(ref _retained) <= MaxRetained)
            _calls.Enqueue(call);
        else
            Interlocked.Decrement(ref _retained);
    }
}
