using HighPerfInference.NativeEngine.Gpu;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// The process's pinned memory pool for the batch buffers of models on GPU, created when the first such model
/// loads (pinning on a machine that never runs one would only hold memory) and kept for the process: unloaded
/// models give their blocks back to its cache, bounded by <see cref="PinnedMemoryPool.DefaultMaxCachedBytes"/>.
/// One pool serves every device: its blocks are allocated portable (<c>cudaHostAllocPortable</c>).
/// </summary>
public sealed class PinnedMemory : IDisposable
{
    private readonly Lock _lock = new();
    private PinnedMemoryPool? _pool;
    private PinnedBufferAllocator? _allocator;

    /// <summary>The pool, or null while no model has run on GPU.</summary>
    public PinnedMemoryPool? Pool => Volatile.Read(ref _pool);

    /// <summary>The allocator over the pool, creating the pool (pinned for <paramref name="deviceId"/>) on first use.</summary>
    public IBufferAllocator Allocator(int deviceId)
    {
        lock (_lock)
        {
            if (_allocator is null)
            {
                var pool = PinnedMemoryPool.Create(deviceId);
                _allocator = new PinnedBufferAllocator(pool);
                Volatile.Write(ref _pool, pool);
            }
            return _allocator;
        }
    }

    /// <summary>Frees the cached blocks; buffers still rented free theirs when they are disposed.</summary>
    public void Dispose() => Pool?.Dispose();
}
