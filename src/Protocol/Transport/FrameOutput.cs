using System.Buffers;
using System.IO.Pipelines;

namespace HighPerfInference.Protocol;

/// <summary>
/// Lets many threads send whole frames over one <see cref="PipeWriter"/>, which takes one writer at
/// a time and no write while it flushes. Both ends of a connection use it: the server's model
/// instance threads answer requests concurrently, and the client's callers send concurrently.
/// </summary>
/// <remarks>
/// A frame goes straight into the pipe when it is idle, and the writer flushes it at once (lowest
/// latency at low load). While a flush is under way, frames wait in a staging buffer that the
/// flushing thread moves into the pipe as one block when its flush completes, so under load one
/// flush carries many frames. A flush that waits for the peer to read marks the output
/// <see cref="IsBackedUp"/>: a reader of requests stops reading until <see cref="WaitForDrainAsync"/>
/// completes, which bounds what a peer that does not read can make us buffer.
/// A thread that writes many frames at once (a model instance answering a batch) wraps them in
/// <see cref="DeferFlushes"/>: each output it writes to is then flushed once, when the scope ends.
/// </remarks>
public sealed class FrameOutput
{
    private readonly PipeWriter _pipe;
    private readonly Lock _sync = new();
    private readonly PooledBufferWriter _staging = new();
    // Where frames go once the output takes no more: written, then forgotten.
    private readonly PooledBufferWriter _discard = new();
    // The thread that set it owns the pipe: it flushes and moves the staged frames in.
    private bool _flushing;
    private volatile bool _backedUp;
    private bool _closed;
    private bool _sealed;
    // The managed thread id of a thread inside DeferFlushes that owns the pipe (_flushing) but has
    // not flushed yet: its frames go straight into the pipe, other threads' frames are staged.
    private int _deferringThread;
    private TaskCompletionSource? _drained;

    // The outputs this thread owns and flushes when its outermost DeferFlushes scope ends.
    // t_ marks a [ThreadStatic], as in the runtime's own code; the naming rule knows only s_.
#pragma warning disable IDE1006
    [ThreadStatic] private static List<FrameOutput>? t_deferred;
    [ThreadStatic] private static int t_deferDepth;
#pragma warning restore IDE1006

    public FrameOutput(PipeWriter pipe) => _pipe = pipe;

    /// <summary>True while a flush waits for the peer to read what was already sent.</summary>
    public bool IsBackedUp => _backedUp;

    /// <summary>Bytes waiting for the pipe while a flush is under way.</summary>
    public int StagedBytes
    {
        get
        {
            lock (_sync)
                return _staging.WrittenCount;
        }
    }

    /// <summary>
    /// Starts a frame. Write it with <see cref="FrameScope.Writer"/>, call
    /// <see cref="FrameScope.Complete"/>, then dispose the scope; other frames wait meanwhile, so
    /// write nothing else in between. After a frame completed with <see cref="FrameScope.CompleteLast"/>,
    /// or after <see cref="Close"/>, frames are dropped.
    /// </summary>
    public FrameScope BeginFrame()
    {
        _sync.Enter();
        if (_closed || _sealed)
            return new FrameScope(this, _discard, dropped: true);
        var ownsPipe = !_flushing || _deferringThread == Environment.CurrentManagedThreadId;
        return new FrameScope(this, ownsPipe ? _pipe : _staging, dropped: false);
    }

    /// <summary>
    /// Until the scope is disposed, frames this thread completes are not flushed one by one: each
    /// output written to is flushed once at the end, so a batch of answers for one connection leaves
    /// in one write instead of one per frame. Scopes nest; the outermost one flushes.
    /// </summary>
    public static DeferredFlushes DeferFlushes()
    {
        t_deferDepth++;
        return new DeferredFlushes(true);
    }

    private static void EndDeferral()
    {
        if (--t_deferDepth > 0 || t_deferred is not { Count: > 0 } deferred)
            return;
        foreach (var output in deferred)
        {
            lock (output._sync)
            {
                output._deferringThread = 0;
                // Closed meanwhile (the peer went, or a frame broke half-way): nothing more is sent.
                if (output._closed)
                {
                    output.ReleasePipe();
                    continue;
                }
            }
            output.FlushLoop();
        }
        deferred.Clear();
    }

    private void EndFrame(bool completed, bool last, bool dropped)
    {
        var flush = false;
        try
        {
            _sealed |= last;
            if (dropped)
            {
                _discard.Clear();
            }
            else if (!completed)
            {
                // A frame abandoned half-way leaves bytes the peer cannot parse: nothing may follow it.
                _closed = true;
                if (!_flushing)
                    _staging.Clear();
            }
            else if (!_flushing)
            {
                _flushing = true;
                if (t_deferDepth > 0)
                {
                    _deferringThread = Environment.CurrentManagedThreadId;
                    (t_deferred ??= []).Add(this);
                }
                else
                {
                    flush = true;
                }
            }
        }
        finally
        {
            _sync.Exit();
        }
        if (flush)
            FlushLoop();
    }

    /// <summary>Drops every frame from now on (the peer is gone or the stream is broken).</summary>
    public void Close()
    {
        lock (_sync)
        {
            _closed = true;
            if (!_flushing)
            {
                _staging.Clear();
                SignalDrained();
            }
        }
    }

    /// <summary>Completes when everything written so far is in the transport's hands, or the output closed.</summary>
    public ValueTask WaitForDrainAsync()
    {
        lock (_sync)
        {
            if (!_flushing)
                return default;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ValueTask(_drained.Task);
        }
    }

    private void FlushLoop()
    {
        try
        {
            while (true)
            {
                var flush = _pipe.FlushAsync();
                if (!flush.IsCompletedSuccessfully)
                {
                    _backedUp = true;
                    _ = AwaitFlushAsync(flush);
                    return;
                }
                if (!MoveStagedFrames(flush.Result))
                    return;
            }
        }
        catch (Exception)
        {
            Abandon();
        }
    }

    private async Task AwaitFlushAsync(ValueTask<FlushResult> pending)
    {
        try
        {
            var result = await pending.ConfigureAwait(false);
            while (true)
            {
                _backedUp = false;
                if (!MoveStagedFrames(result))
                    return;
                var flush = _pipe.FlushAsync();
                _backedUp = !flush.IsCompletedSuccessfully;
                result = await flush.ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            Abandon();
        }
    }

    /// <summary>After a flush: moves staged frames into the pipe and returns true to flush again, or releases the pipe.</summary>
    private bool MoveStagedFrames(FlushResult result)
    {
        lock (_sync)
        {
            if (result.IsCompleted || result.IsCanceled)
                _closed = true;
            if (_closed || _staging.WrittenCount == 0)
            {
                ReleasePipe();
                return false;
            }
            _pipe.Write(_staging.WrittenSpan);
            _staging.Clear();
            return true;
        }
    }

    private void Abandon()
    {
        lock (_sync)
        {
            _closed = true;
            ReleasePipe();
        }
    }

    private void ReleasePipe()
    {
        _flushing = false;
        _backedUp = false;
        _staging.Clear();
        SignalDrained();
    }

    private void SignalDrained()
    {
        _drained?.TrySetResult();
        _drained = null;
    }

    /// <summary>The scope of <see cref="DeferFlushes"/>: dispose it on the thread that began it (no await inside).</summary>
    public struct DeferredFlushes : IDisposable
    {
        private bool _active;

        internal DeferredFlushes(bool active) => _active = active;

        public void Dispose()
        {
            if (!_active)
                return;
            _active = false;
            EndDeferral();
        }
    }

    /// <summary>One frame being written; see <see cref="BeginFrame"/>.</summary>
    public ref struct FrameScope
    {
        private readonly FrameOutput _owner;
        private readonly bool _dropped;
        private bool _completed;
        private bool _last;
        private bool _ended;

        internal FrameScope(FrameOutput owner, IBufferWriter<byte> writer, bool dropped)
        {
            _owner = owner;
            Writer = writer;
            _dropped = dropped;
        }

        public IBufferWriter<byte> Writer { get; }

        /// <summary>True when the output was sealed or closed before this frame began: it goes nowhere.</summary>
        public readonly bool IsDropped => _dropped;

        /// <summary>Marks the frame whole; a scope disposed without it closes the output.</summary>
        public void Complete() => _completed = true;

        /// <summary>Marks the frame whole and the last: it goes out, and no frame after it (a fatal error before a close).</summary>
        public void CompleteLast() => _completed = _last = true;

        public void Dispose()
        {
            if (_ended)
                return;
            _ended = true;
            _owner.EndFrame(_completed, _last, _dropped);
        }
    }
}
