using System.Buffers;
using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// One inference request as both front doors (binary transport, HTTP) hand it to the scheduler.
/// Instances are pooled and reused by the front door that owns them.
/// </summary>
/// <remarks>
/// Ownership: the front door fills the request and calls <see cref="IInferenceScheduler.Submit"/>.
/// During Submit the scheduler validates the inputs and copies their bytes into a batch buffer, so
/// <see cref="RequestInput.Data"/> may point into a receive buffer that is released when Submit
/// returns. From then on the scheduler owns the request until it calls
/// <see cref="IInferenceCompletion.Complete"/> exactly once; after that call returns the front door
/// owns it again and may reuse it.
/// </remarks>
public sealed class InferenceRequest
{
    private RequestInput[] _inputs = new RequestInput[4];

    /// <summary>Front-door id, echoed in the response (binary request id or HTTP "id").</summary>
    public ulong Id { get; set; }

    public string ModelName { get; set; } = "";

    /// <summary>The version asked for, or null to let the version policy and traffic split choose.</summary>
    public string? ModelVersion { get; set; }

    /// <summary>Key for sticky A/B routing; requests with the same key reach the same version.</summary>
    public string? RoutingKey { get; set; }

    /// <summary>Per-request timeout; null uses the model's default queue policy.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Priority level, 1 = highest as in Triton; 0 uses the model's default.</summary>
    public int Priority { get; set; }

    /// <summary>Output names to return; empty returns every output.</summary>
    public List<string> RequestedOutputs { get; } = [];

    public int InputCount { get; private set; }

    public ref RequestInput Input(int index) => ref _inputs[index];

    /// <summary>Adds an input slot and returns it for the caller to fill.</summary>
    public ref RequestInput AddInput()
    {
        if (InputCount == _inputs.Length)
            Array.Resize(ref _inputs, _inputs.Length * 2);
        return ref _inputs[InputCount++];
    }

    /// <summary>Receives the single answer for this request.</summary>
    public IInferenceCompletion? Completion { get; set; }

    /// <summary>Front-door context (connection, HTTP context); opaque to the scheduler.</summary>
    public object? State { get; set; }

    /// <summary>
    /// Scheduler bookkeeping, packed as (ticket &lt;&lt; 3 | phase) and changed only with Interlocked
    /// (see <see cref="RequestPhase"/>): the unique ticket of this submission keeps a pooled request that
    /// was answered and submitted again from being touched through a stale batch entry.
    /// </summary>
    internal long SchedulerState;

    /// <summary>Stopwatch ticks when Submit accepted the request.</summary>
    internal long EnqueueTicks;

    /// <summary>Stopwatch ticks after which the request must not run; 0 = no deadline.</summary>
    internal long DeadlineTicks;

    /// <summary>The batcher holding the request while it is queued or running (for Cancel).</summary>
    internal DynamicBatcher? Batcher;

    /// <summary>The version <see cref="IInferenceScheduler.Route"/> chose before the body was parsed; Submit sends the request there.</summary>
    internal RoutedVersion? Target;

    /// <summary>Clears every field so the request can be reused.</summary>
    public void Reset()
    {
        for (var i = 0; i < InputCount; i++)
            _inputs[i] = default;
        InputCount = 0;
        Id = 0;
        ModelName = "";
        ModelVersion = null;
        RoutingKey = null;
        Timeout = null;
        Priority = 0;
        RequestedOutputs.Clear();
        Completion = null;
        State = null;
        Volatile.Write(ref SchedulerState, 0);
        EnqueueTicks = 0;
        DeadlineTicks = 0;
        Batcher = null;
        Target = null;
    }
}

/// <summary>One input tensor as it arrives. Its data is read only during Submit.</summary>
public struct RequestInput
{
    public string Name;
    public DataType DataType;
    /// <summary>Full shape including the batch dimension when the model has one.</summary>
    public long[] Shape;
    /// <summary>Raw little-endian row-major bytes (BYTES: 4-byte length prefix per element).</summary>
    public ReadOnlySequence<byte> Data;
}

/// <summary>Receives the single answer of an accepted request.</summary>
public interface IInferenceCompletion
{
    /// <summary>
    /// Called exactly once per submitted request, with a result or an error. It may run on a model
    /// instance thread or, for errors found during Submit, inline before Submit returns. The spans
    /// in <paramref name="response"/> are valid only until this method returns: write or copy them
    /// here. Implementations must not block.
    /// </summary>
    void Complete(InferenceRequest request, in InferenceResponse response);
}

/// <summary>Entry point of the scheduling layer for every front door.</summary>
public interface IInferenceScheduler
{
    /// <summary>
    /// Picks the version now (the one named, else the traffic split or the latest) for a front door
    /// whose body can only be parsed against a version's signature (predict, a raw binary body);
    /// <see cref="Submit"/> then sends the request to that version. Throws <see cref="InferenceException"/>
    /// (NotFound, Unavailable) when there is no such version.
    /// </summary>
    RoutedModel Route(InferenceRequest request);

    /// <summary>
    /// Routes the request to a model version, validates its inputs and copies them into a batch.
    /// Always leads to exactly one <see cref="IInferenceCompletion.Complete"/> call, possibly inline
    /// (bad input, unknown model, queue full).
    /// </summary>
    void Submit(InferenceRequest request);

    /// <summary>
    /// Cancels a submitted request: removed if still queued, result dropped if running. The request
    /// is still answered exactly once (with <see cref="ErrorCode.Cancelled"/> unless it had already
    /// completed).
    /// </summary>
    void Cancel(InferenceRequest request);
}
