using System.Globalization;
using HighPerfInference.Server.Scheduling;

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

    private readonly long[,] _statusCounts = new long[s_apis.Length, 600];
    private readonly DurationHistogram[] _durations = [new(), new()];

    public void Record(HttpInferenceApi api, int status, long elapsedTicks)
    {
        var a = (int)api;
        Interlocked.Increment(ref _statusCounts[a, Math.Clamp(status, 0, 599)]);
        _durations[a].Record(elapsedTicks);
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
            writer.Histogram("hpi_http_inference_duration_seconds", [("api", s_apis[a])], _durations[a].Snapshot());
    }
}
