using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Tests.Transport.Support;

/// <summary>A frame the server sent, copied out.</summary>
internal sealed record ServerFrame(MessageType Type, ulong Id, byte[] Payload)
{
    public ErrorMessage Error => Type == MessageType.Error ? ErrorMessage.Read(new ReadOnlySequence<byte>(Payload)) : throw new InvalidOperationException($"{Type} is not an Error.");

    /// <summary>OUTPUT0 and OUTPUT1 of an add_sub response.</summary>
    public (float[] Sum, float[] Difference) AddSub()
    {
        Assert.Equal(MessageType.InferResponse, Type);
        Span<byte> scratch = stackalloc byte[InferScratch.Size];
        var reader = new InferResponseReader(new ReadOnlySequence<byte>(Payload), scratch);
        float[]? sum = null, difference = null;
        while (reader.TryReadOutput(out var tensor))
        {
            var values = MemoryMarshal.Cast<byte, float>(tensor.Data.ToArray()).ToArray();
            if (tensor.Name.SequenceEqual("OUTPUT0"u8))
                sum = values;
            else
                difference = values;
        }
        return (sum!, difference!);
    }

    public override string ToString() => Type == MessageType.Error ? $"Error id={Id} {Error.Code.Name()} {Error.Message}" : $"{Type} id={Id}";
}

/// <summary>
/// A bare socket speaking frames, for tests that need byte-level control of what the server
/// receives: malformed frames, unread responses, abrupt disconnects.
/// </summary>
internal sealed class RawConnection : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly Socket _socket;
    private readonly PipeReader _input;

    private RawConnection(Socket socket)
    {
        _socket = socket;
        _input = PipeReader.Create(new NetworkStream(socket, ownsSocket: false));
    }

    /// <param name="endpoint">The server.</param>
    /// <param name="receiveBufferSize">The socket's receive buffer in bytes; 0 leaves the system's (which grows).</param>
    public static async Task<RawConnection> OpenAsync(IPEndPoint endpoint, int receiveBufferSize = 0)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize > 0)
            socket.ReceiveBufferSize = receiveBufferSize;
        await socket.ConnectAsync(endpoint);
        return new RawConnection(socket);
    }

    /// <summary>Opens a connection and completes the handshake.</summary>
    public static async Task<RawConnection> OpenReadyAsync(IPEndPoint endpoint, string apiKey = "", int receiveBufferSize = 0)
    {
        var connection = await OpenAsync(endpoint, receiveBufferSize);
        await connection.SendAsync(Frames.Hello(apiKey: apiKey));
        var ack = await connection.ReadAsync();
        Assert.Equal(MessageType.HelloAck, ack?.Type);
        return connection;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes) => await _socket.SendAsync(bytes);

    /// <summary>The next frame, or null when the server closed the connection.</summary>
    public async Task<ServerFrame?> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("The server sent nothing within the test's patience.");
            }
            catch (IOException)
            {
                return null;
            }
            var buffer = result.Buffer;
            if (FrameReader.TryReadFrame(ref buffer, uint.MaxValue, out var header, out var payload))
            {
                var frame = new ServerFrame(header.Type, header.RequestId, payload.ToArray());
                // Only what was consumed is examined: more whole frames may wait in the buffer.
                _input.AdvanceTo(buffer.Start);
                return frame;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, "The server closed the connection in the middle of a frame.");
                return null;
            }
        }
    }

    /// <summary>Reads frames until <paramref name="count"/> have arrived.</summary>
    public async Task<List<ServerFrame>> ReadAsync(int count)
    {
        var frames = new List<ServerFrame>();
        while (frames.Count < count)
            frames.Add(await ReadAsync() ?? throw new InvalidOperationException($"The server closed the connection after {frames.Count} of {count} frames."));
        return frames;
    }

    /// <summary>Asserts the next frame is an Error with this id and code.</summary>
    public async Task<ErrorMessage> ExpectErrorAsync(ulong id, ErrorCode code)
    {
        var frame = await ReadAsync();
        Assert.NotNull(frame);
        Assert.Equal((MessageType.Error, id), (frame.Type, frame.Id));
        Assert.Equal(code, frame.Error.Code);
        return frame.Error;
    }

    /// <summary>Asserts the server closes the connection next, sending nothing more.</summary>
    public async Task ExpectClosedAsync()
    {
        var frame = await ReadAsync();
        Assert.Null(frame);
    }

    /// <summary>Closes without a word (no FIN wait): the server sees the peer vanish.</summary>
    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>No more bytes from us; the server reads end-of-stream.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Frames for tests, written with the protocol library, plus raw edits of them.</summary>
internal static class Frames
{
    public static byte[] Hello(byte min = ProtocolVersion.Min, byte max = ProtocolVersion.Max, string apiKey = "") =>
        Write(output => new Hello(min, max, "tests", apiKey).Write(output));

    /// <summary>An add_sub request over [1,16]: INPUT0 = seed + i, INPUT1 = 2i.</summary>
    public static byte[] AddSub(ulong id, float seed, string model = "add_sub", byte priority = 0)
    {
        var (a, b) = AddSubInputs(seed);
        return Infer(id, model, priority, ("INPUT0", [1, 16], a), ("INPUT1", [1, 16], b));
    }

    /// <summary>An identity_fp32 request of <paramref name="width"/> floats, each <paramref name="value"/>.</summary>
    public static byte[] Identity(ulong id, int width, float value)
    {
        var data = new float[width];
        Array.Fill(data, value);
        return Infer(id, "identity_fp32", 0, ("INPUT0", [1, width], data));
    }

    /// <summary>An infer request with FP32 inputs.</summary>
    public static byte[] Infer(ulong id, string model, byte priority, params (string Name, long[] Shape, float[] Data)[] inputs) => Write(output =>
    {
        var head = new InferRequestHead(System.Text.Encoding.UTF8.GetBytes(model), default, 0, priority, default, 0, inputs.Length);
        var length = InferLayout.Head(head);
        foreach (var input in inputs)
            length = InferLayout.AddTensor(length, input.Name.Length, input.Shape.Length, input.Data.Length * 4L);
        var writer = InferFrameWriter.BeginRequest(output, id, head, length);
        foreach (var input in inputs)
            writer.WriteTensor(System.Text.Encoding.UTF8.GetBytes(input.Name), DataType.Fp32, input.Shape, MemoryMarshal.AsBytes(input.Data.AsSpan()));
        writer.Complete();
    });

    public static (float[] A, float[] B) AddSubInputs(float seed)
    {
        var a = new float[16];
        var b = new float[16];
        for (var i = 0; i < 16; i++)
        {
            a[i] = seed + i;
            b[i] = 2 * i;
        }
        return (a, b);
    }

    public static void AssertAddSub(ServerFrame frame, float seed)
    {
        var (a, b) = AddSubInputs(seed);
        var (sum, difference) = frame.AddSub();
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal(a[i] + b[i], sum[i]);
            Assert.Equal(a[i] - b[i], difference[i]);
        }
    }

    public static byte[] Ping(ulong id, ulong opaque) => Write(output => ControlFrames.WritePing(output, pong: false, id, opaque));

    public static byte[] Empty(MessageType type, ulong id) => Write(output => ControlFrames.WriteEmpty(output, type, id));

    public static byte[] ModelQuery(MessageType type, ulong id, string model) => Write(output => new ModelRequest(model, "").Write(output, type, id));

    /// <summary>A frame with any header fields and payload, valid or not.</summary>
    public static byte[] Raw(MessageType type, ulong id, ReadOnlySpan<byte> payload, byte version = 1, uint? payloadLength = null)
    {
        var frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(type, id, payloadLength ?? (uint)payload.Length, version).Write(frame);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }

    /// <summary>Sets the header's payload length field to a value of the test's choosing.</summary>
    public static byte[] WithPayloadLength(byte[] frame, uint length)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(16), length);
        return frame;
    }

    public static byte[] Concat(params byte[][] frames) => [.. frames.SelectMany(frame => frame)];

    private static byte[] Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }
}
