using System.Globalization;

namespace HighPerfInference.LoadGen.ServerMetrics;

/// <summary>
/// The server's own account of one load step: the difference of its Triton-named counters
/// (nv_inference_*) read before and after, for one model (and version, when given). Times are
/// microseconds per successful request. A counter the server does not expose stays null, so a server
/// with only some of them still reports those.
/// </summary>
public sealed record ServerSplit
{
    public double? Requests { get; init; }
    public double? Failures { get; init; }
    /// <summary>Items run (batch rows).</summary>
    public double? Inferences { get; init; }
    /// <summary>Model executions (batches).</summary>
    public double? Executions { get; init; }
    public double? QueueUs { get; init; }
    /// <summary>Input copy + inference + output copy.</summary>
    public double? ComputeUs { get; init; }
    public double? InferUs { get; init; }
    /// <summary>Receipt to answer, as the server sees it.</summary>
    public double? RequestUs { get; init; }
    /// <summary>Process CPU time per request: the whole server's, not only this model's.</summary>
    public double? CpuUsPerRequest { get; init; }
    /// <summary>The 99th percentile of receipt to answer, as the server sees it (from its histogram, so within a bucket).</summary>
    public double? RequestP99Us { get; init; }
    /// <summary>The median and 99th percentile of one model run (a batch), from the server's histogram.</summary>
    public double? RunP50Us { get; init; }
    public double? RunP99Us { get; init; }

    /// <summary>Average batch the server ran: inferences per execution.</summary>
    public double? AverageBatch => Inferences / Executions is { } batch && double.IsFinite(batch) ? batch : null;

    public static ServerSplit Between(IReadOnlyList<MetricSample> before, IReadOnlyList<MetricSample> after, string model, string? version)
    {
        double? Delta(string name, string? forModel) => Sum(after, name, forModel, version) - Sum(before, name, forModel, version);

        var requests = Delta("nv_inference_request_success", model);
        double? PerRequest(double? total, double scale = 1) => requests > 0 ? total * scale / requests : null;

        var compute = Delta("nv_inference_compute_input_duration_us", model) is { } input
            && Delta("nv_inference_compute_infer_duration_us", model) is { } infer
            && Delta("nv_inference_compute_output_duration_us", model) is { } output
            ? input + infer + output
            : (double?)null;
        return new ServerSplit
        {
            Requests = requests,
            Failures = Delta("nv_inference_request_failure", model),
            Inferences = Delta("nv_inference_count", model),
            Executions = Delta("nv_inference_exec_count", model),
            QueueUs = PerRequest(Delta("nv_inference_queue_duration_us", model)),
            ComputeUs = PerRequest(compute),
            InferUs = PerRequest(Delta("nv_inference_compute_infer_duration_us", model)),
            RequestUs = PerRequest(Delta("nv_inference_request_duration_us", model)),
            CpuUsPerRequest = PerRequest(Delta("process_cpu_seconds_total", null), 1e6),
            RequestP99Us = Quantile(before, after, "hpi_model_request_duration_seconds", model, version, 0.99),
            RunP50Us = Quantile(before, after, "hpi_model_run_duration_seconds", model, version, 0.5),
            RunP99Us = Quantile(before, after, "hpi_model_run_duration_seconds", model, version, 0.99),
        };
    }

    /// <summary>
    /// The <paramref name="q"/> quantile, in µs, of what a histogram counted between the two reads,
    /// interpolated within its bucket as Prometheus's histogram_quantile does; null without the histogram
    /// or without counts. A quantile in the +Inf bucket is reported as the highest finite bound.
    /// </summary>
    private static double? Quantile(IReadOnlyList<MetricSample> before, IReadOnlyList<MetricSample> after, string name, string model, string? version, double q)
    {
        // Cumulative count per upper bound, summed over versions: after minus before.
        var buckets = new SortedDictionary<double, double>();
        void Add(IReadOnlyList<MetricSample> samples, double sign)
        {
            foreach (var sample in samples)
            {
                if (sample.Name != name + "_bucket" || !sample.HasLabel("model", model) || (version is not null && !sample.HasLabel("version", version))
                    || !sample.Labels.TryGetValue("le", out var le))
                    continue;
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                buckets[bound] = buckets.GetValueOrDefault(bound) + sign * sample.Value;
            }
        }
        Add(after, 1);
        Add(before, -1);
        if (buckets.Count == 0 || buckets.Last().Value <= 0)
            return null;
        var rank = q * buckets.Last().Value;
        double lowerBound = 0, lowerCount = 0;
        foreach (var (bound, cumulative) in buckets)
        {
            if (cumulative >= rank)
            {
                if (double.IsPositiveInfinity(bound))
                    return lowerBound * 1e6;
                var within = cumulative > lowerCount ? (rank - lowerCount) / (cumulative - lowerCount) : 1;
                return (lowerBound + (bound - lowerBound) * within) * 1e6;
            }
            (lowerBound, lowerCount) = (bound, cumulative);
        }
        return null;
    }

    /// <summary>Sum of a metric over the label sets of one model; null when the server has no such metric.</summary>
    private static double? Sum(IReadOnlyList<MetricSample> samples, string name, string? model, string? version)
    {
        double? sum = null;
        foreach (var sample in samples)
        {
            if (sample.Name != name)
                continue;
            if (model is not null && !sample.HasLabel("model", model))
                continue;
            if (model is not null && version is not null && !sample.HasLabel("version", version))
                continue;
            sum = (sum ?? 0) + sample.Value;
        }
        return sum;
    }
}
