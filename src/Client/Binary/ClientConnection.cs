using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Binary;

/// <summary>
/// One TCP connection to the server: the handshake, then pipelined requests. Any number of
/// callers send concurrently (through <see cref="FrameOutput"/>); one receive loop reads the
/// answers and hands each to the <see cref="PendingRequest"/> with its id.
/// </summary>
internal sealed class ClientConnection
{
    private const string ConnectionLost = "The connection to the server was lost before the answer came.";

    private readonly Socket _socket;
    private readonly PipeReader _input;
    private readonly FrameOutput _output;
    private readonly PendingTable _table;
    private readonly Action<ClientConnection> _onUnusable;
    private readonly ClientCounters _counters;
    private volatile bool _draining;
    private volatile bool _closed;

    private ClientConnection(Socket socket, PipeReader input, FrameOutput output, HelloAck server, int maxInFlight, Action<ClientConnection> onUnusable, ClientCounters counters)
    {
        _counters = counters;
        _socket = socket;
        _input = input;
        _output = output;
        Server = server;
        _onUnusable = onUnusable;
        _table = new PendingTable(maxInFlight, SendCancel);
    }

    /// <summary>What the server announced in its HelloAck.</summary>
    public HelloAck Server { get; }

    /// <summary>False once the connection closed or the server sent GoAway.</summary>
    public bool IsUsable => !_draining && !_closed;

    public bool IsClosed => _closed;

    /// <summary>True when a request can go out without waiting for a free slot.</summary>
    public bool HasRoom => _table.InFlight < _table.Capacity;

    /// <summary>The connection's receive loop; completes when the connection is closed.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Connects and shakes hands. Failures are <see cref="InferenceException"/>s (Unavailable when the server cannot be reached).</summary>
    public static async Task<ClientConnection> ConnectAsync(EndPoint endpoint, InferenceClientOptions options, Action<ClientConnection> onUnusable, ClientCounters counters, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            var stream = new NetworkStream(socket, ownsSocket: true);
            var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096));
            var output = new FrameOutput(PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024)));

            using (var frame = output.BeginFrame())
            {
                Hello.ForThisVersion(options.ClientName, options.ApiKey).Write(frame.Writer);
                frame.Complete();
            }
            var ack = await ReadHelloAckAsync(input, timeout.Token).ConfigureAwait(false);
            var connection = new ClientConnection(socket, input, output, ack, (int)Math.Min(ack.MaxInFlight, (uint)options.MaxInFlightPerConnection), onUnusable, counters);
            Interlocked.Increment(ref counters.ConnectionsOpened);
            connection.Completion = connection.ReceiveAsync();
            return connection;
        }
        catch (Exception error)
        {
            socket.Dispose();
            if (error is InferenceException || (error is OperationCanceledException && cancellationToken.IsCancellationRequested))
                throw;
            if (error is ProtocolException malformed)
                throw new InferenceException(ErrorCode.ProtocolError, $"The server's handshake is malformed: {malformed.Message}");
            throw new InferenceException(ErrorCode.Unavailable, $"Cannot connect to {endpoint}: {error.Message}");
        }
    }

    private static async Task<HelloAck> ReadHelloAckAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var read = false;
            try
            {
                if (read = FrameReader.TryReadFrame(ref buffer, FrameLimits.HandshakeMaxPayloadLength, out var header, out var payload))
                {
                    if (header.Type == MessageType.Error)
                    {
                        var refusal = ErrorMessage.Read(payload);
                        throw new InferenceException(refusal.Code, $"The server refused the connection: {refusal.Message}");
                    }
                    if (header.Type != MessageType.HelloAck)
                        throw new InferenceException(ErrorCode.ProtocolError, $"The server answered the Hello with {header.Type}.");
                    var ack = HelloAck.Read(payload);
                    if (ack.Version != header.Version || ProtocolVersion.Negotiate(ack.Version, ack.Version) == 0)
                        throw new InferenceException(ErrorCode.ProtocolError, $"The server chose protocol version {ack.Version}, which this client does not speak.");
                    return ack;
                }
            }
            finally
            {
                // Frames behind the HelloAck stay unexamined for the receive loop.
                if (read)
                    input.AdvanceTo(buffer.Start);
                else
                    input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (result.IsCompleted)
                throw new InferenceException(ErrorCode.Unavailable, "The server closed the connection during the handshake.");
        }
    }

    /// <summary>
    /// Sends a request and returns its answer: the response frame, or an <see cref="InferenceException"/>
    /// with the server's error code. Waits for a free slot when the in-flight limit is reached.
    /// </summary>
    public ValueTask<ReceivedFrame> SendAsync<TFrame>(TFrame request, TimeSpan timeout, CancellationToken cancellationToken)
        where TFrame : struct, IRequestFrame
    {
        var pending = _table.TryRent(timeout, cancellationToken);
        return pending is null ? SendWhenFreeAsync(request, timeout, cancellationToken) : Send(pending, request, timeout);
    }

    private async ValueTask<ReceivedFrame> SendWhenFreeAsync<TFrame>(TFrame request, TimeSpan timeout, CancellationToken cancellationToken)
        where TFrame : struct, IRequestFrame
    {
        var pending = await _table.RentAsync(timeout, cancellationToken).ConfigureAwait(false);
        return await Send(pending, request, timeout).ConfigureAwait(false);
    }

    private ValueTask<ReceivedFrame> Send<TFrame>(PendingRequest pending, TFrame request, TimeSpan timeout)
        where TFrame : struct, IRequestFrame
    {
        if (_draining)
            return Refuse(pending, new InferenceException(ErrorCode.ShuttingDown, "The server is draining this connection (GoAway)."));
        bool dropped;
        try
        {
            using var frame = _output.BeginFrame();
            dropped = frame.IsDropped;
            request.Write(frame.Writer, pending.Id, timeout);
            frame.Complete();
        }
        catch (Exception error)
        {
            // Half a frame may be in the output: nothing sent after it could be parsed.
            Abort();
            return Refuse(pending, error);
        }
        // The output closed before the frame went out; the receive loop may have failed its requests already.
        return dropped ? Refuse(pending, new InferenceException(ErrorCode.Unavailable, ConnectionLost)) : pending.Task;
    }

    private static ValueTask<ReceivedFrame> Refuse(PendingRequest pending, Exception error)
    {
        pending.Fail(error);
        pending.ReleaseWire();
        return pending.Task;
    }

    /// <summary>Tells the server a caller gave up on request <paramref name="id"/>, so it can drop it if still queued.</summary>
    private void SendCancel(ulong id)
    {
        using var frame = _output.BeginFrame();
        ControlFrames.WriteEmpty(frame.Writer, MessageType.Cancel, id);
        frame.Complete();
    }

    private async Task ReceiveAsync()
    {
        var (code, message) = (ErrorCode.Unavailable, ConnectionLost);
        try
        {
            var maxPayload = Server.MaxPayloadLength;
            while (true)
            {
                var result = await _input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (FrameReader.TryReadFrame(ref buffer, maxPayload, out var header, out var payload))
                    {
                        if (Dispatch(header, payload) is { } fatal)
                        {
                            (code, message) = (fatal.Code, fatal.Message);
                            return;
                        }
                    }
                }
                finally
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                }
                if (result.IsCompleted)
                    return;
            }
        }
        catch (ProtocolException malformed)
        {
            (code, message) = (ErrorCode.ProtocolError, $"The server sent a malformed frame: {malformed.Message}");
        }
        catch (Exception lost) when (lost is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection broke; its requests fail as lost.
        }
        finally
        {
            Shutdown(code, message);
        }
    }

    /// <summary>Handles one frame from the server; returns the error that ends the connection, if it does.</summary>
    private ErrorMessage? Dispatch(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var id = header.RequestId;
        switch (header.Type)
        {
            case MessageType.InferResponse:
            case MessageType.ModelMetadataResponse:
            case MessageType.ServerReadyResponse:
            case MessageType.ModelReadyResponse:
            case MessageType.Pong:
                if (_table.Find(id) is { } answered)
                {
                    answered.Answer(ReceivedFrame.Copy(header.Type, payload));
                    answered.ReleaseWire();
                }
                return null;
            case MessageType.Error:
                var error = ErrorMessage.Read(payload);
                if (id == 0)
                    return error;
                if (_table.Find(id) is { } failed)
                {
                    failed.Fail(new InferenceException(error.Code, error.Message));
                    failed.ReleaseWire();
                }
                return null;
            case MessageType.Ping:
                var opaque = ControlFrames.ReadPing(payload);
                using (var frame = _output.BeginFrame())
                {
                    ControlFrames.WritePing(frame.Writer, pong: true, id, opaque);
                    frame.Complete();
                }
                return null;
            case MessageType.GoAway:
                // Requests already sent are still answered; new ones go to another connection.
                _draining = true;
                Interlocked.Increment(ref _counters.GoAwaysReceived);
                _onUnusable(this);
                return null;
            default:
                return new ErrorMessage(ErrorCode.ProtocolError, $"The server sent an unexpected {header.Type} frame.");
        }
    }

    private void Shutdown(ErrorCode code, string message)
    {
        _closed = true;
        Interlocked.Increment(ref _counters.ConnectionsClosed);
        _output.Close();
        _table.FailAll(code, message);
        _onUnusable(this);
        _socket.Dispose();
        _input.Complete();
    }

    /// <summary>Closes the connection: the receive loop ends and fails what is still in flight as lost.</summary>
    public Task CloseAsync()
    {
        Abort();
        return Completion;
    }

    private void Abort()
    {
        _closed = true;
        _output.Close();
        _socket.Dispose();
    }
}
