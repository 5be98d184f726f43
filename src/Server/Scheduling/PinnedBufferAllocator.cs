using HighPerfInference.NativeEngine.Gpu;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// The GPU counterpart of <see cref="HostBufferAllocator"/>: batch buffers rented from a
/// <see cref="PinnedMemoryPool"/>, so the CUDA provider copies them to the device by DMA, asynchronously.
/// The pool belongs to whoever loads the model (one per device is enough; it is thread-safe) and its
/// <see cref="PinnedMemoryPool.Statistics"/> feed the metrics. Disposing a buffer gives its block back to
/// the pool for the next batch that grows.
/// </summary>
public sealed class PinnedBufferAllocator(PinnedMemoryPool pool) : IBufferAllocator
{
    public NativeBuffer Allocate(nuint byteLength)
    {
        PinnedBuffer buffer = pool.Rent(byteLength);
        buffer.Clear(); // the contract is zeroed memory; a reused block keeps its last batch's bytes
        return new PinnedNativeBuffer(buffer);
    }

    private sealed class PinnedNativeBuffer(PinnedBuffer buffer) : NativeBuffer
    {
        public override nint Pointer { get; } = buffer.Pointer;
        public override nuint ByteLength => buffer.ByteLength;
        public override void Dispose() => buffer.Dispose();
    }
}
