using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using HighPerfInference.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// The scheduler of one model version: validates requests, batches them in pooled native buffers
/// and feeds the batches to its model instances (Triton's dynamic batcher plus its instances).
/// </summary>
/// <remarks>
/// Receiving threads (<see cref="TrySubmit"/>) never take a lock: they reserve rows in the open
/// batch of their <see cref="ShapeSlot"/> (one per priority level and non-batch shape), copy their
/// inputs into the reserved rows and publish (see <see cref="Batch"/>). A batch is sealed
/// <list type="bullet">
/// <item>by a receiving thread when it is full or too full for the next request;</item>
/// <item>by an idle instance when it is due: max_queue_delay is zero, its size is preferred, or its
/// oldest request has waited max_queue_delay.</item>
/// </list>
/// Sealed, fully published batches wait in a ready queue per priority (level 1 first) until an
/// instance takes them. Instances sleep on a semaphore; a receiving thread wakes one only when an
/// instance is idle and the batch may be due, so under load no thread is woken per request.
/// A model without a batch dimension gets one sealed batch per request.
/// </remarks>
public sealed partial class DynamicBatcher : IDisposable
{
    private static readonly IBufferAllocator s_hostAllocator = new HostBufferAllocator();

    private readonly IModelBackend _backend;
    private readonly SchedulerOptions _options;
    private readonly IBufferAllocator _allocator;
    private readonly StatisticsCounters _statistics;
    private readonly ILogger _logger;
    private readonly int _capacityRows;
    private readonly long _maxDelayTicks;
    private readonly long _defaultTimeoutTicks;
    /// <summary>Indexed by row count: true where a batch of that size should go without waiting.</summary>
    private readonly bool[] _sealWithoutDelay;
    private readonly nuint[] _outputRowBytes;
    /// <summary>Per priority level, the shape slots (copy-on-write arrays; one fixed slot when shapes cannot vary).</summary>
    private readonly ShapeSlot[][] _slots;
    private readonly Lock _slotsLock = new();
    /// <summary>Marks a shape slot that was retired to make room for another shape; requests that see it look again.</summary>
    private readonly Batch _retired;
    private readonly ConcurrentQueue<Batch>[] _ready;
    private readonly ConcurrentQueue<Batch> _pool = new();
    private readonly Lock _batchesLock = new();
    /// <summary>Every batch ever made (copy-on-write), for the timeout sweep and disposal.</summary>
    private Batch[] _batches = [];
    private ModelInstance[] _instances = [];
    private readonly SemaphoreSlim _wake = new(0);
    private Timer? _sweepTimer;

    /// <summary>"model 'm' version v": every error of this version starts with it, so the client learns which version refused.</summary>
    private readonly string _displayName;
    private readonly string _queueFullMessage;
    private readonly string _timeoutMessage;
    private readonly string _cancelledMessage;
    private readonly string _unloadedMessage;

    /// <summary>Admitted requests that are not running yet (submitting or queued).</summary>
    private long _queued;
    private int _idle;
    private int _accepting;
    private int _draining;
    private int _aborting;
    private int _stopping;

    public DynamicBatcher(string modelName, string version, IModelBackend backend, SchedulerOptions options)
    {
        ModelName = modelName;
        Version = version;
        _backend = backend;
        _options = options;
        _logger = options.Logger ?? NullLogger.Instance;
        Signature = backend.Signature;
        _allocator = options.Allocator ?? s_hostAllocator;
        _capacityRows = Signature.Batches ? Signature.MaxBatchSize : 1;
        if (_capacityRows > Batch.MaxRows)
            throw new ArgumentOutOfRangeException(nameof(backend), $"max_batch_size {Signature.MaxBatchSize} exceeds {Batch.MaxRows}");
        if (options.PriorityLevels < 1 || options.DefaultPriorityLevel < 1 || options.DefaultPriorityLevel > options.PriorityLevels)
            throw new ArgumentOutOfRangeException(nameof(options), "priority levels must be at least 1 and the default level among them");
        if (options.InstanceCount < 0 || options.MaxQueueSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "instance count must not be negative and max queue size must be positive");

        _maxDelayTicks = ToTicks(options.MaxQueueDelay);
        _defaultTimeoutTicks = ToTicks(options.DefaultTimeout);
        _sealWithoutDelay = new bool[_capacityRows + 1];
        _sealWithoutDelay[_capacityRows] = true;
        var largestPreferred = int.MaxValue;
        if (options.PreferredBatchSizes.Length > 0)
        {
            largestPreferred = 0;
            foreach (var size in options.PreferredBatchSizes)
            {
                if (size < 1 || size > _capacityRows)
                    throw new ArgumentOutOfRangeException(nameof(options), $"preferred batch size {size} is outside 1..{_capacityRows}");
                _sealWithoutDelay[size] = true;
                largestPreferred = Math.Max(largestPreferred, size);
            }
        }
        for (var rows = largestPreferred; rows < _sealWithoutDelay.Length; rows++)
            _sealWithoutDelay[rows] = true;

        _statistics = new StatisticsCounters(_capacityRows, options.DurationObserver);
        _outputRowBytes = OutputRowBytes(Signature);
        _retired = new Batch(Signature, _allocator, 1, _outputRowBytes);
        _slots = new ShapeSlot[options.PriorityLevels][];
        _ready = new ConcurrentQueue<Batch>[options.PriorityLevels];
        for (var p = 0; p < _slots.Length; p++)
        {
            _slots[p] = Signature.Batches && Signature.HasFixedInputShapes ? [FixedSlot(p)] : [];
            _ready[p] = new ConcurrentQueue<Batch>();
        }

        var name = _displayName = $"model '{modelName}' version {version}";
        _queueFullMessage = $"the queue of {name} is full ({options.MaxQueueSize} requests); retry later";
        _timeoutMessage = $"the request timed out in the queue of {name} before it ran";
        _cancelledMessage = "the request was cancelled";
        _unloadedMessage = $"{name} was unloaded before the request ran";
    }

    public string ModelName { get; }
    public string Version { get; }
    public ModelSignature Signature { get; }

    /// <summary>Requests admitted and not yet running.</summary>
    public long QueuedCount => Interlocked.Read(ref _queued);

    internal bool IsDraining => Volatile.Read(ref _draining) != 0;
    internal bool IsAborting => Volatile.Read(ref _aborting) != 0;
    internal bool IsStopping => Volatile.Read(ref _stopping) != 0;

    public ModelStatistics GetStatistics() => _statistics.Snapshot(ModelName, Version, Math.Max(0, QueuedCount));

    /// <summary>
    /// Creates one runner per instance, runs <paramref name="warmupBatches"/> batches of zeros of
    /// <paramref name="warmupBatchSize"/> rows on each, then starts the instance threads and takes requests.
    /// </summary>
    public void Start(int warmupBatches = 0, int warmupBatchSize = 1)
    {
        var instances = new ModelInstance[_options.InstanceCount];
        try
        {
            for (var i = 0; i < instances.Length; i++)
            {
                instances[i] = new ModelInstance(this, _backend.CreateRunner(i), i);
                for (var w = 0; w < warmupBatches; w++)
                    instances[i].Warmup(Math.Clamp(warmupBatchSize, 1, _capacityRows));
            }
        }
        catch
        {
            foreach (var instance in instances)
                instance?.Dispose();
            throw;
        }
        _instances = instances;
        foreach (var instance in instances)
            instance.Start();
        if (_options.AllowTimeoutOverride || _defaultTimeoutTicks > 0)
            _sweepTimer = new Timer(static state => ((DynamicBatcher)state!).SweepQueued(abort: false), this, _options.TimeoutSweepInterval, _options.TimeoutSweepInterval);
        Volatile.Write(ref _accepting, 1);
    }

    /// <summary>
    /// Admits, validates and enqueues a request, or answers it at once (bad input, queue full).
    /// Returns false, without touching the request, when this version no longer takes requests
    /// (draining for unload or reload): the caller routes it elsewhere or answers it.
    /// </summary>
    public bool TrySubmit(InferenceRequest request)
    {
        // Count first, then check: DrainAsync clears _accepting first, then waits for the count, so
        // every request either sees the drain or is waited for.
        Interlocked.Increment(ref _queued);
        if (Volatile.Read(ref _accepting) == 0)
        {
            Interlocked.Decrement(ref _queued);
            return false;
        }

        var now = Stopwatch.GetTimestamp();
        var ticket = RequestPhase.NextTicket();
        request.Batcher = this;
        request.EnqueueTicks = now;
        request.DeadlineTicks = 0;
        Volatile.Write(ref request.SchedulerState, RequestPhase.Make(ticket, RequestPhase.Submitting));

        if (Interlocked.Read(ref _queued) > _options.MaxQueueSize)
        {
            Reject(request, ticket, ErrorCode.Overloaded, _queueFullMessage);
            return true;
        }

        try
        {
            Span<int> order = Signature.Inputs.Count <= 64 ? stackalloc int[Signature.Inputs.Count] : new int[Signature.Inputs.Count];
            var error = Validate(request, order, out var rows, out var priority, out var code);
            if (error is not null)
            {
                Reject(request, ticket, code, $"{_displayName}: {error}");
                return true;
            }

            var timeoutTicks = _options.AllowTimeoutOverride && request.Timeout is { } timeout ? ToTicks(timeout) : _defaultTimeoutTicks;
            if (timeoutTicks > 0)
                request.DeadlineTicks = now + timeoutTicks;

            if (!Signature.Batches || !_options.DynamicBatching || Signature.HasBytes)
            {
                EnqueueSingle(request, ticket, order, rows, priority, now);
                return true;
            }
            while (true)
            {
                var slot = FindSlot(request, order, priority);
                if (slot is null)
                {
                    Reject(request, ticket, ErrorCode.Overloaded,
                        $"{_displayName}: {_options.MaxShapeSignatures} differently shaped batches are already waiting; retry later");
                    return true;
                }
                if (TryEnqueue(slot, request, ticket, order, rows, now))
                    return true;
            }
        }
        catch (Exception ex)
        {
            // Only a fault of ours gets here (allocation failure, a bug); the request still gets its one answer.
            Reject(request, ticket, ErrorCode.Internal, $"{_displayName}: scheduling failed: {ex.Message}");
            return true;
        }
    }

    /// <summary>Cancels a submission of this batcher: see <see cref="IInferenceScheduler.Cancel"/>.</summary>
    public void Cancel(InferenceRequest request)
    {
        while (true)
        {
            var state = Volatile.Read(ref request.SchedulerState);
            var ticket = state >> 3;
            switch (RequestPhase.PhaseOf(state))
            {
                case RequestPhase.Submitting or RequestPhase.Running:
                    if (RequestPhase.TryMove(request, ticket, RequestPhase.PhaseOf(state), RequestPhase.CancelRequested))
                        return;
                    break;
                case RequestPhase.Queued:
                    if (RequestPhase.TryMove(request, ticket, RequestPhase.Queued, RequestPhase.Done))
                    {
                        DropQueued(request, ErrorCode.Cancelled);
                        return;
                    }
                    break;
                default:
                    return;
            }
        }
    }

    /// <summary>
    /// Stops taking requests, lets the instances run everything already queued, then stops them.
    /// Whatever is still queued after <paramref name="grace"/> (or when <paramref name="cancellationToken"/>
    /// fires) is answered with <see cref="ErrorCode.Unavailable"/> instead of running. Running batches
    /// always finish. Every admitted request has been answered when the task completes.
    /// </summary>
    public async Task DrainAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _draining, 1) == 1)
            return;
        Interlocked.Exchange(ref _accepting, 0);
        WakeAll();
        var deadline = Stopwatch.GetTimestamp() + ToTicks(grace);
        while (Interlocked.Read(ref _queued) > 0)
        {
            if (_instances.Length == 0 || Stopwatch.GetTimestamp() >= deadline || cancellationToken.IsCancellationRequested)
            {
                Volatile.Write(ref _aborting, 1);
                SweepQueued(abort: true);
            }
            await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
        }
        Volatile.Write(ref _stopping, 1);
        WakeAll();
        foreach (var instance in _instances)
            await instance.Stopped.ConfigureAwait(false);
        if (_sweepTimer is not null)
            await _sweepTimer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Drains at once (queued requests answered Unavailable), stops the instances and frees every buffer.</summary>
    public void Dispose()
    {
        DrainAsync(TimeSpan.Zero).GetAwaiter().GetResult();
        foreach (var instance in _instances)
            instance.Dispose();
        foreach (var batch in Volatile.Read(ref _batches))
            batch.Dispose();
        _wake.Dispose();
    }

    /// <summary>
    /// Why the request does not fit this version (names, datatypes, shapes, outputs, priority), or null
    /// when it does; touches nothing. The router asks this of each version of a traffic split whose
    /// versions take different inputs, to route the request only among those it fits.
    /// </summary>
    public string? Misfit(InferenceRequest request)
    {
        Span<int> order = Signature.Inputs.Count <= 64 ? stackalloc int[Signature.Inputs.Count] : new int[Signature.Inputs.Count];
        return Validate(request, order, out _, out _, out _);
    }

    // ---- receiving side ----

    private string? Validate(InferenceRequest request, Span<int> order, out int rows, out int priority, out ErrorCode code)
    {
        code = ErrorCode.InvalidArgument;
        rows = 1;
        priority = 0;
        var inputs = Signature.Inputs;
        order.Fill(-1);
        var batchDims = Signature.Batches ? 1 : 0;
        var batchSeen = false;
        for (var r = 0; r < request.InputCount; r++)
        {
            ref var input = ref request.Input(r);
            var m = Signature.IndexOfInput(input.Name);
            if (m < 0)
            {
                code = ErrorCode.NotFound;
                return $"unexpected input '{input.Name}' (it takes {Names(inputs)})";
            }
            if (order[m] >= 0)
                return $"input '{input.Name}' is given more than once";
            order[m] = r;

            var spec = inputs[m];
            if (input.DataType != spec.DataType)
                return $"input '{spec.Name}': datatype {input.DataType.WireName()} does not match the model's {spec.DataType.WireName()}";
            var shape = input.Shape;
            if (shape is null || shape.Length != spec.Shape.Length)
                return $"input '{spec.Name}': shape {Format(shape)} does not match the model's {Format(spec.Shape)}";

            long elements = 1;
            for (var d = 0; d < shape.Length; d++)
            {
                var dim = shape[d];
                if (d < batchDims)
                {
                    if (dim < 1 || dim > Signature.MaxBatchSize)
                        return $"input '{spec.Name}': batch size {dim} is outside 1..{Signature.MaxBatchSize} (max_batch_size)";
                    if (batchSeen && dim != rows)
                        return $"input '{spec.Name}' has batch size {dim} but an earlier input has {rows}";
                    batchSeen = true;
                    rows = (int)dim;
                }
                else if (dim < 0 || (spec.Shape[d] >= 0 && dim != spec.Shape[d]))
                {
                    return $"input '{spec.Name}': shape {Format(shape)} does not match the model's {Format(spec.Shape)}";
                }
                if (dim != 0 && elements > int.MaxValue / dim)
                    return $"input '{spec.Name}': shape {Format(shape)} is too large";
                elements *= dim;
            }
            if (spec.DataType == DataType.Bytes)
            {
                if (!IsBytesTensor(input.Data, elements))
                    return $"input '{spec.Name}': {input.Data.Length} bytes of data do not hold the {elements} length-prefixed BYTES elements of shape {Format(shape)}";
                continue;
            }
            var expected = elements * spec.DataType.ElementSize();
            if (expected > Array.MaxLength)
                return $"input '{spec.Name}': shape {Format(shape)} is too large";
            if (input.Data.Length != expected)
                return $"input '{spec.Name}': {input.Data.Length} bytes of data, but shape {Format(shape)} of {spec.DataType.WireName()} needs {expected}";
        }
        for (var m = 0; m < order.Length; m++)
        {
            if (order[m] < 0)
                return $"missing input '{inputs[m].Name}' (it takes {Names(inputs)})";
        }

        var requested = request.RequestedOutputs;
        for (var i = 0; i < requested.Count; i++)
        {
            if (Signature.IndexOfOutput(requested[i]) < 0)
            {
                code = ErrorCode.NotFound;
                return $"unexpected output '{requested[i]}' (it has {Names(Signature.Outputs)})";
            }
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(requested[i], requested[j], StringComparison.Ordinal))
                    return $"output '{requested[i]}' is requested more than once";
            }
        }

        if (_slots.Length > 1)
        {
            var level = request.Priority == 0 ? _options.DefaultPriorityLevel : request.Priority;
            if (level < 1 || level > _slots.Length)
                return $"priority {request.Priority} is outside 1..{_slots.Length} (priority_levels)";
            priority = level - 1;
        }
        return null;
    }

    /// <summary>True when <paramref name="data"/> is exactly <paramref name="elements"/> elements of a 4-byte little-endian length and that many bytes.</summary>
    private static bool IsBytesTensor(ReadOnlySequence<byte> data, long elements)
    {
        var reader = new SequenceReader<byte>(data);
        for (long i = 0; i < elements; i++)
        {
            if (!reader.TryReadLittleEndian(out int length) || length < 0 || reader.Remaining < length)
                return false;
            reader.Advance(length);
        }
        return reader.End;
    }

    /// <summary>
    /// Reserves rows in the slot's open batch, copies the inputs there and publishes them. False when
    /// the slot was retired meanwhile (the caller finds or makes another).
    /// </summary>
    private bool TryEnqueue(ShapeSlot slot, InferenceRequest request, long ticket, ReadOnlySpan<int> order, int rows, long now)
    {
        Batch batch;
        long state;
        while (true)
        {
            batch = Volatile.Read(ref slot.Open)!;
            if (batch is null)
            {
                InstallBatch(slot);
                continue;
            }
            if (batch == _retired)
                return false;
            state = Volatile.Read(ref batch.State);
            // The slot check after reading the state proves the batch was this slot's open batch while
            // the state was current; the generation in the state makes the CompareExchange fail otherwise.
            if (Batch.IsSealed(state) || Volatile.Read(ref slot.Open) != batch)
                continue;
            if (Batch.Rows(state) + rows > _capacityRows)
            {
                if (TrySeal(slot, batch) == SealResult.Complete)
                    Dispatch(batch);
                continue;
            }
            if (Interlocked.CompareExchange(ref batch.State, state + rows * Batch.RowOne + Batch.RequestOne, state) == state)
                break;
        }

        var rowStart = Batch.Rows(state);
        var entryIndex = Batch.Requests(state);
        if (rowStart + rows == _capacityRows)
            TrySeal(slot, batch); // full: the next request opens a new batch; our publish dispatches this one

        for (var m = 0; m < order.Length; m++)
            request.Input(order[m]).Data.CopyTo(batch.InputRows(m, rowStart, rows));
        ref var entry = ref batch.Entries[entryIndex];
        entry.Request = request;
        entry.RowStart = rowStart;
        entry.Rows = rows;
        Volatile.Write(ref entry.Ticket, ticket);
        if (entryIndex == 0)
            Volatile.Write(ref batch.FirstEnqueueTicks, now);

        var queued = RequestPhase.TryMove(request, ticket, RequestPhase.Submitting, RequestPhase.Queued);
        if (!queued)
            Volatile.Write(ref request.SchedulerState, RequestPhase.Make(ticket, RequestPhase.Done)); // Cancel came first
        var published = Interlocked.Add(ref batch.State, Batch.PublishedOne);
        if (Batch.IsComplete(published))
            Dispatch(batch);
        else if (Volatile.Read(ref _idle) > 0 && (entryIndex == 0 || _maxDelayTicks == 0 || _sealWithoutDelay[Batch.Rows(published)]))
            WakeOne();
        if (!queued)
            DropQueued(request, ErrorCode.Cancelled);
        return true;
    }

    /// <summary>A model without a batch dimension, batching off, or BYTES tensors: the request is a sealed batch of its own.</summary>
    private void EnqueueSingle(InferenceRequest request, long ticket, ReadOnlySpan<int> order, int rows, int priority, long now)
    {
        Span<nuint> bytes = order.Length <= 64 ? stackalloc nuint[order.Length] : new nuint[order.Length];
        for (var m = 0; m < order.Length; m++)
            bytes[m] = (nuint)request.Input(order[m]).Data.Length;
        var batch = Rent();
        batch.OpenSingle(priority, bytes, rows);
        for (var m = 0; m < order.Length; m++)
        {
            ref var input = ref request.Input(order[m]);
            input.Data.CopyTo(batch.InputRows(m, 0, 1));
            input.Shape.CopyTo(batch.InputShapes[m], 0);
        }
        ref var entry = ref batch.Entries[0];
        entry.Request = request;
        entry.RowStart = 0;
        entry.Rows = rows;
        Volatile.Write(ref entry.Ticket, ticket);
        batch.FirstEnqueueTicks = now;
        Volatile.Write(ref batch.Phase, Batch.PhaseSealed);
        Interlocked.Add(ref batch.State, rows * Batch.RowOne + Batch.RequestOne + Batch.PublishedOne + Batch.SealedBit);
        if (RequestPhase.TryMove(request, ticket, RequestPhase.Submitting, RequestPhase.Queued))
        {
            Dispatch(batch);
            return;
        }
        Volatile.Write(ref request.SchedulerState, RequestPhase.Make(ticket, RequestPhase.Done));
        Recycle(batch, 1);
        DropQueued(request, ErrorCode.Cancelled);
    }

    private ShapeSlot? FindSlot(InferenceRequest request, ReadOnlySpan<int> order, int priority)
    {
        var slots = Volatile.Read(ref _slots[priority]);
        if (Signature.HasFixedInputShapes)
            return slots[0];
        var hash = ShapeHash(request, order);
        var slot = Match(slots, hash, request, order);
        if (slot is not null)
            return slot;
        lock (_slotsLock)
        {
            slots = _slots[priority];
            slot = Match(slots, hash, request, order);
            if (slot is not null)
                return slot;
            if (slots.Length >= _options.MaxShapeSignatures)
            {
                slots = RetireIdleSlots(slots);
                if (slots.Length >= _options.MaxShapeSignatures)
                    return null;
            }
            var rowShapes = new long[order.Length][];
            var rowBytes = new nuint[order.Length];
            for (var m = 0; m < order.Length; m++)
            {
                rowShapes[m] = request.Input(order[m]).Shape[1..];
                var elements = 1L;
                foreach (var dim in rowShapes[m])
                    elements *= dim;
                rowBytes[m] = (nuint)(elements * Signature.Inputs[m].DataType.ElementSize());
            }
            slot = new ShapeSlot(priority, rowShapes, rowBytes, hash);
            Volatile.Write(ref _slots[priority], [.. slots, slot]);
            return slot;
        }
    }

    /// <summary>Retires slots with no open batch (marks them so late arrivals look again) and returns the rest.</summary>
    private ShapeSlot[] RetireIdleSlots(ShapeSlot[] slots)
    {
        var kept = new List<ShapeSlot>(slots.Length);
        foreach (var slot in slots)
        {
            if (Interlocked.CompareExchange(ref slot.Open, _retired, null) is not null)
                kept.Add(slot);
        }
        return [.. kept];
    }

    private static ShapeSlot? Match(ShapeSlot[] slots, long hash, InferenceRequest request, ReadOnlySpan<int> order)
    {
        foreach (var slot in slots)
        {
            if (slot.Hash != hash)
                continue;
            var same = true;
            for (var m = 0; m < order.Length && same; m++)
                same = request.Input(order[m]).Shape.AsSpan(1).SequenceEqual(slot.RowShapes[m]);
            if (same)
                return slot;
        }
        return null;
    }

    private static long ShapeHash(InferenceRequest request, ReadOnlySpan<int> order)
    {
        var hash = unchecked((long)0xcbf29ce484222325);
        for (var m = 0; m < order.Length; m++)
        {
            var shape = request.Input(order[m]).Shape;
            for (var d = 1; d < shape.Length; d++)
                hash = unchecked((hash ^ shape[d]) * 0x100000001b3);
        }
        return hash;
    }

    private ShapeSlot FixedSlot(int priority)
    {
        var inputs = Signature.Inputs;
        var rowShapes = new long[inputs.Count][];
        var rowBytes = new nuint[inputs.Count];
        for (var m = 0; m < inputs.Count; m++)
        {
            rowShapes[m] = inputs[m].Shape[1..];
            rowBytes[m] = RowBytes(inputs[m], 1);
        }
        return new ShapeSlot(priority, rowShapes, rowBytes, 0);
    }

    private void InstallBatch(ShapeSlot slot)
    {
        var batch = Rent();
        batch.Open(slot);
        if (Interlocked.CompareExchange(ref slot.Open, batch, null) is not null)
        {
            batch.Abandon();
            _pool.Enqueue(batch);
        }
    }

    private enum SealResult { NotSealed, Pending, Complete }

    /// <summary>
    /// Takes the batch out of its slot (only one caller can) and sets its sealed bit. Complete = every
    /// reservation was already published and the caller must dispatch it; Pending = the last publisher will.
    /// </summary>
    private static SealResult TrySeal(ShapeSlot slot, Batch batch)
    {
        if (Interlocked.CompareExchange(ref slot.Open, null, batch) != batch)
            return SealResult.NotSealed;
        Volatile.Write(ref batch.Phase, Batch.PhaseSealed);
        var before = Interlocked.Or(ref batch.State, Batch.SealedBit);
        return Batch.IsComplete(before | Batch.SealedBit) ? SealResult.Complete : SealResult.Pending;
    }

    private void Dispatch(Batch batch)
    {
        _ready[batch.Priority].Enqueue(batch);
        WakeOne();
    }

    private void Reject(InferenceRequest request, long ticket, ErrorCode code, string message)
    {
        Volatile.Write(ref request.SchedulerState, RequestPhase.Make(ticket, RequestPhase.Done));
        DropQueued(request, code, message);
    }

    // ---- instance side ----

    /// <summary>
    /// The next batch for an idle instance: a ready batch, or an open one that is due, highest
    /// priority first. <paramref name="dueAt"/> is when the earliest waiting open batch becomes due.
    /// </summary>
    internal Batch? TryTakeWork(out long dueAt)
    {
        dueAt = long.MaxValue;
        var draining = IsDraining;
        long now = 0;
        for (var p = 0; p < _ready.Length; p++)
        {
            if (_ready[p].TryDequeue(out var ready))
                return ready;
            foreach (var slot in Volatile.Read(ref _slots[p]))
            {
                var batch = Volatile.Read(ref slot.Open);
                if (batch is null || batch == _retired)
                    continue;
                var rows = Batch.Rows(Volatile.Read(ref batch.State));
                if (rows == 0 || !(draining || IsDue(batch, rows, ref now, ref dueAt)))
                    continue;
                if (TrySeal(slot, batch) == SealResult.Complete)
                    return batch;
            }
        }
        return null;
    }

    private bool IsDue(Batch batch, int rows, ref long now, ref long dueAt)
    {
        if (_maxDelayTicks == 0 || _sealWithoutDelay[rows])
            return true;
        if (now == 0)
            now = Stopwatch.GetTimestamp();
        var first = Volatile.Read(ref batch.FirstEnqueueTicks);
        var due = (first == 0 ? now : first) + _maxDelayTicks;
        if (due <= now)
            return true;
        dueAt = Math.Min(dueAt, due);
        return false;
    }

    internal void EnterIdle() => Interlocked.Increment(ref _idle);

    /// <summary>Leaves the idle count unless a waker already took this instance out of it (its wake then stays pending, harmlessly).</summary>
    internal void LeaveIdle()
    {
        int idle;
        while ((idle = Volatile.Read(ref _idle)) > 0)
        {
            if (Interlocked.CompareExchange(ref _idle, idle - 1, idle) == idle)
                return;
        }
    }

    /// <summary>Sleeps until woken or until <paramref name="dueAt"/>; true when woken (the waker left the idle count for us).</summary>
    internal bool WaitForWake(long dueAt)
    {
        int timeoutMs;
        if (IsDraining)
        {
            timeoutMs = 1;
        }
        else if (dueAt == long.MaxValue)
        {
            timeoutMs = Timeout.Infinite;
        }
        else
        {
            var remaining = dueAt - Stopwatch.GetTimestamp();
            var ms = remaining * 1000 / Stopwatch.Frequency;
            if (ms <= 0)
            {
                // Less than a millisecond to go, shorter than the semaphore's resolution: yield, then look again.
                if (remaining > 0)
                    Thread.Yield();
                return _wake.Wait(0);
            }
            timeoutMs = (int)Math.Min(ms, int.MaxValue);
        }
        return _wake.Wait(timeoutMs);
    }

    private void WakeOne()
    {
        int idle;
        while ((idle = Volatile.Read(ref _idle)) > 0)
        {
            if (Interlocked.CompareExchange(ref _idle, idle - 1, idle) == idle)
            {
                _wake.Release();
                return;
            }
        }
    }

    private void WakeAll()
    {
        if (_instances.Length > 0)
            _wake.Release(_instances.Length);
    }

    internal void LeaveQueue() => Interlocked.Decrement(ref _queued);

    /// <summary>Answers a request that left the queue without running (the caller won its move to Done).</summary>
    internal void DropQueued(InferenceRequest request, ErrorCode code, string? message = null)
    {
        LeaveQueue();
        Fail(request, code, message ?? MessageFor(code));
    }

    /// <summary>Answers a request with an error and counts it; the caller owns the answer.</summary>
    internal void Fail(InferenceRequest request, ErrorCode code, string message)
    {
        _statistics.AddFailure(code, Stopwatch.GetTimestamp() - request.EnqueueTicks);
        Complete(request, InferenceResponse.Failure(code, message, ModelName, Version));
    }

    internal string MessageFor(ErrorCode code) => code switch
    {
        ErrorCode.Timeout => _timeoutMessage,
        ErrorCode.Cancelled => _cancelledMessage,
        ErrorCode.Overloaded => _queueFullMessage,
        _ => _unloadedMessage,
    };

    /// <summary>Hands a request its answer, through <see cref="Complete(InferenceRequest, in InferenceResponse, ILogger)"/> with this batcher's logger.</summary>
    internal void Complete(InferenceRequest request, in InferenceResponse response) => Complete(request, response, _logger);

    /// <summary>
    /// Hands a request its answer. A front door's completion must not throw; if one does, that request's
    /// answer is lost, and the failure is logged rather than swallowed, while the instance thread and the other
    /// requests of the batch carry on.
    /// </summary>
    internal static void Complete(InferenceRequest request, in InferenceResponse response, ILogger logger)
    {
        request.Batcher = null; // the answered request must not keep an unloaded model alive
        try
        {
            request.Completion?.Complete(request, response);
        }
#pragma warning disable CA1031 // a throwing front door must not take down the instance thread or the batch
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogCompletionFailed(logger, request.Id, request.ModelName, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The answer to request {Id} of model {Model} was lost: its front door's completion threw")]
    private static partial void LogCompletionFailed(ILogger logger, ulong id, string model, Exception exception);

    internal StatisticsCounters Statistics => _statistics;

    internal Batch Rent()
    {
        if (_pool.TryDequeue(out var batch))
            return batch;
        batch = new Batch(Signature, _allocator, _capacityRows, _outputRowBytes);
        lock (_batchesLock)
            Volatile.Write(ref _batches, [.. _batches, batch]);
        return batch;
    }

    internal void Recycle(Batch batch, int entries)
    {
        batch.Clear(entries);
        _pool.Enqueue(batch);
    }

    /// <summary>
    /// Answers queued requests whose deadline passed (or all of them when aborting) without waiting
    /// for an instance to reach them. Runs on a timer and during a forced drain.
    /// </summary>
    private void SweepQueued(bool abort)
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var batch in Volatile.Read(ref _batches))
        {
            var phase = Volatile.Read(ref batch.Phase);
            if (phase is not (Batch.PhaseOpen or Batch.PhaseSealed))
                continue;
            var requests = Batch.Requests(Volatile.Read(ref batch.State));
            for (var i = 0; i < requests; i++)
            {
                ref var entry = ref batch.Entries[i];
                var ticket = Volatile.Read(ref entry.Ticket);
                var request = Volatile.Read(ref entry.Request);
                if (ticket == 0 || request is null)
                    continue;
                var deadline = request.DeadlineTicks;
                if (!abort && (deadline == 0 || now < deadline))
                    continue;
                if (RequestPhase.TryMove(request, ticket, RequestPhase.Queued, RequestPhase.Done))
                    DropQueued(request, abort ? ErrorCode.Unavailable : ErrorCode.Timeout);
            }
        }
    }

    private static nuint[] OutputRowBytes(ModelSignature signature)
    {
        // Outputs whose non-batch shape is known get pooled buffers; 0 = the runner allocates.
        var bytes = new nuint[signature.Outputs.Count];
        for (var o = 0; o < bytes.Length; o++)
            bytes[o] = RowBytes(signature.Outputs[o], signature.Batches ? 1 : 0);
        return bytes;
    }

    /// <summary>Bytes of one row (the dimensions from <paramref name="firstDim"/> on); 0 when one of them varies.</summary>
    private static nuint RowBytes(TensorSpec spec, int firstDim)
    {
        long elements = 1;
        for (var d = firstDim; d < spec.Shape.Length; d++)
        {
            if (spec.Shape[d] < 0)
                return 0;
            elements *= spec.Shape[d];
        }
        return (nuint)(elements * spec.DataType.ElementSize());
    }

    private static long ToTicks(TimeSpan span) => span <= TimeSpan.Zero ? 0 : (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static string Format(long[]? shape) => shape is null ? "(none)" : $"[{string.Join(",", shape)}]";

    private static string Names(IReadOnlyList<TensorSpec> specs)
    {
        var names = new string[specs.Count];
        for (var i = 0; i < names.Length; i++)
            names[i] = $"'{specs[i].Name}'";
        return string.Join(", ", names);
    }
}
