namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// Where batch buffers come from. The CPU default hands out aligned host memory; the GPU path
/// plugs in a pinned-memory allocator here so batches can be copied to the device asynchronously.
/// Buffers are held by pooled batches and returned only when a batch grows or its model unloads.
/// </summary>
public interface IBufferAllocator
{
    /// <summary>Allocates at least <paramref name="byteLength"/> bytes, zeroed, aligned for any element type.</summary>
    NativeBuffer Allocate(nuint byteLength);
}

/// <summary>A block of native memory owned by whoever holds it; Dispose returns it.</summary>
public abstract class NativeBuffer : IDisposable
{
    public abstract nint Pointer { get; }
    public abstract nuint ByteLength { get; }

    public unsafe Span<byte> AsSpan(nuint offset, int length) => new((byte*)Pointer + offset, length);

    public abstract void Dispose();
}
