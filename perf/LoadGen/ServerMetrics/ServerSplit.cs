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
        };
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
