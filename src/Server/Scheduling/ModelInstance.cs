using System.Diagnostics;
using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// One execution instance of a model version: a dedicated thread with its own runner (its own
/// session, and on GPU its own stream) that takes sealed batches from its <see cref="DynamicBatcher"/>,
/// runs them over the batch buffers and answers every request with its own rows of the outputs.
/// </summary>
/// <remarks>
/// Ownership: a batch taken from the batcher belongs to this thread until it is recycled at the end
/// of <see cref="Execute"/>. The response spans point into the batch (or runner) output buffers and
/// are valid only during each Complete call, which is why nothing is copied here.
/// </remarks>
internal sealed unsafe class ModelInstance : IDisposable
{
    private readonly DynamicBatcher _batcher;
    private readonly IModelRunner _runner;
    private readonly ModelSignature _signature;
    private readonly TensorView[] _inputs;
    private readonly TensorView[] _outputs;
    private readonly nuint[] _outputRowBytes;
    private readonly ResponseOutput[] _responseOutputs;
    private readonly long[][] _responseShapes;
    private readonly Thread _thread;
    /// <summary>True while the batch being answered holds several requests' rows (each gets its slice); false for a single request (it gets everything).</summary>
    private bool _sliceRows;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ModelInstance(DynamicBatcher batcher, IModelRunner runner, int index)
    {
        _batcher = batcher;
        _runner = runner;
        _signature = batcher.Signature;
        _inputs = new TensorView[_signature.Inputs.Count];
        for (var m = 0; m < _inputs.Length; m++)
            _inputs[m].DataType = _signature.Inputs[m].DataType;
        _outputs = new TensorView[_signature.Outputs.Count];
        _outputRowBytes = new nuint[_outputs.Length];
        _responseOutputs = new ResponseOutput[_outputs.Length];
        _responseShapes = new long[_outputs.Length][];
        for (var o = 0; o < _outputs.Length; o++)
            _responseShapes[o] = new long[_signature.Outputs[o].Shape.Length];
        _thread = new Thread(Loop)
        {
            IsBackground = true,
            Name = $"{batcher.ModelName}:{batcher.Version}#{index}",
        };
    }

    /// <summary>Completes when the thread has left its loop (after the batcher stopped).</summary>
    public Task Stopped => _stopped.Task;

    public void Start() => _thread.Start();

    /// <summary>
    /// Runs one batch of zeros with <paramref name="rows"/> rows (as given where the model does not
    /// batch); variable dimensions are 1 and BYTES elements empty.
    /// </summary>
    public void Warmup(int rows)
    {
        var batch = _batcher.Rent();
        try
        {
            var bytes = new nuint[_inputs.Length];
            for (var m = 0; m < _inputs.Length; m++)
            {
                var spec = _signature.Inputs[m];
                var shape = batch.InputShapes[m];
                for (var d = 0; d < shape.Length; d++)
                    shape[d] = _signature.Batches && d == 0 ? rows : Math.Max(1, spec.Shape[d]);
                var elements = (nuint)1;
                foreach (var dim in shape)
                    elements *= (nuint)dim;
                // A BYTES element of zero length is its 4-byte length prefix, zero.
                bytes[m] = elements * (nuint)(spec.DataType == DataType.Bytes ? sizeof(int) : spec.DataType.ElementSize());
            }
            batch.OpenSingle(0, bytes, rows);
            for (var m = 0; m < _inputs.Length; m++)
                batch.InputRows(m, 0, 1).Clear();
            Run(batch, rows);
        }
        finally
        {
            batch.Abandon();
            _batcher.Recycle(batch, 0);
        }
    }

    public void Dispose() => _runner.Dispose();

    private void Loop()
    {
        try
        {
            while (true)
            {
                var batch = _batcher.TryTakeWork(out var dueAt);
                if (batch is null)
                {
                    // Announce idleness, then look once more: a request published in between either
                    // saw us idle (and wakes us) or is seen by this second look.
                    _batcher.EnterIdle();
                    batch = _batcher.TryTakeWork(out dueAt);
                    if (batch is null)
                    {
                        if (_batcher.IsStopping)
                        {
                            _batcher.LeaveIdle();
                            return;
                        }
                        if (!_batcher.WaitForWake(dueAt))
                            _batcher.LeaveIdle();
                        continue;
                    }
                    _batcher.LeaveIdle();
                }
                Execute(batch);
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>Drops requests that were answered or expired meanwhile, runs the rest, answers each with its rows.</summary>
    private void Execute(Batch batch)
    {
        Volatile.Write(ref batch.Phase, Batch.PhaseRunning);
        var start = Stopwatch.GetTimestamp();
        var entries = Batch.Requests(Volatile.Read(ref batch.State));
        var aborting = _batcher.IsAborting;
        var kept = 0;
        var rows = 0;
        long queueTicks = 0;
        for (var i = 0; i < entries; i++)
        {
            var entry = batch.Entries[i];
            var request = entry.Request!;
            if (aborting || (request.DeadlineTicks != 0 && start >= request.DeadlineTicks))
            {
                if (RequestPhase.TryMove(request, entry.Ticket, RequestPhase.Queued, RequestPhase.Done))
                    _batcher.DropQueued(request, aborting ? ErrorCode.Unavailable : ErrorCode.Timeout);
                continue;
            }
            if (!RequestPhase.TryMove(request, entry.Ticket, RequestPhase.Queued, RequestPhase.Running))
                continue; // cancelled or timed out while queued: already answered, its rows are skipped
            _batcher.LeaveQueue();
            queueTicks += start - request.EnqueueTicks;
            if (entry.RowStart != rows)
            {
                batch.MoveRows(entry.RowStart, rows, entry.Rows);
                entry.RowStart = rows;
            }
            batch.Entries[kept++] = entry;
            rows += entry.Rows;
        }
        if (kept == 0)
        {
            _batcher.Recycle(batch, entries);
            return;
        }

        var inferStart = Stopwatch.GetTimestamp();
        string? error = null;
        try
        {
            Run(batch, rows);
            error = CheckOutputs(rows);
        }
        catch (Exception ex)
        {
            error = $"model '{_batcher.ModelName}' version {_batcher.Version} failed: {ex.Message}";
        }
        var outputStart = Stopwatch.GetTimestamp();

        var succeeded = 0;
        // The answers of one batch leave in one write per connection, not one per request.
        using (FrameOutput.DeferFlushes())
        {
            for (var k = 0; k < kept; k++)
            {
                var entry = batch.Entries[k];
                var request = entry.Request!;
                if (!RequestPhase.TryMove(request, entry.Ticket, RequestPhase.Running, RequestPhase.Done))
                {
                    // Cancelled while running: the result is dropped.
                    Volatile.Write(ref request.SchedulerState, RequestPhase.Make(entry.Ticket, RequestPhase.Done));
                    _batcher.Fail(request, ErrorCode.Cancelled, _batcher.MessageFor(ErrorCode.Cancelled));
                    continue;
                }
                if (error is not null)
                {
                    _batcher.Fail(request, ErrorCode.ModelError, error);
                    continue;
                }
                var count = ResponseOutputs(request, entry);
                var queued = start - request.EnqueueTicks;
                _batcher.Statistics.AddSuccessDuration(Stopwatch.GetTimestamp() - request.EnqueueTicks);
                succeeded++;
                _batcher.Complete(request, new InferenceResponse(
                    _batcher.ModelName, _batcher.Version, _responseOutputs.AsSpan(0, count), queued, outputStart - start));
            }
        }
        var end = Stopwatch.GetTimestamp();
        _batcher.Statistics.AddBatch(rows, succeeded, kept, queueTicks, inferStart - start, outputStart - inferStart, end - outputStart);
        _batcher.Recycle(batch, entries);
    }

    /// <summary>Points the tensor views at the batch buffers (first <paramref name="rows"/> rows) and runs the model.</summary>
    private void Run(Batch batch, int rows)
    {
        var batches = _signature.Batches;
        _sliceRows = batches && !batch.Single;
        for (var m = 0; m < _inputs.Length; m++)
        {
            ref var view = ref _inputs[m];
            var shape = batch.InputShapes[m];
            if (_sliceRows)
                shape[0] = rows;
            view.Data = batch.InputBuffers[m]!.Pointer;
            view.ByteLength = batch.InputRowBytes[m] * (nuint)(batch.Single ? 1 : rows);
            view.Shape = shape;
        }
        for (var o = 0; o < _outputs.Length; o++)
        {
            ref var view = ref _outputs[o];
            view.DataType = _signature.Outputs[o].DataType;
            if (batch.OutputBuffers[o] is { } buffer)
            {
                var shape = batch.OutputShapes[o];
                if (batches)
                    shape[0] = rows;
                view.Data = buffer.Pointer;
                view.ByteLength = batch.OutputRowBytes(o) * (nuint)(batches ? rows : 1);
                view.Shape = shape;
            }
            else
            {
                view.Data = 0;
                view.ByteLength = 0;
                view.Shape = null!;
            }
        }
        _runner.Run(_inputs, _outputs);
    }

    /// <summary>Every output of a batching model must have the batch's rows first; null when they do.</summary>
    private string? CheckOutputs(int rows)
    {
        for (var o = 0; o < _outputs.Length; o++)
        {
            var view = _outputs[o];
            if (!_signature.Batches)
            {
                _outputRowBytes[o] = view.ByteLength;
                continue;
            }
            if (view.Shape is null || view.Shape.Length == 0 || view.Shape[0] != rows)
                return $"model '{_batcher.ModelName}' output '{_signature.Outputs[o].Name}' does not have the batch's {rows} rows as its first dimension";
            _outputRowBytes[o] = view.ByteLength / (nuint)rows;
        }
        return null;
    }

    /// <summary>Fills the response outputs of one request (all, or those it asked for); returns how many.</summary>
    private int ResponseOutputs(InferenceRequest request, in BatchEntry entry)
    {
        var requested = request.RequestedOutputs;
        if (requested.Count == 0)
        {
            for (var o = 0; o < _outputs.Length; o++)
                _responseOutputs[o] = Slice(o, entry);
            return _outputs.Length;
        }
        for (var i = 0; i < requested.Count; i++)
            _responseOutputs[i] = Slice(_signature.IndexOfOutput(requested[i]), entry);
        return requested.Count;
    }

    private ResponseOutput Slice(int output, in BatchEntry entry)
    {
        var view = _outputs[output];
        var spec = _signature.Outputs[output];
        var shape = _responseShapes[output];
        if (shape.Length != view.Shape.Length)
            shape = _responseShapes[output] = new long[view.Shape.Length];
        view.Shape.CopyTo(shape, 0);
        var offset = (nuint)0;
        var length = view.ByteLength;
        if (_sliceRows)
        {
            shape[0] = entry.Rows;
            offset = _outputRowBytes[output] * (nuint)entry.RowStart;
            length = _outputRowBytes[output] * (nuint)entry.Rows;
        }
        return new ResponseOutput(spec.Name, spec.DataType, shape, (byte*)view.Data + offset, checked((int)length));
    }
}
