using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>
/// A block rented from a <see cref="PinnedMemoryPool"/>. The address never moves and is valid until the buffer
/// is disposed (or finalized), which gives the block back to its pool. Spans over it share that lifetime.
/// </summary>
public sealed class PinnedBuffer : SafeHandle
{
    /// <summary>The native pool; valid until the last of its blocks is returned, even after the pool is disposed.</summary>
    private readonly nint _pool;

    internal PinnedBuffer(nint pool, nint pointer, nuint byteLength, nuint capacity)
        : base(0, ownsHandle: true)
    {
        SetHandle(pointer);
        _pool = pool;
        ByteLength = byteLength;
        Capacity = capacity;
    }

    /// <summary>The size asked for.</summary>
    public nuint ByteLength { get; }

    /// <summary>The block's real size (its size class), at least <see cref="ByteLength"/>.</summary>
    public nuint Capacity { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>The buffer's address (page-aligned); throws once the buffer is disposed.</summary>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>The requested bytes as elements of <typeparamref name="T"/> (a partial last element is left out).</summary>
    public unsafe Span<T> AsSpan<T>()
        where T : unmanaged => new((void*)Pointer, checked((int)(ByteLength / (nuint)sizeof(T))));

    /// <summary>Zeroes the requested bytes (a rented block keeps whatever its last user wrote).</summary>
    public unsafe void Clear() => NativeMemory.Clear((void*)Pointer, ByteLength);

    protected override bool ReleaseHandle() => CudaNative.PinnedPoolReturn(_pool, handle, Capacity) == HpiStatus.Ok;
}
