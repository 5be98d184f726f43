using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using HighPerfInference.NativeEngine;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.Benchmarks;

/// <summary>
/// NativeEngine's Run against ORT's own floor: the same <c>OrtApi.Run</c> function pointer called directly,
/// with the name and value pointer arrays prepared once. Everything above the floor is NativeEngine's cost.
/// Inputs are tensors over HostBuffers; outputs are pre-allocated unless the benchmark says otherwise.
/// Items per second for the MLP cases = batch / mean time.
/// </summary>
[MemoryDiagnoser]
public unsafe class NativeEngineRunBenchmarks
{
    public enum RunCase
    {
        AddSubBatch1,
        MlpBatch1,
        MlpBatch32,
    }

    private readonly List<HostBuffer> _buffers = [];
    private InferenceSession _session = null!;
    private OrtValue[] _inputs = null!;
    private OrtValue?[] _outputs = null!;
    private OrtValue?[] _ortAllocatedOutputs = null!;
    private IoBinding _binding = null!;
    private nint* _rawValues;

    [ParamsAllValues]
    public RunCase Case { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (model, batch, threads) = Case switch
        {
            RunCase.AddSubBatch1 => ("add_sub", 1, 1),
            RunCase.MlpBatch1 => ("mlp", 1, 2),
            _ => ("mlp", 32, 2),
        };
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _session = InferenceSession.Load(ModelPath(model), options);

        _inputs = new OrtValue[_session.Inputs.Count];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i] = Tensor(_session.Inputs[i], batch);
            var data = _inputs[i].GetTensorData<float>();
            for (int e = 0; e < data.Length; e++)
                data[e] = (e % 97) * 0.01f;
        }
        _outputs = new OrtValue?[_session.Outputs.Count];
        for (int i = 0; i < _outputs.Length; i++)
            _outputs[i] = Tensor(_session.Outputs[i], batch);
        _ortAllocatedOutputs = new OrtValue?[_outputs.Length];

        _binding = _session.CreateIoBinding();
        for (int i = 0; i < _inputs.Length; i++)
            _binding.BindInput(i, _inputs[i]);
        for (int i = 0; i < _outputs.Length; i++)
            _binding.BindOutput(i, _outputs[i]!);

        // The floor's argument: inputs then outputs, as native OrtValue* in one array.
        _rawValues = (nint*)NativeMemory.Alloc((nuint)(_inputs.Length + _outputs.Length), (nuint)sizeof(nint));
        for (int i = 0; i < _inputs.Length; i++)
            _rawValues[i] = _inputs[i].Pointer;
        for (int i = 0; i < _outputs.Length; i++)
            _rawValues[_inputs.Length + i] = _outputs[i]!.Pointer;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.Free(_rawValues);
        _binding.Dispose();
        foreach (var value in _inputs)
            value.Dispose();
        foreach (var value in _outputs)
            value?.Dispose();
        _session.Dispose();
        foreach (var buffer in _buffers)
            buffer.Dispose();
    }

    /// <summary>ORT's own cost: the raw OrtApi.Run function pointer, no wrapper.</summary>
    [Benchmark(Baseline = true)]
    public void OrtApiRunFloor()
    {
        SessionHandle session = _session.Handle;
        OrtStatus.Check(OrtApi.Run(session.DangerousGetHandle(), 0,
            session.InputNames.Pointers, _rawValues, (nuint)_inputs.Length,
            session.OutputNames.Pointers, (nuint)_outputs.Length, _rawValues + _inputs.Length));
    }

    [Benchmark]
    public void SessionRun() => _session.Run(_inputs, _outputs);

    [Benchmark]
    public void IoBindingRun() => _binding.Run();

    /// <summary>ORT allocates the outputs: one OrtValue wrapper per output, disposed at once.</summary>
    [Benchmark]
    public void SessionRunOrtAllocatedOutputs()
    {
        _session.Run(_inputs, _ortAllocatedOutputs);
        for (int i = 0; i < _ortAllocatedOutputs.Length; i++)
        {
            _ortAllocatedOutputs[i]!.Dispose();
            _ortAllocatedOutputs[i] = null;
        }
    }

    private OrtValue Tensor(TensorInfo info, int batch)
    {
        var shape = new long[info.Shape.Length];
        long elements = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = info.Shape[d] < 0 ? batch : info.Shape[d];
            elements *= shape[d];
        }
        var buffer = HostBuffer.Allocate((nuint)(elements * info.ElementType.SizeOf()));
        _buffers.Add(buffer);
        return OrtValue.CreateTensor(info.ElementType, shape, buffer.Pointer, buffer.ByteLength);
    }

    /// <summary>models/&lt;name&gt;/1/model.onnx, found by walking up from the benchmark's output directory.</summary>
    private static string ModelPath(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
        {
            string path = Path.Combine(directory.FullName, "models", name, "1", "model.onnx");
            if (File.Exists(path))
                return path;
        }
        throw new FileNotFoundException($"models/{name}/1/model.onnx was not found above {AppContext.BaseDirectory}; run scripts/generate_models.py.");
    }
}
