using System.Diagnostics;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.LoadGen.Workload;
using HighPerfInference.NativeEngine;
using HighPerfInference.Protocol;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.LoadGen.InProcess;

/// <summary>
/// <c>loadgen inprocess</c>: the limit every server figure is compared with. One InferenceSession in
/// this process, Run in a loop at each batch size by one or more caller threads, no network, no
/// queue. Inputs and outputs are allocated once per caller, so a Run allocates nothing.
/// </summary>
public static class InProcessRunner
{
    public const string Usage = """
        loadgen inprocess --model-path FILE [options]   ONNX Runtime in this process: the limit
          --batch 1,8,32                           batch sizes, one step each (the leading dynamic dimension)
          --threads T                              ONNX Runtime intra-op threads (default 1)
          --callers N                              threads calling Run on the one session (default 1)
          --shape NAME:SHAPE                       an input's full shape where more than the batch is dynamic;
                                                   its first dimension is replaced by each batch size
          --model NAME                             the model name in reports (default: the file's folder)
          --warmup 1s --duration 5s --label TEXT --json FILE --csv FILE --seed N --quiet
        """;

    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var reader = ArgumentReader.Parse(args,
            ["model-path", "batch", "threads", "callers", "shape", "model", "warmup", "duration", "label", "json", "csv", "seed"], ["quiet"]);
        var path = reader.Required("model-path");
        if (!File.Exists(path))
            throw new UsageException($"--model-path '{path}' does not exist");
        var model = reader.String("model", ModelNameOf(path))!;
        var batches = reader.IntList("batch") ?? [1];
        var threads = reader.Int("threads", 1, min: 1);
        var callers = reader.Int("callers", 1, min: 1);
        var warmup = reader.Duration("warmup", TimeSpan.FromSeconds(1));
        var duration = reader.Duration("duration", TimeSpan.FromSeconds(5));
        var seed = reader.Int("seed", 1);
        var quiet = reader.Flag("quiet");
        var label = reader.String("label", $"{model} in-process")!;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var text in reader.All("shape"))
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0)
                throw new UsageException($"--shape '{text}': expected NAME:SHAPE");
            shapes[text[..colon]] = TensorSpec.ParseShape(text, text[(colon + 1)..], allowDynamic: true);
        }

        _ = OrtEnvironment.Shared;
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        using var session = ModelSession.Load(path, options);
        var results = new List<StepResult>();
        foreach (var batch in batches)
        {
            var step = Measure(session, batch, callers, warmup, duration, shapes, seed);
            results.Add(new StepResult
            {
                Label = label,
                Target = StepTargets.InProcess,
                Protocol = "in-process",
                Model = model,
                Concurrency = callers,
                Connections = 0,
                BatchSize = batch,
                Threads = threads,
                DurationSeconds = step.Seconds,
                Requests = step.Latency.TotalCount,
                Errors = 0,
                ErrorsByCode = new Dictionary<string, long>(),
                Latency = LatencySummary.From(step.Latency),
            });
            if (!quiet)
                await Console.Error.WriteLineAsync($"  {label} b={batch}: {results[^1].ItemsPerSecond:N0} items/s").ConfigureAwait(false);
        }
        return await Program.WriteResultsAsync(results, reader.String("json"), reader.String("csv"), maxErrorRate: 0).ConfigureAwait(false);
    }

    private static (LatencyHistogram Latency, double Seconds) Measure(ModelSession session, int batch, int callerCount,
        TimeSpan warmup, TimeSpan duration, IReadOnlyDictionary<string, long[]> shapes, int seed)
    {
        var phase = new Load.LoadPhase();
        var callers = new Caller[callerCount];
        var threads = new Thread[callerCount];
        try
        {
            for (var i = 0; i < callerCount; i++)
            {
                callers[i] = new Caller(session, batch, shapes, seed + i);
                var caller = callers[i];
                threads[i] = new Thread(() => caller.Run(phase)) { IsBackground = true, Name = $"inprocess caller {i}" };
                threads[i].Start();
            }
            Thread.Sleep(warmup);
            phase.Current = Load.Phase.Measure;
            var start = Stopwatch.GetTimestamp();
            Thread.Sleep(duration);
            phase.Current = Load.Phase.Stop;
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            foreach (var thread in threads)
                thread.Join();
            var latency = new LatencyHistogram();
            foreach (var caller in callers)
            {
                caller.Failure?.Throw();
                latency.Add(caller.Latency);
            }
            return (latency, seconds);
        }
        finally
        {
            foreach (var caller in callers)
                caller?.Dispose();
        }
    }

    private static string ModelNameOf(string path)
    {
        // models/<name>/<version>/model.onnx → <name>
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        var parent = directory is null ? null : Path.GetFileName(Path.GetDirectoryName(directory));
        return string.IsNullOrEmpty(parent) ? Path.GetFileNameWithoutExtension(path) : parent;
    }

    /// <summary>
    /// One calling thread: its own input buffers (filled once) and output buffers, run through NativeEngine's
    /// BatchRunner exactly as the server's model instances run a batch (bound once, RunWithBinding).
    /// </summary>
    private sealed class Caller : IDisposable
    {
        private readonly BatchRunner _runner;
        private readonly List<HostBuffer> _buffers = [];
        private readonly (TensorElementType Type, long[] Shape, HostBuffer Buffer)[] _inputs;
        private readonly (TensorElementType Type, long[] Shape, HostBuffer Buffer)?[] _outputs;

        public Caller(ModelSession session, int batch, IReadOnlyDictionary<string, long[]> shapes, int seed)
        {
            _runner = new BatchRunner(session);
            _inputs = new (TensorElementType, long[], HostBuffer)[session.Inputs.Count];
            _outputs = new (TensorElementType, long[], HostBuffer)?[session.Outputs.Count];
            var random = seed;
            for (var i = 0; i < _inputs.Length; i++)
            {
                var info = session.Inputs[i];
                var shape = Resolve(info, batch, shapes) ?? throw new UsageException(
                    $"input '{info.Name}' has dynamic dimensions besides the batch: give --shape {info.Name}:{string.Join(',', info.Shape)} with them filled in");
                var spec = new TensorSpec(info.Name, ToDataType(info.ElementType, info.Name), shape);
                var buffer = Allocate(info.ElementType, shape);
                InputData.Create([spec], "random", random++)[0].Data.CopyTo(buffer.AsSpan());
                _inputs[i] = (info.ElementType, shape, buffer);
            }
            for (var i = 0; i < _outputs.Length; i++)
            {
                var info = session.Outputs[i];
                // An output whose shape is known after the batch is filled in is written in place; otherwise ORT allocates it per Run.
                if (Resolve(info, batch, shapes) is { } shape && info.ElementType != TensorElementType.String)
                    _outputs[i] = (info.ElementType, shape, Allocate(info.ElementType, shape));
            }
        }

        public LatencyHistogram Latency { get; } = new();

        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? Failure { get; private set; }

        public void Run(Load.LoadPhase phase)
        {
            try
            {
                while (phase.Current != Load.Phase.Stop)
                {
                    var start = Stopwatch.GetTimestamp();
                    for (var i = 0; i < _inputs.Length; i++)
                    {
                        var (type, shape, buffer) = _inputs[i];
                        _runner.SetInput(i, type, shape, buffer.Pointer, (long)buffer.ByteLength);
                    }
                    for (var o = 0; o < _outputs.Length; o++)
                    {
                        if (_outputs[o] is var (type, shape, buffer))
                            _runner.SetOutput(o, type, shape, buffer.Pointer, (long)buffer.ByteLength);
                        else
                            _runner.SetOutputAllocated(o);
                    }
                    _runner.Run();
                    var end = Stopwatch.GetTimestamp();
                    if (phase.Current == Load.Phase.Measure)
                        Latency.Record((long)((end - start) * s_nanosecondsPerTick));
                }
            }
            catch (OnnxRuntimeException ex)
            {
                Failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
            }
        }

        public void Dispose()
        {
            _runner.Dispose();
            foreach (var buffer in _buffers)
                buffer.Dispose();
        }

        private HostBuffer Allocate(TensorElementType type, long[] shape)
        {
            long elements = 1;
            foreach (var dim in shape)
                elements *= dim;
            var buffer = HostBuffer.Allocate((nuint)Math.Max(1, elements * type.SizeOf()));
            _buffers.Add(buffer);
            return buffer;
        }

        /// <summary>The model's shape with the leading dynamic dimension set to the batch; null when others stay unknown.</summary>
        private static long[]? Resolve(TensorInfo info, int batch, IReadOnlyDictionary<string, long[]> shapes)
        {
            var shape = shapes.TryGetValue(info.Name, out var given) ? (long[])given.Clone() : (long[])info.Shape.Clone();
            for (var d = 0; d < shape.Length; d++)
            {
                if (d == 0 && (shape[0] < 0 || shapes.ContainsKey(info.Name)))
                    shape[0] = batch;
                else if (shape[d] < 0)
                    return null;
            }
            return shape;
        }
    }

    private static DataType ToDataType(TensorElementType type, string name) => type switch
    {
        TensorElementType.Float => DataType.Fp32,
        TensorElementType.UInt8 => DataType.UInt8,
        TensorElementType.Int8 => DataType.Int8,
        TensorElementType.UInt16 => DataType.UInt16,
        TensorElementType.Int16 => DataType.Int16,
        TensorElementType.Int32 => DataType.Int32,
        TensorElementType.Int64 => DataType.Int64,
        TensorElementType.Bool => DataType.Bool,
        TensorElementType.Float16 => DataType.Fp16,
        TensorElementType.Double => DataType.Fp64,
        TensorElementType.UInt32 => DataType.UInt32,
        TensorElementType.UInt64 => DataType.UInt64,
        TensorElementType.BFloat16 => DataType.Bf16,
        _ => throw new UsageException($"input '{name}' is {type}, which the in-process mode cannot fill"),
    };
}
