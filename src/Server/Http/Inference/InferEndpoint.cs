using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Hosting;
using HighPerfInference.Server.Observability;
using HighPerfInference.Server.Scheduling;
using Microsoft.AspNetCore.Connections;

namespace HighPerfInference.Server.Http.Inference;

/// <summary>
/// POST /v2/models/{model}[/versions/{version}]/infer and the predict API: read the body, parse it
/// into a pooled <see cref="InferCall"/>, submit, await the completion (a disconnecting client
/// cancels the request), write the answer.
/// </summary>
internal sealed partial class InferEndpoint(ServerOptions options, InferCallPool pool, HttpMetrics metrics, ILogger<InferEndpoint> logger)
{
    /// <summary>nginx's code for a request whose client went away before the answer.</summary>
    private const int ClientClosedRequest = 499;

    public Task InferAsync(HttpContext context) => RunAsync(context, V2Format.Instance);

    public Task PredictAsync(HttpContext context) => RunAsync(context, PredictFormat.Instance);

    public async Task RunAsync(HttpContext context, IInferFormat format)
    {
        var call = pool.Rent();
        call.StartTimestamp = Stopwatch.GetTimestamp();
        var owned = true; // false while the scheduler owns the call
        try
        {
            var routes = context.Request.RouteValues;
            var model = (string)routes["model"]!;
            var version = routes["version"] as string;

            var body = await RequestBody.ReadAsync(context, call.Body, options.MaxRequestBodySize).ConfigureAwait(false);
            try
            {
                call.Request.ModelName = model;
                call.Request.ModelVersion = version;
                Parse(format, context, body.Data, call);
                owned = false;
                call.Submit(); // copies the inputs out of the body
            }
            finally
            {
                body.Release();
            }

            var registration = context.RequestAborted.UnsafeRegister(InferCall.Cancel, call);
            try
            {
                await call.WaitAsync().ConfigureAwait(false);
            }
            finally
            {
                // Waits for a running Cancel, so the call is not reused under it.
                registration.Dispose();
            }
            owned = true;

            if (call.Error == ErrorCode.Ok)
                await format.WriteAsync(context, call).ConfigureAwait(false);
            else
                await HttpErrors.WriteAsync(context, call.Error, call.ErrorMessage, call.ModelVersion).ConfigureAwait(false);
        }
        catch (InferenceException e) when (call.RoutedVersion is { } routed)
        {
            // The body was parsed against the version the request was routed to: say which.
            await HttpErrors.WriteAsync(context, e.Code, $"model '{call.Request.ModelName}' version {routed}: {e.Message}", routed).ConfigureAwait(false);
        }
        catch (InferenceException e)
        {
            await HttpErrors.WriteAsync(context, e.Code, e.Message).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            await HttpErrors.WriteAsync(context, ErrorCode.InvalidArgument, "malformed JSON: " + e.Message).ConfigureAwait(false);
        }
        catch (UnsupportedEncodingException e)
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits, e.g. a chunked body over MaxRequestBodySize (413).
            await HttpErrors.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested || e is ConnectionResetException or IOException)
        {
            // The client is gone; there is nobody to answer.
        }
        catch (Exception e)
        {
            LogFailure(logger, e);
            await HttpErrors.WriteAsync(context, ErrorCode.Internal, "internal error: " + e.Message).ConfigureAwait(false);
        }
        finally
        {
            if (owned)
            {
                var status = context.RequestAborted.IsCancellationRequested ? ClientClosedRequest : context.Response.StatusCode;
                metrics.Record(format.Api, status, Stopwatch.GetTimestamp() - call.StartTimestamp);
                pool.Return(call);
            }
        }
    }

    /// <summary>
    /// Parses the request; text the JSON reader cannot decode (not UTF-8, a lone surrogate) is the client's error.
    /// Only System.Text.Json's own InvalidOperationException means that: one from anywhere else is a bug of ours,
    /// answered 500 and logged, not blamed on the client's JSON.
    /// </summary>
    private static void Parse(IInferFormat format, HttpContext context, ReadOnlySequence<byte> body, InferCall call)
    {
        try
        {
            format.Parse(context, body, call, call.Scheduler);
        }
        catch (InvalidOperationException e) when (e.TargetSite?.DeclaringType?.Assembly == typeof(Utf8JsonReader).Assembly)
        {
            throw new InferenceException(ErrorCode.InvalidArgument, "malformed JSON: " + e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Inference request failed unexpectedly")]
    private static partial void LogFailure(ILogger logger, Exception exception);
}

/// <summary>A request and response format over the same inference path: the V2 protocol, the predict API.</summary>
internal interface IInferFormat
{
    /// <summary>The API label of this format's metrics.</summary>
    HttpInferenceApi Api { get; }

    /// <summary>
    /// Reads the request (its model and version already set) into the call; throws <see cref="InferenceException"/>
    /// for one that cannot run. A format whose body needs a version's signature routes first
    /// (<see cref="IInferenceScheduler.Route"/>) and records the version in <see cref="InferCall.RoutedVersion"/>.
    /// </summary>
    void Parse(HttpContext context, ReadOnlySequence<byte> body, InferCall call, IInferenceScheduler scheduler);

    /// <summary>Writes the successful answer of a completed call.</summary>
    ValueTask WriteAsync(HttpContext context, InferCall call);
}

/// <summary>The Open Inference Protocol with Triton's binary tensor extension.</summary>
internal sealed class V2Format : IInferFormat
{
    public static readonly V2Format Instance = new();

    public HttpInferenceApi Api => HttpInferenceApi.V2;

    public void Parse(HttpContext context, ReadOnlySequence<byte> body, InferCall call, IInferenceScheduler scheduler)
    {
        var header = context.Request.Headers[InferResponseWriter.InferenceHeaderContentLength];
        if (header.Count == 0)
        {
            InferRequestReader.Read(body, ReadOnlySequence<byte>.Empty, call);
            return;
        }
        if (!long.TryParse(header.ToString(), out var jsonLength) || jsonLength < 0 || jsonLength > body.Length)
            throw new InferenceException(ErrorCode.InvalidArgument, $"header {InferResponseWriter.InferenceHeaderContentLength} is '{header}', not a length within the {body.Length}-byte body");
        if (jsonLength == 0)
        {
            var routed = scheduler.Route(call.Request);
            call.RoutedVersion = routed.Version;
            InferRequestReader.ReadRaw(body, routed.Signature, call);
        }
        else
            InferRequestReader.Read(body.Slice(0, jsonLength), body.Slice(jsonLength), call);
    }

    public async ValueTask WriteAsync(HttpContext context, InferCall call) =>
        await InferResponseWriter.WriteAsync(context, call).ConfigureAwait(false);
}
