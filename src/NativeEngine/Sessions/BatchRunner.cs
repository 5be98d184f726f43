using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// Runs one session over native buffers the caller owns, through ORT's IoBinding. Before each
/// <see cref="Run"/> the caller sets every input and output: a buffer (type, shape, address, length), a value
/// of its own, or, for an output, "ORT allocates it". Each distinct set of buffers and shapes gets one
/// binding, made the first time it is seen: its OrtValues wrap the buffers without a copy
/// (<see cref="OrtValue.CreateTensorValueWithData"/>) and stay bound, so a steady stream of pooled batches
/// runs with <see cref="InferenceSession.RunWithBinding(RunOptions, OrtIoBinding)"/> and allocates nothing.
/// </summary>
/// <remarks>
/// Ownership: the buffers stay the caller's and must outlive this runner (or <see cref="ReleaseBindings"/>):
/// a binding keeps its OrtValues over them. Values set with <see cref="SetInput(int, OrtValue)"/> must live
/// until <see cref="Run"/> returns. ORT-allocated outputs (<see cref="GetOutput"/>) belong to the runner and
/// stay valid until the next <see cref="Run"/> or <see cref="Dispose"/>. One caller at a time (a model
/// instance's thread); <see cref="Terminate"/> may be called from any thread. The session is not owned.
/// </remarks>
public sealed class BatchRunner : IDisposable
{
    /// <summary>Bindings kept before all are released: enough for every pooled batch of a model at every batch size.</summary>
    public const int BindingLimit = 1024;

    private readonly InferenceSession _session;
    private readonly string[] _names;
    private readonly int _inputCount;
    private readonly Slot[] _slots;
    private readonly Dictionary<int, Binding> _bindings = [];
    private readonly RunOptions _runOptions = new();
    private Binding? _last;
    private IDisposableReadOnlyCollection<OrtValue>? _allocatedOutputs;

    public BatchRunner(ModelSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session.Session;
        _inputCount = session.Inputs.Count;
        _names = new string[_inputCount + session.Outputs.Count];
        _slots = new Slot[_names.Length];
        for (var i = 0; i < _names.Length; i++)
        {
            var info = i < _inputCount ? session.Inputs[i] : session.Outputs[i - _inputCount];
            _names[i] = info.Name;
            _slots[i].Shape = new long[info.Shape.Length];
        }
    }

    /// <summary>How many bindings are cached (one per distinct set of buffers and shapes seen).</summary>
    public int BindingCount => _bindings.Count;

    /// <summary>Input <paramref name="index"/> (session order) is <paramref name="byteLength"/> bytes at <paramref name="data"/>, CPU memory.</summary>
    public void SetInput(int index, TensorElementType type, ReadOnlySpan<long> shape, nint data, long byteLength) =>
        SetBuffer(index, type, shape, data, byteLength);

    /// <summary>Input <paramref name="index"/> is <paramref name="value"/> (a string tensor, say), bound again on each run.</summary>
    public void SetInput(int index, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ref var slot = ref _slots[index];
        slot.Kind = SlotKind.Value;
        slot.Value = value;
    }

    /// <summary>ORT writes output <paramref name="index"/> (session order) into <paramref name="byteLength"/> bytes at <paramref name="data"/>.</summary>
    public void SetOutput(int index, TensorElementType type, ReadOnlySpan<long> shape, nint data, long byteLength) =>
        SetBuffer(_inputCount + index, type, shape, data, byteLength);

    /// <summary>ORT allocates output <paramref name="index"/> in CPU memory (its shape may be unknown until the run); read it with <see cref="GetOutput"/>.</summary>
    public void SetOutputAllocated(int index) => _slots[_inputCount + index].Kind = SlotKind.Allocated;

    /// <summary>
    /// Runs the model on what was set since the last run, then forgets it: every input and output is set
    /// again before the next run. Throws <see cref="OnnxRuntimeException"/> when the model fails or was terminated.
    /// </summary>
    public void Run()
    {
        ReleaseAllocatedOutputs();
        try
        {
            var binding = Find();
            for (var i = 0; i < _inputCount; i++)
            {
                if (_slots[i].Kind == SlotKind.Value)
                    binding.Io.BindInput(_names[i], _slots[i].Value!);
            }
            _session.RunWithBinding(_runOptions, binding.Io);
            if (binding.AllocatesOutputs)
                _allocatedOutputs = binding.Io.GetOutputValues();
        }
        finally
        {
            for (var i = 0; i < _slots.Length; i++)
            {
                _slots[i].Kind = SlotKind.Unset;
                _slots[i].Value = null;
            }
        }
    }

    /// <summary>Output <paramref name="index"/> of the last run when ORT allocated it; valid until the next run.</summary>
    public OrtValue GetOutput(int index) =>
        _allocatedOutputs is { } outputs ? outputs[index] : throw new InvalidOperationException("The last run allocated no outputs.");

    /// <summary>Makes the run in progress, and every later one until <see cref="ResetTerminate"/>, fail at once (ORT's RunOptions.Terminate).</summary>
    public void Terminate() => _runOptions.Terminate = true;

    public void ResetTerminate() => _runOptions.Terminate = false;

    /// <summary>Releases every cached binding and the OrtValues it holds over the caller's buffers.</summary>
    public void ReleaseBindings()
    {
        foreach (var binding in _bindings.Values)
            binding.Dispose();
        _bindings.Clear();
        _last = null;
    }

    public void Dispose()
    {
        ReleaseAllocatedOutputs();
        ReleaseBindings();
        _runOptions.Dispose();
    }

    private void SetBuffer(int slotIndex, TensorElementType type, ReadOnlySpan<long> shape, nint data, long byteLength)
    {
        ref var slot = ref _slots[slotIndex];
        if (slot.Shape.Length != shape.Length)
            slot.Shape = new long[shape.Length];
        shape.CopyTo(slot.Shape);
        slot.Kind = SlotKind.Buffer;
        slot.Type = type;
        slot.Data = data;
        slot.ByteLength = byteLength;
    }

    /// <summary>The binding for what is set now: the last one, a cached one, or a new one.</summary>
    private Binding Find()
    {
        if (_last is { } last && last.Matches(_slots))
            return last;
        var hash = Hash(_slots);
        if (_bindings.TryGetValue(hash, out var cached))
        {
            if (cached.Matches(_slots))
                return _last = cached;
            cached.Dispose(); // same hash, other buffers: this one replaces it
            _bindings.Remove(hash);
        }
        if (_bindings.Count >= BindingLimit)
            ReleaseBindings();
        var binding = Binding.Create(_session, _names, _inputCount, _slots);
        _bindings[hash] = binding;
        return _last = binding;
    }

    private static int Hash(Slot[] slots)
    {
        var hash = new HashCode();
        foreach (ref readonly var slot in slots.AsSpan())
        {
            hash.Add(slot.Kind);
            if (slot.Kind != SlotKind.Buffer)
                continue;
            hash.Add(slot.Type);
            hash.Add(slot.Data);
            hash.Add(slot.ByteLength);
            foreach (var dim in slot.Shape)
                hash.Add(dim);
        }
        return hash.ToHashCode();
    }

    private void ReleaseAllocatedOutputs()
    {
        _allocatedOutputs?.Dispose();
        _allocatedOutputs = null;
    }

    private enum SlotKind : byte
    {
        Unset,
        Buffer,
        Value,
        Allocated,
    }

    /// <summary>What one input or output is bound to: the set value for the next run, or a binding's record of it.</summary>
    private struct Slot
    {
        public SlotKind Kind;
        public TensorElementType Type;
        public nint Data;
        public long ByteLength;
        public long[] Shape;
        public OrtValue? Value;

        public readonly bool SameBinding(in Slot other) =>
            Kind == other.Kind && (Kind != SlotKind.Buffer
                || (Type == other.Type && Data == other.Data && ByteLength == other.ByteLength && Shape.AsSpan().SequenceEqual(other.Shape)));
    }

    /// <summary>One IoBinding and the OrtValues over the buffers it binds.</summary>
    private sealed class Binding : IDisposable
    {
        private readonly Slot[] _bound;
        private readonly OrtValue?[] _values;

        private Binding(OrtIoBinding io, Slot[] bound, OrtValue?[] values)
        {
            Io = io;
            _bound = bound;
            _values = values;
            foreach (var slot in bound)
                AllocatesOutputs |= slot.Kind == SlotKind.Allocated;
        }

        public OrtIoBinding Io { get; }

        public bool AllocatesOutputs { get; }

        public static Binding Create(InferenceSession session, string[] names, int inputCount, Slot[] slots)
        {
            var io = session.CreateIoBinding();
            var bound = new Slot[slots.Length];
            var values = new OrtValue?[slots.Length];
            try
            {
                for (var i = 0; i < slots.Length; i++)
                {
                    var slot = slots[i];
                    if (slot.Kind == SlotKind.Unset)
                        throw new InvalidOperationException($"{(i < inputCount ? "Input" : "Output")} '{names[i]}' was not set before Run.");
                    bound[i] = slot with { Shape = (long[])slot.Shape.Clone(), Value = null };
                    if (slot.Kind == SlotKind.Allocated)
                    {
                        io.BindOutputToDevice(names[i], OrtMemoryInfo.DefaultInstance);
                    }
                    else if (slot.Kind == SlotKind.Buffer)
                    {
                        var value = values[i] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, slot.Type, bound[i].Shape, slot.Data, slot.ByteLength);
                        if (i < inputCount)
                            io.BindInput(names[i], value);
                        else
                            io.BindOutput(names[i], value);
                    }
                }
                return new Binding(io, bound, values);
            }
            catch
            {
                Release(io, values);
                throw;
            }
        }

        public bool Matches(Slot[] slots)
        {
            for (var i = 0; i < slots.Length; i++)
            {
                if (!_bound[i].SameBinding(slots[i]))
                    return false;
            }
            return true;
        }

        public void Dispose() => Release(Io, _values);

        private static void Release(OrtIoBinding io, OrtValue?[] values)
        {
            io.Dispose(); // first: it holds references to the values
            foreach (var value in values)
                value?.Dispose();
        }
    }
}
