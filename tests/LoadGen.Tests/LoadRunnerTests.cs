using System.IO.Pipelines;
using System.Net;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Echo;
using HighPerfInference.LoadGen.Load;
using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.LoadGen.Reporting;
using HighPerfInference.LoadGen.Wire;
using HighPerfInference.LoadGen.Workload;
using HighPerfInference.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HighPerfInference.LoadGen.Tests;

// End to end on loopback with short windows. Counts and error codes are asserted, never timings.
public class LoadRunnerTests
{
    private static readonly TensorSpec[] s_addSub = [new("INPUT0", DataType.Fp32, [1, 16]), new("INPUT1", DataType.Fp32, [1, 16])];

    [Fact]
    public async Task Binary_closed_loop_against_the_echo_server_answers_everything()
    {
        await using var app = await StartAsync(builder =>
        {
            builder.Services.AddSingleton(new EchoConnectionHandler(BinaryFrames.InferResponse("echo", s_addSub), 1024));
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseConnectionHandler<EchoConnectionHandler>()));
        });
        var options = Options(app, "binary", "--concurrency", "1,24", "--connections", "4");
        var frame = BinaryFrames.InferRequest("add_sub", null, InputData.Create(s_addSub, "random", 1), []);

        var results = await new LoadRunner(options, () => new BinaryCodec(frame), new HttpClient(), new ProgressLine(TextWriter.Null, false)).RunAsync(default);

        Assert.Equal(2, results.Count);
        Assert.Equal((1, 1), (results[0].Concurrency, results[0].Connections));
        Assert.Equal((24, 4), (results[1].Concurrency, results[1].Connections));
        Assert.All(results, r =>
        {
            Assert.True(r.Requests > 0);
            Assert.Equal(0, r.Errors);
            Assert.True(r.Latency.P50 > 0 && r.Latency.P50 <= r.Latency.P99 && r.Latency.P99 <= r.Latency.Max);
        });
    }

    [Fact]
    public async Task Binary_open_loop_counts_error_frames_by_code()
    {
        // A server that refuses every second request as OVERLOADED.
        await using var app = await StartAsync(builder =>
        {
            builder.Services.AddSingleton<HalfOverloadedHandler>();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseConnectionHandler<HalfOverloadedHandler>()));
        });
        var options = Options(app, "binary", "--request-rate", "2000", "--connections", "2", "--max-error-rate", "0.6");
        var frame = BinaryFrames.InferRequest("add_sub", null, InputData.Create(s_addSub, "zeros", 1), []);

        var result = Assert.Single(await new LoadRunner(options, () => new BinaryCodec(frame), new HttpClient(), new ProgressLine(TextWriter.Null, false)).RunAsync(default));

        Assert.True(result.Requests > 0);
        Assert.Equal(["OVERLOADED"], result.ErrorsByCode.Keys);
        Assert.InRange(result.ErrorRate, 0.4, 0.6);
        Assert.NotNull(result.SendLagP99Us);
        Assert.Equal(2000, result.RequestRate);
    }

    [Fact]
    public async Task Every_request_on_a_connection_has_its_own_id()
    {
        // A server that refuses any id it has seen before on the connection, answered or not.
        await using var app = await StartAsync(builder =>
        {
            builder.Services.AddSingleton<StrictIdHandler>();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseConnectionHandler<StrictIdHandler>()));
        });
        var options = Options(app, "binary", "--concurrency", "24", "--connections", "2", "--max-error-rate", "0");
        var frame = BinaryFrames.InferRequest("add_sub", null, InputData.Create(s_addSub, "zeros", 1), []);

        var result = Assert.Single(await new LoadRunner(options, () => new BinaryCodec(frame), new HttpClient(), new ProgressLine(TextWriter.Null, false)).RunAsync(default));

        Assert.True(result.Requests > 100);
        Assert.Equal(0, result.Errors);
    }

    [Fact]
    public async Task A_server_that_answers_twice_is_reported_not_trusted()
    {
        await using var app = await StartAsync(builder =>
        {
            builder.Services.AddSingleton<DoubleAnswerHandler>();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseConnectionHandler<DoubleAnswerHandler>()));
        });
        var options = Options(app, "binary", "--concurrency", "2", "--connections", "1");
        var frame = BinaryFrames.InferRequest("add_sub", null, InputData.Create(s_addSub, "zeros", 1), []);

        var result = Assert.Single(await new LoadRunner(options, () => new BinaryCodec(frame), new HttpClient(), new ProgressLine(TextWriter.Null, false)).RunAsync(default));

        Assert.Equal(1, result.ErrorsByCode["BAD_RESPONSE"]);
        Assert.True(result.ErrorRate > 0.01);
    }

    [Fact]
    public async Task Http_json_against_kestrel_reads_statuses_and_server_metrics()
    {
        var served = 0;
        await using var app = await StartAsync(builder => builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0)), web =>
        {
            web.MapPost("/v2/models/{model}/infer", (string model) =>
                Interlocked.Increment(ref served) % 10 == 0
                    ? Results.Json(new { error = "busy" }, statusCode: 429)
                    : Results.Json(new { model_name = model, outputs = Array.Empty<object>() }));
            web.MapGet("/metrics", () => $"nv_inference_request_success{{model=\"add_sub\",version=\"1\"}} {Volatile.Read(ref served)}\n");
        });
        var port = Port(app);
        var options = Options(app, "http-json", "--concurrency", "8", "--metrics-url", $"http://127.0.0.1:{port}/metrics", "--max-error-rate", "0.2");
        var request = HttpRequestBuilder.Build("127.0.0.1", port, "add_sub", null, InputData.Create(s_addSub, "random", 1), [], binary: false);
        var codec = new HttpCodec(request);

        var result = Assert.Single(await new LoadRunner(options, () => codec, new HttpClient(), new ProgressLine(TextWriter.Null, false)).RunAsync(default));

        Assert.True(result.Requests > 0);
        Assert.Equal(["HTTP 429"], result.ErrorsByCode.Keys);
        Assert.InRange(result.ErrorRate, 0.05, 0.15);
        Assert.True(result.Server?.Requests > 0);
    }

    private static RunOptions Options(WebApplication app, string protocol, params string[] more)
    {
        string[] common =
        [
            "--protocol", protocol, "--port", Port(app).ToString(System.Globalization.CultureInfo.InvariantCulture), "--model", "add_sub",
            "--warmup", "200ms", "--duration", "500ms", "--drain-timeout", "2s",
        ];
        string[] metrics = more.Contains("--metrics-url") ? [] : ["--no-metrics"];
        return RunOptions.Parse([.. common, .. metrics, .. more]);
    }

    private static int Port(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

    private static async Task<WebApplication> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        configure(builder);
        var app = builder.Build();
        map?.Invoke(app);
        await app.StartAsync();
        return app;
    }

    /// <summary>
    /// A binary-protocol peer for these tests: answers the handshake announcing <paramref name="maxInFlight"/>,
    /// and every other frame by the rule <see cref="NewConnection"/> makes for its connection.
    /// </summary>
    private abstract class ScriptedHandler(uint maxInFlight) : ConnectionHandler
    {
        private static readonly byte[] s_response = BinaryFrames.InferResponse("m", s_addSub);

        /// <summary>The answering rule of one connection (it may keep state for that connection).</summary>
        protected abstract Action<PipeWriter, ulong> NewConnection();

        protected static void Respond(PipeWriter output, ulong requestId) =>
            BinaryFrames.WriteWithRequestId(output, s_response, MessageType.InferResponse, requestId);

        public override async Task OnConnectedAsync(ConnectionContext connection)
        {
            var input = connection.Transport.Input;
            var output = connection.Transport.Output;
            var answer = NewConnection();
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                while (FrameReader.TryReadFrame(ref buffer, FrameLimits.DefaultMaxPayloadLength, out var header, out _))
                {
                    if (header.Type == MessageType.Hello)
                        new HelloAck(1, FrameLimits.DefaultMaxPayloadLength, maxInFlight, 0, "test", "1").Write(output);
                    else
                        answer(output, header.RequestId);
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                await output.FlushAsync();
                if (result.IsCompleted)
                    return;
            }
        }
    }

    /// <summary>Refuses a request id it has seen before on the connection.</summary>
    private sealed class StrictIdHandler() : ScriptedHandler(64)
    {
        protected override Action<PipeWriter, ulong> NewConnection()
        {
            var seen = new HashSet<ulong>();
            return (output, id) =>
            {
                if (seen.Add(id))
                    Respond(output, id);
                else
                    ErrorMessage.Write(output, id, ErrorCode.InvalidArgument, "id reused");
            };
        }
    }

    /// <summary>Answers the first request twice.</summary>
    private sealed class DoubleAnswerHandler() : ScriptedHandler(64)
    {
        protected override Action<PipeWriter, ulong> NewConnection()
        {
            var first = true;
            return (output, id) =>
            {
                Respond(output, id);
                if (first)
                    Respond(output, id);
                first = false;
            };
        }
    }

    /// <summary>Answers every other request OVERLOADED.</summary>
    private sealed class HalfOverloadedHandler() : ScriptedHandler(4096)
    {
        protected override Action<PipeWriter, ulong> NewConnection()
        {
            var count = 0;
            return (output, id) =>
            {
                if (count++ % 2 == 0)
                    ErrorMessage.Write(output, id, ErrorCode.Overloaded, "full");
                else
                    Respond(output, id);
            };
        }
    }
}
