using System.Reflection;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using HighPerfInference.NativeEngine;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.Benchmarks;

/// <summary>
/// NativeEngine's BatchRunner against ORT's own floor: the C API's <c>Run</c> (OrtApi index 9) of the same
/// libonnxruntime.so, called through a function pointer with the name and value arrays prepared once.
/// Everything above the floor is the cost of the managed binding and of our adapter. Inputs and outputs are
/// tensors over HostBuffers. Items per second for the MLP cases = batch / mean time.
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

    /// <summary>OrtApi's index of Run (shared/reference: the table is append-only, so every version has it there).</summary>
    private const int RunIndex = 9;

    private readonly List<HostBuffer> _buffers = [];
    private ModelSession _session = null!;
    private BatchRunner _runner = null!;
    private (long[] Shape, HostBuffer Buffer)[] _inputs = null!;
    private (long[] Shape, HostBuffer Buffer)[] _outputs = null!;
    private OrtValue[] _values = null!;
    private OrtIoBinding _binding = null!;
    private RunOptions _runOptions = null!;
    private delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> _run;
    private nint _sessionHandle;
    private byte** _names;
    private nint* _valueHandles;

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
        _ = OrtEnvironment.Shared;
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _session = ModelSession.Load(ModelPath(model), options);
        _runner = new BatchRunner(_session);
        _runOptions = new RunOptions();
        _inputs = [.. _session.Inputs.Select(info => Tensor(info, batch))];
        _outputs = [.. _session.Outputs.Select(info => Tensor(info, batch))];
        foreach (var (_, buffer) in _inputs)
        {
            var data = buffer.AsSpan<float>(0, (int)(buffer.ByteLength / sizeof(float)));
            for (int e = 0; e < data.Length; e++)
                data[e] = (e % 97) * 0.01f;
        }

        // ORT's managed IoBinding, bound once: the binding's own floor, without our adapter around it.
        var all = _inputs.Concat(_outputs).ToArray();
        var infos = _session.Inputs.Concat(_session.Outputs).ToArray();
        _values = [.. all.Select(t => OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, t.Shape, t.Buffer.Pointer, (long)t.Buffer.ByteLength))];
        _binding = _session.Session.CreateIoBinding();
        for (int i = 0; i < _values.Length; i++)
        {
            if (i < _inputs.Length)
                _binding.BindInput(infos[i].Name, _values[i]);
            else
                _binding.BindOutput(infos[i].Name, _values[i]);
        }

        // The floor: the same library's C API. The native handles are internal to the managed binding: read once.
        var library = NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so"));
        var getApiBase = (delegate* unmanaged<nint*>)NativeLibrary.GetExport(library, "OrtGetApiBase");
        var getApi = (delegate* unmanaged<uint, nint*>)getApiBase()[0];
        _run = (delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)getApi(1)[RunIndex];
        _sessionHandle = Handle(_session.Session);
        _names = (byte**)NativeMemory.Alloc((nuint)infos.Length, (nuint)sizeof(nint));
        _valueHandles = (nint*)NativeMemory.Alloc((nuint)infos.Length, (nuint)sizeof(nint));
        for (int i = 0; i < infos.Length; i++)
        {
            _names[i] = (byte*)Marshal.StringToCoTaskMemUTF8(infos[i].Name);
            _valueHandles[i] = Handle(_values[i]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        for (int i = 0; i < _values.Length; i++)
            Marshal.FreeCoTaskMem((nint)_names[i]);
        NativeMemory.Free(_names);
        NativeMemory.Free(_valueHandles);
        _binding.Dispose();
        foreach (var value in _values)
            value.Dispose();
        _runOptions.Dispose();
        _runner.Dispose();
        _session.Dispose();
        foreach (var buffer in _buffers)
            buffer.Dispose();
    }

    /// <summary>ORT's own cost: the C API's Run with prepared arrays, no managed wrapper.</summary>
    [Benchmark(Baseline = true)]
    public void OrtApiRunFloor()
    {
        var inputCount = (nuint)_inputs.Length;
        nint status = _run(_sessionHandle, 0, _names, _valueHandles, inputCount, _names + inputCount, (nuint)_outputs.Length, _valueHandles + inputCount);
        if (status != 0)
            throw new InvalidOperationException("OrtApi Run failed");
    }

    /// <summary>What a model instance pays per batch: every input and output set, the cached binding found, RunWithBinding.</summary>
    [Benchmark]
    public void BatchRunnerRun()
    {
        for (int i = 0; i < _inputs.Length; i++)
            _runner.SetInput(i, TensorElementType.Float, _inputs[i].Shape, _inputs[i].Buffer.Pointer, (long)_inputs[i].Buffer.ByteLength);
        for (int o = 0; o < _outputs.Length; o++)
            _runner.SetOutput(o, TensorElementType.Float, _outputs[o].Shape, _outputs[o].Buffer.Pointer, (long)_outputs[o].Buffer.ByteLength);
        _runner.Run();
    }

    /// <summary>The managed binding's RunWithBinding on an IoBinding bound once.</summary>
    [Benchmark]
    public void OrtRunWithBinding() => _session.Session.RunWithBinding(_runOptions, _binding);

    private (long[] Shape, HostBuffer Buffer) Tensor(TensorInfo info, int batch)
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
        return (shape, buffer);
    }

    private static nint Handle(object value) =>
        (nint)value.GetType().GetProperty("Handle", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(value)!;

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
