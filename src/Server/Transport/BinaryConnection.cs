using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace HighPerfInference.Server.Transport;

/// <summary>
/// One client connection of the binary protocol (docs/protocol.md): handshake, then a read loop
/// that parses frames straight from Kestrel's receive buffer and submits requests, while model
/// instance threads write the answers through <see cref="IInferenceCompletion.Complete"/> in
/// completion order.
/// </summary>
/// <remarks>
/// Memory per connection is bounded: at most <see cref="BinaryTransportOptions.MaxInFlight"/>
/// requests (more are answered OVERLOADED), frames of at most the announced payload length, and
/// no reading while the client leaves its answers unread (<see cref="FrameOutput.IsBackedUp"/>).
/// A connection goes Handshake → Open → (Draining after GoAway) → Closed; it returns to Kestrel
/// only when every request it accepted has been answered, so no completion outlives it unanswered.
/// </remarks>
internal sealed partial class BinaryConnection : IInferenceCompletion
{
    private const int Handshake = 0;
    private const int Open = 1;
    private const int Draining = 2;
    private const int Closed = 3;

    /// <summary>How long a closing connection waits for its last frames to leave and its requests to be answered.</summary>
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(10);

    private static readonly string s_versionRefusal =
        $"This server supports protocol versions {ProtocolVersion.Min}..{ProtocolVersion.Max}.";

    private readonly ConnectionContext _context;
    private readonly BinaryConnectionHandler _server;
    private readonly PipeReader _input;
    private readonly FrameOutput _output;
    private readonly RequestSlots _slots;
    private readonly NameTable _names = new();
    private readonly byte[] _scratch = new byte[InferScratch.Size];
    private readonly long _startedAt;
    private byte _version;
    private ulong _lastAccepted;
    private long _lastReceivedAt;
    private long _pingSentAt;
    private long _drainDeadline;
    private volatile int _phase;
    private volatile bool _drainRequested;
    private volatile bool _drainExpired;

    public BinaryConnection(ConnectionContext context, BinaryConnectionHandler server)
    {
        _context = context;
        _server = server;
        _input = context.Transport.Input;
        _output = new FrameOutput(context.Transport.Output);
        _slots = new RequestSlots(server.Options.MaxInFlight);
        _startedAt = _lastReceivedAt = server.Time.GetTimestamp();
    }

    private IInferenceScheduler Scheduler => _server.Scheduler;

    public async Task RunAsync()
    {
        using var drainRegistration = _context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            .UnsafeRegister(static state => ((BinaryConnection)state!).RequestDrain(), this);
        var ending = Ending.PeerGone;
        try
        {
            ending = await HandshakeAsync().ConfigureAwait(false) ? await ReadFramesAsync().ConfigureAwait(false) : Ending.Refused;
        }
        catch (ProtocolException error) when (error.IsFatal)
        {
            ending = Ending.Refused;
            RefuseConnection(error.Code, error.Message);
        }
        catch (Exception error) when (error is ConnectionResetException or ConnectionAbortedException or IOException or OperationCanceledException)
        {
            // The peer went away or Kestrel aborted the connection (idle timeout, shutdown timeout).
        }
        catch (Exception error)
        {
            LogUnexpected(_server.Logger, _context.ConnectionId, error);
        }
        await CloseAsync(ending).ConfigureAwait(false);
    }

    /// <summary>Kestrel is shutting down: the read loop sends GoAway at its next turn.</summary>
    private void RequestDrain()
    {
        _drainRequested = true;
        _input.CancelPendingRead();
    }

    private async ValueTask<bool> HandshakeAsync()
    {
        while (true)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var accepted = false;
            try
            {
                if (FrameReader.TryReadFrame(ref buffer, FrameLimits.HandshakeMaxPayloadLength, out var header, out var payload))
                    return accepted = Accept(header, payload);
            }
            finally
            {
                // Requests may follow the Hello in the same read: leave them unexamined so the read
                // loop sees them at once.
                if (accepted)
                    _input.AdvanceTo(buffer.Start);
                else
                    _input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (result.IsCompleted || _drainRequested)
                return false;
        }
    }

    /// <summary>Answers the Hello: HelloAck, or a fatal Error for a wrong frame, version range or key.</summary>
    private bool Accept(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (header.Type != MessageType.Hello || header.RequestId != 0)
            throw Fatal("The first frame must be a Hello with request id 0.");
        Hello hello;
        try
        {
            hello = Hello.Read(payload);
        }
        catch (ProtocolException error)
        {
            throw Fatal("Malformed Hello: " + error.Message);
        }

        var version = ProtocolVersion.Negotiate(hello.MinVersion, hello.MaxVersion);
        if (version == 0)
        {
            RefuseConnection(ErrorCode.Unsupported, s_versionRefusal);
            return false;
        }
        if (!_server.IsAuthorized(hello.ApiKey))
        {
            RefuseConnection(ErrorCode.Unauthenticated, "Missing or wrong API key.");
            return false;
        }

        _version = version;
        var options = _server.Options;
        var ack = new HelloAck(version, options.MaxPayloadLength, (uint)options.MaxInFlight,
            (uint)options.IdleTimeout.TotalMilliseconds, options.ServerName, BinaryConnectionHandler.ServerVersion);
        using (var frame = _output.BeginFrame())
        {
            ack.Write(frame.Writer);
            frame.Complete();
        }
        _phase = Open;
        return true;
    }

    private async ValueTask<Ending> ReadFramesAsync()
    {
        var maxPayload = _server.Options.MaxPayloadLength;
        while (true)
        {
            // A client that does not read its answers gets no more requests read: its unsent
            // answers stay bounded by the in-flight limit.
            if (_output.IsBackedUp)
                await _output.WaitForDrainAsync().ConfigureAwait(false);

            var result = await _input.ReadAsync().ConfigureAwait(false);
            Volatile.Write(ref _lastReceivedAt, _server.Time.GetTimestamp());
            var buffer = result.Buffer;
            var throttled = false;
            try
            {
                while (FrameReader.TryReadFrame(ref buffer, maxPayload, out var header, out var payload))
                {
                    HandleFrame(header, payload);
                    if (_output.IsBackedUp)
                    {
                        throttled = true;
                        break;
                    }
                }
            }
            catch (ProtocolException error) when (error.IsFatal)
            {
                RefuseConnection(error.Code, error.Message);
                return Ending.Refused;
            }
            finally
            {
                // Throttled: frames may be left whole in the buffer, so mark only what was consumed
                // as examined and the next read returns at once.
                if (throttled)
                    _input.AdvanceTo(buffer.Start);
                else
                    _input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (_drainRequested && _phase == Open)
                BeginDrain();
            if (_phase == Draining && (_drainExpired || _slots.Count == 0))
                return Ending.Drained;
            if (result.IsCompleted)
                return Ending.PeerGone;
        }
    }

    private void HandleFrame(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (header.Version != _version)
            throw Fatal("The frame's version differs from the negotiated one.");
        var id = header.RequestId;
        try
        {
            switch (header.Type)
            {
                case MessageType.InferRequest:
                    RequireId(id);
                    HandleInfer(id, payload);
                    break;
                case MessageType.Cancel:
                    RequireId(id);
                    ControlFrames.ReadEmpty(payload);
                    if (_slots.Find(id) is { } request)
                        Scheduler.Cancel(request);
                    break;
                case MessageType.Ping:
                    var opaque = ControlFrames.ReadPing(payload);
                    using (var frame = _output.BeginFrame())
                    {
                        ControlFrames.WritePing(frame.Writer, pong: true, id, opaque);
                        frame.Complete();
                    }
                    break;
                case MessageType.Pong:
                    // Any frame shows the peer alive (OnHeartbeat); a Pong needs nothing more.
                    break;
                case MessageType.ModelMetadataRequest:
                case MessageType.ModelReadyRequest:
                case MessageType.ServerReadyRequest:
                    RequireId(id);
                    HandleRepositoryQuery(header.Type, id, payload);
                    break;
                case MessageType.Hello:
                    throw Fatal("A second Hello.");
                default:
                    if (id == 0)
                        throw Fatal("A client-bound or unknown message type with request id 0.");
                    WriteError(id, ErrorCode.Unsupported, "The server does not accept this message type.");
                    break;
            }
        }
        catch (ProtocolException error) when (!error.IsFatal)
        {
            // The header was valid, so the stream is still in sync: only this request failed.
            if (id == 0)
                throw Fatal(error.Message);
            WriteError(id, error.Code, error.Message);
        }
    }

    private void HandleInfer(ulong id, in ReadOnlySequence<byte> payload)
    {
        if (_phase == Draining)
        {
            WriteError(id, ErrorCode.ShuttingDown, "The server is shutting down; send the request elsewhere.");
            return;
        }
        var refusal = _slots.TryRent(id, out var pooled);
        if (refusal == ErrorCode.Overloaded)
        {
            WriteError(id, refusal, "The connection's in-flight limit is reached.");
            return;
        }
        if (refusal != ErrorCode.Ok)
        {
            WriteError(id, refusal, "A request with this id is in flight already.");
            return;
        }
        try
        {
            Fill(pooled!, payload);
        }
        catch
        {
            _slots.Return(pooled!);
            throw;
        }
        _lastAccepted = id;
        // The scheduler copies the input bytes during Submit: after it returns the receive buffer
        // they point into may be released.
        Scheduler.Submit(pooled!.Request);
    }

    /// <summary>Reads an infer request payload into a pooled request: names from the name table, data as slices of the receive buffer.</summary>
    private void Fill(PooledRequest pooled, in ReadOnlySequence<byte> payload)
    {
        var request = pooled.Request;
        var reader = new InferRequestReader(payload, _scratch);
        var head = reader.Head;
        request.ModelName = _names.Get(head.ModelName);
        request.ModelVersion = head.ModelVersion.IsEmpty ? null : _names.Get(head.ModelVersion);
        request.RoutingKey = head.RoutingKey.IsEmpty ? null : _names.Get(head.RoutingKey);
        request.Timeout = head.TimeoutMicroseconds == 0 ? null : TimeSpan.FromMicroseconds(head.TimeoutMicroseconds);
        request.Priority = head.Priority;
        while (reader.TryReadRequestedOutput(out var output))
            request.RequestedOutputs.Add(_names.Get(output));
        while (reader.TryReadInput(out var tensor))
        {
            var index = request.InputCount;
            ref var input = ref request.AddInput();
            input.Name = _names.Get(tensor.Name);
            input.DataType = tensor.DataType;
            input.Shape = pooled.Shape(index, tensor.Shape);
            input.Data = tensor.Data;
        }
        request.Completion = this;
    }

    private void HandleRepositoryQuery(MessageType type, ulong id, in ReadOnlySequence<byte> payload)
    {
        try
        {
            switch (type)
            {
                case MessageType.ServerReadyRequest:
                    ControlFrames.ReadEmpty(payload);
                    WriteReady(MessageType.ServerReadyResponse, id, _server.IsServerReady);
                    break;
                case MessageType.ModelReadyRequest:
                    var model = ModelRequest.Read(payload);
                    WriteReady(MessageType.ModelReadyResponse, id, _server.Repository.IsModelReady(model.ModelName, NullIfEmpty(model.ModelVersion)));
                    break;
                default:
                    var query = ModelRequest.Read(payload);
                    // Encoded aside first (a rare message): a name too long for the wire fails
                    // here, not half-way through a frame on the connection.
                    var metadata = new ArrayBufferWriter<byte>();
                    _server.Repository.GetMetadata(query.ModelName, NullIfEmpty(query.ModelVersion)).Write(metadata, id);
                    using (var frame = _output.BeginFrame())
                    {
                        frame.Writer.Write(metadata.WrittenSpan);
                        frame.Complete();
                    }
                    break;
            }
        }
        catch (InferenceException error)
        {
            WriteError(id, error.Code, error.Message);
        }
        catch (Exception error) when (error is not ProtocolException)
        {
            LogUnexpected(_server.Logger, _context.ConnectionId, error);
            WriteError(id, ErrorCode.Internal, "The model repository failed to answer.");
        }
    }

    /// <summary>The scheduler's answer to one request, on whatever thread finished it.</summary>
    public void Complete(InferenceRequest request, in InferenceResponse response)
    {
        var pooled = (PooledRequest)request.State!;
        var id = request.Id;
        _slots.BeginAnswer(pooled);
        try
        {
            if (!response.IsSuccess)
                WriteError(id, _drainExpired && response.Error == ErrorCode.Cancelled ? ErrorCode.ShuttingDown : response.Error, response.ErrorMessage);
            else if (!TryWriteResponse(id, response))
                WriteError(id, ErrorCode.Internal, "An output name, rank or size cannot be encoded in the binary protocol.");
        }
        catch (Exception error)
        {
            // A frame broke half-way: the stream is unusable, so the connection goes.
            LogUnexpected(_server.Logger, _context.ConnectionId, error);
            _context.Abort(new ConnectionAbortedException("A response could not be written.", error));
        }
        if (_slots.EndAnswer(pooled) == 0 && _phase == Draining)
            _input.CancelPendingRead();
    }

    private bool TryWriteResponse(ulong id, in InferenceResponse response)
    {
        Span<byte> model = stackalloc byte[FrameLimits.MaxNameLength];
        Span<byte> version = stackalloc byte[FrameLimits.MaxNameLength];
        if (!Encoding.UTF8.TryGetBytes(response.ModelName, model, out var modelLength)
            || !Encoding.UTF8.TryGetBytes(response.ModelVersion, version, out var versionLength))
            return false;
        var outputs = response.Outputs;
        var head = new InferResponseHead(model[..modelLength], version[..versionLength],
            Microseconds(response.QueueTicks), Microseconds(response.ComputeTicks), outputs.Length);

        var length = InferLayout.Head(head);
        foreach (ref readonly var output in outputs)
        {
            var nameLength = Encoding.UTF8.GetByteCount(output.Name);
            if (nameLength is 0 or > FrameLimits.MaxNameLength || output.Shape.Length > FrameLimits.MaxRank)
                return false;
            length = InferLayout.AddTensor(length, nameLength, output.Shape.Length, output.Data.Length);
        }
        if (length > uint.MaxValue)
            return false;

        Span<byte> name = stackalloc byte[FrameLimits.MaxNameLength];
        using var frame = _output.BeginFrame();
        var writer = InferFrameWriter.BeginResponse(frame.Writer, id, head, length);
        foreach (ref readonly var output in outputs)
        {
            var nameLength = Encoding.UTF8.GetBytes(output.Name, name);
            writer.WriteTensor(name[..nameLength], output.DataType, output.Shape, output.Data);
        }
        writer.Complete();
        frame.Complete();
        return true;
    }

    private static uint Microseconds(long ticks) =>
        ticks <= 0 ? 0 : (uint)Math.Min(ticks * 1_000_000.0 / Stopwatch.Frequency, uint.MaxValue);

    private void WriteError(ulong id, ErrorCode code, ReadOnlySpan<char> message)
    {
        using var frame = _output.BeginFrame();
        ErrorMessage.Write(frame.Writer, id, code, message);
        frame.Complete();
    }

    private void WriteReady(MessageType type, ulong id, bool ready)
    {
        using var frame = _output.BeginFrame();
        ControlFrames.WriteReady(frame.Writer, type, id, ready);
        frame.Complete();
    }

    /// <summary>Sends GoAway; from now on new requests are answered SHUTTING_DOWN.</summary>
    private void BeginDrain()
    {
        _drainDeadline = _server.Time.GetTimestamp() + (long)(_server.Options.DrainTimeout.TotalSeconds * _server.Time.TimestampFrequency);
        _phase = Draining;
        var goAway = new GoAway(_lastAccepted, ErrorCode.ShuttingDown, "The server is shutting down.");
        using var frame = _output.BeginFrame();
        goAway.Write(frame.Writer);
        frame.Complete();
    }

    /// <summary>A fatal error: Error with request id 0, the last frame the connection sends.</summary>
    private void RefuseConnection(ErrorCode code, string message)
    {
        LogRefused(_server.Logger, _context.ConnectionId, code.Name(), message);
        using var frame = _output.BeginFrame();
        ErrorMessage.Write(frame.Writer, 0, code, message);
        frame.CompleteLast();
    }

    /// <summary>The handler's heartbeat: handshake and idle timeouts, pings, the drain deadline.</summary>
    internal void OnHeartbeat(long now)
    {
        var time = _server.Time;
        var options = _server.Options;
        var phase = _phase;
        if (phase == Handshake)
        {
            if (time.GetElapsedTime(_startedAt, now) > options.HandshakeTimeout)
                _context.Abort(new ConnectionAbortedException("No Hello within the handshake timeout."));
            return;
        }
        if (phase == Draining && !_drainExpired && now > _drainDeadline)
        {
            // Out of time: what is still queued or running is answered SHUTTING_DOWN (see Complete).
            _drainExpired = true;
            _slots.CancelAll(Scheduler);
            _input.CancelPendingRead();
        }
        if (options.IdleTimeout <= TimeSpan.Zero || time.GetElapsedTime(Volatile.Read(ref _lastReceivedAt), now) < options.IdleTimeout)
            return;
        var pingSentAt = Volatile.Read(ref _pingSentAt);
        if (pingSentAt == 0 || pingSentAt < Volatile.Read(ref _lastReceivedAt))
        {
            Volatile.Write(ref _pingSentAt, now);
            using var frame = _output.BeginFrame();
            ControlFrames.WritePing(frame.Writer, pong: false, 0, (ulong)now);
            frame.Complete();
        }
        else if (time.GetElapsedTime(pingSentAt, now) > options.IdleTimeout)
        {
            _context.Abort(new ConnectionAbortedException("Idle timeout: the ping got no answer."));
        }
    }

    private async Task CloseAsync(Ending ending)
    {
        _phase = Closed;
        // A drain lets the answers of its last requests out; otherwise nothing more goes out but
        // the fatal Error already written, if any.
        if (ending != Ending.Drained)
        {
            if (ending == Ending.Refused)
                await WaitAsync(_output.WaitForDrainAsync().AsTask()).ConfigureAwait(false);
            _output.Close();
        }

        // Every accepted request is answered exactly once, even when nobody hears the answer.
        _slots.CancelAll(Scheduler);
        if (!await WaitAsync(_slots.WhenIdle()).ConfigureAwait(false))
            LogUnanswered(_server.Logger, _context.ConnectionId, _slots.Count);
        if (ending == Ending.Drained)
            await WaitAsync(_output.WaitForDrainAsync().AsTask()).ConfigureAwait(false);
        _output.Close();
        await _input.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task<bool> WaitAsync(Task task)
    {
        try
        {
            await task.WaitAsync(s_closeTimeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static void RequireId(ulong id)
    {
        if (id == 0)
            throw Fatal("A request with request id 0.");
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static ProtocolException Fatal(string message) => new(ErrorCode.ProtocolError, message, isFatal: true);

    private enum Ending
    {
        /// <summary>The client closed or reset the connection, or Kestrel aborted it.</summary>
        PeerGone,
        /// <summary>The handshake failed or the stream broke; a fatal Error was sent.</summary>
        Refused,
        /// <summary>A GoAway drain finished.</summary>
        Drained,
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Binary connection {ConnectionId} refused: {Code} {Reason}")]
    private static partial void LogRefused(ILogger logger, string connectionId, string code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Binary connection {ConnectionId} failed")]
    private static partial void LogUnexpected(ILogger logger, string connectionId, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binary connection {ConnectionId} closed with {Count} requests the scheduler did not answer in time")]
    private static partial void LogUnanswered(ILogger logger, string connectionId, int count);
}
