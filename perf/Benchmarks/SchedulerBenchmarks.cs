using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Benchmarks;

/// <summary>
/// The scheduler's own cost per request, from Submit to the Complete call on the instance thread:
/// validation, row reservation, the copy into the batch buffer, sealing, dispatch to the instance,
/// and handing each request its rows of the output. The model does nothing, so what is measured is
/// the scheduler alone. One operation submits <see cref="BatchSize"/> add_sub requests (one row each)
/// into a batcher whose max_batch_size is <see cref="BatchSize"/> and waits until all are answered;
/// the times reported are per request. Budget: at most 2 us and 0 bytes allocated per request.
/// </summary>
[MemoryDiagnoser]
public class SchedulerBenchmarks
{
    private readonly SpinCompletion _completion = new();
    private InferenceRequest[] _requests = [];
    private DynamicBatcher _batcher = null!;

    /// <summary>32: batches fill while the instance works (the loaded case); 1: every request wakes the instance (the idle case).</summary>
    [Params(1, 32)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _batcher = new DynamicBatcher("add_sub", "1", new NoOpBackend(BatchSize), new SchedulerOptions());
        _batcher.Start();
        var row = new ReadOnlySequence<byte>(MemoryMarshal.AsBytes(new float[16].AsSpan()).ToArray());
        _requests = new InferenceRequest[BatchSize];
        for (var i = 0; i < _requests.Length; i++)
        {
            var request = _requests[i] = new InferenceRequest { ModelName = "add_sub", Completion = _completion };
            foreach (var name in (string[])["INPUT0", "INPUT1"])
            {
                ref var input = ref request.AddInput();
                input.Name = name;
                input.DataType = DataType.Fp32;
                input.Shape = [1, 16];
                input.Data = row;
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _batcher.Dispose();

    [Benchmark(OperationsPerInvoke = 32)]
    public void SubmitToComplete()
    {
        for (var round = 0; round < 32 / BatchSize; round++)
        {
            _completion.Expect(_requests.Length);
            foreach (var request in _requests)
                _batcher.TrySubmit(request);
            _completion.WaitAll();
        }
    }

    private sealed class SpinCompletion : IInferenceCompletion
    {
        private int _pending;
        private string? _error;

        public void Expect(int count) => Volatile.Write(ref _pending, count);

        public void Complete(InferenceRequest request, in InferenceResponse response)
        {
            if (!response.IsSuccess)
                _error = response.ErrorMessage;
            Interlocked.Decrement(ref _pending);
        }

        public void WaitAll()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0)
                spin.SpinOnce(sleep1Threshold: -1);
            if (_error is not null)
                throw new InvalidOperationException(_error);
        }
    }

    /// <summary>add_sub's signature over a runner that returns at once.</summary>
    private sealed class NoOpBackend(int maxBatchSize) : IModelBackend, IModelRunner
    {
        public ModelSignature Signature { get; } = new(
            [new TensorSpec("INPUT0", DataType.Fp32, [-1, 16]), new TensorSpec("INPUT1", DataType.Fp32, [-1, 16])],
            [new TensorSpec("OUTPUT0", DataType.Fp32, [-1, 16]), new TensorSpec("OUTPUT1", DataType.Fp32, [-1, 16])],
            maxBatchSize);

        public IModelRunner CreateRunner(int index) => this;

        public void Run(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs)
        {
        }

        public void Dispose()
        {
        }
    }
}
