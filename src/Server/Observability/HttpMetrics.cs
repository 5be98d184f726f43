using System.Diagnostics;
using System.Globalization;

namespace HighPerfInference.Server.Observability;

/// <summary>The REST inference APIs, as metric labels.</summary>
public enum HttpInferenceApi
{
    V2,
    Predict,
}

/// <summary>
/// Inference requests over HTTP as the front door sees them: answers by status code, and a latency
/// histogram from receipt to the response written. Recording is a few Interlocked adds, no allocation.
/// </summary>
public sealed class HttpMetrics : IMetricsSource
{
    private static readonly string[] s_apis = ["v2", "predict"];

    /// <summary>Upper bounds of the latency buckets, in seconds.</summary>
    private static readonly double[] s_bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly long[,] _statusCounts = new long[s_apis.Length, 600];
    private readonly long[,] _buckets = new long[s_apis.Length, s_bounds.Length + 1];
    private readonly long[] _elapsedTicks = new long[s_apis.Length];

    public void Record(HttpInferenceApi api, int status, long elapsedTicks)
    {
        var a = (int)api;
        Interlocked.Increment(ref _statusCounts[a, Math.Clamp(status, 0, 599)]);
        var seconds = (double)elapsedTicks / Stopwatch.Frequency;
        var bucket = 0;
        while (bucket < s_bounds.Length && seconds > s_bounds[bucket])
            bucket++;
        Interlocked.Increment(ref _buckets[a, bucket]);
        Interlocked.Add(ref _elapsedTicks[a], elapsedTicks);
    }

    public void Write(PrometheusWriter writer)
    {
        writer.Family("hpi_http_inference_requests_total", MetricType.Counter, "Inference requests answered over HTTP, by API and status code.");
        for (var a = 0; a < s_apis.Length; a++)
        {
            for (var status = 0; status < 600; status++)
            {
                var count = Volatile.Read(ref _statusCounts[a, status]);
                if (count > 0)
                    writer.Sample("hpi_http_inference_requests_total", [("api", s_apis[a]), ("code", status.ToString(CultureInfo.InvariantCulture))], count);
            }
        }

        writer.Family("hpi_http_inference_duration_seconds", MetricType.Histogram, "Time from receiving an HTTP inference request to writing its answer.");
        for (var a = 0; a < s_apis.Length; a++)
        {
            long cumulative = 0;
            for (var b = 0; b <= s_bounds.Length; b++)
            {
                cumulative += Volatile.Read(ref _buckets[a, b]);
                var bound = b < s_bounds.Length ? s_bounds[b].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
                writer.Sample("hpi_http_inference_duration_seconds_bucket", [("api", s_apis[a]), ("le", bound)], cumulative);
            }
            writer.Sample("hpi_http_inference_duration_seconds_sum", [("api", s_apis[a])], (double)Volatile.Read(ref _elapsedTicks[a]) / Stopwatch.Frequency);
            writer.Sample("hpi_http_inference_duration_seconds_count", [("api", s_apis[a])], cumulative);
        }
    }
}
