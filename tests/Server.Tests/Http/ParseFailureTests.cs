using System.Buffers;
using System.Text;
using System.Text.Json;
using HighPerfInference.Server.Hosting;
using HighPerfInference.Server.Http.Inference;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Observability;
using HighPerfInference.Server.Scheduling;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>Which parse failures are the client's: the JSON reader's own, not an InvalidOperationException from a bug of ours.</summary>
public sealed class ParseFailureTests
{
    [Fact]
    public async Task Text_the_JSON_reader_cannot_decode_is_the_clients_error()
    {
        var (status, body) = await RunAsync(new ThrowingFormat(() =>
        {
            var reader = new Utf8JsonReader([(byte)'"', 0xC3, 0x28, (byte)'"']);
            reader.Read();
            _ = reader.GetString(); // invalid UTF-8: System.Text.Json throws InvalidOperationException
        }));

        Assert.Equal(StatusCodes.Status400BadRequest, status);
        Assert.Contains("malformed JSON", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_InvalidOperationException_of_our_own_is_an_internal_error_not_malformed_JSON()
    {
        var (status, body) = await RunAsync(new ThrowingFormat(() => throw new InvalidOperationException("a bug in the server")));

        Assert.Equal(StatusCodes.Status500InternalServerError, status);
        Assert.DoesNotContain("malformed JSON", body, StringComparison.Ordinal);
        Assert.Contains("a bug in the server", body, StringComparison.Ordinal);
    }

    private static async Task<(int Status, string Body)> RunAsync(IInferFormat format)
    {
        var repository = new EchoRepository();
        var endpoint = new InferEndpoint(new ServerOptions(), new InferCallPool(repository),
            new HttpMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), NullLogger<InferEndpoint>.Instance);
        var context = new DefaultHttpContext();
        context.Request.RouteValues["model"] = EchoRepository.Model;
        context.Request.Body = new MemoryStream("{}"u8.ToArray());
        context.Request.ContentLength = 2;
        var response = new MemoryStream();
        context.Response.Body = response;

        await endpoint.RunAsync(context, format);

        return (context.Response.StatusCode, Encoding.UTF8.GetString(response.ToArray()));
    }

    private sealed class ThrowingFormat(Action parse) : IInferFormat
    {
        public HttpInferenceApi Api => HttpInferenceApi.V2;

        public void Parse(HttpContext context, ReadOnlySequence<byte> body, InferCall call, IInferenceScheduler scheduler) => parse();

        public ValueTask WriteAsync(HttpContext context, InferCall call) => ValueTask.CompletedTask;
    }
}
