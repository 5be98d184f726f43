namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// How one model version is scheduled; the Models layer builds it from the model configuration
/// (dynamic_batching, instance_group). The batch size limit comes from the model's
/// <see cref="ModelSignature.MaxBatchSize"/>.
/// </summary>
public sealed class SchedulerOptions
{
    /// <summary>
    /// Whether requests are combined into batches (Triton's dynamic_batching). Off, every request
    /// runs as its own batch, with the rows it brought.
    /// </summary>
    public bool DynamicBatching { get; init; } = true;

    /// <summary>Batch sizes to seal at without waiting for the queue delay (Triton's preferred_batch_size).</summary>
    public int[] PreferredBatchSizes { get; init; } = [];

    /// <summary>How long the oldest request of an open batch may wait for more to join; zero seals as soon as an instance is free.</summary>
    public TimeSpan MaxQueueDelay { get; init; }

    /// <summary>Number of priority levels; 1 = priorities off. Level 1 is served first.</summary>
    public int PriorityLevels { get; init; } = 1;

    /// <summary>The level of requests that name none (1..<see cref="PriorityLevels"/>).</summary>
    public int DefaultPriorityLevel { get; init; } = 1;

    /// <summary>Requests that may wait (not yet running) before new ones are refused with Overloaded.</summary>
    public int MaxQueueSize { get; init; } = 4096;

    /// <summary>Queue timeout of requests that bring none; zero = none.</summary>
    public TimeSpan DefaultTimeout { get; init; }

    /// <summary>Whether a request's own timeout replaces <see cref="DefaultTimeout"/>.</summary>
    public bool AllowTimeoutOverride { get; init; } = true;

    /// <summary>Model instances, each a thread with its own runner.</summary>
    public int InstanceCount { get; init; } = 1;

    /// <summary>How often queued requests are checked against their deadline while every instance is busy.</summary>
    public TimeSpan TimeoutSweepInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Distinct non-batch input shapes kept open at once per priority level (bounds memory for variable-shape models).</summary>
    public int MaxShapeSignatures { get; init; } = 256;

    /// <summary>Where batch buffers come from; null = aligned host memory.</summary>
    public IBufferAllocator? Allocator { get; init; }

    /// <summary>Receives each request's and each batch's duration as it happens (the server's /metrics histograms); null: none.</summary>
    public IDurationObserver? DurationObserver { get; init; }

    /// <summary>Where the scheduler reports what it cannot answer a request with (a front door's completion that threw); null: nowhere.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }
}
