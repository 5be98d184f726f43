using HighPerfInference.Protocol;
using HighPerfInference.Server.Tests.Transport.Support;
using HighPerfInference.Server.Transport;

namespace HighPerfInference.Server.Tests.Transport;

/// <summary>A host per test: these stop the server, or need timeouts short enough to watch.</summary>
public sealed class LifecycleTests : IAsyncDisposable
{
    private readonly TestRepository _repository = new();
    private TransportHost? _host;

    private Tests.Scheduling.FakeBackend AddSub => _repository.Backend("add_sub");

    private async Task<TransportHost> StartAsync(BinaryTransportOptions options) =>
        _host = await TransportHost.StartAsync(_repository, options);

    public async ValueTask DisposeAsync()
    {
        AddSub.Gate.Set();
        if (_host is not null)
            await _host.DisposeAsync();
        _repository.Dispose();
    }

    [Fact]
    public async Task Shutdown_sends_GoAway_refuses_new_requests_and_finishes_accepted_ones()
    {
        var host = await StartAsync(new BinaryTransportOptions());
        await using var connection = await RawConnection.OpenReadyAsync(host.EndPoint);
        AddSub.Gate.Reset();
        await connection.SendAsync(Frames.AddSub(1, 1));
        Assert.True(await AddSub.RunStarted.WaitAsync(RawConnection.Patience));
        await connection.SendAsync(Frames.AddSub(2, 2));
        await InFlightTests.WaitUntilAsync(() => _repository.Submitted == 2);

        var stopping = host.StopAsync();

        var goAway = await connection.ReadAsync();
        Assert.Equal((MessageType.GoAway, 0ul), (goAway!.Type, goAway.Id));
        var notice = GoAway.Read(new(goAway.Payload));
        Assert.Equal((2ul, ErrorCode.ShuttingDown), (notice.LastAcceptedRequestId, notice.Reason));
        await connection.SendAsync(Frames.AddSub(3, 3));
        await connection.ExpectErrorAsync(3, ErrorCode.ShuttingDown);
        AddSub.Gate.Set();
        var answers = await connection.ReadAsync(2);
        Assert.Equal([1ul, 2], answers.Select(frame => frame.Id).Order().ToArray());
        foreach (var answer in answers)
            Frames.AssertAddSub(answer, answer.Id);
        await connection.ExpectClosedAsync();
        await stopping;
    }

    [Fact]
    public async Task When_the_drain_period_ends_what_is_left_is_answered_ShuttingDown()
    {
        var host = await StartAsync(new BinaryTransportOptions { DrainTimeoutSeconds = 0.2 });
        await using var connection = await RawConnection.OpenReadyAsync(host.EndPoint);
        AddSub.Gate.Reset();
        await connection.SendAsync(Frames.AddSub(1, 1));
        Assert.True(await AddSub.RunStarted.WaitAsync(RawConnection.Patience));
        await connection.SendAsync(Frames.AddSub(2, 2));
        await InFlightTests.WaitUntilAsync(() => _repository.Submitted == 2);

        var stopping = host.StopAsync();

        Assert.Equal(MessageType.GoAway, (await connection.ReadAsync())!.Type);
        await connection.ExpectErrorAsync(2, ErrorCode.ShuttingDown);
        // The running one cannot be stopped mid-run; its result is dropped for the same answer.
        AddSub.Gate.Set();
        await connection.ExpectErrorAsync(1, ErrorCode.ShuttingDown);
        await connection.ExpectClosedAsync();
        await stopping;
    }

    [Fact]
    public async Task An_idle_connection_is_pinged_and_closed_when_the_ping_goes_unanswered()
    {
        var host = await StartAsync(new BinaryTransportOptions { IdleTimeoutSeconds = 0.3 });
        await using var connection = await RawConnection.OpenReadyAsync(host.EndPoint);

        var ping = await connection.ReadAsync();

        Assert.Equal((MessageType.Ping, 0ul), (ping!.Type, ping.Id));
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_client_that_answers_pings_stays_connected()
    {
        var host = await StartAsync(new BinaryTransportOptions { IdleTimeoutSeconds = 0.3 });
        await using var connection = await RawConnection.OpenReadyAsync(host.EndPoint);

        for (var i = 0; i < 3; i++)
        {
            var ping = await connection.ReadAsync();
            Assert.Equal(MessageType.Ping, ping!.Type);
            await connection.SendAsync(Frames.Raw(MessageType.Pong, ping.Id, ping.Payload));
        }

        await connection.SendAsync(Frames.AddSub(1, 1));
        var answer = await connection.ReadAsync();
        while (answer!.Type == MessageType.Ping)
            answer = await connection.ReadAsync();
        Frames.AssertAddSub(answer, 1);
    }

    [Fact]
    public async Task A_connection_that_never_says_Hello_is_closed()
    {
        var host = await StartAsync(new BinaryTransportOptions { HandshakeTimeoutSeconds = 0.3 });
        await using var connection = await RawConnection.OpenAsync(host.EndPoint);

        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_throttled_alone_and_loses_nothing()
    {
        var host = await StartAsync(new BinaryTransportOptions { MaxInFlight = 64 });
        // A small receive buffer so that unread answers back up at the server quickly.
        await using var slow = await RawConnection.OpenReadyAsync(host.EndPoint, receiveBufferSize: 16 * 1024);
        const int count = 2000;
        const int width = 2048;
        var requests = new byte[count][];
        for (var i = 0; i < count; i++)
            requests[i] = Frames.Identity((ulong)(i + 1), width, i);
        var sending = Task.Run(() => slow.SendAsync(Frames.Concat(requests)));

        // The server stops reading: submissions stop well short of what was sent...
        var submitted = await SettledAsync(() => _repository.Submitted);
        Assert.True(submitted < count, $"{submitted} of {count} requests were read although their answers were not");
        // ...while other clients are served as usual.
        await using (var other = await RawConnection.OpenReadyAsync(host.EndPoint))
        {
            await other.SendAsync(Frames.AddSub(1, 1));
            Frames.AssertAddSub((await other.ReadAsync())!, 1);
        }

        // Reading again resumes it; every request gets its one answer: its result, or OVERLOADED
        // for those the flood sent past the in-flight limit.
        var answers = await slow.ReadAsync(count);
        await sending;
        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), answers.Select(frame => frame.Id).Order());
        Assert.All(answers, frame => Assert.True(frame.Type == MessageType.InferResponse || frame.Error.Code == ErrorCode.Overloaded, frame.ToString()));
        Assert.Contains(answers, frame => frame.Type == MessageType.InferResponse);
    }

    /// <summary>Polls a counter until it stops moving for a while, and returns it.</summary>
    private static async Task<int> SettledAsync(Func<int> counter)
    {
        var value = counter();
        for (var still = 0; still < 20;)
        {
            await Task.Delay(25);
            var next = counter();
            still = next == value ? still + 1 : 0;
            value = next;
        }
        return value;
    }
}
