using System.Runtime.InteropServices;

namespace HighPerfInference.NativeEngine.Tests.Models;

/// <summary>A managed array pinned for as long as native code may hold its address.</summary>
internal sealed class PinnedArray<T>(T[] array) : IDisposable
    where T : unmanaged
{
    private GCHandle _handle = GCHandle.Alloc(array, GCHandleType.Pinned);

    public nint Pointer => _handle.AddrOfPinnedObject();

    public long ByteLength => (long)array.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    public void Dispose() => _handle.Free();
}
