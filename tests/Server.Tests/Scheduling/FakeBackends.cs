using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Tests.Scheduling;

/// <summary>
/// In-memory models with the signatures of the generated ONNX models, computed in C#: fast enough
/// for a million requests on two cores, and observable (batch sizes, row contents, a gate to hold runs).
/// </summary>
internal sealed class FakeBackend : IModelBackend
{
    private readonly Func<FakeRunner> _newRunner;

    private FakeBackend(ModelSignature signature, Func<FakeBackend, FakeRunner> newRunner)
    {
        Signature = signature;
        _newRunner = () => newRunner(this);
    }

    public ModelSignature Signature { get; }

    /// <summary>Runs are held here while <see cref="Gate"/> is closed.</summary>
    public ManualResetEventSlim Gate { get; } = new(true);

    /// <summary>Signalled every time a run starts (before it waits on the gate).</summary>
    public SemaphoreSlim RunStarted { get; } = new(0);

    /// <summary>Row count of every run, in run order.</summary>
    public ConcurrentQueue<int> BatchSizes { get; } = new();

    /// <summary>The first float of every row of INPUT0, in run order (tests tag rows with ids there).</summary>
    public ConcurrentQueue<float> RowTags { get; } = new();

    /// <summary>Throws from Run when set.</summary>
    public volatile string? FailWith;

    public int RunnersCreated;
    public int RunnersDisposed;
    public bool Disposed { get; private set; }

    /// <summary>add_sub: INPUT0, INPUT1 FP32 [-1,16] -> OUTPUT0 = sum, OUTPUT1 = difference.</summary>
    public static FakeBackend AddSub(int maxBatchSize = 32) => new(
        new ModelSignature(
            [new TensorSpec("INPUT0", DataType.Fp32, [-1, 16]), new TensorSpec("INPUT1", DataType.Fp32, [-1, 16])],
            [new TensorSpec("OUTPUT0", DataType.Fp32, [-1, 16]), new TensorSpec("OUTPUT1", DataType.Fp32, [-1, 16])],
            maxBatchSize),
        backend => new AddSubRunner(backend));

    /// <summary>identity_fp32: INPUT0 FP32 [-1,-1] -> OUTPUT0 (the runner allocates the output).</summary>
    public static FakeBackend Identity(int maxBatchSize = 8) => new(
        new ModelSignature([new TensorSpec("INPUT0", DataType.Fp32, [-1, -1])], [new TensorSpec("OUTPUT0", DataType.Fp32, [-1, -1])], maxBatchSize),
        backend => new IdentityRunner(backend));

    /// <summary>fixed_vec4: INPUT0 FP32 [4] -> OUTPUT0 = 2 * INPUT0, no batch dimension.</summary>
    public static FakeBackend FixedVec4() => new(
        new ModelSignature([new TensorSpec("INPUT0", DataType.Fp32, [4])], [new TensorSpec("OUTPUT0", DataType.Fp32, [4])], 0),
        backend => new DoubleRunner(backend));

    public IModelRunner CreateRunner(int index)
    {
        Interlocked.Increment(ref RunnersCreated);
        return _newRunner();
    }

    public void Dispose() => Disposed = true;

    internal abstract class FakeRunner(FakeBackend backend) : IModelRunner
    {
        protected FakeBackend Backend { get; } = backend;

        public unsafe void Run(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs)
        {
            Backend.RunStarted.Release();
            Backend.Gate.Wait();
            if (Backend.FailWith is { } message)
                throw new InvalidOperationException(message);
            var rows = Backend.Signature.Batches ? (int)inputs[0].Shape[0] : 1;
            Backend.BatchSizes.Enqueue(rows);
            var rowFloats = (int)(inputs[0].ByteLength / sizeof(float)) / rows;
            var input0 = new ReadOnlySpan<float>((void*)inputs[0].Data, rows * rowFloats);
            for (var r = 0; r < rows; r++)
                Backend.RowTags.Enqueue(rowFloats == 0 ? float.NaN : input0[r * rowFloats]);
            Compute(inputs, outputs);
        }

        protected abstract void Compute(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs);

        public virtual void Dispose() => Interlocked.Increment(ref Backend.RunnersDisposed);
    }

    private sealed unsafe class AddSubRunner(FakeBackend backend) : FakeRunner(backend)
    {
        protected override void Compute(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs)
        {
            var count = (int)(inputs[0].ByteLength / sizeof(float));
            var a = new ReadOnlySpan<float>((void*)inputs[0].Data, count);
            var b = new ReadOnlySpan<float>((void*)inputs[1].Data, count);
            var sum = new Span<float>((void*)outputs[0].Data, count);
            var difference = new Span<float>((void*)outputs[1].Data, count);
            for (var i = 0; i < count; i++)
            {
                sum[i] = a[i] + b[i];
                difference[i] = a[i] - b[i];
            }
        }
    }

    private sealed unsafe class DoubleRunner(FakeBackend backend) : FakeRunner(backend)
    {
        protected override void Compute(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs)
        {
            var count = (int)(inputs[0].ByteLength / sizeof(float));
            var x = new ReadOnlySpan<float>((void*)inputs[0].Data, count);
            var y = new Span<float>((void*)outputs[0].Data, count);
            for (var i = 0; i < count; i++)
                y[i] = 2 * x[i];
        }
    }

    /// <summary>Allocates its output like ORT does for outputs of unknown shape; valid until the next run.</summary>
    private sealed unsafe class IdentityRunner(FakeBackend backend) : FakeRunner(backend)
    {
        private void* _output;
        private nuint _capacity;
        private readonly long[] _shape = new long[2];

        protected override void Compute(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs)
        {
            var bytes = inputs[0].ByteLength;
            if (bytes > _capacity)
            {
                NativeMemory.AlignedFree(_output);
                _output = NativeMemory.AlignedAlloc(bytes, 64);
                _capacity = bytes;
            }
            Buffer.MemoryCopy((void*)inputs[0].Data, _output, bytes, bytes);
            inputs[0].Shape.CopyTo(_shape, 0);
            outputs[0].Data = (nint)_output;
            outputs[0].ByteLength = bytes;
            outputs[0].Shape = _shape;
        }

        public override void Dispose()
        {
            NativeMemory.AlignedFree(_output);
            _output = null;
            base.Dispose();
        }
    }
}
