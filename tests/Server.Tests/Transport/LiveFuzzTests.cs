using System.Buffers;
using HighPerfInference.Client;
using HighPerfInference.Protocol;
using HighPerfInference.Protocol.Tests.Fuzz;
using HighPerfInference.Server.Tests.TestSupport;
using HighPerfInference.Server.Tests.Transport.Support;

namespace HighPerfInference.Server.Tests.Transport;

/// <summary>
/// The protocol fuzzer's random and mutated frames, each on a fresh connection to the real server,
/// while other connections run add_sub inferences: every malformed frame gets the answer
/// docs/protocol.md §5 prescribes, the server stays up, and the good connections never see an error.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LiveFuzzTests(ServerFixture fixture)
{
    private const int Cases = 1500;
    private const int FuzzConnections = 4;

    [Fact]
    public async Task Malformed_frames_get_the_right_errors_while_good_connections_keep_getting_results()
    {
        var endpoint = fixture.Server.BinaryEndPoint!;
        using var stop = new CancellationTokenSource();
        await using var client = new InferenceClient(endpoint, new InferenceClientOptions { Connections = 2, Retry = RetryPolicy.None });
        var good = Enumerable.Range(0, 8).Select(worker => InferUntilAsync(client, worker, stop.Token)).ToArray();

        var fuzzers = Enumerable.Range(0, FuzzConnections).Select(worker => Task.Run(async () =>
        {
            var fuzzer = new FrameFuzzer(seed: 20261121 + worker);
            for (var i = worker; i < Cases; i += FuzzConnections)
            {
                var bytes = fuzzer.Next();
                try
                {
                    await ReplayAsync(endpoint, bytes);
                }
                catch (Exception error)
                {
                    throw new InvalidOperationException($"case {i}: {Convert.ToHexString(bytes)}", error);
                }
            }
        })).ToArray();

        await Task.WhenAll(fuzzers);
        stop.Cancel();
        var results = await Task.WhenAll(good);

        Assert.All(results, count => Assert.True(count > 0));
        Assert.True(await client.IsServerReadyAsync());
    }

    /// <summary>Runs add_sub inferences and checks each result until stopped; returns how many ran.</summary>
    private static async Task<int> InferUntilAsync(InferenceClient client, int worker, CancellationToken stop)
    {
        var a = new float[16];
        var b = new float[16];
        var count = 0;
        while (!stop.IsCancellationRequested)
        {
            for (var i = 0; i < 16; i++)
            {
                a[i] = worker + count + i;
                b[i] = i;
            }
            using var result = await client.InferAsync(new InferRequest("add_sub").AddInput("INPUT0", [1, 16], a).AddInput("INPUT1", [1, 16], b), CancellationToken.None); // the call in flight when stop comes finishes
            var sum = result["OUTPUT0"].AsSpan<float>();
            var difference = result["OUTPUT1"].AsSpan<float>();
            for (var i = 0; i < 16; i++)
            {
                Assert.Equal(a[i] + b[i], sum[i]);
                Assert.Equal(a[i] - b[i], difference[i]);
            }
            count++;
        }
        return count;
    }

    /// <summary>Sends one case after a handshake and checks the server's answers against <see cref="Expect"/>.</summary>
    private static async Task ReplayAsync(System.Net.IPEndPoint endpoint, byte[] bytes)
    {
        var expected = Expect(bytes, FrameLimits.DefaultMaxPayloadLength);
        await using var connection = await RawConnection.OpenReadyAsync(endpoint);
        await connection.SendAsync(bytes);

        while (true)
        {
            if (expected.Fatal is null && expected.AllRequiredMet)
                return;
            var frame = await connection.ReadAsync();
            if (frame is null)
            {
                Assert.Fail(expected.Fatal is null
                    ? $"The server closed the connection; still expected {expected}."
                    : $"The server closed without the fatal {expected.Fatal.Value.Name()}.");
            }
            if (frame.Id == 0 && frame.Type == MessageType.Error)
            {
                Assert.Equal(expected.Fatal, frame.Error.Code);
                Assert.True(expected.AllSynchronousMet, $"The fatal error came before the answers written ahead of it: {expected}.");
                await connection.ExpectClosedAsync();
                return;
            }
            Assert.True(expected.TryMatch(frame), $"Unexpected {frame}; expected {expected}.");
        }
    }

    /// <summary>
    /// What the server owes a connection that sends <paramref name="bytes"/> after its handshake,
    /// read with the protocol library's own reader and the rules of docs/protocol.md §3 and §5.
    /// </summary>
    private static Expectations Expect(byte[] bytes, uint maxPayload)
    {
        var expected = new Expectations();
        var buffer = new ReadOnlySequence<byte>(bytes);
        while (true)
        {
            FrameHeader header;
            ReadOnlySequence<byte> payload;
            try
            {
                if (!FrameReader.TryReadFrame(ref buffer, maxPayload, out header, out payload))
                    return expected;
            }
            catch (ProtocolException error)
            {
                expected.Fatal = error.Code;
                return expected;
            }

            var id = header.RequestId;
            var isRequest = header.Type is MessageType.InferRequest or MessageType.Cancel or MessageType.ModelMetadataRequest
                or MessageType.ServerReadyRequest or MessageType.ModelReadyRequest;
            if (header.Type == MessageType.Hello || (isRequest && id == 0))
            {
                expected.Fatal = ErrorCode.ProtocolError;
                return expected;
            }
            if (header.Type == MessageType.Pong)
                continue;
            if (!isRequest && header.Type != MessageType.Ping)
            {
                if (id == 0)
                {
                    expected.Fatal = ErrorCode.ProtocolError;
                    return expected;
                }
                expected.Add(id, null, ErrorCode.Unsupported);
                continue;
            }
            try
            {
                Parse(header.Type, payload);
            }
            catch (ProtocolException error)
            {
                if (id == 0)
                {
                    expected.Fatal = ErrorCode.ProtocolError;
                    return expected;
                }
                expected.Add(id, null, error.Code);
                continue;
            }
            switch (header.Type)
            {
                case MessageType.Ping:
                    expected.Add(id, MessageType.Pong, null);
                    break;
                case MessageType.InferRequest:
                    expected.Add(id, MessageType.InferResponse, null);
                    break;
                case MessageType.ModelMetadataRequest:
                    expected.Add(id, MessageType.ModelMetadataResponse, null);
                    break;
                case MessageType.ModelReadyRequest:
                    expected.Add(id, MessageType.ModelReadyResponse, null);
                    break;
                case MessageType.ServerReadyRequest:
                    expected.Add(id, MessageType.ServerReadyResponse, null);
                    break;
            }
        }
    }

    private static void Parse(MessageType type, ReadOnlySequence<byte> payload)
    {
        switch (type)
        {
            case MessageType.Ping:
                ControlFrames.ReadPing(payload);
                break;
            case MessageType.Cancel or MessageType.ServerReadyRequest:
                ControlFrames.ReadEmpty(payload);
                break;
            case MessageType.ModelMetadataRequest or MessageType.ModelReadyRequest:
                ModelRequest.Read(payload);
                break;
            default:
                Span<byte> scratch = stackalloc byte[InferScratch.Size];
                var reader = new InferRequestReader(payload, scratch);
                while (reader.TryReadInput(out _))
                {
                }
                break;
        }
    }

    /// <summary>The answers a case is owed, and which arrived.</summary>
    private sealed class Expectations
    {
        private readonly List<Expected> _pending = [];

        public ErrorCode? Fatal { get; set; }

        /// <summary>Every answer arrived (a case without a fatal error).</summary>
        public bool AllRequiredMet => _pending.Count == 0;

        /// <summary>
        /// Every answer the read loop writes itself (per-request errors, pongs, queries) arrived. Results of
        /// requests that were running when the stream broke may be dropped with the connection.
        /// </summary>
        public bool AllSynchronousMet => _pending.TrueForAll(expected => expected.Response is MessageType.InferResponse);

        /// <summary>An answer with this id: a response of the type, or an Error (the exact code, when one is given).</summary>
        public void Add(ulong id, MessageType? response, ErrorCode? code) => _pending.Add(new Expected(id, response, code));

        public bool TryMatch(ServerFrame frame)
        {
            // Exact error codes first, so a response-or-any-error expectation does not take their frame.
            var index = _pending.FindIndex(expected => expected.Id == frame.Id && expected.Code is { } code && frame.Type == MessageType.Error && frame.Error.Code == code);
            if (index < 0)
                index = _pending.FindIndex(expected => expected.Id == frame.Id && expected.Response is { } response && (frame.Type == response || (frame.Type == MessageType.Error && response != MessageType.Pong)));
            if (index < 0)
                return false;
            _pending.RemoveAt(index);
            return true;
        }

        public override string ToString() =>
            $"fatal={Fatal?.Name() ?? "none"} pending=[{string.Join(", ", _pending)}]";

        private sealed record Expected(ulong Id, MessageType? Response, ErrorCode? Code);
    }
}
