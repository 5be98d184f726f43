using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Transport.Support;
using HighPerfInference.Server.Transport;

namespace HighPerfInference.Server.Tests.Transport;

public sealed class PipeliningTests(TransportFixture fixture) : IClassFixture<TransportFixture>
{
    [Fact]
    public async Task Many_requests_in_one_write_are_all_answered_and_matched_by_id()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        const int count = 200;
        var frames = new byte[count][];
        for (var i = 0; i < count; i++)
            frames[i] = Frames.AddSub((ulong)(i + 1), seed: i * 10);
        await connection.SendAsync(Frames.Concat(frames));

        var answers = await connection.ReadAsync(count);

        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), answers.Select(frame => frame.Id).Order());
        foreach (var answer in answers)
            Frames.AssertAddSub(answer, seed: (answer.Id - 1) * 10f);
    }

    /// <summary>
    /// The id and the place under the limit are freed before the answer is written, so a client
    /// that reuses them the moment it reads the answer is never refused (a race once seen about
    /// once in 20,000 requests).
    /// </summary>
    [Fact]
    public async Task An_id_may_be_reused_as_soon_as_its_answer_is_read()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        for (var i = 0; i < 5_000; i++)
        {
            await connection.SendAsync(Frames.AddSub(1, seed: i));
            Frames.AssertAddSub((await connection.ReadAsync())!, seed: i);
        }
    }

    [Fact]
    public async Task Model_errors_answer_only_their_request()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Concat(Frames.AddSub(1, 1), Frames.AddSub(2, 2, model: "no_such_model"), Frames.AddSub(3, 3)));

        var answers = (await connection.ReadAsync(3)).ToDictionary(frame => frame.Id);

        Frames.AssertAddSub(answers[1], 1);
        Assert.Equal(ErrorCode.NotFound, answers[2].Error.Code);
        Frames.AssertAddSub(answers[3], 3);
    }

    [Fact]
    public async Task Ping_is_echoed_and_does_not_count_as_a_request()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Ping(0, 0xfeed));

        var pong = await connection.ReadAsync();

        Assert.Equal((MessageType.Pong, 0ul, 0xfeedul), (pong!.Type, pong.Id, ControlFrames.ReadPing(new(pong.Payload))));
    }

    [Fact]
    public async Task Readiness_and_metadata_come_from_the_repository()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Concat(
            Frames.Empty(MessageType.ServerReadyRequest, 1),
            Frames.ModelQuery(MessageType.ModelReadyRequest, 2, "add_sub"),
            Frames.ModelQuery(MessageType.ModelReadyRequest, 3, "nope"),
            Frames.ModelQuery(MessageType.ModelMetadataRequest, 4, "add_sub"),
            Frames.ModelQuery(MessageType.ModelMetadataRequest, 5, "nope")));

        var answers = (await connection.ReadAsync(5)).ToDictionary(frame => frame.Id);

        Assert.True(ControlFrames.ReadReady(new(answers[1].Payload)));
        Assert.True(ControlFrames.ReadReady(new(answers[2].Payload)));
        Assert.False(ControlFrames.ReadReady(new(answers[3].Payload)));
        var metadata = ModelMetadata.Read(new(answers[4].Payload));
        Assert.Equal(("add_sub", "INPUT0", "OUTPUT1"), (metadata.Name, metadata.Inputs[0].Name, metadata.Outputs[1].Name));
        Assert.Equal([-1L, 16], metadata.Inputs[0].Shape);
        Assert.Equal(ErrorCode.NotFound, answers[5].Error.Code);
    }
}

/// <summary>Tests that hold model runs (the fake's gate) to control what is in flight.</summary>
public sealed class InFlightTests : IAsyncLifetime
{
    private readonly TestRepository _repository = new(new SchedulerOptions { PriorityLevels = 2, DefaultPriorityLevel = 2 });
    private TransportHost? _host;

    public async Task InitializeAsync() =>
        _host = await TransportHost.StartAsync(_repository, new BinaryTransportOptions { MaxInFlight = 4 });

    public async Task DisposeAsync()
    {
        await _host!.DisposeAsync();
        _repository.Dispose();
    }

    private Tests.Scheduling.FakeBackend AddSub => _repository.Backend("add_sub");

    [Fact]
    public async Task Answers_come_in_completion_order_not_request_order()
    {
        await using var connection = await RawConnection.OpenReadyAsync(_host!.EndPoint);
        AddSub.Gate.Reset();
        await connection.SendAsync(Frames.AddSub(1, 1));
        Assert.True(await AddSub.RunStarted.WaitAsync(RawConnection.Patience));
        // While request 1 runs, a low-priority request queues, then a high-priority one that overtakes it.
        await connection.SendAsync(Frames.AddSub(2, 2, priority: 2));
        await WaitUntilAsync(() => _repository.Submitted == 2);
        await connection.SendAsync(Frames.AddSub(3, 3, priority: 1));
        await WaitUntilAsync(() => _repository.Submitted == 3);
        AddSub.Gate.Set();

        var answers = await connection.ReadAsync(3);

        Assert.Equal([1ul, 3, 2], answers.Select(frame => frame.Id));
        foreach (var answer in answers)
            Frames.AssertAddSub(answer, answer.Id);
    }

    [Fact]
    public async Task Requests_past_the_in_flight_limit_are_answered_Overloaded_and_the_connection_carries_on()
    {
        await using var connection = await RawConnection.OpenReadyAsync(_host!.EndPoint);
        AddSub.Gate.Reset();
        await connection.SendAsync(Frames.Concat([.. Enumerable.Range(1, 6).Select(i => Frames.AddSub((ulong)i, i))]));

        await connection.ExpectErrorAsync(5, ErrorCode.Overloaded);
        await connection.ExpectErrorAsync(6, ErrorCode.Overloaded);
        AddSub.Gate.Set();
        var answers = await connection.ReadAsync(4);
        Assert.Equal([1ul, 2, 3, 4], answers.Select(frame => frame.Id).Order().ToArray());

        await connection.SendAsync(Frames.AddSub(7, 7));
        Frames.AssertAddSub((await connection.ReadAsync())!, 7);
    }

    [Fact]
    public async Task A_request_reusing_an_id_in_flight_is_refused_and_the_first_still_answered()
    {
        await using var connection = await RawConnection.OpenReadyAsync(_host!.EndPoint);
        AddSub.Gate.Reset();
        await connection.SendAsync(Frames.Concat(Frames.AddSub(1, 1), Frames.AddSub(1, 2)));

        await connection.ExpectErrorAsync(1, ErrorCode.InvalidArgument);
        AddSub.Gate.Set();
        Frames.AssertAddSub((await connection.ReadAsync())!, 1);
    }

    [Fact]
    public async Task Cancel_answers_a_queued_request_Cancelled()
    {
        await using var connection = await RawConnection.OpenReadyAsync(_host!.EndPoint);
        AddSub.Gate.Reset();
        await connection.SendAsync(Frames.AddSub(1, 1));
        Assert.True(await AddSub.RunStarted.WaitAsync(RawConnection.Patience));
        await connection.SendAsync(Frames.AddSub(2, 2));
        await WaitUntilAsync(() => _repository.Submitted == 2);

        await connection.SendAsync(Frames.Concat(Frames.Empty(MessageType.Cancel, 2), Frames.Empty(MessageType.Cancel, 99)));

        await connection.ExpectErrorAsync(2, ErrorCode.Cancelled);
        AddSub.Gate.Set();
        Frames.AssertAddSub((await connection.ReadAsync())!, 1);
    }

    [Fact]
    public async Task A_client_that_disconnects_cancels_its_queued_requests()
    {
        var connection = await RawConnection.OpenReadyAsync(_host!.EndPoint);
        AddSub.Gate.Reset();
        await connection.SendAsync(Frames.AddSub(1, 1));
        Assert.True(await AddSub.RunStarted.WaitAsync(RawConnection.Patience));
        await connection.SendAsync(Frames.Concat(Frames.AddSub(2, 2), Frames.AddSub(3, 3)));
        await WaitUntilAsync(() => _repository.Submitted == 3);

        connection.Abort();

        // The two queued requests are dropped at once; the running one is answered when its run ends.
        await WaitUntilAsync(() => _repository.Statistics("add_sub").CancelledCount == 2);
        AddSub.Gate.Set();
        await WaitUntilAsync(() => _repository.Statistics("add_sub") is { SuccessCount: var ok, FailureCount: var failed } && ok + failed == 3);
        await using var next = await RawConnection.OpenReadyAsync(_host.EndPoint);
        await next.SendAsync(Frames.AddSub(1, 5));
        Frames.AssertAddSub((await next.ReadAsync())!, 5);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + RawConnection.Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("The condition did not come true within the test's patience.");
            await Task.Delay(5);
        }
    }
}
