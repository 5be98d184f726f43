using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using HighPerfInference.LoadGen.Measurement;

namespace HighPerfInference.LoadGen.Load;

/// <summary>
/// One TCP connection with up to <see cref="SlotCount"/> requests in flight. A receive loop reads
/// every complete response out of each read, records its latency and frees its slot; requests are
/// written either by the connection's own send loop (closed loop: each freed slot is refilled at
/// once, inline on the receiving thread) or by the open-loop dispatcher (<see cref="TrySend"/>).
/// The two sides never block each other, so large tensors with many in flight cannot deadlock on
/// full socket buffers. Nothing is allocated per request.
/// </summary>
public sealed class Connection : IAsyncDisposable
{
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly IWireCodec _codec;
    private readonly LoadPhase _phase;
    private readonly SlotRing _freeSlots;
    private readonly long[] _sentAt;
    // The request id outstanding on each slot, 0 when free. Ids are 1 + slot + slots × n, so every
    // request on the connection has its own id (a server may not have forgotten an answered id yet)
    // and the slot is the id's remainder.
    private readonly ulong[] _outstandingId;
    private readonly ulong[] _nextId;
    private readonly AsyncSignal _slotsFreed = new();
    private readonly long[] _errors = new long[LocalErrors.KeyCount];
    private Socket? _socket;
    private PipeReader? _reader;
    private PipeWriter? _writer;
    private long _completed;
    private long _inOrderReceived;

    public Connection(IWireCodec codec, LoadPhase phase, int slotCount)
    {
        _codec = codec;
        _phase = phase;
        SlotCount = slotCount;
        _freeSlots = new SlotRing(slotCount);
        _sentAt = new long[slotCount];
        _outstandingId = new ulong[slotCount];
        _nextId = new ulong[slotCount];
        for (var slot = 0; slot < slotCount; slot++)
            _nextId[slot] = (ulong)slot + 1;
    }

    public int SlotCount { get; }

    /// <summary>Latencies of successful answers that arrived while measuring, in nanoseconds.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>
    /// Error answers that arrived while measuring, by error key (see <see cref="IWireCodec.ErrorName"/>),
    /// and a lost connection or a bad answer at any time before the stop.
    /// </summary>
    public ReadOnlySpan<long> Errors => _errors;

    /// <summary>Answers of any kind in any phase; read by the progress display.</summary>
    public long Completed => Volatile.Read(ref _completed);

    public int Outstanding => SlotCount - _freeSlots.FreeCount;

    public async Task OpenAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await _socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        var stream = new NetworkStream(_socket, ownsSocket: true);
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024));
        await _codec.OpenAsync(_reader, _writer, SlotCount, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closed loop: keeps every slot busy until the phase is <see cref="Phase.Stop"/>.</summary>
    public async Task SendLoopAsync()
    {
        var writer = _writer!;
        try
        {
            _slotsFreed.Set();
            while (true)
            {
                await _slotsFreed.WaitAsync().ConfigureAwait(false);
                if (_phase.Current == Phase.Stop)
                    return;
                var wrote = false;
                while (_freeSlots.TryTake(out var slot))
                {
                    _codec.WriteRequest(writer, NextId(slot));
                    _sentAt[slot] = Stopwatch.GetTimestamp();
                    wrote = true;
                }
                if (wrote && (await writer.FlushAsync().ConfigureAwait(false)).IsCompleted)
                    return;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The receive loop sees the same failure and accounts for the outstanding requests.
        }
    }

    /// <summary>
    /// Open loop (dispatcher thread only): writes one request due at <paramref name="dueTimestamp"/>,
    /// or returns false when every slot is busy. Latency is measured from the due time.
    /// </summary>
    public bool TrySend(long dueTimestamp)
    {
        if (!_freeSlots.TryTake(out var slot))
            return false;
        _codec.WriteRequest(_writer!, NextId(slot));
        _sentAt[slot] = dueTimestamp;
        return true;
    }

    /// <summary>The next id for <paramref name="slot"/>, marked outstanding before the request can be sent.</summary>
    private ulong NextId(int slot)
    {
        var id = _outstandingId[slot] = _nextId[slot];
        _nextId[slot] += (ulong)SlotCount;
        return id;
    }

    /// <summary>Open loop (dispatcher thread only): sends what <see cref="TrySend"/> wrote; blocks only under backpressure.</summary>
    public void Flush()
    {
        try
        {
            var flush = _writer!.FlushAsync();
            if (!flush.IsCompleted)
                flush.AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Counted by the receive loop.
        }
    }

    /// <summary>Reads answers until the phase is <see cref="Phase.Stop"/> and none is outstanding, or the connection ends.</summary>
    public async Task ReceiveLoopAsync()
    {
        var reader = _reader!;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var now = Stopwatch.GetTimestamp();
                var buffer = result.Buffer;
                var freed = Complete(buffer, now, out var consumed);
                reader.AdvanceTo(consumed, buffer.End);
                if (freed > 0)
                    _slotsFreed.Set();
                if (result.IsCanceled)
                    return;   // Abort: the runner gave up draining and counts what is outstanding
                if (result.IsCompleted)
                    break;
                if (_phase.Current == Phase.Stop && _freeSlots.FreeCount == SlotCount)
                    return;
            }
        }
        catch (BadResponseException)
        {
            CountFailure(LocalErrors.BadResponse, 1);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Lost: fall through and count what was outstanding.
        }
        CountFailure(LocalErrors.ConnectionLost, Outstanding);
        _slotsFreed.Set();
    }

    /// <summary>Counts the requests still outstanding when the drain timed out; call after stopping.</summary>
    public void CountUnanswered() => _errors[LocalErrors.NoResponse] += Outstanding;

    private int Complete(ReadOnlySequence<byte> buffer, long now, out SequencePosition consumed)
    {
        var measuring = _phase.Current == Phase.Measure;
        var sequence = new SequenceReader<byte>(buffer);
        var freed = 0;
        while (_codec.TryReadResponse(ref sequence, out var requestId, out var status))
        {
            int slot;
            if (_codec.InOrder)
            {
                slot = (int)(_inOrderReceived++ % SlotCount);
                requestId = _outstandingId[slot];
            }
            else
            {
                slot = requestId == 0 ? 0 : (int)((requestId - 1) % (ulong)SlotCount);
            }
            if (requestId == 0 || _outstandingId[slot] != requestId)
                throw new BadResponseException($"an answer for request id {requestId}, which is not outstanding");
            if (measuring)
            {
                if (status == 0)
                    Latency.Record((long)((now - _sentAt[slot]) * s_nanosecondsPerTick));
                else
                    _errors[status]++;
            }
            _outstandingId[slot] = 0;
            _freeSlots.Return(slot);
            freed++;
        }
        consumed = sequence.Position;
        Volatile.Write(ref _completed, _completed + freed);
        return freed;
    }

    /// <summary>A broken connection counts in warm-up too: its slots are gone for the whole step, which must show.</summary>
    private void CountFailure(int key, int count)
    {
        if (_phase.Current != Phase.Stop)
            _errors[key] += count;
    }

    /// <summary>Ends both loops: a pending read returns, a pending write fails.</summary>
    public void Abort()
    {
        _reader?.CancelPendingRead();
        _socket?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _slotsFreed.Set();   // the send loop wakes, sees Stop, and returns
        if (_writer is not null)
            await _writer.CompleteAsync().ConfigureAwait(false);
        if (_reader is not null)
            await _reader.CompleteAsync().ConfigureAwait(false);
        _socket?.Dispose();
    }
}
