using System.Net;
using System.Text.Json.Nodes;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using static HighPerfInference.Server.Tests.Http.V2Client;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>
/// What the front door does with the scheduler's refusals, a client that goes away, and shutdown:
/// the echo repository stands in so each situation can be produced on demand.
/// </summary>
public sealed class LifecycleTests
{
    private static JsonObject EchoRequest() => Request(Input("IN_FP32", "FP32", [1, 2], Numbers([1, 2])));

    private static Task<RunningServer> StartAsync(EchoRepository echo, params string[] arguments) =>
        RunningServer.StartAsync([EchoRepository.Model], arguments, builder => echo.AddTo(builder.Services));

    [Theory]
    [InlineData(ErrorCode.Overloaded, HttpStatusCode.TooManyRequests)]
    [InlineData(ErrorCode.Unavailable, HttpStatusCode.ServiceUnavailable)]
    [InlineData(ErrorCode.ShuttingDown, HttpStatusCode.ServiceUnavailable)]
    [InlineData(ErrorCode.Timeout, HttpStatusCode.GatewayTimeout)]
    [InlineData(ErrorCode.ModelError, HttpStatusCode.InternalServerError)]
    [InlineData(ErrorCode.Unsupported, HttpStatusCode.NotImplemented)]
    public async Task Scheduler_refusals_map_to_their_status_with_the_message(ErrorCode code, HttpStatusCode status)
    {
        var echo = new EchoRepository { Refuse = (code, $"refused with {code.Name()}") };
        await using var server = await StartAsync(echo);

        var answer = await InferAsync(server.Http, EchoRepository.Model, Json(EchoRequest()));
        answer.AssertError(status, $"refused with {code.Name()}");
        Assert.Equal(code == ErrorCode.Overloaded, answer.Headers.Contains("Retry-After"));

        echo.Refuse = null;
        (await InferAsync(server.Http, EchoRepository.Model, Json(EchoRequest()))).AssertOk();
    }

    [Fact]
    public async Task Overload_says_when_to_retry()
    {
        var echo = new EchoRepository { Refuse = (ErrorCode.Overloaded, "model 'echo': the queue is full") };
        await using var server = await StartAsync(echo);
        var answer = await InferAsync(server.Http, EchoRepository.Model, Json(EchoRequest()));
        answer.AssertError(HttpStatusCode.TooManyRequests, "queue is full");
        Assert.Equal(TimeSpan.FromSeconds(1), answer.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task A_client_that_disconnects_cancels_its_queued_request()
    {
        var echo = new EchoRepository { Hold = true };
        await using var server = await StartAsync(echo);

        using var abandon = new CancellationTokenSource();
        var call = server.Http.PostAsync($"v2/models/{EchoRepository.Model}/infer", Json(EchoRequest()), abandon.Token);
        await echo.FirstHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await echo.FirstCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The server goes on answering.
        echo.Hold = false;
        (await InferAsync(server.Http, EchoRepository.Model, Json(EchoRequest()))).AssertOk();
    }

    [Fact]
    public async Task Shutdown_turns_readiness_false_first_and_finishes_in_flight_requests()
    {
        var echo = new EchoRepository { Hold = true };
        var server = await StartAsync(echo, "--drain-delay", "2");
        try
        {
            var inFlight = InferAsync(server.Http, EchoRepository.Model, Json(EchoRequest()));
            await echo.FirstHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));

            var stopping = server.App.StopAsync();
            using var probe = new HttpClient { BaseAddress = server.BaseAddress };
            HttpStatusCode ready;
            do
            {
                using var response = await probe.GetAsync("v2/health/ready");
                ready = response.StatusCode;
            }
            while (ready == HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
            Assert.False(stopping.IsCompleted);

            echo.ReleaseHeld();
            (await inFlight).AssertOk();
            await stopping;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
