using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using HighPerfInference.Client.Binary;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client;

/// <summary>
/// Client of the binary protocol (docs/protocol.md). Thread-safe: share one instance between any
/// number of concurrent callers. Calls are pipelined over a small pool of connections, each call
/// has a deadline and a <see cref="CancellationToken"/>, dropped connections are reopened, and
/// failures with a retryable code are retried as <see cref="InferenceClientOptions.Retry"/> says.
/// </summary>
/// <example>
/// <code>
/// await using var client = new InferenceClient("127.0.0.1");
/// var request = new InferRequest("add_sub").AddInput("INPUT0", [1, 16], a).AddInput("INPUT1", [1, 16], b);
/// using var result = await client.InferAsync(request);
/// ReadOnlySpan&lt;float&gt; sum = result["OUTPUT0"].AsSpan&lt;float&gt;();
/// </code>
/// </example>
public sealed class InferenceClient : IAsyncDisposable
{
    private readonly ConnectionPool _pool;
    private readonly InferenceClientOptions _options;

    public InferenceClient(string host, int port = 8001, InferenceClientOptions? options = null)
        : this(IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port), options)
    {
    }

    public InferenceClient(EndPoint endpoint, InferenceClientOptions? options = null)
    {
        _options = options ?? new InferenceClientOptions();
        _options.Validate();
        _pool = new ConnectionPool(endpoint, _options, new ClientCounters());
    }

    /// <summary>What the server announced (limits, name, version), once a connection is open.</summary>
    public HelloAck? Server => _pool.Server;

    /// <summary>Connections opened and lost, drain notices, retries: the events a load test reports.</summary>
    public ClientStatistics Statistics => _pool.Counters.Snapshot();

    /// <summary>Opens every connection of the pool now, so the first calls do not pay for it.</summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default) => _pool.ConnectAllAsync(cancellationToken);

    /// <summary>Runs an inference with the default timeout. Dispose the result when done with it.</summary>
    /// <exception cref="InferenceException">The server's error, after the retries the policy allows.</exception>
    public ValueTask<InferResult> InferAsync(InferRequest request, CancellationToken cancellationToken = default) =>
        InferAsync(request, _options.Timeout, cancellationToken);

    /// <summary>Runs an inference within <paramref name="timeout"/> (retries included). Dispose the result when done with it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<InferResult> InferAsync(InferRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var frame = await CallAsync(new InferFrame(request), timeout, cancellationToken).ConfigureAwait(false);
        frame.Expect(MessageType.InferResponse);
        return new InferResult(frame.Buffer, 0, frame.Length);
    }

    /// <summary>The model's name, versions, platform, inputs and outputs.</summary>
    public async Task<ModelMetadata> GetModelMetadataAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default)
    {
        var query = new ModelQueryFrame(MessageType.ModelMetadataRequest, new ModelRequest(modelName, modelVersion ?? ""));
        using var frame = await CallAsync(query, _options.Timeout, cancellationToken).ConfigureAwait(false);
        frame.Expect(MessageType.ModelMetadataResponse);
        return ModelMetadata.Read(frame.Payload);
    }

    /// <summary>True when the server is ready for inference (every model meant to load has loaded).</summary>
    public async Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default)
    {
        using var frame = await CallAsync(new ServerReadyFrame(), _options.Timeout, cancellationToken).ConfigureAwait(false);
        frame.Expect(MessageType.ServerReadyResponse);
        return ControlFrames.ReadReady(frame.Payload);
    }

    /// <summary>True when the model (some version, or the given one) is ready.</summary>
    public async Task<bool> IsModelReadyAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default)
    {
        var query = new ModelQueryFrame(MessageType.ModelReadyRequest, new ModelRequest(modelName, modelVersion ?? ""));
        using var frame = await CallAsync(query, _options.Timeout, cancellationToken).ConfigureAwait(false);
        frame.Expect(MessageType.ModelReadyResponse);
        return ControlFrames.ReadReady(frame.Payload);
    }

    /// <summary>Sends a Ping and returns the round-trip time.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var sent = Stopwatch.GetTimestamp();
        using var frame = await CallAsync(new PingFrame((ulong)sent), _options.Timeout, cancellationToken).ConfigureAwait(false);
        frame.Expect(MessageType.Pong);
        if (ControlFrames.ReadPing(frame.Payload) != (ulong)sent)
            throw new InferenceException(ErrorCode.ProtocolError, "The Pong does not echo the Ping.");
        return Stopwatch.GetElapsedTime(sent);
    }

    /// <summary>One call: pick a connection, send, await the answer; retry a retryable failure while the policy and the deadline allow.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReceivedFrame> CallAsync<TFrame>(TFrame request, TimeSpan timeout, CancellationToken cancellationToken)
        where TFrame : struct, IRequestFrame
    {
        var deadline = new CallDeadline(timeout);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var left = deadline.Left;
                if (left == TimeSpan.Zero)
                    throw new InferenceException(ErrorCode.Timeout, "The call's deadline passed before it could be sent.");
                var connection = await _pool.GetAsync(cancellationToken).ConfigureAwait(false);
                return await connection.SendAsync(request, left, cancellationToken).ConfigureAwait(false);
            }
            catch (InferenceException error) when (_options.Retry.TryGetBackoff(error.Code, attempt, deadline.Left, out var backoff))
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _pool.Counters.Retries);
            }
        }
    }

    /// <summary>Closes every connection; calls in flight fail.</summary>
    public ValueTask DisposeAsync() => _pool.DisposeAsync();
}
