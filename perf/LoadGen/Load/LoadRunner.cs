using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.LoadGen.Reporting;
using HighPerfInference.LoadGen.Scheduling;
using HighPerfInference.LoadGen.ServerMetrics;

namespace HighPerfInference.LoadGen.Load;

/// <summary>
/// Runs the steps of a sweep one after another. Each step opens its connections, warms up, reads the
/// server's /metrics, measures for the window, reads /metrics again, drains, and merges what every
/// connection recorded.
/// </summary>
public sealed class LoadRunner(RunOptions options, Func<IWireCodec> codecFactory, HttpClient http, ProgressLine progress)
{
    private bool _metricsWarned;

    public async Task<List<StepResult>> RunAsync(CancellationToken cancellationToken)
    {
        var endPoint = await ResolveAsync(options.Host, options.Port, cancellationToken).ConfigureAwait(false);
        var results = new List<StepResult>(options.Steps.Count);
        for (var i = 0; i < options.Steps.Count; i++)
            results.Add(await RunStepAsync(endPoint, options.Steps[i], $"step {i + 1}/{options.Steps.Count}", cancellationToken).ConfigureAwait(false));
        return results;
    }

    private async Task<StepResult> RunStepAsync(EndPoint endPoint, LoadStep step, string stepName, CancellationToken cancellationToken)
    {
        var phase = new LoadPhase();
        var connections = new Connection[step.Connections];
        var codec = default(IWireCodec);
        try
        {
            for (var i = 0; i < connections.Length; i++)
            {
                codec = codecFactory();
                connections[i] = new Connection(codec, phase, step.InFlightOn(i));
                await connections[i].OpenAsync(endPoint, cancellationToken).ConfigureAwait(false);
            }

            var receivers = new Task[connections.Length];
            for (var i = 0; i < connections.Length; i++)
                receivers[i] = connections[i].ReceiveLoopAsync();
            OpenLoopDispatcher? dispatcher = null;
            Thread? dispatcherThread = null;
            if (step.IsOpenLoop)
            {
                dispatcher = new OpenLoopDispatcher(connections, phase, step.RequestRate, options.Distribution, options.Seed);
                dispatcherThread = dispatcher.Start();
            }
            else
            {
                foreach (var connection in connections)
                    _ = connection.SendLoopAsync();
            }

            var what = step.IsOpenLoop ? $"{step.RequestRate:0.#} req/s" : $"c={step.Concurrency}";
            await progress.RunAsync($"{stepName} {what} warm-up", options.Warmup, connections, cancellationToken).ConfigureAwait(false);
            var before = await ReadMetricsAsync(cancellationToken).ConfigureAwait(false);
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            phase.Current = Phase.Measure;
            var start = Stopwatch.GetTimestamp();
            await progress.RunAsync($"{stepName} {what}", options.Duration, connections, cancellationToken).ConfigureAwait(false);
            phase.Current = Phase.Stop;
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var after = await ReadMetricsAsync(cancellationToken).ConfigureAwait(false);

            dispatcherThread?.Join();
            await DrainAsync(connections, receivers).ConfigureAwait(false);
            return Merge(step, connections, seconds, allocated, codec!, dispatcher, before, after);
        }
        finally
        {
            phase.Current = Phase.Stop;
            foreach (var connection in connections)
            {
                if (connection is not null)
                    await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Lets outstanding requests finish; what is still unanswered at the timeout counts as NO_RESPONSE.</summary>
    private async Task DrainAsync(Connection[] connections, Task[] receivers)
    {
        var all = Task.WhenAll(receivers);
        var deadline = Stopwatch.GetTimestamp() + (long)(options.DrainTimeout.TotalSeconds * Stopwatch.Frequency);
        while (!all.IsCompleted && Stopwatch.GetTimestamp() < deadline)
        {
            // A receive loop waiting on a read with nothing outstanding has nothing left to wait for.
            foreach (var connection in connections)
            {
                if (connection.Outstanding == 0)
                    connection.Abort();
            }
            await Task.WhenAny(all, Task.Delay(10)).ConfigureAwait(false);
        }
        if (all.IsCompleted)
            return;
        foreach (var connection in connections)
        {
            connection.CountUnanswered();
            connection.Abort();
        }
        await all.ConfigureAwait(false);
    }

    private StepResult Merge(LoadStep step, Connection[] connections, double seconds, long allocated, IWireCodec codec, OpenLoopDispatcher? dispatcher,
        List<MetricSample>? before, List<MetricSample>? after)
    {
        var latency = new LatencyHistogram();
        var errors = new long[LocalErrors.KeyCount];
        foreach (var connection in connections)
        {
            latency.Add(connection.Latency);
            var counts = connection.Errors;
            for (var key = 0; key < counts.Length; key++)
                errors[key] += counts[key];
        }
        var byCode = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long errorTotal = 0;
        for (var key = 0; key < errors.Length; key++)
        {
            if (errors[key] == 0)
                continue;
            byCode[codec.ErrorName(key)] = errors[key];
            errorTotal += errors[key];
        }
        return new StepResult
        {
            Label = options.Label,
            Target = options.Target,
            Protocol = ProtocolName(options.Protocol),
            Model = options.ReportModel,
            Concurrency = step.Concurrency,
            Connections = step.Connections,
            RequestRate = step.RequestRate,
            BatchSize = options.BatchSize,
            DurationSeconds = seconds,
            Requests = latency.TotalCount,
            Errors = errorTotal,
            ErrorsByCode = byCode,
            Latency = LatencySummary.From(latency),
            GeneratorBytesPerRequest = latency.TotalCount > 0 ? (double)allocated / latency.TotalCount : null,
            SendLagP99Us = dispatcher is null ? null : dispatcher.SendLag.ValueAtPercentile(99) / 1000.0,
            Server = before is not null && after is not null ? ServerSplit.Between(before, after, options.Model, options.ModelVersion) : null,
        };
    }

    public static string ProtocolName(WireProtocol protocol) => protocol switch
    {
        WireProtocol.Binary => "binary",
        WireProtocol.HttpJson => "http-json",
        _ => "http-binary",
    };

    private async Task<List<MetricSample>?> ReadMetricsAsync(CancellationToken cancellationToken)
    {
        if (options.MetricsUrl is null)
            return null;
        try
        {
            return PrometheusText.Parse(await http.GetStringAsync(options.MetricsUrl, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is HttpRequestException or FormatException or TaskCanceledException)
        {
            if (!_metricsWarned)
                progress.Note($"server metrics unavailable from {options.MetricsUrl}: {ex.Message} (use --no-metrics to skip)");
            _metricsWarned = true;
            return null;
        }
    }

    private static async Task<EndPoint> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var address))
            return new IPEndPoint(address, port);
        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        foreach (var candidate in addresses)
        {
            if (candidate.AddressFamily == AddressFamily.InterNetwork)
                return new IPEndPoint(candidate, port);
        }
        return addresses.Length > 0 ? new IPEndPoint(addresses[0], port) : throw new UsageException($"host '{host}' does not resolve");
    }
}
