using HighPerfInference.NativeEngine;

namespace HighPerfInference.Server.Scheduling;

/// <summary>The CPU default: 64-byte aligned, zeroed host memory from the HpiNative shim.</summary>
public sealed class HostBufferAllocator : IBufferAllocator
{
    public NativeBuffer Allocate(nuint byteLength) => new HostNativeBuffer(HostBuffer.Allocate(byteLength));

    private sealed class HostNativeBuffer(HostBuffer buffer) : NativeBuffer
    {
        public override nint Pointer { get; } = buffer.Pointer;
        public override nuint ByteLength => buffer.ByteLength;
        public override void Dispose() => buffer.Dispose();
    }
}
