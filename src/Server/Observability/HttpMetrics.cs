using System.Diagnostics;
using System.Globalization;
using Prometheus;

namespace HighPerfInference.Server.Observability;

/// <summary>The REST inference APIs, as metric labels.</summary>
public enum HttpInferenceApi
{
    V2,
    Predict,
}

/// <summary>
/// Inference requests over HTTP as the front door sees them: answers by status code, and a latency histogram
/// from receipt to the response written. Recording uses label children bound once (a status code's the first
/// time it is answered): lock-free, no allocation.
/// </summary>
public sealed class HttpMetrics
{
    private static readonly string[] s_apis = ["v2", "predict"];
    private const int StatusCodes = 600;

    private readonly Counter _requests;
    private readonly Counter.Child?[] _byStatus = new Counter.Child?[s_apis.Length * StatusCodes];
    private readonly Histogram.Child[] _durations;

    public HttpMetrics(IMetricFactory metrics)
    {
        _requests = metrics.CreateCounter("hpi_http_inference_requests_total", "Inference requests answered over HTTP, by API and status code.",
            new CounterConfiguration { LabelNames = ["api", "code"] });
        var durations = metrics.CreateHistogram("hpi_http_inference_duration_seconds", "Time from receiving an HTTP inference request to writing its answer.",
            new HistogramConfiguration { LabelNames = ["api"], Buckets = DurationBuckets.Seconds });
        _durations = Array.ConvertAll(s_apis, api => durations.WithLabels(api));
    }

    public void Record(HttpInferenceApi api, int status, long elapsedTicks)
    {
        var a = (int)api;
        status = Math.Clamp(status, 0, StatusCodes - 1);
        ref var child = ref _byStatus[(a * StatusCodes) + status];
        (child ??= _requests.WithLabels(s_apis[a], status.ToString(CultureInfo.InvariantCulture))).Inc();
        _durations[a].Observe((double)elapsedTicks / Stopwatch.Frequency);
    }
}
