using System.Diagnostics;
using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// Cumulative counters of one model version, in the shape of Triton's statistics extension and its
/// nv_inference_* metrics: request counts by outcome, durations as cumulative nanoseconds,
/// items (<see cref="InferenceCount"/>) and batches (<see cref="ExecutionCount"/>).
/// </summary>
public readonly record struct ModelStatistics
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    /// <summary>Unix milliseconds of the last completed batch; 0 before the first.</summary>
    public long LastInferenceUnixMs { get; init; }
    /// <summary>Requests answered with a result, and their end-to-end time (submit to answer).</summary>
    public long SuccessCount { get; init; }
    public long SuccessNs { get; init; }
    /// <summary>Requests answered with an error (the sum of the four reasons below), and their time.</summary>
    public long FailureCount { get; init; }
    public long FailureNs { get; init; }
    /// <summary>Refused or dropped before running: queue full, deadline passed, model going away.</summary>
    public long RejectedCount { get; init; }
    public long CancelledCount { get; init; }
    /// <summary>The model failed while running.</summary>
    public long BackendFailureCount { get; init; }
    /// <summary>Anything else, mostly requests that do not fit the model.</summary>
    public long OtherFailureCount { get; init; }
    /// <summary>Requests that ran, and the time they spent queued (submit to start of their batch).</summary>
    public long QueueCount { get; init; }
    public long QueueNs { get; init; }
    /// <summary>Time of the batches: preparing inputs, the model run, and handing back outputs.</summary>
    public long ComputeInputNs { get; init; }
    public long ComputeInferNs { get; init; }
    public long ComputeOutputNs { get; init; }
    /// <summary>Items inferred (sum of batch sizes) and model runs (batches).</summary>
    public long InferenceCount { get; init; }
    public long ExecutionCount { get; init; }
    /// <summary>Requests queued right now, not yet running.</summary>
    public long PendingCount { get; init; }
    /// <summary>Per batch size that ran at least once, ascending: how often and how long (Triton's batch_stats).</summary>
    public IReadOnlyList<BatchSizeStatistics>? BatchSizes { get; init; }
}

/// <summary>
/// Where a model version's durations go one by one, besides its cumulative statistics: the server's
/// Prometheus histograms. Called on receiving and instance threads; must be lock-free and allocate nothing.
/// </summary>
public interface IDurationObserver
{
    /// <summary>One successful request, submit to answer, in <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
    void RequestSucceeded(long ticks);

    /// <summary>One model run (a whole batch), in <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
    void BatchRan(long ticks);
}

/// <summary>Gives each model version the repository loads its <see cref="IDurationObserver"/>.</summary>
public interface IDurationObservers
{
    IDurationObserver ForVersion(string model, string version);
}

/// <summary>The batches of one size: how many ran, and their cumulative time per phase.</summary>
public readonly record struct BatchSizeStatistics(int BatchSize, long Count, long ComputeInputNs, long ComputeInferNs, long ComputeOutputNs);

/// <summary>
/// The live counters behind <see cref="ModelStatistics"/>. Receiving threads and instance threads
/// add to them with Interlocked; instance threads add once per batch where they can.
/// </summary>
internal sealed class StatisticsCounters(int maxBatchSize, IDurationObserver? observer)
{
    private long _lastInferenceUnixMs;
    private long _successCount;
    private long _failureTicks;
    private long _rejected, _cancelled, _backend, _other;
    private long _queueCount, _queueTicks;
    private long _inputTicks, _outputTicks;
    private long _inferenceCount, _executionCount;
    private long _successTicks, _inferTicks;
    // Indexed by batch size (items); one writer per instance thread, so Interlocked where instances share a size.
    private readonly BatchSizeCounters[] _bySize = new BatchSizeCounters[maxBatchSize + 1];

    private struct BatchSizeCounters
    {
        public long Count, InputTicks, InferTicks, OutputTicks;
    }

    public void AddFailure(ErrorCode code, long elapsedTicks)
    {
        Interlocked.Add(ref _failureTicks, elapsedTicks);
        switch (code)
        {
            case ErrorCode.Overloaded or ErrorCode.Timeout or ErrorCode.Unavailable or ErrorCode.ShuttingDown:
                Interlocked.Increment(ref _rejected);
                break;
            case ErrorCode.Cancelled:
                Interlocked.Increment(ref _cancelled);
                break;
            case ErrorCode.ModelError:
                Interlocked.Increment(ref _backend);
                break;
            default:
                Interlocked.Increment(ref _other);
                break;
        }
    }

    /// <summary>One successful request's end-to-end time; <see cref="AddBatch"/> counts it.</summary>
    public void AddSuccessDuration(long ticks)
    {
        Interlocked.Add(ref _successTicks, ticks);
        observer?.RequestSucceeded(ticks);
    }

    /// <summary>Adds one executed batch: its items, the requests it answered and their times.</summary>
    public void AddBatch(int items, int succeeded, int started, long queueTicks, long inputTicks, long inferTicks, long outputTicks)
    {
        Interlocked.Increment(ref _executionCount);
        Interlocked.Add(ref _inferenceCount, items);
        Interlocked.Add(ref _successCount, succeeded);
        Interlocked.Add(ref _queueCount, started);
        Interlocked.Add(ref _queueTicks, queueTicks);
        Interlocked.Add(ref _inputTicks, inputTicks);
        Interlocked.Add(ref _outputTicks, outputTicks);
        Interlocked.Add(ref _inferTicks, inferTicks);
        observer?.BatchRan(inferTicks);
        if ((uint)items < (uint)_bySize.Length)
        {
            ref var size = ref _bySize[items];
            Interlocked.Increment(ref size.Count);
            Interlocked.Add(ref size.InputTicks, inputTicks);
            Interlocked.Add(ref size.InferTicks, inferTicks);
            Interlocked.Add(ref size.OutputTicks, outputTicks);
        }
        Volatile.Write(ref _lastInferenceUnixMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    public ModelStatistics Snapshot(string name, string version, long pending)
    {
        var rejected = Volatile.Read(ref _rejected);
        var cancelled = Volatile.Read(ref _cancelled);
        var backend = Volatile.Read(ref _backend);
        var other = Volatile.Read(ref _other);
        return new ModelStatistics
        {
            Name = name,
            Version = version,
            LastInferenceUnixMs = Volatile.Read(ref _lastInferenceUnixMs),
            SuccessCount = Volatile.Read(ref _successCount),
            SuccessNs = ToNs(Volatile.Read(ref _successTicks)),
            FailureCount = rejected + cancelled + backend + other,
            FailureNs = ToNs(Volatile.Read(ref _failureTicks)),
            RejectedCount = rejected,
            CancelledCount = cancelled,
            BackendFailureCount = backend,
            OtherFailureCount = other,
            QueueCount = Volatile.Read(ref _queueCount),
            QueueNs = ToNs(Volatile.Read(ref _queueTicks)),
            ComputeInputNs = ToNs(Volatile.Read(ref _inputTicks)),
            ComputeInferNs = ToNs(Volatile.Read(ref _inferTicks)),
            ComputeOutputNs = ToNs(Volatile.Read(ref _outputTicks)),
            InferenceCount = Volatile.Read(ref _inferenceCount),
            ExecutionCount = Volatile.Read(ref _executionCount),
            PendingCount = pending,
            BatchSizes = BatchSizes(),
        };
    }

    private List<BatchSizeStatistics> BatchSizes()
    {
        var sizes = new List<BatchSizeStatistics>();
        for (var items = 1; items < _bySize.Length; items++)
        {
            ref var size = ref _bySize[items];
            var count = Volatile.Read(ref size.Count);
            if (count > 0)
                sizes.Add(new BatchSizeStatistics(items, count, ToNs(Volatile.Read(ref size.InputTicks)),
                    ToNs(Volatile.Read(ref size.InferTicks)), ToNs(Volatile.Read(ref size.OutputTicks))));
        }
        return sizes;
    }

    private static long ToNs(long ticks) => (long)(ticks * (1_000_000_000.0 / Stopwatch.Frequency));
}
