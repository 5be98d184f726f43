using System.Runtime.InteropServices;

namespace HighPerfInference.NativeEngine.Interop;

/// <summary>
/// Base of the SafeHandles for ORT objects: one sealed subclass per native object type, each releasing
/// with its own <c>Release*</c> entry. A handle is wrapped the moment ORT returns the pointer.
/// </summary>
internal abstract class OrtHandle(nint pointer) : SafeHandle(pointer, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    /// <summary>The native pointer for a call; once released, throws <see cref="ObjectDisposedException"/> naming <paramref name="owner"/>.</summary>
    public nint GetPointer(object owner)
    {
        ObjectDisposedException.ThrowIf(IsClosed, owner);
        return handle;
    }
}

internal sealed unsafe class SessionOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseSessionOptions(handle); return true; }
}

internal sealed unsafe class ValueHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseValue(handle); return true; }
}

internal sealed unsafe class RunOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseRunOptions(handle); return true; }
}

internal sealed unsafe class IoBindingHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseIoBinding(handle); return true; }
}

internal sealed unsafe class MemoryInfoHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseMemoryInfo(handle); return true; }
}

internal sealed unsafe class TypeInfoHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseTypeInfo(handle); return true; }
}

internal sealed unsafe class ModelMetadataHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseModelMetadata(handle); return true; }
}

internal sealed unsafe class CudaProviderOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseCUDAProviderOptions(handle); return true; }
}

internal sealed unsafe class TensorRTProviderOptionsHandle(nint pointer) : OrtHandle(pointer)
{
    protected override bool ReleaseHandle() { OrtApi.ReleaseTensorRTProviderOptions(handle); return true; }
}

/// <summary>
/// An <c>OrtSession*</c> plus the session's input and output names as native UTF-8 arrays, which every
/// Run passes to ORT. They live and die together, so a Run that holds a reference on this handle can
/// never see the names freed under it.
/// </summary>
internal sealed unsafe class SessionHandle(nint pointer) : OrtHandle(pointer)
{
    public NativeUtf8Array InputNames { get; private set; }

    public NativeUtf8Array OutputNames { get; private set; }

    public void SetNames(NativeUtf8Array inputNames, NativeUtf8Array outputNames)
    {
        InputNames = inputNames;
        OutputNames = outputNames;
    }

    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSession(handle);
        InputNames.Free();
        OutputNames.Free();
        return true;
    }
}
