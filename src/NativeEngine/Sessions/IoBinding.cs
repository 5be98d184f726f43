using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// Inputs and outputs bound to a session ahead of time (<c>OrtIoBinding</c>), so repeated runs skip name
/// lookup and outputs can stay in device memory. Binding by index uses the session's cached native names and
/// allocates nothing. A bound value's memory must stay valid while it is bound (ORT keeps its own reference
/// to the OrtValue, so the managed <see cref="OrtValue"/> itself may be disposed). Not thread-safe.
/// </summary>
public sealed unsafe class IoBinding : IDisposable
{
    private readonly InferenceSession _session;
    private readonly IoBindingHandle _handle;

    internal IoBinding(InferenceSession session)
    {
        _session = session;
        nint binding;
        OrtStatus.Check(OrtApi.CreateIoBinding(SessionPointer, &binding));
        _handle = new IoBindingHandle(binding);
    }

    private nint SessionPointer => _session.Handle.GetPointer(_session);

    private nint Pointer => _handle.GetPointer(this);

    /// <summary>Binds input <paramref name="index"/> (in <see cref="InferenceSession.Inputs"/> order).</summary>
    public void BindInput(int index, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        OrtStatus.Check(OrtApi.BindInput(Pointer, InputName(index), value.Pointer));
    }

    public void BindInput(string name, OrtValue value) => BindInput(IndexOf(_session.Inputs, name), value);

    /// <summary>Binds output <paramref name="index"/> to a pre-allocated tensor ORT writes into.</summary>
    public void BindOutput(int index, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        OrtStatus.Check(OrtApi.BindOutput(Pointer, OutputName(index), value.Pointer));
    }

    public void BindOutput(string name, OrtValue value) => BindOutput(IndexOf(_session.Outputs, name), value);

    /// <summary>Lets ORT allocate output <paramref name="index"/> on the device <paramref name="memoryInfo"/> describes; read it with <see cref="GetOutputValues"/>.</summary>
    public void BindOutput(int index, OrtMemoryInfo memoryInfo)
    {
        ArgumentNullException.ThrowIfNull(memoryInfo);
        OrtStatus.Check(OrtApi.BindOutputToDevice(Pointer, OutputName(index), memoryInfo.Pointer));
        GC.KeepAlive(memoryInfo);
    }

    public void BindOutput(string name, OrtMemoryInfo memoryInfo) => BindOutput(IndexOf(_session.Outputs, name), memoryInfo);

    /// <summary>Runs the session on the bound values.</summary>
    public void Run(RunOptions? options = null)
    {
        SessionHandle session = _session.Handle;
        bool added = false;
        try
        {
            session.DangerousAddRef(ref added);
            OrtStatus.Check(OrtApi.RunWithBinding(session.DangerousGetHandle(), options?.Pointer ?? 0, Pointer));
        }
        finally
        {
            if (added)
                session.DangerousRelease();
            GC.KeepAlive(options);
        }
    }

    /// <summary>Waits until bound inputs are ready on their devices (a no-op on the CPU).</summary>
    public void SynchronizeInputs() => OrtStatus.Check(OrtApi.SynchronizeBoundInputs(Pointer));

    /// <summary>Waits until the outputs of the last run are ready on their devices (a no-op on the CPU).</summary>
    public void SynchronizeOutputs() => OrtStatus.Check(OrtApi.SynchronizeBoundOutputs(Pointer));

    /// <summary>The bound outputs after a run, in binding order; the caller disposes each.</summary>
    public OrtValue[] GetOutputValues()
    {
        nint* values;
        nuint count;
        OrtStatus.Check(OrtApi.GetBoundOutputValues(Pointer, OrtAllocator.Default, &values, &count));
        if (values == null)
            return [];
        var outputs = new OrtValue[(int)count];
        for (int i = 0; i < outputs.Length; i++)
            outputs[i] = new OrtValue(new ValueHandle(values[i]));
        OrtAllocator.Free(values);
        return outputs;
    }

    public void ClearBoundInputs() => OrtApi.ClearBoundInputs(Pointer);

    public void ClearBoundOutputs() => OrtApi.ClearBoundOutputs(Pointer);

    public void Dispose() => _handle.Dispose();

    private byte* InputName(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _session.Inputs.Count);
        return _session.Handle.InputNames.Pointers[index];
    }

    private byte* OutputName(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _session.Outputs.Count);
        return _session.Handle.OutputNames.Pointers[index];
    }

    private static int IndexOf(IReadOnlyList<TensorInfo> infos, string name)
    {
        for (int i = 0; i < infos.Count; i++)
        {
            if (infos[i].Name == name)
                return i;
        }
        throw new ArgumentException($"The model has no {name}.", nameof(name));
    }
}
