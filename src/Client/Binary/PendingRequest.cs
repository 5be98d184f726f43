using System.Threading.Tasks.Sources;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Binary;

/// <summary>
/// One request awaiting its answer on one connection. Each slot of a <see cref="PendingTable"/>
/// owns one and reuses it for every request it carries, so a call allocates no task or source.
/// </summary>
/// <remarks>
/// Two parties hold a pending request: the caller, until it has read the answer
/// (GetResult), and the wire, until the server's answer for its id arrives or the
/// connection dies. The caller may be answered early (timeout, cancellation) while the server still
/// owes an answer; the slot stays taken until both let go, so the server never sees more requests
/// in flight than it allows and a late answer cannot reach the slot's next request.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "A slot is reused for the connection's lifetime; its timer source is reset, or disposed and replaced, after every request (Release).")]
internal sealed class PendingRequest : IValueTaskSource<ReceivedFrame>
{
    private readonly PendingTable _table;
    private ManualResetValueTaskSourceCore<ReceivedFrame> _core = new() { RunContinuationsAsynchronously = true };
    // Reused while it never fires; replaced after a timeout because a cancelled source cannot reset.
    private CancellationTokenSource _timer = new();
    private CancellationTokenRegistration _timerRegistration;
    private CancellationTokenRegistration _callerRegistration;
    private int _answered;
    private int _onWire;
    private int _holders;

    public PendingRequest(PendingTable table, int slot)
    {
        _table = table;
        Slot = slot;
    }

    public int Slot { get; }

    /// <summary>The request id of the current use: a generation in the high bits, the slot in the low.</summary>
    public ulong Id { get; private set; }

    public ValueTask<ReceivedFrame> Task => new(this, _core.Version);

    /// <summary>Arms the slot for a new request: fresh id, timeout and cancellation.</summary>
    internal void Start(ulong id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Id = id;
        _answered = 0;
        _onWire = 1;
        _holders = 2;
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            _timerRegistration = _timer.Token.UnsafeRegister(static s => ((PendingRequest)s!).OnTimeout(), this);
            _timer.CancelAfter(timeout);
        }
        if (cancellationToken.CanBeCanceled)
            _callerRegistration = cancellationToken.UnsafeRegister(static (s, token) => ((PendingRequest)s!).OnCancelled(token), this);
    }

    /// <summary>Answers the caller unless something answered it first. Any thread.</summary>
    public void Answer(in ReceivedFrame frame)
    {
        if (Interlocked.Exchange(ref _answered, 1) == 0)
            _core.SetResult(frame);
        else
            frame.Dispose();
    }

    /// <summary>Fails the caller unless something answered it first. Any thread.</summary>
    public void Fail(Exception error)
    {
        if (Interlocked.Exchange(ref _answered, 1) == 0)
            _core.SetException(error);
    }

    /// <summary>
    /// The wire lets go: the server answered this id, the frame never left, or the connection died.
    /// True for the one caller that took it.
    /// </summary>
    public bool ReleaseWire()
    {
        if (Interlocked.Exchange(ref _onWire, 0) == 0)
            return false;
        Release();
        return true;
    }

    /// <summary>True while the server owes an answer for <see cref="Id"/>.</summary>
    public bool IsOnWire => Volatile.Read(ref _onWire) == 1;

    private void OnTimeout() =>
        Abandon(new InferenceException(ErrorCode.Timeout, "The call got no answer within its timeout."));

    private void OnCancelled(CancellationToken token) => Abandon(new OperationCanceledException(token));

    /// <summary>The caller gives up: it is failed now, and the server is told to drop the request.</summary>
    private void Abandon(Exception error)
    {
        var id = Id;
        if (Interlocked.Exchange(ref _answered, 1) != 0)
            return;
        _core.SetException(error);
        if (IsOnWire)
            _table.OnAbandoned(id);
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _holders) != 0)
            return;
        // Dispose waits for a timeout or cancellation callback that is running right now, so none
        // can reach the slot's next request.
        _callerRegistration.Dispose();
        _timerRegistration.Dispose();
        _callerRegistration = default;
        _timerRegistration = default;
        if (!_timer.TryReset())
        {
            _timer.Dispose();
            _timer = new CancellationTokenSource();
        }
        _core.Reset();
        _table.Return(this);
    }

    ReceivedFrame IValueTaskSource<ReceivedFrame>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    ValueTaskSourceStatus IValueTaskSource<ReceivedFrame>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<ReceivedFrame>.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _core.OnCompleted(continuation, state, token, flags);
}
