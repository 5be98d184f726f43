using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>
/// Page-locked host memory for batch buffers on GPU: the GPU copies from it by DMA, asynchronously and at full
/// bus speed, where pageable memory is staged through a driver buffer first. Pinning is slow
/// (<c>cudaHostAlloc</c> maps and locks pages), so blocks are cached on return and reused: blocks come in
/// size classes (4 KiB, then four per power of two, at most a quarter wasted) and are page-aligned.
/// Where CUDA is not built in, or the device does not exist, the pool hands out plain aligned host memory
/// instead (<see cref="IsPinned"/> is false); everything else works the same. Thread-safe.
/// </summary>
public sealed class PinnedMemoryPool : SafeHandle
{
    /// <summary>Returned blocks the pool keeps for reuse by default, at most; beyond it they are freed.</summary>
    public const ulong DefaultMaxCachedBytes = 1UL << 30;

    /// <summary>The largest block the pool hands out (1 TiB).</summary>
    public const ulong MaxBlockBytes = 1UL << 40;

    private PinnedMemoryPool(nint pool, int deviceId)
        : base(0, ownsHandle: true)
    {
        SetHandle(pool);
        DeviceId = deviceId;
    }

    /// <summary>The device the memory is pinned for, or -1 for a pool of plain host memory.</summary>
    public int DeviceId { get; }

    /// <summary>True when the blocks are page-locked through CUDA; false for the aligned host memory fallback.</summary>
    public bool IsPinned => Statistics.IsPinned;

    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// Creates a pool pinned for <paramref name="deviceId"/> (-1: plain host memory on purpose).
    /// <paramref name="maxCachedBytes"/> bounds the returned blocks kept for reuse.
    /// </summary>
    public static PinnedMemoryPool Create(int deviceId = 0, ulong maxCachedBytes = DefaultMaxCachedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(deviceId, -1);
        HpiStatus status = CudaNative.PinnedPoolCreate(deviceId, maxCachedBytes, out nint pool);
        if (status != HpiStatus.Ok)
            throw new OutOfMemoryException($"HpiNative_PinnedPoolCreate failed: {status}.");
        return new PinnedMemoryPool(pool, deviceId);
    }

    /// <summary>Counters for the metrics endpoint; a consistent snapshot.</summary>
    public PinnedPoolStatistics Statistics
    {
        get
        {
            CudaRuntime.Check(CudaNative.PinnedPoolGetStats(this, out CudaNative.PinnedPoolStats stats), "HpiNative_PinnedPoolGetStats");
            return new PinnedPoolStatistics(stats.TotalBytes, stats.UsedBytes, stats.Allocations, stats.Rents, stats.CacheHits, stats.Pinned != 0);
        }
    }

    /// <summary>
    /// Rents a block of at least <paramref name="byteLength"/> bytes. Its contents are undefined (a reused block
    /// keeps old data); dispose the buffer to give it back, which stays valid after the pool is disposed.
    /// </summary>
    public PinnedBuffer Rent(nuint byteLength)
    {
        ArgumentOutOfRangeException.ThrowIfZero(byteLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)byteLength, MaxBlockBytes);
        HpiStatus status = CudaNative.PinnedPoolRent(this, byteLength, out nint pointer, out ulong capacity);
        if (status == HpiStatus.OutOfMemory)
            throw new OutOfMemoryException($"The pinned memory pool could not allocate {byteLength} bytes{(IsPinned ? " of page-locked memory" : "")}.");
        CudaRuntime.Check(status, "HpiNative_PinnedPoolRent", DeviceId);
        return new PinnedBuffer(handle, pointer, byteLength, (nuint)capacity);
    }

    /// <summary>Frees every cached block (rented ones are untouched), for example after a model unloads.</summary>
    public void Trim() => CudaRuntime.Check(CudaNative.PinnedPoolTrim(this), "HpiNative_PinnedPoolTrim");

    /// <summary>Frees the cached blocks now; the native pool itself goes when its last rented block comes back.</summary>
    protected override bool ReleaseHandle() => CudaNative.PinnedPoolDestroy(handle) == HpiStatus.Ok;
}

/// <summary>A snapshot of a <see cref="PinnedMemoryPool"/>'s counters.</summary>
/// <param name="TotalBytes">Held from the system: rented plus cached.</param>
/// <param name="UsedBytes">Rented out now (block capacities).</param>
/// <param name="Allocations">Blocks obtained from the system since creation.</param>
/// <param name="Rents">Successful rents since creation.</param>
/// <param name="CacheHits">Rents served from a cached block.</param>
/// <param name="IsPinned">Whether the blocks are page-locked.</param>
public readonly record struct PinnedPoolStatistics(
    ulong TotalBytes,
    ulong UsedBytes,
    ulong Allocations,
    ulong Rents,
    ulong CacheHits,
    bool IsPinned)
{
    /// <summary>Returned blocks kept for reuse.</summary>
    public ulong CachedBytes => TotalBytes - UsedBytes;
}
