using HighPerfInference.Client.Tests.Support;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Scheduling;
using HighPerfInference.Server.Tests.Transport.Support;
using HighPerfInference.Server.Transport;

namespace HighPerfInference.Client.Tests;

/// <summary>
/// Timeouts, cancellation, retries, lost connections and drains, against the transport in front of
/// the real scheduler over in-memory models whose runs a test holds with the fake's gate.
/// </summary>
public sealed class ResilienceTests : IAsyncLifetime
{
    private readonly TestRepository _repository = new(new SchedulerOptions { MaxQueueSize = 2 });
    private TransportHost _host = null!;

    private FakeBackend Model => _repository.Backend("add_sub");

    public async Task InitializeAsync() => _host = await TransportHost.StartAsync(_repository, new BinaryTransportOptions { MaxInFlight = 8 });

    public async Task DisposeAsync()
    {
        Model.Gate.Set();
        await _host.DisposeAsync();
        _repository.Dispose();
    }

    private InferenceClient Client(RetryPolicy? retry = null, System.Net.IPEndPoint? endpoint = null, int connections = 1) =>
        new(endpoint ?? _host.EndPoint, new InferenceClientOptions { Connections = connections, Retry = retry ?? RetryPolicy.None });

    /// <summary>Holds the model: one request runs (blocked), so the next ones queue.</summary>
    private async Task<Task<InferResult>> HoldAsync(InferenceClient client, float seed = 0)
    {
        Model.Gate.Reset();
        var running = client.InferAsync(AddSub.Request(seed)).AsTask();
        Assert.True(await Model.RunStarted.WaitAsync(TimeSpan.FromSeconds(20)));
        return running;
    }

    [Fact]
    public async Task A_call_past_its_timeout_fails_with_Timeout_and_the_server_drops_the_request()
    {
        await using var client = Client();
        var running = await HoldAsync(client);

        var error = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(AddSub.Request(1), TimeSpan.FromMilliseconds(200)).AsTask());

        Assert.Equal(ErrorCode.Timeout, error.Code);
        // The client sent Cancel for it, or the server's own deadline (the time left, sent along) dropped it.
        await Eventually(() => _repository.Statistics("add_sub") is { CancelledCount: > 0 } or { RejectedCount: > 0 });
        Model.Gate.Set();
        using var result = await running;
        AddSub.AssertResult(result, 0);
    }

    [Fact]
    public async Task A_cancelled_call_throws_OperationCanceled_and_is_cancelled_at_the_server()
    {
        await using var client = Client();
        var running = await HoldAsync(client);
        using var cancel = new CancellationTokenSource();

        var call = client.InferAsync(AddSub.Request(1), cancel.Token).AsTask();
        await Eventually(() => _repository.Submitted == 2);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Eventually(() => _repository.Statistics("add_sub").CancelledCount == 1);
        Model.Gate.Set();
        (await running).Dispose();
    }

    [Fact]
    public async Task Without_retries_a_retryable_error_reaches_the_caller()
    {
        await using var client = Client();
        var running = await HoldAsync(client);
        var queued = new[] { client.InferAsync(AddSub.Request(1)).AsTask(), client.InferAsync(AddSub.Request(2)).AsTask() };
        await Eventually(() => _repository.Submitted == 3);

        var error = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(AddSub.Request(3)).AsTask());

        Assert.Equal(ErrorCode.Overloaded, error.Code);
        Model.Gate.Set();
        foreach (var call in queued.Append(running))
            (await call).Dispose();
    }

    [Fact]
    public async Task A_retryable_error_is_retried_until_the_server_has_room()
    {
        await using var client = Client(new RetryPolicy { MaxAttempts = 1000, InitialBackoff = TimeSpan.FromMilliseconds(2), MaxBackoff = TimeSpan.FromMilliseconds(10) });
        var running = await HoldAsync(client);
        var queued = new[] { client.InferAsync(AddSub.Request(1)).AsTask(), client.InferAsync(AddSub.Request(2)).AsTask() };
        await Eventually(() => _repository.Submitted == 3);

        var retried = client.InferAsync(AddSub.Request(3)).AsTask();
        await Eventually(() => _repository.Statistics("add_sub").RejectedCount >= 2);
        Model.Gate.Set();

        using var result = await retried;
        AddSub.AssertResult(result, 3);
        foreach (var call in queued.Append(running))
            (await call).Dispose();
    }

    [Fact]
    public async Task The_policy_decides_which_codes_are_retried()
    {
        var notFoundTwice = new RetryPolicy { MaxAttempts = 2, InitialBackoff = TimeSpan.Zero, RetryOn = code => code == ErrorCode.NotFound };
        await using var client = Client(notFoundTwice);

        await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(new InferRequest("missing").AddInput("X", [1], new float[1])).AsTask());

        Assert.Equal(2, _repository.Submitted);
    }

    [Fact]
    public async Task Errors_that_are_not_retryable_are_not_retried()
    {
        await using var client = Client(RetryPolicy.Default);

        var error = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(new InferRequest("missing").AddInput("X", [1], new float[1])).AsTask());

        Assert.Equal(ErrorCode.NotFound, error.Code);
        Assert.Equal(1, _repository.Submitted);
    }

    [Fact]
    public async Task The_client_keeps_to_the_server_s_in_flight_limit_instead_of_earning_Overloaded()
    {
        await using var client = Client();
        Model.Gate.Reset();
        // 8 in flight at the transport, then the client queues: the scheduler's queue of 2 would
        // refuse more, so this runs with its own generous queue.
        var calls = Enumerable.Range(0, 50).Select(i => client.InferAsync(AddSub.Request(i), TimeSpan.FromMinutes(1)).AsTask()).ToArray();
        await Eventually(() => _repository.Submitted >= 3);
        Assert.Equal(8u, client.Server!.MaxInFlight);
        Model.Gate.Set();

        foreach (var (call, i) in calls.Select((call, i) => (call, i)))
        {
            try
            {
                using var result = await call;
                AddSub.AssertResult(result, i);
            }
            catch (InferenceException error)
            {
                // Only the scheduler's tiny queue may refuse; never the transport's in-flight limit.
                Assert.Equal(ErrorCode.Overloaded, error.Code);
                Assert.DoesNotContain("in-flight", error.Message);
            }
        }
    }

    [Fact]
    public async Task A_lost_connection_fails_its_calls_as_Unavailable_and_the_next_call_reconnects()
    {
        await using var proxy = new TcpProxy(_host.EndPoint);
        await using var client = Client(endpoint: proxy.EndPoint);
        var running = await HoldAsync(client);

        proxy.CutAll();

        var error = await Assert.ThrowsAsync<InferenceException>(() => running);
        Assert.Equal(ErrorCode.Unavailable, error.Code);
        Model.Gate.Set();
        using var result = await client.InferAsync(AddSub.Request(7));
        AddSub.AssertResult(result, 7);
        Assert.Equal(2, proxy.Accepted);
        Assert.Equal(new ClientStatistics(ConnectionsOpened: 2, ConnectionsClosed: 1, GoAwaysReceived: 0, Retries: 0), client.Statistics);
    }

    [Fact]
    public async Task A_call_cut_off_by_a_lost_connection_is_retried_on_a_new_one()
    {
        await using var proxy = new TcpProxy(_host.EndPoint);
        await using var client = Client(RetryPolicy.Default, proxy.EndPoint);
        var running = await HoldAsync(client);

        proxy.CutAll();
        Model.Gate.Set();

        using var result = await running;
        AddSub.AssertResult(result, 0);
        Assert.Equal(1, client.Statistics.Retries);
    }

    [Fact]
    public async Task GoAway_lets_accepted_calls_finish_and_sends_new_ones_to_a_new_connection()
    {
        var next = new TestRepository();
        await using var nextHost = await TransportHost.StartAsync(next);
        await using var proxy = new TcpProxy(_host.EndPoint);
        await using var client = Client(endpoint: proxy.EndPoint);
        var running = await HoldAsync(client);

        proxy.Target = nextHost.EndPoint;
        var stopping = _host.StopAsync();
        await Eventually(() => client.Statistics.GoAwaysReceived == 1);

        using (var result = await client.InferAsync(AddSub.Request(9)))
            AddSub.AssertResult(result, 9);
        Assert.Equal((1, 2L), (next.Submitted, client.Statistics.ConnectionsOpened));
        Model.Gate.Set();
        using (var result = await running)
            AddSub.AssertResult(result, 0);
        await stopping;
        next.Dispose();
    }

    [Fact]
    public async Task A_wrong_API_key_is_refused_without_retries()
    {
        await using var host = await TransportHost.StartAsync(_repository, new BinaryTransportOptions { ApiKey = "key" });
        await using var client = new InferenceClient(host.EndPoint, new InferenceClientOptions { ApiKey = "nope", Retry = RetryPolicy.Default });

        var error = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(AddSub.Request(1)).AsTask());

        Assert.Equal(ErrorCode.Unauthenticated, error.Code);
    }

    [Fact]
    public async Task Disposing_the_client_fails_its_calls_and_refuses_new_ones()
    {
        var client = Client();
        var running = await HoldAsync(client);

        await client.DisposeAsync();

        Assert.Equal(ErrorCode.Unavailable, (await Assert.ThrowsAsync<InferenceException>(() => running)).Code);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.InferAsync(AddSub.Request(1)).AsTask());
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("The condition did not come true in time.");
            await Task.Delay(5);
        }
    }
}
