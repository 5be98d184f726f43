using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// Zeroed, aligned native memory from the HpiNative shim, optionally locked in RAM (<c>mlock</c>) so it is
/// never swapped out: the backing store for batch buffers that ORT tensors wrap without copying. The address
/// never moves; it is valid until the buffer is disposed (or finalized).
/// </summary>
public sealed class HostBuffer : SafeHandle
{
    /// <summary>A cache line, and enough for every SIMD load ORT's CPU kernels make.</summary>
    public const int DefaultAlignment = 64;

    private readonly HpiHostAllocFlags _flags;

    private HostBuffer(nint pointer, nuint byteLength, HpiHostAllocFlags flags)
        : base(0, ownsHandle: true)
    {
        SetHandle(pointer);
        ByteLength = byteLength;
        _flags = flags;
    }

    public nuint ByteLength { get; }

    /// <summary>True when the pages are locked in RAM.</summary>
    public bool IsLocked => (_flags & HpiHostAllocFlags.Locked) != 0;

    public override bool IsInvalid => handle == 0;

    /// <summary>The buffer's address; throws once the buffer is disposed.</summary>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }

    /// <summary>
    /// Allocates <paramref name="byteLength"/> zeroed bytes aligned to <paramref name="alignment"/> (a power of
    /// two, at least the pointer size). With <paramref name="locked"/> the pages are locked in RAM; that fails
    /// with <see cref="InvalidOperationException"/> when RLIMIT_MEMLOCK (<c>ulimit -l</c>) is too low.
    /// </summary>
    public static HostBuffer Allocate(nuint byteLength, nuint alignment = DefaultAlignment, bool locked = false)
    {
        ArgumentOutOfRangeException.ThrowIfZero(byteLength);
        if (!nuint.IsPow2(alignment) || alignment < (nuint)IntPtr.Size)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two, at least the pointer size.");

        var flags = locked ? HpiHostAllocFlags.Locked : HpiHostAllocFlags.None;
        HpiStatus status = HpiNative.HostAlloc(byteLength, alignment, flags, out nint pointer);
        return status switch
        {
            HpiStatus.Ok => new HostBuffer(pointer, byteLength, flags),
            HpiStatus.OutOfMemory => throw new OutOfMemoryException($"HpiNative_HostAlloc could not allocate {byteLength} bytes."),
            HpiStatus.LockFailed => throw new InvalidOperationException($"mlock refused to lock {byteLength} bytes; raise RLIMIT_MEMLOCK (ulimit -l) or allocate unlocked."),
            _ => throw new ArgumentException($"HpiNative_HostAlloc rejected size {byteLength}, alignment {alignment}: {status}."),
        };
    }

    /// <summary>The whole buffer as a span (buffers over 2 GiB need <see cref="AsSpan{T}(nuint, int)"/>).</summary>
    public Span<byte> AsSpan() => AsSpan<byte>(0, checked((int)ByteLength));

    /// <summary><paramref name="count"/> elements of <typeparamref name="T"/> starting <paramref name="byteOffset"/> bytes in.</summary>
    public unsafe Span<T> AsSpan<T>(nuint byteOffset, int count)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (byteOffset > ByteLength || (ulong)count * (ulong)sizeof(T) > ByteLength - byteOffset)
            throw new ArgumentOutOfRangeException(nameof(count), "The span runs past the end of the buffer.");
        return new Span<T>((byte*)Pointer + byteOffset, count);
    }

    protected override bool ReleaseHandle() => HpiNative.HostFree(handle, ByteLength, _flags) == HpiStatus.Ok;
}
